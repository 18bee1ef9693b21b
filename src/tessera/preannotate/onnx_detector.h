// A user-supplied ONNX detector run with OpenCV DNN, decoding YOLO-style
// outputs (YOLOv5 [1,N,5+C] with objectness, YOLOv8 [1,4+C,N] without).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/preannotate/detector.h"

namespace tessera::preannotate {

struct OnnxOptions {
  std::string model_path;  // the .onnx file (required)
  // Class names by index; a missing name becomes the index ("17").
  std::vector<std::string> labels;
  // The square input the model expects; images are resized to it without
  // letterboxing (boxes are scaled back per axis).
  int input_size = 640;
  double min_score = 0.25;  // class score (x objectness for v5)
  double nms_iou = 0.45;    // per-class NMS
};

// Loads the model. kNotFound when model_path does not exist,
// kInvalidArgument when OpenCV cannot parse it. Detect() fails with
// kInvalidArgument when the model's output is not one of the layouts above.
// Detect() is thread-safe (calls are serialized: cv::dnn::Net is stateful).
absl::StatusOr<std::unique_ptr<Detector>> MakeOnnxDetector(
    const OnnxOptions& options);

}  // namespace tessera::preannotate
