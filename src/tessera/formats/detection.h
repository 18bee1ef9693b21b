// Detection data in memory (images with labelled boxes in pixels) and the
// pieces every detection codec shares: streaming writers, output sinks,
// number formatting, box checks and errors that name file, line and field.
#pragma once

#include <cstddef>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tessera::formats {

// One box, the same shape as Tessera's bbox result: class name and the
// top-left corner and size in image pixels. `score` is set for model
// predictions (and carried by the formats that have one).
struct Box {
  std::string label;
  double x = 0;
  double y = 0;
  double w = 0;
  double h = 0;
  std::optional<double> score;

  bool operator==(const Box&) const = default;
};

// One image and its boxes. `file` is the image path relative to the
// dataset's image root, with '/' separators (or, from Label Studio, the
// task's data.image as given). `predictions` holds pre-annotations; only the
// Label Studio codec reads and writes them, the others ignore them.
struct DetectionImage {
  std::string file;
  int width = 0;
  int height = 0;
  std::vector<Box> boxes;
  std::vector<Box> predictions;

  bool operator==(const DetectionImage&) const = default;
};

// A whole data set as a reader returns it. `classes` is the ordered class
// list (YOLO index order, COCO category order); every box label is in it.
// `warnings` name each file or record skipped under skip_invalid.
struct DetectionDataset {
  std::vector<std::string> classes;
  std::vector<DetectionImage> images;
  std::vector<std::string> warnings;
};

// Options shared by the readers. Defaults: no classes file, no images dir,
// any invalid record fails the whole read.
struct ReadOptions {
  // A classes.txt (one name per line) or data.yaml (`names:`). YOLO: the
  // index→name mapping (default: classes.txt or data.yaml found in the
  // labels dir or up to two parents). Other formats: fixes the class order,
  // and any label not in it is an error (default: COCO category order; VOC
  // and Label Studio: names sorted, or the dir's classes.txt for VOC).
  std::string classes_file;
  // YOLO: where the images are (default: the labels dir with its last
  // `labels` path component replaced by `images`, as Ultralytics does).
  // Label Studio: used to read the size of tasks that carry none.
  std::string images_dir;
  // When true, a record that is invalid (a label file without an image, an
  // image without a label file, a bad line or annotation) is skipped and
  // named in DetectionDataset::warnings instead of failing the read. Errors
  // that spoil a whole file (malformed JSON, bad classes file) still fail.
  bool skip_invalid = false;
};

// Streaming writer: Begin once with the class list, Add each image (any
// number; memory stays flat), then Finish. Output is deterministic: it
// depends only on the classes and the images in Add order. Every label must
// be one of the classes; boxes are checked against the image (CheckBox).
// Not thread-safe.
class DetectionWriter {
 public:
  virtual ~DetectionWriter() = default;
  virtual absl::Status Begin(const std::vector<std::string>& classes) = 0;
  virtual absl::Status Add(const DetectionImage& image) = 0;
  virtual absl::Status Finish() = 0;
};

// Where single-file writers (COCO, Label Studio) send bytes, in order.
using ByteSink = std::function<absl::Status(absl::string_view bytes)>;

// Where multi-file writers (YOLO, VOC) put files, by '/'-separated path
// relative to the output root. A server export can implement it as an
// archive stream.
class FileTreeSink {
 public:
  virtual ~FileTreeSink() = default;
  virtual absl::Status WriteFile(absl::string_view relative_path,
                                 absl::string_view contents) = 0;
};

// A FileTreeSink writing under directory `root` (created as needed).
std::unique_ptr<FileTreeSink> MakeDirectorySink(std::string root);

// A file opened for writing and a ByteSink appending to it; Close flushes
// and reports any write error. The file is written in place. The ByteSink
// from sink() refers to this object and must not outlive it.
class FileByteSink {
 public:
  static absl::StatusOr<std::unique_ptr<FileByteSink>> Open(std::string path);
  ~FileByteSink();
  ByteSink sink();
  absl::Status Close();

 private:
  FileByteSink(std::string path, std::FILE* file);
  std::string path_;
  std::FILE* file_;
};

// Feeds a whole data set to `writer` (Begin, Add each, Finish).
absl::Status WriteDataset(const DetectionDataset& dataset,
                          DetectionWriter& writer);

// Shortest decimal that parses back to exactly `v` (std::to_chars), e.g.
// "12.5", "0.1", "640". Used for every pixel or percent coordinate.
std::string FormatDouble(double v);
// Appends FormatDouble(v) to `out`.
void AppendDouble(std::string& out, double v);
// Parses a whole decimal number (no surrounding text); nullopt if malformed
// or not finite.
std::optional<double> ParseDouble(absl::string_view text);

// Boxes may overhang the image edge by this fraction of the image size,
// which absorbs the rounding of 6-significant-digit YOLO coordinates.
inline constexpr double kEdgeTolerance = 1e-5;

// Checks a box against a width x height image: finite numbers, w and h not
// negative, inside the image (within kEdgeTolerance). Returns a message
// ("" when valid) for the caller to locate.
std::string CheckBox(const Box& box, int width, int height);

// kInvalidArgument "FILE:LINE: MESSAGE" (or "FILE: MESSAGE" when line is 0)
// carrying `field` (none when empty), e.g. field "annotations[3].bbox".
absl::Status LocatedError(absl::string_view file, int line,
                          absl::string_view field, absl::string_view message);

// Reads a class list: data.yaml (`names:` as a flow list, a block list or an
// index map) when the name ends in .yaml/.yml, else one name per line
// (blank trailing lines ignored). Empty or duplicate names are errors.
absl::StatusOr<std::vector<std::string>> ReadClassesFile(
    const std::string& path);

// Class name → index, failing on duplicates (naming `source`).
absl::StatusOr<absl::flat_hash_map<std::string, int>> IndexClasses(
    const std::vector<std::string>& classes, absl::string_view source);

// Makes `dataset.classes` exactly `classes`: every box label must be in it
// (else an error naming `source`). Box labels are unchanged.
absl::Status ApplyClassList(DetectionDataset& dataset,
                            const std::vector<std::string>& classes,
                            absl::string_view source);

// Sets `dataset.classes` to the sorted set of labels used by its boxes and
// predictions.
void ClassesFromLabels(DetectionDataset& dataset);

// For JSON that failed to parse: re-parses `text` to find where, and returns
// kInvalidArgument "FILE:LINE: malformed JSON at column C: ..." (falling back
// to `parser_message` when no position is found).
absl::Status JsonSyntaxError(absl::string_view text, absl::string_view file,
                             absl::string_view parser_message);

// Byte offset in `json` (valid JSON) where the value at `path` begins; path
// syntax as in error fields: "images[3].bbox", "[0].data.image". nullopt
// when there is no such value.
std::optional<size_t> LocateJsonPath(absl::string_view json,
                                     absl::string_view path);

// Adds the line to a LocatedError(file, 0, field, ...) about `json`: the
// line where the value named by the field begins. Other statuses are
// returned unchanged.
absl::Status WithJsonLine(absl::Status status, absl::string_view json,
                          absl::string_view file);

// `file` with its extension replaced by `ext` (".txt"); a URL or absolute
// path keeps only its base name, so outputs stay inside the output root.
std::string SidecarPath(absl::string_view file, absl::string_view ext);

}  // namespace tessera::formats
