// Dynamic overlap (a pool's config.workforce.dynamic_overlap): a task starts
// with `min` open slots and gains one more after each submission while the
// inferred label's posterior confidence is below `confidence`, up to `max`.
// Called by the use cases inside their transactions; see docs/workforce.md.
#pragma once

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tessera/base/ids.h"
#include "tessera/domain/types.h"
#include "tessera/store/store.h"

namespace tessera::service::internal {

// How many of an annotator's most recent other tasks in the pool their
// reliability is estimated from.
inline constexpr int kReliabilityWindow = 50;

// Whether `pool` (whose parsed config is `config`) uses dynamic overlap:
// max > 0 and a categorical task type (classify, or pairwise as the three
// classes a, b, tie).
bool UsesDynamicOverlap(const domain::Pool& pool, const nlohmann::json& config);
bool UsesDynamicOverlap(const domain::Pool& pool);

// The open slots a new task of `pool` (parsed config `config`) starts with:
// dynamic_overlap.min when the pool uses dynamic overlap, else the pool's
// fixed overlap.
int InitialOpenSlots(const domain::Pool& pool, const nlohmann::json& config);

// The probability that `annotator` answers `pool`'s tasks correctly, from
// their kReliabilityWindow most recent other tasks of the pool: how often
// their answer agreed with the other of each task's first two answers,
// corrected for chance against how often the first two answers agree on
// those tasks (algo::ChanceCorrectedAccuracy; 2/3 with no record). Only the
// first two count because later answers are requested when the first ones
// disagree. The one place to switch the reliability source (e.g. to gold
// accuracy from standing).
absl::StatusOr<double> AnnotatorReliability(store::Tx& tx,
                                            const domain::Pool& pool,
                                            UserId annotator, TaskId exclude);

// The inferred label of a task from its non-rejected submissions (submitted
// work counts at once; a later rejection re-opens its slot anyway), each
// weighted by its annotator's reliability (algo::OneCoinPosterior).
struct TaskPosterior {
  int submissions = 0;          // non-rejected submissions counted
  int unpaid = 0;               // of which not accepted (not paid) yet
  int label = -1;               // class index of the mode (-1: no votes)
  double confidence = 0;        // its posterior probability
  std::vector<double> classes;  // the whole posterior, by class index
};
// kInvalidArgument-free: results that do not parse or name an unknown class
// still count as submissions but cast no vote. Only for pools where
// UsesDynamicOverlap is true.
absl::StatusOr<TaskPosterior> InferTaskPosterior(store::Tx& tx,
                                                 const domain::Pool& pool,
                                                 TaskId task);

// After a submission on `task` (in the same transaction): when the pool uses
// dynamic overlap, the task has no gold answer, every slot of its current
// target is submitted (no open slot, no active claim), fewer than `max`
// submissions count, the posterior confidence is below `confidence`, and
// the project's budget still covers the extra annotator after reserving the
// first `min` annotators of every later task of the pool (tasks are
// dispatched oldest first) and the task's unpaid submissions, adds one open
// slot and an audit row ("task.extend_overlap", with the
// label and confidence). Returns whether it did.
absl::StatusOr<bool> ExtendOverlapIfUnsure(store::Tx& tx,
                                           const domain::Pool& pool,
                                           TaskId task, absl::Time now);

}  // namespace tessera::service::internal
