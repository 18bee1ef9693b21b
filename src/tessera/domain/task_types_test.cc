#include "tessera/domain/task_types.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"

namespace tessera::domain {
namespace {

using nlohmann::json;

std::optional<std::string> FieldOfResult(TaskType t, const json& config,
                                         const json& data, const json& result) {
  absl::Status s = ValidateResult(t, config, data, result, "result");
  if (s.ok()) return std::nullopt;
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  return FieldOf(s).value_or("<none>");
}

TEST(PoolConfigTest, DefaultsAndErrors) {
  auto rating = NormalizePoolConfig(
      TaskType::kRating, json{{"criteria", {"helpful", "honest"}}}, "config");
  ASSERT_TRUE(rating.ok());
  EXPECT_EQ((*rating)["scale"]["max"], 5);
  EXPECT_EQ((*rating)["rationale_required"], false);
  EXPECT_EQ(
      FieldOf(NormalizePoolConfig(TaskType::kBbox, json::object(), "config")
                  .status()),
      "config.labels");
  EXPECT_EQ(FieldOf(NormalizePoolConfig(TaskType::kClassify,
                                        json{{"labels", {"a", "a"}}}, "config")
                        .status()),
            "config.labels[1]");
  EXPECT_TRUE(NormalizePoolConfig(TaskType::kRewrite, json(), "config").ok());
}

TEST(PoolConfigTest, PreannotateAsksForOneModelOrBackend) {
  json base = {{"labels", {"person", "car"}}};
  auto with = [&](json p) {
    json c = base;
    c["preannotate"] = std::move(p);
    return NormalizePoolConfig(TaskType::kBbox, c, "config");
  };
  auto hog = with({{"model", "hog"}});
  ASSERT_TRUE(hog.ok()) << hog.status();
  EXPECT_EQ((*hog)["preannotate"]["min_score"], 0.85);  // HOG's break-even
  auto backend =
      with({{"backend", "http://127.0.0.1:9090"}, {"min_score", 0.3}});
  ASSERT_TRUE(backend.ok()) << backend.status();
  EXPECT_EQ((*backend)["preannotate"]["min_score"], 0.3);
  EXPECT_EQ((*with({{"model",
                     "onnx:/models/yolo.onnx"}}))["preannotate"]["min_score"],
            0);
  EXPECT_EQ(FieldOf(with({{"model", "yolo"}}).status()),
            "config.preannotate.model");
  EXPECT_EQ(FieldOf(with({{"backend", "ftp://x"}}).status()),
            "config.preannotate.backend");
  EXPECT_EQ(FieldOf(with({{"model", "hog"}, {"backend", "http://x"}}).status()),
            "config.preannotate");
  EXPECT_EQ(FieldOf(with({{"model", "hog"}, {"min_score", 2}}).status()),
            "config.preannotate.min_score");
  json rewrite = {{"preannotate", {{"chat", "http://127.0.0.1:8000"}}}};
  auto chat = NormalizePoolConfig(TaskType::kRewrite, rewrite, "config");
  ASSERT_TRUE(chat.ok()) << chat.status();
  EXPECT_EQ((*chat)["preannotate"]["model"], "");
  rewrite["preannotate"]["chat"] = "localhost";
  EXPECT_EQ(FieldOf(NormalizePoolConfig(TaskType::kReference, rewrite, "config")
                        .status()),
            "config.preannotate.chat");
  json classify = base;
  classify["preannotate"] = {{"model", "hog"}};
  EXPECT_EQ(FieldOf(NormalizePoolConfig(TaskType::kClassify, classify, "config")
                        .status()),
            "config.preannotate");
}

TEST(TaskDataTest, ImagesAndTexts) {
  json cfg = {{"labels", {"person"}}};
  EXPECT_TRUE(ValidateTaskData(
                  TaskType::kBbox, cfg,
                  {{"image", "a/b.jpg"}, {"width", 10}, {"height", 5}}, "d")
                  .ok());
  EXPECT_EQ(
      FieldOf(ValidateTaskData(
          TaskType::kBbox, cfg,
          {{"image", "../etc/passwd"}, {"width", 10}, {"height", 5}}, "d")),
      "d.image");
  EXPECT_EQ(FieldOf(ValidateTaskData(
                TaskType::kBbox, cfg,
                {{"image", "x.jpg"}, {"width", 0}, {"height", 5}}, "d")),
            "d.width");
  EXPECT_EQ(
      FieldOf(ValidateTaskData(TaskType::kPairwise, json::object(),
                               {{"prompt", "p"}, {"responses", {"a"}}}, "d")),
      "d.responses");
  EXPECT_TRUE(IsSafeMediaReference("https://example.org/x.jpg"));
  EXPECT_FALSE(IsSafeMediaReference("/abs/x.jpg"));
  EXPECT_FALSE(IsSafeMediaReference("a//b.jpg"));
}

TEST(ResultTest, BoxesInsideImageWithKnownLabels) {
  json cfg = {{"labels", {"person", "car"}}};
  json data = {{"image", "x.jpg"}, {"width", 100}, {"height", 50}};
  json ok = {
      {"boxes",
       {{{"label", "car"}, {"x", 1}, {"y", 2}, {"w", 98.5}, {"h", 48}}}}};
  EXPECT_EQ(FieldOfResult(TaskType::kBbox, cfg, data, ok), std::nullopt);
  json outside = {
      {"boxes",
       {{{"label", "car"}, {"x", 50}, {"y", 2}, {"w", 60}, {"h", 10}}}}};
  EXPECT_EQ(FieldOfResult(TaskType::kBbox, cfg, data, outside),
            "result.boxes[0]");
  json label = {
      {"boxes", {{{"label", "dog"}, {"x", 1}, {"y", 1}, {"w", 1}, {"h", 1}}}}};
  EXPECT_EQ(FieldOfResult(TaskType::kBbox, cfg, data, label),
            "result.boxes[0].label");
  EXPECT_EQ(FieldOfResult(TaskType::kBbox, cfg, data, json{{"boxes", 3}}),
            "result.boxes");
}

TEST(ResultTest, RatingPairwiseText) {
  json rcfg = *NormalizePoolConfig(
      TaskType::kRating,
      json{{"criteria", {"helpful"}}, {"rationale_required", true}}, "c");
  json data = {{"prompt", "p"}, {"response", "r"}};
  EXPECT_EQ(FieldOfResult(TaskType::kRating, rcfg, data,
                          {{"scores", {{"helpful", 6}}}, {"rationale", "x"}}),
            "result.scores.helpful");
  EXPECT_EQ(FieldOfResult(TaskType::kRating, rcfg, data,
                          {{"scores", {{"helpful", 4}}}}),
            "result.rationale");
  EXPECT_EQ(FieldOfResult(TaskType::kRating, rcfg, data,
                          {{"scores", json::object()}, {"rationale", "x"}}),
            "result.scores.helpful");
  EXPECT_EQ(FieldOfResult(TaskType::kPairwise, json::object(), data,
                          {{"choice", "c"}}),
            "result.choice");
  EXPECT_EQ(FieldOfResult(TaskType::kPairwise, json::object(), data,
                          {{"choice", "tie"}}),
            std::nullopt);
  EXPECT_EQ(FieldOfResult(TaskType::kRewrite, json::object(), data,
                          {{"text", "   "}}),
            "result.text");
}

TEST(ResultTest, GoldNeedsNoRationale) {
  json cfg = *NormalizePoolConfig(TaskType::kPairwise,
                                  {{"rationale_required", true}}, "config");
  json data = {{"prompt", "p"}, {"responses", {"a", "b"}}};
  json gold = {{"choice", "a"}};
  EXPECT_EQ(FieldOf(ValidateResult(TaskType::kPairwise, cfg, data, gold, "r")),
            "r.rationale");
  EXPECT_TRUE(ValidateGold(TaskType::kPairwise, cfg, data, gold, "g").ok());
  EXPECT_EQ(FieldOf(ValidateGold(TaskType::kPairwise, cfg, data,
                                 {{"choice", "c"}}, "g")),
            "g.choice");
}

TEST(CommentsTest, Anchors) {
  EXPECT_TRUE(ValidateComments(json::parse(R"([{"text":"cite the year",
      "anchor":{"span":{"start":3,"end":9}}},{"text":"box off","anchor":{"box":0}},
      {"text":"general"}])"),
                               "comments")
                  .ok());
  EXPECT_EQ(FieldOf(ValidateComments(
                json::parse(
                    R"([{"text":"x","anchor":{"span":{"start":5,"end":1}}}])"),
                "comments")),
            "comments[0].anchor.span");
  EXPECT_EQ(FieldOf(ValidateComments(json::parse(R"([{"anchor":{"box":1}}])"),
                                     "comments")),
            "comments[0].text");
}

}  // namespace
}  // namespace tessera::domain
