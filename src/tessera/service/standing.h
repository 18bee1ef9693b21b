// Standing of an annotator as the API shows it (GET /me/standing), reusable
// by other use cases (e.g. signed work records), and the per-domain standing
// set that allocation reads. Defined in standing.cc.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tessera/base/ids.h"
#include "tessera/domain/standing.h"
#include "tessera/store/store.h"

namespace tessera::service {

// The standing_history domain of the overall standing (real domains are
// pool `workforce.domain` values; "" is general).
inline constexpr absl::string_view kOverallDomain = "*";

namespace internal {

class StandingCache;

// An annotator's standing overall and in every domain they worked in, and
// the comeback flag (see domain::StandingPolicy).
struct StandingSet {
  absl::Time computed_at;
  std::map<std::string, domain::Standing> by_domain;
  domain::Standing overall;
  domain::Standing empty;  // no evidence: every factor at its prior
  int64_t comeback_reviewed = 0;
  int64_t comeback_returned = 0;
  std::optional<std::string> comeback_reason;
  // The standing in domain `d` (all priors if none).
  const domain::Standing& In(const std::string& d) const;
};

// A handful of GROUP BY reads (reviews and gold checks by pool and day, the
// latest snapshot of each pool) plus cached per-snapshot agreement figures.
// Without `load_snapshots` (the claim path), snapshot bodies not cached yet
// are not read: the newest cached version of that pool stands in.
absl::StatusOr<StandingSet> ComputeStandingSet(
    store::Tx& tx, UserId annotator, absl::Time now,
    const domain::StandingPolicy& policy, StandingCache& cache,
    bool load_snapshots = true);
nlohmann::json DomainStandingJson(const domain::Standing& s,
                                  const domain::StandingPolicy& policy);
nlohmann::json PolicyJson(const domain::StandingPolicy& p);

// Gold checks: each annotator meets a pool's gold tasks in an order of
// their own, by ascending GoldRank (a 64-bit hash of annotator and task), so
// the checks are a random sample of the gold set for everyone, not the same
// few for all. NextGoldTask is the first of `gold` (task ids) in that order
// that is not in `claimed` (none when all are).
uint64_t GoldRank(UserId annotator, TaskId task);
std::optional<TaskId> NextGoldTask(UserId annotator,
                                   const std::vector<int64_t>& gold,
                                   const absl::flat_hash_set<int64_t>& claimed);

}  // namespace internal

// The standing JSON of GET /api/v1/me/standing for `annotator` at `now`:
// {annotator_id, computed_at, overall, domains[], tiers[], policy, flags[],
//  history[]} (see docs/workforce.md). `cache` may be null. With
// `record_history` (a write transaction), a tier that differs from the last
// recorded one of its domain (none recorded: newcomer) is appended to
// standing_history first; the overall tier is recorded as domain "*".
absl::StatusOr<nlohmann::json> StandingJson(
    store::Tx& tx, UserId annotator, absl::Time now,
    const domain::StandingPolicy& policy = {},
    internal::StandingCache* cache = nullptr, bool record_history = false);

}  // namespace tessera::service
