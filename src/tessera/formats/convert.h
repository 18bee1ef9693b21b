// Offline conversion between detection formats (the body of `tessera
// convert`): read the whole input with one codec, write it with another.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/formats/detection.h"

namespace tessera::formats {

enum class DetectionFormat { kYolo, kCoco, kVoc, kLabelStudio };

// "yolo", "coco", "voc" or "ls" (also "labelstudio"); kInvalidArgument
// otherwise.
absl::StatusOr<DetectionFormat> ParseDetectionFormat(absl::string_view name);
// The short name ParseDetectionFormat accepts ("yolo", "coco", "voc", "ls").
absl::string_view DetectionFormatName(DetectionFormat format);

// `tessera convert --from F --to T IN OUT [--classes FILE] [--images DIR]
// [--skip-invalid]`. Inputs and outputs by format: yolo = a labels folder
// (read, see ReadYolo) / an output folder with labels/ and data.yaml
// (written); coco = a JSON file; voc = a folder of XML files; ls = a JSON
// file. Folders are created as needed and existing files with the same names
// overwritten.
struct ConvertOptions {
  DetectionFormat from = DetectionFormat::kYolo;
  DetectionFormat to = DetectionFormat::kCoco;
  std::string input;
  std::string output;
  std::string classes_file;  // optional, see ReadOptions::classes_file
  std::string images_dir;    // optional, see ReadOptions::images_dir
  bool skip_invalid = false;
};

struct ConvertReport {
  size_t images = 0;
  size_t boxes = 0;
  // What was skipped or left out, one line each (for the CLI to print).
  std::vector<std::string> warnings;
};

// Reads the input completely (so bad input fails before anything is
// written), then streams it to the output writer. Errors are
// kInvalidArgument naming the file, line or JSON path, and field.
absl::StatusOr<ConvertReport> ConvertDetections(const ConvertOptions& options);

// The reader for `format` applied to `input`.
absl::StatusOr<DetectionDataset> ReadDetections(DetectionFormat format,
                                                const std::string& input,
                                                const ReadOptions& options);

}  // namespace tessera::formats
