// Dynamic overlap: one more annotator at a time until the reliability-
// weighted posterior of a task's label is confident enough (Toloka's
// incremental relabeling, with each vote weighted by its annotator).
#include "tessera/service/internal/dynamic_overlap.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "tessera/algo/vote_posterior.h"
#include "tessera/base/status.h"
#include "tessera/domain/workforce.h"
#include "tessera/service/internal/access.h"

namespace tessera::service::internal {
namespace {

using nlohmann::json;

// The classes of a categorical pool and the result key naming one.
struct ClassSpace {
  std::vector<std::string> names;
  const char* key = "label";
};

ClassSpace ClassesOf(const domain::Pool& pool) {
  ClassSpace s;
  if (pool.task_type == domain::TaskType::kPairwise) {
    s.names = {"a", "b", "tie"};
    s.key = "choice";
    return s;
  }
  json config = ParseStored(pool.config_json);
  if (auto it = config.find("labels"); it != config.end() && it->is_array()) {
    for (const json& l : *it) {
      if (l.is_string()) s.names.push_back(l.get<std::string>());
    }
  }
  return s;
}

// The class index a stored result names, or -1.
int32_t ClassOf(const ClassSpace& space, const std::string& result_json) {
  json r = ParseStored(result_json);
  if (!r.is_object()) return -1;
  auto it = r.find(space.key);
  if (it == r.end() || !it->is_string()) return -1;
  const std::string& name = it->get_ref<const std::string&>();
  for (size_t i = 0; i < space.names.size(); ++i) {
    if (space.names[i] == name) return static_cast<int32_t>(i);
  }
  return -1;
}

}  // namespace

// Whether the project's budget can pay one more annotator on `task` without
// taking what the pool's later tasks (dispatched oldest first) need for their
// first `min` annotators, nor what `unpaid` submissions on the task will
// cost once accepted. Free pools always can.
absl::StatusOr<bool> AffordsExtraAnnotator(store::Tx& tx,
                                           const domain::Pool& pool,
                                           TaskId task, int min, int unpaid) {
  const int64_t price = pool.price.amount_minor;
  if (price <= 0) return true;
  TS_ASSIGN_OR_RETURN(
      auto account, tx.FindAccount(domain::AccountKind::kProject,
                                   pool.project_id.value, pool.price.currency));
  int64_t balance = 0;
  if (account) {
    TS_ASSIGN_OR_RETURN(balance, tx.Balance(*account));
  }
  TS_ASSIGN_OR_RETURN(int64_t last, tx.MaxTaskId(pool.id));
  const int64_t later = std::max<int64_t>(0, last - task.value);
  const __int128 needed = static_cast<__int128>(later) * min * price +
                          static_cast<__int128>(unpaid + 1) * price;
  return balance >= needed;
}

bool UsesDynamicOverlap(const domain::Pool& pool, const json& config) {
  if (pool.task_type != domain::TaskType::kClassify &&
      pool.task_type != domain::TaskType::kPairwise) {
    return false;
  }
  return domain::WorkforceOf(config).dynamic_overlap.max > 0;
}

bool UsesDynamicOverlap(const domain::Pool& pool) {
  if (pool.task_type != domain::TaskType::kClassify &&
      pool.task_type != domain::TaskType::kPairwise) {
    return false;
  }
  return UsesDynamicOverlap(pool, ParseStored(pool.config_json));
}

int InitialOpenSlots(const domain::Pool& pool, const json& config) {
  if (!UsesDynamicOverlap(pool, config)) return pool.overlap;
  return domain::WorkforceOf(config).dynamic_overlap.min;
}

absl::StatusOr<double> AnnotatorReliability(store::Tx& tx,
                                            const domain::Pool& pool,
                                            UserId annotator, TaskId exclude) {
  const ClassSpace space = ClassesOf(pool);
  TS_ASSIGN_OR_RETURN(auto rows,
                      tx.ListRecentPeerResults(pool.id, annotator, exclude,
                                               kReliabilityWindow));
  // Agreement between the first two answers of each task only: later
  // answers are asked for precisely when the first ones are unsure, so
  // counting them would bias every estimate towards disagreement.
  double agree = 0, pairs = 0, crowd_agree = 0, crowd_pairs = 0;
  size_t i = 0;
  while (i < rows.size()) {
    size_t end = i;
    while (end < rows.size() && rows[end].task_id == rows[i].task_id) ++end;
    if (end - i >= 2) {  // rows are by submission id within a task
      const int32_t a = ClassOf(space, rows[i].result_json);
      const int32_t b = ClassOf(space, rows[i + 1].result_json);
      if (a >= 0 && b >= 0) {
        const double same = a == b ? 1 : 0;
        crowd_pairs += 1;
        crowd_agree += same;
        if (rows[i].annotator_id == annotator ||
            rows[i + 1].annotator_id == annotator) {
          pairs += 1;
          agree += same;
        }
      }
    }
    i = end;
  }
  return algo::ChanceCorrectedAccuracy(
      agree, pairs, crowd_agree, crowd_pairs,
      std::max<int32_t>(2, static_cast<int32_t>(space.names.size())));
}

namespace {

// The posterior of a task from its (already read) non-rejected results.
absl::StatusOr<TaskPosterior> PosteriorOf(
    store::Tx& tx, const domain::Pool& pool, TaskId task,
    const std::vector<store::PoolResult>& results) {
  const ClassSpace space = ClassesOf(pool);
  TaskPosterior out;
  std::vector<algo::WeightedVote> votes;
  for (const store::PoolResult& r : results) {
    ++out.submissions;
    if (r.state != domain::SubmissionState::kAccepted) ++out.unpaid;
    int32_t c = ClassOf(space, r.result_json);
    if (c < 0) continue;
    TS_ASSIGN_OR_RETURN(double accuracy,
                        AnnotatorReliability(tx, pool, r.annotator_id, task));
    votes.push_back({c, accuracy});
  }
  const int32_t k =
      std::max<int32_t>(2, static_cast<int32_t>(space.names.size()));
  out.classes = algo::OneCoinPosterior(votes, k);
  if (!votes.empty()) {
    algo::PosteriorMode m = algo::ModeOf(out.classes);
    out.label = m.label;
    out.confidence = m.confidence;
  }
  return out;
}

}  // namespace

absl::StatusOr<TaskPosterior> InferTaskPosterior(store::Tx& tx,
                                                 const domain::Pool& pool,
                                                 TaskId task) {
  TS_ASSIGN_OR_RETURN(auto results, tx.ListTaskResults(task));
  return PosteriorOf(tx, pool, task, results);
}

absl::StatusOr<bool> ExtendOverlapIfUnsure(store::Tx& tx,
                                           const domain::Pool& pool,
                                           TaskId task_id, absl::Time now) {
  if (!UsesDynamicOverlap(pool)) return false;
  const domain::DynamicOverlap settings =
      domain::WorkforceOf(ParseStored(pool.config_json)).dynamic_overlap;
  TS_ASSIGN_OR_RETURN(domain::Task task, tx.GetTask(task_id));
  // A gold task's answer is known: it never needs more annotators.
  if (task.gold_json.has_value() || task.open_slots > 0) return false;
  TS_ASSIGN_OR_RETURN(int64_t active, tx.CountActiveClaims(task_id));
  if (active > 0) return false;  // the last submission of the target decides
  // Cheap checks first: the reliabilities behind the posterior cost a query
  // per annotator on the task.
  TS_ASSIGN_OR_RETURN(auto results, tx.ListTaskResults(task_id));
  if (static_cast<int>(results.size()) >= settings.max) return false;
  int unpaid = 0;
  for (const auto& r : results) {
    unpaid += r.state != domain::SubmissionState::kAccepted ? 1 : 0;
  }
  TS_ASSIGN_OR_RETURN(
      bool affordable,
      AffordsExtraAnnotator(tx, pool, task_id, settings.min, unpaid));
  if (!affordable) return false;
  TS_ASSIGN_OR_RETURN(TaskPosterior post,
                      PosteriorOf(tx, pool, task_id, results));
  if (post.label >= 0 && post.confidence >= settings.confidence) return false;
  TS_RETURN_IF_ERROR(tx.AddOpenSlots(task_id, +1));
  TS_RETURN_IF_ERROR(Audit(tx, std::nullopt, "task.extend_overlap", "task",
                           task_id.value, {{"submissions", post.submissions}},
                           {{"submissions", post.submissions},
                            {"target", post.submissions + 1},
                            {"label_index", post.label},
                            {"confidence", post.confidence},
                            {"confidence_target", settings.confidence}},
                           now));
  return true;
}

}  // namespace tessera::service::internal
