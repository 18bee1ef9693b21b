// The fairness guarantees over HTTP on both backends: an appeal decided by a
// different reviewer reverses the rejection and pays, hourly-floor settlement
// and earnings, guideline flags, and a signed work record that the real
// `tessera verify-record` accepts and rejects once altered.
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/integration/server_fixture.h"

namespace tessera::integration {
namespace {

std::string Path(const char* prefix, int64_t id, const char* suffix = "") {
  return absl::StrCat(prefix, id, suffix);
}

// A project with `guidelines` and a classify pool (price 10, overlap 1) with
// `tasks` text tasks, open; `workforce` goes into the pool's config. Returns
// the pool id (0 on failure).
int64_t ClassifyPool(ApiClient& requester, int tasks,
                     const std::string& guidelines, json workforce = nullptr) {
  auto project = requester.Post(
      "/api/v1/projects",
      {{"name", "fair"},
       {"guidelines", guidelines},
       {"budget", {{"amount_minor", 1000}, {"currency", "CNY"}}}});
  EXPECT_EQ(project.status, 201) << project.Describe();
  if (project.status != 201) return 0;
  json config = {{"labels", {"yes", "no"}}};
  if (!workforce.is_null()) config["workforce"] = workforce;
  auto pool = requester.Post(
      Path("/api/v1/projects/", project.body["id"].get<int64_t>(), "/pools"),
      {{"name", "sentiment"},
       {"task_type", "classify"},
       {"config", config},
       {"price", {{"amount_minor", 10}, {"currency", "CNY"}}}});
  EXPECT_EQ(pool.status, 201) << pool.Describe();
  if (pool.status != 201) return 0;
  const int64_t id = pool.body["id"];
  json list = json::array();
  for (int i = 0; i < tasks; ++i) {
    list.push_back({{"data", {{"text", absl::StrCat("review ", i)}}}});
  }
  auto added =
      requester.Post(Path("/api/v1/pools/", id, "/tasks"), {{"tasks", list}});
  EXPECT_EQ(added.status, 201) << added.Describe();
  auto opened =
      requester.Post(Path("/api/v1/pools/", id, "/open"), json::object());
  EXPECT_EQ(opened.status, 200) << opened.Describe();
  return added.status == 201 && opened.status == 200 ? id : 0;
}

// Claims and submits one task; returns {submission id, task id} or zeros.
std::pair<int64_t, int64_t> SubmitOne(ApiClient& a, int64_t pool,
                                      int64_t active_seconds = 60) {
  auto claim = a.Post(Path("/api/v1/pools/", pool, "/claims"), json::object());
  EXPECT_EQ(claim.status, 201) << claim.Describe();
  if (claim.status != 201) return {0, 0};
  auto sub = a.Post(
      Path("/api/v1/claims/", claim.body["claim"]["id"].get<int64_t>(),
           "/submit"),
      {{"result", {{"label", "yes"}}}, {"active_seconds", active_seconds}});
  EXPECT_EQ(sub.status, 201) << sub.Describe();
  if (sub.status != 201) return {0, 0};
  return {sub.body["id"].get<int64_t>(), claim.body["task"]["id"]};
}

bool ReviewNext(ApiClient& r, int64_t pool, int64_t expected,
                const std::string& verdict) {
  auto lease =
      r.Post(Path("/api/v1/pools/", pool, "/review-claims"), json::object());
  EXPECT_EQ(lease.status, 201) << lease.Describe();
  if (lease.status != 201 || lease.body["submission"]["id"] != expected) {
    return false;
  }
  auto review = r.Post(Path("/api/v1/submissions/", expected, "/review"),
                       {{"verdict", verdict}});
  EXPECT_EQ(review.status, 200) << review.Describe();
  return review.status == 200;
}

TEST_P(IntegrationTest, UpheldAppealReversesTheRejectionAndPays) {
  ApiClient requester = CreateUser("req", {"requester"});
  ApiClient ann = CreateUser("ann", {"annotator"});
  ApiClient rev1 = CreateUser("rev1", {"reviewer"});
  ApiClient rev2 = CreateUser("rev2", {"reviewer"});
  const int64_t pool = ClassifyPool(requester, 2, "");
  ASSERT_GT(pool, 0);
  auto [sub, task] = SubmitOne(ann, pool);
  ASSERT_GT(sub, 0);
  // Only a rejected submission can be appealed.
  EXPECT_TRUE(IsApiError(ann.Post(Path("/api/v1/submissions/", sub, "/appeal"),
                                  {{"note", "early"}}),
                         409, std::nullopt));
  ASSERT_TRUE(ReviewNext(rev1, pool, sub, "reject"));

  EXPECT_TRUE(IsApiError(
      ann.Post(Path("/api/v1/submissions/", sub, "/appeal"), {{"note", " "}}),
      400, "note"));
  auto appeal =
      ann.Post(Path("/api/v1/submissions/", sub, "/appeal"),
               {{"note", "\"yes\" is right: the review is positive"}});
  ASSERT_EQ(appeal.status, 201) << appeal.Describe();
  const int64_t appeal_id = appeal.body["id"];
  EXPECT_TRUE(IsApiError(ann.Post(Path("/api/v1/submissions/", sub, "/appeal"),
                                  {{"note", "again"}}),
                         409, std::nullopt));

  auto open = rev2.Get("/api/v1/appeals?state=open");
  ASSERT_EQ(open.status, 200) << open.Describe();
  ASSERT_EQ(open.body["appeals"].size(), 1u);
  EXPECT_EQ(open.body["appeals"][0]["rejected_by"]["username"], "rev1");
  EXPECT_EQ(open.body["appeals"][0]["submission"]["state"], "rejected");
  EXPECT_TRUE(
      IsApiError(rev2.Get("/api/v1/appeals?state=maybe"), 400, "state"));

  const std::string decide = Path("/api/v1/appeals/", appeal_id, "/decide");
  EXPECT_TRUE(IsApiError(rev1.Post(decide, {{"decision", "uphold"}}), 403,
                         std::nullopt));
  EXPECT_TRUE(
      IsApiError(rev2.Post(decide, {{"decision", "yes"}}), 400, "decision"));
  auto decided =
      rev2.Post(decide, {{"decision", "uphold"}, {"note", "agreed"}});
  ASSERT_EQ(decided.status, 200) << decided.Describe();
  EXPECT_EQ(decided.body["state"], "upheld");
  EXPECT_TRUE(
      IsApiError(rev2.Post(decide, {{"decision", "deny"}}), 409, std::nullopt));

  auto s = ann.Get(Path("/api/v1/submissions/", sub));
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.body["state"], "accepted");
  EXPECT_EQ(s.body["first_pass"], false);
  EXPECT_EQ(s.body["rounds"][0]["verdict"], "reject");
  auto earnings = ann.Get("/api/v1/me/earnings");
  ASSERT_EQ(earnings.status, 200);
  EXPECT_EQ(earnings.body["balance"]["amount_minor"], 10);
  ASSERT_EQ(earnings.body["entries"].size(), 1u);
  EXPECT_EQ(earnings.body["entries"][0]["kind"], "task_payment");
  EXPECT_EQ(earnings.body["pools"][0]["topups"]["amount_minor"], 0);
  auto me = ann.Get("/api/v1/me");
  EXPECT_EQ(me.body["standing"]["accepted"], 1);
  EXPECT_EQ(me.body["standing"]["rejected"], 0);
  auto mine = ann.Get("/api/v1/me/appeals");
  ASSERT_EQ(mine.status, 200);
  ASSERT_EQ(mine.body["appeals"].size(), 1u);
  EXPECT_EQ(mine.body["appeals"][0]["state"], "upheld");
}

TEST_P(IntegrationTest, FloorSettlementChecksItsWeek) {
  ApiClient requester = CreateUser("req", {"requester"});
  const int64_t pool = ClassifyPool(
      requester, 1, "",
      {{"hourly_floor", {{"amount_minor", 1200}, {"currency", "CNY"}}}});
  const int64_t plain = ClassifyPool(requester, 1, "");
  ASSERT_GT(pool * plain, 0);
  const std::string settle = Path("/api/v1/pools/", pool, "/settle-floor");
  EXPECT_TRUE(IsApiError(requester.Post(settle, json::object()), 400, "week"));
  EXPECT_TRUE(IsApiError(requester.Post(settle + "?week=last", json::object()),
                         400, "week"));
  // The current week has not ended.
  EXPECT_TRUE(
      IsApiError(requester.Post(settle + "?week=2099-01-05", json::object()),
                 409, std::nullopt));
  auto settled = requester.Post(settle + "?week=2020-01-08", json::object());
  ASSERT_EQ(settled.status, 200) << settled.Describe();
  EXPECT_EQ(settled.body["week_start"], "2020-01-06T00:00:00Z");
  EXPECT_EQ(settled.body["floor"]["amount_minor"], 1200);
  EXPECT_EQ(settled.body["topups"].size(), 0u);
  EXPECT_TRUE(IsApiError(requester.Post(Path("/api/v1/pools/", plain,
                                             "/settle-floor?week=2020-01-06"),
                                        json::object()),
                         409, std::nullopt));
}

TEST_P(IntegrationTest, GuidelineFlagsPerSection) {
  ApiClient requester = CreateUser("req", {"requester"});
  ApiClient ann = CreateUser("ann", {"annotator"});
  ApiClient bob = CreateUser("bob", {"annotator"});
  const int64_t pool = ClassifyPool(
      requester, 2,
      "# Sentiment\nSay yes for positive.\n## Sarcasm\nJudge the intent.\n");
  ASSERT_GT(pool, 0);
  auto [sub, task] = SubmitOne(ann, pool);
  ASSERT_GT(sub, 0);
  const std::string flags = Path("/api/v1/tasks/", task, "/flags");
  auto flag =
      ann.Post(flags, {{"section", "sarcasm"}, {"note", "is irony sarcasm?"}});
  ASSERT_EQ(flag.status, 201) << flag.Describe();
  EXPECT_EQ(flag.body["section"], "Sarcasm");
  EXPECT_TRUE(
      IsApiError(ann.Post(flags, {{"section", "Tone"}}), 400, "section"));
  EXPECT_TRUE(IsApiError(ann.Post(flags, {{"note", "x"}}), 400, "section"));
  EXPECT_TRUE(
      IsApiError(bob.Post(flags, {{"section", "Sarcasm"}}), 404, std::nullopt));

  auto list = requester.Get(Path("/api/v1/pools/", pool, "/flags"));
  ASSERT_EQ(list.status, 200) << list.Describe();
  ASSERT_EQ(list.body["sections"].size(), 1u);
  const json& section = list.body["sections"][0];
  EXPECT_EQ(section["section"], "Sarcasm");
  EXPECT_EQ(section["count"], 1);
  EXPECT_EQ(section["notes"][0]["note"], "is irony sarcasm?");
  EXPECT_EQ(section["tasks"][0]["task_id"], task);
  EXPECT_EQ(section["tasks"][0]["disagreement"]["source"], "answers");
  EXPECT_EQ(section["tasks"][0]["disagreement"]["answers"], 1);
}

TEST_P(IntegrationTest, SignedRecordVerifiesWithTheCliUntilAltered) {
  ApiClient requester = CreateUser("req", {"requester"});
  ApiClient ann = CreateUser("ann", {"annotator"});
  ApiClient rev = CreateUser("rev", {"reviewer"});
  const int64_t pool = ClassifyPool(requester, 2, "");
  ASSERT_GT(pool, 0);
  auto [sub, task] = SubmitOne(ann, pool);
  ASSERT_TRUE(ReviewNext(rev, pool, sub, "accept"));

  auto record = ann.Get("/api/v1/me/record");
  ASSERT_EQ(record.status, 200) << record.Describe();
  EXPECT_EQ(record.body["record"]["subject"]["username"], "ann");
  EXPECT_EQ(record.body["record"]["totals"]["accepted"], 1);
  EXPECT_EQ(record.body["algorithm"], "Ed25519");
  auto key = Anonymous().Get("/api/v1/record-key");
  ASSERT_EQ(key.status, 200) << key.Describe();
  EXPECT_EQ(key.body["key_id"], record.body["key_id"]);
  if (backend() == Backend::kPostgres) {
    // A second server on the same database signs with the same key.
    ServerProcess* second = StartServer();
    ASSERT_NE(second, nullptr);
    auto key2 = ApiClient(second->port()).Get("/api/v1/record-key");
    ASSERT_EQ(key2.status, 200);
    EXPECT_EQ(key2.body["public_key"], key.body["public_key"]);
  }

  const std::string record_file = tmp_dir_ + "/record.json";
  const std::string key_file = tmp_dir_ + "/key.json";
  std::ofstream(record_file) << record.raw;
  std::ofstream(key_file) << key.raw;
  std::string output;
  EXPECT_EQ(RunProcess({TESSERA_FAIRNESS_BINARY, "verify-record", record_file,
                        "--key", key_file},
                       "", output),
            0)
      << output;
  EXPECT_NE(output.find("valid: ann "), std::string::npos) << output;
  // The base64 key works as well.
  EXPECT_EQ(RunProcess({TESSERA_FAIRNESS_BINARY, "verify-record", record_file,
                        "--key", key.body["public_key"].get<std::string>()},
                       "", output),
            0)
      << output;

  json altered = record.body;
  altered["record"]["totals"]["accepted"] = 2;
  std::ofstream(record_file) << altered.dump(2);
  EXPECT_EQ(RunProcess({TESSERA_FAIRNESS_BINARY, "verify-record", record_file,
                        "--key", key_file},
                       "", output),
            1)
      << output;
  EXPECT_NE(output.find("invalid signature"), std::string::npos) << output;
}

}  // namespace
}  // namespace tessera::integration
