// The pre-annotation job of `tessera serve`: drafts boxes for the tasks of
// bbox pools whose config asks for it ("preannotate": {"model": "hog" |
// "onnx:PATH"} or {"backend": URL}, "min_score"), with the built-in detector
// or a Label Studio-compatible model backend, and texts for rewrite and
// reference pools ("preannotate": {"chat": URL, "model"?}) from an
// OpenAI-compatible chat endpoint; stores them as pre-annotations (model,
// version, score). Runs on its own thread in small
// batches, each stored in its own short transaction, so it never holds up a
// claim; an image that cannot be drafted is skipped (and logged) for the
// life of the process.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tessera/service/service.h"

namespace tessera::preannotate {
class Detector;
}

namespace tessera::jobs {

struct PreannotatorOptions {
  std::string media_root;  // where relative task images are
  absl::Duration interval = absl::Seconds(5);
  int batch = 16;  // tasks per pool per pass
};

class Preannotator {
 public:
  // `service` must outlive the job. `on_error` gets failed passes and
  // tasks that could not be drafted.
  Preannotator(service::Service& service, PreannotatorOptions options,
               std::function<void(const absl::Status&)> on_error = nullptr);
  ~Preannotator();
  void Start();
  void Stop();
  // One pass over every pool that asks for drafts, on the caller's thread:
  // at most `batch` tasks per pool. Returns the drafts stored.
  absl::StatusOr<int> RunOnce();

 private:
  void Loop();
  absl::StatusOr<std::shared_ptr<const preannotate::Detector>> DetectorFor(
      const std::string& model);
  // Up to `batch` tasks `model` at `version` has not drafted (nor failed).
  absl::StatusOr<std::vector<domain::Task>> NextBatch(
      PoolId pool, const std::string& model, const std::string& version);
  absl::StatusOr<int> DraftPool(const domain::Pool& pool);
  // Rewrite and reference pools: drafts from a chat-completions endpoint.
  absl::StatusOr<int> DraftTexts(const domain::Pool& pool,
                                 const nlohmann::json& spec);

  service::Service& service_;
  PreannotatorOptions options_;
  std::function<void(const absl::Status&)> on_error_;
  absl::flat_hash_map<std::string, std::shared_ptr<const preannotate::Detector>>
      detectors_;
  absl::flat_hash_set<int64_t> failed_tasks_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tessera::jobs
