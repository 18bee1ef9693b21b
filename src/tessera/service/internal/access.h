// Who may act on what: the ownership checks every use case shares. Other
// people's projects and pools answer kNotFound, so ids reveal nothing.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tessera/base/ids.h"
#include "tessera/domain/types.h"
#include "tessera/service/service.h"
#include "tessera/store/store.h"

namespace tessera::service::internal {

// OK if the caller holds `role` or is an admin; else kPermissionDenied.
absl::Status RequireRole(const Principal& p, domain::Role role);
// The project if the caller (a requester) owns it or is an admin.
absl::StatusOr<domain::Project> OwnedProject(store::Tx& tx, const Principal& p,
                                             ProjectId id);
// The pool if the caller (a requester) owns its project or is an admin.
absl::StatusOr<domain::Pool> OwnedPool(store::Tx& tx, const Principal& p,
                                       PoolId id);

}  // namespace tessera::service::internal
