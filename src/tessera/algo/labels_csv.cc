// CSV readers for crowd labels: one buffer, a hand-rolled tokenizer yielding
// string_views into it, names interned straight into the result's
// interners (numeric item ids after the file is released, partitioned by
// value); the repeat check runs after the file is released too.
#include "tessera/algo/labels_csv.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tessera/algo/internal/csv_tokenizer.h"
#include "tessera/algo/internal/grouping.h"
#include "tessera/algo/internal/memory.h"

namespace tessera::algo {
namespace {

using internal::Tokenizer;

absl::Status Error(absl::string_view file, int64_t line,
                   absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(file, ":", line, ": ", what));
}

struct Columns {
  size_t count = 0;
  int item = -1, worker = -1, label = -1;
};

// Finds the required columns in the header row.
absl::Status ReadHeader(Tokenizer& tok, absl::string_view file,
                        bool need_worker, Columns& cols) {
  if (!tok.Next()) return Error(file, 1, "empty file: expected a header row");
  if (tok.bad_quote()) return Error(file, tok.line(), "malformed quoted field");
  const auto& f = tok.fields();
  cols.count = f.size();
  for (size_t i = 0; i < f.size(); ++i) {
    const int idx = static_cast<int>(i);
    if (f[i] == "item" || f[i] == "task") {
      if (cols.item < 0) cols.item = idx;
    } else if (f[i] == "worker") {
      if (cols.worker < 0) cols.worker = idx;
    } else if (f[i] == "label") {
      if (cols.label < 0) cols.label = idx;
    }
  }
  std::string missing;
  if (cols.item < 0) missing = "item";
  if (need_worker && cols.worker < 0)
    absl::StrAppend(&missing, missing.empty() ? "" : ", ", "worker");
  if (cols.label < 0)
    absl::StrAppend(&missing, missing.empty() ? "" : ", ", "label");
  if (!missing.empty()) {
    return Error(
        file, tok.line(),
        absl::StrCat("missing column(s) ", missing, " in header (expected ",
                     need_worker ? "item,worker,label" : "item,label", ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckRow(const Tokenizer& tok, absl::string_view file,
                      const Columns& cols, bool need_worker) {
  if (tok.bad_quote()) return Error(file, tok.line(), "malformed quoted field");
  const auto& f = tok.fields();
  if (f.size() != cols.count) {
    return Error(file, tok.line(),
                 absl::StrCat("ragged row: expected ", cols.count,
                              " fields, found ", f.size()));
  }
  if (f[cols.item].empty()) return Error(file, tok.line(), "empty item");
  if (need_worker && f[cols.worker].empty())
    return Error(file, tok.line(), "empty worker");
  if (f[cols.label].empty()) return Error(file, tok.line(), "empty label");
  return absl::OkStatus();
}

// Upper bound on the number of rows, to size the arrays once.
size_t CountLines(absl::string_view s) {
  size_t n = 1;
  const char* p = s.data();
  const char* end = p + s.size();
  while ((p = static_cast<const char*>(std::memchr(p, '\n', end - p))) !=
         nullptr) {
    ++n;
    ++p;
  }
  return n;
}

bool ParseDouble(absl::string_view s, double& out) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b < e && *b == '+') ++b;
  auto [ptr, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && ptr == e && std::isfinite(out);
}

// Line number of the row-th data row (0-based), for error messages only.
int64_t LineOfRow(absl::string_view content, int64_t row) {
  Tokenizer tok(content);
  tok.Next();  // header
  for (int64_t r = 0; r <= row; ++r) tok.Next();
  return tok.line();
}

// Answer `row` repeats the (item, worker) pair of answer `first` with a
// different label.
struct Conflict {
  int64_t row = 0;
  int64_t first = 0;
  int32_t item = 0;
  int32_t worker = 0;
};

// Finds answers repeating an (item, worker) pair. Identical repeats are
// marked in `drop` (left empty when there are none); returns the first
// different repeat in row order, if any. Workers are grouped by item with a
// counting sort, so the common case (no repeats) is two sequential scans;
// only items with a repeat are looked at row by row.
template <typename Label>
std::optional<Conflict> FindRepeats(int32_t num_items, int32_t num_workers,
                                    const std::vector<int32_t>& item,
                                    const std::vector<int32_t>& worker,
                                    const std::vector<Label>& label,
                                    std::vector<bool>& drop, int64_t& dropped) {
  const size_t n = item.size();
  dropped = 0;
  std::vector<bool> repeated;  // per item; empty while none is
  {
    std::vector<int64_t> begin;
    std::vector<int32_t> by_item;
    internal::ResizeHuge(by_item, n);
    internal::SortByItem<1>(item, num_items, {worker.data()}, {by_item.data()},
                            begin);
    std::vector<int32_t> stamp(num_workers, -1);
    for (int32_t j = 0; j < num_items; ++j) {
      for (int64_t i = begin[j]; i < begin[j + 1]; ++i) {
        const int32_t w = by_item[i];
        if (stamp[w] == j) {
          if (repeated.empty()) repeated.assign(num_items, false);
          repeated[j] = true;
          break;
        }
        stamp[w] = j;
      }
    }
  }
  if (repeated.empty()) return std::nullopt;
  absl::flat_hash_map<std::pair<int32_t, int32_t>, int64_t> first;
  for (size_t k = 0; k < n; ++k) {
    if (!repeated[item[k]]) continue;
    const auto [it, inserted] =
        first.try_emplace({item[k], worker[k]}, static_cast<int64_t>(k));
    if (inserted) continue;
    if (label[it->second] == label[k]) {
      if (drop.empty()) drop.assign(n, false);
      drop[k] = true;
      ++dropped;
      continue;
    }
    return Conflict{static_cast<int64_t>(k), it->second, item[k], worker[k]};
  }
  return std::nullopt;
}

// The error for a conflict; `content` (the file's text, if still at hand)
// gives the line numbers, else the message names data rows.
absl::Status ConflictError(const absl::string_view* content,
                           absl::string_view file, const Conflict& c,
                           const Interner& items, const Interner& workers) {
  const std::string what =
      absl::StrCat("worker '", workers.Name(c.worker), "' labels item '",
                   items.Name(c.item), "' again with a different answer");
  if (content == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": data row ", c.row + 1, ": ", what,
                     " (first on data row ", c.first + 1, ")"));
  }
  return Error(file, LineOfRow(*content, c.row),
               absl::StrCat(what, " (first on line ",
                            LineOfRow(*content, c.first), ")"));
}

template <typename T>
void Compact(std::vector<T>& v, const std::vector<bool>& drop) {
  size_t out = 0;
  for (size_t k = 0; k < v.size(); ++k) {
    if (!drop[k]) v[out++] = v[k];
  }
  v.resize(out);
  v.shrink_to_fit();
}

// Reads the answer rows: workers are interned in batches of rows (InternAll
// overlaps the lookups of random ids); on_label(field, line) takes each
// row's label. Item ids that are decimal numbers for the direct table are
// kept as numbers: returns how many leading rows hold one in `item`, for
// FinishItems to intern (after the caller has released the text, as
// Interner::InternNumbers needs a temporary). The first other item name
// interns the rows before it, and items are interned in batches from then
// on. Identical rows are kept; see FindRepeats.
template <typename OnLabel>
absl::StatusOr<size_t> ReadAnswerRows(
    absl::string_view content, absl::string_view file, size_t expected_rows,
    Interner& items, Interner& workers, std::vector<int32_t>& item,
    std::vector<int32_t>& worker, OnLabel on_label) {
  Tokenizer tok(content);
  Columns cols;
  if (absl::Status s = ReadHeader(tok, file, true, cols); !s.ok()) return s;
  item.reserve(expected_rows);
  worker.reserve(expected_rows);
  // Lets numeric item ids up to about one per row use the direct table.
  items.Reserve(static_cast<int64_t>(expected_rows / 4));
  constexpr size_t kBatch = 256;
  absl::string_view item_keys[kBatch], worker_keys[kBatch];
  size_t n = 0;
  bool numbers = true;  // every item so far is a number in `item`
  auto flush = [&] {
    const size_t at = item.size();
    item.resize(at + n);
    worker.resize(at + n);
    size_t i = 0;
    if (numbers) {
      i = items.DirectNumbers(item_keys, n, item.data() + at);
      if (i < n) {
        items.InternNumbers(item.data(), at + i);
        numbers = false;
      }
    }
    if (i < n) items.InternAll(item_keys + i, n - i, item.data() + at + i);
    workers.InternAll(worker_keys, n, worker.data() + at);
    n = 0;
  };
  while (tok.Next()) {
    if (absl::Status s = CheckRow(tok, file, cols, true); !s.ok()) return s;
    const auto& f = tok.fields();
    if (absl::Status s = on_label(f[cols.label], tok.line()); !s.ok()) {
      return s;
    }
    // Views into `content` or the tokenizer's arena: valid until it dies.
    item_keys[n] = f[cols.item];
    worker_keys[n] = f[cols.worker];
    if (++n == kBatch) flush();
  }
  flush();
  if (item.empty())
    return Error(file, tok.line(), "no data rows after the header");
  return numbers ? item.size() : 0;
}

// Interns the item numbers ReadAnswerRows left in the first `numbers` rows
// and sets the counts.
template <typename Data>
void FinishItems(Data& d, Interner& items, Interner& workers, size_t numbers) {
  items.InternNumbers(d.item.data(), numbers);
  d.num_items = items.size();
  d.num_workers = workers.size();
}

// Fills `out` from the rows; classes in order of first appearance. Returns
// the row count for FinishItems.
absl::StatusOr<size_t> ReadCategoricalRows(absl::string_view content,
                                           absl::string_view file,
                                           CategoricalLabels& out) {
  CategoricalData& d = out.data;
  const size_t expected = CountLines(content);
  d.label.reserve(expected);
  absl::StatusOr<size_t> numbers =
      ReadAnswerRows(content, file, expected, out.items, out.workers, d.item,
                     d.worker, [&](absl::string_view label, int64_t) {
                       d.label.push_back(out.classes.Intern(label));
                       return absl::OkStatus();
                     });
  d.num_classes = out.classes.size();
  return numbers;
}

absl::StatusOr<size_t> ReadNumericRows(absl::string_view content,
                                       absl::string_view file,
                                       NumericLabels& out) {
  NumericData& d = out.data;
  const size_t expected = CountLines(content);
  d.value.reserve(expected);
  return ReadAnswerRows(content, file, expected, out.items, out.workers, d.item,
                        d.worker, [&](absl::string_view label, int64_t line) {
                          double v;
                          if (!ParseDouble(label, v)) {
                            return Error(
                                file, line,
                                absl::StrCat("label '", std::string(label),
                                             "' is not a finite number"));
                          }
                          d.value.push_back(v);
                          return absl::OkStatus();
                        });
}

// Applies the repeat policy: drops identical repeats, or returns the first
// conflicting one.
template <typename Data, typename Label>
std::optional<Conflict> DropRepeats(Data& d, std::vector<Label>& label,
                                    const LabelsCsvOptions& options,
                                    int64_t& dropped) {
  if (options.repeats != RepeatPolicy::kRejectConflicts) return std::nullopt;
  std::vector<bool> drop;
  std::optional<Conflict> c = FindRepeats(d.num_items, d.num_workers, d.item,
                                          d.worker, label, drop, dropped);
  if (c.has_value()) return c;
  if (!drop.empty()) {
    Compact(d.item, drop);
    Compact(d.worker, drop);
    Compact(label, drop);
  }
  return std::nullopt;
}

// Renumbers classes in sorted order (numeric if all are integers).
void SortClasses(CategoricalLabels& out) {
  const Interner& seen = out.classes;
  const int32_t k = seen.size();
  std::vector<int32_t> order(k);
  std::iota(order.begin(), order.end(), 0);
  bool integers = true;
  std::vector<long long> value(k, 0);
  for (int32_t c = 0; c < k && integers; ++c) {
    const std::string& s = seen.Name(c);
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value[c]);
    integers = ec == std::errc() && ptr == s.data() + s.size();
  }
  if (integers) {
    std::sort(order.begin(), order.end(),
              [&](int32_t a, int32_t b) { return value[a] < value[b]; });
  } else {
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      return seen.Name(a) < seen.Name(b);
    });
  }
  Interner sorted;
  std::vector<int32_t> rank(k);
  for (int32_t r = 0; r < k; ++r) {
    rank[order[r]] = r;
    sorted.Intern(seen.Name(order[r]));
  }
  for (int32_t& y : out.data.label) y = rank[y];
  out.classes = std::move(sorted);
}

// Frees a string's buffer.
void Release(std::string& s) { std::string().swap(s); }

}  // namespace

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const std::string msg =
        absl::StrCat(path, ": cannot open: ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(msg)
                         : absl::InvalidArgumentError(msg);
  }
  std::string buf;
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0)
    buf.reserve(static_cast<size_t>(st.st_size) +
                1);  // +1: EOF read needs no growth
  size_t len = 0;
  buf.resize(std::max<size_t>(buf.capacity(), 1 << 16));
  while (true) {
    if (len == buf.size()) buf.resize(buf.size() * 2);
    const ssize_t got = ::read(fd, buf.data() + len, buf.size() - len);
    if (got < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": read failed: ", std::strerror(err)));
    }
    if (got == 0) break;
    len += static_cast<size_t>(got);
  }
  ::close(fd);
  buf.resize(len);
  return buf;
}

namespace {

// The conflict error for a file whose text was released: reads it again
// for the line numbers.
absl::Status ConflictErrorFromFile(const std::string& path, const Conflict& c,
                                   const Interner& items,
                                   const Interner& workers) {
  absl::StatusOr<std::string> content = ReadWholeFile(path);
  if (!content.ok()) return ConflictError(nullptr, path, c, items, workers);
  const absl::string_view view = *content;
  return ConflictError(&view, path, c, items, workers);
}

}  // namespace

absl::StatusOr<CategoricalLabels> ParseCategoricalLabels(
    absl::string_view content, absl::string_view file,
    const LabelsCsvOptions& options) {
  CategoricalLabels out;
  absl::StatusOr<size_t> numbers = ReadCategoricalRows(content, file, out);
  if (!numbers.ok()) return numbers.status();
  FinishItems(out.data, out.items, out.workers, *numbers);
  if (std::optional<Conflict> c = DropRepeats(out.data, out.data.label, options,
                                              out.duplicates_dropped);
      c.has_value()) {
    return ConflictError(&content, file, *c, out.items, out.workers);
  }
  SortClasses(out);
  return out;
}

absl::StatusOr<NumericLabels> ParseNumericLabels(
    absl::string_view content, absl::string_view file,
    const LabelsCsvOptions& options) {
  NumericLabels out;
  absl::StatusOr<size_t> numbers = ReadNumericRows(content, file, out);
  if (!numbers.ok()) return numbers.status();
  FinishItems(out.data, out.items, out.workers, *numbers);
  if (std::optional<Conflict> c = DropRepeats(out.data, out.data.value, options,
                                              out.duplicates_dropped);
      c.has_value()) {
    return ConflictError(&content, file, *c, out.items, out.workers);
  }
  return out;
}

// The Read functions release the file's text before interning numeric item
// ids and before the repeat check, so the text and the working memory of
// either are never resident together.
absl::StatusOr<CategoricalLabels> ReadCategoricalLabels(
    const std::string& path, const LabelsCsvOptions& options) {
  absl::StatusOr<std::string> content = ReadWholeFile(path);
  if (!content.ok()) return content.status();
  CategoricalLabels out;
  absl::StatusOr<size_t> numbers = ReadCategoricalRows(*content, path, out);
  if (!numbers.ok()) return numbers.status();
  Release(*content);
  FinishItems(out.data, out.items, out.workers, *numbers);
  if (std::optional<Conflict> c = DropRepeats(out.data, out.data.label, options,
                                              out.duplicates_dropped);
      c.has_value()) {
    return ConflictErrorFromFile(path, *c, out.items, out.workers);
  }
  SortClasses(out);
  return out;
}

absl::StatusOr<NumericLabels> ReadNumericLabels(
    const std::string& path, const LabelsCsvOptions& options) {
  absl::StatusOr<std::string> content = ReadWholeFile(path);
  if (!content.ok()) return content.status();
  NumericLabels out;
  absl::StatusOr<size_t> numbers = ReadNumericRows(*content, path, out);
  if (!numbers.ok()) return numbers.status();
  Release(*content);
  FinishItems(out.data, out.items, out.workers, *numbers);
  if (std::optional<Conflict> c = DropRepeats(out.data, out.data.value, options,
                                              out.duplicates_dropped);
      c.has_value()) {
    return ConflictErrorFromFile(path, *c, out.items, out.workers);
  }
  return out;
}

namespace {

// Shared truth loop: calls set(item_index, label_view, line) per known item,
// in row order. Rows are handed over in batches, with touch(item_index)
// called a few rows ahead (a prefetch of the item's slot: truth rows come
// in item-name order, so the slots of a large table are hit at random).
template <typename Touch, typename Set>
absl::Status ParseTruth(absl::string_view content, absl::string_view file,
                        const Interner& items, Touch touch, Set set) {
  Tokenizer tok(content);
  Columns cols;
  if (absl::Status s = ReadHeader(tok, file, false, cols); !s.ok()) return s;
  struct Row {
    int32_t item;
    absl::string_view label;  // into `content` or the tokenizer's arena
    int64_t line;
  };
  constexpr size_t kBatch = 256, kAhead = 16;
  Row batch[kBatch];
  size_t n = 0;
  auto flush = [&]() -> absl::Status {
    for (size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) touch(batch[i + kAhead].item);
      if (absl::Status s = set(batch[i].item, batch[i].label, batch[i].line);
          !s.ok()) {
        return s;
      }
    }
    n = 0;
    return absl::OkStatus();
  };
  int64_t rows = 0;
  while (tok.Next()) {
    if (absl::Status s = CheckRow(tok, file, cols, false); !s.ok()) {
      // An earlier row's error comes first.
      if (absl::Status e = flush(); !e.ok()) return e;
      return s;
    }
    ++rows;
    const auto& f = tok.fields();
    const int32_t j = items.Find(f[cols.item]);
    if (j < 0) continue;
    batch[n++] = Row{j, f[cols.label], tok.line()};
    if (n == kBatch) {
      if (absl::Status s = flush(); !s.ok()) return s;
    }
  }
  if (absl::Status s = flush(); !s.ok()) return s;
  if (rows == 0)
    return Error(file, tok.line(), "no data rows after the header");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<int32_t>> ParseCategoricalTruth(
    absl::string_view content, absl::string_view file, const Interner& items,
    const Interner& classes) {
  std::vector<int32_t> truth(items.size(), -1);
  absl::Status s = ParseTruth(
      content, file, items,
      [&](int32_t j) { __builtin_prefetch(&truth[j], 1); },
      [&](int32_t j, absl::string_view label, int64_t line) -> absl::Status {
        int32_t c = classes.Find(label);
        if (c < 0) c = kUnansweredClass;
        if (truth[j] != -1 && truth[j] != c) {
          return Error(file, line,
                       absl::StrCat("item '", items.Name(j),
                                    "' has two different truth labels"));
        }
        truth[j] = c;
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return truth;
}

absl::StatusOr<std::vector<int32_t>> ReadCategoricalTruth(
    const std::string& path, const Interner& items, const Interner& classes) {
  absl::StatusOr<std::string> content = ReadWholeFile(path);
  if (!content.ok()) return content.status();
  return ParseCategoricalTruth(*content, path, items, classes);
}

absl::StatusOr<std::vector<double>> ParseNumericTruth(absl::string_view content,
                                                      absl::string_view file,
                                                      const Interner& items) {
  std::vector<double> truth(items.size(),
                            std::numeric_limits<double>::quiet_NaN());
  absl::Status s = ParseTruth(
      content, file, items,
      [&](int32_t j) { __builtin_prefetch(&truth[j], 1); },
      [&](int32_t j, absl::string_view label, int64_t line) -> absl::Status {
        double v;
        if (!ParseDouble(label, v)) {
          return Error(file, line,
                       absl::StrCat("label '", std::string(label),
                                    "' is not a finite number"));
        }
        if (!std::isnan(truth[j]) && truth[j] != v) {
          return Error(file, line,
                       absl::StrCat("item '", items.Name(j),
                                    "' has two different truth values"));
        }
        truth[j] = v;
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return truth;
}

absl::StatusOr<std::vector<double>> ReadNumericTruth(const std::string& path,
                                                     const Interner& items) {
  absl::StatusOr<std::string> content = ReadWholeFile(path);
  if (!content.ok()) return content.status();
  return ParseNumericTruth(*content, path, items);
}

}  // namespace tessera::algo
