// Label Studio codec tests: a realistic export (cancelled and multiple
// annotations, predictions, other result types), sizes, writer round trip
// and located errors.
#include "tessera/formats/labelstudio.h"

#include <filesystem>
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

const char kExport[] = R"([
 {"id": 11, "data": {"image": "/data/upload/1/a.jpg"},
  "annotations": [
    {"id": 1, "was_cancelled": true, "result": []},
    {"id": 2, "result": [
      {"id": "x1", "type": "rectanglelabels", "from_name": "label", "to_name": "image",
       "original_width": 200, "original_height": 100, "image_rotation": 0,
       "value": {"x": 10, "y": 20, "width": 50, "height": 25, "rotation": 0,
                 "rectanglelabels": ["Car"]}},
      {"id": "c1", "type": "choices", "from_name": "time", "to_name": "image",
       "value": {"choices": ["day"]}}
    ]},
    {"id": 3, "result": []}
  ],
  "predictions": [
    {"model_version": "yolo", "score": 0.8, "result": [
      {"type": "rectanglelabels", "original_width": 200, "original_height": 100,
       "value": {"x": 0, "y": 0, "width": 100, "height": 100, "rectanglelabels": ["Person"]},
       "score": 0.9},
      {"type": "rectanglelabels",
       "value": {"x": 50, "y": 50, "width": 10, "height": 10, "rectanglelabels": ["Car"]}}
    ]}
  ]
 },
 {"id": 12, "data": {"image": "b.jpg", "width": 300, "height": 150}, "annotations": []}
])";

TEST(ParseLabelStudioTest, ReadsRealisticExport) {
  auto data = ParseLabelStudio(kExport, "ls.json");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->classes, (std::vector<std::string>{"Car", "Person"}));
  ASSERT_EQ(data->images.size(), 2u);
  const DetectionImage& a = data->images[0];
  EXPECT_EQ(a.file, "/data/upload/1/a.jpg");
  EXPECT_EQ(a.width, 200);
  EXPECT_EQ(a.height, 100);
  ASSERT_EQ(a.boxes.size(), 1u);
  EXPECT_EQ(a.boxes[0], (Box{"Car", 20, 20, 100, 25, std::nullopt}));
  ASSERT_EQ(a.predictions.size(), 2u);
  EXPECT_EQ(a.predictions[0], (Box{"Person", 0, 0, 200, 100, 0.9}));
  EXPECT_EQ(a.predictions[1], (Box{"Car", 100, 50, 20, 10, 0.8}));
  EXPECT_EQ(data->images[1].file, "b.jpg");
  EXPECT_EQ(data->images[1].width, 300);
  EXPECT_TRUE(data->images[1].boxes.empty());
  ASSERT_EQ(data->warnings.size(), 1u);
  EXPECT_THAT(data->warnings[0],
              HasSubstr("has 2 annotations; used the first"));
}

TEST(LabelStudioWriterTest, RoundTripsBoxesAndPredictions) {
  DetectionDataset data;
  data.classes = {"car", "person"};
  data.images = {
      {"a b/\"c\".jpg",
       640,
       480,
       {{"car", 12.5, 30, 100, 200.25, std::nullopt}},
       {{"person", 0, 0, 640, 480, 0.5}}},
      {"empty.jpg", 10, 20, {}, {}},
  };
  std::string out;
  auto writer = MakeLabelStudioWriter([&](absl::string_view b) {
    out.append(b.data(), b.size());
    return absl::OkStatus();
  });
  ASSERT_TRUE(WriteDataset(data, *writer).ok());
  EXPECT_THAT(out,
              HasSubstr(R"("image":"a b/\"c\".jpg","width":640,"height":480)"));
  EXPECT_THAT(out, HasSubstr(R"("from_name":"label","to_name":"image")"));
  EXPECT_THAT(out, HasSubstr(R"("annotations":[{"result":[]}])"));
  auto back = ParseLabelStudio(out, "out.json");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->classes, data.classes);
  ASSERT_EQ(back->images.size(), 2u);
  const Box& b = back->images[0].boxes[0];
  EXPECT_EQ(b.label, "car");
  EXPECT_DOUBLE_EQ(b.x, 12.5);
  EXPECT_DOUBLE_EQ(b.y, 30);
  EXPECT_DOUBLE_EQ(b.w, 100);
  EXPECT_DOUBLE_EQ(b.h, 200.25);
  EXPECT_EQ(back->images[0].predictions[0].score, 0.5);
  EXPECT_EQ(back->images[1], data.images[1]);
}

struct BadLs {
  std::string from, to;
  std::string message;  // after "ls.json:LINE: "
  std::string field;
  int line;
};

TEST(ParseLabelStudioTest, BadInputNamesFileAndField) {
  const std::vector<BadLs> cases = {
      {R"("image": "b.jpg")", R"("img": "b.jpg")", "must be a non-empty string",
       "[1].data.image", 25},
      {R"("rotation": 0,)", R"("rotation": 30,)",
       "rotated rectangles are not supported",
       "[0].annotations[1].result[0].value.rotation", 8},
      {R"(["Car"]}},)", R"(["Car", "Truck"]}},)",
       "must hold exactly one non-empty label",
       "[0].annotations[1].result[0].value.rectanglelabels", 9},
      {R"("width": 50, "height": 25)", R"("width": "50", "height": 25)",
       "must be a number", "[0].annotations[1].result[0].value.width", 8},
      {R"("x": 10, "y": 20, "width": 50)", R"("x": 60, "y": 20, "width": 50)",
       "box [x=120, y=20, w=100, h=25] is outside the 200x100 image",
       "[0].annotations[1].result[0].value", 8},
      {R"("x": 10, "y": 20, "width": 50)", R"("x": 10, "y": 20, "width": -5)",
       "box has negative size (w=-10, h=25)",
       "[0].annotations[1].result[0].value", 8},
      {R"("original_width": 200, "original_height": 100,
       "value": {"x": 0,)",
       R"("original_width": 201, "original_height": 100,
       "value": {"x": 0,)",
       "image size 201x100 disagrees with 200x100 from "
       "[0].annotations[1].result[0].original_width",
       "[0].predictions[0].result[0].original_width", 17},
      {R"({"id": 12,)", R"({"id": 11,)", "duplicate task id 11", "[1].id", 25},
      {R"("b.jpg", "width": 300, "height": 150)", R"("b.jpg")",
       "image size unknown", "[1].data", 25},
      {R"("b.jpg")", R"("/data/upload/1/a.jpg")",
       "image /data/upload/1/a.jpg is also task [0]", "[1].data.image", 25},
      {R"("annotations": [])", R"("annotations": {})", "must be an array",
       "[1].annotations", 25},
  };
  for (const BadLs& c : cases) {
    std::string json = absl::StrReplaceAll(kExport, {{c.from, c.to}});
    ASSERT_NE(json, kExport) << c.from;
    auto data = ParseLabelStudio(json, "ls.json");
    ASSERT_FALSE(data.ok()) << c.to;
    EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(data.status().ToString(),
                HasSubstr(absl::StrCat("ls.json:", c.line, ": ", c.message)))
        << c.to;
    EXPECT_EQ(FieldOf(data.status()), c.field) << c.to;
  }
}

TEST(ParseLabelStudioTest, TruncatedAndWrongShape) {
  std::string cut(kExport);
  cut.resize(cut.find("\"predictions\""));
  auto truncated = ParseLabelStudio(cut, "t.json");
  EXPECT_THAT(truncated.status().ToString(),
              HasSubstr("t.json:15: malformed JSON"));
  auto object = ParseLabelStudio(R"({"data": {}})", "o.json");
  EXPECT_THAT(object.status().ToString(), HasSubstr("must be a list of tasks"));
}

TEST(ParseLabelStudioTest, EveryTruncationIsAnError) {
  const std::string json(kExport);
  for (size_t n = 0; n < json.rfind(']'); ++n) {
    auto data = ParseLabelStudio(json.substr(0, n), "t.json");
    ASSERT_FALSE(data.ok()) << n;
    EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument) << n;
    EXPECT_THAT(data.status().ToString(), HasSubstr("t.json:")) << n;
  }
}

TEST(ParseLabelStudioTest, SizeFromImagesDirAndSkipInvalid) {
  const char json[] = R"([{"data": {"image": "000000000009.jpg"}},
                          {"data": {"image": "missing.jpg"}}])";
  ReadOptions options;
  options.images_dir =
      (fs::path(TESSERA_TEST_DATA_DIR) / "coco128" / "images" / "train2017")
          .string();
  auto failed = ParseLabelStudio(json, "i.json", options);
  EXPECT_THAT(failed.status().ToString(),
              HasSubstr("missing.jpg: cannot read image"));
  options.skip_invalid = true;
  auto data = ParseLabelStudio(json, "i.json", options);
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ(data->images.size(), 1u);
  EXPECT_EQ(data->images[0].width, 640);
  EXPECT_EQ(data->images[0].height, 480);
  ASSERT_EQ(data->warnings.size(), 1u);
  EXPECT_THAT(data->warnings[0], HasSubstr("missing.jpg"));
}

}  // namespace
}  // namespace tessera::formats
