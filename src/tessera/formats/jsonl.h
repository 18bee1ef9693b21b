// Streaming JSONL reading with bounded memory: numbered lines from a file or
// stream, UTF-8 checked, and errors that say "FILE:LINE: ..." (and the field).
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json_fwd.hpp"

namespace tessera::formats {

struct JsonlReaderOptions {
  // Longest line accepted, in bytes, excluding the line ending. A longer line
  // is an error (the reader skips it without ever holding it in memory) and
  // memory stays below about max_line_bytes + read_chunk_bytes.
  size_t max_line_bytes = size_t{64} << 20;  // 64 MiB
  // Bytes asked of the stream per read.
  size_t read_chunk_bytes = size_t{1} << 20;  // 1 MiB
  // Rejects lines that are not valid UTF-8.
  bool validate_utf8 = true;
};

// One non-blank line. `text` excludes the line ending ("\n" or "\r\n") and
// points into the reader's buffer: valid until the next call to Next().
struct JsonlLine {
  int64_t number = 0;  // 1-based physical line number in the input
  absl::string_view text;
};

// Yields the non-blank lines of a JSONL input in order. Blank lines (only
// spaces, tabs or "\r") are skipped but counted. Not thread-safe.
class JsonlReader {
 public:
  // Reads `in`, which the caller owns and must keep alive; `name` (usually
  // the file name) prefixes error messages.
  JsonlReader(std::istream& in, std::string name,
              JsonlReaderOptions options = {});
  // Opens the file at `path`; kNotFound when it cannot be opened,
  // kInvalidArgument when it is a directory.
  static absl::StatusOr<std::unique_ptr<JsonlReader>> Open(
      const std::string& path, JsonlReaderOptions options = {});

  JsonlReader(const JsonlReader&) = delete;
  JsonlReader& operator=(const JsonlReader&) = delete;

  // The next non-blank line, or nullopt at the end of the input. A line that
  // is too long or not valid UTF-8 gives kInvalidArgument "NAME:LINE: ..."
  // and is consumed, so the caller may call Next() again to skip it. A read
  // failure of the stream is kDataLoss and final.
  absl::StatusOr<std::optional<JsonlLine>> Next();

  const std::string& name() const { return name_; }

 private:
  JsonlReader(std::unique_ptr<std::ifstream> file, std::string name,
              JsonlReaderOptions options);
  // Reads more bytes after end_; false at end of input or on error.
  bool Fill();

  std::unique_ptr<std::ifstream> owned_;  // set when opened by path
  std::istream* in_;
  std::string name_;
  JsonlReaderOptions options_;
  // Uninitialised storage: pages the reader never touches cost no memory.
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
  size_t begin_ = 0;    // first unconsumed byte in buffer_
  size_t end_ = 0;      // one past the last byte read into buffer_
  size_t scanned_ = 0;  // bytes after begin_ known to hold no '\n'
  int64_t line_ = 0;
  bool eof_ = false;
  bool failed_ = false;
};

// kInvalidArgument "NAME:LINE: message", with `field` attached when it is not
// empty (see tessera/base/status.h FieldOf).
absl::Status LineError(absl::string_view name, int64_t line,
                       absl::string_view field, absl::string_view message);

// Prefixes a non-OK `status` with "NAME:LINE: ", keeping its code and field.
absl::Status AtLine(absl::string_view name, int64_t line,
                    const absl::Status& status);

// Parses a JSONL line that must hold one JSON object. Truncated or malformed
// JSON, or a value that is not an object, is a LineError (field "line").
absl::StatusOr<nlohmann::json> ParseJsonObjectLine(absl::string_view name,
                                                   const JsonlLine& line);

// True when `text` is valid UTF-8.
bool IsValidUtf8(absl::string_view text);

}  // namespace tessera::formats
