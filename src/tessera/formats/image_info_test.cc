// Tests of image listing and size reading on real coco128 images.
#include "tessera/formats/image_info.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kImages =
    fs::path(TESSERA_TEST_DATA_DIR) / "coco128" / "images" / "train2017";

TEST(ImageInfoTest, ListsImagesSortedAndRelative) {
  auto files = ListImageFiles(kImages.string());
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 128u);
  EXPECT_EQ(files->front(), "000000000009.jpg");
  EXPECT_TRUE(std::is_sorted(files->begin(), files->end()));
  auto parent = ListImageFiles(kImages.parent_path().string());
  ASSERT_TRUE(parent.ok());
  EXPECT_EQ(parent->front(), "train2017/000000000009.jpg");
  auto missing = ListImageFiles("/nonexistent/images");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ImageInfoTest, FileNameExtensions) {
  EXPECT_TRUE(IsImageFileName("a.JPG"));
  EXPECT_TRUE(IsImageFileName("x/y.png"));
  EXPECT_TRUE(IsImageFileName("t.tiff"));
  EXPECT_FALSE(IsImageFileName("a.txt"));
  EXPECT_FALSE(IsImageFileName("jpg"));
}

TEST(ImageInfoTest, ReadsSizeOrNamesTheBadFile) {
  auto size = ReadImageSize((kImages / "000000000009.jpg").string());
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(size->width, 640);
  EXPECT_EQ(size->height, 480);

  fs::path bad = fs::path(testing::TempDir()) /
                 absl::StrCat("image_info_test_", getpid(), ".png");
  std::ofstream(bad) << "not a PNG at all";
  auto undecodable = ReadImageSize(bad.string());
  fs::remove(bad);
  EXPECT_EQ(undecodable.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(undecodable.status().ToString(),
              HasSubstr(absl::StrCat(bad.string(), ": image does not decode")));
  auto missing = ReadImageSize("/nonexistent/x.jpg");
  EXPECT_THAT(missing.status().ToString(),
              HasSubstr("/nonexistent/x.jpg: cannot read image"));
}

}  // namespace
}  // namespace tessera::formats
