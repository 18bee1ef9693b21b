// The Detector interface: an image in, labelled pixel boxes with scores out.
// Implementations: the built-in HOG people detector and an ONNX model.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cv {
class Mat;
}  // namespace cv

namespace tessera::preannotate {

// One detected object. Coordinates are image pixels, (x, y) the top-left
// corner; boxes are clipped to the image. `score` is detector-specific but
// higher is always more confident.
struct Detection {
  std::string label;
  double x = 0;
  double y = 0;
  double w = 0;
  double h = 0;
  double score = 0;

  friend bool operator==(const Detection&, const Detection&) = default;
};

// A model that drafts boxes. Detect() is const and thread-safe in every
// implementation here (each call uses its own scratch state).
class Detector {
 public:
  virtual ~Detector() = default;

  // Detections on `image` (8-bit BGR, gray or BGRA as cv::imread returns),
  // sorted by descending score. An empty image is kInvalidArgument.
  virtual absl::StatusOr<std::vector<Detection>> Detect(
      const cv::Mat& image) const = 0;

  // Model name and version, recorded with every pre-annotation
  // ("opencv-hog-people", "4.6.0/...").
  virtual std::string name() const = 0;
  virtual std::string version() const = 0;
};

// Intersection over union of two pixel boxes; 0 when either is empty.
double IoU(const Detection& a, const Detection& b);

}  // namespace tessera::preannotate
