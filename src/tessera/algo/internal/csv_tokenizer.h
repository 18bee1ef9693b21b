// A fast CSV row tokenizer shared by the label readers (algo/labels_csv)
// and the CLI's pairwise and box readers: views into the input, no
// allocation per field.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tessera::algo::internal {

// Splits `content` into rows of fields. Blank lines are skipped; a field may
// be quoted. Field views point into `content` (or into an arena for quoted
// fields with "" escapes) and stay valid while the tokenizer lives.
class Tokenizer {
 public:
  explicit Tokenizer(absl::string_view content) : s_(content) {
    if (s_.size() >= 3 && std::memcmp(s_.data(), "\xEF\xBB\xBF", 3) == 0)
      pos_ = 3;
  }

  // Reads the next non-blank row into fields(); false at end of input.
  // Sets error() on an unterminated quote.
  bool Next() {
    fields_.clear();
    while (pos_ < s_.size()) {
      ++line_;
      const char c = s_[pos_];
      if (c == '\n') {
        ++pos_;
        continue;
      }
      if (c == '\r' && (pos_ + 1 == s_.size() || s_[pos_ + 1] == '\n')) {
        pos_ += pos_ + 1 == s_.size() ? 1 : 2;
        continue;
      }
      return ReadRow();
    }
    // At the end, line() names the line after the last one.
    if (!at_end_) {
      at_end_ = true;
      ++line_;
    }
    return false;
  }

  const std::vector<absl::string_view>& fields() const { return fields_; }
  int64_t line() const { return line_; }
  bool bad_quote() const { return bad_quote_; }

 private:
  bool ReadRow() {
    const char* p = s_.data() + pos_;
    const char* end = s_.data() + s_.size();
    while (true) {
      if (p < end && *p == '"') {
        p = ReadQuoted(p + 1, end);
        if (p == nullptr) {
          bad_quote_ = true;
          pos_ = s_.size();
          return true;
        }
      } else {
        const char* f = p;
        while (p < end && *p != ',' && *p != '\n') ++p;
        const char* fe = p;
        if (fe > f && fe[-1] == '\r' && (p == end || *p == '\n')) --fe;
        fields_.emplace_back(f, static_cast<size_t>(fe - f));
      }
      if (p < end && *p == ',') {
        ++p;
        continue;
      }
      if (p < end && *p == '\r') ++p;  // after a quoted field
      if (p < end && *p != '\n') {     // text after a closing quote
        bad_quote_ = true;
        pos_ = s_.size();
        return true;
      }
      if (p < end && *p == '\n') ++p;
      pos_ = static_cast<size_t>(p - s_.data());
      return true;
    }
  }

  // p points after the opening quote. Returns the position after the closing
  // quote, or nullptr if there is none.
  const char* ReadQuoted(const char* p, const char* end) {
    const char* start = p;
    bool escaped = false;
    while (true) {
      const char* q = static_cast<const char*>(std::memchr(p, '"', end - p));
      if (q == nullptr) return nullptr;
      for (const char* x = p; x < q; ++x) {
        if (*x == '\n') ++line_;
      }
      if (q + 1 < end && q[1] == '"') {
        escaped = true;
        p = q + 2;
        continue;
      }
      absl::string_view raw(start, static_cast<size_t>(q - start));
      if (!escaped) {
        fields_.push_back(raw);
      } else {
        std::string& u = arena_.emplace_back();
        u.reserve(raw.size());
        for (size_t i = 0; i < raw.size(); ++i) {
          u.push_back(raw[i]);
          if (raw[i] == '"') ++i;
        }
        fields_.emplace_back(u);
      }
      return q + 1;
    }
  }

  absl::string_view s_;
  size_t pos_ = 0;
  int64_t line_ = 0;
  bool at_end_ = false;
  bool bad_quote_ = false;
  std::vector<absl::string_view> fields_;
  std::deque<std::string> arena_;
};

}  // namespace tessera::algo::internal
