// An annotator's standing: Bayesian-smoothed, time-decayed quality factors
// combined into one score, the tier it earns, and what would move it; and
// the grading of a gold-check answer. Pure: `now` is a parameter.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tessera/domain/types.h"
#include "tessera/domain/workforce.h"

namespace tessera::domain {

// A Beta(alpha, beta) prior over a rate: `alpha + beta` pseudo-observations
// of which `alpha` are successes.
struct BetaPrior {
  double alpha = 1;
  double beta = 1;
  double Mean() const { return alpha / (alpha + beta); }
};

// The settings of standing and allocation, with their defaults (see
// docs/workforce.md, "Standing and allocation").
struct StandingPolicy {
  // Each observation weighs 2^(-age / half_life).
  absl::Duration half_life = absl::Hours(90 * 24);

  // Priors (what a factor is with no data).
  BetaPrior gold_prior{3.5, 1.5};        // gold accuracy 0.7
  BetaPrior first_pass_prior{3.5, 1.5};  // first-pass acceptance 0.7
  double rounds_prior_mean = 1.25;       // mean review rounds ...
  double rounds_prior_weight = 4;        // ... worth 4 reviewed tasks
  BetaPrior rejection_prior{0.5, 4.5};   // rejection rate 0.1
  BetaPrior agreement_prior{3.5, 1.5};   // agreement with inferred 0.7
  double volume_scale = 30;  // volume value = v / (v + volume_scale)

  // Weights of the factors' values in the score; they sum to 1.
  double gold_weight = 0.30;
  double first_pass_weight = 0.20;
  double rounds_weight = 0.10;
  double rejection_weight = 0.15;
  double agreement_weight = 0.15;
  double volume_weight = 0.10;

  // Tiers. Reviewed counts are raw (undecayed) counts of reviewed work.
  int contributor_min_reviewed = 10;
  double quality_min_score = 0.8;
  int quality_min_reviewed = 30;
  // Gold checks hold someone back only on evidence: once there are at least
  // `quality_gold_checks` checks, when even the upper bound of their gold
  // accuracy (the Beta posterior's mean + `gold_bound_z` standard
  // deviations; 1.2816: one-sided 90%) is below `quality_min_gold_accuracy`.
  // Five checks say little: 3 of 5 right is as likely from a 0.8 annotator
  // as from a 0.5 one.
  double quality_min_gold_accuracy = 0.8;
  int quality_gold_checks = 5;
  double gold_bound_z = 1.2816;
  double reviewer_min_score = 0.9;
  int reviewer_min_reviewed = 100;

  // Allocation. Work "keeps coming back" when, over `comeback_window`, at
  // least `comeback_min_reviewed` submissions were reviewed and at least
  // `comeback_share` of them were returned or rejected: such annotators hold
  // at most one active claim across all pools and get no priority.
  double comeback_share = 0.3;
  int comeback_min_reviewed = 10;
  absl::Duration comeback_window = absl::Hours(30 * 24);
  // A pool (with workforce settings) is scarce when its open slots are at
  // most this share of its slots, or its price is at least
  // `scarce_price_minor` (0: price never makes a pool scarce).
  double scarce_open_share = 0.1;
  int64_t scarce_price_minor = 0;
};

// kInvalidArgument, with the field set to the member's name (durations:
// `half_life`, `comeback_window`), unless every setting of `p` is usable:
// durations positive; priors' alpha and beta positive; mean review rounds at
// least 1 and its weight positive; `volume_scale` positive; weights in
// [0, 1] summing to 1 (field `weights`); score thresholds, shares and the
// minimum gold accuracy in [0, 1]; counts not negative (`comeback_min_reviewed`
// at least 1); `gold_bound_z` not negative; and the tiers in order: reviewed
// minimums non-decreasing from contributor to quality contributor to
// reviewer-eligible, `reviewer_min_score` not below `quality_min_score`.
absl::Status ValidateStandingPolicy(const StandingPolicy& p);

// Observations at one time (e.g. one day's reviews): `successes` of
// `trials`. For review rounds, `successes` is the sum of rounds.
struct Observation {
  absl::Time at;
  double successes = 0;
  double trials = 0;
};

// The evidence of one annotator in one domain (or overall).
struct StandingInputs {
  std::vector<Observation> gold;        // passed / gold checks
  std::vector<Observation> first_pass;  // first-pass accepted / reviewed
  std::vector<Observation> rounds;      // sum of rounds / reviewed
  std::vector<Observation> rejection;   // rejected / decided
  std::vector<Observation> agreement;   // agreeing answers / answers
};

// One factor of the score. `value` is in [0, 1], higher is better.
struct StandingFactor {
  std::string name;      // gold_accuracy, first_pass_acceptance, review_rounds,
                         // rejection_rate, agreement, volume
  double successes = 0;  // raw (undecayed) successes (rounds: sum of rounds)
  double count = 0;      // raw (undecayed) observations
  double decayed_successes = 0;
  double decayed_count = 0;
  double prior = 0;     // the smoothed figure with no data
  double smoothed = 0;  // the smoothed rate (review_rounds: mean rounds)
  double value = 0;     // what enters the score
  double weight = 0;
  double contribution = 0;  // weight x value
};

struct Standing {
  std::vector<StandingFactor> factors;  // in the order listed above
  double score = 0;                     // sum of contributions, in [0, 1]
  Tier tier = Tier::kNewcomer;
  int64_t reviewed = 0;            // raw count of reviewed submissions
  int64_t gold_checks = 0;         // raw count of gold checks
  double gold_accuracy = 0;        // smoothed
  double gold_accuracy_upper = 1;  // its upper bound (see gold_bound_z)
};

// Weight of an observation made at `at`: 2^(-max(0, now - at) / half_life).
double DecayWeight(absl::Time at, absl::Time now, const StandingPolicy& p);
Standing ComputeStanding(const StandingInputs& in, const StandingPolicy& p,
                         absl::Time now);
// `gold_accuracy_upper`: the upper bound of the smoothed gold accuracy.
Tier TierFor(double score, int64_t reviewed, int64_t gold_checks,
             double gold_accuracy_upper, const StandingPolicy& p);
// Readable sentences on what would raise `s` to the next tiers, e.g.
// "12 more reviewed tasks to reach contributor".
std::vector<std::string> StandingHints(const Standing& s,
                                       const StandingPolicy& p);
// The thresholds of every tier as JSON: [{tier, min_score, min_reviewed,
// min_gold_accuracy?, gold_checks_needed?}].
nlohmann::json TierThresholdsJson(const StandingPolicy& p);

// The reason an annotator's work "keeps coming back" (see StandingPolicy),
// or nullopt: `reviewed` submissions reviewed in the window, `came_back` of
// them returned or rejected.
std::optional<std::string> ComebackReason(int64_t reviewed, int64_t came_back,
                                          const StandingPolicy& p);

// A graded gold check: `score` in [0, 1] and whether it passed.
struct GoldGrade {
  double score = 0;
  bool passed = false;
};
// Grades `result` against `gold` (both valid for the pool): classify and
// pairwise by exact label/choice; rating passes when every criterion is
// within `rating_tolerance` (score: share of criteria within); bbox by F1 of
// boxes matched one-to-one (same label, IoU >= iou_threshold), passing at
// F1 >= 0.5. Rewrite and reference are not graded (nullopt).
std::optional<GoldGrade> GradeGold(TaskType type, const nlohmann::json& result,
                                   const nlohmann::json& gold,
                                   double rating_tolerance = 1,
                                   double iou_threshold = 0.5);

}  // namespace tessera::domain
