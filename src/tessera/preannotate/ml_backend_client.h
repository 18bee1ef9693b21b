// A client for Label Studio-compatible model backends (ours or anyone's):
// GET /health, POST /setup, POST /predict → Tessera pixel boxes per task.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tessera/preannotate/ml_backend_protocol.h"

namespace tessera::preannotate {

struct MlBackendClientOptions {
  // Bound on each whole call (connect, send, wait for the model, read).
  absl::Duration timeout = absl::Seconds(60);
  size_t max_response_bytes = 64 << 20;
};

// Talks to the backend at `url` ("http://host:port[/prefix]"; plain http
// only). Each call opens its own connection, so one client may be used from
// several threads at once. Errors: kInvalidArgument for a bad URL or a
// request the backend rejected with a 4xx (its message included);
// kUnavailable when the backend cannot be reached or answers 5xx;
// kDeadlineExceeded on timeout; kInternal when the backend's answer is not
// the protocol's shape (non-JSON, missing fields, wrong number of
// predictions), with the offending field named.
class MlBackendClient {
 public:
  explicit MlBackendClient(std::string url,
                           MlBackendClientOptions options = {});

  // GET /health; the backend's JSON, which must be an object with
  // "status": "UP".
  absl::StatusOr<nlohmann::json> Health() const;

  // POST /setup with `request` (e.g. {"project", "schema": label config});
  // returns the backend's model_version.
  absl::StatusOr<std::string> Setup(const nlohmann::json& request) const;

  // POST /predict with Label Studio tasks ({"id", "data": {"image", "width"?,
  // "height"?...}}); one prediction per task, in order, boxes in pixels.
  // A task's data width/height are used when a result lacks
  // original_width/original_height.
  absl::StatusOr<std::vector<TaskPrediction>> Predict(
      const std::vector<nlohmann::json>& tasks,
      absl::string_view label_config = "") const;

 private:
  absl::StatusOr<nlohmann::json> Call(absl::string_view method,
                                      absl::string_view path,
                                      absl::string_view body,
                                      std::string* raw_body) const;

  std::string url_;
  MlBackendClientOptions options_;
};

}  // namespace tessera::preannotate
