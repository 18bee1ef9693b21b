// Tests for the streaming JSONL reader: line splitting across buffer edges,
// CRLF and blank lines, over-long lines, bad UTF-8 and JSON, throughput.
#include "tessera/formats/jsonl.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"

namespace tessera::formats {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Got {
  std::vector<std::pair<int64_t, std::string>> lines;
  std::vector<absl::Status> errors;
};

Got ReadAll(JsonlReader& reader) {
  Got got;
  while (true) {
    auto next = reader.Next();
    if (!next.ok()) {
      got.errors.push_back(next.status());
      if (next.status().code() != absl::StatusCode::kInvalidArgument) break;
      continue;
    }
    if (!next->has_value()) break;
    got.lines.emplace_back((*next)->number, std::string((*next)->text));
  }
  return got;
}

Got ReadString(const std::string& text, JsonlReaderOptions options = {}) {
  std::istringstream in(text);
  JsonlReader reader(in, "in.jsonl", options);
  return ReadAll(reader);
}

TEST(JsonlReaderTest, SplitsLinesSkipsBlanksAndToleratesCrlf) {
  Got got = ReadString("{\"a\":1}\r\n\n   \r\n{\"b\":2}\n\t\n{\"c\":3}");
  ASSERT_TRUE(got.errors.empty());
  ASSERT_EQ(got.lines.size(), 3u);
  EXPECT_EQ(got.lines[0], std::make_pair(int64_t{1}, std::string("{\"a\":1}")));
  EXPECT_EQ(got.lines[1], std::make_pair(int64_t{4}, std::string("{\"b\":2}")));
  EXPECT_EQ(got.lines[2], std::make_pair(int64_t{6}, std::string("{\"c\":3}")));
}

TEST(JsonlReaderTest, EmptyInputHasNoLines) {
  EXPECT_TRUE(ReadString("").lines.empty());
  EXPECT_TRUE(ReadString("\n\n\r\n").lines.empty());
}

TEST(JsonlReaderTest, LinesSpanningTinyReadChunksMatchNaiveSplit) {
  std::string text;
  for (int i = 0; i < 500; ++i) {
    text += std::string(static_cast<size_t>((i * 37) % 300), 'a' + i % 26);
    text += (i % 7 == 0) ? "\r\n" : "\n";
  }
  JsonlReaderOptions options;
  options.read_chunk_bytes = 64;
  Got got = ReadString(text, options);
  ASSERT_TRUE(got.errors.empty());
  std::vector<std::pair<int64_t, std::string>> want;
  int64_t n = 0;
  for (absl::string_view part : absl::StrSplit(text, '\n')) {
    ++n;
    if (!part.empty() && part.back() == '\r') part.remove_suffix(1);
    if (!part.empty()) want.emplace_back(n, std::string(part));
  }
  EXPECT_EQ(got.lines, want);
}

TEST(JsonlReaderTest, OverLongLineIsAnErrorNamingFileAndLineThenReadingGoesOn) {
  JsonlReaderOptions options;
  options.max_line_bytes = 100;
  options.read_chunk_bytes = 64;
  std::string text = absl::StrCat("{\"ok\":1}\n", std::string(1000, 'x'),
                                  "\n{\"ok\":2}\n", std::string(101, 'y'));
  Got got = ReadString(text, options);
  ASSERT_EQ(got.errors.size(), 2u);
  EXPECT_EQ(got.errors[0].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(got.errors[0].message()),
              StartsWith("in.jsonl:2: line is longer than the limit of 100"));
  EXPECT_EQ(FieldOf(got.errors[0]), "line");
  EXPECT_THAT(std::string(got.errors[1].message()), StartsWith("in.jsonl:4: "));
  ASSERT_EQ(got.lines.size(), 2u);
  EXPECT_EQ(got.lines[1],
            std::make_pair(int64_t{3}, std::string("{\"ok\":2}")));
}

TEST(JsonlReaderTest, LineOfExactlyTheLimitIsAccepted) {
  JsonlReaderOptions options;
  options.max_line_bytes = 100;
  options.read_chunk_bytes = 64;
  Got got = ReadString(std::string(100, 'x') + "\r\n" + std::string(100, 'z'),
                       options);
  EXPECT_TRUE(got.errors.empty());
  EXPECT_EQ(got.lines.size(), 2u);
}

// A stream of `size` bytes of 'x' then "\n{}\n", generated on the fly.
class HugeLineBuf : public std::streambuf {
 public:
  explicit HugeLineBuf(int64_t size) : left_(size) {
    block_.assign(1 << 20, 'x');
  }

 protected:
  int_type underflow() override {
    if (left_ > 0) {
      size_t n = static_cast<size_t>(
          std::min<int64_t>(left_, static_cast<int64_t>(block_.size())));
      left_ -= static_cast<int64_t>(n);
      setg(block_.data(), block_.data(), block_.data() + n);
      return traits_type::to_int_type(block_[0]);
    }
    if (!tail_done_) {
      tail_done_ = true;
      setg(tail_, tail_, tail_ + 4);
      return traits_type::to_int_type(tail_[0]);
    }
    return traits_type::eof();
  }

 private:
  int64_t left_;
  std::string block_;
  char tail_[4] = {'\n', '{', '}', '\n'};
  bool tail_done_ = false;
};

int64_t PeakRssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

TEST(JsonlReaderTest, TwoGigabyteLineFailsCleanlyWithoutBufferingIt) {
  HugeLineBuf buf(int64_t{2} << 30);
  std::istream in(&buf);
  JsonlReader reader(in, "huge.jsonl");  // default 64 MiB limit
  Got got = ReadAll(reader);
  ASSERT_EQ(got.errors.size(), 1u);
  EXPECT_THAT(std::string(got.errors[0].message()),
              StartsWith("huge.jsonl:1: line is longer than the limit of "
                         "67108864 bytes"));
  ASSERT_EQ(got.lines.size(), 1u);
  EXPECT_EQ(got.lines[0], std::make_pair(int64_t{2}, std::string("{}")));
  // About the limit plus one read chunk (64 + 1 MiB), not 2 GB.
  int64_t peak = PeakRssKb();
  ASSERT_GT(peak, 0);
  EXPECT_LT(peak, 120 * 1024) << "peak RSS " << peak << " kB";
}

TEST(JsonlReaderTest, InvalidUtf8IsAnErrorNamingTheLine) {
  Got got = ReadString("{\"a\":\"ok\"}\n{\"a\":\"\xff\xfe\"}\n{\"a\":\"é\"}\n");
  ASSERT_EQ(got.errors.size(), 1u);
  EXPECT_EQ(got.errors[0].message(), "in.jsonl:2: line is not valid UTF-8");
  EXPECT_EQ(FieldOf(got.errors[0]), "line");
  ASSERT_EQ(got.lines.size(), 2u);
  EXPECT_EQ(got.lines[1].first, 3);
  // Truncated multi-byte sequence and an overlong encoding.
  EXPECT_EQ(ReadString("\"\xc3\"\n").errors.size(), 1u);
  EXPECT_EQ(ReadString("\"\xc0\xaf\"\n").errors.size(), 1u);
}

TEST(JsonlReaderTest, OpenMissingFileIsNotFound) {
  auto reader = JsonlReader::Open("/nonexistent/tasks.jsonl");
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(reader.status().message()),
              HasSubstr("/nonexistent/tasks.jsonl"));
}

TEST(JsonlReaderTest, OpenDirectoryIsInvalidArgument) {
  auto reader = JsonlReader::Open(::testing::TempDir());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JsonlReaderTest, OpenReadsAFile) {
  std::string path = ::testing::TempDir() + "/jsonl_reader_test.jsonl";
  {
    std::ofstream out(path, std::ios::binary);
    out << "{\"x\":1}\n\n{\"x\":2}\n";
  }
  auto reader = JsonlReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->name(), path);
  Got got = ReadAll(**reader);
  ASSERT_EQ(got.lines.size(), 2u);
  EXPECT_EQ(got.lines[1].first, 3);
  std::remove(path.c_str());
}

TEST(ParseJsonObjectLineTest, TruncatedJsonNamesFileAndLine) {
  auto r = ParseJsonObjectLine("f.jsonl", {7, "{\"prompt\": \"hi"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              StartsWith("f.jsonl:7: malformed or truncated JSON: "));
  EXPECT_EQ(FieldOf(r.status()), "line");
}

TEST(ParseJsonObjectLineTest, NonObjectLineIsRejected) {
  auto r = ParseJsonObjectLine("f.jsonl", {2, "[1, 2]"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "f.jsonl:2: each line must be a JSON object, got array");
  auto s = ParseJsonObjectLine("f.jsonl", {3, "\"text\""});
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("got string"));
}

TEST(ParseJsonObjectLineTest, ParsesAnObject) {
  auto r = ParseJsonObjectLine("f.jsonl", {1, "{\"prompt\":\"p\",\"n\":2}"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["prompt"], "p");
  EXPECT_EQ((*r)["n"], 2);
}

TEST(AtLineTest, PrefixesAndKeepsTheField) {
  absl::Status s = AtLine("d.jsonl", 12, InvalidField("responses[1]", "bad"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "d.jsonl:12: bad");
  EXPECT_EQ(FieldOf(s), "responses[1]");
  EXPECT_TRUE(AtLine("d.jsonl", 1, absl::OkStatus()).ok());
}

TEST(JsonlReaderTest, ReadsAMillionShortLines) {
  const std::string row = "{\"prompt\":\"What is 2+2?\",\"response\":\"4\"}\n";
  std::string text;
  text.reserve(row.size() * 1'000'000);
  for (int i = 0; i < 1'000'000; ++i) text += row;
  std::istringstream in(std::move(text));
  JsonlReader reader(in, "million.jsonl");
  auto start = std::chrono::steady_clock::now();
  int64_t count = 0;
  size_t bytes = 0;
  while (true) {
    auto next = reader.Next();
    ASSERT_TRUE(next.ok()) << next.status();
    if (!next->has_value()) break;
    ++count;
    bytes += (*next)->text.size();
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_EQ(count, 1'000'000);
  EXPECT_EQ(bytes, (row.size() - 1) * 1'000'000);
  RecordProperty("lines_per_second",
                 std::to_string(static_cast<int64_t>(count / seconds)));
}

}  // namespace
}  // namespace tessera::formats
