// HOG people detector: multi-scale sliding window without OpenCV's grouping,
// then our own score-ordered NMS so every box keeps its SVM margin.
#include "tessera/preannotate/hog_detector.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "opencv2/core.hpp"
#include "opencv2/imgproc.hpp"
#include "opencv2/objdetect.hpp"

namespace tessera::preannotate {
namespace {

// Keeps the best-scoring boxes, dropping any overlapping a kept one by more
// than `max_iou`. `dets` must be sorted by descending score.
std::vector<Detection> Suppress(std::vector<Detection> dets, double max_iou) {
  std::vector<Detection> kept;
  for (Detection& d : dets) {
    bool overlaps = false;
    for (const Detection& k : kept) {
      if (IoU(d, k) > max_iou) {
        overlaps = true;
        break;
      }
    }
    if (!overlaps) kept.push_back(std::move(d));
  }
  return kept;
}

class HogDetector final : public Detector {
 public:
  explicit HogDetector(const HogOptions& options) : options_(options) {
    hog_.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
  }

  absl::StatusOr<std::vector<Detection>> Detect(
      const cv::Mat& image) const override {
    if (image.empty()) return absl::InvalidArgumentError("empty image");
    if (image.depth() != CV_8U) {
      return absl::InvalidArgumentError("image must have 8-bit channels");
    }
    cv::Mat input;
    switch (image.channels()) {
      case 1:
      case 3:
        input = image;
        break;
      case 4:
        cv::cvtColor(image, input, cv::COLOR_BGRA2BGR);
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("unsupported channel count ", image.channels()));
    }
    double factor = 1.0;
    if (std::max(image.cols, image.rows) < options_.upscale_below &&
        options_.upscale > 1.0) {
      factor = options_.upscale;
      cv::resize(input, input, cv::Size(), factor, factor, cv::INTER_LINEAR);
    }
    if (input.cols < hog_.winSize.width || input.rows < hog_.winSize.height) {
      return std::vector<Detection>();  // too small to hold one window
    }
    std::vector<cv::Rect> rects;
    std::vector<double> margins;
    try {
      // Grouping (when on) averages each cluster's boxes and keeps its best
      // margin; Suppress() below then does NMS.
      hog_.detectMultiScale(input, rects, margins, options_.hit_threshold,
                            cv::Size(8, 8), cv::Size(0, 0), options_.scale_step,
                            options_.group_threshold,
                            /*useMeanshiftGrouping=*/false);
    } catch (const cv::Exception& e) {
      return absl::InternalError(absl::StrCat("HOG detection: ", e.what()));
    }
    std::vector<Detection> dets;
    dets.reserve(rects.size());
    for (size_t i = 0; i < rects.size(); ++i) {
      double score = 1.0 / (1.0 + std::exp(-margins[i]));
      if (score < options_.min_score) continue;
      double x = rects[i].x, y = rects[i].y;
      double w = rects[i].width, h = rects[i].height;
      if (options_.tighten) {
        x += w * 0.1;
        w *= 0.8;
        y += h * 0.07;
        h *= 0.8;
      }
      x /= factor, y /= factor, w /= factor, h /= factor;
      // Clip to the image.
      double x2 = std::min<double>(x + w, image.cols);
      double y2 = std::min<double>(y + h, image.rows);
      x = std::max(x, 0.0);
      y = std::max(y, 0.0);
      if (x2 <= x || y2 <= y) continue;
      dets.push_back({"person", x, y, x2 - x, y2 - y, score});
    }
    std::stable_sort(dets.begin(), dets.end(),
                     [](const Detection& a, const Detection& b) {
                       return a.score > b.score;
                     });
    return Suppress(std::move(dets), options_.nms_iou);
  }

  std::string name() const override { return "opencv-hog-people"; }

  std::string version() const override {
    return absl::StrCat("opencv-", CV_VERSION, "/up", options_.upscale, "@",
                        options_.upscale_below, "/s", options_.scale_step, "/t",
                        options_.hit_threshold, "/g", options_.group_threshold,
                        "/nms", options_.nms_iou, "/min", options_.min_score,
                        options_.tighten ? "/tight" : "");
  }

 private:
  const HogOptions options_;
  cv::HOGDescriptor hog_;  // detectMultiScale is const and thread-safe
};

}  // namespace

std::unique_ptr<Detector> MakeHogDetector(const HogOptions& options) {
  return std::make_unique<HogDetector>(options);
}

}  // namespace tessera::preannotate
