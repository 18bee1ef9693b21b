// Import sources for image pools: a folder of images (sizes read from the
// files), optionally with existing boxes in YOLO, COCO, Pascal VOC or Label
// Studio form imported as gold answers or as pre-annotations.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/formats/convert.h"
#include "tessera/service/transfer.h"

namespace tessera::transfer {

// What existing boxes become.
enum class LabelsAs { kGold, kPreannotation };
absl::StatusOr<LabelsAs> ParseLabelsAs(absl::string_view name,
                                       absl::string_view field);

struct DetectionImportOptions {
  // Directory every task image must lie in; data.image is stored relative
  // to it (the server's --media root).
  std::string media_root = ".";
  // Where the images are. Required for COCO and VOC (their file names are
  // relative to it); YOLO defaults to the labels dir's sibling `images`.
  std::string images_dir;
  std::string classes_file;  // see formats::ReadOptions
  LabelsAs labels_as = LabelsAs::kGold;
  // Drop boxes whose class is not one of the pool's labels (instead of
  // failing), e.g. to take only person/car/traffic light from COCO's 80.
  bool only_pool_labels = false;
  // Name of the model for pre-annotations ("import" when empty).
  std::string model = "import";
  // Passed to the reader: skip images/label files that are invalid.
  bool skip_invalid = false;
};

// Tasks from the images in `dir` (recursively), without labels; or, when
// `dir` is a file, from the list in it: one image per line, a path relative
// to the media root, or "URL WIDTH HEIGHT" (URLs pass through, nothing is
// downloaded, so their size must be given).
absl::StatusOr<std::unique_ptr<service::ImportSource>> MakeImageFolderSource(
    const std::string& dir, const DetectionImportOptions& options);

// Tasks from a labelled data set at `input` (YOLO labels dir, COCO JSON,
// VOC XML dir, Label Studio JSON).
absl::StatusOr<std::unique_ptr<service::ImportSource>> MakeDetectionSource(
    formats::DetectionFormat format, const std::string& input,
    const DetectionImportOptions& options);

// The same from a COCO or Label Studio document held in memory (an upload);
// `name` stands for the file in errors.
absl::StatusOr<std::unique_ptr<service::ImportSource>>
MakeDetectionSourceFromText(formats::DetectionFormat format,
                            absl::string_view text, const std::string& name,
                            const DetectionImportOptions& options);

}  // namespace tessera::transfer
