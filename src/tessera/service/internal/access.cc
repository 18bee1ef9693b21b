// Ownership checks shared by the use cases.
#include "tessera/service/internal/access.h"

#include "absl/strings/str_cat.h"
#include "tessera/base/status.h"

namespace tessera::service::internal {

absl::Status RequireRole(const Principal& p, domain::Role role) {
  if (p.Has(role) || p.Has(domain::Role::kAdmin)) return absl::OkStatus();
  return PermissionDenied(
      absl::StrCat("this needs the ", domain::ToString(role), " role"));
}

absl::StatusOr<domain::Project> OwnedProject(store::Tx& tx, const Principal& p,
                                             ProjectId id) {
  TS_RETURN_IF_ERROR(RequireRole(p, domain::Role::kRequester));
  TS_ASSIGN_OR_RETURN(domain::Project project, tx.GetProject(id));
  if (project.owner_id != p.id && !p.Has(domain::Role::kAdmin)) {
    return NotFound("project");
  }
  return project;
}

absl::StatusOr<domain::Pool> OwnedPool(store::Tx& tx, const Principal& p,
                                       PoolId id) {
  TS_RETURN_IF_ERROR(RequireRole(p, domain::Role::kRequester));
  TS_ASSIGN_OR_RETURN(domain::Pool pool, tx.GetPool(id));
  if (!OwnedProject(tx, p, pool.project_id).ok()) return NotFound("pool");
  return pool;
}

}  // namespace tessera::service::internal
