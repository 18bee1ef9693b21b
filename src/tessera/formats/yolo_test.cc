// YOLO codec tests: line parsing and its errors, Ultralytics formatting, and
// the data set reader on the real coco128 (including its known quirks).
#include "tessera/formats/yolo.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status.h"

namespace tessera::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const fs::path kCoco128 = fs::path(TESSERA_TEST_DATA_DIR) / "coco128";
const fs::path kLabels = kCoco128 / "labels" / "train2017";
const fs::path kImages = kCoco128 / "images" / "train2017";

// A fresh directory removed when the test ends.
class Scratch {
 public:
  Scratch() {
    path_ = fs::path(testing::TempDir()) /
            absl::StrCat(
                "yolo_test_", getpid(), "_",
                testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~Scratch() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Spit(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

const std::vector<std::string> kClasses = {"person", "bicycle", "car"};

TEST(ParseYoloLabelsTest, ConvertsToPixels) {
  auto boxes =
      ParseYoloLabels("0 0.5 0.5 0.5 0.25\n\n2 0.25 0.75 0.1 0.1 0.9\n",
                      "a.txt", kClasses, 200, 100);
  ASSERT_TRUE(boxes.ok()) << boxes.status();
  ASSERT_EQ(boxes->size(), 2u);
  EXPECT_EQ((*boxes)[0], (Box{"person", 50, 37.5, 100, 25, std::nullopt}));
  EXPECT_EQ((*boxes)[1].label, "car");
  EXPECT_DOUBLE_EQ((*boxes)[1].x, 40);
  EXPECT_DOUBLE_EQ((*boxes)[1].y, 70);
  EXPECT_EQ((*boxes)[1].score, 0.9);
}

TEST(ParseYoloLabelsTest, AcceptsCrlfAndNoFinalNewline) {
  auto boxes = ParseYoloLabels("0 0.5 0.5 0.5 0.5\r\n1 0.5 0.5 1 1", "a.txt",
                               kClasses, 10, 10);
  ASSERT_TRUE(boxes.ok()) << boxes.status();
  EXPECT_EQ(boxes->size(), 2u);
}

struct BadLine {
  std::string text;
  std::string message;
  std::string field;
};

TEST(ParseYoloLabelsTest, BadLinesNameFileLineAndField) {
  const std::vector<BadLine> cases = {
      {"0 0.5 0.5 0.5 0.5\n0 0.5 0.5 0.5\n", "a.txt:2: expected", ""},
      {"0 0.5 0.5 0.5 0.5 0.1 0.2\n", "a.txt:1: expected", ""},
      {"3 0.5 0.5 0.5 0.5\n", "a.txt:1: unknown class index 3 (3 classes)",
       "class"},
      {"-1 0.5 0.5 0.5 0.5\n", "a.txt:1: unknown class index -1", "class"},
      {"x 0.5 0.5 0.5 0.5\n", "a.txt:1: class index \"x\"", "class"},
      {"1.5 0.5 0.5 0.5 0.5\n", "a.txt:1: class index \"1.5\"", "class"},
      {"0 0.5 abc 0.5 0.5\n", "a.txt:1: \"abc\" is not a number", "cy"},
      {"0 0.5 0.5 nan 0.5\n", "a.txt:1: \"nan\" is not a number", "w"},
      {"\n\n0 0.5 0.5 -0.1 0.5\n", "a.txt:3: box has negative size", "w"},
      {"0 0.5 0.5 0.5 -0.5\n", "a.txt:1: box has negative size", "h"},
      {"0 0.9 0.5 0.5 0.5\n",
       "a.txt:1: box [x=65, y=25, w=50, h=50] is "
       "outside the 100x100 image",
       ""},
      {"0 0.5 0.5 0.5 0.5 high\n", "a.txt:1: \"high\" is not a number",
       "score"},
  };
  for (const BadLine& c : cases) {
    auto boxes = ParseYoloLabels(c.text, "a.txt", kClasses, 100, 100);
    ASSERT_FALSE(boxes.ok()) << c.text;
    EXPECT_EQ(boxes.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(boxes.status().ToString(), HasSubstr(c.message)) << c.text;
    if (c.field.empty()) {
      EXPECT_EQ(FieldOf(boxes.status()), std::nullopt) << c.text;
    } else {
      EXPECT_EQ(FieldOf(boxes.status()), c.field) << c.text;
    }
  }
}

TEST(FormatYoloLabelsTest, WritesUltralyticsPercentG) {
  absl::flat_hash_map<std::string, int> index = {{"person", 0}, {"car", 2}};
  std::vector<Box> boxes = {{"car", 0, 0, 640, 480, std::nullopt},
                            {"person", 1, 2, 0.0123, 3, 0.5}};
  auto text = FormatYoloLabels(boxes, index, 640, 480, "x.jpg");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "2 0.5 0.5 1 1\n"
            "0 0.00157211 0.00729167 1.92187e-05 0.00625 0.5\n");
  EXPECT_EQ(*FormatYoloLabels({}, index, 640, 480, "x.jpg"), "");
}

TEST(FormatYoloLabelsTest, RejectsUnknownClassAndOutsideBox) {
  absl::flat_hash_map<std::string, int> index = {{"person", 0}};
  auto unknown = FormatYoloLabels({{"dog", 0, 0, 1, 1, std::nullopt}}, index,
                                  10, 10, "x.jpg");
  EXPECT_THAT(unknown.status().ToString(),
              HasSubstr("x.jpg: box 0 has unknown class \"dog\""));
  auto outside = FormatYoloLabels({{"person", 5, 5, 6, 1, std::nullopt}}, index,
                                  10, 10, "x.jpg");
  EXPECT_THAT(outside.status().ToString(),
              HasSubstr("outside the 10x10 image"));
  auto no_size = FormatYoloLabels({}, index, 0, 10, "x.jpg");
  EXPECT_EQ(no_size.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ReadYoloTest, Coco128QuirksAreAnErrorByDefault) {
  auto data = ReadYolo(kLabels.string());
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(data.status().ToString(),
              HasSubstr("000000000656.txt: label file has no image"));
  EXPECT_THAT(data.status().ToString(), HasSubstr("and 1 more"));
}

TEST(ReadYoloTest, Coco128SkipInvalidNamesEverySkippedFile) {
  ReadOptions options;
  options.skip_invalid = true;
  // A trailing slash must not stop the classes and images lookups.
  auto data = ReadYolo(kLabels.string() + "/", options);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->classes.size(), 80u);
  EXPECT_EQ(data->classes[0], "person");
  EXPECT_EQ(data->images.size(), 126u);
  ASSERT_EQ(data->warnings.size(), 4u);
  EXPECT_THAT(data->warnings[0],
              HasSubstr("000000000656.txt: label file has no image"));
  EXPECT_THAT(data->warnings[1],
              HasSubstr("000000000659.txt: label file has no image"));
  EXPECT_THAT(data->warnings[2],
              HasSubstr("000000000250.jpg: image has no label file"));
  EXPECT_THAT(data->warnings[3],
              HasSubstr("000000000508.jpg: image has no label file"));
  const DetectionImage& first = data->images[0];
  EXPECT_EQ(first.file, "000000000009.jpg");
  EXPECT_EQ(first.width, 640);
  EXPECT_EQ(first.height, 480);
  ASSERT_EQ(first.boxes.size(), 8u);
  EXPECT_EQ(first.boxes[0].label, "bowl");  // class 45
  size_t boxes = 0;
  for (const DetectionImage& image : data->images) boxes += image.boxes.size();
  EXPECT_EQ(boxes, 929u);
}

// Writes `data` as YOLO into `out` and checks every label file against the
// coco128 original, byte for byte. 000000000009.txt is the one original
// without a final newline; the writer ends every line with one.
void ExpectSameLabelsAsCoco128(const DetectionDataset& data,
                               const fs::path& out) {
  auto sink = MakeDirectorySink(out.string());
  auto writer = MakeYoloWriter(*sink);
  ASSERT_TRUE(WriteDataset(data, *writer).ok());
  size_t compared = 0;
  for (const auto& entry : fs::directory_iterator(out / "labels")) {
    std::string name = entry.path().filename().string();
    std::string original = Slurp(kLabels / name);
    if (name == "000000000009.txt") {
      ASSERT_NE(original.back(), '\n');
      original += "\n";
    }
    EXPECT_EQ(Slurp(entry.path()), original) << name;
    ++compared;
  }
  EXPECT_EQ(compared, 126u);
}

TEST(ReadYoloTest, WriteReproducesCoco128LabelFiles) {
  Scratch scratch;
  ReadOptions options;
  options.skip_invalid = true;
  auto data = ReadYolo(kLabels.string(), options);
  ASSERT_TRUE(data.ok()) << data.status();
  ExpectSameLabelsAsCoco128(*data, scratch.path());
  std::string yaml = Slurp(scratch.path() / "data.yaml");
  EXPECT_THAT(yaml, HasSubstr("nc: 80\nnames:\n  0: person\n  1: bicycle\n"));
  EXPECT_THAT(yaml, HasSubstr("  79: toothbrush\n"));
  // data.yaml reads back as the same class list.
  auto classes = ReadClassesFile((scratch.path() / "data.yaml").string());
  ASSERT_TRUE(classes.ok()) << classes.status();
  EXPECT_EQ(*classes, data->classes);
}

// A two-image YOLO set copied from coco128 into `root`.
void SmallSet(const fs::path& root) {
  fs::create_directories(root / "images");
  fs::copy_file(kImages / "000000000009.jpg", root / "images" / "a.jpg");
  fs::copy_file(kImages / "000000000025.jpg", root / "images" / "b.jpg");
  Spit(root / "labels" / "a.txt", Slurp(kLabels / "000000000009.txt"));
  Spit(root / "labels" / "b.txt", "");
  fs::copy_file(kCoco128 / "classes.txt", root / "classes.txt");
}

TEST(ReadYoloTest, EmptyLabelFileIsAnImageWithoutBoxes) {
  Scratch scratch;
  SmallSet(scratch.path());
  auto data = ReadYolo((scratch.path() / "labels").string());
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ(data->images.size(), 2u);
  EXPECT_EQ(data->images[0].boxes.size(), 8u);
  EXPECT_EQ(data->images[1].file, "b.jpg");
  EXPECT_TRUE(data->images[1].boxes.empty());
  EXPECT_GT(data->images[1].width, 0);
  EXPECT_TRUE(data->warnings.empty());
}

TEST(ReadYoloTest, UndecodableImageIsNamed) {
  Scratch scratch;
  SmallSet(scratch.path());
  Spit(scratch.path() / "images" / "b.jpg", "this is not a JPEG");
  auto data = ReadYolo((scratch.path() / "labels").string());
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(data.status().ToString(),
              HasSubstr("b.jpg: image does not decode"));

  ReadOptions skip;
  skip.skip_invalid = true;
  auto skipped = ReadYolo((scratch.path() / "labels").string(), skip);
  ASSERT_TRUE(skipped.ok()) << skipped.status();
  EXPECT_EQ(skipped->images.size(), 1u);
  ASSERT_EQ(skipped->warnings.size(), 1u);
  EXPECT_THAT(skipped->warnings[0], HasSubstr("b.jpg: image does not decode"));
}

TEST(ReadYoloTest, BadLabelLineFailsWithPath) {
  Scratch scratch;
  SmallSet(scratch.path());
  Spit(scratch.path() / "labels" / "b.txt",
       "0 0.5 0.5 0.1 0.1\n80 0.5 0.5 0.1 0.1\n");
  auto data = ReadYolo((scratch.path() / "labels").string());
  ASSERT_FALSE(data.ok());
  EXPECT_THAT(data.status().ToString(),
              HasSubstr("labels/b.txt:2: unknown class index 80 (80 classes)"));
  EXPECT_EQ(FieldOf(data.status()), "class");
}

TEST(ReadYoloTest, ClassesFromDataYamlAndExplicitImagesDir) {
  Scratch scratch;
  SmallSet(scratch.path());
  fs::remove(scratch.path() / "classes.txt");
  auto missing = ReadYolo((scratch.path() / "labels").string());
  EXPECT_THAT(missing.status().ToString(),
              HasSubstr("no classes.txt or data.yaml"));
  Spit(scratch.path() / "data.yaml", "names: ['person', \"bicycle\"]\n");
  ReadOptions options;
  options.images_dir = (scratch.path() / "images").string();
  auto data = ReadYolo((scratch.path() / "labels").string(), options);
  // 000000000009 uses classes 45 and 50: not in a two-class list.
  ASSERT_FALSE(data.ok());
  EXPECT_THAT(data.status().ToString(),
              HasSubstr("a.txt:1: unknown class index 45 (2 classes)"));
}

TEST(ReadYoloTest, NoImagesDirIsExplained) {
  Scratch scratch;
  Spit(scratch.path() / "ann" / "a.txt", "");
  Spit(scratch.path() / "classes.txt", "person\n");
  auto data = ReadYolo((scratch.path() / "ann").string());
  ASSERT_FALSE(data.ok());
  EXPECT_THAT(data.status().ToString(), HasSubstr("--images"));
}

TEST(YoloWriterTest, RejectsTwoImagesWithOneLabelFile) {
  Scratch scratch;
  auto sink = MakeDirectorySink(scratch.path().string());
  auto writer = MakeYoloWriter(*sink);
  ASSERT_TRUE(writer->Begin({"person"}).ok());
  ASSERT_TRUE(writer->Add({"x.jpg", 10, 10, {}, {}}).ok());
  absl::Status s = writer->Add({"x.png", 10, 10, {}, {}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.ToString(), HasSubstr("x.png"));
}

TEST(YoloWriterTest, QuotesAwkwardClassNamesInDataYaml) {
  Scratch scratch;
  auto sink = MakeDirectorySink(scratch.path().string());
  auto writer = MakeYoloWriter(*sink);
  std::vector<std::string> classes = {"traffic light", "yes", "a: \"b\"", "7",
                                      "#tag"};
  ASSERT_TRUE(writer->Begin(classes).ok());
  ASSERT_TRUE(writer->Finish().ok());
  auto back = ReadClassesFile((scratch.path() / "data.yaml").string());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, classes);
}

}  // namespace
}  // namespace tessera::formats
