// Ownership checks, audit rows and stored JSON shared by the use cases.
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

absl::Status Audit(store::Tx& tx, std::optional<UserId> actor,
                   absl::string_view action, absl::string_view entity,
                   int64_t id, nlohmann::json before, nlohmann::json after,
                   absl::Time now) {
  domain::AuditRecord a;
  a.actor = actor;
  a.action = std::string(action);
  a.entity = std::string(entity);
  a.entity_id = id;
  a.before_json = before.dump();
  a.after_json = after.dump();
  a.at = now;
  return tx.InsertAudit(a);
}

nlohmann::json ParseStored(const std::string& text) {
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

nlohmann::json PreannotationJson(const domain::Preannotation& d) {
  return {
      {"model", d.model},
      {"version", d.version},
      {"source", d.source},
      {"score", d.score ? nlohmann::json(*d.score) : nlohmann::json(nullptr)},
      {"result", ParseStored(d.result_json)}};
}

}  // namespace tessera::service::internal
