// Workforce settings of a pool (its config's "workforce" object): who may
// enter, gold checks, allocation and fairness. Absent keys take defaults that
// keep a pool open to every annotator, as before these settings existed.
#ifndef TESSERA_DOMAIN_WORKFORCE_H_
#define TESSERA_DOMAIN_WORKFORCE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "tessera/base/money.h"

namespace tessera::domain {

// Standing tiers, lowest first.
enum class Tier {
  kNewcomer,
  kContributor,
  kQualityContributor,
  kReviewerEligible
};
absl::string_view ToString(Tier t);
std::optional<Tier> TierFromString(absl::string_view s);

struct TrialSettings {
  bool required = false;
  double pass_threshold = 0.8;  // mean task score in [0, 1] needed to pass
  int tasks = 5;  // trial tasks per attempt (the pool's trial tasks, at most)
  int max_tries = 3;
  int cooldown_hours = 24;  // between a failed attempt and the next
  bool paid = true;         // trial tasks pay the pool's price
  double rating_tolerance =
      1;  // rating trials: |score - gold| within this counts
  double iou_threshold = 0.5;  // bbox trials: a box matches gold at this IoU
};

struct DynamicOverlap {
  // Enabled when max > 0: a task takes at least `min` annotators, then more
  // until the inferred label's posterior reaches `confidence`, at most `max`.
  int min = 1;
  int max = 0;
  double confidence = 0.9;
};

struct WorkforceSettings {
  std::string domain;                // "medicine", "law", ...; "" = general
  std::optional<std::string> skill;  // a granted skill the pool requires
  TrialSettings trial;
  double gold_rate = 0;             // share of claims served as gold checks
  Tier tier_min = Tier::kNewcomer;  // lowest tier allowed in
  double exploration_share =
      0.1;  // claims reserved for eligible newcomers in tier-gated pools
  int daily_cap = 0;            // tasks per annotator per UTC day; 0 = no cap
  int break_after_minutes = 0;  // web app suggests a break; 0 = never
  std::optional<Money>
      hourly_floor;  // top-up floor per hour of accepted active time
  DynamicOverlap dynamic_overlap;
};

// Parses and checks `j` (an object, or null for all defaults); errors name
// the field under `field` (e.g. "config.workforce.gold_rate").
absl::StatusOr<WorkforceSettings> ParseWorkforce(const nlohmann::json& j,
                                                 absl::string_view field);
// The complete form, every key present (what a pool's stored config holds).
nlohmann::json WorkforceToJson(const WorkforceSettings& w);
// The settings of a stored pool config (defaults when it has no "workforce").
WorkforceSettings WorkforceOf(const nlohmann::json& pool_config);

}  // namespace tessera::domain

#endif  // TESSERA_DOMAIN_WORKFORCE_H_
