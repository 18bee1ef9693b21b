// Tests of the shared detection pieces: exact number formatting, box checks,
// class files (classes.txt and data.yaml forms), paths, JSON errors.
#include "tessera/formats/detection.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status.h"

namespace tessera::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(FormatDoubleTest, ShortestExactDecimal) {
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(640), "640");
  EXPECT_EQ(FormatDouble(-0.0), "0");
  EXPECT_EQ(FormatDouble(12.5), "12.5");
  EXPECT_EQ(FormatDouble(1.0 / 3), "0.3333333333333333");
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> dist(-1e4, 1e4);
  for (int i = 0; i < 10000; ++i) {
    double v = dist(rng);
    EXPECT_EQ(ParseDouble(FormatDouble(v)), v);
  }
}

TEST(ParseDoubleTest, WholeFiniteNumbersOnly) {
  EXPECT_EQ(ParseDouble("1.5"), 1.5);
  EXPECT_EQ(ParseDouble("+2"), 2);
  EXPECT_EQ(ParseDouble("1e3"), 1000);
  EXPECT_EQ(ParseDouble("-0.25"), -0.25);
  for (const char* bad :
       {"", "1.5x", " 1", "inf", "nan", "1e999", "+", "0x10"}) {
    EXPECT_EQ(ParseDouble(bad), std::nullopt) << bad;
  }
}

TEST(CheckBoxTest, SizeAndEdges) {
  EXPECT_EQ(CheckBox({"a", 0, 0, 100, 50, std::nullopt}, 100, 50), "");
  EXPECT_EQ(CheckBox({"a", 10, 10, 0, 0, std::nullopt}, 100, 50), "");
  // Within the rounding tolerance of 6-digit YOLO coordinates.
  EXPECT_EQ(CheckBox({"a", -0.0001, 0, 100.0002, 50, std::nullopt}, 100, 50),
            "");
  EXPECT_THAT(CheckBox({"a", 0, 0, -1, 5, std::nullopt}, 100, 50),
              HasSubstr("negative size"));
  EXPECT_THAT(CheckBox({"a", 0, 0, 100.01, 5, std::nullopt}, 100, 50),
              HasSubstr("outside the 100x50 image"));
  EXPECT_THAT(CheckBox({"a", 0, -1, 10, 5, std::nullopt}, 100, 50),
              HasSubstr("outside"));
  EXPECT_THAT(CheckBox({"a", std::nan(""), 0, 10, 5, std::nullopt}, 100, 50),
              HasSubstr("finite"));
}

TEST(LocatedErrorTest, NamesFileLineAndField) {
  absl::Status s = LocatedError("a/b.txt", 3, "cx", "bad");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "a/b.txt:3: bad (field cx)");
  EXPECT_EQ(FieldOf(s), "cx");
  absl::Status no_line = LocatedError("x.json", 0, "", "oops");
  EXPECT_EQ(no_line.message(), "x.json: oops");
  EXPECT_EQ(FieldOf(no_line), std::nullopt);
}

class ClassesFileTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::path(testing::TempDir()) / absl::StrCat("classes_test_", getpid());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

TEST_F(ClassesFileTest, TextOneNamePerLine) {
  auto c =
      ReadClassesFile(Write("c.txt", "person\r\ntraffic light\ncar\n\n\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(*c, ElementsAre("person", "traffic light", "car"));
  auto gap = ReadClassesFile(Write("g.txt", "a\n\nb\n"));
  EXPECT_THAT(gap.status().ToString(), HasSubstr("g.txt:2: empty class name"));
  auto dup = ReadClassesFile(Write("d.txt", "a\nb\na\n"));
  EXPECT_THAT(dup.status().ToString(), HasSubstr("duplicate class name \"a\""));
  auto none = ReadClassesFile(Write("n.txt", "\n"));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  auto missing = ReadClassesFile((dir_ / "nope.txt").string());
  EXPECT_THAT(missing.status().ToString(), HasSubstr("nope.txt: cannot read"));
}

TEST_F(ClassesFileTest, DataYamlForms) {
  auto flow = ReadClassesFile(Write("f.yaml",
                                    "path: ../datasets/coco128\nnc: 3\n"
                                    "names: ['person', \"bi, cycle\",\n"
                                    "  car]  # comment\n"));
  ASSERT_TRUE(flow.ok()) << flow.status();
  EXPECT_THAT(*flow, ElementsAre("person", "bi, cycle", "car"));
  auto block = ReadClassesFile(
      Write("b.yaml", "names:\n  - person\n  - 'it''s'\n# end\ntrain: x\n"));
  ASSERT_TRUE(block.ok()) << block.status();
  EXPECT_THAT(*block, ElementsAre("person", "it's"));
  auto map = ReadClassesFile(Write(
      "m.yml", "names:\n  0: person  # people\n  1: traffic light\nval: y\n"));
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_THAT(*map, ElementsAre("person", "traffic light"));
  auto gap = ReadClassesFile(Write("o.yaml", "names:\n  0: a\n  2: b\n"));
  EXPECT_THAT(gap.status().ToString(),
              HasSubstr("o.yaml:3: class index 2 out of order (expected 1)"));
  auto no_names = ReadClassesFile(Write("x.yaml", "nc: 2\n"));
  EXPECT_THAT(no_names.status().ToString(), HasSubstr("no names: key"));
}

TEST(ClassListTest, ApplyAndDerive) {
  DetectionDataset d;
  d.images = {{"a.jpg",
               10,
               10,
               {{"zebra", 0, 0, 1, 1, std::nullopt}},
               {{"ant", 0, 0, 1, 1, 0.5}}}};
  ClassesFromLabels(d);
  EXPECT_THAT(d.classes, ElementsAre("ant", "zebra"));
  EXPECT_TRUE(ApplyClassList(d, {"zebra", "cat", "ant"}, "c.txt").ok());
  EXPECT_THAT(d.classes, ElementsAre("zebra", "cat", "ant"));
  absl::Status s = ApplyClassList(d, {"zebra"}, "c.txt");
  EXPECT_THAT(s.ToString(),
              HasSubstr("a.jpg: class \"ant\" is not in the class list c.txt"));
  EXPECT_FALSE(IndexClasses({"a", "a"}, "x").ok());
  EXPECT_FALSE(IndexClasses({"a", ""}, "x").ok());
}

TEST(SidecarPathTest, KeepsOutputsInsideTheRoot) {
  EXPECT_EQ(SidecarPath("a/b.c.jpg", ".txt"), "a/b.c.txt");
  EXPECT_EQ(SidecarPath("noext", ".xml"), "noext.xml");
  EXPECT_EQ(SidecarPath("dir.v2/noext", ".xml"), "dir.v2/noext.xml");
  EXPECT_EQ(SidecarPath("/data/upload/1/x.jpg", ".txt"), "x.txt");
  EXPECT_EQ(SidecarPath("https://h/p/y.png?sig=1", ".txt"), "y.txt");
  EXPECT_EQ(SidecarPath("../../etc/z.jpg", ".txt"), "z.txt");
}

TEST(JsonSyntaxErrorTest, LineAndColumn) {
  absl::Status s = JsonSyntaxError("{\n  \"a\": tru\n}", "f.json", "fallback");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.ToString(), HasSubstr("f.json:2: malformed JSON at column"));
  absl::Status cut = JsonSyntaxError("[1, 2", "g.json", "fallback");
  EXPECT_THAT(cut.ToString(), HasSubstr("g.json:1: malformed JSON"));
  EXPECT_THAT(cut.ToString(), HasSubstr("ends early"));
}

TEST(LocateJsonPathTest, FindsValuesPastTrickyStrings) {
  const std::string json =
      "{\"a\": \"x]},\\\"[\", \"b\": [1, {\"c\": [true, null]},\n"
      "  {\"c\": [\"one\", \"two\"], \"b\": 5}]}";
  auto at = [&](absl::string_view path) -> std::string {
    std::optional<size_t> pos = LocateJsonPath(json, path);
    return pos ? json.substr(*pos, 5) : "none";
  };
  EXPECT_EQ(at("b"), "[1, {");
  EXPECT_EQ(at("b[1].c[1]"), "null]");
  EXPECT_EQ(at("b[2].c[1]"), "\"two\"");
  EXPECT_EQ(at("b[2].b"), "5}]}");
  EXPECT_EQ(at("b[3]"), "none");
  EXPECT_EQ(at("d"), "none");
  EXPECT_EQ(at("[0]"), "none");

  absl::Status s =
      WithJsonLine(LocatedError("f.json", 0, "b[2].c", "bad"), json, "f.json");
  EXPECT_EQ(s.message(), "f.json:2: bad (field b[2].c)");
  EXPECT_EQ(FieldOf(s), "b[2].c");
  // A missing member is placed at its enclosing object.
  absl::Status missing = WithJsonLine(
      LocatedError("f.json", 0, "b[2].zz", "missing"), json, "f.json");
  EXPECT_EQ(missing.message(), "f.json:2: missing (field b[2].zz)");
}

TEST(FileByteSinkTest, WritesAndReportsErrors) {
  fs::path p = fs::path(testing::TempDir()) /
               absl::StrCat("sink_test_", getpid()) / "sub" / "o.txt";
  auto sink = FileByteSink::Open(p.string());
  ASSERT_TRUE(sink.ok()) << sink.status();
  ByteSink write = (*sink)->sink();
  ASSERT_TRUE(write("abc").ok());
  ASSERT_TRUE(write("def").ok());
  ASSERT_TRUE((*sink)->Close().ok());
  std::ifstream in(p);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "abcdef");
  fs::remove_all(p.parent_path().parent_path());
  auto bad = FileByteSink::Open("/proc/no/such/dir/x");
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace tessera::formats
