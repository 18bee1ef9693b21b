// Background and trials through service::Service on a real store with a fake
// clock: profiles and skills, grading per task type (hand-checked numbers),
// tries and cool-down, trial pay through the ledger, and gold secrecy.
// Built twice: on SQLite (service_trials_test) and on PostgreSQL
// (service_trials_pgtest, with TESSERA_SERVICE_TEST_POSTGRES).
#include <map>
#include <memory>
#include <optional>
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
using ::testing::Not;

bool HasKeyAnywhere(const json& j, const std::string& key) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == key || HasKeyAnywhere(v, key)) return true;
    }
  } else if (j.is_array()) {
    for (const json& v : j) {
      if (HasKeyAnywhere(v, key)) return true;
    }
  }
  return false;
}

json Box(const std::string& label, double x, double y, double w, double h) {
  return {{"label", label}, {"x", x}, {"y", y}, {"w", w}, {"h", h}};
}
json Image(int n) {
  return {{"image", absl::StrCat("trial/", n, ".jpg")},
          {"width", 640},
          {"height", 480}};
}

template <typename T>
absl::StatusCode Code(const absl::StatusOr<T>& s) {
  return s.status().code();
}
template <typename T>
std::string FieldOfResult(const absl::StatusOr<T>& s) {
  return FieldOf(s.status()).value_or("");
}

class TrialsTest : public ServiceTestBase {
 protected:
  // A requester, an annotator, a reviewer and a project with `budget`.
  void MakeWorld(int64_t budget = 100'000) {
    TS_ASSERT_OK_AND_ASSIGN(req_, NewUser("req", {"requester"}));
    TS_ASSERT_OK_AND_ASSIGN(ann_, NewUser("ann", {"annotator"}));
    TS_ASSERT_OK_AND_ASSIGN(rev_, NewUser("rev", {"reviewer"}));
    json body = {{"name", "Trials"}};
    if (budget > 0) {
      body["budget"] = {{"amount_minor", budget}, {"currency", "CNY"}};
    }
    TS_ASSERT_OK_AND_ASSIGN(json project, svc().CreateProject(req_, body));
    project_ = ProjectId(project["id"].get<int64_t>());
  }

  // An open pool of `type` whose trial is `trial` (merged into required).
  absl::StatusOr<PoolId> TrialPool(const std::string& type, json config,
                                   json trial, int64_t price = 100) {
    json t = {{"required", true}};
    t.update(trial);
    config["workforce"] = {{"trial", t}};
    TS_ASSIGN_OR_RETURN(
        json pool,
        svc().CreatePool(
            req_, project_,
            {{"name", absl::StrCat(type, " pool")},
             {"task_type", type},
             {"config", config},
             {"price", {{"amount_minor", price}, {"currency", "CNY"}}}}));
    PoolId id(pool["id"].get<int64_t>());
    TS_RETURN_IF_ERROR(svc().OpenPool(req_, id).status());
    return id;
  }
  absl::Status AddTrialTasks(PoolId pool, json tasks) {
    return svc().AddTrialTasks(req_, pool, {{"tasks", tasks}}).status();
  }
  // Starts an attempt; its id.
  absl::StatusOr<int64_t> Start(PoolId pool) {
    TS_ASSIGN_OR_RETURN(auto started, svc().StartTrial(ann_, pool));
    return started.body["id"].get<int64_t>();
  }
  absl::StatusOr<json> Answer(int64_t attempt, int64_t task, json result) {
    return svc().AnswerTrial(
        ann_, attempt,
        {{"trial_task_id", task}, {"result", result}, {"active_seconds", 30}});
  }
  // A one-task attempt answered with `result`; the finished attempt view.
  absl::StatusOr<json> OneShot(PoolId pool, json result) {
    TS_ASSIGN_OR_RETURN(int64_t attempt, Start(pool));
    TS_ASSIGN_OR_RETURN(json view, svc().GetTrial(ann_, attempt));
    return Answer(attempt, view["tasks"][0]["trial_task_id"].get<int64_t>(),
                  result);
  }
  absl::StatusOr<int64_t> Remaining() {
    TS_ASSIGN_OR_RETURN(json p, svc().GetProject(req_, project_));
    return p["budget"]["remaining"]["amount_minor"].get<int64_t>();
  }
  absl::StatusOr<int64_t> Earned(const Principal& a) {
    TS_ASSIGN_OR_RETURN(json e, svc().Earnings(a));
    return e["balance"]["amount_minor"].get<int64_t>();
  }
  absl::StatusOr<int64_t> SumAllEntries() {
    int64_t out = -1;
    TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(out, tx.SumAllEntries());
      return absl::OkStatus();
    }));
    return out;
  }
  absl::StatusOr<std::vector<domain::AuditRecord>> AuditOf(
      const std::string& entity, int64_t id) {
    std::vector<domain::AuditRecord> out;
    TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(out, tx.ListAudit(entity, id));
      return absl::OkStatus();
    }));
    return out;
  }

  static json ClassifyConfig() { return {{"labels", {"cat", "dog", "bird"}}}; }

  Principal req_, ann_, rev_;
  ProjectId project_;
};

// ---------------------------------------------------------------- profiles

TEST_P(TrialsTest, ProfileSkillsGrantAndRevokeWithReasons) {
  MakeWorld();
  // Bad input names the field and changes nothing.
  auto bad = svc().PutMyProfile(ann_, {{"domains", {"law", "astrology"}}});
  EXPECT_EQ(Code(bad), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOfResult(bad), "domains[1]");
  bad = svc().PutMyProfile(ann_, {{"domains", {"law", "law"}}});
  EXPECT_EQ(FieldOfResult(bad), "domains[1]");
  bad = svc().PutMyProfile(ann_, {{"profession", "nurse"}});
  EXPECT_EQ(FieldOfResult(bad), "domains");
  TS_ASSERT_OK_AND_ASSIGN(json none, svc().GetMyProfile(ann_));
  EXPECT_EQ(none["verification"]["state"], "none");

  // No degree needed: education may stay empty.
  TS_ASSERT_OK_AND_ASSIGN(
      json mine, svc().PutMyProfile(
                     ann_, {{"domains", {"medicine", "languages"}},
                            {"profession", "nurse"},
                            {"evidence", "12 years on a cardiology ward"}}));
  EXPECT_EQ(mine["domains"], json::array({"medicine", "languages"}));
  EXPECT_EQ(mine["education"], "");
  EXPECT_EQ(mine["verification"]["state"], "unverified");
  EXPECT_EQ(mine["skills"], json::array());

  // Who may look and grant.
  EXPECT_EQ(Code(svc().ListProfiles(ann_, true)),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(svc().ListProfiles(req_, true)),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(svc().GrantSkill(req_, ann_.id,
                                  {{"skill", "medicine"}, {"reason", "x"}})),
            absl::StatusCode::kPermissionDenied);
  TS_ASSERT_OK_AND_ASSIGN(json waiting, svc().ListProfiles(rev_, true));
  ASSERT_EQ(waiting["profiles"].size(), 1u);
  EXPECT_EQ(waiting["profiles"][0]["user_id"], ann_.id.value);

  auto blank = svc().GrantSkill(rev_, ann_.id,
                                {{"skill", "medicine"}, {"reason", "   "}});
  EXPECT_EQ(Code(blank), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOfResult(blank), "reason");
  EXPECT_EQ(FieldOfResult(svc().GrantSkill(
                rev_, ann_.id, {{"skill", "a b"}, {"reason", "r"}})),
            "skill");
  EXPECT_EQ(Code(svc().GrantSkill(rev_, rev_.id,
                                  {{"skill", "medicine"}, {"reason", "me"}})),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(svc().GrantSkill(rev_, UserId(9999),
                                  {{"skill", "medicine"}, {"reason", "r"}})),
            absl::StatusCode::kNotFound);

  TS_ASSERT_OK_AND_ASSIGN(
      json granted,
      svc().GrantSkill(rev_, ann_.id,
                       {{"skill", "medicine"},
                        {"reason", "ward references checked by phone"}}));
  EXPECT_EQ(granted["verification"]["state"], "verified");
  EXPECT_EQ(granted["verification"]["verified_by"], rev_.id.value);
  ASSERT_EQ(granted["skills"].size(), 1u);
  EXPECT_EQ(granted["skills"][0]["skill"], "medicine");
  EXPECT_EQ(granted["skills"][0]["granted_by"], rev_.id.value);
  EXPECT_EQ(granted["skills"][0]["reason"], "ward references checked by phone");
  EXPECT_EQ(Code(svc().GrantSkill(
                rev_, ann_.id, {{"skill", "medicine"}, {"reason", "again"}})),
            absl::StatusCode::kAlreadyExists);
  TS_ASSERT_OK_AND_ASSIGN(waiting, svc().ListProfiles(rev_, true));
  EXPECT_TRUE(waiting["profiles"].empty());
  TS_ASSERT_OK_AND_ASSIGN(json seen, svc().GetMyProfile(ann_));
  EXPECT_EQ(seen["skills"], granted["skills"]);

  // Revoking needs a reason too.
  auto no_reason = svc().RevokeSkill(rev_, ann_.id, "medicine", json::object());
  EXPECT_EQ(FieldOfResult(no_reason), "reason");
  clock_.Advance(absl::Hours(1));
  TS_ASSERT_OK_AND_ASSIGN(
      json revoked, svc().RevokeSkill(rev_, ann_.id, "medicine",
                                      {{"reason", "licence lapsed in 2026"}}));
  EXPECT_TRUE(revoked["skills"].empty());
  ASSERT_EQ(revoked["revoked_skills"].size(), 1u);
  EXPECT_EQ(revoked["revoked_skills"][0]["revoked_by"], rev_.id.value);
  EXPECT_EQ(revoked["revoked_skills"][0]["revoked_at"], Rfc3339(clock_.Now()));
  EXPECT_EQ(
      Code(svc().RevokeSkill(rev_, ann_.id, "medicine", {{"reason", "twice"}})),
      absl::StatusCode::kNotFound);
  // A revoked skill can be granted again.
  TS_ASSERT_OK_AND_ASSIGN(
      json regranted,
      svc().GrantSkill(rev_, ann_.id,
                       {{"skill", "medicine"}, {"reason", "renewed"}}));
  EXPECT_EQ(regranted["skills"].size(), 1u);
  EXPECT_TRUE(regranted["revoked_skills"].empty());

  // Every change is audited with its reason.
  TS_ASSERT_OK_AND_ASSIGN(auto audit, AuditOf("user", ann_.id.value));
  std::vector<std::string> actions;
  std::string reasons;
  for (const auto& a : audit) {
    if (a.action == "session.create") continue;
    actions.push_back(a.action);
    reasons += a.after_json;
  }
  EXPECT_THAT(actions, ::testing::ElementsAre("user.create", "profile.update",
                                              "skill.grant", "skill.revoke",
                                              "skill.grant"));
  EXPECT_THAT(reasons, HasSubstr("licence lapsed in 2026"));
  EXPECT_THAT(reasons, HasSubstr("ward references checked by phone"));
}

// ---------------------------------------------------------------- grading

TEST_P(TrialsTest, ClassifyTrialGradesEachTaskAndPassesAtThreshold) {
  MakeWorld();
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool,
                          TrialPool("classify", ClassifyConfig(),
                                    {{"tasks", 3}, {"pass_threshold", 0.6}}));
  // Objective trial tasks need gold; the first bad task fails the request.
  auto missing = svc().AddTrialTasks(
      req_, pool,
      {{"tasks",
        {{{"data", {{"text", "a"}}}, {"gold", {{"label", "cat"}}}},
         {{"data", {{"text", "b"}}}}}}});
  EXPECT_EQ(FieldOfResult(missing), "tasks[1].gold");
  auto wrong = svc().AddTrialTasks(
      req_, pool,
      {{"tasks", {{{"data", {{"text", "a"}}}, {"gold", {{"label", "cow"}}}}}}});
  EXPECT_EQ(FieldOfResult(wrong), "tasks[0].gold.label");
  TS_ASSERT_OK_AND_ASSIGN(json listed, svc().ListTrialTasks(req_, pool));
  EXPECT_TRUE(listed["trial_tasks"].empty());
  EXPECT_EQ(Code(svc().AddTrialTasks(ann_, pool, {{"tasks", json::array()}})),
            absl::StatusCode::kPermissionDenied);

  const std::map<std::string, std::string> gold = {
      {"t-cat", "cat"}, {"t-dog", "dog"}, {"t-bird", "bird"}};
  json tasks = json::array();
  for (const auto& [text, label] : gold) {
    tasks.push_back({{"data", {{"text", text}}}, {"gold", {{"label", label}}}});
  }
  TS_ASSERT_OK(AddTrialTasks(pool, tasks));
  TS_ASSERT_OK_AND_ASSIGN(listed, svc().ListTrialTasks(req_, pool));
  ASSERT_EQ(listed["trial_tasks"].size(), 3u);
  EXPECT_EQ(listed["trial"]["pass_threshold"], 0.6);

  TS_ASSERT_OK_AND_ASSIGN(auto started, svc().StartTrial(ann_, pool));
  EXPECT_FALSE(started.resumed);
  const int64_t attempt = started.body["id"].get<int64_t>();
  ASSERT_EQ(started.body["tasks"].size(), 3u);
  // The same attempt comes back while it is in progress, in the same order.
  TS_ASSERT_OK_AND_ASSIGN(auto again, svc().StartTrial(ann_, pool));
  EXPECT_TRUE(again.resumed);
  EXPECT_EQ(again.body["tasks"], started.body["tasks"]);

  // Right on cat and dog; "dog" for the bird.
  for (const json& t : started.body["tasks"]) {
    const std::string text = t["data"]["text"];
    const std::string answer = text == "t-bird" ? "dog" : gold.at(text);
    auto view = Answer(attempt, t["trial_task_id"], {{"label", answer}});
    ASSERT_TRUE(view.ok()) << view.status();
    if ((*view)["answered"] != 3) {
      // Grades stay hidden until the attempt is finished.
      EXPECT_EQ((*view)["state"], "in_progress");
      EXPECT_FALSE(HasKeyAnywhere(*view, "feedback"));
      EXPECT_TRUE((*view)["score"].is_null());
    }
  }
  auto twice = Answer(attempt, started.body["tasks"][0]["trial_task_id"],
                      {{"label", "cat"}});
  EXPECT_EQ(Code(twice), absl::StatusCode::kFailedPrecondition);

  TS_ASSERT_OK_AND_ASSIGN(json done, svc().GetTrial(ann_, attempt));
  EXPECT_EQ(done["state"], "passed");
  EXPECT_NEAR(done["score"].get<double>(), 2.0 / 3.0, 1e-9);
  for (const json& t : done["tasks"]) {
    const std::string text = t["data"]["text"];
    if (text == "t-bird") {
      EXPECT_EQ(t["score"], 0.0);
      EXPECT_EQ(t["feedback"], "you chose dog; the expected answer was bird");
    } else {
      EXPECT_EQ(t["score"], 1.0);
      EXPECT_EQ(t["feedback"], absl::StrCat("correct: ", gold.at(text)));
    }
  }
  // Passed: no further attempts.
  auto after = svc().StartTrial(ann_, pool);
  EXPECT_EQ(Code(after), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(after.status().message()), HasSubstr("already"));
}

TEST_P(TrialsTest, BboxTrialScoresF1OfBoxesMatchedAtIou) {
  MakeWorld();
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool,
                          TrialPool("bbox", {{"labels", {"person", "car"}}},
                                    {{"tasks", 1},
                                     {"iou_threshold", 0.5},
                                     {"pass_threshold", 0.7},
                                     {"max_tries", 5},
                                     {"cooldown_hours", 0}}));
  TS_ASSERT_OK(AddTrialTasks(
      pool, {{{"data", Image(1)},
              {"gold",
               {{"boxes",
                 {Box("person", 120, 40, 30, 80), Box("car", 10, 10, 100, 50),
                  Box("car", 300, 200, 50, 50)}}}}}}));
  // person shifted by 2 px: intersection 28x80 = 2240, union 2400 + 2400 -
  // 2240 = 2560, IoU 0.875 (match); car exact (match); third car missed; one
  // extra person. TP 2, FP 1, FN 1: F1 = 4 / 6.
  TS_ASSERT_OK_AND_ASSIGN(json first,
                          OneShot(pool, {{"boxes",
                                          {Box("person", 122, 40, 30, 80),
                                           Box("car", 10, 10, 100, 50),
                                           Box("person", 400, 300, 20, 20)}}}));
  EXPECT_EQ(first["state"], "failed");
  EXPECT_NEAR(first["score"].get<double>(), 4.0 / 6.0, 1e-9);
  const std::string feedback = first["tasks"][0]["feedback"];
  EXPECT_THAT(feedback, HasSubstr("2 of 3 boxes matched"));
  EXPECT_THAT(feedback, HasSubstr("missed a car at (300, 200, 50\u00d750)"));
  EXPECT_THAT(feedback,
              HasSubstr("extra person box at (400, 300, 20\u00d720)"));

  // Shifted by 50 px: intersection 50x50 = 2500, union 5000 + 5000 - 2500 =
  // 7500, IoU 1/3 < 0.5, so nothing matches; a right box with the wrong label
  // is named as such. TP 0 of 3: F1 0.
  TS_ASSERT_OK_AND_ASSIGN(
      json second,
      OneShot(pool,
              {{"boxes",
                {Box("car", 60, 10, 100, 50), Box("car", 120, 40, 30, 80)}}}));
  EXPECT_EQ(second["score"], 0.0);
  const std::string f2 = second["tasks"][0]["feedback"];
  EXPECT_THAT(f2, HasSubstr("0 of 3 boxes matched"));
  EXPECT_THAT(f2, HasSubstr("labelled car at (120, 40, 30\u00d780) where the "
                            "expected label was person"));

  // All three within IoU 0.5: F1 1, passed.
  TS_ASSERT_OK_AND_ASSIGN(json third,
                          OneShot(pool, {{"boxes",
                                          {Box("car", 300, 200, 50, 50),
                                           Box("person", 120, 40, 30, 80),
                                           Box("car", 12, 10, 100, 50)}}}));
  EXPECT_EQ(third["score"], 1.0);
  EXPECT_EQ(third["state"], "passed");
}

TEST_P(TrialsTest, RatingTrialCountsCriteriaWithinTolerance) {
  MakeWorld();
  TS_ASSERT_OK_AND_ASSIGN(
      PoolId pool,
      TrialPool(
          "rating", {{"criteria", {"helpful", "honest", "clear"}}},
          {{"tasks", 1}, {"rating_tolerance", 1}, {"cooldown_hours", 0}}));
  TS_ASSERT_OK(AddTrialTasks(
      pool, {{{"data", {{"prompt", "p"}, {"response", "r"}}},
              {"gold",
               {{"scores", {{"helpful", 4}, {"honest", 2}, {"clear", 5}}}}}}}));
  // helpful off by 1 (within), honest off by 2 (not), clear exact: 2 of 3.
  TS_ASSERT_OK_AND_ASSIGN(
      json done,
      OneShot(pool,
              {{"scores", {{"helpful", 3}, {"honest", 4}, {"clear", 5}}}}));
  EXPECT_NEAR(done["score"].get<double>(), 2.0 / 3.0, 1e-9);
  EXPECT_EQ(done["state"], "failed");  // default pass threshold 0.8
  EXPECT_EQ(done["tasks"][0]["feedback"],
            "2 of 3 criteria within 1 of the expected score; honest: you gave "
            "4, expected 2");
}

TEST_P(TrialsTest, PairwiseTrialIsExactMatch) {
  MakeWorld();
  TS_ASSERT_OK_AND_ASSIGN(
      PoolId pool, TrialPool("pairwise", json::object(), {{"tasks", 1}}));
  TS_ASSERT_OK(AddTrialTasks(
      pool, {{{"data", {{"prompt", "p"}, {"responses", {"x", "y"}}}},
              {"gold", {{"choice", "b"}}}}}));
  TS_ASSERT_OK_AND_ASSIGN(json done, OneShot(pool, {{"choice", "a"}}));
  EXPECT_EQ(done["score"], 0.0);
  EXPECT_EQ(done["tasks"][0]["feedback"],
            "you chose a; the expected answer was b");
}

// ------------------------------------------------------- tries, cool-down

TEST_P(TrialsTest, TriesAndCooldownLimitNewAttempts) {
  MakeWorld();
  // A pool without a required trial has none to take.
  TS_ASSERT_OK_AND_ASSIGN(PoolId plain, TrialPool("classify", ClassifyConfig(),
                                                  {{"required", false}}));
  auto none = svc().StartTrial(ann_, plain);
  EXPECT_EQ(Code(none), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("no trial"));

  TS_ASSERT_OK_AND_ASSIGN(
      PoolId pool,
      TrialPool("classify", ClassifyConfig(),
                {{"tasks", 1}, {"max_tries", 2}, {"cooldown_hours", 24}}));
  auto empty = svc().StartTrial(ann_, pool);
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr("no tasks"));
  TS_ASSERT_OK(AddTrialTasks(
      pool, {{{"data", {{"text", "x"}}}, {"gold", {{"label", "cat"}}}}}));

  TS_ASSERT_OK_AND_ASSIGN(json first, OneShot(pool, {{"label", "dog"}}));
  EXPECT_EQ(first["state"], "failed");
  const absl::Time ends = clock_.Now() + absl::Hours(24);
  auto cooling = svc().StartTrial(ann_, pool);
  EXPECT_EQ(Code(cooling), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(cooling.status().message()),
              HasSubstr(absl::StrCat("ends at ", Rfc3339(ends))));
  TS_ASSERT_OK_AND_ASSIGN(json mine, svc().ListMyTrials(ann_));
  ASSERT_EQ(mine["trials"].size(), 1u);
  EXPECT_EQ(mine["trials"][0]["tries_used"], 1);
  EXPECT_EQ(mine["trials"][0]["next_try_at"], Rfc3339(ends));
  EXPECT_EQ(mine["trials"][0]["can_start"], false);

  clock_.Advance(absl::Hours(24) - absl::Seconds(1));
  EXPECT_EQ(Code(svc().StartTrial(ann_, pool)),
            absl::StatusCode::kFailedPrecondition);
  clock_.Advance(absl::Seconds(1));
  TS_ASSERT_OK_AND_ASSIGN(json second, OneShot(pool, {{"label", "bird"}}));
  EXPECT_EQ(second["state"], "failed");
  clock_.Advance(absl::Hours(48));
  auto used = svc().StartTrial(ann_, pool);
  EXPECT_EQ(Code(used), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(used.status().message()),
              HasSubstr("used all 2 tries"));
  TS_ASSERT_OK_AND_ASSIGN(mine, svc().ListMyTrials(ann_));
  EXPECT_EQ(mine["trials"][0]["tries_used"], 2);
  EXPECT_EQ(mine["trials"][0]["attempts"].size(), 2u);
  EXPECT_TRUE(mine["trials"][0]["next_try_at"].is_null());

  // The requester and the reviewer take no trials.
  EXPECT_EQ(Code(svc().StartTrial(req_, pool)),
            absl::StatusCode::kPermissionDenied);
}

TEST_P(TrialsTest, RetriesDrawTasksNotSeenBefore) {
  MakeWorld();
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool,
                          TrialPool("classify", ClassifyConfig(),
                                    {{"tasks", 2}, {"cooldown_hours", 0}}));
  json tasks = json::array();
  for (int i = 0; i < 4; ++i) {
    tasks.push_back({{"data", {{"text", absl::StrCat("t", i)}}},
                     {"gold", {{"label", "cat"}}}});
  }
  TS_ASSERT_OK(AddTrialTasks(pool, tasks));
  std::set<int64_t> seen;
  for (int attempt_no = 0; attempt_no < 2; ++attempt_no) {
    TS_ASSERT_OK_AND_ASSIGN(int64_t attempt, Start(pool));
    TS_ASSERT_OK_AND_ASSIGN(json view, svc().GetTrial(ann_, attempt));
    ASSERT_EQ(view["tasks"].size(), 2u);
    for (const json& t : view["tasks"]) {
      EXPECT_TRUE(seen.insert(t["trial_task_id"].get<int64_t>()).second)
          << "attempt " << attempt_no << " repeats a task";
      TS_ASSERT_OK(Answer(attempt, t["trial_task_id"], {{"label", "dog"}}));
    }
  }
  EXPECT_EQ(seen.size(), 4u);
}

// --------------------------------------------------------------- payment

TEST_P(TrialsTest, TrialPaymentBalancesTheLedger) {
  MakeWorld(10'000);
  TS_ASSERT_OK_AND_ASSIGN(
      PoolId pool,
      TrialPool("classify", ClassifyConfig(), {{"tasks", 2}}, /*price=*/250));
  TS_ASSERT_OK(AddTrialTasks(
      pool, {{{"data", {{"text", "a"}}}, {"gold", {{"label", "cat"}}}},
             {{"data", {{"text", "b"}}}, {"gold", {{"label", "dog"}}}}}));
  TS_ASSERT_OK_AND_ASSIGN(int64_t budget_before, Remaining());
  TS_ASSERT_OK_AND_ASSIGN(int64_t earned_before, Earned(ann_));
  TS_ASSERT_OK_AND_ASSIGN(int64_t attempt, Start(pool));
  TS_ASSERT_OK_AND_ASSIGN(json view, svc().GetTrial(ann_, attempt));
  TS_ASSERT_OK(
      Answer(attempt, view["tasks"][0]["trial_task_id"], {{"label", "bird"}}));
  // Nothing is paid before the attempt finishes.
  TS_ASSERT_OK_AND_ASSIGN(int64_t budget_mid, Remaining());
  EXPECT_EQ(budget_mid, budget_before);
  TS_ASSERT_OK_AND_ASSIGN(
      json done,
      Answer(attempt, view["tasks"][1]["trial_task_id"], {{"label", "bird"}}));
  EXPECT_EQ(done["state"], "failed");  // paid all the same
  EXPECT_EQ(done["paid"]["amount_minor"], 500);
  TS_ASSERT_OK_AND_ASSIGN(int64_t budget_after, Remaining());
  TS_ASSERT_OK_AND_ASSIGN(int64_t earned_after, Earned(ann_));
  EXPECT_EQ(budget_before - budget_after, 500);
  EXPECT_EQ(earned_after - earned_before, budget_before - budget_after);
  TS_ASSERT_OK_AND_ASSIGN(int64_t sum, SumAllEntries());
  EXPECT_EQ(sum, 0);
  TS_ASSERT_OK_AND_ASSIGN(json earnings, svc().Earnings(ann_));
  ASSERT_EQ(earnings["entries"].size(), 1u);
  EXPECT_EQ(earnings["entries"][0]["kind"], "trial_payment");
  EXPECT_EQ(earnings["entries"][0]["amount"]["amount_minor"], 500);

  // An unpaid trial moves no money.
  TS_ASSERT_OK_AND_ASSIGN(PoolId unpaid,
                          TrialPool("classify", ClassifyConfig(),
                                    {{"tasks", 1}, {"paid", false}}, 250));
  TS_ASSERT_OK(AddTrialTasks(
      unpaid, {{{"data", {{"text", "a"}}}, {"gold", {{"label", "cat"}}}}}));
  TS_ASSERT_OK_AND_ASSIGN(json free_done, OneShot(unpaid, {{"label", "cat"}}));
  EXPECT_EQ(free_done["state"], "passed");
  EXPECT_TRUE(free_done["paid"].is_null());
  TS_ASSERT_OK_AND_ASSIGN(int64_t budget_end, Remaining());
  EXPECT_EQ(budget_end, budget_after);

  // A paid trial the budget cannot cover does not start.
  TS_ASSERT_OK_AND_ASSIGN(
      PoolId dear,
      TrialPool("classify", ClassifyConfig(), {{"tasks", 1}}, budget_end + 1));
  TS_ASSERT_OK(AddTrialTasks(
      dear, {{{"data", {{"text", "a"}}}, {"gold", {{"label", "cat"}}}}}));
  auto broke = svc().StartTrial(ann_, dear);
  EXPECT_EQ(Code(broke), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(broke.status().message()), HasSubstr("budget"));
}

// ------------------------------------------------------------ gold secrecy

TEST_P(TrialsTest, GoldNeverReachesTheAnnotatorDuringAnAttempt) {
  MakeWorld();
  TS_ASSERT_OK_AND_ASSIGN(
      PoolId pool,
      TrialPool("bbox", {{"labels", {"person", "car"}}}, {{"tasks", 2}}));
  // Distinctive gold values: 33.25 and 417.5 appear nowhere else.
  const json gold1 = {{"boxes", {Box("person", 1, 2, 33.25, 44)}}};
  const json gold2 = {{"boxes", {Box("car", 417.5, 100, 60, 40)}}};
  TS_ASSERT_OK(AddTrialTasks(pool, {{{"data", Image(1)}, {"gold", gold1}},
                                    {{"data", Image(2)}, {"gold", gold2}}}));
  std::vector<json> seen;
  TS_ASSERT_OK_AND_ASSIGN(auto started, svc().StartTrial(ann_, pool));
  seen.push_back(started.body);
  const int64_t attempt = started.body["id"];
  TS_ASSERT_OK_AND_ASSIGN(json view, svc().GetTrial(ann_, attempt));
  seen.push_back(view);
  TS_ASSERT_OK_AND_ASSIGN(json answered,
                          Answer(attempt, view["tasks"][0]["trial_task_id"],
                                 {{"boxes", {Box("car", 5, 5, 10, 10)}}}));
  seen.push_back(answered);
  TS_ASSERT_OK_AND_ASSIGN(json mine, svc().ListMyTrials(ann_));
  seen.push_back(mine);
  for (const json& j : seen) {
    EXPECT_FALSE(HasKeyAnywhere(j, "gold")) << j.dump();
    EXPECT_THAT(j.dump(), Not(HasSubstr("33.25"))) << j.dump();
    EXPECT_THAT(j.dump(), Not(HasSubstr("417.5"))) << j.dump();
  }
  // Once finished, the feedback explains the expected boxes in words, but
  // the gold itself (as JSON) still never appears.
  TS_ASSERT_OK_AND_ASSIGN(json done,
                          Answer(attempt, view["tasks"][1]["trial_task_id"],
                                 {{"boxes", {Box("car", 5, 5, 10, 10)}}}));
  TS_ASSERT_OK_AND_ASSIGN(json later, svc().GetTrial(ann_, attempt));
  for (const json& j : {done, later}) {
    EXPECT_FALSE(HasKeyAnywhere(j, "gold")) << j.dump();
    EXPECT_THAT(j.dump(), Not(HasSubstr(gold1["boxes"].dump())));
    EXPECT_THAT(j.dump(), Not(HasSubstr(gold2["boxes"].dump())));
  }
  // The owner sees the gold.
  TS_ASSERT_OK_AND_ASSIGN(json owner, svc().ListTrialTasks(req_, pool));
  EXPECT_THAT(owner.dump(), HasSubstr("33.25"));
  // Another annotator cannot read the attempt at all.
  TS_ASSERT_OK_AND_ASSIGN(Principal other, NewUser("other", {"annotator"}));
  EXPECT_EQ(Code(svc().GetTrial(other, attempt)), absl::StatusCode::kNotFound);
}

// ------------------------------------------------------------- free text

TEST_P(TrialsTest, FreeTextTrialWaitsForAReviewersGrade) {
  MakeWorld(10'000);
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool,
                          TrialPool("rewrite", json::object(),
                                    {{"tasks", 2}, {"pass_threshold", 0.7}},
                                    /*price=*/100));
  // Gold may be omitted (or given as a reference answer).
  TS_ASSERT_OK(
      AddTrialTasks(pool, {{{"data", {{"prompt", "p1"}, {"response", "r1"}}}},
                           {{"data", {{"prompt", "p2"}, {"response", "r2"}}},
                            {"gold", {{"text", "a model rewrite"}}}}}));
  TS_ASSERT_OK_AND_ASSIGN(int64_t attempt, Start(pool));
  TS_ASSERT_OK_AND_ASSIGN(json view, svc().GetTrial(ann_, attempt));
  EXPECT_EQ(view["graded_by"], "reviewer");
  auto blank =
      Answer(attempt, view["tasks"][0]["trial_task_id"], {{"text", ""}});
  EXPECT_EQ(FieldOfResult(blank), "result.text");
  auto stranger = Answer(attempt, 99999, {{"text", "x"}});
  EXPECT_EQ(FieldOfResult(stranger), "trial_task_id");
  std::vector<int64_t> ids;
  json last;
  for (const json& t : view["tasks"]) {
    ids.push_back(t["trial_task_id"]);
    TS_ASSERT_OK_AND_ASSIGN(
        last, Answer(attempt, ids.back(), {{"text", "my rewrite"}}));
  }
  EXPECT_EQ(last["state"], "grading");
  EXPECT_TRUE(last["paid"].is_null());
  EXPECT_EQ(Code(svc().StartTrial(ann_, pool)),
            absl::StatusCode::kFailedPrecondition);

  EXPECT_EQ(Code(svc().ListTrialReviews(ann_)),
            absl::StatusCode::kPermissionDenied);
  TS_ASSERT_OK_AND_ASSIGN(json queue, svc().ListTrialReviews(rev_));
  ASSERT_EQ(queue["attempts"].size(), 1u);
  EXPECT_EQ(queue["attempts"][0]["id"], attempt);
  EXPECT_THAT(queue.dump(), HasSubstr("a model rewrite"));

  auto partial = svc().GradeTrial(
      rev_, attempt, {{"grades", {{{"trial_task_id", ids[0]}, {"score", 1}}}}});
  EXPECT_EQ(FieldOfResult(partial), "grades");
  auto too_high = svc().GradeTrial(
      rev_, attempt,
      {{"grades", {{{"trial_task_id", ids[0]}, {"score", 1.5}}}}});
  EXPECT_EQ(FieldOfResult(too_high), "grades[0].score");
  TS_ASSERT_OK_AND_ASSIGN(int64_t budget_before, Remaining());
  TS_ASSERT_OK_AND_ASSIGN(
      json graded,
      svc().GradeTrial(rev_, attempt,
                       {{"grades",
                         {{{"trial_task_id", ids[0]},
                           {"score", 1},
                           {"feedback", "clear and faithful"}},
                          {{"trial_task_id", ids[1]},
                           {"score", 0.5},
                           {"feedback", "drops the second claim"}}}}}));
  EXPECT_EQ(graded["state"], "passed");  // mean 0.75 >= 0.7
  EXPECT_EQ(Code(svc().GradeTrial(
                rev_, attempt,
                {{"grades", {{{"trial_task_id", ids[0]}, {"score", 0}}}}})),
            absl::StatusCode::kFailedPrecondition);
  TS_ASSERT_OK_AND_ASSIGN(json result, svc().GetTrial(ann_, attempt));
  EXPECT_NEAR(result["score"].get<double>(), 0.75, 1e-9);
  EXPECT_EQ(result["paid"]["amount_minor"], 200);
  std::set<std::string> feedback;
  for (const json& t : result["tasks"]) feedback.insert(t["feedback"]);
  EXPECT_TRUE(feedback.count("drops the second claim"));
  EXPECT_FALSE(HasKeyAnywhere(result, "gold"));
  TS_ASSERT_OK_AND_ASSIGN(int64_t budget_after, Remaining());
  EXPECT_EQ(budget_before - budget_after, 200);
  TS_ASSERT_OK_AND_ASSIGN(int64_t sum, SumAllEntries());
  EXPECT_EQ(sum, 0);
  TS_ASSERT_OK_AND_ASSIGN(queue, svc().ListTrialReviews(rev_));
  EXPECT_TRUE(queue["attempts"].empty());
}

#ifdef TESSERA_SERVICE_TEST_POSTGRES
#define TESSERA_TRIALS_TEST_STORE store::PostgresStoreFactory()
#else
#define TESSERA_TRIALS_TEST_STORE \
  store::SqliteStoreFactory(store::sqlite::Durability::kNormal)
#endif

INSTANTIATE_TEST_SUITE_P(trials, TrialsTest,
                         ::testing::Values(TESSERA_TRIALS_TEST_STORE),
                         store::StoreFactoryName);

}  // namespace
}  // namespace tessera::service
