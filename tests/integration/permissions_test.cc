// Who may call what: every route of src/tessera/http/api.cc for every kind of
// caller, as one table of expected HTTP statuses.
#include <array>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/integration/server_fixture.h"

namespace tessera::integration {
namespace {

// The callers, in the column order of the table.
enum Who { kAnon, kAnn, kAnnB, kRev, kOwner, kOther, kAdmin, kWhoCount };
constexpr const char* kWhoNames[kWhoCount] = {
    "anonymous", "annotator",         "other annotator",
    "reviewer",  "requester (owner)", "requester (not owner)",
    "admin"};
// Within a row, callers expected to change state go last, so that every
// caller sees the same state: the annotator (who owns the claims and
// submissions the rows name) runs after everybody else.
constexpr Who kOrder[kWhoCount] = {kAnon,  kAnnB,  kRev, kOther,
                                   kOwner, kAdmin, kAnn};

struct Row {
  std::string method;
  std::string target;
  std::string body;
  std::array<int, kWhoCount> expect;  // indexed by Who
  bool fresh_token = false;           // use a freshly issued token (for logout)
};

std::string P(const char* prefix, int64_t id, const char* suffix = "") {
  return absl::StrCat(prefix, id, suffix);
}

// "/api/v1/pools/12/claims?x=1" → "/api/v1/pools/{id}/claims".
std::string RouteOf(const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  std::vector<std::string> parts = absl::StrSplit(path, '/');
  for (auto& part : parts) {
    if (!part.empty() &&
        std::all_of(part.begin(), part.end(), absl::ascii_isdigit)) {
      part = "{id}";
    }
  }
  return absl::StrJoin(parts, "/");
}

// (method, pattern) of every route src/tessera/http/api.cc registers.
std::set<std::pair<std::string, std::string>> RegisteredRoutes() {
  std::ifstream in(TESSERA_SOURCE_DIR "/src/tessera/http/api.cc");
  std::stringstream text;
  text << in.rdbuf();
  std::string source = text.str();
  std::set<std::pair<std::string, std::string>> routes;
  std::regex add(R"re(\.Add\(\s*"([A-Z]+)",\s*"([^"]+)")re");
  for (std::sregex_iterator it(source.begin(), source.end(), add), end;
       it != end; ++it) {
    routes.emplace((*it)[1].str(), (*it)[2].str());
  }
  return routes;
}

TEST_P(IntegrationTest, PermissionTableCoversEveryRoute) {
  const std::array<std::string, kWhoCount> names = {
      "", "ann1", "ann2", "rev", "owner", "other", "admin"};
  std::vector<ApiClient> who;
  who.push_back(Anonymous());
  who.push_back(CreateUser("ann1", {"annotator"}));
  who.push_back(CreateUser("ann2", {"annotator"}));
  who.push_back(CreateUser("rev", {"reviewer"}));
  who.push_back(CreateUser("owner", {"requester"}));
  who.push_back(CreateUser("other", {"requester"}));
  who.push_back(Login("admin", kPassword));
  ApiClient& ann = who[kAnn];
  ApiClient& ann_b = who[kAnnB];
  ApiClient& rev = who[kRev];
  ApiClient& owner = who[kOwner];
  ApiClient& other = who[kOther];
  for (int i = 1; i < kWhoCount; ++i) ASSERT_FALSE(who[i].token().empty());

  // The world the rows act on.
  const int64_t project = CreateProject(owner, 100'000);
  const int64_t other_project = CreateProject(other, 1'000);
  ASSERT_GT(project, 0);
  ASSERT_GT(other_project, 0);
  const int64_t draft = CreateBboxPool(owner, project, 10);
  const int64_t toggled = CreateBboxPool(owner, project, 10);
  const int64_t open = CreateBboxPool(owner, project, 10);
  const int64_t open2 = CreateBboxPool(owner, project, 10);
  const int64_t open3 = CreateBboxPool(owner, project, 10);
  ASSERT_GT(draft * toggled * open * open2 * open3, 0);
  std::vector<json> ten;
  for (int i = 0; i < 10; ++i) ten.push_back(ImageTask());
  ASSERT_TRUE(AddTasks(owner, draft, {ImageTask()}));
  ASSERT_TRUE(AddTasks(owner, open, ten));
  ASSERT_TRUE(AddTasks(owner, open2, {ImageTask()}));
  ASSERT_TRUE(AddTasks(owner, open3, {ImageTask()}));
  for (int64_t pool : {open, open2, open3}) ASSERT_TRUE(OpenPool(owner, pool));

  auto claim = [&](ApiClient& a, int64_t pool) -> json {
    auto r = a.Post(P("/api/v1/pools/", pool, "/claims"), json::object());
    EXPECT_EQ(r.status, 201) << r.Describe();
    return r.body;
  };
  auto claim_and_submit = [&](ApiClient& a, int64_t pool) -> int64_t {
    json c = claim(a, pool);
    if (!c.contains("claim")) return 0;
    auto r =
        a.Post(P("/api/v1/claims/", c["claim"]["id"].get<int64_t>(), "/submit"),
               {{"result", BoxResult()}});
    EXPECT_EQ(r.status, 201) << r.Describe();
    return r.body.value("id", int64_t{0});
  };
  auto lease_review = [&](int64_t expected) {
    auto r =
        rev.Post(P("/api/v1/pools/", open, "/review-claims"), json::object());
    ASSERT_EQ(r.status, 201) << r.Describe();
    ASSERT_EQ(r.body["submission"]["id"], expected);
  };
  // in_review, leased by the reviewer:
  const int64_t in_review = claim_and_submit(ann, open);
  ASSERT_GT(in_review, 0);
  lease_review(in_review);
  // returned to the annotator:
  const int64_t returned = claim_and_submit(ann, open);
  ASSERT_GT(returned, 0);
  lease_review(returned);
  auto r = rev.Post(
      P("/api/v1/submissions/", returned, "/review"),
      {{"verdict", "revise"}, {"comments", {{{"text", "tighter, please"}}}}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  // Two waiting for review:
  ASSERT_GT(claim_and_submit(ann, open), 0);
  ASSERT_GT(claim_and_submit(ann_b, open), 0);
  // Active claims of the annotator, to submit and to give back:
  json to_submit = claim(ann, open2);
  json to_release = claim(ann, open3);
  ASSERT_TRUE(to_submit.contains("claim") && to_release.contains("claim"));
  const int64_t submit_claim = to_submit["claim"]["id"];
  const int64_t submit_task = to_submit["task"]["id"];
  const int64_t release_claim = to_release["claim"]["id"];

  const std::string login =
      json{{"username", "ann1"}, {"password", kPassword}}.dump();
  const std::string user = json{
      {"username", "made_by_table"},
      {"password", kPassword},
      {"roles", {"annotator"}}}.dump();
  const std::string project_body =
      json{{"name", "table"},
           {"budget", {{"amount_minor", 0}, {"currency", "CNY"}}}}
          .dump();
  const std::string pool_body =
      json{{"name", "table pool"},
           {"task_type", "classify"},
           {"config", {{"labels", {"yes", "no"}}}},
           {"price", {{"amount_minor", 5}, {"currency", "CNY"}}}}
          .dump();
  const std::string tasks_body = json{{"tasks", {ImageTask()}}}.dump();
  const std::string result_body = json{{"result", BoxResult()}}.dump();
  const std::string accept = json{{"verdict", "accept"}}.dump();

  // ---- Workforce: trials and background (issue 6): the world
  auto me = ann.Get("/api/v1/me");
  ASSERT_EQ(me.status, 200) << me.Describe();
  const int64_t ann_id = me.body["id"];
  const int64_t trial_pool = CreatePool(
      owner, project,
      {{"name", "trial pool"},
       {"task_type", "bbox"},
       {"config",
        {{"labels", {"person", "car"}},
         {"workforce", {{"trial", {{"required", true}, {"tasks", 2}}}}}}},
       {"price", {{"amount_minor", 10}, {"currency", "CNY"}}}});
  const int64_t graded_pool = CreatePool(
      owner, project,
      {{"name", "graded trial pool"},
       {"task_type", "reference"},
       {"config", {{"workforce", {{"trial", {{"required", true}}}}}}},
       {"price", {{"amount_minor", 10}, {"currency", "CNY"}}}});
  ASSERT_GT(trial_pool * graded_pool, 0);
  const json trial_task = {{"data", ImageTask()["data"]},
                           {"gold", BoxResult()}};
  r = owner.Post(P("/api/v1/pools/", trial_pool, "/trial-tasks"),
                 {{"tasks", {trial_task, trial_task}}});
  ASSERT_EQ(r.status, 201) << r.Describe();
  r = owner.Post(P("/api/v1/pools/", graded_pool, "/trial-tasks"),
                 {{"tasks", {{{"data", {{"prompt", "Why?"}}}}}}});
  ASSERT_EQ(r.status, 201) << r.Describe();
  ASSERT_TRUE(OpenPool(owner, trial_pool) && OpenPool(owner, graded_pool));
  // An attempt in progress (the annotator answers one of its tasks below) and
  // one waiting for a reviewer's grade.
  r = ann.Post(P("/api/v1/pools/", trial_pool, "/trial"), json::object());
  ASSERT_EQ(r.status, 201) << r.Describe();
  const int64_t trial_attempt = r.body["id"];
  const int64_t trial_answer_task = r.body["tasks"][0]["trial_task_id"];
  r = ann.Post(P("/api/v1/pools/", graded_pool, "/trial"), json::object());
  ASSERT_EQ(r.status, 201) << r.Describe();
  const int64_t graded_attempt = r.body["id"];
  const int64_t graded_task = r.body["tasks"][0]["trial_task_id"];
  r = ann.Post(P("/api/v1/trials/", graded_attempt, "/answers"),
               {{"trial_task_id", graded_task}, {"result", {{"text", "So."}}}});
  ASSERT_EQ(r.status, 201) << r.Describe();
  ASSERT_EQ(r.body["state"], "grading");
  const std::string profile_body =
      json{{"domains", {"law"}}, {"profession", "clerk"}}.dump();
  const std::string grant_body =
      json{{"skill", "law"}, {"reason", "bar registration seen"}}.dump();
  const std::string revoke_body = json{{"reason", "no longer valid"}}.dump();
  const std::string trial_tasks_body = json{{"tasks", {trial_task}}}.dump();
  const std::string trial_answer_body = json{
      {"trial_task_id", trial_answer_task},
      {"result", BoxResult()}}.dump();
  const std::string grade_body =
      json{{"grades", {{{"trial_task_id", graded_task}, {"score", 1}}}}}.dump();
  // ---- end Workforce: trials and background: the world

  // ---- Workforce: appeals, floor, flags, records (issue 6): the world
  const int64_t fair_pool = CreatePool(
      owner, project,
      {{"name", "fair pool"},
       {"task_type", "bbox"},
       {"config",
        {{"labels", {"person", "car"}},
         {"workforce",
          {{"hourly_floor", {{"amount_minor", 1200}, {"currency", "CNY"}}}}}}},
       {"price", {{"amount_minor", 10}, {"currency", "CNY"}}}});
  ASSERT_GT(fair_pool, 0);
  ASSERT_TRUE(AddTasks(owner, fair_pool, ten) && OpenPool(owner, fair_pool));
  // Two of the annotator's submissions rejected by the reviewer; the second
  // already appealed.
  std::vector<int64_t> rejected;
  for (int i = 0; i < 2; ++i) {
    const int64_t sub = claim_and_submit(ann, fair_pool);
    ASSERT_GT(sub, 0);
    r = rev.Post(P("/api/v1/pools/", fair_pool, "/review-claims"),
                 json::object());
    ASSERT_EQ(r.status, 201) << r.Describe();
    ASSERT_EQ(r.body["submission"]["id"], sub);
    r = rev.Post(P("/api/v1/submissions/", sub, "/review"),
                 {{"verdict", "reject"}});
    ASSERT_EQ(r.status, 200) << r.Describe();
    rejected.push_back(sub);
  }
  r = ann.Post(P("/api/v1/submissions/", rejected[1], "/appeal"),
               {{"note", "the boxes match the guidelines"}});
  ASSERT_EQ(r.status, 201) << r.Describe();
  const int64_t appeal_id = r.body["id"];
  r = ann.Get(P("/api/v1/submissions/", rejected[0]));
  ASSERT_EQ(r.status, 200) << r.Describe();
  const int64_t flagged_task = r.body["task_id"];
  const std::string appeal_body = json{{"note", "please look again"}}.dump();
  const std::string decide_body = json{{"decision", "uphold"}}.dump();
  const std::string flag_body =
      json{{"section", "Boxes"}, {"note", "occluded people?"}}.dump();
  // ---- end Workforce: appeals, floor, flags, records: the world

  //                 anon ann  annB rev  owner other admin
  const std::vector<Row> rows = {
      {"GET", "/healthz", "", {200, 200, 200, 200, 200, 200, 200}},
      {"GET", "/readyz", "", {200, 200, 200, 200, 200, 200, 200}},
      {"GET", "/metrics", "", {200, 200, 200, 200, 200, 200, 200}},
      {"GET", "/api/v1", "", {200, 200, 200, 200, 200, 200, 200}},
      {"POST",
       "/api/v1/auth/login",
       login,
       {200, 200, 200, 200, 200, 200, 200}},
      {"POST",
       "/api/v1/auth/logout",
       "",
       {401, 204, 204, 204, 204, 204, 204},
       /*fresh_token=*/true},
      {"GET", "/api/v1/me", "", {401, 200, 200, 200, 200, 200, 200}},
      {"GET", "/api/v1/me/earnings", "", {401, 200, 200, 200, 200, 200, 200}},
      {"GET",
       "/api/v1/me/submissions",
       "",
       {401, 200, 200, 200, 200, 200, 200}},
      {"GET",
       "/api/v1/me/submissions?state=returned",
       "",
       {401, 200, 200, 200, 200, 200, 200}},
      {"POST", "/api/v1/users", user, {401, 403, 403, 403, 403, 403, 201}},
      {"GET", "/api/v1/projects", "", {401, 403, 403, 403, 200, 200, 200}},
      {"POST",
       "/api/v1/projects",
       project_body,
       {401, 403, 403, 403, 201, 201, 201}},
      {"GET",
       P("/api/v1/projects/", project),
       "",
       {401, 403, 403, 403, 200, 404, 200}},
      {"POST",
       P("/api/v1/projects/", project, "/pools"),
       pool_body,
       {401, 403, 403, 403, 201, 404, 201}},
      {"GET", "/api/v1/pools", "", {401, 200, 200, 200, 200, 200, 200}},
      {"GET",
       P("/api/v1/pools/", draft),
       "",
       {401, 404, 404, 404, 200, 404, 200}},
      {"GET",
       P("/api/v1/pools/", open),
       "",
       {401, 200, 200, 200, 200, 404, 200}},
      {"GET",
       P("/api/v1/pools/", open, "/stats"),
       "",
       {401, 403, 403, 403, 200, 404, 200}},
      // Quality: the owner (or an admin) snapshots the pool, then reads it.
      {"POST",
       P("/api/v1/pools/", open, "/aggregate"),
       "",
       {401, 403, 403, 403, 201, 404, 201}},
      {"GET",
       P("/api/v1/pools/", open, "/quality"),
       "",
       {401, 403, 403, 403, 200, 404, 200}},
      {"GET",
       P("/api/v1/pools/", open, "/quality?version=1"),
       "",
       {401, 403, 403, 403, 200, 404, 200}},
      {"POST",
       P("/api/v1/pools/", draft, "/tasks"),
       tasks_body,
       {401, 403, 403, 403, 201, 404, 201}},
      // An image upload becomes a task of the (bbox) pool.
      {"POST",
       P("/api/v1/pools/", draft, "/images?name=table.png"),
       MakePng(8, 6),
       {401, 403, 403, 403, 201, 404, 201}},
      {"POST",
       P("/api/v1/pools/", toggled, "/open"),
       "",
       {401, 403, 403, 403, 200, 404, 200}},
      {"POST",
       P("/api/v1/pools/", toggled, "/close"),
       "",
       {401, 403, 403, 403, 200, 404, 200}},
      {"GET",
       P("/api/v1/pools/", open, "/export?format=jsonl"),
       "",
       {401, 403, 403, 403, 200, 404, 200}},
      {"GET",
       P("/api/v1/tasks/", submit_task, "/image"),
       "",
       {401, 200, 404, 404, 200, 404, 200}},
      // Admin holds every role, so it may claim and lease reviews too.
      {"POST",
       P("/api/v1/pools/", open, "/claims"),
       "",
       {401, 201, 201, 403, 403, 403, 201}},
      {"POST",
       P("/api/v1/pools/", open, "/review-claims"),
       "",
       {401, 403, 403, 201, 403, 403, 201}},
      // Claims and submissions belong to one annotator: others get 404.
      {"POST",
       P("/api/v1/claims/", submit_claim, "/submit"),
       result_body,
       {401, 201, 404, 403, 403, 403, 404}},
      {"DELETE",
       P("/api/v1/claims/", release_claim),
       "",
       {401, 204, 404, 403, 403, 403, 404}},
      {"GET",
       P("/api/v1/submissions/", in_review),
       "",
       {401, 200, 404, 200, 200, 404, 200}},
      {"POST",
       P("/api/v1/submissions/", returned, "/revise"),
       result_body,
       {401, 201, 404, 403, 403, 403, 404}},
      // Only the reviewer holding the lease may give the verdict.
      {"POST",
       P("/api/v1/submissions/", in_review, "/review"),
       accept,
       {401, 403, 403, 200, 403, 403, 409}},
      // ---- Workforce: trials and background (issue 6)
      {"GET", "/api/v1/me/profile", "", {401, 200, 200, 403, 403, 403, 200}},
      {"PUT",
       "/api/v1/me/profile",
       profile_body,
       {401, 200, 200, 403, 403, 403, 200}},
      {"GET", "/api/v1/me/trials", "", {401, 200, 200, 403, 403, 403, 200}},
      {"GET",
       "/api/v1/profiles?unverified=1",
       "",
       {401, 403, 403, 200, 403, 403, 200}},
      {"GET",
       P("/api/v1/users/", ann_id, "/profile"),
       "",
       {401, 403, 403, 200, 403, 403, 200}},
      // The reviewer grants first; the admin then finds it granted.
      {"POST",
       P("/api/v1/users/", ann_id, "/skills"),
       grant_body,
       {401, 403, 403, 201, 403, 403, 409}},
      // "{skill}" literally: the route's pattern (an invalid skill name).
      {"DELETE",
       P("/api/v1/users/", ann_id, "/skills/{skill}"),
       revoke_body,
       {401, 403, 403, 400, 403, 403, 400}},
      {"POST",
       P("/api/v1/pools/", trial_pool, "/trial-tasks"),
       trial_tasks_body,
       {401, 403, 403, 403, 201, 404, 201}},
      {"GET",
       P("/api/v1/pools/", trial_pool, "/trial-tasks"),
       "",
       {401, 403, 403, 403, 200, 404, 200}},
      // The annotator resumes their attempt; others start their own.
      {"POST",
       P("/api/v1/pools/", trial_pool, "/trial"),
       "",
       {401, 200, 201, 403, 403, 403, 201}},
      {"GET",
       P("/api/v1/trials/", trial_attempt),
       "",
       {401, 200, 404, 200, 404, 404, 200}},
      // Not a task of the attempt: 404 for whoever may read the attempt too.
      {"GET",
       P("/api/v1/trials/", trial_attempt, "/image?task=999999"),
       "",
       {401, 404, 404, 404, 404, 404, 404}},
      {"POST",
       P("/api/v1/trials/", trial_attempt, "/answers"),
       trial_answer_body,
       {401, 201, 404, 403, 403, 403, 404}},
      {"GET", "/api/v1/trial-reviews", "", {401, 403, 403, 200, 403, 403, 200}},
      // The reviewer grades; the attempt is then no longer waiting.
      {"POST",
       P("/api/v1/trials/", graded_attempt, "/grade"),
       grade_body,
       {401, 403, 403, 200, 403, 403, 409}},
      // ---- end Workforce: trials and background
      // ---- Workforce: appeals, floor, flags, records (issue 6)
      {"POST",
       P("/api/v1/submissions/", rejected[0], "/appeal"),
       appeal_body,
       {401, 201, 404, 404, 404, 404, 404}},
      {"GET",
       "/api/v1/appeals?state=open",
       "",
       {401, 403, 403, 200, 403, 403, 200}},
      // The reviewer who rejected may not decide; the admin (another) may.
      {"POST",
       P("/api/v1/appeals/", appeal_id, "/decide"),
       decide_body,
       {401, 403, 403, 403, 403, 403, 200}},
      {"GET", "/api/v1/me/appeals", "", {401, 200, 200, 200, 200, 200, 200}},
      {"POST",
       P("/api/v1/pools/", fair_pool, "/settle-floor?week=2020-01-06"),
       "",
       {401, 403, 403, 403, 200, 404, 200}},
      {"POST",
       P("/api/v1/tasks/", flagged_task, "/flags"),
       flag_body,
       {401, 201, 404, 403, 403, 403, 404}},
      {"GET",
       P("/api/v1/pools/", fair_pool, "/flags"),
       "",
       {401, 403, 403, 403, 200, 404, 200}},
      {"GET", "/api/v1/me/record", "", {401, 200, 200, 200, 200, 200, 200}},
      {"GET", "/api/v1/record-key", "", {200, 200, 200, 200, 200, 200, 200}},
      // ---- end Workforce: appeals, floor, flags, records
      // ---- Workforce: standing and allocation (issue 6)
      {"GET", "/api/v1/me/standing", "", {401, 200, 200, 403, 403, 403, 200}},
      {"GET", "/api/v1/me/claims", "", {401, 200, 200, 403, 403, 403, 200}},
      {"GET",
       P("/api/v1/users/", ann_id, "/standing"),
       "",
       {401, 403, 403, 200, 200, 200, 200}},
      {"GET",
       P("/api/v1/pools/", open, "/claims"),
       "",
       {401, 403, 403, 403, 200, 404, 200}},
      // Blocks in the other requester's project (so the rows above and
      // below still claim in `project`); the admin finds it already done.
      {"POST",
       P("/api/v1/projects/", other_project, "/blocks"),
       json{{"annotator_id", ann_id}, {"reason", "table"}}.dump(),
       {401, 403, 403, 403, 404, 201, 409}},
      {"GET",
       P("/api/v1/projects/", other_project, "/blocks"),
       "",
       {401, 403, 403, 403, 404, 200, 200}},
      {"DELETE",
       P("/api/v1/projects/", other_project, "/blocks/") +
           std::to_string(ann_id),
       "",
       {401, 403, 403, 403, 404, 204, 404}},
      // The route's pattern itself: a non-numeric annotator id is a 400.
      {"DELETE",
       P("/api/v1/projects/", other_project, "/blocks/{annotator_id}"),
       "",
       {401, 400, 400, 400, 400, 400, 400}},
      // ---- end Workforce: standing and allocation
      // ---- Workforce: reviewer invitations (issue 6)
      // Admins only; the annotator is not reviewer eligible (409).
      {"POST",
       P("/api/v1/users/", ann_id, "/reviewer-invitations"),
       json{{"note", "table"}}.dump(),
       {401, 403, 403, 403, 403, 403, 409}},
      {"GET",
       "/api/v1/me/invitations",
       "",
       {401, 200, 200, 200, 200, 200, 200}},
      // Nobody's invitation: 404 for everyone (as for someone else's).
      {"POST",
       "/api/v1/invitations/999999/accept",
       "",
       {401, 404, 404, 404, 404, 404, 404}},
      {"POST",
       "/api/v1/invitations/999999/decline",
       "",
       {401, 404, 404, 404, 404, 404, 404}},
      // ---- end Workforce: reviewer invitations
      {"GET", "/api/v1/no-such-route", "", {404, 404, 404, 404, 404, 404, 404}},
      {"PUT", "/api/v1/me", "{}", {405, 405, 405, 405, 405, 405, 405}},
  };

  // The table must name every registered route.
  auto registered = RegisteredRoutes();
  ASSERT_GE(registered.size(), 25u) << "could not read the routes of api.cc";
  std::set<std::pair<std::string, std::string>> covered;
  for (const Row& row : rows) covered.emplace(row.method, RouteOf(row.target));
  for (const auto& route : registered) {
    EXPECT_TRUE(covered.count(route))
        << "no permission row for " << route.first << " " << route.second;
  }

  for (const Row& row : rows) {
    for (Who w : kOrder) {
      SCOPED_TRACE(
          absl::StrCat(kWhoNames[w], " ", row.method, " ", row.target));
      ApiClient* client = &who[w];
      std::optional<ApiClient> fresh;
      if (row.fresh_token && w != kAnon) {
        fresh.emplace(Login(names[w], kPassword));
        client = &*fresh;
      }
      auto resp = client->Send(row.method, row.target, row.body);
      EXPECT_EQ(resp.status, row.expect[w]) << resp.Describe();
      if (row.expect[w] >= 400) {
        EXPECT_TRUE(IsApiError(resp));
      }
      if (fresh && resp.status == 204) {
        // A logged-out token is dead; the caller's other sessions are not.
        EXPECT_EQ(fresh->Get("/api/v1/me").status, 401);
        EXPECT_EQ(who[w].Get("/api/v1/me").status, 200);
      }
    }
  }

  // Garbage and missing tokens are 401 with the error shape.
  ApiClient forged(server().port(), "not-a-real-token");
  EXPECT_TRUE(IsApiError(forged.Get("/api/v1/me"), 401, std::nullopt));
  EXPECT_TRUE(IsApiError(forged.Post("/api/v1/auth/logout", json::object()),
                         401, std::nullopt));
  EXPECT_TRUE(IsApiError(who[kAnon].Send("GET", "/api/v1/me", "",
                                         {{"Authorization", "Basic eA=="}}),
                         401, std::nullopt));

  // Lists show only what the caller may see.
  auto owned_pools = [&](ApiClient& c) {
    std::vector<int64_t> ids;
    auto l = c.Get("/api/v1/pools");
    for (const auto& p : l.body["pools"]) ids.push_back(p["id"]);
    return ids;
  };
  auto has = [](const std::vector<int64_t>& v, int64_t x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  std::vector<int64_t> seen_by_other = owned_pools(other);
  EXPECT_FALSE(has(seen_by_other, open));
  EXPECT_FALSE(has(seen_by_other, draft));
  std::vector<int64_t> seen_by_ann = owned_pools(ann);
  EXPECT_TRUE(has(seen_by_ann, open));
  EXPECT_FALSE(has(seen_by_ann, draft));
  auto projects = other.Get("/api/v1/projects");
  ASSERT_EQ(projects.status, 200);
  for (const auto& p : projects.body["projects"]) {
    EXPECT_NE(p["id"], project) << "requester B sees A's project";
  }
}

}  // namespace
}  // namespace tessera::integration
