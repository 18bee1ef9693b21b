// JSON codecs for the Label Studio ML-backend protocol (POST /setup,
// POST /predict, GET /health): tasks in, rectanglelabels predictions out,
// boxes in percent of the original image size.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "tessera/preannotate/detector.h"

namespace tessera::preannotate {

// Names a prediction's results carry, from the project's labeling config:
// <Image name="{to_name}" value="${image_key}"/> and
// <RectangleLabels name="{from_name}" toName="..."/>.
struct LabelNames {
  std::string from_name = "label";
  std::string to_name = "image";
  std::string image_key = "image";  // the task data key holding the image
};

// Reads the names from a Label Studio XML labeling config; any name not found
// keeps its default. Never fails (a config is advisory here).
LabelNames LabelNamesFromConfig(absl::string_view label_config);

// One task of a /predict request.
struct BackendTask {
  nlohmann::json id;    // as sent (number or string); null when absent
  nlohmann::json data;  // the task's data object
};

// A parsed /predict request: {"tasks": [{"id", "data": {...}}, ...],
// "label_config"?: "<View>...", "project"?: ..., "params"?: {...}}.
struct PredictRequest {
  std::vector<BackendTask> tasks;
  std::string label_config;  // "" when absent
};

// Fails with kInvalidArgument naming the field ("tasks", "tasks[2].data")
// when the body is not JSON, tasks is missing or not an array, or a task or
// its data is not an object.
absl::StatusOr<PredictRequest> ParsePredictRequest(absl::string_view body);

// {"tasks": tasks, "label_config"?: label_config}; each task is sent as given.
nlohmann::json EncodePredictRequest(const std::vector<nlohmann::json>& tasks,
                                    absl::string_view label_config = "");

// One task's prediction: {"result": [rectanglelabels...], "score": mean
// score (0 without boxes), "model_version"}. Each box becomes
// {"id", "from_name", "to_name", "type": "rectanglelabels", "original_width",
// "original_height", "image_rotation": 0, "value": {"x", "y", "width",
// "height", "rotation": 0, "rectanglelabels": [label]}, "score"} with x, y,
// width, height in percent of width/height. Requires width, height > 0.
nlohmann::json EncodePrediction(const std::vector<Detection>& boxes, int width,
                                int height, const LabelNames& names,
                                absl::string_view model_version);

// The /predict response: {"results": predictions, "model_version"}.
nlohmann::json EncodePredictResponse(std::vector<nlohmann::json> predictions,
                                     absl::string_view model_version);

// One task's prediction decoded back into Tessera pixel boxes.
struct TaskPrediction {
  std::vector<Detection> boxes;  // pixels, top-left origin
  double score = 0;              // the prediction's score (0 when absent)
  std::string model_version;     // the prediction's, else the response's
};

// An image's size in pixels.
struct ImageSize {
  int width = 0;
  int height = 0;
};

// Decodes a /predict response body into one prediction per task, in order.
// Accepts {"results": [...]} (and a bare array, as older backends send).
// Percent boxes are converted with each result's original_width/height, or
// when those are absent with `sizes[i]` (the task's {width, height}).
// Results of other types (choices, polygons...) are skipped. Fails with
// kInvalidArgument naming the offending field when the body is not JSON,
// the number of predictions differs from `expected_tasks`, a rectangle
// lacks numbers or a label, is rotated, or no image size is known.
absl::StatusOr<std::vector<TaskPrediction>> ParsePredictResponse(
    absl::string_view body, size_t expected_tasks,
    const std::vector<std::optional<ImageSize>>& sizes = {});

}  // namespace tessera::preannotate
