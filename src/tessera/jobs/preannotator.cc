// The pre-annotation job (see preannotator.h).
#include "tessera/jobs/preannotator.h"

#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "opencv2/imgcodecs.hpp"
#include "tessera/base/status.h"
#include "tessera/preannotate/chat_client.h"
#include "tessera/preannotate/ml_backend_client.h"
#include "tessera/preannotate/ml_backend_server.h"

namespace tessera::jobs {
namespace {

using nlohmann::json;

json BoxesJson(const std::vector<preannotate::Detection>& found,
               double min_score, const absl::flat_hash_set<std::string>& labels,
               int width, int height, double* best) {
  json boxes = json::array();
  *best = 0;
  for (const auto& d : found) {
    if (d.score < min_score || !labels.contains(d.label)) continue;
    // Clip to the image (a detector's window may overhang an edge).
    double x1 = std::max(0.0, d.x), y1 = std::max(0.0, d.y);
    double x2 = std::min<double>(width, d.x + d.w);
    double y2 = std::min<double>(height, d.y + d.h);
    if (x2 <= x1 || y2 <= y1) continue;
    boxes.push_back({{"label", d.label},
                     {"x", x1},
                     {"y", y1},
                     {"w", x2 - x1},
                     {"h", y2 - y1},
                     {"score", d.score}});
    *best = std::max(*best, d.score);
  }
  return json{{"boxes", std::move(boxes)}};
}

}  // namespace

Preannotator::Preannotator(service::Service& service,
                           PreannotatorOptions options,
                           std::function<void(const absl::Status&)> on_error)
    : service_(service),
      options_(std::move(options)),
      on_error_(std::move(on_error)) {}

Preannotator::~Preannotator() { Stop(); }

void Preannotator::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Preannotator::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Preannotator::Loop() {
  while (true) {
    auto n = RunOnce();
    if (!n.ok() && on_error_) on_error_(n.status());
    // Busy pools get their next batch at once; idle ones wait.
    absl::Duration wait =
        n.ok() && *n > 0 ? absl::ZeroDuration() : options_.interval;
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait);
    if (stopping_) return;
  }
}

absl::StatusOr<std::shared_ptr<const preannotate::Detector>>
Preannotator::DetectorFor(const std::string& model) {
  auto it = detectors_.find(model);
  if (it != detectors_.end()) return it->second;
  TS_ASSIGN_OR_RETURN(std::unique_ptr<preannotate::Detector> made,
                      preannotate::MakeDetector(model));
  std::shared_ptr<const preannotate::Detector> shared = std::move(made);
  detectors_[model] = shared;
  return shared;
}

absl::StatusOr<int> Preannotator::RunOnce() {
  TS_ASSIGN_OR_RETURN(std::vector<domain::Pool> pools,
                      service_.ListDraftingPools());
  int stored = 0;
  absl::Status first_error;
  for (const domain::Pool& pool : pools) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
    }
    auto n = DraftPool(pool);
    if (n.ok()) {
      stored += *n;
    } else if (first_error.ok()) {
      first_error = n.status();
    }
  }
  if (stored == 0 && !first_error.ok()) return first_error;
  if (!first_error.ok() && on_error_) on_error_(first_error);
  return stored;
}

absl::StatusOr<std::vector<domain::Task>> Preannotator::NextBatch(
    PoolId pool, const std::string& model, const std::string& version) {
  // Skip tasks that failed before; page past them.
  std::vector<domain::Task> pending;
  int64_t after = 0;
  while (static_cast<int>(pending.size()) < options_.batch) {
    TS_ASSIGN_OR_RETURN(
        auto page,
        service_.TasksToDraft(pool, model, version, after, options_.batch));
    if (page.empty()) break;
    after = page.back().id.value;
    for (domain::Task& t : page) {
      if (!failed_tasks_.contains(t.id.value)) pending.push_back(std::move(t));
    }
  }
  return pending;
}

absl::StatusOr<int> Preannotator::DraftPool(const domain::Pool& pool) {
  json config = json::parse(pool.config_json, nullptr, false);
  const json& spec = config["preannotate"];
  if (spec.contains("chat")) return DraftTexts(pool, spec);
  const double min_score = spec.value("min_score", 0.0);
  absl::flat_hash_set<std::string> labels;
  for (const json& l : config["labels"]) labels.insert(l.get<std::string>());

  // Which model, at which version, drafts this pool.
  std::shared_ptr<const preannotate::Detector> detector;
  std::optional<preannotate::MlBackendClient> backend;
  std::string model, version;
  if (spec.contains("model")) {
    TS_ASSIGN_OR_RETURN(detector,
                        DetectorFor(spec["model"].get<std::string>()));
    model = detector->name();
    version = detector->version();
  } else {
    std::string url = spec["backend"].get<std::string>();
    backend.emplace(url);
    TS_ASSIGN_OR_RETURN(
        version, backend->Setup({{"project", absl::StrCat(pool.id.value)}}));
    model = url;
  }

  TS_ASSIGN_OR_RETURN(std::vector<domain::Task> pending,
                      NextBatch(pool.id, model, version));
  if (pending.empty()) return 0;

  std::vector<json> data;
  for (const domain::Task& t : pending) {
    data.push_back(json::parse(t.data_json, nullptr, false));
  }
  std::vector<std::optional<std::vector<preannotate::Detection>>> found(
      pending.size());
  if (backend) {
    std::vector<json> tasks;
    for (size_t i = 0; i < pending.size(); ++i) {
      tasks.push_back({{"id", pending[i].id.value}, {"data", data[i]}});
    }
    auto predictions = backend->Predict(tasks);
    if (predictions.ok()) {
      for (size_t i = 0; i < predictions->size() && i < found.size(); ++i) {
        found[i] = std::move((*predictions)[i].boxes);
      }
    } else if (absl::IsInvalidArgument(predictions.status())) {
      // The backend refused the batch (e.g. one image it cannot read): ask
      // task by task so one bad image does not hold up the rest.
      for (size_t i = 0; i < tasks.size(); ++i) {
        auto one = backend->Predict({tasks[i]});
        if (one.ok() && one->size() == 1) {
          found[i] = std::move((*one)[0].boxes);
        } else if (one.ok() || absl::IsInvalidArgument(one.status())) {
          failed_tasks_.insert(pending[i].id.value);
          if (on_error_) {
            on_error_(absl::InvalidArgumentError(absl::StrCat(
                "pre-annotation: task ", pending[i].id.value, ": ",
                one.ok() ? "no prediction" : one.status().message())));
          }
        } else {
          return one.status();  // the backend is down: try again later
        }
      }
    } else {
      return predictions.status();
    }
  } else {
    for (size_t i = 0; i < pending.size(); ++i) {
      std::string image = data[i].value("image", "");
      if (absl::StartsWith(image, "http://") ||
          absl::StartsWith(image, "https://") || options_.media_root.empty()) {
        failed_tasks_.insert(pending[i].id.value);
        if (on_error_) {
          on_error_(absl::FailedPreconditionError(absl::StrCat(
              "pre-annotation: task ", pending[i].id.value,
              ": the built-in detector reads images from the media root "
              "only")));
        }
        continue;
      }
      cv::Mat mat = cv::imread(
          (std::filesystem::path(options_.media_root) / image).string(),
          cv::IMREAD_COLOR);
      if (mat.empty()) {
        failed_tasks_.insert(pending[i].id.value);
        if (on_error_) {
          on_error_(absl::NotFoundError(absl::StrCat("pre-annotation: task ",
                                                     pending[i].id.value,
                                                     ": cannot read ", image)));
        }
        continue;
      }
      auto d = detector->Detect(mat);
      if (!d.ok()) {
        failed_tasks_.insert(pending[i].id.value);
        if (on_error_) on_error_(d.status());
        continue;
      }
      found[i] = std::move(*d);
    }
  }

  int stored = 0;
  for (size_t i = 0; i < pending.size(); ++i) {
    if (!found[i]) continue;
    domain::Preannotation draft;
    draft.task_id = pending[i].id;
    draft.pool_id = pool.id;
    draft.source = "model";
    draft.model = model;
    draft.version = version;
    double best = 0;
    draft.result_json =
        BoxesJson(*found[i], min_score, labels, data[i].value("width", 0),
                  data[i].value("height", 0), &best)
            .dump();
    if (best > 0) draft.score = best;
    draft.created_at = absl::Now();
    absl::Status s = service_.AddPreannotation(draft);
    if (s.ok()) {
      ++stored;
    } else if (!absl::IsAlreadyExists(s)) {  // another process drafted it
      return s;
    }
  }
  return stored;
}

absl::StatusOr<int> Preannotator::DraftTexts(const domain::Pool& pool,
                                             const json& spec) {
  preannotate::ChatClientOptions chat;
  chat.model = spec.value("model", "");
  std::string url = spec["chat"].get<std::string>();
  preannotate::ChatCompletionsClient client(url, chat);
  std::string model = chat.model.empty() ? url : chat.model;
  const std::string version = url;  // the endpoint serving the model
  int stored = 0;
  TS_ASSIGN_OR_RETURN(std::vector<domain::Task> pending,
                      NextBatch(pool.id, model, version));
  for (const domain::Task& t : pending) {
    json data = json::parse(t.data_json, nullptr, false);
    std::string prompt = data.value("prompt", "");
    absl::StatusOr<std::string> text =
        pool.task_type == domain::TaskType::kRewrite
            ? preannotate::DraftRewrite(client, prompt,
                                        data.value("response", ""))
            : preannotate::DraftReference(client, prompt);
    if (!text.ok()) {
      if (!absl::IsInvalidArgument(text.status()) &&
          !absl::IsInternal(text.status())) {
        return text.status();  // the endpoint is down: try again later
      }
      failed_tasks_.insert(t.id.value);
      if (on_error_) on_error_(text.status());
      continue;
    }
    domain::Preannotation draft;
    draft.task_id = t.id;
    draft.pool_id = pool.id;
    draft.source = "model";
    draft.model = model;
    draft.version = version;
    draft.result_json = json{{"text", *text}}.dump();
    draft.created_at = absl::Now();
    absl::Status s = service_.AddPreannotation(draft);
    if (s.ok()) {
      ++stored;
    } else if (!absl::IsAlreadyExists(s)) {
      return s;
    }
  }
  return stored;
}

}  // namespace tessera::jobs
