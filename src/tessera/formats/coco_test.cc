// COCO codec tests: structural validity of written files (the reference
// COCO API's expectations), exact round trips on coco128, the spool path,
// and located errors for bad input.
#include "tessera/formats/coco.h"

#include <filesystem>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tessera/base/status.h"
#include "tessera/formats/yolo.h"

namespace tessera::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kLabels =
    fs::path(TESSERA_TEST_DATA_DIR) / "coco128" / "labels" / "train2017";

struct CocoCounts {
  size_t images = 0;
  size_t annotations = 0;
  size_t categories = 0;
};

// Checks what the COCO API relies on: unique ids (images, annotations,
// categories), unique file names and category names, every annotation's
// image and category exist, bbox is [x,y,w,h] inside its image with
// non-negative size, area == w*h, iscrowd == 0. Adds failures; returns counts.
CocoCounts ValidateCoco(const std::string& json) {
  CocoCounts counts;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  auto err = parser.parse(json).get(root);
  EXPECT_EQ(err, simdjson::SUCCESS) << simdjson::error_message(err);
  if (err) return counts;
  absl::flat_hash_map<int64_t, std::pair<int64_t, int64_t>> image_size;
  absl::flat_hash_set<std::string> file_names, category_names;
  absl::flat_hash_set<int64_t> category_ids, annotation_ids;
  simdjson::dom::array images, categories, annotations;
  EXPECT_EQ(root["images"].get(images), simdjson::SUCCESS);
  EXPECT_EQ(root["categories"].get(categories), simdjson::SUCCESS);
  EXPECT_EQ(root["annotations"].get(annotations), simdjson::SUCCESS);
  for (simdjson::dom::object image : images) {
    int64_t id = image["id"].get_int64().value();
    int64_t w = image["width"].get_int64().value();
    int64_t h = image["height"].get_int64().value();
    EXPECT_GT(w, 0);
    EXPECT_GT(h, 0);
    EXPECT_TRUE(image_size.emplace(id, std::pair{w, h}).second)
        << "image " << id;
    std::string name(image["file_name"].get_string().value());
    EXPECT_TRUE(file_names.insert(name).second) << name;
    ++counts.images;
  }
  for (simdjson::dom::object c : categories) {
    EXPECT_TRUE(category_ids.insert(c["id"].get_int64().value()).second);
    EXPECT_TRUE(
        category_names.insert(std::string(c["name"].get_string().value()))
            .second);
    ++counts.categories;
  }
  for (simdjson::dom::object a : annotations) {
    int64_t id = a["id"].get_int64().value();
    EXPECT_TRUE(annotation_ids.insert(id).second) << "annotation " << id;
    auto image = image_size.find(a["image_id"].get_int64().value());
    EXPECT_NE(image, image_size.end()) << "annotation " << id;
    EXPECT_TRUE(category_ids.contains(a["category_id"].get_int64().value()))
        << "annotation " << id;
    simdjson::dom::array bbox;
    EXPECT_EQ(a["bbox"].get(bbox), simdjson::SUCCESS);
    EXPECT_EQ(bbox.size(), 4u);
    double v[4];
    for (size_t k = 0; k < 4; ++k) v[k] = bbox.at(k).get_double().value();
    EXPECT_GE(v[2], 0);
    EXPECT_GE(v[3], 0);
    if (image != image_size.end()) {
      double tx = kEdgeTolerance * image->second.first;
      double ty = kEdgeTolerance * image->second.second;
      EXPECT_GE(v[0], -tx) << "annotation " << id;
      EXPECT_GE(v[1], -ty) << "annotation " << id;
      EXPECT_LE(v[0] + v[2], image->second.first + tx) << "annotation " << id;
      EXPECT_LE(v[1] + v[3], image->second.second + ty) << "annotation " << id;
    }
    EXPECT_EQ(a["area"].get_double().value(), v[2] * v[3])
        << "annotation " << id;
    EXPECT_EQ(a["iscrowd"].get_int64().value(), 0);
    ++counts.annotations;
  }
  return counts;
}

absl::StatusOr<std::string> WriteCoco(const DetectionDataset& data) {
  std::string out;
  auto writer = MakeCocoWriter([&out](absl::string_view bytes) {
    out.append(bytes.data(), bytes.size());
    return absl::OkStatus();
  });
  TS_RETURN_IF_ERROR(WriteDataset(data, *writer));
  return out;
}

DetectionDataset Coco128() {
  ReadOptions options;
  options.skip_invalid = true;
  auto data = ReadYolo(kLabels.string(), options);
  EXPECT_TRUE(data.ok()) << data.status();
  return data.ok() ? *std::move(data) : DetectionDataset{};
}

TEST(CocoTest, Coco128WritesValidCocoAndReadsBackExactly) {
  DetectionDataset data = Coco128();
  ASSERT_EQ(data.images.size(), 126u);
  auto json = WriteCoco(data);
  ASSERT_TRUE(json.ok()) << json.status();
  CocoCounts counts = ValidateCoco(*json);
  EXPECT_EQ(counts.images, 126u);
  EXPECT_EQ(counts.annotations, 929u);
  EXPECT_EQ(counts.categories, 80u);

  auto back = ParseCoco(*json, "out.json");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->warnings.empty());
  EXPECT_EQ(back->classes, data.classes);
  // Shortest round-trip decimals: every pixel coordinate is the same double.
  EXPECT_EQ(back->images, data.images);

  auto again = WriteCoco(*back);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *json);  // deterministic
}

TEST(CocoTest, SpoolsManyAnnotationsThroughTempFile) {
  DetectionDataset data;
  data.classes = {"a", "b", "c"};
  for (int i = 0; i < 3000; ++i) {
    DetectionImage image{absl::StrCat("img/", i, ".jpg"), 1000, 800, {}, {}};
    for (int k = 0; k < 20; ++k) {
      image.boxes.push_back({data.classes[k % 3], k * 10.25, k * 7.5,
                             33.3 + i % 500, 20.0 / 3, std::nullopt});
    }
    data.images.push_back(std::move(image));
  }
  size_t chunks = 0;
  std::string out;
  auto writer = MakeCocoWriter([&](absl::string_view bytes) {
    ++chunks;
    out.append(bytes.data(), bytes.size());
    return absl::OkStatus();
  });
  ASSERT_TRUE(WriteDataset(data, *writer).ok());
  EXPECT_GT(out.size(), size_t{4} << 20);
  EXPECT_GT(chunks, 4u);  // streamed, not one buffer
  CocoCounts counts = ValidateCoco(out);
  EXPECT_EQ(counts.images, 3000u);
  EXPECT_EQ(counts.annotations, 60000u);
  auto back = ParseCoco(out, "big.json");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->images, data.images);
}

TEST(CocoTest, ScoresRoundTrip) {
  DetectionDataset data;
  data.classes = {"person"};
  data.images.push_back({"a.jpg", 10, 10, {{"person", 1, 1, 2, 2, 0.75}}, {}});
  auto json = WriteCoco(data);
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr("\"score\":0.75"));
  auto back = ParseCoco(*json, "a.json");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->images, data.images);
}

TEST(CocoTest, WriterRejectsBadImages) {
  DetectionDataset data;
  data.classes = {"person"};
  data.images.push_back(
      {"a.jpg", 10, 10, {{"dog", 1, 1, 2, 2, std::nullopt}}, {}});
  EXPECT_THAT(WriteCoco(data).status().ToString(),
              HasSubstr("a.jpg: box 0 has unknown class \"dog\""));
  data.images[0].boxes[0] = {"person", 1, 1, -2, 2, std::nullopt};
  EXPECT_THAT(WriteCoco(data).status().ToString(), HasSubstr("negative size"));
  data.images[0] = {"a.jpg", 0, 10, {}, {}};
  EXPECT_EQ(WriteCoco(data).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A small valid COCO file to break in each test case.
const char kValid[] = R"({
  "images": [
    {"id": 7, "file_name": "a.jpg", "width": 100, "height": 50},
    {"id": 9, "file_name": "b.jpg", "width": 100, "height": 50}
  ],
  "annotations": [
    {"id": 1, "image_id": 7, "category_id": 3, "bbox": [10, 5, 20.5, 10], "area": 205, "iscrowd": 0},
    {"id": 2, "image_id": 9, "category_id": 1, "bbox": [0, 0, 100, 50], "iscrowd": 0}
  ],
  "categories": [
    {"id": 3, "name": "car"},
    {"id": 1, "name": "person"}
  ]
})";

TEST(ParseCocoTest, ReadsCategoriesInIdOrder) {
  auto data = ParseCoco(kValid, "v.json");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->classes, (std::vector<std::string>{"person", "car"}));
  ASSERT_EQ(data->images.size(), 2u);
  EXPECT_EQ(data->images[0].file, "a.jpg");
  EXPECT_EQ(data->images[0].boxes,
            (std::vector<Box>{{"car", 10, 5, 20.5, 10, std::nullopt}}));
  EXPECT_EQ(data->images[1].boxes[0].label, "person");
}

struct BadCoco {
  std::string from, to;  // replacement in kValid
  std::string message;   // after "bad.json:LINE: "
  std::string field;
  int line;
};

TEST(ParseCocoTest, BadInputNamesFileAndField) {
  const std::vector<BadCoco> cases = {
      {R"("id": 9, "file_name")", R"("id": 7, "file_name")",
       "duplicate image id 7", "images[1].id", 4},
      {R"("id": 2, "image_id")", R"("id": 1, "image_id")",
       "duplicate annotation id 1", "annotations[1].id", 8},
      {R"({"id": 1, "name")", R"({"id": 3, "name")", "duplicate category id 3",
       "categories[1].id", 12},
      {R"("name": "person")", R"("name": "car")",
       "duplicate category name \"car\"", "categories[1].name", 12},
      {R"("b.jpg")", R"("a.jpg")", "duplicate file_name \"a.jpg\"",
       "images[1].file_name", 4},
      {R"("category_id": 1)", R"("category_id": 2)", "no category has id 2",
       "annotations[1].category_id", 8},
      {R"("image_id": 9)", R"("image_id": 8)", "no image has id 8",
       "annotations[1].image_id", 8},
      {"[10, 5, 20.5, 10]", "[90, 5, 20.5, 10]",
       "box [x=90, y=5, w=20.5, h=10] is outside the 100x50 image (a.jpg)",
       "annotations[0].bbox", 7},
      {"[10, 5, 20.5, 10]", "[10, 5, -20.5, 10]", "box has negative size",
       "annotations[0].bbox", 7},
      {"[10, 5, 20.5, 10]", "[10, 5, 20.5]", "must be an array [x, y, w, h]",
       "annotations[0].bbox", 7},
      {"[10, 5, 20.5, 10]", "[10, 5, \"20\", 10]", "must be a number",
       "annotations[0].bbox[2]", 7},
      {R"("width": 100, "height": 50},
    {"id": 9)",
       R"("width": 0, "height": 50},
    {"id": 9)",
       "image width 0 must be positive", "images[0].width", 3},
      {R"({"id": 7,)", R"({"id": "7",)", "must be an integer", "images[0].id",
       3},
      {R"("id": 9, "file_name": "b.jpg",)", R"("id": 9,)", "missing",
       "images[1].file_name", 4},
      {R"("categories")", R"("kategorien")", "missing", "categories", 1},
  };
  for (const BadCoco& c : cases) {
    std::string json = absl::StrReplaceAll(kValid, {{c.from, c.to}});
    ASSERT_NE(json, kValid) << c.from;
    auto data = ParseCoco(json, "bad.json");
    ASSERT_FALSE(data.ok()) << c.to;
    EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(data.status().ToString(),
                HasSubstr(absl::StrCat("bad.json:", c.line, ": ", c.message)))
        << c.to;
    EXPECT_EQ(FieldOf(data.status()), c.field) << c.to;
  }
}

TEST(ParseCocoTest, TruncatedJsonNamesLine) {
  std::string json(kValid);
  json.resize(json.find("\"bbox\": [0, 0"));
  auto data = ParseCoco(json, "cut.json");
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(data.status().ToString(),
              HasSubstr("cut.json:8: malformed JSON"));
  EXPECT_THAT(data.status().ToString(), HasSubstr("ends early"));

  auto syntax = ParseCoco("{\"images\": [\n  {\"id\": 1,, }\n]}", "s.json");
  EXPECT_THAT(syntax.status().ToString(),
              HasSubstr("s.json:2: malformed JSON at column 12"));
  auto not_object = ParseCoco("[1, 2]", "l.json");
  EXPECT_THAT(not_object.status().ToString(), HasSubstr("must be an object"));
}

TEST(ParseCocoTest, EveryTruncationIsAnError) {
  const std::string json(kValid);
  for (size_t n = 0; n < json.rfind('}'); ++n) {
    auto data = ParseCoco(json.substr(0, n), "t.json");
    ASSERT_FALSE(data.ok()) << n;
    EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument) << n;
    EXPECT_THAT(data.status().ToString(), HasSubstr("t.json:")) << n;
  }
}

TEST(ParseCocoTest, SkipInvalidDropsTheImageAndSaysWhy) {
  std::string json = absl::StrReplaceAll(
      kValid, {{R"("category_id": 1)", R"("category_id": 2)"},
               {R"("image_id": 7)", R"("image_id": 70)"}});
  ReadOptions options;
  options.skip_invalid = true;
  auto data = ParseCoco(json, "s.json", options);
  ASSERT_TRUE(data.ok()) << data.status();
  // b.jpg's only annotation is bad, so b.jpg is left out rather than being
  // read as an image without objects; a.jpg lost an orphan annotation only.
  ASSERT_EQ(data->images.size(), 1u);
  EXPECT_EQ(data->images[0].file, "a.jpg");
  EXPECT_TRUE(data->images[0].boxes.empty());
  ASSERT_EQ(data->warnings.size(), 2u);
  EXPECT_THAT(data->warnings[0], HasSubstr("no image has id 70"));
  EXPECT_THAT(data->warnings[1], HasSubstr("no category has id 2"));
}

TEST(ParseCocoTest, CrowdAnnotationsAreLeftOutWithAWarning) {
  std::string json = absl::StrReplaceAll(
      kValid, {{R"("category_id": 1, "bbox": [0, 0, 100, 50], "iscrowd": 0)",
                R"("category_id": 1, "bbox": [0, 0, 100, 50], "iscrowd": 1)"}});
  auto data = ParseCoco(json, "c.json");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_TRUE(data->images[1].boxes.empty());
  ASSERT_EQ(data->warnings.size(), 1u);
  EXPECT_THAT(data->warnings[0], HasSubstr("left out 1 iscrowd=1"));
}

TEST(ParseCocoTest, MissingFileIsAnError) {
  auto data = ReadCoco("/nonexistent/x.json");
  EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(data.status().ToString(), HasSubstr("/nonexistent/x.json"));
}

}  // namespace
}  // namespace tessera::formats
