// Fairness helpers shared with the rest of the service: paying an annotator
// from a project's budget (one balanced journal) and the floor top-ups shown
// with earnings.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tessera/base/ids.h"
#include "tessera/base/money.h"
#include "tessera/store/store.h"

namespace tessera::service::internal {

// Moves `amount` (> 0) from `project`'s budget account to `annotator`'s
// account as one journal of two entries of `kind`, tagged with `submission`
// when given. kFailedPrecondition (nothing written) when the budget is
// short. Returns the journal id.
absl::StatusOr<int64_t> PayFromProjectBudget(
    store::Tx& tx, ProjectId project, UserId annotator, const Money& amount,
    absl::string_view kind, std::optional<SubmissionId> submission,
    const std::string& memo, absl::Time now);

// Adds "topups" (Money: the floor top-ups credited for the pool) and
// "hourly_with_topups" (Money or null) to each entry of `pools`, the
// per-pool list of Service::Earnings ({pool_id, earned, active_seconds...}).
absl::Status AddFloorTopupsToEarnings(store::Tx& tx, UserId annotator,
                                      nlohmann::json& pools);

}  // namespace tessera::service::internal
