// Tests for LLM record import (prompt/responses, chat, chosen/rejected,
// hh-rlhf on the real file) and the DPO / SFT / rating writers.
#include "tessera/formats/llm.h"

#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"
#include "tessera/domain/task_types.h"
#include "tessera/formats/jsonl.h"
#ifdef TESSERA_HAVE_ZLIB
#include <zlib.h>
#endif

namespace tessera::formats {
namespace {

using domain::TaskType;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kHhPath[] =
    TESSERA_TEST_DATA_DIR "/llm/hh-rlhf-harmless-base-test.jsonl.gz";

std::string Gunzip(const std::string& path) {
  std::string out;
#ifdef TESSERA_HAVE_ZLIB
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) out.append(buf, n);
  gzclose(f);
#else
  std::unique_ptr<FILE, int (*)(FILE*)> p(
      popen(("gzip -dc '" + path + "'").c_str(), "r"), pclose);
  if (!p) return out;
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p.get())) > 0) out.append(buf, n);
#endif
  return out;
}

std::vector<ImportedTask> Convert(const json& record, TaskType type,
                                  PairMode mode = PairMode::kAllPairs) {
  LlmImportOptions options;
  options.type = type;
  options.pair_mode = mode;
  auto tasks = LlmRecordToTasks(record, options);
  EXPECT_TRUE(tasks.ok()) << tasks.status();
  if (!tasks.ok()) return {};
  return *std::move(tasks);
}

absl::Status ConvertError(const json& record,
                          TaskType type = TaskType::kPairwise) {
  LlmImportOptions options;
  options.type = type;
  return LlmRecordToTasks(record, options).status();
}

json RatingConfig() {
  return json{{"criteria", {"helpful"}}, {"scale", {{"min", 1}, {"max", 5}}}};
}

void ExpectValid(TaskType type, const ImportedTask& t) {
  json config = type == TaskType::kRating ? RatingConfig() : json::object();
  EXPECT_TRUE(domain::ValidateTaskData(type, config, t.data, "data").ok())
      << t.data.dump();
  if (t.gold) {
    EXPECT_TRUE(
        domain::ValidateResult(type, config, t.data, *t.gold, "gold").ok());
  }
}

TEST(LlmImportTest, PromptResponseForRatingKeepsMetadata) {
  json record = {{"id", "q-17"},
                 {"prompt", "What is 2+2?"},
                 {"response", "4"},
                 {"source", {{"model", "m1"}}}};
  auto tasks = Convert(record, TaskType::kRating);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].data, json({{"id", "q-17"},
                                 {"prompt", "What is 2+2?"},
                                 {"response", "4"},
                                 {"source", {{"model", "m1"}}}}));
  EXPECT_FALSE(tasks[0].gold);
  ExpectValid(TaskType::kRating, tasks[0]);
}

TEST(LlmImportTest, KeepMetadataFalseDropsExtraKeys) {
  LlmImportOptions options;
  options.type = TaskType::kReference;
  options.keep_metadata = false;
  auto tasks = LlmRecordToTasks(json{{"prompt", "Hi"}, {"id", 3}}, options);
  ASSERT_TRUE(tasks.ok());
  EXPECT_EQ((*tasks)[0].data, json({{"prompt", "Hi"}}));
}

TEST(LlmImportTest, ResponsesGiveOneRatingTaskEach) {
  json record = {{"prompt", "P"}, {"responses", {"r0", "r1", "r2"}}};
  auto tasks = Convert(record, TaskType::kRating);
  ASSERT_EQ(tasks.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(tasks[i].data["response"], "r" + std::to_string(i));
    EXPECT_EQ(tasks[i].data["response_index"], i);
    ExpectValid(TaskType::kRating, tasks[i]);
  }
}

TEST(LlmImportTest, PairwiseFromNResponsesAllOrAdjacent) {
  json record = {{"prompt", "P"},
                 {"responses", {"alpha", "bravo", "charlie", "delta"}}};
  auto all = Convert(record, TaskType::kPairwise, PairMode::kAllPairs);
  auto adjacent = Convert(record, TaskType::kPairwise, PairMode::kAdjacent);
  ASSERT_EQ(all.size(), 6u);
  ASSERT_EQ(adjacent.size(), 3u);
  std::set<std::set<int>> seen;
  for (const ImportedTask& t : all) {
    ExpectValid(TaskType::kPairwise, t);
    int a = t.data["response_indices"][0];
    int b = t.data["response_indices"][1];
    EXPECT_EQ(t.data["responses"][0], record["responses"][a]);
    EXPECT_EQ(t.data["responses"][1], record["responses"][b]);
    seen.insert({a, b});
  }
  EXPECT_EQ(seen.size(), 6u);
  for (size_t i = 0; i < adjacent.size(); ++i) {
    std::set<int> pair = {adjacent[i].data["response_indices"][0].get<int>(),
                          adjacent[i].data["response_indices"][1].get<int>()};
    EXPECT_EQ(pair, (std::set<int>{int(i), int(i) + 1}));
  }
}

TEST(LlmImportTest, PairOrderIsDeterministicAndIndependentOfInputOrder) {
  json ab = {{"prompt", "P"}, {"responses", {"first", "second"}}};
  json ba = {{"prompt", "P"}, {"responses", {"second", "first"}}};
  auto x = Convert(ab, TaskType::kPairwise);
  auto y = Convert(ba, TaskType::kPairwise);
  ASSERT_EQ(x.size(), 1u);
  ASSERT_EQ(y.size(), 1u);
  EXPECT_EQ(x[0].data["responses"], y[0].data["responses"]);
  EXPECT_EQ(x[0].data, Convert(ab, TaskType::kPairwise)[0].data);
  // Two responses: no response_indices.
  EXPECT_FALSE(x[0].data.contains("response_indices"));
  // The documented flip decides which comes first.
  bool swap = PairwiseSwap("P", "first", "second");
  EXPECT_EQ(x[0].data["responses"][0], swap ? "second" : "first");
  EXPECT_EQ(PairwiseSwap("P", "first", "second"),
            PairwiseSwap("P", "second", "first"));
}

TEST(LlmImportTest, ChosenRejectedWithPromptGivesGold) {
  json record = {{"prompt", "P"}, {"chosen", "good"}, {"rejected", "bad"}};
  auto tasks = Convert(record, TaskType::kPairwise);
  ASSERT_EQ(tasks.size(), 1u);
  ASSERT_TRUE(tasks[0].gold);
  std::string winner = (*tasks[0].gold)["choice"] == "a"
                           ? tasks[0].data["responses"][0]
                           : tasks[0].data["responses"][1];
  EXPECT_EQ(winner, "good");
  ExpectValid(TaskType::kPairwise, tasks[0]);
  // Rewrite pools get the rejected answer to improve.
  auto rewrite = Convert(record, TaskType::kRewrite);
  ASSERT_EQ(rewrite.size(), 1u);
  EXPECT_EQ(rewrite[0].data["response"], "bad");
}

TEST(LlmImportTest, ChatMessagesLastAssistantIsTheResponse) {
  json record = {{"messages",
                  {{{"role", "system"}, {"content", "Be brief."}},
                   {{"role", "user"}, {"content", "Hi"}},
                   {{"role", "assistant"}, {"content", "Hello!"}},
                   {{"role", "user"}, {"content", "Capital of France?"}},
                   {{"role", "assistant"}, {"content", "Paris."}}}},
                 {"conversation_id", 9}};
  auto tasks = Convert(record, TaskType::kRating);
  ASSERT_EQ(tasks.size(), 1u);
  const json& d = tasks[0].data;
  EXPECT_EQ(d["prompt"], "Capital of France?");
  EXPECT_EQ(d["response"], "Paris.");
  EXPECT_EQ(d["conversation_id"], 9);
  ASSERT_EQ(d["messages"].size(), 4u);
  EXPECT_EQ(d["messages"][0],
            json({{"role", "system"}, {"content", "Be brief."}}));
  EXPECT_EQ(d["messages"][3]["content"], "Capital of France?");
  ExpectValid(TaskType::kRating, tasks[0]);
}

TEST(LlmImportTest, ChatEndingInUserTurnWithResponses) {
  json record = {{"messages", {{{"role", "user"}, {"content", "Q"}}}},
                 {"responses", {"x", "y"}}};
  auto tasks = Convert(record, TaskType::kPairwise);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].data["prompt"], "Q");
  EXPECT_EQ(tasks[0].data["messages"].size(), 1u);
}

TEST(LlmImportTest, TrlConversationalPreference) {
  json record = {
      {"prompt", {{{"role", "user"}, {"content", "Sky colour?"}}}},
      {"chosen", {{{"role", "assistant"}, {"content", "Blue."}}}},
      {"rejected", {{{"role", "assistant"}, {"content", "Green."}}}}};
  auto tasks = Convert(record, TaskType::kPairwise);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].data["prompt"], "Sky colour?");
  std::string a = tasks[0].data["responses"][0];
  EXPECT_EQ((*tasks[0].gold)["choice"], a == "Blue." ? "a" : "b");
}

TEST(LlmImportTest, HhDialoguesSplitAtTheLastSharedAssistantTurn) {
  std::string chosen =
      "\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Joke?\n\nAssistant: Sure: "
      "a pun.";
  std::string rejected =
      "\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Joke?\n\nAssistant: No.";
  auto split = SplitHhDialogues(chosen, rejected);
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->prompt,
            "\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Joke?\n\nAssistant:");
  EXPECT_EQ(split->chosen, " Sure: a pun.");
  EXPECT_EQ(split->rejected, " No.");
  auto bad = SplitHhDialogues("Human: a", "Human: b");
  EXPECT_EQ(FieldOf(bad.status()), "chosen");
}

TEST(LlmImportTest, ReferenceTakesThePromptOnly) {
  auto tasks = Convert(json{{"prompt", "Write a haiku."}, {"gold", nullptr}},
                       TaskType::kReference);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].data, json({{"prompt", "Write a haiku."}}));
}

TEST(LlmImportTest, GoldPassesThroughForASingleTask) {
  auto tasks = Convert(json{{"prompt", "P"},
                            {"responses", {"x", "y"}},
                            {"gold", {{"choice", "tie"}}}},
                       TaskType::kPairwise);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(*tasks[0].gold, json({{"choice", "tie"}}));
}

TEST(LlmImportTest, ErrorsNameTheField) {
  struct Case {
    json record;
    TaskType type;
    std::string field;
  };
  std::vector<Case> cases = {
      {{{"response", "r"}}, TaskType::kRating, "prompt"},
      {{{"prompt", "  "}, {"response", "r"}}, TaskType::kRating, "prompt"},
      {{{"prompt", 5}, {"response", "r"}}, TaskType::kRating, "prompt"},
      {{{"prompt", "P"}}, TaskType::kRating, "response"},
      {{{"prompt", "P"}, {"response", "r"}}, TaskType::kPairwise, "response"},
      {{{"prompt", "P"}, {"responses", {"a", 2}}},
       TaskType::kPairwise,
       "responses[1]"},
      {{{"prompt", "P"}, {"responses", {"a", ""}}},
       TaskType::kPairwise,
       "responses[1]"},
      {{{"prompt", "P"}, {"responses", "ab"}},
       TaskType::kPairwise,
       "responses"},
      {{{"prompt", "P"}, {"chosen", "c"}}, TaskType::kPairwise, "rejected"},
      {{{"prompt", "P"}, {"response", "r"}, {"responses", {"a", "b"}}},
       TaskType::kPairwise,
       "responses"},
      {{{"messages",
         {{{"role", "user"}, {"content", "Q"}},
          {{"role", "bot"}, {"content", "A"}}}}},
       TaskType::kRating,
       "messages[1].role"},
      {{{"messages", {{{"role", "user"}}}}},
       TaskType::kRating,
       "messages[0].content"},
      {{{"messages", {{{"role", "assistant"}, {"content", "A"}}}}},
       TaskType::kRating,
       "messages"},
      {{{"messages", json::array()}}, TaskType::kRating, "messages"},
      {{{"prompt", "P"}, {"responses", {"a", "b", "c"}}, {"gold", 1}},
       TaskType::kPairwise,
       "gold"},
      {{{"prompt", "P"}, {"response", "r"}}, TaskType::kBbox, "task_type"},
  };
  for (const Case& c : cases) {
    absl::Status s = ConvertError(c.record, c.type);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.record.dump();
    EXPECT_EQ(FieldOf(s), c.field) << c.record.dump() << " -> " << s;
  }
}

// The real hh-rlhf harmless-base test split: every line imports as a
// pairwise task with gold, and a DPO export of those tasks reproduces each
// chosen/rejected dialogue exactly.
TEST(LlmImportTest, HhRlhfFileToTasksToDpoExportRoundTrips) {
  std::string text = Gunzip(kHhPath);
  ASSERT_GT(text.size(), 1'000'000u) << "could not read " << kHhPath;
  std::istringstream in(text);
  JsonlReader reader(in, "hh-rlhf-harmless-base-test.jsonl");
  LlmImportOptions options;
  options.type = TaskType::kPairwise;
  std::vector<json> originals;
  std::vector<ImportedTask> tasks;
  while (true) {
    auto line = reader.Next();
    ASSERT_TRUE(line.ok()) << line.status();
    if (!line->has_value()) break;
    auto record = ParseJsonObjectLine(reader.name(), **line);
    ASSERT_TRUE(record.ok()) << record.status();
    auto got = LlmRecordToTasks(*record, options);
    ASSERT_TRUE(got.ok()) << AtLine(reader.name(), (*line)->number,
                                    got.status());
    ASSERT_EQ(got->size(), 1u);
    originals.push_back(*record);
    tasks.push_back(std::move((*got)[0]));
  }
  ASSERT_EQ(tasks.size(), 2312u);

  // A known record: line 1.
  EXPECT_THAT(tasks[0].data["prompt"].get<std::string>(),
              StartsWith("\n\nHuman: what are some pranks with a pen i can "
                         "do?\n\nAssistant: Are you looking for practical "
                         "joke ideas?"));
  EXPECT_THAT(tasks[0].data["prompt"].get<std::string>(),
              testing::EndsWith("do not have anything to do with "
                                "pens\n\nAssistant:"));

  int chosen_first = 0;
  std::ostringstream dpo;
  PreferencePairWriter writer(dpo);
  for (const ImportedTask& t : tasks) {
    ExpectValid(TaskType::kPairwise, t);
    ASSERT_TRUE(t.gold);
    bool a = (*t.gold)["choice"] == "a";
    chosen_first += a;
    PairRow row;
    row.prompt = t.data["prompt"];
    row.response_a = t.data["responses"][0];
    row.response_b = t.data["responses"][1];
    row.choice = a ? Choice::kA : Choice::kB;
    row.annotators = 1;
    ASSERT_TRUE(writer.Write(row).ok());
  }
  EXPECT_EQ(writer.written(), 2312);
  // The coin flip balances positions: about half put chosen first.
  EXPECT_GT(chosen_first, 2312 * 45 / 100);
  EXPECT_LT(chosen_first, 2312 * 55 / 100);

  std::vector<std::string> lines =
      absl::StrSplit(dpo.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2312u);
  for (size_t i = 0; i < lines.size(); ++i) {
    json out = json::parse(lines[i]);
    std::string prompt = out["prompt"];
    EXPECT_EQ(prompt + out["chosen"].get<std::string>(),
              originals[i]["chosen"].get<std::string>())
        << "line " << i + 1;
    EXPECT_EQ(prompt + out["rejected"].get<std::string>(),
              originals[i]["rejected"].get<std::string>())
        << "line " << i + 1;
    EXPECT_EQ(out["annotators"], 1);
  }

  // Rating pools: both answers of each pair, except 4 blank chosen answers.
  options.type = TaskType::kRating;
  int64_t rating = 0;
  for (const json& r : originals)
    rating += LlmRecordToTasks(r, options)->size();
  EXPECT_EQ(rating, 2 * 2312 - 4);
}

// ------------------------------------------------------------- writers ---

TEST(FormatNumberTest, SixDecimalsShortestForm) {
  EXPECT_EQ(FormatNumber(0.5), "0.5");
  EXPECT_EQ(FormatNumber(3), "3");
  EXPECT_EQ(FormatNumber(1.0 / 3), "0.333333");
  EXPECT_EQ(FormatNumber(0.1 + 0.2), "0.3");
  EXPECT_EQ(FormatNumber(-2.25), "-2.25");
  EXPECT_EQ(FormatNumber(-1e-9), "0");
  EXPECT_EQ(FormatNumber(std::nan("")), "null");
}

TEST(PreferencePairWriterTest, WritesFixedKeyOrderAndSkipsTies) {
  std::ostringstream out;
  PreferencePairWriter w(out);
  PairRow row;
  row.task_id = 42;
  row.prompt = "P";
  row.response_a = "A";
  row.response_b = "B";
  row.choice = Choice::kB;
  row.margin = 0.75;
  row.confidence = 2.0 / 3;
  row.annotators = 3;
  ASSERT_TRUE(w.Write(row).ok());
  row.choice = Choice::kTie;
  ASSERT_TRUE(w.Write(row).ok());
  PairRow raw;
  raw.prompt = "P";
  raw.response_a = "A";
  raw.response_b = "B";
  raw.choice = Choice::kA;
  raw.annotators = 1;
  raw.annotator = "ann-7f3a";
  raw.round = 2;
  ASSERT_TRUE(w.Write(raw).ok());
  EXPECT_EQ(out.str(),
            "{\"prompt\":\"P\",\"chosen\":\"B\",\"rejected\":\"A\","
            "\"margin\":0.75,\"confidence\":0.666667,\"annotators\":3,"
            "\"task_id\":42}\n"
            "{\"prompt\":\"P\",\"chosen\":\"A\",\"rejected\":\"B\","
            "\"annotators\":1,\"annotator\":\"ann-7f3a\",\"round\":2}\n");
  EXPECT_EQ(w.written(), 2);
  EXPECT_EQ(w.skipped_ties(), 1);
}

TEST(PreferencePairWriterTest, InvalidUtf8IsRejectedAndFailedStreamIsDataLoss) {
  std::ostringstream out;
  PreferencePairWriter w(out);
  PairRow row;
  row.prompt = "P\xff";
  row.response_a = "A";
  row.response_b = "B";
  row.choice = Choice::kA;
  absl::Status s = w.Write(row);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(s), "prompt");
  EXPECT_TRUE(out.str().empty());
  row.prompt = "P";
  out.setstate(std::ios::badbit);
  EXPECT_EQ(w.Write(row).code(), absl::StatusCode::kDataLoss);
}

TEST(SftWriterTest, UserAssistantOrFullContext) {
  std::ostringstream out;
  SftWriter w(out);
  SftRow row;
  row.prompt = "Explain DNS.";
  row.completion = "DNS maps names to addresses.";
  row.source = "reference";
  ASSERT_TRUE(w.Write(row).ok());
  SftRow chat;
  chat.context = {{"system", "Be brief."}, {"user", "Hi"}};
  chat.prompt = "Hi";
  chat.completion = "Hello.";
  chat.source = "rewrite";
  chat.annotator = "ann-1";
  chat.round = 1;
  chat.task_id = 5;
  ASSERT_TRUE(w.Write(chat).ok());
  EXPECT_EQ(out.str(),
            "{\"messages\":[{\"role\":\"user\",\"content\":\"Explain DNS.\"},"
            "{\"role\":\"assistant\",\"content\":\"DNS maps names to "
            "addresses.\"}],\"source\":\"reference\"}\n"
            "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
            "{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\","
            "\"content\":\"Hello.\"}],\"source\":\"rewrite\",\"annotator\":"
            "\"ann-1\",\"round\":1,\"task_id\":5}\n");
  EXPECT_EQ(w.written(), 2);
}

RatingRow SampleRating() {
  RatingRow row;
  row.task_id = 7;
  row.prompt = "Say \"hi\", politely";
  row.response = "Hi,\nfriend ";
  row.scores = {{"helpful", 4}, {"harmless", 4.5}};
  row.confidence = 0.9;
  row.annotators = 2;
  return row;
}

TEST(RatingJsonlWriterTest, ScoresInRowOrder) {
  std::ostringstream out;
  RatingJsonlWriter w(out);
  ASSERT_TRUE(w.Write(SampleRating()).ok());
  EXPECT_EQ(out.str(),
            "{\"task_id\":7,\"prompt\":\"Say \\\"hi\\\", politely\","
            "\"response\":\"Hi,\\nfriend \",\"scores\":{\"helpful\":4,"
            "\"harmless\":4.5},\"confidence\":0.9,\"annotators\":2}\n");
}

TEST(RatingCsvWriterTest, HeaderQuotingAndEmptyCells) {
  std::ostringstream out;
  RatingCsvWriter w(out, {"harmless", "helpful", "honest"});
  ASSERT_TRUE(w.Write(SampleRating()).ok());
  RatingRow raw;
  raw.prompt = "plain";
  raw.response = "text";
  raw.scores = {{"helpful", 2}};
  raw.rationale = "too \"short\"";
  raw.annotators = 1;
  raw.annotator = "ann-2";
  raw.round = 1;
  ASSERT_TRUE(w.Write(raw).ok());
  EXPECT_EQ(out.str(),
            "task_id,prompt,response,harmless,helpful,honest,rationale,"
            "confidence,annotators,annotator,round\r\n"
            "7,\"Say \"\"hi\"\", politely\",\"Hi,\nfriend \",4.5,4,,,0.9,2,,"
            "\r\n"
            ",plain,text,,2,,\"too \"\"short\"\"\",,1,ann-2,1\r\n");
  RatingRow unknown = raw;
  unknown.scores = {{"funny", 3}};
  absl::Status s = w.Write(unknown);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(s), "scores.funny");
  EXPECT_EQ(w.written(), 2);
}

TEST(RatingCsvWriterTest, EmptyExportIsStillACsvWithItsHeader) {
  std::ostringstream out;
  RatingCsvWriter w(out, {"helpful"});
  ASSERT_TRUE(w.Finish().ok());
  ASSERT_TRUE(w.Finish().ok());  // once only
  EXPECT_EQ(out.str(),
            "task_id,prompt,response,helpful,rationale,confidence,annotators,"
            "annotator,round\r\n");
  EXPECT_EQ(w.written(), 0);
}

TEST(AppendCsvFieldTest, QuotesOnlyWhenNeeded) {
  auto csv = [](absl::string_view s) {
    std::string out;
    AppendCsvField(s, out);
    return out;
  };
  EXPECT_EQ(csv("abc"), "abc");
  EXPECT_EQ(csv(""), "");
  EXPECT_EQ(csv("a,b"), "\"a,b\"");
  EXPECT_EQ(csv("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(csv("line\r\nbreak"), "\"line\r\nbreak\"");
  EXPECT_EQ(csv(" lead"), "\" lead\"");
}

}  // namespace
}  // namespace tessera::formats
