// Posterior of one item's true class from a few votes under the one-coin
// model, each vote weighted by its voter's reliability, and the smoothed
// agreement-with-majority reliability estimate (dynamic overlap's inputs).
#pragma once

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace tessera::algo {

// One vote on an item: class `label` (0..K-1) from a voter who answers the
// true class with probability `accuracy`.
struct WeightedVote {
  int32_t label = 0;
  double accuracy = 0.5;
};

// P(true class = c | votes) for c in 0..num_classes-1 under the one-coin
// model: a voter of accuracy a gives the true class with probability a and
// each other class with (1 - a) / (K - 1); votes are independent given the
// class; the prior is uniform. Accuracies are clamped to [0.001, 0.999] so
// no single vote is certain. Votes with a label outside 0..K-1 are ignored.
// No votes: the uniform prior. Requires num_classes >= 2. Pure.
std::vector<double> OneCoinPosterior(absl::Span<const WeightedVote> votes,
                                     int32_t num_classes);

// The largest entry of `posterior` and its index (the lowest index wins ties).
struct PosteriorMode {
  int32_t label = -1;
  double confidence = 0.0;
};
PosteriorMode ModeOf(absl::Span<const double> posterior);

// A voter's accuracy from how often they agreed with the majority of the
// other voters: Beta(2, 1)-smoothed, (agreements + 2) / (comparisons + 3),
// so a voter with no record starts at 2/3 (better than chance, not trusted)
// and the estimate moves to the observed rate as the record grows.
// `agreements` may be fractional (a tie among the majority's classes counts
// 1 / number of tied classes). Requires 0 <= agreements <= comparisons.
double SmoothedAgreementAccuracy(double agreements, double comparisons);

// How far one voter's label agrees with the majority of the OTHER labels on
// one item: 1 if it is the only most-voted class among `others`, 1/m if it
// is one of m tied most-voted classes, 0 otherwise; -1 when `others` is
// empty (nothing to compare with). Labels are 0..K-1.
double AgreementWithOthers(int32_t label, absl::Span<const int32_t> others);

// A voter's accuracy under the one-coin model from pairwise agreement,
// corrected for chance. With crowd agreement rate p (over `crowd_pairs`
// pairs of answers on the same item) the crowd's mean accuracy q solves
// p = q^2 + (1 - q)^2 / (K - 1); a voter agreeing with others at rate r has
// accuracy a with r = a q + (1 - a)(1 - q) / (K - 1). r is smoothed with 3
// pseudo-pairs at the crowd's rate, so a voter with no pairs gets q. Falls
// back to SmoothedAgreementAccuracy (2/3 with no record) when the crowd has
// no pairs or agrees no better than chance. Clamped to [0.01, 0.99].
// Requires 0 <= agreements <= pairs, likewise for the crowd, K >= 2.
double ChanceCorrectedAccuracy(double agreements, double pairs,
                               double crowd_agreements, double crowd_pairs,
                               int32_t num_classes);

}  // namespace tessera::algo
