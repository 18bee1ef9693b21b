// Background and trials over HTTP: a whole trial through the API (trial
// tasks, start, answers, graded result, pay), a free-text trial graded by a
// reviewer, skill grant and revoke with reasons, 400s naming fields and 403s
// for the wrong roles.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/integration/server_fixture.h"

namespace tessera::integration {
namespace {

std::string Path(const char* prefix, int64_t id, const char* suffix = "") {
  return absl::StrCat(prefix, id, suffix);
}

json Box(const std::string& label, double x, double y, double w, double h) {
  return {{"label", label}, {"x", x}, {"y", y}, {"w", w}, {"h", h}};
}

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

int64_t Balance(ApiClient& a) {
  auto r = a.Get("/api/v1/me/earnings");
  EXPECT_EQ(r.status, 200) << r.Describe();
  return r.body["balance"]["amount_minor"].get<int64_t>();
}

int64_t Remaining(ApiClient& requester, int64_t project) {
  auto r = requester.Get(Path("/api/v1/projects/", project));
  EXPECT_EQ(r.status, 200) << r.Describe();
  return r.body["budget"]["remaining"]["amount_minor"].get<int64_t>();
}

TEST_P(IntegrationTest, TrialThroughTheApi) {
  ApiClient req = CreateUser("req", {"requester"});
  ApiClient other = CreateUser("other", {"requester"});
  ApiClient ann = CreateUser("ann", {"annotator"});
  const int64_t project = CreateProject(req, 10'000);
  ASSERT_GT(project, 0);
  json pool_body = {
      {"name", "boxes with a trial"},
      {"task_type", "bbox"},
      {"config",
       {{"labels", {"person", "car"}},
        {"workforce",
         {{"trial",
           {{"required", true}, {"tasks", 2}, {"pass_threshold", 0.5}}}}}}},
      {"price", {{"amount_minor", 100}, {"currency", "CNY"}}}};
  const int64_t pool = CreatePool(req, project, pool_body);
  ASSERT_GT(pool, 0);
  ASSERT_TRUE(OpenPool(req, pool));
  const std::string trial_tasks = Path("/api/v1/pools/", pool, "/trial-tasks");

  // Gold is required for a bbox trial; errors name the field.
  auto bad =
      req.Post(trial_tasks, {{"tasks", {{{"data", ImageTask()["data"]}}}}});
  EXPECT_TRUE(IsApiError(bad, 400, "tasks[0].gold")) << bad.Describe();
  bad = req.Post(trial_tasks, {{"tasks", json::array()}});
  EXPECT_TRUE(IsApiError(bad, 400, "tasks")) << bad.Describe();
  EXPECT_TRUE(IsApiError(ann.Post(trial_tasks, {{"tasks", json::array()}}), 403,
                         std::nullopt));
  EXPECT_TRUE(IsApiError(other.Get(trial_tasks), 404, std::nullopt));

  // 12.75 marks the gold: it must never reach the annotator mid-attempt.
  const json gold1 = {{"boxes", {Box("person", 1, 2, 12.75, 20)}}};
  const json gold2 = {{"boxes", {Box("car", 30, 10, 20, 20)}}};
  auto added = req.Post(
      trial_tasks, {{"tasks",
                     {{{"data", ImageTask("one")["data"]}, {"gold", gold1}},
                      {{"data", ImageTask("two")["data"]}, {"gold", gold2}}}}});
  ASSERT_EQ(added.status, 201) << added.Describe();
  EXPECT_EQ(added.body["created"], 2);
  auto listed = req.Get(trial_tasks);
  ASSERT_EQ(listed.status, 200) << listed.Describe();
  EXPECT_EQ(listed.body["trial_tasks"].size(), 2u);
  EXPECT_EQ(listed.body["trial_tasks"][0]["gold"], gold1);

  const int64_t budget_before = Remaining(req, project);
  const std::string start = Path("/api/v1/pools/", pool, "/trial");
  auto started = ann.Post(start, json::object());
  ASSERT_EQ(started.status, 201) << started.Describe();
  const int64_t attempt = started.body["id"];
  auto resumed = ann.Post(start, json::object());
  EXPECT_EQ(resumed.status, 200) << resumed.Describe();
  EXPECT_EQ(resumed.body["id"], attempt);
  const std::string answers = Path("/api/v1/trials/", attempt, "/answers");
  const std::string view_path = Path("/api/v1/trials/", attempt);

  auto view = ann.Get(view_path);
  ASSERT_EQ(view.status, 200) << view.Describe();
  ASSERT_EQ(view.body["tasks"].size(), 2u);
  EXPECT_EQ(view.body["state"], "in_progress");

  // Bad answers: 400 naming the field, nothing recorded.
  auto r = ann.Post(answers, {{"result", {{"boxes", json::array()}}}});
  EXPECT_TRUE(IsApiError(r, 400, "trial_task_id")) << r.Describe();
  const int64_t first_task = view.body["tasks"][0]["trial_task_id"];
  r = ann.Post(answers, {{"trial_task_id", first_task},
                         {"result", {{"boxes", {Box("dog", 1, 1, 5, 5)}}}}});
  EXPECT_TRUE(IsApiError(r, 400, "result.boxes[0].label")) << r.Describe();

  // Answer each task with its gold box (so the attempt passes), except the
  // first, which misses.
  std::vector<ApiResponse> seen = {started, resumed, view};
  ApiResponse last;
  for (const json& t : view.body["tasks"]) {
    const bool first = t["trial_task_id"] == first_task;
    const json& data = t["data"];
    json result = {{"boxes", json::array()}};
    if (!first) {
      result = data.value("note", "") == "one" ? gold1 : gold2;
    }
    last = ann.Post(answers, {{"trial_task_id", t["trial_task_id"]},
                              {"result", result},
                              {"active_seconds", 40}});
    ASSERT_EQ(last.status, 201) << last.Describe();
    if (last.body["state"] == "in_progress") seen.push_back(last);
  }
  ASSERT_EQ(seen.size(), 4u);
  for (const ApiResponse& s : seen) {
    EXPECT_FALSE(HasKeyAnywhere(s.body, "gold")) << s.raw;
    EXPECT_EQ(s.raw.find("12.75"), std::string::npos) << s.raw;
  }
  EXPECT_EQ(last.body["state"], "passed");
  EXPECT_EQ(last.body["score"], 0.5);
  EXPECT_FALSE(HasKeyAnywhere(last.body, "gold"));
  for (const json& t : last.body["tasks"]) {
    if (t["trial_task_id"] == first_task) {
      EXPECT_EQ(t["score"], 0.0);
      EXPECT_NE(t["feedback"].get<std::string>().find("0 of 1 boxes matched"),
                std::string::npos)
          << t.dump();
    } else {
      EXPECT_EQ(t["score"], 1.0);
    }
  }

  // Paid from the budget: the project loses exactly what the annotator gains.
  EXPECT_EQ(last.body["paid"]["amount_minor"], 200);
  EXPECT_EQ(budget_before - Remaining(req, project), 200);
  EXPECT_EQ(Balance(ann), 200);
  auto earnings = ann.Get("/api/v1/me/earnings");
  ASSERT_EQ(earnings.body["entries"].size(), 1u);
  EXPECT_EQ(earnings.body["entries"][0]["kind"], "trial_payment");

  // Passed: a new start is refused with the reason.
  auto again = ann.Post(start, json::object());
  EXPECT_TRUE(IsApiError(again, 409, std::nullopt)) << again.Describe();
  EXPECT_NE(again.body["error"]["message"].get<std::string>().find("passed"),
            std::string::npos);
  auto mine = ann.Get("/api/v1/me/trials");
  ASSERT_EQ(mine.status, 200) << mine.Describe();
  ASSERT_EQ(mine.body["trials"].size(), 1u);
  EXPECT_EQ(mine.body["trials"][0]["passed"], true);
  EXPECT_EQ(mine.body["trials"][0]["attempts"][0]["state"], "passed");

  // Wrong roles.
  EXPECT_TRUE(IsApiError(req.Post(start, json::object()), 403, std::nullopt));
  EXPECT_TRUE(IsApiError(other.Get(view_path), 404, std::nullopt));
}

TEST_P(IntegrationTest, FreeTextTrialIsGradedByAReviewer) {
  ApiClient req = CreateUser("req", {"requester"});
  ApiClient ann = CreateUser("ann", {"annotator"});
  ApiClient rev = CreateUser("rev", {"reviewer"});
  const int64_t project = CreateProject(req, 10'000);
  ASSERT_GT(project, 0);
  const int64_t pool = CreatePool(
      req, project,
      {{"name", "references"},
       {"task_type", "reference"},
       {"config", {{"workforce", {{"trial", {{"required", true}}}}}}},
       {"price", {{"amount_minor", 30}, {"currency", "CNY"}}}});
  ASSERT_GT(pool, 0);
  ASSERT_TRUE(OpenPool(req, pool));
  auto added =
      req.Post(Path("/api/v1/pools/", pool, "/trial-tasks"),
               {{"tasks", {{{"data", {{"prompt", "Explain tides"}}}}}}});
  ASSERT_EQ(added.status, 201) << added.Describe();
  auto started =
      ann.Post(Path("/api/v1/pools/", pool, "/trial"), json::object());
  ASSERT_EQ(started.status, 201) << started.Describe();
  const int64_t attempt = started.body["id"];
  const int64_t task = started.body["tasks"][0]["trial_task_id"];
  auto answered =
      ann.Post(Path("/api/v1/trials/", attempt, "/answers"),
               {{"trial_task_id", task}, {"result", {{"text", "The moon."}}}});
  ASSERT_EQ(answered.status, 201) << answered.Describe();
  EXPECT_EQ(answered.body["state"], "grading");

  EXPECT_TRUE(IsApiError(ann.Get("/api/v1/trial-reviews"), 403, std::nullopt));
  auto queue = rev.Get("/api/v1/trial-reviews");
  ASSERT_EQ(queue.status, 200) << queue.Describe();
  ASSERT_EQ(queue.body["attempts"].size(), 1u);
  EXPECT_EQ(queue.body["attempts"][0]["tasks"][0]["result"]["text"],
            "The moon.");

  const std::string grade = Path("/api/v1/trials/", attempt, "/grade");
  auto r = rev.Post(grade,
                    {{"grades", {{{"trial_task_id", task}, {"score", -0.1}}}}});
  EXPECT_TRUE(IsApiError(r, 400, "grades[0].score")) << r.Describe();
  r = ann.Post(grade, {{"grades", {{{"trial_task_id", task}, {"score", 1}}}}});
  EXPECT_TRUE(IsApiError(r, 403, std::nullopt)) << r.Describe();
  r = rev.Post(grade, {{"grades",
                        {{{"trial_task_id", task},
                          {"score", 0.25},
                          {"feedback", "name the sun's part too"}}}}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.body["state"], "failed");

  auto result = ann.Get(Path("/api/v1/trials/", attempt));
  ASSERT_EQ(result.status, 200) << result.Describe();
  EXPECT_EQ(result.body["score"], 0.25);
  EXPECT_EQ(result.body["tasks"][0]["feedback"], "name the sun's part too");
  EXPECT_EQ(Balance(ann), 30);  // paid though failed
}

TEST_P(IntegrationTest, SkillGrantAndRevokeWithReasons) {
  ApiClient ann = CreateUser("ann", {"annotator"});
  ApiClient rev = CreateUser("rev", {"reviewer"});
  ApiClient req = CreateUser("req", {"requester"});
  auto me = ann.Get("/api/v1/me");
  ASSERT_EQ(me.status, 200);
  const int64_t ann_id = me.body["id"];

  auto r = ann.Send("PUT", "/api/v1/me/profile",
                    json{{"domains", {"medicine", "poetry"}}}.dump());
  EXPECT_TRUE(IsApiError(r, 400, "domains[1]")) << r.Describe();
  r = ann.Send("PUT", "/api/v1/me/profile",
               json{{"domains", {"medicine"}},
                    {"profession", "paramedic"},
                    {"evidence", "8 years on ambulances"}}
                   .dump());
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.body["verification"]["state"], "unverified");
  EXPECT_TRUE(IsApiError(req.Send("PUT", "/api/v1/me/profile",
                                  json{{"domains", json::array()}}.dump()),
                         403, std::nullopt));

  auto waiting = rev.Get("/api/v1/profiles?unverified=1");
  ASSERT_EQ(waiting.status, 200) << waiting.Describe();
  ASSERT_EQ(waiting.body["profiles"].size(), 1u);
  EXPECT_EQ(waiting.body["profiles"][0]["user_id"], ann_id);
  EXPECT_TRUE(IsApiError(ann.Get("/api/v1/profiles"), 403, std::nullopt));

  const std::string skills = Path("/api/v1/users/", ann_id, "/skills");
  r = rev.Post(skills, {{"skill", "medicine"}});
  EXPECT_TRUE(IsApiError(r, 400, "reason")) << r.Describe();
  r = rev.Post(skills, {{"skill", "medicine"}, {"reason", " "}});
  EXPECT_TRUE(IsApiError(r, 400, "reason")) << r.Describe();
  EXPECT_TRUE(IsApiError(
      req.Post(skills, {{"skill", "medicine"}, {"reason", "trust me"}}), 403,
      std::nullopt));
  EXPECT_TRUE(IsApiError(
      ann.Post(skills, {{"skill", "medicine"}, {"reason", "trust me"}}), 403,
      std::nullopt));
  r = rev.Post(skills,
               {{"skill", "medicine"}, {"reason", "registration checked"}});
  ASSERT_EQ(r.status, 201) << r.Describe();
  EXPECT_EQ(r.body["verification"]["state"], "verified");
  EXPECT_EQ(r.body["skills"][0]["reason"], "registration checked");

  auto profile = ann.Get("/api/v1/me/profile");
  ASSERT_EQ(profile.status, 200) << profile.Describe();
  EXPECT_EQ(profile.body["skills"][0]["skill"], "medicine");
  EXPECT_TRUE(IsApiError(ann.Get(Path("/api/v1/users/", ann_id, "/profile")),
                         403, std::nullopt));
  EXPECT_EQ(rev.Get(Path("/api/v1/users/", ann_id, "/profile")).status, 200);

  const std::string revoke = skills + "/medicine";
  r = rev.Send("DELETE", revoke);
  EXPECT_TRUE(IsApiError(r, 400, "reason")) << r.Describe();
  r = rev.Send("DELETE", revoke,
               json{{"reason", "registration expired"}}.dump());
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_TRUE(r.body["skills"].empty());
  EXPECT_EQ(r.body["revoked_skills"][0]["skill"], "medicine");
  r = rev.Send("DELETE", revoke, json{{"reason", "again"}}.dump());
  EXPECT_TRUE(IsApiError(r, 404, std::nullopt)) << r.Describe();
}

}  // namespace
}  // namespace tessera::integration
