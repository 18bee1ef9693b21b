// YOLO (Ultralytics) detection labels: one "class cx cy w h" text file per
// image, coordinates normalised to [0,1], plus classes.txt or data.yaml.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/formats/detection.h"

namespace tessera::formats {

// Parses one label file's text for a width x height image. Lines are
// "class cx cy w h" or "class cx cy w h score"; blank lines are skipped.
// Errors name `file`, the line and the field (class, cx, cy, w, h, score).
absl::StatusOr<std::vector<Box>> ParseYoloLabels(
    absl::string_view text, absl::string_view file,
    const std::vector<std::string>& classes, int width, int height);

// Formats boxes as label text the way Ultralytics writes it: "%g" numbers
// (6 significant digits), one line per box ending in "\n", a score as a
// sixth field when present. `class_index` maps label → class index.
absl::StatusOr<std::string> FormatYoloLabels(
    const std::vector<Box>& boxes,
    const absl::flat_hash_map<std::string, int>& class_index, int width,
    int height, absl::string_view file);

// Reads a YOLO data set: every label file (*.txt, recursively) under
// `labels_dir` and every image under the images dir (see ReadOptions). Each
// image needs a label file of the same relative stem (an empty one for an
// image without objects), and each label file an image: otherwise an error
// naming the file, or a warning and a skip under skip_invalid. Images are
// returned sorted by path; sizes come from decoding each image.
absl::StatusOr<DetectionDataset> ReadYolo(const std::string& labels_dir,
                                          const ReadOptions& options = {});

// Writes labels/<file stem>.txt per image (an empty file for an image
// without boxes) and, on Finish, data.yaml ("path: .", train/val: images,
// nc and names as an index map). `sink` must outlive the writer.
std::unique_ptr<DetectionWriter> MakeYoloWriter(FileTreeSink& sink);

}  // namespace tessera::formats
