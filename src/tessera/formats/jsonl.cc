// Streaming JSONL reader: one large buffer, memchr for line ends, simdjson's
// UTF-8 validator.
#include "tessera/formats/jsonl.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "simdjson.h"
#include "tessera/base/status.h"

namespace tessera::formats {
namespace {

bool IsBlank(absl::string_view text) {
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// nlohmann's messages start with "[json.exception.parse_error.101] ".
std::string CleanJsonError(const char* what) {
  absl::string_view w(what);
  if (!w.empty() && w.front() == '[') {
    size_t close = w.find("] ");
    if (close != absl::string_view::npos) w.remove_prefix(close + 2);
  }
  return std::string(w);
}

}  // namespace

bool IsValidUtf8(absl::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

absl::Status LineError(absl::string_view name, int64_t line,
                       absl::string_view field, absl::string_view message) {
  absl::Status status =
      absl::InvalidArgumentError(absl::StrCat(name, ":", line, ": ", message));
  if (!field.empty()) status = WithField(std::move(status), field);
  return status;
}

absl::Status AtLine(absl::string_view name, int64_t line,
                    const absl::Status& status) {
  if (status.ok()) return status;
  absl::Status out(status.code(),
                   absl::StrCat(name, ":", line, ": ", status.message()));
  status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) {
        out.SetPayload(url, payload);
      });
  return out;
}

absl::StatusOr<nlohmann::json> ParseJsonObjectLine(absl::string_view name,
                                                   const JsonlLine& line) {
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(line.text.data(),
                                  line.text.data() + line.text.size());
  } catch (const nlohmann::json::exception& e) {
    return LineError(name, line.number, "line",
                     absl::StrCat("malformed or truncated JSON: ",
                                  CleanJsonError(e.what())));
  }
  if (!value.is_object()) {
    return LineError(name, line.number, "line",
                     absl::StrCat("each line must be a JSON object, got ",
                                  value.type_name()));
  }
  return value;
}

JsonlReader::JsonlReader(std::istream& in, std::string name,
                         JsonlReaderOptions options)
    : in_(&in), name_(std::move(name)), options_(options) {
  options_.read_chunk_bytes = std::max<size_t>(options_.read_chunk_bytes, 64);
}

JsonlReader::JsonlReader(std::unique_ptr<std::ifstream> file, std::string name,
                         JsonlReaderOptions options)
    : JsonlReader(*file, std::move(name), options) {
  owned_ = std::move(file);
}

absl::StatusOr<std::unique_ptr<JsonlReader>> JsonlReader::Open(
    const std::string& path, JsonlReaderOptions options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": is a directory, not a JSONL file"));
  }
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!file->is_open()) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  return std::unique_ptr<JsonlReader>(
      new JsonlReader(std::move(file), path, options));
}

bool JsonlReader::Fill() {
  if (eof_ || failed_) return false;
  const size_t chunk = options_.read_chunk_bytes;
  size_t live = end_ - begin_;
  // Keep reading at the front of the buffer: with short lines only about two
  // chunks of it are ever touched.
  if (begin_ > 0 && (live <= chunk || capacity_ - end_ < chunk)) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, live);
    begin_ = 0;
    end_ = live;
  }
  if (capacity_ - end_ < chunk) {
    // A line never needs more than max_line_bytes + "\r\n" + one chunk. Up
    // to 256 MiB that much is reserved at once (untouched pages stay
    // virtual), so long lines never copy the buffer; beyond, it doubles.
    const size_t limit = options_.max_line_bytes <= (size_t{256} << 20)
                             ? options_.max_line_bytes + 2 + chunk
                             : 0;
    size_t want = std::max(end_ + chunk, limit != 0 ? limit : 2 * capacity_);
    auto bigger = std::unique_ptr<char[]>(new char[want]);
    if (end_ > 0) std::memcpy(bigger.get(), buffer_.get(), end_);
    buffer_ = std::move(bigger);
    capacity_ = want;
  }
  in_->read(buffer_.get() + end_, static_cast<std::streamsize>(chunk));
  std::streamsize n = in_->gcount();
  if (in_->bad()) {
    failed_ = true;
    return false;
  }
  if (n < static_cast<std::streamsize>(chunk)) eof_ = true;
  end_ += static_cast<size_t>(n);
  return n > 0;
}

absl::StatusOr<std::optional<JsonlLine>> JsonlReader::Next() {
  const size_t max = options_.max_line_bytes;
  while (true) {
    if (failed_) {
      return absl::DataLossError(
          absl::StrCat(name_, ":", line_ + 1, ": read error in the input"));
    }
    char* start = buffer_.get() + begin_;
    size_t avail = end_ - begin_;
    const char* nl = nullptr;
    if (avail > scanned_) {
      nl = static_cast<const char*>(
          std::memchr(start + scanned_, '\n', avail - scanned_));
    }
    size_t len;
    if (nl != nullptr) {
      len = static_cast<size_t>(nl - start);
      begin_ += len + 1;
    } else if (avail > max + 1) {
      // Too long: drop it piece by piece up to its line end.
      int64_t bad = ++line_;
      begin_ = end_ = scanned_ = 0;
      while (Fill()) {
        const char* e =
            static_cast<const char*>(std::memchr(buffer_.get(), '\n', end_));
        if (e != nullptr) {
          begin_ = static_cast<size_t>(e - buffer_.get()) + 1;
          break;
        }
        end_ = 0;
      }
      if (failed_) continue;
      return LineError(
          name_, bad, "line",
          absl::StrCat("line is longer than the limit of ", max, " bytes"));
    } else if (eof_) {
      if (avail == 0) return std::nullopt;
      len = avail;  // last line without a line end
      begin_ = end_;
    } else {
      scanned_ = avail;
      Fill();
      continue;
    }
    scanned_ = 0;
    ++line_;
    absl::string_view text(start, len);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.size() > max) {
      return LineError(
          name_, line_, "line",
          absl::StrCat("line is longer than the limit of ", max, " bytes"));
    }
    if (IsBlank(text)) continue;
    if (options_.validate_utf8 && !IsValidUtf8(text)) {
      return LineError(name_, line_, "line", "line is not valid UTF-8");
    }
    return JsonlLine{line_, text};
  }
}

}  // namespace tessera::formats
