// Standing and allocation through service::Service with a fake clock:
// eligibility reasons per rule, blocks, newcomer exploration share, gold
// rate and grading, priority in scarce pools, the comeback limit, tier
// history. Built on SQLite (service_standing_test) and PostgreSQL
// (service_standing_pgtest).
#include "tessera/service/standing.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/clock.h"
#include "tessera/base/status.h"
#include "tessera/service/auth.h"
#include "tessera/service/service.h"
#include "tessera/service/service_test_base.h"
#include "tessera/store/store_conformance.h"

namespace tessera::service {
namespace {

using store::Tx;
using ::testing::HasSubstr;

class StandingServiceTest : public ServiceTestBase {
 protected:
  void SetUp() override {
    ServiceTestBase::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    TS_ASSERT_OK_AND_ASSIGN(req_, NewUser("req", {"requester"}));
    TS_ASSERT_OK_AND_ASSIGN(rev_, NewUser("rev", {"reviewer"}));
    TS_ASSERT_OK_AND_ASSIGN(
        json project,
        svc().CreateProject(
            req_,
            {{"name", "P"},
             {"guidelines", "g"},
             {"budget", {{"amount_minor", 10'000'000}, {"currency", "CNY"}}}}));
    project_ = ProjectId(project["id"].get<int64_t>());
  }

  // An open classify pool of `tasks` tasks (`gold` of them first, with gold
  // label "cat") and `workforce` settings (none when null).
  absl::StatusOr<PoolId> Pool(int tasks, json workforce, int gold = 0,
                              int64_t price = 100) {
    json config = {{"labels", {"cat", "dog"}}};
    if (!workforce.is_null()) config["workforce"] = workforce;
    TS_ASSIGN_OR_RETURN(
        json pool,
        svc().CreatePool(
            req_, project_,
            {{"name", "cats"},
             {"task_type", "classify"},
             {"config", config},
             {"price", {{"amount_minor", price}, {"currency", "CNY"}}}}));
    PoolId id(pool["id"].get<int64_t>());
    json list = json::array();
    for (int i = 0; i < tasks; ++i) {
      json t = {{"data", {{"text", absl::StrCat("item ", i)}}}};
      if (i < gold) t["gold"] = {{"label", "cat"}};
      list.push_back(t);
    }
    TS_RETURN_IF_ERROR(svc().AddTasks(req_, id, {{"tasks", list}}).status());
    TS_RETURN_IF_ERROR(svc().OpenPool(req_, id).status());
    return id;
  }

  // Claims and submits `label`; returns the claim body.
  absl::StatusOr<json> Work(const Principal& a, PoolId pool,
                            const std::string& label = "cat") {
    TS_ASSIGN_OR_RETURN(auto c, svc().Claim(a, pool));
    if (!c) return absl::NotFoundError("no task");
    TS_RETURN_IF_ERROR(
        svc()
            .Submit(a, ClaimId(c->body["claim"]["id"].get<int64_t>()),
                    {{"result", {{"label", label}}}}, "")
            .status());
    return c->body;
  }
  // Reviews every pending submission of `pool` with `verdict`.
  absl::Status ReviewAll(PoolId pool, const std::string& verdict) {
    while (true) {
      TS_ASSIGN_OR_RETURN(auto lease, svc().ClaimReview(rev_, pool));
      if (!lease) return absl::OkStatus();
      json body = {{"verdict", verdict}};
      if (verdict != "accept") body["comments"] = {{{"text", "no"}}};
      TS_RETURN_IF_ERROR(
          svc()
              .Review(rev_,
                      SubmissionId((*lease)["submission"]["id"].get<int64_t>()),
                      body)
              .status());
    }
  }
  // `a` does `n` accepted tasks in a fresh pool without settings.
  absl::Status Record(const Principal& a, int n,
                      const std::string& verdict = "accept") {
    TS_ASSIGN_OR_RETURN(PoolId warmup, Pool(n, nullptr));
    for (int i = 0; i < n; ++i) TS_RETURN_IF_ERROR(Work(a, warmup).status());
    TS_RETURN_IF_ERROR(ReviewAll(warmup, verdict));
    clock_.Advance(absl::Seconds(10));  // past the standing cache
    return absl::OkStatus();
  }
  json PoolListed(const Principal& a, PoolId pool) {
    auto list = svc().ListPools(a);
    EXPECT_TRUE(list.ok()) << list.status();
    for (const json& p : (*list)["pools"]) {
      if (p["id"] == pool.value) return p;
    }
    ADD_FAILURE() << "pool not listed";
    return json();
  }

  Principal req_, rev_;
  ProjectId project_;
};

TEST_P(StandingServiceTest, ClaimsWithoutSettingsRecordOpenPolicy) {
  TS_ASSERT_OK_AND_ASSIGN(Principal a, NewUser("a", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, Pool(2, nullptr));
  TS_ASSERT_OK_AND_ASSIGN(json c, Work(a, pool));
  TS_ASSERT_OK_AND_ASSIGN(json mine, svc().ListMyClaims(a));
  ASSERT_EQ(mine["claims"].size(), 1u);
  EXPECT_EQ(mine["claims"][0]["reason"]["policy"], "open");
  EXPECT_EQ(mine["claims"][0]["reason"]["tier"], "newcomer");
  EXPECT_NEAR(mine["claims"][0]["reason"]["score"].get<double>(), 0.67, 1e-9);
  TS_ASSERT_OK_AND_ASSIGN(json all, svc().ListPoolClaims(req_, pool, a.id));
  EXPECT_EQ(all["claims"][0]["id"], c["claim"]["id"]);
  EXPECT_EQ(svc().ListPoolClaims(a, pool, std::nullopt).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_P(StandingServiceTest, EligibilityReasonsForEachRule) {
  TS_ASSERT_OK_AND_ASSIGN(Principal a, NewUser("a", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(
      PoolId pool,
      Pool(5, {{"skill", "medicine"}, {"trial", {{"required", true}}}}));
  const std::string both =
      "needs the skill medicine (a reviewer grants it after checking your "
      "background); needs a passed trial for this pool";
  auto claim = svc().Claim(a, pool);
  EXPECT_EQ(claim.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(claim.status().message(), both);
  json listed = PoolListed(a, pool);
  EXPECT_FALSE(listed["can_claim"].get<bool>());
  EXPECT_EQ(listed["reasons"],
            json({"needs the skill medicine (a reviewer grants it after "
                  "checking your background)",
                  "needs a passed trial for this pool"}));
  // Grant the skill and a passed trial (as the trials use cases would).
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    store::SkillRow s;
    s.user_id = a.id;
    s.skill = "medicine";
    s.granted_by = rev_.id;
    s.reason = "MD";
    s.granted_at = clock_.Now();
    TS_RETURN_IF_ERROR(tx.GrantSkill(s));
    store::TrialAttemptRow t;
    t.pool_id = pool;
    t.annotator_id = a.id;
    t.state = "passed";
    t.score = 1;
    t.started_at = clock_.Now();
    t.finished_at = clock_.Now();
    return tx.InsertTrialAttempt(t).status();
  }));
  EXPECT_TRUE(PoolListed(a, pool)["can_claim"].get<bool>());
  TS_EXPECT_OK(Work(a, pool).status());

  // Daily cap: 2 a day, counted from 00:00 UTC.
  TS_ASSERT_OK_AND_ASSIGN(PoolId capped, Pool(5, {{"daily_cap", 2}}));
  TS_ASSERT_OK(Work(a, capped).status());
  TS_ASSERT_OK(Work(a, capped).status());
  claim = svc().Claim(a, capped);
  EXPECT_EQ(claim.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(claim.status().message(), "daily cap reached: 2 of 2 tasks today");
  EXPECT_EQ(PoolListed(a, capped)["reasons"],
            json({"daily cap reached: 2 of 2 tasks today"}));
  clock_.Advance(absl::Hours(24));
  TS_EXPECT_OK(Work(a, capped).status());

  // Blocked by the requester in the project, then unblocked.
  EXPECT_EQ(svc()
                .BlockAnnotator(req_, project_,
                                {{"annotator_id", a.id.value}, {"reason", " "}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  TS_ASSERT_OK(
      svc()
          .BlockAnnotator(req_, project_,
                          {{"annotator_id", a.id.value}, {"reason", "spam"}})
          .status());
  EXPECT_EQ(svc()
                .BlockAnnotator(req_, project_,
                                {{"annotator_id", a.id.value}, {"reason", "x"}})
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  claim = svc().Claim(a, capped);
  EXPECT_EQ(claim.status().message(),
            "blocked in this project by its requester: spam");
  TS_ASSERT_OK_AND_ASSIGN(json blocks, svc().ListBlocks(req_, project_));
  ASSERT_EQ(blocks["blocks"].size(), 1u);
  EXPECT_EQ(blocks["blocks"][0]["reason"], "spam");
  TS_ASSERT_OK(svc().UnblockAnnotator(req_, project_, a.id));
  EXPECT_EQ(svc().UnblockAnnotator(req_, project_, a.id).code(),
            absl::StatusCode::kNotFound);
  TS_EXPECT_OK(Work(a, capped).status());

  // Tier minimum: the first newcomer claim of the day is exploration (the
  // "+1"), the next is refused with the numbers.
  TS_ASSERT_OK_AND_ASSIGN(PoolId gated, Pool(5, {{"tier_min", "contributor"},
                                                 {"exploration_share", 0}}));
  TS_ASSERT_OK_AND_ASSIGN(Principal b, NewUser("b", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(json first, Work(b, gated));
  TS_ASSERT_OK_AND_ASSIGN(json mine, svc().ListMyClaims(b));
  EXPECT_EQ(mine["claims"][0]["reason"]["policy"], "exploration");
  EXPECT_EQ(PoolListed(a, gated)["reasons"],
            json({"needs tier contributor; yours is newcomer (score 0.67)"}));
  claim = svc().Claim(a, gated);
  EXPECT_EQ(claim.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(claim.status().message(),
            "needs tier contributor; yours is newcomer (score 0.67); the "
            "newcomer share is used up today (1 of 1 claims, share 0)");
}

// Tier-gated pool, share 0.1: newcomers always try first; over 100 claims
// they get share x claims + 1 = 11 (the +1 lets the first happen).
TEST_P(StandingServiceTest, ExplorationShareOverHundredClaims) {
  domain::StandingPolicy policy;
  policy.contributor_min_reviewed = 1;
  svc().SetStandingPolicy(policy);
  TS_ASSERT_OK_AND_ASSIGN(Principal c, NewUser("c", {"annotator"}));
  TS_ASSERT_OK(Record(c, 1));
  TS_ASSERT_OK_AND_ASSIGN(std::vector<Principal> newcomers,
                          NewAnnotators("n", 3));
  TS_ASSERT_OK_AND_ASSIGN(
      PoolId gated,
      Pool(120, {{"tier_min", "contributor"}, {"exploration_share", 0.1}}));
  int newcomer_claims = 0;
  for (int i = 0; i < 100; ++i) {
    const Principal& n = newcomers[i % newcomers.size()];
    auto tried = Work(n, gated);
    if (tried.ok()) {
      ++newcomer_claims;
      continue;
    }
    ASSERT_EQ(tried.status().code(), absl::StatusCode::kPermissionDenied)
        << tried.status();
    TS_ASSERT_OK(Work(c, gated).status());
  }
  RecordProperty("newcomer_claims", newcomer_claims);
  EXPECT_LE(std::abs(newcomer_claims - 10), 1) << newcomer_claims;
  TS_ASSERT_OK_AND_ASSIGN(json claims,
                          svc().ListPoolClaims(req_, gated, std::nullopt));
  int exploration = 0;
  for (const json& cl : claims["claims"]) {
    if (cl["reason"]["policy"] == "exploration") ++exploration;
  }
  EXPECT_EQ(exploration, newcomer_claims);
}

// Gold rate 0.2 over 200 claims by 4 annotators: the draws are a fixed hash
// of (annotator, claim count), so the count is reproducible; as Bernoulli
// draws its sd is sqrt(200 x 0.2 x 0.8) = 5.7, and we accept 40 +- 3 sd.
TEST_P(StandingServiceTest, GoldRateAndGrading) {
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool,
                          Pool(300, {{"gold_rate", 0.2}}, /*gold=*/60));
  TS_ASSERT_OK_AND_ASSIGN(std::vector<Principal> ann, NewAnnotators("a", 4));
  int gold = 0;
  for (int i = 0; i < 200; ++i) {
    const Principal& a = ann[i % ann.size()];
    // Every second gold answer is wrong: "dog" on odd rounds.
    TS_ASSERT_OK_AND_ASSIGN(json c, Work(a, pool, (i / 4) % 2 ? "dog" : "cat"));
    EXPECT_FALSE(c["task"].contains("gold"));
  }
  TS_ASSERT_OK_AND_ASSIGN(json claims,
                          svc().ListPoolClaims(req_, pool, std::nullopt));
  int64_t gold_passed = 0, gold_checks = 0;
  for (const json& c : claims["claims"]) {
    if (c["reason"]["policy"] == "gold") ++gold;
  }
  RecordProperty("gold_claims", gold);
  EXPECT_GE(gold, 23);
  EXPECT_LE(gold, 57);
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    for (const Principal& a : ann) {
      TS_ASSIGN_OR_RETURN(auto days, tx.ListGoldDays(a.id));
      for (const auto& d : days) {
        gold_checks += d.checks;
        gold_passed += d.passed;
      }
    }
    // Gold tasks take no slot; regular ones do.
    TS_ASSIGN_OR_RETURN(auto slots, tx.CountPoolSlots(pool));
    EXPECT_EQ(slots.first, 240);
    EXPECT_EQ(slots.second, 240 - (200 - gold));
    return absl::OkStatus();
  }));
  EXPECT_EQ(gold_checks, gold);
  EXPECT_GT(gold_passed, 0);
  EXPECT_LT(gold_passed, gold_checks);
  // Annotators never see which of their claims were gold checks.
  for (const Principal& a : ann) {
    TS_ASSERT_OK_AND_ASSIGN(json mine, svc().ListMyClaims(a));
    EXPECT_EQ(mine.dump().find("\"gold\""), std::string::npos);
    EXPECT_EQ(mine.dump().find("draw"), std::string::npos);
  }
  // The standing shows the checks as a count, never which task was gold.
  TS_ASSERT_OK_AND_ASSIGN(json st, svc().MyStanding(ann[0]));
  EXPECT_EQ(st["overall"]["factors"][0]["name"], "gold_accuracy");
  EXPECT_GT(st["overall"]["factors"][0]["count"].get<double>(), 0);
}

// Gold checks sample the gold set per annotator: 40 gold tasks (the pool's
// oldest), gold rate 0.5, six annotators claiming 40 tasks each (about 20
// gold checks each). Served oldest first, every annotator would meet the
// same gold tasks in the same order; here each meets them in an order of
// their own, and never one gold task twice.
TEST_P(StandingServiceTest, GoldOrderIsPerAnnotator) {
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool,
                          Pool(400, {{"gold_rate", 0.5}}, /*gold=*/40));
  TS_ASSERT_OK_AND_ASSIGN(std::vector<Principal> ann, NewAnnotators("g", 6));
  for (int round = 0; round < 40; ++round) {
    for (const Principal& a : ann) TS_ASSERT_OK(Work(a, pool).status());
  }
  TS_ASSERT_OK_AND_ASSIGN(json claims,
                          svc().ListPoolClaims(req_, pool, std::nullopt));
  // Gold tasks served to each annotator, in the order served (the list is
  // newest first).
  std::map<int64_t, std::vector<int64_t>> served;
  std::set<int64_t> gold_ids;
  for (auto it = claims["claims"].rbegin(); it != claims["claims"].rend();
       ++it) {
    if ((*it)["reason"]["policy"] != "gold") continue;
    served[(*it)["annotator_id"].get<int64_t>()].push_back(
        (*it)["task_id"].get<int64_t>());
    gold_ids.insert((*it)["task_id"].get<int64_t>());
    EXPECT_EQ((*it)["reason"]["gold_claimed_before"].get<int64_t>(),
              static_cast<int64_t>(
                  served[(*it)["annotator_id"].get<int64_t>()].size() - 1));
  }
  ASSERT_EQ(served.size(), ann.size());
  std::set<int64_t> firsts;
  std::set<std::vector<int64_t>> orders;
  for (const auto& [annotator, tasks] : served) {
    RecordProperty(absl::StrCat("gold_checks_", annotator),
                   static_cast<int>(tasks.size()));
    EXPECT_GE(tasks.size(), 10u);
    // Never the same gold task twice to one annotator.
    EXPECT_EQ(std::set<int64_t>(tasks.begin(), tasks.end()).size(),
              tasks.size());
    // Not the oldest-first order.
    EXPECT_FALSE(std::is_sorted(tasks.begin(), tasks.end()));
    firsts.insert(tasks.front());
    orders.insert(std::vector<int64_t>(tasks.begin(), tasks.begin() + 5));
  }
  // The annotators start on different gold tasks and go different ways:
  // oldest first, all six would share one first task and one order.
  EXPECT_GE(firsts.size(), 4u);
  EXPECT_EQ(orders.size(), ann.size());
  // Between them they met most of the gold set, not the same few.
  EXPECT_GE(gold_ids.size(), 35u);
  // The order is not shown to annotators: their view has no gold fields.
  for (const Principal& a : ann) {
    TS_ASSERT_OK_AND_ASSIGN(json mine, svc().ListMyClaims(a));
    EXPECT_EQ(mine.dump().find("gold_claimed_before"), std::string::npos);
    EXPECT_EQ(mine.dump().find("\"gold\""), std::string::npos);
  }
}

// Gold tasks are never used up but never served twice to one annotator:
// with 3 gold tasks among 30, one annotator's 30 claims take each gold task
// once and every regular task once, then there is nothing left.
TEST_P(StandingServiceTest, GoldTaskIsServedOncePerAnnotator) {
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool,
                          Pool(30, {{"gold_rate", 0.5}}, /*gold=*/3));
  TS_ASSERT_OK_AND_ASSIGN(Principal a, NewUser("once", {"annotator"}));
  std::set<int64_t> tasks;
  for (int i = 0; i < 30; ++i) {
    TS_ASSERT_OK_AND_ASSIGN(json c, Work(a, pool));
    EXPECT_TRUE(tasks.insert(c["task"]["id"].get<int64_t>()).second)
        << "task served twice: " << c["task"]["id"];
  }
  EXPECT_EQ(tasks.size(), 30u);
  TS_ASSERT_OK_AND_ASSIGN(auto none, svc().Claim(a, pool));
  EXPECT_FALSE(none.has_value());
  TS_ASSERT_OK_AND_ASSIGN(json claims,
                          svc().ListPoolClaims(req_, pool, std::nullopt));
  int gold = 0;
  for (const json& c : claims["claims"])
    gold += c["reason"]["policy"] == "gold";
  EXPECT_EQ(gold, 3);
}

// The per-annotator order itself: a hash order over the gold ids, skipping
// claimed ones.
TEST(GoldOrder, NextGoldTaskSkipsClaimedAndDiffersByAnnotator) {
  std::vector<int64_t> gold;
  for (int64_t id = 1; id <= 50; ++id) gold.push_back(id * 7);
  std::set<int64_t> firsts;
  for (int64_t a = 1; a <= 20; ++a) {
    absl::flat_hash_set<int64_t> claimed;
    std::vector<int64_t> order;
    while (auto next = internal::NextGoldTask(UserId(a), gold, claimed)) {
      EXPECT_TRUE(claimed.insert(next->value).second);
      order.push_back(next->value);
    }
    // Every gold task once, then none.
    EXPECT_EQ(order.size(), gold.size());
    firsts.insert(order.front());
    // Deterministic: the same annotator gets the same first task.
    EXPECT_EQ(internal::NextGoldTask(UserId(a), gold, {}),
              std::optional<TaskId>(TaskId(order.front())));
  }
  // 20 annotators over 50 tasks: a uniform draw would give ~17 distinct
  // first tasks; oldest first would give 1.
  EXPECT_GE(firsts.size(), 10u);
  EXPECT_FALSE(internal::NextGoldTask(UserId(1), {}, {}).has_value());
}

TEST_P(StandingServiceTest, ScarcePoolServesQualityContributorsFirst) {
  domain::StandingPolicy policy;
  policy.contributor_min_reviewed = 1;
  policy.quality_min_reviewed = 2;
  policy.quality_min_score = 0.5;
  policy.scarce_price_minor = 1000;
  svc().SetStandingPolicy(policy);
  TS_ASSERT_OK_AND_ASSIGN(Principal q, NewUser("q", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal c, NewUser("c", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal n, NewUser("n", {"annotator"}));
  TS_ASSERT_OK(Record(q, 2));
  TS_ASSERT_OK(Record(c, 1));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pricey,
                          Pool(10, json::object(), 0, /*price=*/1500));
  TS_ASSERT_OK(Work(q, pricey).status());
  auto refused = svc().Claim(c, pricey);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "few tasks left: reserved for quality contributors");
  TS_ASSERT_OK(Work(n, pricey).status());  // exploration
  TS_ASSERT_OK_AND_ASSIGN(json qc, svc().ListMyClaims(q));
  EXPECT_EQ(qc["claims"][0]["reason"]["policy"], "priority");
  EXPECT_EQ(qc["claims"][0]["reason"]["tier"], "quality_contributor");
  TS_ASSERT_OK_AND_ASSIGN(json nc, svc().ListMyClaims(n));
  EXPECT_EQ(nc["claims"][0]["reason"]["policy"], "exploration");

  // Scarce by open slots: a cheap pool of 10 with 1 slot left (10%).
  TS_ASSERT_OK_AND_ASSIGN(PoolId few, Pool(10, json::object()));
  for (int i = 0; i < 9; ++i) TS_ASSERT_OK(Work(q, few).status());
  clock_.Advance(absl::Seconds(10));
  refused = svc().Claim(c, few);
  EXPECT_EQ(refused.status().message(),
            "few tasks left: reserved for quality contributors");
}

TEST_P(StandingServiceTest, WorkThatKeepsComingBackLimitsClaims) {
  domain::StandingPolicy policy;
  policy.comeback_min_reviewed = 2;
  svc().SetStandingPolicy(policy);
  TS_ASSERT_OK_AND_ASSIGN(Principal a, NewUser("a", {"annotator"}));
  TS_ASSERT_OK(Record(a, 3, "reject"));
  TS_ASSERT_OK_AND_ASSIGN(PoolId p1, Pool(3, nullptr));
  TS_ASSERT_OK_AND_ASSIGN(PoolId p2, Pool(3, nullptr));
  TS_ASSERT_OK_AND_ASSIGN(auto first, svc().Claim(a, p1));
  ASSERT_TRUE(first.has_value());
  auto second = svc().Claim(a, p2);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(),
              HasSubstr("work keeps coming back: 100% returned or rejected"));
  TS_ASSERT_OK_AND_ASSIGN(json st, svc().MyStanding(a));
  ASSERT_EQ(st["flags"].size(), 1u);
  EXPECT_EQ(st["flags"][0]["flag"], "comeback");
  EXPECT_EQ(st["flags"][0]["max_active_claims"], 1);
}

TEST_P(StandingServiceTest, TierChangesAreRecordedOnce) {
  domain::StandingPolicy policy;
  policy.contributor_min_reviewed = 2;
  svc().SetStandingPolicy(policy);
  TS_ASSERT_OK_AND_ASSIGN(Principal a, NewUser("a", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(json st, svc().MyStanding(a));
  EXPECT_EQ(st["overall"]["tier"], "newcomer");
  EXPECT_TRUE(st["history"].empty());
  EXPECT_EQ(st["overall"]["hints"][0],
            "2 more reviewed tasks to reach contributor");
  TS_ASSERT_OK(Record(a, 2));
  TS_ASSERT_OK_AND_ASSIGN(st, svc().MyStanding(a));
  EXPECT_EQ(st["overall"]["tier"], "contributor");
  ASSERT_EQ(st["domains"].size(), 1u);
  EXPECT_EQ(st["domains"][0]["domain"], "");
  TS_ASSERT_OK_AND_ASSIGN(st, svc().MyStanding(a));  // no change: no row
  std::vector<store::StandingHistoryRow> rows;
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(rows, tx.ListStandingHistory(a.id));
    return absl::OkStatus();
  }));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].domain, "*");
  EXPECT_EQ(rows[0].tier, "contributor");
  EXPECT_EQ(rows[1].domain, "");
  EXPECT_EQ(st["history"].size(), 2u);
  // Requesters and reviewers may read it; other annotators may not.
  TS_ASSERT_OK_AND_ASSIGN(json seen, svc().UserStanding(req_, a.id));
  EXPECT_EQ(seen["overall"]["tier"], "contributor");
  EXPECT_EQ(seen["username"], "a");
  TS_ASSERT_OK_AND_ASSIGN(Principal b, NewUser("b", {"annotator"}));
  EXPECT_EQ(svc().UserStanding(b, a.id).status().code(),
            absl::StatusCode::kPermissionDenied);
  // Shape: six factors whose weights sum to 1 and contributions to the
  // score.
  double weights = 0, score = 0;
  for (const json& f : st["overall"]["factors"]) {
    weights += f["weight"].get<double>();
    score += f["contribution"].get<double>();
  }
  EXPECT_EQ(st["overall"]["factors"].size(), 6u);
  EXPECT_NEAR(weights, 1, 1e-12);
  EXPECT_NEAR(score, st["overall"]["score"].get<double>(), 1e-12);
  EXPECT_EQ(st["tiers"].size(), 4u);
}

// Agreement comes from the pool's latest quality snapshot.
TEST_P(StandingServiceTest, AgreementFromQualitySnapshot) {
  TS_ASSERT_OK_AND_ASSIGN(
      json created,
      svc().CreatePool(
          req_, project_,
          {{"name", "triple"},
           {"task_type", "classify"},
           {"config", {{"labels", {"cat", "dog"}}}},
           {"overlap", 3},
           {"price", {{"amount_minor", 10}, {"currency", "CNY"}}}}));
  PoolId pool(created["id"].get<int64_t>());
  json list = json::array();
  for (int i = 0; i < 4; ++i) {
    list.push_back({{"data", {{"text", absl::StrCat("t", i)}}}});
  }
  TS_ASSERT_OK(svc().AddTasks(req_, pool, {{"tasks", list}}).status());
  TS_ASSERT_OK(svc().OpenPool(req_, pool).status());
  std::vector<Principal> ann;
  for (int k = 0; k < 3; ++k) {
    TS_ASSERT_OK_AND_ASSIGN(Principal a,
                            NewUser(absl::StrCat("g", k), {"annotator"}));
    ann.push_back(a);
    for (int i = 0; i < 4; ++i) {
      TS_ASSERT_OK(Work(a, pool, k == 2 ? "dog" : "cat").status());
    }
  }
  TS_ASSERT_OK(svc().Aggregate(req_, pool).status());
  TS_ASSERT_OK_AND_ASSIGN(json good, svc().MyStanding(ann[0]));
  TS_ASSERT_OK_AND_ASSIGN(json odd, svc().MyStanding(ann[2]));
  const json& g = good["overall"]["factors"][4];
  const json& o = odd["overall"]["factors"][4];
  ASSERT_EQ(g["name"], "agreement");
  EXPECT_NEAR(g["count"].get<double>(), 4, 1e-9);
  EXPECT_NEAR(g["successes"].get<double>(), 4, 1e-9);
  EXPECT_NEAR(o["successes"].get<double>(), 0, 1e-9);
  // (3.5 + 4) / (5 + 4) vs 3.5 / 9.
  EXPECT_NEAR(g["value"].get<double>(), 7.5 / 9, 1e-9);
  EXPECT_NEAR(o["value"].get<double>(), 3.5 / 9, 1e-9);
}

#ifdef TESSERA_SERVICE_TEST_POSTGRES
#define TESSERA_STANDING_TEST_STORE store::PostgresStoreFactory()
#else
#define TESSERA_STANDING_TEST_STORE \
  store::SqliteStoreFactory(store::sqlite::Durability::kNormal)
#endif

INSTANTIATE_TEST_SUITE_P(service, StandingServiceTest,
                         ::testing::Values(TESSERA_STANDING_TEST_STORE),
                         store::StoreFactoryName);

}  // namespace
}  // namespace tessera::service
