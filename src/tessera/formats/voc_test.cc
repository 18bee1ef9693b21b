// Pascal VOC codec tests: the XML subset (entities, comments, CDATA,
// attributes), escaping round trips, folder reading and located errors.
#include "tessera/formats/voc.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status.h"

namespace tessera::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class Scratch {
 public:
  Scratch() {
    path_ = fs::path(testing::TempDir()) /
            absl::StrCat(
                "voc_test_", getpid(), "_",
                testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~Scratch() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void Spit(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// LabelImg-style VOC with the extras real files carry.
const char kLabelImg[] = R"(<?xml version="1.0" encoding="utf-8"?>
<!-- made by hand -->
<annotation verified="no">
  <folder>images</folder>
  <filename>dog &amp; cat.jpg</filename>
  <path>/home/me/images/dog &amp; cat.jpg</path>
  <source><database>Unknown</database></source>
  <size>
    <width>500</width>
    <height>375</height>
    <depth>3</depth>
  </size>
  <segmented>0</segmented>
  <object>
    <name>dog</name>
    <pose>Unspecified</pose>
    <truncated>0</truncated>
    <difficult>0</difficult>
    <bndbox>
      <xmin>48</xmin>
      <ymin>240</ymin>
      <xmax>195</xmax>
      <ymax>371</ymax>
    </bndbox>
  </object>
  <object>
    <name><![CDATA[cat <small>]]></name>
    <bndbox><xmin>8.5</xmin><ymin>12</ymin><xmax>352</xmax><ymax>&#51;&#x34;&#x35;</ymax></bndbox>
  </object>
</annotation>
)";

TEST(ParseVocXmlTest, ReadsLabelImgFile) {
  auto image = ParseVocXml(kLabelImg, "a.xml");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->file, "dog & cat.jpg");
  EXPECT_EQ(image->width, 500);
  EXPECT_EQ(image->height, 375);
  ASSERT_EQ(image->boxes.size(), 2u);
  EXPECT_EQ(image->boxes[0], (Box{"dog", 48, 240, 147, 131, std::nullopt}));
  EXPECT_EQ(image->boxes[1],
            (Box{"cat <small>", 8.5, 12, 343.5, 333, std::nullopt}));
}

TEST(FormatVocXmlTest, EscapesAndReadsBackExactly) {
  DetectionImage image{"sub/a\"b'<c>&d.jpg",
                       640,
                       480,
                       {{"x<y & \"z\"", 0.1, 0.2, 100.5, 50.25, std::nullopt},
                        {"tab\there", 0, 0, 640, 480, std::nullopt}},
                       {}};
  auto xml = FormatVocXml(image);
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_THAT(
      *xml,
      HasSubstr("<filename>a&quot;b&apos;&lt;c&gt;&amp;d.jpg</filename>"));
  EXPECT_THAT(*xml, HasSubstr("<name>x&lt;y &amp; &quot;z&quot;</name>"));
  EXPECT_THAT(*xml, HasSubstr("<xmin>0.1</xmin>"));
  auto back = ParseVocXml(*xml, "a.xml");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->file,
            "a\"b'<c>&d.jpg");  // base name; the folder is the XML's
  ASSERT_EQ(back->boxes.size(), 2u);
  EXPECT_EQ(back->boxes[0].label, image.boxes[0].label);
  EXPECT_EQ(back->boxes[1].label, "tab\there");
  EXPECT_DOUBLE_EQ(back->boxes[0].w, 100.5);
  EXPECT_EQ(*FormatVocXml(*back), *xml);
}

struct BadXml {
  std::string from, to;
  std::string message;
  std::string field;
};

TEST(ParseVocXmlTest, BadInputNamesFileLineAndField) {
  const std::vector<BadXml> cases = {
      {"<xmax>195</xmax>", "<xmax>40</xmax>",
       "a.xml:19: box has negative size (xmax < xmin)",
       "annotation.object[0].bndbox.xmax"},
      {"<ymax>371</ymax>", "<ymax>380</ymax>",
       "a.xml:19: box [x=48, y=240, w=147, h=140] is outside the 500x375 image",
       "annotation.object[0].bndbox"},
      {"<xmin>48</xmin>", "<xmin>4x8</xmin>",
       "a.xml:20: <xmin> \"4x8\" is not a number",
       "annotation.object[0].bndbox.xmin"},
      {"<xmin>48</xmin>", "", "a.xml:19: <bndbox> has no <xmin>",
       "annotation.object[0].bndbox.xmin"},
      {"<name>dog</name>", "", "a.xml:14: <object> has no <name>",
       "annotation.object[0].name"},
      {"<width>500</width>", "<width>0</width>",
       "a.xml:9: image width must be a positive integer",
       "annotation.size.width"},
      {"<height>375</height>", "", "<size> has no <height>",
       "annotation.size.height"},
      {"</segmented>", "</segmentd>",
       "a.xml:13: malformed XML: </segmentd> closes <segmented> (line 13)", ""},
      {"</annotation>", "",
       "malformed XML: <annotation> (line 3) is never closed", ""},
      {"dog &amp; cat", "dog & cat", "a.xml:5: malformed XML: '&' must start",
       ""},
      {"&#51;", "&bogus;", "a.xml:28: malformed XML: unknown entity &bogus;",
       ""},
      {"<annotation verified=\"no\">", "<annotations>",
       "malformed XML: </annotation> closes <annotations>", ""},
  };
  for (const BadXml& c : cases) {
    std::string xml = absl::StrReplaceAll(kLabelImg, {{c.from, c.to}});
    ASSERT_NE(xml, kLabelImg) << c.from;
    auto image = ParseVocXml(xml, "a.xml");
    ASSERT_FALSE(image.ok()) << c.from << " -> " << c.to;
    EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(image.status().ToString(), HasSubstr(c.message)) << c.to;
    if (c.field.empty()) {
      EXPECT_EQ(FieldOf(image.status()), std::nullopt) << c.to;
    } else {
      EXPECT_EQ(FieldOf(image.status()), c.field) << c.to;
    }
  }
  auto wrong_root = ParseVocXml("<voc><filename>x</filename></voc>", "r.xml");
  EXPECT_THAT(wrong_root.status().ToString(),
              HasSubstr("expected <annotation>"));
  auto empty = ParseVocXml("", "e.xml");
  EXPECT_THAT(empty.status().ToString(), HasSubstr("e.xml:1: malformed XML"));
}

TEST(ParseVocXmlTest, EveryTruncationIsAnError) {
  const std::string xml(kLabelImg);
  for (size_t n = 0; n < xml.rfind('>'); ++n) {
    auto image = ParseVocXml(xml.substr(0, n), "t.xml");
    ASSERT_FALSE(image.ok()) << n;
    EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument) << n;
    EXPECT_THAT(image.status().ToString(), HasSubstr("t.xml:")) << n;
  }
}

TEST(ReadVocTest, ReadsFolderWithSubfoldersAndClassesFile) {
  Scratch scratch;
  DetectionDataset data;
  data.classes = {"person", "car"};
  data.images = {
      {"a.jpg", 100, 50, {{"car", 1, 2, 3, 4, std::nullopt}}, {}},
      {"night/b.png", 30, 20, {}, {}},
      {"c.jpg", 100, 50, {{"person", 0, 0, 100, 50, std::nullopt}}, {}},
  };
  auto sink = MakeDirectorySink(scratch.path().string());
  auto writer = MakeVocWriter(*sink);
  ASSERT_TRUE(WriteDataset(data, *writer).ok());
  EXPECT_TRUE(fs::exists(scratch.path() / "night" / "b.xml"));
  EXPECT_EQ(Slurp(scratch.path() / "classes.txt"), "person\ncar\n");

  auto back = ReadVoc(scratch.path().string());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->classes, data.classes);
  ASSERT_EQ(back->images.size(), 3u);
  EXPECT_EQ(back->images[0], data.images[0]);
  EXPECT_EQ(back->images[1], data.images[2]);  // sorted by XML path
  EXPECT_EQ(back->images[2], data.images[1]);

  // Without classes.txt the classes are the labels, sorted.
  fs::remove(scratch.path() / "classes.txt");
  auto sorted = ReadVoc(scratch.path().string());
  ASSERT_TRUE(sorted.ok()) << sorted.status();
  EXPECT_EQ(sorted->classes, (std::vector<std::string>{"car", "person"}));

  // A class list that lacks a label is an error.
  Spit(scratch.path() / "only.txt", "person\n");
  ReadOptions options;
  options.classes_file = (scratch.path() / "only.txt").string();
  auto missing = ReadVoc(scratch.path().string(), options);
  EXPECT_THAT(missing.status().ToString(),
              HasSubstr("a.jpg: class \"car\" is not in the class list"));
}

TEST(ReadVocTest, DuplicateImageAndBadFile) {
  Scratch scratch;
  std::string one = absl::StrReplaceAll(kLabelImg, {{"dog &amp; cat", "x"}});
  Spit(scratch.path() / "1.xml", one);
  Spit(scratch.path() / "2.xml", one);
  auto dup = ReadVoc(scratch.path().string());
  ASSERT_FALSE(dup.ok());
  EXPECT_THAT(dup.status().ToString(),
              HasSubstr("2.xml: image x.jpg is also annotated by"));

  Spit(scratch.path() / "2.xml", "<annotation><filename>y.jpg</filename>");
  ReadOptions skip;
  skip.skip_invalid = true;
  auto skipped = ReadVoc(scratch.path().string(), skip);
  ASSERT_TRUE(skipped.ok()) << skipped.status();
  EXPECT_EQ(skipped->images.size(), 1u);
  ASSERT_EQ(skipped->warnings.size(), 1u);
  EXPECT_THAT(skipped->warnings[0], HasSubstr("2.xml:1: malformed XML"));
}

}  // namespace
}  // namespace tessera::formats
