// Truth inference for categorical labels: majority vote, Wawa, Dawid-Skene,
// one-coin Dawid-Skene, GLAD, MACE and the default method `Best`. Each takes
// dense answers (CategoricalData) and a plain options struct and returns a
// CategoricalResult. Notes on each model: docs/algorithms/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tessera/algo/dense.h"

namespace tessera::algo {

// What every method returns. Items with no answers get label -1 and the
// class prior as posterior. All functions are pure and thread-safe; results
// are bit-identical for any `threads` value.
struct CategoricalResult {
  int32_t num_items = 0;
  int32_t num_workers = 0;
  int32_t num_classes = 0;
  // Inferred class per item (argmax of the posterior; the lowest class wins
  // exact ties, except in majority vote, see TieBreak).
  std::vector<int32_t> label;
  // P(true class = c | answers) at [item * num_classes + c].
  std::vector<double> posterior;
  // Estimated class prior (uniform where the model keeps it fixed).
  std::vector<double> class_prior;
  // P(worker answers o | true class t) at [(worker * K + t) * K + o]; rows
  // sum to 1. Filled by Dawid-Skene, one-coin DS and MACE; empty otherwise.
  std::vector<double> confusion;
  // Per worker, the probability of answering correctly (expected under the
  // class prior); for Wawa/MV the agreement with the aggregate. Workers with
  // no answers get NaN.
  std::vector<double> skill;
  // GLAD only: worker ability alpha (per worker) and item inverse difficulty
  // exp(beta) (per item).
  std::vector<double> ability;
  std::vector<double> inverse_difficulty;
  // EM iterations run (0 for the one-pass votes) and the objective after
  // each (per answer; see each method for which objective).
  int iterations = 0;
  bool converged = true;
  std::vector<double> log_likelihood;
};

// How majority vote breaks exact ties between the most voted classes.
enum class TieBreak {
  // Picks among the tied classes by a hash of (seed, item): reproducible,
  // unbiased across classes, and independent of input order.
  kSeededRandom,
  // Picks the lowest class index (crowd-kit's behaviour with sorted labels).
  kLowestClass,
};

struct MajorityVoteOptions {
  TieBreak tie_break = TieBreak::kSeededRandom;
  uint64_t seed = 0;
};

// Plain vote count per item; posterior = vote shares; skill = each worker's
// agreement with the resulting labels.
CategoricalResult MajorityVote(const CategoricalData& data,
                               const MajorityVoteOptions& options = {});

// Wawa (worker agreement with aggregate): majority vote, then each worker's
// agreement with it becomes the weight of a second, weighted vote. Ties in
// both votes follow `vote`.
struct WawaOptions {
  MajorityVoteOptions vote;
};
CategoricalResult Wawa(const CategoricalData& data,
                       const WawaOptions& options = {});

// Dawid-Skene (1979): a full confusion matrix per worker and a class prior,
// fitted by EM from majority-vote shares. The defaults reproduce crowd-kit's
// DawidSkene: stop when the evidence lower bound per answer improves by less
// than `tolerance`, at most `max_iterations`, no smoothing.
struct DawidSkeneOptions {
  double tolerance = 1e-5;
  int max_iterations = 100;
  // Dirichlet pseudo-counts added to every cell of each confusion row, plus
  // `diagonal_prior` more on the row's own class (0 = maximum likelihood).
  double confusion_prior = 0.0;
  double diagonal_prior = 0.0;
  // Dirichlet pseudo-count added to each class when re-estimating the prior.
  double class_prior_smoothing = 0.0;
  // Hierarchical pull: each confusion row also gets `pooled_prior`
  // pseudo-answers distributed as the pooled confusion row of all workers
  // (re-estimated every iteration), so sparse workers look like the crowd.
  double pooled_prior = 0.0;
  int threads = 0;  // 0 = all hardware threads
};
CategoricalResult DawidSkene(const CategoricalData& data,
                             const DawidSkeneOptions& options = {});

// One-coin Dawid-Skene: each worker has one accuracy s; errors spread evenly
// over the other K-1 classes. Same EM loop and convergence as Dawid-Skene.
struct OneCoinOptions {
  double tolerance = 1e-5;
  int max_iterations = 100;
  int threads = 0;
};
CategoricalResult OneCoinDawidSkene(const CategoricalData& data,
                                    const OneCoinOptions& options = {});

// GLAD (Whitehill et al. 2009): P(correct) = sigmoid(alpha_w * exp(beta_j))
// with worker ability alpha and item inverse difficulty exp(beta), Gaussian
// priors on alpha and beta; M-step by Newton-type gradient steps. Stops when
// the MAP objective per answer improves by less than `tolerance`.
struct GladOptions {
  double tolerance = 1e-5;
  int max_iterations = 100;
  int m_step_iterations = 5;  // alternating alpha/beta sweeps per M-step
  double alpha_prior_mean = 1.0;
  double beta_prior_mean = 1.0;
  double prior_variance = 1.0;
  bool learn_class_prior = false;  // false: uniform, as in the paper
  int threads = 0;
};
CategoricalResult Glad(const CategoricalData& data,
                       const GladOptions& options = {});

// MACE (Hovy et al. 2013): a worker either knows the answer (probability
// theta_w) or spams from a worker-specific distribution xi_w. Variational
// Bayes with Beta(spam_prior, know_prior) on theta and a symmetric
// Dirichlet(strategy_prior) on xi (or plain EM with smoothing). Runs
// `restarts` seeded random starts and keeps the best marginal likelihood.
struct MaceOptions {
  bool variational = true;
  int restarts = 10;
  int max_iterations = 50;
  double tolerance = 0.0;        // > 0: stop a run early when the change per
                                 // answer of the log likelihood falls below it
  double spam_prior = 0.5;       // Beta prior on spamming
  double know_prior = 0.5;       // Beta prior on knowing
  double strategy_prior = 10.0;  // symmetric Dirichlet on xi (VB)
  double smoothing = -1.0;       // EM only; < 0 means 0.01 / classes
  uint64_t seed = 0;
  int threads = 0;
  // Reproduces crowd-kit's MACE (crowdkit/aggregation/classification/mace.py)
  // for comparison with its published numbers, INCLUDING ITS INDEXING BUG:
  // each worker's strategy xi is re-estimated from the counts of the worker
  // at the same position in name-sorted order, with classes taken in
  // sorted order but looked up by first-appearance code. Also its start:
  // numpy RandomState(seed) (MT19937) uniforms in [1, 2.5), the same start
  // for every restart (so one run is made), and posterior ties broken by
  // first appearance of the class. Not a correct fit of the model: see
  // docs/algorithms/mace.md.
  bool compat_crowdkit = false;
  // compat_crowdkit only: worker names by worker index (e.g. from
  // CategoricalLabels::workers), sorted numerically when all are integers,
  // else bytewise, as pandas does. Empty: sorted order = index order.
  std::vector<std::string> worker_names;
};
CategoricalResult Mace(const CategoricalData& data,
                       const MaceOptions& options = {});

// The default method: Dawid-Skene with a weak Dirichlet prior on each
// confusion row (0.05 pseudo-answers per cell plus 0.2 on the diagonal), so
// workers with few answers keep a sensible matrix instead of a degenerate
// maximum-likelihood one. One fixed setting for all data (see
// docs/algorithms/dawid-skene.md for how it was chosen).
struct BestOptions {
  double tolerance = 1e-5;
  int max_iterations = 100;
  int threads = 0;
};
DawidSkeneOptions BestDawidSkeneOptions(const BestOptions& options = {});
CategoricalResult Best(const CategoricalData& data,
                       const BestOptions& options = {});

// Method names as the CLI spells them.
enum class CategoricalMethod { kBest, kMv, kWawa, kDs, kOcds, kGlad, kMace };
std::optional<CategoricalMethod> ParseCategoricalMethod(absl::string_view name);
absl::string_view CategoricalMethodName(CategoricalMethod method);
// Runs `method` with its default options and the given thread count.
CategoricalResult RunCategorical(CategoricalMethod method,
                                 const CategoricalData& data, int threads = 0);

// Fraction of items with truth[item] >= 0 and at least one answer whose
// inferred label equals the truth. `truth` has one entry per item (-1 = no
// truth). Returns NaN when no item qualifies.
struct AccuracyReport {
  int64_t evaluated = 0;  // truth items with at least one answer
  int64_t correct = 0;
  double accuracy = 0.0;
};
// Truth entries below -1 (labels_csv.h's kUnansweredClass: a class nobody
// answered) count as evaluated and never correct.
AccuracyReport Accuracy(const CategoricalResult& result,
                        const std::vector<int32_t>& truth);

}  // namespace tessera::algo
