// `tessera ml-backend`: a Label Studio-compatible model backend serving a
// Detector over HTTP (GET /health, POST /setup, POST /predict).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tessera/preannotate/detector.h"

namespace tessera::preannotate {

struct MlBackendOptions {
  std::string host = "127.0.0.1";  // --listen HOST:PORT
  uint16_t port = 9090;            // 0 = pick a free port
  // --media DIR: task images given as relative paths resolve inside it;
  // absolute paths and ".." segments are rejected. Required.
  std::string media_root;
  // --model: "hog" (built-in people detector) or "onnx:PATH".
  std::string model = "hog";
  // Also accept task images given as http://127.0.0.1[:port]/... or
  // http://localhost[:port]/... URLs (fetched with `fetch_timeout`).
  bool allow_loopback_urls = true;
  absl::Duration fetch_timeout = absl::Seconds(10);
  int worker_threads = 2;  // concurrent /predict requests
};

// Builds the detector named by a --model value: "hog" or "onnx:PATH" (class
// names from PATH's .names or .txt sidecar, or classes.txt beside it; boxes
// are labelled by class index without one).
// kInvalidArgument for other values; MakeOnnxDetector's errors for ONNX.
absl::StatusOr<std::unique_ptr<Detector>> MakeDetector(absl::string_view model);

// A running backend. Thread-safe.
class MlBackendServer {
 public:
  // Validates the options (media root must be a directory), builds the
  // detector from options.model and starts listening.
  static absl::StatusOr<std::unique_ptr<MlBackendServer>> Start(
      const MlBackendOptions& options);
  // Same, serving `detector` instead of options.model (tests, embedding).
  static absl::StatusOr<std::unique_ptr<MlBackendServer>> Start(
      const MlBackendOptions& options,
      std::shared_ptr<const Detector> detector);

  ~MlBackendServer();  // Stop()s
  MlBackendServer(const MlBackendServer&) = delete;
  MlBackendServer& operator=(const MlBackendServer&) = delete;

  uint16_t port() const;  // the bound port
  // Graceful stop; idempotent.
  void Stop();
  // Blocks until SIGINT/SIGTERM (or Stop() elsewhere), then stops.
  void RunUntilSignal();

  class Impl;

 private:
  explicit MlBackendServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The subcommand: starts the server, prints "serving on HOST:PORT" to stdout
// once listening, serves until SIGTERM/SIGINT. Returns the process exit code
// (0 after a signal, 1 when it cannot start; the error goes to stderr).
int RunMlBackend(const MlBackendOptions& options);

}  // namespace tessera::preannotate
