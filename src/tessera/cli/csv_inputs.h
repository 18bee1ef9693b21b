// Readers of the pairwise-comparison and bounding-box CSV files of `tessera
// aggregate` and `tessera agreement` (errors "FILE:LINE: what", as in
// algo/labels_csv.h), and the exit-status rule shared by those commands.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/algo/boxes.h"
#include "tessera/algo/dense.h"
#include "tessera/algo/labels_csv.h"
#include "tessera/algo/pairwise.h"

namespace tessera::cli {

// Exit statuses of the file-based commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // anything but bad input
inline constexpr int kExitBadInput = 2;

// kInvalidArgument (bad input or options) and kNotFound (an input file that
// does not exist) are bad input: exit 2. Anything else: exit 1.
int ExitCodeFor(const absl::Status& status);
// Prints "tessera: MESSAGE" to `err` and returns ExitCodeFor(status).
int ReportFailure(const absl::Status& status, std::ostream& err);

// Pairwise comparisons, header `worker,left,right,winner` (any order, extra
// columns ignored); winner is `left`, `right` or `tie`. Items (from both
// columns) and workers are numbered in order of first appearance.
struct PairwiseLabels {
  algo::PairwiseData data;
  algo::Interner items;
  algo::Interner workers;
  // Repeated identical comparisons by one worker (the same unordered pair
  // with the same outcome) dropped under RepeatPolicy::kRejectConflicts.
  int64_t duplicates_dropped = 0;
};

// Errors (kInvalidArgument, "FILE:LINE: ..."): empty file, missing column,
// ragged row, empty field, unknown winner, left == right, and under
// kRejectConflicts a worker comparing one pair twice with different
// outcomes (`a,b,left` and `b,a,right` are the same answer). Fields may be
// quoted; CRLF and blank lines are accepted.
absl::StatusOr<PairwiseLabels> ParsePairwiseLabels(
    absl::string_view content, absl::string_view file_name,
    algo::RepeatPolicy repeats = algo::RepeatPolicy::kRejectConflicts);
absl::StatusOr<PairwiseLabels> ReadPairwiseLabels(
    const std::string& path,
    algo::RepeatPolicy repeats = algo::RepeatPolicy::kRejectConflicts);

// Crowd boxes, header `image,worker,x1,y1,x2,y2` plus an optional `label`
// column. A row whose four coordinates are all empty means "saw the image,
// drew nothing" (a view). Without a label column every box has the label
// named "" (index 0).
struct BoxLabels {
  algo::BoxAnnotations data;
  algo::Interner images;
  algo::Interner workers;
  algo::Interner labels;
  bool has_label_column = false;
  int64_t rows = 0;  // data rows read (boxes + views)
};

// Errors: empty file, missing column, ragged row, empty image or worker, a
// coordinate that is not a finite number, some but not all coordinates
// empty, an empty label on a row with a box.
absl::StatusOr<BoxLabels> ParseBoxLabels(absl::string_view content,
                                         absl::string_view file_name);
absl::StatusOr<BoxLabels> ReadBoxLabels(const std::string& path);

// Truth boxes, header `image,x1,y1,x2,y2` (+ `label` exactly when the crowd
// file has one). A row with empty coordinates lists an image with no object.
struct BoxTruth {
  algo::BoxSet boxes;
  // Every image the file lists (with or without boxes), sorted, unique: the
  // images an evaluation should cover.
  std::vector<int32_t> images;
};

// Image and label names are resolved through (and new ones added to)
// `crowd.images` and `crowd.labels`, so indices are comparable with the
// crowd's. Errors as ParseBoxLabels, plus a label column present in only
// one of the two files.
absl::StatusOr<BoxTruth> ParseBoxTruth(absl::string_view content,
                                       absl::string_view file_name,
                                       BoxLabels& crowd);
absl::StatusOr<BoxTruth> ReadBoxTruth(const std::string& path,
                                      BoxLabels& crowd);

// Writes `content` to `path` atomically: a temporary file in the same
// directory, renamed over `path` only when fully written. On failure nothing
// is left behind (kPermissionDenied / kInternal naming the path).
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view content);

// Appends `field` to `out` as one CSV field, quoted when it holds a comma,
// quote, CR or LF.
void AppendCsvField(std::string& out, absl::string_view field);

}  // namespace tessera::cli
