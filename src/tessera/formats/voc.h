// Pascal VOC XML: one <annotation> file per image with filename, size and
// objects (name, bndbox xmin/ymin/xmax/ymax in pixels).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/formats/detection.h"

namespace tessera::formats {

// Parses one VOC annotation (`file` names it in errors, with the line and
// the element path as field, e.g. "annotation.object[2].bndbox.xmax").
// The result's `file` is the <filename> as written. Attributes, <pose>,
// <truncated>, <difficult> and unknown elements are ignored; a box must
// have xmax >= xmin, ymax >= ymin and lie inside <size>.
absl::StatusOr<DetectionImage> ParseVocXml(absl::string_view xml,
                                           absl::string_view file);

// The VOC XML for one image (<filename> is the file's base name; numbers
// are shortest exact decimals; text is XML-escaped). Checks labels are
// non-empty and boxes inside the image.
absl::StatusOr<std::string> FormatVocXml(const DetectionImage& image);

// Reads every *.xml under `dir` (recursively, sorted). An image's file is
// the XML's folder relative to `dir` joined with its <filename>. Classes:
// options.classes_file, else `dir`/classes.txt when present, else the
// labels sorted by name. Under skip_invalid a bad file is skipped with a
// warning.
absl::StatusOr<DetectionDataset> ReadVoc(const std::string& dir,
                                         const ReadOptions& options = {});

// Writes <file stem>.xml per image and, on Finish, classes.txt (the class
// order, one per line) so the set reads back with the same class indices.
// `sink` must outlive the writer.
std::unique_ptr<DetectionWriter> MakeVocWriter(FileTreeSink& sink);

}  // namespace tessera::formats
