// What the use cases share: who may act on what (other people's projects and
// pools answer kNotFound, so ids reveal nothing), audit rows, stored JSON.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
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

// Writes one audit row (before/after as JSON).
absl::Status Audit(store::Tx& tx, std::optional<UserId> actor,
                   absl::string_view action, absl::string_view entity,
                   int64_t id, nlohmann::json before, nlohmann::json after,
                   absl::Time now);

// Stored JSON text parsed; `discarded` when it does not parse.
nlohmann::json ParseStored(const std::string& text);

// A draft as claims and exports show it: {model, version, source, score,
// result}.
nlohmann::json PreannotationJson(const domain::Preannotation& d);

}  // namespace tessera::service::internal
