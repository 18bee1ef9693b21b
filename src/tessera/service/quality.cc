// Per-pool quality snapshots: the mapping from submissions to the algo/
// engine's dense arrays (BuildQualitySnapshot), and the Service use cases that
// store and read the snapshots (Aggregate, GetQuality, AggregateStalePools).
#include "tessera/service/quality.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "tessera/algo/agreement.h"
#include "tessera/algo/boxes.h"
#include "tessera/algo/categorical.h"
#include "tessera/algo/numeric.h"
#include "tessera/base/clock.h"
#include "tessera/base/status.h"
#include "tessera/domain/types.h"
#include "tessera/service/auth.h"
#include "tessera/service/internal/access.h"
#include "tessera/service/service.h"

namespace tessera::service {
namespace {

using domain::Role;
using domain::TaskType;
using internal::ParseStored;
using store::Tx;

// Attempts at the snapshot insert. Each lost attempt means another writer
// stored a snapshot of the pool, so a loser always makes way for progress.
constexpr int kInsertAttempts = 10;

// A finite number rounded to 6 decimals (snapshots stay compact and
// byte-stable across platforms), or null.
json Num(double v) {
  if (!std::isfinite(v)) return nullptr;
  return std::round(v * 1e6) / 1e6;
}

std::vector<std::string> StringList(const json& config, const char* key) {
  std::vector<std::string> out;
  if (!config.is_object()) return out;
  auto it = config.find(key);
  if (it == config.end() || !it->is_array()) return out;
  for (const json& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

int32_t IndexOf(const std::vector<std::string>& names, const std::string& s) {
  auto it = std::find(names.begin(), names.end(), s);
  return it == names.end() ? -1 : static_cast<int32_t>(it - names.begin());
}

// The results as dense indices: tasks and annotators each in id order.
struct Dense {
  std::vector<TaskId> tasks;
  std::vector<UserId> annotators;
  std::vector<int32_t> item;    // per result
  std::vector<int32_t> worker;  // per result
  std::vector<json> parsed;     // per result; discarded when unparsable
  int64_t skipped = 0;          // results that did not fit the pool

  int32_t num_items() const { return static_cast<int32_t>(tasks.size()); }
  int32_t num_workers() const {
    return static_cast<int32_t>(annotators.size());
  }
};

template <typename IdT>
int32_t Rank(const std::vector<IdT>& sorted, IdT id) {
  return static_cast<int32_t>(
      std::lower_bound(sorted.begin(), sorted.end(), id) - sorted.begin());
}

Dense MakeDense(const std::vector<store::PoolResult>& results) {
  Dense d;
  for (const auto& r : results) {
    d.tasks.push_back(r.task_id);
    d.annotators.push_back(r.annotator_id);
  }
  std::sort(d.tasks.begin(), d.tasks.end());
  d.tasks.erase(std::unique(d.tasks.begin(), d.tasks.end()), d.tasks.end());
  std::sort(d.annotators.begin(), d.annotators.end());
  d.annotators.erase(std::unique(d.annotators.begin(), d.annotators.end()),
                     d.annotators.end());
  for (const auto& r : results) {
    d.item.push_back(Rank(d.tasks, r.task_id));
    d.worker.push_back(Rank(d.annotators, r.annotator_id));
    d.parsed.push_back(ParseStored(r.result_json));
  }
  return d;
}

// classify and pairwise: smoothed Dawid-Skene over `classes`, reading the
// answer from result[key].
void FillCategorical(const std::vector<std::string>& classes,
                     const std::string& key, const std::string& answer_name,
                     const std::string& skill_name, Dense& d, json& out) {
  const int32_t num_classes = static_cast<int32_t>(classes.size());
  algo::CategoricalData data;
  data.num_items = d.num_items();
  data.num_workers = d.num_workers();
  data.num_classes = num_classes;
  for (size_t k = 0; k < d.parsed.size(); ++k) {
    const json& r = d.parsed[k];
    int32_t c = -1;
    if (r.is_object()) {
      auto it = r.find(key);
      if (it != r.end() && it->is_string()) {
        c = IndexOf(classes, it->get<std::string>());
      }
    }
    if (c < 0) {
      ++d.skipped;
      continue;
    }
    data.item.push_back(d.item[k]);
    data.worker.push_back(d.worker[k]);
    data.label.push_back(c);
  }
  algo::CategoricalResult res;
  if (data.size() > 0 && num_classes > 0) {
    algo::BestOptions options;
    options.threads = 1;  // the job shares the machine with the server
    res = algo::Best(data, options);
  }
  const bool inferred = !res.label.empty();

  std::vector<int64_t> item_answers(data.num_items, 0);
  std::vector<int64_t> worker_answers(data.num_workers, 0);
  std::vector<int64_t> worker_agree(data.num_workers, 0);
  for (size_t k = 0; k < data.size(); ++k) {
    ++item_answers[data.item[k]];
    ++worker_answers[data.worker[k]];
    if (inferred && res.label[data.item[k]] == data.label[k]) {
      ++worker_agree[data.worker[k]];
    }
  }

  json tasks = json::array();
  for (int32_t i = 0; i < data.num_items; ++i) {
    json t = {{"task_id", d.tasks[i].value}, {"answers", item_answers[i]}};
    const int32_t label = inferred ? res.label[i] : -1;
    if (label >= 0 && item_answers[i] > 0) {
      t[answer_name] = classes[label];
      t["confidence"] = Num(res.posterior[size_t(i) * num_classes + label]);
      json posterior = json::object();
      for (int32_t c = 0; c < num_classes; ++c) {
        posterior[classes[c]] = Num(res.posterior[size_t(i) * num_classes + c]);
      }
      t["posterior"] = std::move(posterior);
    } else {
      t[answer_name] = nullptr;
      t["confidence"] = nullptr;
      t["posterior"] = nullptr;
    }
    tasks.push_back(std::move(t));
  }

  json annotators = json::array();
  const size_t kk = size_t(num_classes) * num_classes;
  const bool has_confusion = inferred &&
                             res.confusion.size() == kk * data.num_workers &&
                             res.class_prior.size() == size_t(num_classes);
  for (int32_t w = 0; w < data.num_workers; ++w) {
    json a = {{"annotator_id", d.annotators[w].value},
              {"answers", worker_answers[w]}};
    if (worker_answers[w] > 0 && has_confusion) {
      // P(correct) = sum over true classes t of prior(t) * P(answer t | t).
      double skill = 0;
      for (int32_t t = 0; t < num_classes; ++t) {
        skill += res.class_prior[t] *
                 res.confusion[w * kk + size_t(t) * num_classes + t];
      }
      a[skill_name] = Num(skill);
      a["agreement_with_inferred"] =
          Num(double(worker_agree[w]) / worker_answers[w]);
    } else {
      a[skill_name] = nullptr;
      a["agreement_with_inferred"] = nullptr;
    }
    annotators.push_back(std::move(a));
  }

  algo::RatingData rating;
  rating.num_units = data.num_items;
  rating.num_coders = data.num_workers;
  rating.unit = data.item;
  rating.coder = data.worker;
  rating.value.assign(data.label.begin(), data.label.end());
  auto alpha = algo::KrippendorffAlpha(rating, algo::AlphaLevel::kNominal);
  auto percent = algo::PercentAgreement(data);
  out["tasks"] = std::move(tasks);
  out["annotators"] = std::move(annotators);
  out["agreement"] = {
      {"level", "nominal"},
      {"krippendorff_alpha", alpha.ok() ? Num(alpha->alpha) : json(nullptr)},
      {"percent_agreement", percent.ok() ? Num(*percent) : json(nullptr)}};
}

// rating: per criterion, the worker-bias-corrected mean and alpha (interval).
// A task's confidence is how closely its bias-corrected ratings agree: 1
// minus their mean absolute deviation from the inferred score as a fraction
// of the scale's range, averaged over criteria; null with fewer than two
// ratings (one rating says nothing about agreement).
void FillRating(const std::vector<std::string>& criteria, double scale_range,
                Dense& d, json& out) {
  const size_t num_criteria = criteria.size();
  std::vector<algo::NumericData> data(num_criteria);
  for (auto& n : data) {
    n.num_items = d.num_items();
    n.num_workers = d.num_workers();
  }
  std::vector<int64_t> item_ratings(d.num_items(), 0);
  std::vector<int64_t> worker_ratings(d.num_workers(), 0);
  // Answers per (criterion, worker), to leave biases of unseen ones null.
  std::vector<std::vector<int64_t>> answered(
      num_criteria, std::vector<int64_t>(d.num_workers(), 0));
  for (size_t k = 0; k < d.parsed.size(); ++k) {
    const json& r = d.parsed[k];
    const json* scores = nullptr;
    if (r.is_object()) {
      auto it = r.find("scores");
      if (it != r.end() && it->is_object()) scores = &*it;
    }
    bool any = false;
    if (scores != nullptr) {
      for (size_t c = 0; c < num_criteria; ++c) {
        auto s = scores->find(criteria[c]);
        if (s == scores->end() || !s->is_number()) continue;
        double v = s->get<double>();
        if (!std::isfinite(v)) continue;
        data[c].item.push_back(d.item[k]);
        data[c].worker.push_back(d.worker[k]);
        data[c].value.push_back(v);
        ++answered[c][d.worker[k]];
        any = true;
      }
    }
    if (!any) {
      ++d.skipped;
      continue;
    }
    ++item_ratings[d.item[k]];
    ++worker_ratings[d.worker[k]];
  }
  std::vector<algo::NumericResult> fits(num_criteria);
  json alphas = json::object();
  for (size_t c = 0; c < num_criteria; ++c) {
    if (data[c].size() > 0) fits[c] = algo::NumericBiasCorrectedMean(data[c]);
    algo::RatingData rating;
    rating.num_units = d.num_items();
    rating.num_coders = d.num_workers();
    rating.unit = data[c].item;
    rating.coder = data[c].worker;
    rating.value = data[c].value;
    auto alpha = algo::KrippendorffAlpha(rating, algo::AlphaLevel::kInterval);
    alphas[criteria[c]] = alpha.ok() ? Num(alpha->alpha) : json(nullptr);
  }
  // Mean absolute deviation per item, summed over criteria.
  std::vector<double> deviation(d.num_items(), 0);
  std::vector<int64_t> deviations(d.num_items(), 0);
  for (size_t c = 0; c < num_criteria; ++c) {
    if (fits[c].value.empty() ||
        fits[c].worker_bias.size() != size_t(d.num_workers())) {
      continue;
    }
    for (size_t k = 0; k < data[c].size(); ++k) {
      int32_t i = data[c].item[k];
      double corrected =
          data[c].value[k] - fits[c].worker_bias[data[c].worker[k]];
      deviation[i] += std::abs(corrected - fits[c].value[i]);
      ++deviations[i];
    }
  }
  json tasks = json::array();
  for (int32_t i = 0; i < d.num_items(); ++i) {
    json scores = json::object();
    for (size_t c = 0; c < num_criteria; ++c) {
      scores[criteria[c]] =
          fits[c].value.empty() ? json(nullptr) : Num(fits[c].value[i]);
    }
    json confidence = nullptr;
    if (item_ratings[i] >= 2 && deviations[i] > 0 && scale_range > 0) {
      double mad = deviation[i] / static_cast<double>(deviations[i]);
      confidence = Num(std::clamp(1.0 - mad / scale_range, 0.0, 1.0));
    }
    tasks.push_back({{"task_id", d.tasks[i].value},
                     {"ratings", item_ratings[i]},
                     {"scores", std::move(scores)},
                     {"confidence", std::move(confidence)}});
  }
  json annotators = json::array();
  for (int32_t w = 0; w < d.num_workers(); ++w) {
    json bias = json::object();
    for (size_t c = 0; c < num_criteria; ++c) {
      bool known = answered[c][w] > 0 &&
                   fits[c].worker_bias.size() == size_t(d.num_workers());
      bias[criteria[c]] = known ? Num(fits[c].worker_bias[w]) : json(nullptr);
    }
    annotators.push_back({{"annotator_id", d.annotators[w].value},
                          {"ratings", worker_ratings[w]},
                          {"bias", std::move(bias)}});
  }
  out["tasks"] = std::move(tasks);
  out["annotators"] = std::move(annotators);
  out["agreement"] = {{"level", "interval"}, {"krippendorff_alpha", alphas}};
}

// bbox: reliability-weighted merge; agreement is mean pairwise IoU.
absl::Status FillBoxes(const std::vector<std::string>& labels, Dense& d,
                       json& out) {
  algo::BoxAnnotations a;
  a.num_images = d.num_items();
  a.num_workers = d.num_workers();
  a.num_labels = std::max<int32_t>(1, static_cast<int32_t>(labels.size()));
  std::vector<int64_t> viewers(d.num_items(), 0);
  std::vector<int64_t> submissions(d.num_workers(), 0);
  std::vector<int64_t> drawn(d.num_workers(), 0);
  for (size_t k = 0; k < d.parsed.size(); ++k) {
    const json& r = d.parsed[k];
    const json* boxes = nullptr;
    if (r.is_object()) {
      auto it = r.find("boxes");
      if (it != r.end() && it->is_array()) boxes = &*it;
    }
    if (boxes == nullptr) {
      ++d.skipped;
      continue;
    }
    const int32_t image = d.item[k], worker = d.worker[k];
    a.view_image.push_back(image);
    a.view_worker.push_back(worker);
    ++viewers[image];
    ++submissions[worker];
    for (const json& b : *boxes) {
      if (!b.is_object() || !b.contains("label") || !b["label"].is_string()) {
        continue;
      }
      int32_t label = IndexOf(labels, b["label"].get<std::string>());
      double v[4];
      bool ok = label >= 0;
      const char* keys[4] = {"x", "y", "w", "h"};
      for (int i = 0; ok && i < 4; ++i) {
        auto c = b.find(keys[i]);
        ok = c != b.end() && c->is_number() && std::isfinite(c->get<double>());
        if (ok) v[i] = c->get<double>();
      }
      if (!ok || v[2] <= 0 || v[3] <= 0) continue;
      a.image.push_back(image);
      a.worker.push_back(worker);
      a.label.push_back(label);
      a.box.push_back({v[0], v[1], v[0] + v[2], v[1] + v[3]});
      ++drawn[worker];
    }
  }
  algo::BoxAggregation merged;
  if (!a.view_image.empty()) {
    auto result = algo::AggregateBoxes(a);  // kWeighted by default
    if (!result.ok()) {
      return absl::InternalError(
          absl::StrCat("box aggregation: ", result.status().message()));
    }
    merged = std::move(*result);
  }
  std::vector<json> per_task(d.num_items(), json::array());
  const algo::BoxSet& m = merged.boxes;
  for (size_t j = 0; j < m.size(); ++j) {
    const algo::Box& b = m.box[j];
    per_task[m.image[j]].push_back(
        {{"label", labels[m.label[j]]},
         {"x", Num(b.x1)},
         {"y", Num(b.y1)},
         {"w", Num(b.x2 - b.x1)},
         {"h", Num(b.y2 - b.y1)},
         {"confidence",
          j < m.confidence.size() ? Num(m.confidence[j]) : json(nullptr)}});
  }
  json tasks = json::array();
  for (int32_t i = 0; i < d.num_items(); ++i) {
    tasks.push_back({{"task_id", d.tasks[i].value},
                     {"annotators", viewers[i]},
                     {"boxes", std::move(per_task[i])}});
  }
  auto stat = [&](const std::vector<double>& v, int32_t w) {
    return submissions[w] > 0 && size_t(w) < v.size() ? Num(v[w])
                                                      : json(nullptr);
  };
  json annotators = json::array();
  for (int32_t w = 0; w < d.num_workers(); ++w) {
    annotators.push_back({{"annotator_id", d.annotators[w].value},
                          {"submissions", submissions[w]},
                          {"boxes", drawn[w]},
                          {"precision", stat(merged.worker_precision, w)},
                          {"recall", stat(merged.worker_recall, w)},
                          {"mean_iou", stat(merged.worker_mean_iou, w)}});
  }
  out["tasks"] = std::move(tasks);
  out["annotators"] = std::move(annotators);
  auto agreement = algo::MeanPairwiseIoU(a);
  if (agreement.ok()) {
    out["agreement"] = {
        {"mean_pairwise_iou", Num(agreement->mean_pairwise_iou)},
        {"mean_matched_iou", Num(agreement->mean_matched_iou)},
        {"worker_pairs", agreement->worker_pairs}};
  } else {
    out["agreement"] = nullptr;
  }
  return absl::OkStatus();
}

// rewrite and reference: free text, nothing to infer; counts only.
void FillCounts(Dense& d, json& out) {
  std::vector<int64_t> per_task(d.num_items(), 0);
  std::vector<int64_t> per_worker(d.num_workers(), 0);
  for (size_t k = 0; k < d.parsed.size(); ++k) {
    ++per_task[d.item[k]];
    ++per_worker[d.worker[k]];
  }
  json tasks = json::array();
  for (int32_t i = 0; i < d.num_items(); ++i) {
    tasks.push_back(
        {{"task_id", d.tasks[i].value}, {"submissions", per_task[i]}});
  }
  json annotators = json::array();
  for (int32_t w = 0; w < d.num_workers(); ++w) {
    annotators.push_back({{"annotator_id", d.annotators[w].value},
                          {"submissions", per_worker[w]}});
  }
  out["tasks"] = std::move(tasks);
  out["annotators"] = std::move(annotators);
  out["agreement"] = nullptr;
}

// The API object of a stored snapshot: its body plus the row's fields.
json SnapshotJson(const store::QualitySnapshot& q) {
  json out = ParseStored(q.body_json);
  if (!out.is_object()) out = json::object();
  out["pool_id"] = q.pool_id.value;
  out["version"] = q.version;
  out["created_at"] = Rfc3339(q.created_at);
  out["method"] = q.method;
  out["submissions_seen"] = q.submissions_seen;
  return out;
}

// Whether `latest` was computed from exactly the inputs `mark` describes.
bool Covers(const store::QualitySnapshot& latest,
            const store::PoolInputMark& mark) {
  return latest.submissions_seen == mark.max_submission_id &&
         latest.input_mark == mark.mark;
}

}  // namespace

absl::StatusOr<QualityBody> BuildQualitySnapshot(
    const domain::Pool& pool, const std::vector<store::PoolResult>& results) {
  const json config = ParseStored(pool.config_json);
  Dense d = MakeDense(results);
  QualityBody q;
  json& out = q.body;
  out = json::object();
  out["task_type"] = domain::ToString(pool.task_type);
  out["inference"] = true;
  switch (pool.task_type) {
    case TaskType::kClassify:
      q.method = "dawid_skene_smoothed";
      FillCategorical(StringList(config, "labels"), "label", "label",
                      "accuracy", d, out);
      break;
    case TaskType::kPairwise:
      q.method = "dawid_skene_smoothed";
      FillCategorical({"a", "b", "tie"}, "choice", "choice", "reliability", d,
                      out);
      break;
    case TaskType::kRating:
      q.method = "bias_corrected_mean";
      FillRating(StringList(config, "criteria"),
                 config.value("scale", json::object()).value("max", 5.0) -
                     config.value("scale", json::object()).value("min", 1.0),
                 d, out);
      break;
    case TaskType::kBbox:
      q.method = "weighted_boxes";
      TS_RETURN_IF_ERROR(FillBoxes(StringList(config, "labels"), d, out));
      break;
    case TaskType::kRewrite:
    case TaskType::kReference:
      q.method = "none";
      out["inference"] = false;
      out["note"] = absl::StrCat(domain::ToString(pool.task_type),
                                 " results are free text: no label is "
                                 "inferred, only counted");
      FillCounts(d, out);
      break;
  }
  out["counts"] = {{"tasks", d.tasks.size()},
                   {"annotators", d.annotators.size()},
                   {"results", results.size()},
                   {"skipped", d.skipped}};
  return q;
}

// ------------------------------------------------------- Service use cases

absl::StatusOr<json> Service::Aggregate(const Principal& p, PoolId pool) {
  TS_ASSIGN_OR_RETURN(std::optional<json> out,
                      AggregatePool(p, pool, /*only_if_stale=*/false));
  if (!out) return absl::InternalError("aggregation wrote no snapshot");
  return std::move(*out);
}

absl::StatusOr<json> Service::GetQuality(const Principal& p, PoolId id,
                                         std::optional<int> version) {
  if (version && *version < 1) {
    return InvalidField("version", "must be a positive integer");
  }
  json out;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_RETURN_IF_ERROR(internal::OwnedPool(tx, p, id).status());
    std::optional<store::QualitySnapshot> snapshot;
    if (version) {
      TS_ASSIGN_OR_RETURN(snapshot, tx.FindQualitySnapshot(id, *version));
    } else {
      TS_ASSIGN_OR_RETURN(snapshot, tx.FindLatestQualitySnapshot(id));
    }
    if (!snapshot) {
      return version
                 ? NotFound(absl::StrCat("quality snapshot version ", *version))
                 : NotFound("quality snapshot");
    }
    out = SnapshotJson(*snapshot);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<int> Service::AggregateStalePools(int limit) {
  std::vector<PoolId> stale;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(stale, tx.ListStalePools(limit));
    return absl::OkStatus();
  }));
  int written = 0;
  absl::Status first_error;
  for (PoolId id : stale) {
    auto result = AggregatePool(std::nullopt, id, /*only_if_stale=*/true);
    if (!result.ok()) {
      if (first_error.ok()) {
        first_error =
            absl::Status(result.status().code(),
                         absl::StrCat("aggregating pool ", id.value, ": ",
                                      result.status().message()));
      }
      continue;
    }
    if (*result) ++written;
  }
  if (!first_error.ok()) return first_error;
  return written;
}

namespace {

// Splits `body` into pieces of at most `max_bytes` (at least 4) that never
// cut a UTF-8 sequence in two (PostgreSQL rejects such text).
std::vector<absl::string_view> SplitUtf8(absl::string_view body,
                                         size_t max_bytes) {
  max_bytes = std::max<size_t>(max_bytes, 4);
  std::vector<absl::string_view> out;
  while (!body.empty()) {
    size_t n = std::min(max_bytes, body.size());
    while (n < body.size() && n > 0 &&
           (static_cast<unsigned char>(body[n]) & 0xC0) == 0x80) {
      --n;  // body[n] continues a sequence: end the piece before it starts
    }
    out.push_back(body.substr(0, n));
    body.remove_prefix(n);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> Service::StageSnapshotParts(PoolId pool,
                                                        absl::string_view body,
                                                        absl::Time now) {
  const std::string token = NewToken();
  const std::vector<absl::string_view> parts =
      SplitUtf8(body, options_.snapshot_part_bytes);
  for (size_t seq = 0; seq < parts.size(); ++seq) {
    TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
      if (seq == 0) {
        // Parts a stopped writer left behind, staged over an hour ago.
        TS_RETURN_IF_ERROR(
            tx.DeleteUnusedSnapshotParts(pool, now - absl::Hours(1)).status());
      }
      return tx.StageQualitySnapshotPart(pool, token, static_cast<int>(seq),
                                         parts[seq], now);
    }));
  }
  return token;
}

void Service::PruneSnapshots(PoolId pool) {
  if (options_.keep_quality_snapshots <= 0) return;
  // Its own transaction, after the new version committed: a failure leaves
  // the old versions to the next snapshot's pruning, which deletes every
  // version past the newest kept, and never fails the snapshot just stored.
  (void)Write([&](Tx& tx) {
    return tx.DeleteOldQualitySnapshots(pool, options_.keep_quality_snapshots)
        .status();
  });
}

absl::StatusOr<std::optional<json>> Service::AggregatePool(
    const std::optional<Principal>& actor, PoolId id, bool only_if_stale) {
  domain::Pool pool;
  store::PoolInputMark mark;
  std::vector<store::PoolResult> results;
  bool fresh = false;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    if (actor) {
      TS_ASSIGN_OR_RETURN(pool, internal::OwnedPool(tx, *actor, id));
    } else {
      TS_ASSIGN_OR_RETURN(pool, tx.GetPool(id));
    }
    // The mark before the results: whatever changes after the mark was read
    // leaves the snapshot stale, so the next pass picks it up.
    TS_ASSIGN_OR_RETURN(mark, tx.GetPoolInputMark(id));
    if (only_if_stale) {
      TS_ASSIGN_OR_RETURN(auto latest, tx.FindLatestQualitySnapshotHead(id));
      fresh = latest && Covers(*latest, mark);
      if (fresh) return absl::OkStatus();
    }
    TS_ASSIGN_OR_RETURN(results, tx.ListPoolResults(id));
    return absl::OkStatus();
  }));
  if (fresh) return std::nullopt;

  // Inference runs outside any transaction, so it never holds up claims.
  TS_ASSIGN_OR_RETURN(QualityBody computed,
                      BuildQualitySnapshot(pool, results));
  store::QualitySnapshot snapshot;
  snapshot.pool_id = id;
  snapshot.submissions_seen = mark.max_submission_id;
  snapshot.input_mark = mark.mark;
  snapshot.method = computed.method;
  snapshot.body_json = computed.body.dump();
  if (snapshot.body_json.size() > options_.snapshot_part_bytes) {
    TS_ASSIGN_OR_RETURN(
        snapshot.parts_token,
        StageSnapshotParts(id, snapshot.body_json, clock_.Now()));
  }
  // Staged parts that no snapshot will name (this one lost or was skipped).
  auto drop_parts = [&] {
    if (snapshot.parts_token.empty()) return;
    (void)Write([&](Tx& tx) {
      return tx
          .DeleteUnusedSnapshotParts(id, clock_.Now(), snapshot.parts_token)
          .status();
    });
  };

  // Another process may take the next version first (unique (pool_id,
  // version)); then re-read the latest and try again.
  for (int attempt = 1;; ++attempt) {
    bool skipped = false;
    snapshot.created_at = clock_.Now();
    absl::Status s = Write([&](Tx& tx) -> absl::Status {
      skipped = false;
      TS_ASSIGN_OR_RETURN(auto latest, tx.FindLatestQualitySnapshotHead(id));
      if (only_if_stale && latest && Covers(*latest, mark)) {
        skipped = true;  // another process snapshotted these inputs
        return absl::OkStatus();
      }
      snapshot.version = latest ? latest->version + 1 : 1;
      TS_ASSIGN_OR_RETURN(snapshot.id, tx.InsertQualitySnapshot(snapshot));
      domain::AuditRecord audit;
      if (actor) audit.actor = actor->id;
      audit.action = "quality.snapshot";
      audit.entity = "pool";
      audit.entity_id = id.value;
      audit.before_json = "null";
      audit.after_json = json{{"version", snapshot.version},
                              {"method", snapshot.method},
                              {"submissions_seen", snapshot.submissions_seen}}
                             .dump();
      audit.at = snapshot.created_at;
      return tx.InsertAudit(audit);
    });
    if (s.code() == absl::StatusCode::kAlreadyExists &&
        attempt < kInsertAttempts) {
      continue;
    }
    if (!s.ok() || skipped) drop_parts();
    TS_RETURN_IF_ERROR(s);
    if (skipped) return std::nullopt;
    PruneSnapshots(id);
    return SnapshotJson(snapshot);
  }
}

}  // namespace tessera::service
