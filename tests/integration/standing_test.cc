// Standing and allocation over HTTP: claim 403 with the eligibility
// reasons, project blocks, the standing JSON shape, claim reasons, and that
// gold answers never reach annotators.
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

// The gold answers' distinctive rationale: it must never reach an annotator.
constexpr char kGoldMarker[] = "zebra-gold-7731";

json GoldPool(json workforce) {
  return {{"name", "answers"},
          {"task_type", "pairwise"},
          {"config", {{"workforce", workforce}}},
          {"price", {{"amount_minor", 10}, {"currency", "CNY"}}}};
}
json PairData(const std::string& prompt) {
  return {{"prompt", prompt}, {"responses", {"first", "second"}}};
}

TEST_P(IntegrationTest, ClaimRefusedWithReasonsAndBlocks) {
  ApiClient req = CreateUser("req", {"requester"});
  ApiClient ann = CreateUser("ann", {"annotator"});
  const int64_t me = ann.Get("/api/v1/me").body["id"].get<int64_t>();
  const int64_t project = CreateProject(req, 100'000);
  const int64_t pool =
      CreatePool(req, project,
                 GoldPool({{"skill", "law"}, {"trial", {{"required", true}}}}));
  ASSERT_TRUE(AddTasks(req, pool, {json{{"data", PairData("a")}}}));
  ASSERT_TRUE(OpenPool(req, pool));

  auto claim =
      ann.Post(Path("/api/v1/pools/", pool, "/claims"), json::object());
  ASSERT_TRUE(IsApiError(claim, 403, std::nullopt));
  EXPECT_EQ(claim.body["error"]["message"],
            "needs the skill law (a reviewer grants it after checking your "
            "background); needs a passed trial for this pool");
  auto pools = ann.Get("/api/v1/pools");
  ASSERT_EQ(pools.status, 200);
  bool seen = false;
  for (const json& p : pools.body["pools"]) {
    if (p["id"] != pool) continue;
    seen = true;
    EXPECT_FALSE(p["can_claim"].get<bool>());
    EXPECT_EQ(p["reasons"].size(), 2u);
  }
  EXPECT_TRUE(seen);

  // Blocks: a pool without rules, then the requester blocks the annotator.
  const int64_t open = CreatePool(req, project, GoldPool(json::object()));
  ASSERT_TRUE(
      AddTasks(req, open,
               {json{{"data", PairData("a")}}, json{{"data", PairData("b")}}}));
  ASSERT_TRUE(OpenPool(req, open));
  auto bad = req.Post(Path("/api/v1/projects/", project, "/blocks"),
                      {{"annotator_id", "x"}, {"reason", "spam"}});
  EXPECT_TRUE(IsApiError(bad, 400, "annotator_id"));
  auto no_reason = req.Post(Path("/api/v1/projects/", project, "/blocks"),
                            {{"annotator_id", me}});
  EXPECT_TRUE(IsApiError(no_reason, 400, "reason"));
  auto block = req.Post(Path("/api/v1/projects/", project, "/blocks"),
                        {{"annotator_id", me}, {"reason", "copied answers"}});
  ASSERT_EQ(block.status, 201) << block.Describe();
  EXPECT_EQ(block.body["annotator_id"], me);
  auto list = req.Get(Path("/api/v1/projects/", project, "/blocks"));
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.body["blocks"].size(), 1u);
  claim = ann.Post(Path("/api/v1/pools/", open, "/claims"), json::object());
  ASSERT_TRUE(IsApiError(claim, 403, std::nullopt));
  EXPECT_EQ(claim.body["error"]["message"],
            "blocked in this project by its requester: copied answers");
  auto unblock = req.Delete(Path("/api/v1/projects/", project, "/blocks/") +
                            std::to_string(me));
  EXPECT_EQ(unblock.status, 204) << unblock.Describe();
  EXPECT_EQ(req.Delete(Path("/api/v1/projects/", project, "/blocks/") +
                       std::to_string(me))
                .status,
            404);
  claim = ann.Post(Path("/api/v1/pools/", open, "/claims"), json::object());
  ASSERT_EQ(claim.status, 201) << claim.Describe();

  // The claim's reason, for the annotator and for the requester.
  auto mine = ann.Get("/api/v1/me/claims");
  ASSERT_EQ(mine.status, 200);
  ASSERT_EQ(mine.body["claims"].size(), 1u);
  EXPECT_EQ(mine.body["claims"][0]["reason"]["policy"], "open");
  EXPECT_EQ(mine.body["claims"][0]["reason"]["tier"], "newcomer");
  auto theirs = req.Get(Path("/api/v1/pools/", open, "/claims?annotator_id=") +
                        std::to_string(me));
  ASSERT_EQ(theirs.status, 200);
  EXPECT_EQ(theirs.body["claims"].size(), 1u);
  EXPECT_TRUE(IsApiError(
      req.Get(Path("/api/v1/pools/", open, "/claims?annotator_id=x")), 400,
      "annotator_id"));
}

TEST_P(IntegrationTest, StandingShapeAndGoldSecrecy) {
  ApiClient req = CreateUser("req", {"requester"});
  ApiClient rev = CreateUser("rev", {"reviewer"});
  ApiClient ann = CreateUser("ann", {"annotator"});
  const int64_t me = ann.Get("/api/v1/me").body["id"].get<int64_t>();
  const int64_t project = CreateProject(req, 100'000);
  // Half the claims are gold checks (by a fixed hash of annotator and
  // claim count).
  const int64_t pool = CreatePool(
      req, project, GoldPool({{"gold_rate", 0.5}, {"domain", "law"}}));
  std::vector<json> tasks;
  for (int i = 0; i < 3; ++i) {
    tasks.push_back({{"data", PairData(absl::StrCat("question ", i))},
                     {"gold", {{"choice", "b"}, {"rationale", kGoldMarker}}}});
  }
  for (int i = 0; i < 6; ++i) {
    tasks.push_back({{"data", PairData(absl::StrCat("plain ", i))}});
  }
  ASSERT_TRUE(AddTasks(req, pool, tasks));
  ASSERT_TRUE(OpenPool(req, pool));

  std::vector<std::string> seen;  // every body the annotator received
  std::vector<int64_t> submissions;
  for (int i = 0; i < 6; ++i) {
    auto claim =
        ann.Post(Path("/api/v1/pools/", pool, "/claims"), json::object());
    ASSERT_EQ(claim.status, 201) << claim.Describe();
    seen.push_back(claim.raw);
    auto sub =
        ann.Post(Path("/api/v1/claims/",
                      claim.body["claim"]["id"].get<int64_t>(), "/submit"),
                 {{"result", {{"choice", "a"}}}});
    ASSERT_EQ(sub.status, 201) << sub.Describe();
    seen.push_back(sub.raw);
    submissions.push_back(sub.body["id"].get<int64_t>());
  }
  // The requester sees which claims were gold checks.
  auto pool_claims = req.Get(Path("/api/v1/pools/", pool, "/claims"));
  ASSERT_EQ(pool_claims.status, 200);
  int gold_checks = 0;
  for (const json& c : pool_claims.body["claims"]) {
    if (c["reason"]["policy"] == "gold") ++gold_checks;
  }
  ASSERT_GT(gold_checks, 0);
  for (int64_t s : submissions) {
    seen.push_back(ann.Get(Path("/api/v1/submissions/", s)).raw);
  }
  seen.push_back(ann.Get("/api/v1/me/submissions").raw);
  seen.push_back(ann.Get("/api/v1/me/claims").raw);
  auto standing = ann.Get("/api/v1/me/standing");
  ASSERT_EQ(standing.status, 200) << standing.Describe();
  seen.push_back(standing.raw);
  seen.push_back(ann.Get("/api/v1/pools").raw);
  for (const std::string& body : seen) {
    EXPECT_EQ(body.find(kGoldMarker), std::string::npos) << body;
    EXPECT_EQ(body.find("\"gold\""), std::string::npos) << body;
  }

  // The standing's shape: overall and per domain, six factors each.
  const json& st = standing.body;
  EXPECT_EQ(st["annotator_id"], me);
  for (const char* key : {"overall", "domains", "tiers", "policy", "flags",
                          "history", "computed_at"}) {
    EXPECT_TRUE(st.contains(key)) << key;
  }
  ASSERT_EQ(st["domains"].size(), 1u);
  EXPECT_EQ(st["domains"][0]["domain"], "law");
  const json& gold = st["domains"][0]["factors"][0];
  EXPECT_EQ(gold["name"], "gold_accuracy");
  EXPECT_EQ(gold["count"], gold_checks);
  EXPECT_EQ(gold["successes"], 0);  // every answer was wrong
  for (const char* key : {"name", "count", "successes", "prior", "smoothed",
                          "value", "weight", "contribution"}) {
    EXPECT_TRUE(gold.contains(key)) << key;
  }
  EXPECT_EQ(st["overall"]["factors"].size(), 6u);
  EXPECT_EQ(st["overall"]["tier"], "newcomer");
  EXPECT_FALSE(st["overall"]["hints"].empty());
  EXPECT_EQ(st["tiers"].size(), 4u);

  // Reviewers and requesters read it; another annotator may not.
  EXPECT_EQ(rev.Get(Path("/api/v1/users/", me, "/standing")).status, 200);
  auto by_req = req.Get(Path("/api/v1/users/", me, "/standing"));
  ASSERT_EQ(by_req.status, 200);
  EXPECT_EQ(by_req.body["domains"][0]["factors"][0]["count"], gold_checks);
  ApiClient other = CreateUser("other", {"annotator"});
  EXPECT_TRUE(IsApiError(other.Get(Path("/api/v1/users/", me, "/standing")),
                         403, std::nullopt));
  EXPECT_TRUE(
      IsApiError(req.Get("/api/v1/users/999999/standing"), 404, std::nullopt));
}

// The [standing] and [records] settings of the server's config file are what
// GET /me/standing and GET /me/record report and apply: a second server on
// the same database, started with other tier thresholds, tiers the same
// annotator differently.
TEST_P(IntegrationTest, StandingThresholdsAndIssuerFromTheConfigFile) {
  {
    std::ofstream config(config_file_, std::ios::app);
    config << "\n[standing]\ncontributor_min_reviewed = 0\n"
              "quality_min_reviewed = 0\nquality_min_score = 0.6\n"
              "reviewer_min_score = 0.75\n"
              "\n[records]\nissuer = \"annotate.example.org\"\n";
  }
  ServerProcess* second = StartServer();
  ASSERT_NE(second, nullptr);
  ApiClient ann = CreateUser("ann", {"annotator"});
  ApiClient ann2(second->port(), ann.token());

  // Defaults on the first server: a new annotator (score 0.67) is a
  // newcomer, 0.67 < 0.8.
  auto before = ann.Get("/api/v1/me/standing");
  ASSERT_EQ(before.status, 200) << before.Describe();
  EXPECT_EQ(before.body["tiers"][2]["tier"], "quality_contributor");
  EXPECT_EQ(before.body["tiers"][2]["min_score"], 0.8);
  EXPECT_EQ(before.body["tiers"][2]["min_reviewed"], 30);
  EXPECT_EQ(before.body["overall"]["tier"], "newcomer");

  // The configured thresholds: 0.67 >= 0.6 with no minimum volume.
  auto after = ann2.Get("/api/v1/me/standing");
  ASSERT_EQ(after.status, 200) << after.Describe();
  const json& tiers = after.body["tiers"];
  ASSERT_EQ(tiers.size(), 4u);
  EXPECT_EQ(tiers[1]["min_reviewed"], 0);
  EXPECT_EQ(tiers[2]["min_score"], 0.6);
  EXPECT_EQ(tiers[2]["min_reviewed"], 0);
  EXPECT_EQ(tiers[3]["min_score"], 0.75);
  EXPECT_NEAR(after.body["overall"]["score"].get<double>(), 0.67, 0.005);
  EXPECT_EQ(after.body["overall"]["tier"], "quality_contributor");
  bool hint = false;
  for (const json& h : after.body["overall"]["hints"]) {
    hint = hint || h == "score 0.67 < 0.75 needed for reviewer eligible";
  }
  EXPECT_TRUE(hint) << after.body["overall"]["hints"].dump();

  auto record = ann.Get("/api/v1/me/record");
  ASSERT_EQ(record.status, 200) << record.Describe();
  EXPECT_EQ(record.body["record"]["issuer"], "tessera");
  auto record2 = ann2.Get("/api/v1/me/record");
  ASSERT_EQ(record2.status, 200) << record2.Describe();
  EXPECT_EQ(record2.body["record"]["issuer"], "annotate.example.org");
}

}  // namespace
}  // namespace tessera::integration
