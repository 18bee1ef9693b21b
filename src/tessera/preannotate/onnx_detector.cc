// ONNX detector: cv::dnn::readNetFromONNX, one forward pass per image, YOLO
// output decoding and per-class NMS. Not exercised with a real model in the
// tests (none is available offline); its loading errors are.
#include "tessera/preannotate/onnx_detector.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "opencv2/core.hpp"
#include "opencv2/dnn.hpp"
#include "opencv2/imgproc.hpp"

namespace tessera::preannotate {
namespace {

class OnnxDetector final : public Detector {
 public:
  OnnxDetector(OnnxOptions options, cv::dnn::Net net)
      : options_(std::move(options)), net_(std::move(net)) {}

  absl::StatusOr<std::vector<Detection>> Detect(
      const cv::Mat& image) const override {
    if (image.empty()) return absl::InvalidArgumentError("empty image");
    cv::Mat input = image;
    if (image.channels() == 1) cv::cvtColor(image, input, cv::COLOR_GRAY2BGR);
    if (image.channels() == 4) cv::cvtColor(image, input, cv::COLOR_BGRA2BGR);
    const int size = options_.input_size;
    cv::Mat blob = cv::dnn::blobFromImage(
        input, 1.0 / 255, cv::Size(size, size), cv::Scalar(), /*swapRB=*/true);
    cv::Mat out;
    try {
      absl::MutexLock lock(&mu_);
      net_.setInput(blob);
      out = net_.forward().clone();
    } catch (const cv::Exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("ONNX forward pass: ", e.what()));
    }
    if (out.dims != 3 || out.size[0] != 1) {
      return absl::InvalidArgumentError(
          "ONNX output is not a [1, N, 5+C] or [1, 4+C, N] YOLO tensor");
    }
    // v8 layout [1, 4+C, N] has fewer rows than columns: transpose to N rows.
    const bool v8 = out.size[1] < out.size[2];
    cv::Mat rows(out.size[1], out.size[2], CV_32F, out.ptr<float>());
    if (v8) rows = rows.t();
    const int attrs = rows.cols;
    const int first_class = v8 ? 4 : 5;
    if (attrs <= first_class) {
      return absl::InvalidArgumentError(
          absl::StrCat("ONNX output rows have ", attrs, " values"));
    }
    const double sx = static_cast<double>(image.cols) / size;
    const double sy = static_cast<double>(image.rows) / size;
    std::map<int, std::vector<cv::Rect2d>> boxes;
    std::map<int, std::vector<float>> scores;
    for (int i = 0; i < rows.rows; ++i) {
      const float* r = rows.ptr<float>(i);
      cv::Point cls;
      double best;
      cv::minMaxLoc(cv::Mat(1, attrs - first_class, CV_32F,
                            const_cast<float*>(r + first_class)),
                    nullptr, &best, nullptr, &cls);
      double score = v8 ? best : best * r[4];
      if (score < options_.min_score) continue;
      double w = r[2] * sx, h = r[3] * sy;
      boxes[cls.x].emplace_back(r[0] * sx - w / 2, r[1] * sy - h / 2, w, h);
      scores[cls.x].push_back(static_cast<float>(score));
    }
    std::vector<Detection> dets;
    for (auto& [cls, b] : boxes) {
      std::vector<int> keep;
      cv::dnn::NMSBoxes(b, scores[cls], options_.min_score, options_.nms_iou,
                        keep);
      std::string label = cls < static_cast<int>(options_.labels.size())
                              ? options_.labels[cls]
                              : absl::StrCat(cls);
      for (int k : keep) {
        double x = std::max(0.0, b[k].x), y = std::max(0.0, b[k].y);
        double x2 = std::min<double>(b[k].x + b[k].width, image.cols);
        double y2 = std::min<double>(b[k].y + b[k].height, image.rows);
        if (x2 <= x || y2 <= y) continue;
        dets.push_back({label, x, y, x2 - x, y2 - y, scores[cls][k]});
      }
    }
    std::stable_sort(dets.begin(), dets.end(),
                     [](const Detection& a, const Detection& b) {
                       return a.score > b.score;
                     });
    return dets;
  }

  std::string name() const override {
    return absl::StrCat(
        "onnx:",
        std::filesystem::path(options_.model_path).filename().string());
  }
  std::string version() const override {
    return absl::StrCat("opencv-dnn-", CV_VERSION, "/", options_.input_size);
  }

 private:
  const OnnxOptions options_;
  mutable absl::Mutex mu_;
  mutable cv::dnn::Net net_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<Detector>> MakeOnnxDetector(
    const OnnxOptions& options) {
  std::error_code ec;
  if (options.model_path.empty()) {
    return absl::InvalidArgumentError("ONNX model path is empty");
  }
  if (!std::filesystem::is_regular_file(options.model_path, ec)) {
    return absl::NotFoundError(
        absl::StrCat("ONNX model '", options.model_path, "' does not exist"));
  }
  if (options.input_size <= 0) {
    return absl::InvalidArgumentError("ONNX input size must be positive");
  }
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromONNX(options.model_path);
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot load ONNX model '", options.model_path, "': ", e.what()));
  }
  if (net.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot load ONNX model '", options.model_path, "': empty network"));
  }
  return std::make_unique<OnnxDetector>(options, std::move(net));
}

}  // namespace tessera::preannotate
