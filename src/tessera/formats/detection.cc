// Shared detection pieces: sinks, number formatting, box checks, class lists.
#include "tessera/formats/detection.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"

namespace tessera::formats {
namespace {

namespace fs = std::filesystem;

class DirectorySink : public FileTreeSink {
 public:
  explicit DirectorySink(std::string root) : root_(std::move(root)) {}

  absl::Status WriteFile(absl::string_view relative_path,
                         absl::string_view contents) override {
    fs::path path = fs::path(root_) / std::string(relative_path);
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      return absl::InternalError(absl::StrCat(
          "cannot create ", path.parent_path().string(), ": ", ec.message()));
    }
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) {
      return absl::InternalError(absl::StrCat("cannot write ", path.string(),
                                              ": ", std::strerror(errno)));
    }
    bool ok =
        std::fwrite(contents.data(), 1, contents.size(), f) == contents.size();
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) {
      return absl::InternalError(absl::StrCat("cannot write ", path.string()));
    }
    return absl::OkStatus();
  }

 private:
  std::string root_;
};

// Removes one level of YAML quoting from a scalar.
absl::StatusOr<std::string> YamlScalar(absl::string_view text,
                                       absl::string_view file, int line) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) return LocatedError(file, line, "names", "empty name");
  if (text.front() == '\'' || text.front() == '"') {
    char q = text.front();
    if (text.size() < 2 || text.back() != q) {
      return LocatedError(file, line, "names", "unterminated quoted name");
    }
    absl::string_view body = text.substr(1, text.size() - 2);
    std::string out;
    for (size_t i = 0; i < body.size(); ++i) {
      char c = body[i];
      if (q == '\'' && c == '\'' && i + 1 < body.size() &&
          body[i + 1] == '\'') {
        out.push_back('\'');
        ++i;
      } else if (q == '"' && c == '\\' && i + 1 < body.size()) {
        char e = body[++i];
        out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
      } else {
        out.push_back(c);
      }
    }
    return out;
  }
  // Plain scalar: drop a trailing comment.
  size_t hash = text.find(" #");
  if (hash != absl::string_view::npos) {
    text = absl::StripAsciiWhitespace(text.substr(0, hash));
  }
  return std::string(text);
}

// Splits a YAML flow list body ("'a', 'b, c', d") at top-level commas.
std::vector<std::string> SplitFlow(absl::string_view body) {
  std::vector<std::string> parts;
  std::string cur;
  char quote = 0;
  for (char c : body) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      cur.push_back(c);
    } else if (c == '\'' || c == '"') {
      quote = c;
      cur.push_back(c);
    } else if (c == ',') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!absl::StripAsciiWhitespace(cur).empty()) parts.push_back(cur);
  return parts;
}

absl::StatusOr<std::vector<std::string>> ParseDataYaml(absl::string_view text,
                                                       absl::string_view file) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  for (std::string& l : lines) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::string_view l = lines[i];
    if (!absl::ConsumePrefix(&l, "names:")) continue;
    int line = static_cast<int>(i) + 1;
    l = absl::StripAsciiWhitespace(l);
    std::vector<std::string> names;
    if (absl::StartsWith(l, "[")) {
      std::string flow(l);
      size_t j = i;
      while (flow.find(']') == std::string::npos && ++j < lines.size()) {
        absl::StrAppend(&flow, " ", lines[j]);
      }
      size_t close = flow.rfind(']');
      if (close == std::string::npos) {
        return LocatedError(file, line, "names", "unterminated [ list");
      }
      for (const std::string& part :
           SplitFlow(absl::string_view(flow).substr(1, close - 1))) {
        TS_ASSIGN_OR_RETURN(std::string name, YamlScalar(part, file, line));
        names.push_back(std::move(name));
      }
    } else if (l.empty() || absl::StartsWith(l, "#")) {
      // Block list ("- a") or index map ("0: a") on indented lines.
      for (size_t j = i + 1; j < lines.size(); ++j) {
        absl::string_view e = lines[j];
        if (absl::StripAsciiWhitespace(e).empty()) continue;
        if (e.front() != ' ' && e.front() != '\t' && e.front() != '-') break;
        e = absl::StripAsciiWhitespace(e);
        if (absl::StartsWith(e, "#")) continue;
        int eline = static_cast<int>(j) + 1;
        if (absl::ConsumePrefix(&e, "-")) {
          TS_ASSIGN_OR_RETURN(std::string name, YamlScalar(e, file, eline));
          names.push_back(std::move(name));
          continue;
        }
        size_t colon = e.find(':');
        int index = -1;
        if (colon == absl::string_view::npos ||
            !absl::SimpleAtoi(e.substr(0, colon), &index)) {
          return LocatedError(file, eline, "names",
                              "expected \"- NAME\" or \"INDEX: NAME\"");
        }
        if (index != static_cast<int>(names.size())) {
          return LocatedError(
              file, eline, "names",
              absl::StrCat("class index ", index, " out of order (expected ",
                           names.size(), ")"));
        }
        TS_ASSIGN_OR_RETURN(std::string name,
                            YamlScalar(e.substr(colon + 1), file, eline));
        names.push_back(std::move(name));
      }
    } else {
      return LocatedError(file, line, "names",
                          "expected a list or an index map after names:");
    }
    if (names.empty()) {
      return LocatedError(file, line, "names", "no class names");
    }
    return names;
  }
  return LocatedError(file, 0, "names", "no names: key");
}

// Accepts everything and records where parsing failed.
class LocatingSax : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    position_ = position;
    message_ = ex.what();
    return false;
  }

  std::optional<std::size_t> position_;
  std::string message_;
};

}  // namespace

absl::Status JsonSyntaxError(absl::string_view text, absl::string_view file,
                             absl::string_view parser_message) {
  LocatingSax sax;
  nlohmann::json::sax_parse(text.begin(), text.end(), &sax,
                            nlohmann::json::input_format_t::json, true);
  if (!sax.position_) {
    return LocatedError(file, 0, "",
                        absl::StrCat("malformed JSON: ", parser_message));
  }
  size_t pos = std::min(*sax.position_, text.size());
  // nlohmann counts the offending character itself.
  size_t at = pos > 0 ? pos - 1 : 0;
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  std::string why = sax.message_;
  size_t colon = why.find(": ");
  if (colon != std::string::npos && absl::StartsWith(why, "[json.exception")) {
    why = why.substr(colon + 2);
  }
  if (pos >= text.size()) {
    why = absl::StrCat("ends early (truncated?): ", why);
  }
  return LocatedError(file, line, "",
                      absl::StrCat("malformed JSON at column ",
                                   at - line_start + 1, ": ", why));
}

namespace {

// A minimal scanner over JSON already known to be valid.
class JsonScanner {
 public:
  explicit JsonScanner(absl::string_view s) : s_(s) {}

  size_t SkipSpace(size_t pos) const {
    while (pos < s_.size() && (s_[pos] == ' ' || s_[pos] == '\n' ||
                               s_[pos] == '\r' || s_[pos] == '\t')) {
      ++pos;
    }
    return pos;
  }

  // At '"': the position after the closing quote.
  size_t SkipString(size_t pos) const {
    for (++pos; pos < s_.size(); ++pos) {
      if (s_[pos] == '\\') {
        ++pos;
      } else if (s_[pos] == '"') {
        return pos + 1;
      }
    }
    return s_.size();
  }

  size_t SkipValue(size_t pos) const {
    pos = SkipSpace(pos);
    if (pos >= s_.size()) return pos;
    if (s_[pos] == '"') return SkipString(pos);
    if (s_[pos] == '{' || s_[pos] == '[') {
      int depth = 0;
      while (pos < s_.size()) {
        char c = s_[pos];
        if (c == '"') {
          pos = SkipString(pos);
          continue;
        }
        if (c == '{' || c == '[') ++depth;
        if (c == '}' || c == ']') {
          if (--depth == 0) return pos + 1;
        }
        ++pos;
      }
      return pos;
    }
    while (pos < s_.size() && s_[pos] != ',' && s_[pos] != '}' &&
           s_[pos] != ']' && s_[pos] != ' ' && s_[pos] != '\n' &&
           s_[pos] != '\r' && s_[pos] != '\t') {
      ++pos;
    }
    return pos;
  }

  // Position of element `index` of the array at `pos`.
  std::optional<size_t> Element(size_t pos, size_t index) const {
    pos = SkipSpace(pos);
    if (pos >= s_.size() || s_[pos] != '[') return std::nullopt;
    pos = SkipSpace(pos + 1);
    for (size_t k = 0; pos < s_.size() && s_[pos] != ']'; ++k) {
      if (k == index) return pos;
      pos = SkipSpace(SkipValue(pos));
      if (pos < s_.size() && s_[pos] == ',') pos = SkipSpace(pos + 1);
    }
    return std::nullopt;
  }

  // Position of the value of member `key` of the object at `pos` (the first
  // one, as simdjson finds it). Keys are compared as written.
  std::optional<size_t> Member(size_t pos, absl::string_view key) const {
    pos = SkipSpace(pos);
    if (pos >= s_.size() || s_[pos] != '{') return std::nullopt;
    pos = SkipSpace(pos + 1);
    while (pos < s_.size() && s_[pos] == '"') {
      size_t end = SkipString(pos);
      absl::string_view name = s_.substr(pos + 1, end - pos - 2);
      pos = SkipSpace(end);
      if (pos >= s_.size() || s_[pos] != ':') return std::nullopt;
      pos = SkipSpace(pos + 1);
      if (name == key) return pos;
      pos = SkipSpace(SkipValue(pos));
      if (pos < s_.size() && s_[pos] == ',') pos = SkipSpace(pos + 1);
    }
    return std::nullopt;
  }

 private:
  absl::string_view s_;
};

}  // namespace

std::optional<size_t> LocateJsonPath(absl::string_view json,
                                     absl::string_view path) {
  JsonScanner scanner(json);
  std::optional<size_t> pos = scanner.SkipSpace(0);
  size_t i = 0;
  while (pos && i < path.size()) {
    if (path[i] == '.') {
      ++i;
    } else if (path[i] == '[') {
      size_t close = path.find(']', i);
      size_t index = 0;
      if (close == absl::string_view::npos ||
          !absl::SimpleAtoi(path.substr(i + 1, close - i - 1), &index)) {
        return std::nullopt;
      }
      pos = scanner.Element(*pos, index);
      i = close + 1;
    } else {
      size_t end = path.find_first_of(".[", i);
      if (end == absl::string_view::npos) end = path.size();
      pos = scanner.Member(*pos, path.substr(i, end - i));
      i = end;
    }
  }
  return pos;
}

absl::Status WithJsonLine(absl::Status status, absl::string_view json,
                          absl::string_view file) {
  std::optional<std::string> field = FieldOf(status);
  if (!field) return status;
  std::string prefix = absl::StrCat(file, ": ");
  std::string suffix = absl::StrCat(" (field ", *field, ")");
  absl::string_view message = status.message();
  if (!absl::StartsWith(message, prefix) || !absl::EndsWith(message, suffix)) {
    return status;
  }
  // A missing member is located at its enclosing value.
  std::optional<size_t> at;
  for (absl::string_view path = *field; !at;) {
    at = LocateJsonPath(json, path);
    size_t cut = path.find_last_of(".[");
    if (at || path.empty()) break;
    path = path.substr(0, cut == absl::string_view::npos ? 0 : cut);
  }
  if (!at) return status;
  int line =
      1 + static_cast<int>(std::count(json.begin(), json.begin() + *at, '\n'));
  message.remove_prefix(prefix.size());
  message.remove_suffix(suffix.size());
  return LocatedError(file, line, *field, message);
}

std::unique_ptr<FileTreeSink> MakeDirectorySink(std::string root) {
  return std::make_unique<DirectorySink>(std::move(root));
}

absl::StatusOr<std::unique_ptr<FileByteSink>> FileByteSink::Open(
    std::string path) {
  std::error_code ec;
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  return std::unique_ptr<FileByteSink>(new FileByteSink(std::move(path), f));
}

FileByteSink::FileByteSink(std::string path, std::FILE* file)
    : path_(std::move(path)), file_(file) {}

FileByteSink::~FileByteSink() {
  if (file_ != nullptr) std::fclose(file_);
}

ByteSink FileByteSink::sink() {
  return [this](absl::string_view bytes) -> absl::Status {
    if (file_ == nullptr ||
        std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
      return absl::InternalError(absl::StrCat("cannot write ", path_));
    }
    return absl::OkStatus();
  };
}

absl::Status FileByteSink::Close() {
  if (file_ == nullptr) return absl::OkStatus();
  int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) return absl::InternalError(absl::StrCat("cannot write ", path_));
  return absl::OkStatus();
}

absl::Status WriteDataset(const DetectionDataset& dataset,
                          DetectionWriter& writer) {
  TS_RETURN_IF_ERROR(writer.Begin(dataset.classes));
  for (const DetectionImage& image : dataset.images) {
    TS_RETURN_IF_ERROR(writer.Add(image));
  }
  return writer.Finish();
}

void AppendDouble(std::string& out, double v) {
  if (v == 0) v = 0;  // no "-0"
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

std::string FormatDouble(double v) {
  std::string out;
  AppendDouble(out, v);
  return out;
}

std::optional<double> ParseDouble(absl::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::string CheckBox(const Box& box, int width, int height) {
  if (!std::isfinite(box.x) || !std::isfinite(box.y) || !std::isfinite(box.w) ||
      !std::isfinite(box.h)) {
    return "box coordinates must be finite numbers";
  }
  if (box.w < 0 || box.h < 0) {
    return absl::StrCat("box has negative size (w=", FormatDouble(box.w),
                        ", h=", FormatDouble(box.h), ")");
  }
  double tx = kEdgeTolerance * width;
  double ty = kEdgeTolerance * height;
  if (box.x < -tx || box.y < -ty || box.x + box.w > width + tx ||
      box.y + box.h > height + ty) {
    return absl::StrCat(
        "box [x=", FormatDouble(box.x), ", y=", FormatDouble(box.y),
        ", w=", FormatDouble(box.w), ", h=", FormatDouble(box.h),
        "] is outside the ", width, "x", height, " image");
  }
  return "";
}

absl::Status LocatedError(absl::string_view file, int line,
                          absl::string_view field, absl::string_view message) {
  std::string text = line > 0 ? absl::StrCat(file, ":", line, ": ", message)
                              : absl::StrCat(file, ": ", message);
  if (!field.empty()) {
    absl::StrAppend(&text, " (field ", field, ")");
    return InvalidField(field, text);
  }
  return absl::InvalidArgumentError(text);
}

absl::StatusOr<std::vector<std::string>> ReadClassesFile(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot read classes file"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  std::vector<std::string> names;
  if (absl::EndsWith(path, ".yaml") || absl::EndsWith(path, ".yml")) {
    TS_ASSIGN_OR_RETURN(names, ParseDataYaml(text, path));
  } else {
    std::vector<std::string> lines = absl::StrSplit(text, '\n');
    while (!lines.empty() && absl::StripAsciiWhitespace(lines.back()).empty()) {
      lines.pop_back();
    }
    for (size_t i = 0; i < lines.size(); ++i) {
      std::string name(absl::StripTrailingAsciiWhitespace(lines[i]));
      if (name.empty()) {
        return LocatedError(path, static_cast<int>(i) + 1, "",
                            "empty class name");
      }
      names.push_back(std::move(name));
    }
    if (names.empty()) return LocatedError(path, 0, "", "no class names");
  }
  TS_RETURN_IF_ERROR(IndexClasses(names, path).status());
  return names;
}

absl::StatusOr<absl::flat_hash_map<std::string, int>> IndexClasses(
    const std::vector<std::string>& classes, absl::string_view source) {
  absl::flat_hash_map<std::string, int> index;
  for (size_t i = 0; i < classes.size(); ++i) {
    if (classes[i].empty()) {
      return LocatedError(source, 0, "",
                          absl::StrCat("class ", i, " is empty"));
    }
    if (!index.emplace(classes[i], static_cast<int>(i)).second) {
      return LocatedError(
          source, 0, "",
          absl::StrCat("duplicate class name \"", classes[i], "\""));
    }
  }
  return index;
}

absl::Status ApplyClassList(DetectionDataset& dataset,
                            const std::vector<std::string>& classes,
                            absl::string_view source) {
  TS_ASSIGN_OR_RETURN(auto index, IndexClasses(classes, source));
  for (const DetectionImage& image : dataset.images) {
    for (const auto* boxes : {&image.boxes, &image.predictions}) {
      for (const Box& box : *boxes) {
        if (!index.contains(box.label)) {
          return absl::InvalidArgumentError(
              absl::StrCat(image.file, ": class \"", box.label,
                           "\" is not in the class list ", source));
        }
      }
    }
  }
  dataset.classes = classes;
  return absl::OkStatus();
}

void ClassesFromLabels(DetectionDataset& dataset) {
  std::set<std::string> names;
  for (const DetectionImage& image : dataset.images) {
    for (const Box& box : image.boxes) names.insert(box.label);
    for (const Box& box : image.predictions) names.insert(box.label);
  }
  dataset.classes.assign(names.begin(), names.end());
}

std::string SidecarPath(absl::string_view file, absl::string_view ext) {
  std::string path(file);
  bool external = absl::StrContains(path, "://") || absl::StartsWith(path, "/");
  bool climbs =
      absl::StartsWith(path, "../") || absl::StrContains(path, "/../");
  if (external || climbs) {
    size_t query = path.find_first_of("?#");
    if (external && query != std::string::npos) path.resize(query);
    size_t slash = path.rfind('/');
    if (slash != std::string::npos) path = path.substr(slash + 1);
  }
  size_t slash = path.rfind('/');
  size_t dot = path.rfind('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) {
    path.resize(dot);
  }
  return absl::StrCat(path, ext);
}

}  // namespace tessera::formats
