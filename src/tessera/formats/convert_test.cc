// Conversion tests on the real coco128: YOLO → COCO/VOC/LS → YOLO gives
// byte-identical label files, and bad input fails before anything is written.
#include "tessera/formats/convert.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status.h"

namespace tessera::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kCoco128 = fs::path(TESSERA_TEST_DATA_DIR) / "coco128";
const fs::path kLabels = kCoco128 / "labels" / "train2017";

class ConvertTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) /
           absl::StrCat(
               "convert_test_", getpid(), "_",
               testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  absl::StatusOr<ConvertReport> Convert(DetectionFormat from,
                                        DetectionFormat to, fs::path in,
                                        fs::path out,
                                        std::string classes = "") {
    ConvertOptions o;
    o.from = from;
    o.to = to;
    o.input = in.string();
    o.output = out.string();
    o.classes_file = std::move(classes);
    o.skip_invalid = true;  // coco128's two label files without images
    return ConvertDetections(o);
  }

  // Every label file under `yolo_out`/labels equals coco128's, byte for
  // byte (000000000009.txt is the one original without a final newline).
  void ExpectCoco128Labels(const fs::path& yolo_out) {
    size_t compared = 0;
    for (const auto& entry : fs::directory_iterator(yolo_out / "labels")) {
      std::string name = entry.path().filename().string();
      std::string original = Slurp(kLabels / name);
      if (name == "000000000009.txt") original += "\n";
      EXPECT_EQ(Slurp(entry.path()), original) << name;
      ++compared;
    }
    EXPECT_EQ(compared, 126u);
  }

  fs::path dir_;
};

TEST_F(ConvertTest, YoloCocoYoloIsByteIdentical) {
  auto there = Convert(DetectionFormat::kYolo, DetectionFormat::kCoco, kLabels,
                       dir_ / "coco.json");
  ASSERT_TRUE(there.ok()) << there.status();
  EXPECT_EQ(there->images, 126u);
  EXPECT_EQ(there->boxes, 929u);
  ASSERT_EQ(there->warnings.size(), 4u);  // the four coco128 quirks
  EXPECT_THAT(there->warnings[0], HasSubstr("000000000656.txt"));
  auto back = Convert(DetectionFormat::kCoco, DetectionFormat::kYolo,
                      dir_ / "coco.json", dir_ / "yolo");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->warnings.empty());
  ExpectCoco128Labels(dir_ / "yolo");
  EXPECT_EQ(Slurp(dir_ / "yolo" / "data.yaml").find("  0: person\n") !=
                std::string::npos,
            true);
}

TEST_F(ConvertTest, YoloVocYoloIsByteIdentical) {
  ASSERT_TRUE(Convert(DetectionFormat::kYolo, DetectionFormat::kVoc, kLabels,
                      dir_ / "voc")
                  .ok());
  EXPECT_TRUE(fs::exists(dir_ / "voc" / "000000000009.xml"));
  auto back = Convert(DetectionFormat::kVoc, DetectionFormat::kYolo,
                      dir_ / "voc", dir_ / "yolo");
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectCoco128Labels(dir_ / "yolo");
}

TEST_F(ConvertTest, YoloLabelStudioYoloIsByteIdentical) {
  ASSERT_TRUE(Convert(DetectionFormat::kYolo, DetectionFormat::kLabelStudio,
                      kLabels, dir_ / "ls.json")
                  .ok());
  // Label Studio keeps no class list: pass the original order.
  auto back = Convert(DetectionFormat::kLabelStudio, DetectionFormat::kYolo,
                      dir_ / "ls.json", dir_ / "yolo",
                      (kCoco128 / "classes.txt").string());
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectCoco128Labels(dir_ / "yolo");
}

TEST_F(ConvertTest, ChainThroughEveryFormatIsByteIdentical) {
  ASSERT_TRUE(Convert(DetectionFormat::kYolo, DetectionFormat::kLabelStudio,
                      kLabels, dir_ / "ls.json")
                  .ok());
  std::string classes = (kCoco128 / "classes.txt").string();
  ASSERT_TRUE(Convert(DetectionFormat::kLabelStudio, DetectionFormat::kVoc,
                      dir_ / "ls.json", dir_ / "voc", classes)
                  .ok());
  ASSERT_TRUE(Convert(DetectionFormat::kVoc, DetectionFormat::kCoco,
                      dir_ / "voc", dir_ / "coco.json")
                  .ok());
  ASSERT_TRUE(Convert(DetectionFormat::kCoco, DetectionFormat::kYolo,
                      dir_ / "coco.json", dir_ / "yolo")
                  .ok());
  ExpectCoco128Labels(dir_ / "yolo");
  // Same input, same bytes.
  ASSERT_TRUE(Convert(DetectionFormat::kVoc, DetectionFormat::kCoco,
                      dir_ / "voc", dir_ / "coco2.json")
                  .ok());
  EXPECT_EQ(Slurp(dir_ / "coco.json"), Slurp(dir_ / "coco2.json"));
}

TEST_F(ConvertTest, BadInputFailsBeforeWritingAnything) {
  ConvertOptions o;
  o.from = DetectionFormat::kYolo;
  o.to = DetectionFormat::kCoco;
  o.input = kLabels.string();
  o.output = (dir_ / "out" / "coco.json").string();
  auto report = ConvertDetections(o);  // skip_invalid off
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().ToString(),
              HasSubstr("000000000656.txt: label file has no image"));
  EXPECT_FALSE(fs::exists(dir_ / "out"));

  std::ofstream(dir_ / "cut.json") << R"({"images": [{"id": 1)";
  o.from = DetectionFormat::kCoco;
  o.to = DetectionFormat::kYolo;
  o.input = (dir_ / "cut.json").string();
  o.output = (dir_ / "yolo").string();
  report = ConvertDetections(o);
  EXPECT_THAT(report.status().ToString(),
              HasSubstr("cut.json:1: malformed JSON"));
  EXPECT_FALSE(fs::exists(dir_ / "yolo"));
}

TEST(DetectionFormatTest, Names) {
  for (const char* name : {"yolo", "coco", "voc", "ls"}) {
    auto f = ParseDetectionFormat(name);
    ASSERT_TRUE(f.ok()) << name;
    EXPECT_EQ(DetectionFormatName(*f), name);
  }
  EXPECT_EQ(*ParseDetectionFormat("labelstudio"),
            DetectionFormat::kLabelStudio);
  auto bad = ParseDetectionFormat("kitti");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().ToString(),
              HasSubstr("unknown detection format \"kitti\""));
}

}  // namespace
}  // namespace tessera::formats
