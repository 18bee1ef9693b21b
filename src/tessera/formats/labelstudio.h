// Label Studio task JSON for image boxes: a list of tasks {data.image,
// annotations[].result[], predictions[].result[]} with rectanglelabels
// results in percent of original_width/original_height.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/formats/detection.h"

namespace tessera::formats {

// Parses a Label Studio task list (`file` names it in errors, with the line
// and the JSON path as field, e.g. "[3].annotations[0].result[1].value").
// Per task: `file` is data.image; the size is data.width/height, else the
// results' original_width/height (which must agree), else the decoded image
// under options.images_dir, else an error. Boxes come from the first
// annotation not marked was_cancelled (a warning names tasks with more than
// one); predictions from every prediction, score from the result or the
// prediction. Results of other types are ignored; a rotated rectangle or a
// result with other than one label is an error. Classes: options.
// classes_file, else the labels sorted by name.
absl::StatusOr<DetectionDataset> ParseLabelStudio(
    absl::string_view json, absl::string_view file,
    const ReadOptions& options = {});
// ParseLabelStudio on the file at `path`.
absl::StatusOr<DetectionDataset> ReadLabelStudio(
    const std::string& path, const ReadOptions& options = {});

// Names in the labeling config the results refer to; the defaults match
// Label Studio's bounding-box template (<RectangleLabels name="label"
// toName="image">).
struct LabelStudioWriterOptions {
  std::string from_name = "label";
  std::string to_name = "image";
};

// Streams a JSON task list to `sink`, one task per line: data {image,
// width, height}, one annotation holding the boxes (an empty result for an
// image without boxes) and, when the image has predictions, one prediction
// with a score per result. Numbers are shortest exact decimals.
std::unique_ptr<DetectionWriter> MakeLabelStudioWriter(
    ByteSink sink, LabelStudioWriterOptions options = {});

}  // namespace tessera::formats
