// The model backend: tessera_http's Server and Router with three handlers;
// images come from the media root or loopback URLs, boxes from a Detector.
#include "tessera/preannotate/ml_backend_server.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/signal_set.hpp"
#include "nlohmann/json.hpp"
#include "opencv2/imgcodecs.hpp"
#include "tessera/base/json_util.h"
#include "tessera/base/status.h"
#include "tessera/http/error_mapping.h"
#include "tessera/http/router.h"
#include "tessera/http/server.h"
#include "tessera/preannotate/hog_detector.h"
#include "tessera/preannotate/internal/http_fetch.h"
#include "tessera/preannotate/ml_backend_protocol.h"
#include "tessera/preannotate/onnx_detector.h"

namespace tessera::preannotate {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxImageBytes = 64 << 20;

bool IsLoopbackHost(absl::string_view host) {
  return host == "127.0.0.1" || absl::EqualsIgnoreCase(host, "localhost");
}

}  // namespace

namespace {

// An ONNX model's class names, one per line, from MODEL.names, MODEL.txt or
// classes.txt beside it; empty (boxes labelled by index) when none exists.
std::vector<std::string> SidecarClassNames(const std::string& model_path) {
  const fs::path model(model_path);
  for (const fs::path& candidate : {fs::path(model).replace_extension(".names"),
                                    fs::path(model).replace_extension(".txt"),
                                    model.parent_path() / "classes.txt"}) {
    std::ifstream in(candidate);
    if (!in) continue;
    std::vector<std::string> names;
    std::string line;
    while (std::getline(in, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.pop_back();
      }
      names.push_back(line);
    }
    while (!names.empty() && names.back().empty()) names.pop_back();
    if (!names.empty()) return names;
  }
  return {};
}

}  // namespace

absl::StatusOr<std::unique_ptr<Detector>> MakeDetector(
    absl::string_view model) {
  if (model == "hog") return MakeHogDetector();
  if (absl::StartsWith(model, "onnx:")) {
    OnnxOptions options;
    options.model_path = std::string(model.substr(5));
    options.labels = SidecarClassNames(options.model_path);
    return MakeOnnxDetector(options);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown model '", model, "': expected \"hog\" or \"onnx:PATH\""));
}

class MlBackendServer::Impl {
 public:
  Impl(MlBackendOptions options, std::shared_ptr<const Detector> detector,
       fs::path media_root)
      : options_(std::move(options)),
        detector_(std::move(detector)),
        media_root_(std::move(media_root)),
        model_version_(
            absl::StrCat(detector_->name(), "@", detector_->version())) {
    router_.Add("GET", "/health", [this](http::Request&) {
      return http::Response::Json(200, {{"status", "UP"},
                                        {"model_class", detector_->name()},
                                        {"model_version", model_version_}});
    });
    router_.Add("POST", "/setup",
                [this](http::Request& req) { return Setup(req); });
    router_.Add("POST", "/predict",
                [this](http::Request& req) { return Predict(req); });
  }

  absl::Status Listen() {
    http::ServerOptions server_options;
    server_options.host = options_.host;
    server_options.port = options_.port;
    server_options.io_threads = 1;
    server_options.worker_threads = std::max(options_.worker_threads, 1);
    server_options.body_limit = 16 << 20;
    TS_ASSIGN_OR_RETURN(server_, http::Server::Start(
                                     server_options,
                                     [this](http::Request& req) {
                                       return router_.Dispatch(req);
                                     },
                                     /*metrics=*/nullptr));
    return absl::OkStatus();
  }

  http::Server& server() { return *server_; }

 private:
  // {"project"?, "schema"?: label config XML, "label_config"?: same} →
  // {"model_version"}. The config names the from/to names and image key
  // used by later /predict calls that carry no label_config of their own.
  http::Response Setup(const http::Request& req) {
    std::string config;
    if (!req.body.empty()) {
      auto body = ParseJson(req.body);
      if (!body.ok()) return http::ErrorResponse(body.status());
      if (absl::Status s = RequireObject(*body, "body"); !s.ok()) {
        return http::ErrorResponse(s);
      }
      for (const char* key : {"schema", "label_config"}) {
        auto v = body->find(key);
        if (v == body->end() || v->is_null()) continue;
        if (!v->is_string()) {
          return http::ErrorResponse(InvalidField(key, "must be a string"));
        }
        config = v->get<std::string>();
      }
    }
    {
      absl::MutexLock lock(&mu_);
      label_config_ = std::move(config);
    }
    return http::Response::Json(200, {{"model_version", model_version_}});
  }

  http::Response Predict(const http::Request& req) {
    auto parsed = ParsePredictRequest(req.body);
    if (!parsed.ok()) return http::ErrorResponse(parsed.status());
    std::string config = parsed->label_config;
    if (config.empty()) {
      absl::MutexLock lock(&mu_);
      config = label_config_;
    }
    const LabelNames names = LabelNamesFromConfig(config);
    std::vector<json> predictions;
    predictions.reserve(parsed->tasks.size());
    for (size_t i = 0; i < parsed->tasks.size(); ++i) {
      const std::string field =
          absl::StrCat("tasks[", i, "].data.", names.image_key);
      auto image = LoadTaskImage(parsed->tasks[i].data, names.image_key, field);
      if (!image.ok()) return http::ErrorResponse(image.status());
      auto dets = detector_->Detect(*image);
      if (!dets.ok())
        return http::ErrorResponse(WithField(dets.status(), field));
      predictions.push_back(EncodePrediction(*dets, image->cols, image->rows,
                                             names, model_version_));
    }
    return http::Response::Json(
        200, EncodePredictResponse(std::move(predictions), model_version_));
  }

  absl::StatusOr<cv::Mat> LoadTaskImage(const json& data,
                                        const std::string& key,
                                        const std::string& field) {
    auto it = data.find(key);
    if (it == data.end() || !it->is_string() ||
        it->get_ref<const std::string&>().empty()) {
      return InvalidField(field,
                          "must be a non-empty string (image path or URL)");
    }
    const std::string& ref = it->get_ref<const std::string&>();
    if (absl::StrContains(ref, "://")) return FetchImage(ref, field);
    TS_ASSIGN_OR_RETURN(fs::path path, ResolveMediaPath(ref, field));
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      return WithField(NotFound(absl::StrCat("image '", ref, "'")), field);
    }
    cv::Mat image = cv::imread(path.string(), cv::IMREAD_COLOR);
    if (image.empty()) {
      return InvalidField(field,
                          absl::StrCat("cannot decode image '", ref, "'"));
    }
    return image;
  }

  // A media-relative path, kept inside the media root even through symlinks.
  absl::StatusOr<fs::path> ResolveMediaPath(const std::string& ref,
                                            const std::string& field) {
    if (ref[0] == '/' || ref[0] == '\\') {
      return InvalidField(field, "absolute paths are not allowed");
    }
    for (absl::string_view seg : absl::StrSplit(ref, absl::ByAnyChar("/\\"))) {
      if (seg == "..") return InvalidField(field, "\"..\" is not allowed");
    }
    std::error_code ec;
    fs::path path = fs::weakly_canonical(media_root_ / ref, ec);
    if (ec)
      return InvalidField(field, absl::StrCat("bad path: ", ec.message()));
    auto [root_end, unused] = std::mismatch(
        media_root_.begin(), media_root_.end(), path.begin(), path.end());
    if (root_end != media_root_.end()) {
      return InvalidField(field, "path leaves the media root");
    }
    return path;
  }

  absl::StatusOr<cv::Mat> FetchImage(const std::string& url,
                                     const std::string& field) {
    auto parsed = internal::ParseHttpUrl(url);
    if (!parsed.ok() || !IsLoopbackHost(parsed->host) ||
        !options_.allow_loopback_urls) {
      return InvalidField(
          field, options_.allow_loopback_urls
                     ? "only media-relative paths and http://127.0.0.1 or "
                       "http://localhost URLs are supported"
                     : "only media-relative paths are supported");
    }
    auto resp =
        internal::HttpExchange(parsed->host, parsed->port, "GET",
                               parsed->path.empty() ? "/" : parsed->path, "",
                               options_.fetch_timeout, kMaxImageBytes);
    if (!resp.ok()) return WithField(resp.status(), field);
    if (resp->status == 404) {
      return WithField(NotFound(absl::StrCat("image '", url, "'")), field);
    }
    if (resp->status != 200) {
      return WithField(absl::UnavailableError(absl::StrCat(
                           "fetching '", url, "': HTTP ", resp->status)),
                       field);
    }
    std::vector<uchar> bytes(resp->body.begin(), resp->body.end());
    cv::Mat image = cv::imdecode(bytes, cv::IMREAD_COLOR);
    if (image.empty()) {
      return InvalidField(field,
                          absl::StrCat("cannot decode image '", url, "'"));
    }
    return image;
  }

  const MlBackendOptions options_;
  const std::shared_ptr<const Detector> detector_;
  const fs::path media_root_;  // canonical
  const std::string model_version_;
  http::Router router_;
  absl::Mutex mu_;
  std::string label_config_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<http::Server> server_;  // last: stops before the rest dies
};

absl::StatusOr<std::unique_ptr<MlBackendServer>> MlBackendServer::Start(
    const MlBackendOptions& options) {
  TS_ASSIGN_OR_RETURN(std::unique_ptr<Detector> detector,
                      MakeDetector(options.model));
  return Start(options, std::shared_ptr<const Detector>(std::move(detector)));
}

absl::StatusOr<std::unique_ptr<MlBackendServer>> MlBackendServer::Start(
    const MlBackendOptions& options, std::shared_ptr<const Detector> detector) {
  if (detector == nullptr) return absl::InvalidArgumentError("no detector");
  std::error_code ec;
  if (options.media_root.empty() || !fs::is_directory(options.media_root, ec)) {
    return InvalidField("media",
                        absl::StrCat("media root '", options.media_root,
                                     "' is not a directory"));
  }
  fs::path root = fs::canonical(options.media_root, ec);
  if (ec) {
    return InvalidField("media", absl::StrCat("media root: ", ec.message()));
  }
  auto impl = std::make_unique<Impl>(options, std::move(detector), root);
  TS_RETURN_IF_ERROR(impl->Listen());
  return std::unique_ptr<MlBackendServer>(new MlBackendServer(std::move(impl)));
}

MlBackendServer::MlBackendServer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
MlBackendServer::~MlBackendServer() { Stop(); }
uint16_t MlBackendServer::port() const { return impl_->server().port(); }
void MlBackendServer::Stop() { impl_->server().Stop(); }
void MlBackendServer::RunUntilSignal() { impl_->server().RunUntilSignal(); }

int RunMlBackend(const MlBackendOptions& options) {
  // Catch the signals before announcing the port, so that a SIGTERM sent as
  // soon as the line appears still stops the server gracefully.
  boost::asio::io_context signal_ioc(1);
  boost::asio::signal_set signals(signal_ioc, SIGINT, SIGTERM);
  auto server = MlBackendServer::Start(options);
  if (!server.ok()) {
    std::cerr << "tessera ml-backend: " << server.status().message() << "\n";
    return 1;
  }
  std::cout << "serving on " << options.host << ":" << (*server)->port()
            << std::endl;
  signals.async_wait([](const boost::system::error_code&, int) {});
  signal_ioc.run();
  (*server)->Stop();
  return 0;
}

}  // namespace tessera::preannotate
