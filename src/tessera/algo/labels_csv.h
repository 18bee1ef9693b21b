// Fast readers of crowd-label CSV files: `item,worker,label` answers and
// `item,label` truth, categorical or numeric, into dense arrays + interners.
// The file is read in one go and parsed without per-field allocations.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/algo/dense.h"
#include "tessera/algo/numeric.h"

namespace tessera::algo {

// Categorical answers with the names behind the dense indices. Class indices
// are sorted: numerically when every class name is an integer, else
// lexicographically (so "0","1","2" map to 0,1,2 whatever the row order).
// Items and workers are numbered in order of first appearance.
struct CategoricalLabels {
  CategoricalData data;
  Interner items;
  Interner workers;
  Interner classes;
  int64_t duplicates_dropped = 0;  // repeated identical (item, worker, label)
};

// Numeric answers (`label` parsed as a finite double).
struct NumericLabels {
  NumericData data;
  Interner items;
  Interner workers;
  int64_t duplicates_dropped = 0;
};

// What to do when a worker answers the same item more than once.
enum class RepeatPolicy {
  // Identical repeats are dropped (counted in duplicates_dropped); a
  // different answer is an error naming both lines. The CLI contract.
  kRejectConflicts,
  // Every row is kept as an answer, as crowd-kit does; needed to reproduce
  // published numbers on data sets that contain repeats (relevance, adult).
  kKeepAll,
};
struct LabelsCsvOptions {
  RepeatPolicy repeats = RepeatPolicy::kRejectConflicts;
};

// Parses answers from `content`; `file_name` only names the source in errors.
// Header: must contain the columns item, worker, label (any order; extra
// columns are ignored). Errors (kInvalidArgument, message "FILE:LINE: ..."):
// empty file, missing column, a row whose field count differs from the
// header's, an empty item/worker/label, a worker giving one item two
// different labels (identical repeats are dropped and counted), and for the
// numeric kind a label that is not a finite number. Fields may be quoted
// ("a,b" with "" for a quote); CRLF line ends and blank lines are accepted.
absl::StatusOr<CategoricalLabels> ParseCategoricalLabels(
    absl::string_view content, absl::string_view file_name,
    const LabelsCsvOptions& options = {});
absl::StatusOr<NumericLabels> ParseNumericLabels(
    absl::string_view content, absl::string_view file_name,
    const LabelsCsvOptions& options = {});

// Reads the whole file at `path` then parses it as above. A file that cannot
// be opened is kNotFound (or kInvalidArgument for other read errors).
absl::StatusOr<CategoricalLabels> ReadCategoricalLabels(
    const std::string& path, const LabelsCsvOptions& options = {});
absl::StatusOr<NumericLabels> ReadNumericLabels(
    const std::string& path, const LabelsCsvOptions& options = {});

// Truth files: header with columns item and label. Returns one entry per item
// of `items` (-1 where the file has no truth for it); rows naming unknown
// items are skipped (accuracy counts only items that have answers). A truth
// class never used in the answers maps to kUnansweredClass (counted, never
// correct). Errors as above, plus an item listed twice with different labels.
inline constexpr int32_t kUnansweredClass = -2;
absl::StatusOr<std::vector<int32_t>> ParseCategoricalTruth(
    absl::string_view content, absl::string_view file_name,
    const Interner& items, const Interner& classes);
absl::StatusOr<std::vector<int32_t>> ReadCategoricalTruth(
    const std::string& path, const Interner& items, const Interner& classes);
// Numeric truth: NaN where the file has no truth for the item.
absl::StatusOr<std::vector<double>> ParseNumericTruth(
    absl::string_view content, absl::string_view file_name,
    const Interner& items);
absl::StatusOr<std::vector<double>> ReadNumericTruth(const std::string& path,
                                                     const Interner& items);

// Reads a whole file into memory with one read() loop.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace tessera::algo
