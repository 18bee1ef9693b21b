// One place that turns "import this, in this format" (CLI flags or API query
// parameters) into an import source.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tessera/service/transfer.h"
#include "tessera/transfer/detection_source.h"
#include "tessera/transfer/text_source.h"

namespace tessera::transfer {

struct ImportRequest {
  // auto | tasks | llm | oasst (JSONL) · images (a folder) · yolo | coco |
  // voc | ls (labelled images).
  std::string format = "auto";
  // A file or folder on disk, or (uploads) `body` with `body_name` naming it
  // in errors. yolo, voc and images need a folder, so no body.
  std::string input;
  std::shared_ptr<const std::string> body;
  std::string body_name = "body";
  TextImportOptions text;
  DetectionImportOptions detection;
};

// Errors name the field: format, path/input, images, labels_as.
absl::StatusOr<std::unique_ptr<service::ImportSource>> MakeImportSource(
    const ImportRequest& request);

}  // namespace tessera::transfer
