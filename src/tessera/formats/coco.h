// COCO "instances" JSON for detection: images (with sizes), categories and
// annotations with bbox [x,y,w,h] in pixels, area and iscrowd.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/formats/detection.h"

namespace tessera::formats {

// Parses COCO instances JSON (`file` names it in errors). Classes are the
// categories in id order; images keep the file's order and each image's
// boxes the annotations' order. iscrowd=1 annotations are left out (one
// warning counts them). Checked: unique image/annotation/category ids and
// category names, unique file names, positive image sizes, annotations that
// name an existing image and category, boxes inside their image. Errors
// name the JSON path as the field, e.g. "annotations[12].bbox", and the line
// where that value starts; a syntax error names the line and column.
// `options.classes_file` fixes the class order (every category must be in it).
absl::StatusOr<DetectionDataset> ParseCoco(absl::string_view json,
                                           absl::string_view file,
                                           const ReadOptions& options = {});
// ParseCoco on the file at `path`.
absl::StatusOr<DetectionDataset> ReadCoco(const std::string& path,
                                          const ReadOptions& options = {});

// Streams COCO instances JSON to `sink`: categories (ids 1..N in class
// order) are written by Begin, each image as it is added (ids 1.. in Add
// order), and the annotations (ids 1.. in image then box order, area = w*h,
// iscrowd 0, "score" when the box has one) are spooled to an unnamed temp
// file and appended by Finish, so memory stays flat. Numbers are written
// as the shortest decimal that reads back exactly.
std::unique_ptr<DetectionWriter> MakeCocoWriter(ByteSink sink);

}  // namespace tessera::formats
