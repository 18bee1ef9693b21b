// Tests for OpenAssistant trees → rating, ranking-as-pairs and rewrite tasks,
// on the real 100-tree oasst1 sample and on small hand-made trees.
#include "tessera/formats/oasst.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"
#include "tessera/domain/task_types.h"
#include "tessera/formats/jsonl.h"

namespace tessera::formats {
namespace {

using domain::TaskType;
using nlohmann::json;
using ::testing::StartsWith;

constexpr char kOasstPath[] =
    TESSERA_TEST_DATA_DIR "/llm/oasst1-en-100-trees.jsonl";

struct FileResult {
  std::vector<ImportedTask> tasks;
  int64_t skipped = 0;
  int64_t trees = 0;
};

FileResult ImportFile(const OasstOptions& options) {
  FileResult out;
  auto reader = JsonlReader::Open(kOasstPath);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  while (true) {
    auto line = (*reader)->Next();
    EXPECT_TRUE(line.ok()) << line.status();
    if (!line.ok() || !line->has_value()) break;
    auto tree = ParseJsonObjectLine((*reader)->name(), **line);
    EXPECT_TRUE(tree.ok()) << tree.status();
    if (!tree.ok()) break;
    auto got = OasstTreeToTasks(*tree, options);
    EXPECT_TRUE(got.ok()) << AtLine((*reader)->name(), (*line)->number,
                                    got.status());
    if (!got.ok()) break;
    ++out.trees;
    out.skipped += got->skipped_messages;
    for (ImportedTask& t : got->tasks) out.tasks.push_back(std::move(t));
  }
  return out;
}

OasstOptions Options(TaskType type, PairMode mode = PairMode::kAllPairs) {
  OasstOptions o;
  o.type = type;
  o.pair_mode = mode;
  return o;
}

void ExpectValid(TaskType type, const ImportedTask& t) {
  json config = type == TaskType::kRating ? json{{"criteria", {"quality"}}}
                                          : json::object();
  if (type == TaskType::kRating) {
    config = *domain::NormalizePoolConfig(type, config, "config");
  }
  EXPECT_TRUE(domain::ValidateTaskData(type, config, t.data, "data").ok())
      << t.data.dump().substr(0, 200);
  if (t.gold) {
    EXPECT_TRUE(
        domain::ValidateResult(type, config, t.data, *t.gold, "gold").ok());
  }
}

// Expected counts were computed independently from the file (every assistant
// reply; ranked replies per prompt n → n(n-1)/2 or n-1 pairs; a rewrite per
// prompt with n ≥ 2 ranked replies).
TEST(OasstFileTest, RatingTasksOnePerAssistantReply) {
  FileResult r = ImportFile(Options(TaskType::kRating));
  EXPECT_EQ(r.trees, 100);
  ASSERT_EQ(r.tasks.size(), 687u);
  EXPECT_EQ(r.skipped, 0);
  int multi_turn = 0;
  for (const ImportedTask& t : r.tasks) {
    ExpectValid(TaskType::kRating, t);
    multi_turn += t.data.contains("messages");
  }
  EXPECT_EQ(multi_turn, 354);
  // The first tree: one prompt with three ranked replies.
  const json& first = r.tasks[0].data;
  EXPECT_EQ(first["prompt"], "How can I find the best 401k plan for my needs?");
  EXPECT_THAT(first["response"].get<std::string>(),
              StartsWith("The first step is to research your options."));
  EXPECT_EQ(first["oasst"]["tree_id"], "054e1df3-35e0-4bb8-a585-607dbdcd24e0");
  EXPECT_EQ(first["oasst"]["reply_id"], "fa783ef0-4f4e-457d-b429-afd89edf8757");
  EXPECT_EQ(first["oasst"]["rank"], 0);
  EXPECT_EQ(first["oasst"]["lang"], "en");
}

TEST(OasstFileTest, RankingAsPairsWithBetterRankedAsGold) {
  FileResult all = ImportFile(Options(TaskType::kPairwise));
  FileResult adjacent =
      ImportFile(Options(TaskType::kPairwise, PairMode::kAdjacent));
  ASSERT_EQ(all.tasks.size(), 754u);
  EXPECT_EQ(adjacent.tasks.size(), 429u);
  int a_wins = 0;
  for (const ImportedTask& t : all.tasks) {
    ExpectValid(TaskType::kPairwise, t);
    ASSERT_TRUE(t.gold);
    const json& ranks = t.data["oasst"]["ranks"];
    std::string want = ranks[0] < ranks[1] ? "a" : "b";
    EXPECT_EQ((*t.gold)["choice"], want);
    a_wins += want == "a";
  }
  // Position bias balanced by the coin flip.
  EXPECT_GT(a_wins, 754 * 40 / 100);
  EXPECT_LT(a_wins, 754 * 60 / 100);
  // First tree: ranks {0,1,2} → pairs (0,1), (0,2), (1,2).
  std::set<std::set<int64_t>> pairs;
  for (int i = 0; i < 3; ++i) {
    const json& ranks = all.tasks[i].data["oasst"]["ranks"];
    pairs.insert({ranks[0].get<int64_t>(), ranks[1].get<int64_t>()});
  }
  EXPECT_EQ(pairs, (std::set<std::set<int64_t>>{{0, 1}, {0, 2}, {1, 2}}));
}

TEST(OasstFileTest, RewriteTakesTheLowestRankedReply) {
  FileResult r = ImportFile(Options(TaskType::kRewrite));
  ASSERT_EQ(r.tasks.size(), 212u);
  for (const ImportedTask& t : r.tasks) ExpectValid(TaskType::kRewrite, t);
  EXPECT_EQ(r.tasks[0].data["prompt"],
            "How can I find the best 401k plan for my needs?");
  EXPECT_THAT(r.tasks[0].data["response"].get<std::string>(),
              StartsWith("The best way to find a 401k plan that meets your "
                         "needs is to do research"));
  EXPECT_EQ(r.tasks[0].data["oasst"]["rank"], 2);
}

TEST(OasstFileTest, SkipSyntheticDropsModelWrittenSubtrees) {
  OasstOptions o = Options(TaskType::kRating);
  o.skip_synthetic = true;
  FileResult r = ImportFile(o);
  EXPECT_EQ(r.tasks.size(), 670u);
  EXPECT_EQ(r.skipped, 5);
  for (const ImportedTask& t : r.tasks) {
    EXPECT_NE(t.data["prompt"],
              "How can I find the best 401k plan for my needs?");
  }
}

json Msg(std::string id, std::string role, std::string text,
         std::optional<int> rank = std::nullopt, json replies = json::array()) {
  json m = {{"message_id", id},  {"role", role},     {"text", text},
            {"lang", "en"},      {"deleted", false}, {"review_result", true},
            {"replies", replies}};
  if (rank) m["rank"] = *rank;
  return m;
}

TEST(OasstTreeTest, DeletedAndFailedReviewRepliesAreSkippedByDefault) {
  json deleted = Msg("r2", "assistant", "gone", 1);
  deleted["deleted"] = true;
  json failed = Msg("r3", "assistant", "bad", 2);
  failed["review_result"] = false;
  json tree = {
      {"message_tree_id", "t1"},
      {"prompt", Msg("p", "prompter", "Q?", std::nullopt,
                     {Msg("r1", "assistant", "fine", 0), deleted, failed})}};
  auto r = OasstTreeToTasks(tree, Options(TaskType::kRating));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->tasks.size(), 1u);
  EXPECT_EQ(r->skipped_messages, 2);
  OasstOptions keep = Options(TaskType::kRating);
  keep.skip_deleted = false;
  keep.skip_failed_review = false;
  EXPECT_EQ(OasstTreeToTasks(tree, keep)->tasks.size(), 3u);
  // Only one ranked reply left: no pair, no rewrite.
  EXPECT_TRUE(
      OasstTreeToTasks(tree, Options(TaskType::kPairwise))->tasks.empty());
  EXPECT_TRUE(
      OasstTreeToTasks(tree, Options(TaskType::kRewrite))->tasks.empty());
}

TEST(OasstTreeTest, FollowUpPromptCarriesTheConversation) {
  json tree = {
      {"message_tree_id", "t2"},
      {"prompt", Msg("p", "prompter", "Q1", std::nullopt,
                     {Msg("a1", "assistant", "A1", 0,
                          {Msg("p2", "prompter", "Q2", std::nullopt,
                               {Msg("a2", "assistant", "A2", 0),
                                Msg("a3", "assistant", "A3", 1)})})})}};
  auto r = OasstTreeToTasks(tree, Options(TaskType::kPairwise));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->tasks.size(), 1u);
  const json& d = r->tasks[0].data;
  EXPECT_EQ(d["prompt"], "Q2");
  EXPECT_EQ(d["messages"], json::parse(R"([
      {"role":"user","content":"Q1"},{"role":"assistant","content":"A1"},
      {"role":"user","content":"Q2"}])"));
  EXPECT_EQ(d["oasst"]["prompt_id"], "p2");
  std::string winner = (*r->tasks[0].gold)["choice"] == "a" ? d["responses"][0]
                                                            : d["responses"][1];
  EXPECT_EQ(winner, "A2");
}

TEST(OasstTreeTest, EqualRanksGiveNoGold) {
  json tree = {{"message_tree_id", "t3"},
               {"prompt", Msg("p", "prompter", "Q", std::nullopt,
                              {Msg("a", "assistant", "X", 1),
                               Msg("b", "assistant", "Y", 1)})}};
  auto r = OasstTreeToTasks(tree, Options(TaskType::kPairwise));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->tasks.size(), 1u);
  EXPECT_FALSE(r->tasks[0].gold);
}

TEST(OasstTreeTest, ErrorsNameTheField) {
  json good = {{"message_tree_id", "t"},
               {"prompt", Msg("p", "prompter", "Q", std::nullopt,
                              {Msg("a", "assistant", "X", 0)})}};
  auto field_of = [](const json& tree, TaskType type = TaskType::kRating) {
    return FieldOf(OasstTreeToTasks(tree, Options(type)).status());
  };
  json t = good;
  t.erase("message_tree_id");
  EXPECT_EQ(field_of(t), "message_tree_id");
  t = good;
  t["prompt"]["replies"][0]["text"] = 3;
  EXPECT_EQ(field_of(t), "prompt.replies[0].text");
  t = good;
  t["prompt"]["replies"][0]["role"] = "prompter";
  EXPECT_EQ(field_of(t), "prompt.replies[0].role");
  t = good;
  t["prompt"]["replies"][0]["rank"] = "first";
  EXPECT_EQ(field_of(t), "prompt.replies[0].rank");
  t = good;
  t["prompt"]["deleted"] = "no";
  EXPECT_EQ(field_of(t), "prompt.deleted");
  t = good;
  t.erase("prompt");
  EXPECT_EQ(field_of(t), "prompt");
  EXPECT_EQ(field_of(good, TaskType::kBbox), "task_type");
}

}  // namespace
}  // namespace tessera::formats
