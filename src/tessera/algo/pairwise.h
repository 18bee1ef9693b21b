// Pairwise-comparison aggregation: Bradley-Terry by Hunter's MM algorithm and
// its noisy-worker variant Crowd-BT (per-worker reliability, fitted by EM).
// See docs/algorithms/bradley-terry.md and docs/algorithms/crowd-bt.md.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tessera::algo {

// What a worker answered for one comparison.
enum class PairOutcome : int8_t { kLeft = 0, kRight = 1, kTie = 2 };

// Comparison k: worker[k] compared items left[k] and right[k] (dense indices,
// left[k] != right[k]) and answered outcome[k].
struct PairwiseData {
  int32_t num_items = 0;
  int32_t num_workers = 0;
  std::vector<int32_t> worker;
  std::vector<int32_t> left;
  std::vector<int32_t> right;
  std::vector<PairOutcome> outcome;
  size_t size() const { return left.size(); }
};

// Options of plain Bradley-Terry.
struct BradleyTerryOptions {
  // Stop when no item's log-strength moves by more than this in one sweep.
  double tolerance = 1e-6;
  int max_iterations = 2000;
  // Regularisation: every item that was compared gets this many pseudo-wins
  // and as many pseudo-losses against a virtual item of strength 1, so items
  // that never win (or never lose) keep finite scores. 0 disables it (then
  // scores can diverge on data that is not strongly connected).
  double prior_comparisons = 1.0;
};

// Options of Crowd-BT (noisy workers).
struct CrowdBtOptions {
  // Options of the plain BT fit that seeds the scores (its prior also
  // regularises every later score update).
  BradleyTerryOptions bt;
  // Beta prior on each worker's reliability eta_w, as pseudo-counts of
  // comparisons reported in the true order / against it. The default (mean
  // 0.8, weight 5) keeps workers with few answers near "fairly reliable" and
  // fixes the model's sign (eta > 1/2 on average).
  double prior_agree = 4.0;
  double prior_disagree = 1.0;
  // EM rounds (each: E-step, eta update, `score_sweeps` MM sweeps).
  int max_em_iterations = 300;
  int score_sweeps = 2;
  // Stop when a round improves the log-likelihood by less than this per
  // comparison. (Along the ridge where eta and the score scale trade off,
  // EM creeps; the ranking has long settled by then.)
  double tolerance = 1e-7;
};

struct PairwiseResult {
  // Per item: log-strength (log pi_i); 0 is the strength of the regularising
  // virtual item, so items never compared score exactly 0.
  std::vector<double> score;
  // Item indices, best first (ties by lower index).
  std::vector<int32_t> ranking;
  // Per item: number of comparisons it took part in.
  std::vector<int32_t> comparisons;
  // Crowd-BT only (empty for plain BT): per worker, the probability eta_w
  // that the worker reports the true order of a pair.
  std::vector<double> worker_reliability;
  // MM sweeps (plain BT) or EM rounds (Crowd-BT) run.
  int iterations = 0;
  bool converged = false;
  // Log-likelihood of the data (ties as half a win each way) at the end,
  // excluding the regularising pseudo-comparisons.
  double log_likelihood = 0.0;
};

// Fits Bradley-Terry, P(i beats j) = pi_i / (pi_i + pi_j), by the MM
// algorithm of Hunter (2004). A tie counts as half a win for each side.
// O(comparisons + items) per sweep. InvalidArgument on inconsistent sizes,
// out-of-range indices, or left == right.
absl::StatusOr<PairwiseResult> BradleyTerry(
    const PairwiseData& data, const BradleyTerryOptions& options = {});

// Fits Crowd-BT (Chen, Bennett, Collins-Thompson, Horvitz, WSDM 2013): worker
// w reports the true order with probability eta_w, so P(w says i > j) =
// eta_w * pi_i/(pi_i+pi_j) + (1 - eta_w) * pi_j/(pi_i+pi_j). Fitted by EM
// (latent: whether each answer was in the true order), seeded with plain BT.
// Ties carry no information about the worker and count half each way.
absl::StatusOr<PairwiseResult> CrowdBradleyTerry(
    const PairwiseData& data, const CrowdBtOptions& options = {});

// Spearman rank correlation of a and b (average ranks for ties); 0 when
// either is constant. Precondition: a.size() == b.size().
double SpearmanCorrelation(absl::Span<const double> a,
                           absl::Span<const double> b);

}  // namespace tessera::algo
