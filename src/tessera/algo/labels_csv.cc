// CSV readers for crowd labels: one buffer, a hand-rolled tokenizer yielding
// string_views into it, hash maps keyed by those views, interners built once
// per distinct name at the end.
#include "tessera/algo/labels_csv.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <numeric>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tessera/algo/internal/csv_tokenizer.h"
#include "tessera/algo/internal/grouping.h"

namespace tessera::algo {
namespace {

using internal::Tokenizer;

absl::Status Error(absl::string_view file, int64_t line,
                   absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(file, ":", line, ": ", what));
}

// Maps names (views into the buffer) to dense ids in order of first use.
// Open addressing with keys of up to 16 bytes stored in the slot itself, so
// a lookup touches one cache line instead of chasing the key into the
// (large, cold) file buffer.
class ViewInterner {
 public:
  explicit ViewInterner(size_t expected = 0)
      : number_limit_(
            std::max<int64_t>(1 << 16, 4 * static_cast<int64_t>(expected))) {
    // The hash table grows on demand: numeric ids never touch it, so
    // sizing it for `expected` up front would only cost memory.
    Rehash(16);
  }

  int32_t Intern(absl::string_view key) {
    // Fast path for canonical decimal ids (common in exported data): a
    // direct table, small enough to stay in cache, instead of hashing.
    const int64_t number = SmallNumber(key);
    if (number >= 0 && number < number_limit_) {
      if (static_cast<size_t>(number) >= by_number_.size()) {
        by_number_.resize(std::max<size_t>(number + 1, by_number_.size() * 2),
                          -1);
      }
      int32_t& id = by_number_[number];
      if (id < 0) {
        id = static_cast<int32_t>(names_.size());
        names_.push_back(key);
      }
      return id;
    }
    return InternHashed(key);
  }

 private:
  // 0..kMaxNumber without sign, leading zeros or other characters; else -1.
  static constexpr int64_t kMaxNumber = 1 << 24;
  static int64_t SmallNumber(absl::string_view key) {
    if (key.empty() || key.size() > 8 || (key[0] == '0' && key.size() > 1))
      return -1;
    int64_t v = 0;
    for (char ch : key) {
      if (ch < '0' || ch > '9') return -1;
      v = v * 10 + (ch - '0');
    }
    return v <= kMaxNumber ? v : -1;
  }

  int32_t InternHashed(absl::string_view key) {
    const uint64_t h = Hash(key);
    if (names_.size() * 2 >= slots_.size()) Rehash(slots_.size() * 2);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.id < 0) {
        s.hash = h;
        s.id = static_cast<int32_t>(names_.size());
        s.len = static_cast<uint32_t>(key.size());
        if (key.size() <= sizeof(s.bytes))
          std::memcpy(s.bytes, key.data(), key.size());
        names_.push_back(key);
        return s.id;
      }
      if (s.hash == h && s.len == key.size() && Equal(s, key)) return s.id;
    }
  }

 public:
  const std::vector<absl::string_view>& names() const { return names_; }
  Interner Build() const {
    Interner out;
    for (absl::string_view n : names_) out.Intern(n);
    return out;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    int32_t id = -1;
    uint32_t len = 0;
    char bytes[16];
  };

  static uint64_t Hash(absl::string_view key) {
    if (key.size() <= 16) {
      uint64_t a = 0, b = 0;
      std::memcpy(&a, key.data(), std::min<size_t>(key.size(), 8));
      if (key.size() > 8) std::memcpy(&b, key.data() + 8, key.size() - 8);
      return internal::Mix64(a ^ internal::Mix64(b ^ key.size()));
    }
    return internal::Mix64(absl::Hash<absl::string_view>{}(key));
  }
  bool Equal(const Slot& s, absl::string_view key) const {
    if (key.size() <= sizeof(s.bytes))
      return std::memcmp(s.bytes, key.data(), key.size()) == 0;
    return names_[s.id] == key;
  }
  void Rehash(size_t want) {
    size_t n = 16;
    while (n < want) n *= 2;
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(n, Slot{});
    const size_t mask = n - 1;
    for (const Slot& s : old) {
      if (s.id < 0) continue;
      size_t i = s.hash & mask;
      while (slots_[i].id >= 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  int64_t number_limit_;            // bounds the direct table's size
  std::vector<int32_t> by_number_;  // decimal id -> dense id, -1 = unseen
  std::vector<absl::string_view> names_;
};

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

// Finds answers repeating an (item, worker) pair. Identical repeats are
// marked in `drop`; a different label is an error naming both lines.
template <typename Label>
absl::Status FindDuplicates(absl::string_view content, absl::string_view file,
                            int32_t num_items, int32_t num_workers,
                            const std::vector<int32_t>& item,
                            const std::vector<int32_t>& worker,
                            const std::vector<Label>& label,
                            const std::vector<absl::string_view>& item_names,
                            const std::vector<absl::string_view>& worker_names,
                            std::vector<bool>& drop, int64_t& dropped) {
  const size_t n = item.size();
  std::vector<int64_t> begin(static_cast<size_t>(num_items) + 1, 0);
  for (size_t k = 0; k < n; ++k) ++begin[item[k] + 1];
  for (int32_t j = 0; j < num_items; ++j) begin[j + 1] += begin[j];
  std::vector<int32_t> order(n);
  {
    std::vector<int64_t> next(begin.begin(), begin.end() - 1);
    for (size_t k = 0; k < n; ++k)
      order[next[item[k]]++] = static_cast<int32_t>(k);
  }
  std::vector<int32_t> stamp(num_workers, -1);
  std::vector<int32_t> first(num_workers, 0);
  dropped = 0;
  for (int32_t j = 0; j < num_items; ++j) {
    for (int64_t i = begin[j]; i < begin[j + 1]; ++i) {
      const int32_t k = order[i];
      const int32_t w = worker[k];
      if (stamp[w] != j) {
        stamp[w] = j;
        first[w] = k;
        continue;
      }
      if (label[first[w]] == label[k]) {
        if (drop.empty()) drop.assign(n, false);
        drop[k] = true;
        ++dropped;
        continue;
      }
      return Error(
          file, LineOfRow(content, k),
          absl::StrCat("worker '", std::string(worker_names[w]),
                       "' labels item '", std::string(item_names[j]),
                       "' again with a different answer (first on line ",
                       LineOfRow(content, first[w]), ")"));
    }
  }
  return absl::OkStatus();
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

bool AllIntegers(const std::vector<absl::string_view>& names) {
  for (absl::string_view s : names) {
    long long v;
    const char* b = s.data();
    auto [ptr, ec] = std::from_chars(b, b + s.size(), v);
    if (ec != std::errc() || ptr != b + s.size()) return false;
  }
  return true;
}

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

absl::StatusOr<CategoricalLabels> ParseCategoricalLabels(
    absl::string_view content, absl::string_view file,
    const LabelsCsvOptions& options) {
  Tokenizer tok(content);
  Columns cols;
  if (absl::Status s = ReadHeader(tok, file, true, cols); !s.ok()) return s;
  const size_t guess = CountLines(content);
  ViewInterner items(guess / 4), workers, classes;
  CategoricalLabels out;
  CategoricalData& d = out.data;
  d.item.reserve(guess);
  d.worker.reserve(guess);
  d.label.reserve(guess);
  while (tok.Next()) {
    if (absl::Status s = CheckRow(tok, file, cols, true); !s.ok()) return s;
    const auto& f = tok.fields();
    d.item.push_back(items.Intern(f[cols.item]));
    d.worker.push_back(workers.Intern(f[cols.worker]));
    d.label.push_back(classes.Intern(f[cols.label]));
  }
  if (d.item.empty())
    return Error(file, tok.line(), "no data rows after the header");
  d.num_items = static_cast<int32_t>(items.names().size());
  d.num_workers = static_cast<int32_t>(workers.names().size());
  d.num_classes = static_cast<int32_t>(classes.names().size());
  std::vector<bool> drop;
  if (options.repeats == RepeatPolicy::kRejectConflicts) {
    if (absl::Status s =
            FindDuplicates(content, file, d.num_items, d.num_workers, d.item,
                           d.worker, d.label, items.names(), workers.names(),
                           drop, out.duplicates_dropped);
        !s.ok()) {
      return s;
    }
  }
  if (!drop.empty()) {
    Compact(d.item, drop);
    Compact(d.worker, drop);
    Compact(d.label, drop);
  }
  // Sorted class order.
  const std::vector<absl::string_view>& cn = classes.names();
  std::vector<int32_t> order(cn.size());
  std::iota(order.begin(), order.end(), 0);
  if (AllIntegers(cn)) {
    auto value = [&](int32_t i) {
      long long v = 0;
      std::from_chars(cn[i].data(), cn[i].data() + cn[i].size(), v);
      return v;
    };
    std::sort(order.begin(), order.end(),
              [&](int32_t a, int32_t b) { return value(a) < value(b); });
  } else {
    std::sort(order.begin(), order.end(),
              [&](int32_t a, int32_t b) { return cn[a] < cn[b]; });
  }
  std::vector<int32_t> rank(cn.size());
  for (size_t r = 0; r < order.size(); ++r) {
    rank[order[r]] = static_cast<int32_t>(r);
    out.classes.Intern(cn[order[r]]);
  }
  for (int32_t& y : d.label) y = rank[y];
  out.items = items.Build();
  out.workers = workers.Build();
  return out;
}

absl::StatusOr<NumericLabels> ParseNumericLabels(
    absl::string_view content, absl::string_view file,
    const LabelsCsvOptions& options) {
  Tokenizer tok(content);
  Columns cols;
  if (absl::Status s = ReadHeader(tok, file, true, cols); !s.ok()) return s;
  const size_t guess = CountLines(content);
  ViewInterner items(guess / 4), workers;
  NumericLabels out;
  NumericData& d = out.data;
  d.item.reserve(guess);
  d.worker.reserve(guess);
  d.value.reserve(guess);
  while (tok.Next()) {
    if (absl::Status s = CheckRow(tok, file, cols, true); !s.ok()) return s;
    const auto& f = tok.fields();
    double v;
    if (!ParseDouble(f[cols.label], v)) {
      return Error(file, tok.line(),
                   absl::StrCat("label '", std::string(f[cols.label]),
                                "' is not a finite number"));
    }
    d.item.push_back(items.Intern(f[cols.item]));
    d.worker.push_back(workers.Intern(f[cols.worker]));
    d.value.push_back(v);
  }
  if (d.item.empty())
    return Error(file, tok.line(), "no data rows after the header");
  d.num_items = static_cast<int32_t>(items.names().size());
  d.num_workers = static_cast<int32_t>(workers.names().size());
  std::vector<bool> drop;
  if (options.repeats == RepeatPolicy::kRejectConflicts) {
    if (absl::Status s =
            FindDuplicates(content, file, d.num_items, d.num_workers, d.item,
                           d.worker, d.value, items.names(), workers.names(),
                           drop, out.duplicates_dropped);
        !s.ok()) {
      return s;
    }
  }
  if (!drop.empty()) {
    Compact(d.item, drop);
    Compact(d.worker, drop);
    Compact(d.value, drop);
  }
  out.items = items.Build();
  out.workers = workers.Build();
  return out;
}

absl::StatusOr<CategoricalLabels> ReadCategoricalLabels(
    const std::string& path, const LabelsCsvOptions& options) {
  absl::StatusOr<std::string> content = ReadWholeFile(path);
  if (!content.ok()) return content.status();
  return ParseCategoricalLabels(*content, path, options);
}

absl::StatusOr<NumericLabels> ReadNumericLabels(
    const std::string& path, const LabelsCsvOptions& options) {
  absl::StatusOr<std::string> content = ReadWholeFile(path);
  if (!content.ok()) return content.status();
  return ParseNumericLabels(*content, path, options);
}

namespace {

// Shared truth loop: calls set(item_index, label_view, line) per known item.
template <typename Set>
absl::Status ParseTruth(absl::string_view content, absl::string_view file,
                        const Interner& items, Set set) {
  Tokenizer tok(content);
  Columns cols;
  if (absl::Status s = ReadHeader(tok, file, false, cols); !s.ok()) return s;
  int64_t rows = 0;
  while (tok.Next()) {
    if (absl::Status s = CheckRow(tok, file, cols, false); !s.ok()) return s;
    ++rows;
    const auto& f = tok.fields();
    const int32_t j = items.Find(f[cols.item]);
    if (j < 0) continue;
    if (absl::Status s = set(j, f[cols.label], tok.line()); !s.ok()) return s;
  }
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
