// End-to-end work lifecycles over HTTP: import, claim, submit, review,
// revise, accept, pay, export; overlap; lease expiry; giving work back.
#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/integration/server_fixture.h"

namespace tessera::integration {
namespace {

std::string Path(const char* prefix, int64_t id, const char* suffix = "") {
  return absl::StrCat(prefix, id, suffix);
}

// Polls the pool's stats until `done` holds (or ~15 s pass); returns the
// last stats seen.
template <typename Pred>
json WaitForStats(ApiClient& requester, int64_t pool, Pred done) {
  json stats;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = requester.Get(Path("/api/v1/pools/", pool, "/stats"));
    if (r.status == 200) {
      stats = r.body;
      if (done(stats)) return stats;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return stats;
}

TEST_P(IntegrationTest, ImagePoolLifecycle) {
  ApiClient requester = CreateUser("req", {"requester"});
  ApiClient ann1 = CreateUser("ann1", {"annotator"});
  ApiClient ann2 = CreateUser("ann2", {"annotator"});
  ApiClient reviewer = CreateUser("rev", {"reviewer"});

  const int64_t kBudget = 10'000, kPrice = 250;
  int64_t project = CreateProject(requester, kBudget);
  ASSERT_GT(project, 0);
  auto got = requester.Get(Path("/api/v1/projects/", project));
  ASSERT_EQ(got.status, 200) << got.Describe();
  EXPECT_EQ(got.body["budget"]["remaining"]["amount_minor"], kBudget);

  int64_t pool = CreateBboxPool(requester, project, kPrice);
  ASSERT_GT(pool, 0);

  // Import: one JSON batch (the first task carries a gold answer), then NDJSON.
  json gold = {
      {"boxes",
       {{{"label", "car"}, {"x", 30}, {"y", 30}, {"w", 5}, {"h", 5}}}}};
  json first = ImageTask("json-1");
  first["gold"] = gold;
  auto imported = requester.Post(Path("/api/v1/pools/", pool, "/tasks"),
                                 {{"tasks", {first, ImageTask("json-2")}}});
  ASSERT_EQ(imported.status, 201) << imported.Describe();
  EXPECT_EQ(imported.body["created"], 2);
  std::string ndjson = absl::StrCat(ImageTask("nd-1").dump(), "\n\n",
                                    ImageTask("nd-2").dump(), "\n");
  imported = requester.Send("POST", Path("/api/v1/pools/", pool, "/tasks"),
                            ndjson, {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(imported.status, 201) << imported.Describe();
  EXPECT_EQ(imported.body["created"], 2);
  json stats = PoolStats(requester, pool);
  EXPECT_EQ(stats["tasks"], 4);
  EXPECT_EQ(stats["open_slots"], 4);

  // Draft pools cannot be claimed; open it.
  EXPECT_TRUE(IsApiError(
      ann1.Post(Path("/api/v1/pools/", pool, "/claims"), json::object()), 404,
      std::nullopt));
  ASSERT_TRUE(OpenPool(requester, pool));

  // Claim: 201 {claim, task}; the task never shows the gold answer.
  auto claim =
      ann1.Post(Path("/api/v1/pools/", pool, "/claims"), json::object());
  ASSERT_EQ(claim.status, 201) << claim.Describe();
  ASSERT_TRUE(claim.body.contains("claim") && claim.body.contains("task"));
  const int64_t claim_id = claim.body["claim"]["id"];
  const int64_t task_id = claim.body["task"]["id"];
  EXPECT_EQ(claim.body["claim"]["state"], "active");
  EXPECT_EQ(claim.body["task"]["data"]["image"], kImagePath);
  EXPECT_EQ(claim.raw.find("gold"), std::string::npos) << claim.raw;
  // The first task (the one with gold) comes first.
  EXPECT_EQ(claim.body["task"]["data"]["note"], "json-1");
  // Claiming again while holding the lease resumes it (200, same claim).
  auto again =
      ann1.Post(Path("/api/v1/pools/", pool, "/claims"), json::object());
  ASSERT_EQ(again.status, 200) << again.Describe();
  EXPECT_EQ(again.body["claim"]["id"], claim_id);

  // The image: bytes for the claimer, 404 for another annotator.
  auto image = ann1.Get(Path("/api/v1/tasks/", task_id, "/image"));
  ASSERT_EQ(image.status, 200) << image.Describe();
  EXPECT_EQ(image.raw, MakePng(kImageWidth, kImageHeight));
  EXPECT_EQ(image.Header("Content-Type").value_or(""), "image/png");
  EXPECT_TRUE(IsApiError(ann2.Get(Path("/api/v1/tasks/", task_id, "/image")),
                         404, std::nullopt));

  // Submit with an Idempotency-Key; the retry replays the same submission.
  json round1 = BoxResult("person", 1);
  auto submitted = ann1.Post(Path("/api/v1/claims/", claim_id, "/submit"),
                             {{"result", round1}, {"active_seconds", 42}},
                             {{"Idempotency-Key", "submit-1"}});
  ASSERT_EQ(submitted.status, 201) << submitted.Describe();
  const int64_t sub = submitted.body["id"];
  EXPECT_EQ(submitted.body["state"], "pending_review");
  EXPECT_EQ(submitted.body["round"], 1);
  auto replay = ann1.Post(Path("/api/v1/claims/", claim_id, "/submit"),
                          {{"result", round1}, {"active_seconds", 42}},
                          {{"Idempotency-Key", "submit-1"}});
  ASSERT_EQ(replay.status, 200) << replay.Describe();
  EXPECT_EQ(replay.body["id"], sub);
  // A different key on a submitted claim is a conflict, not a second copy.
  EXPECT_TRUE(IsApiError(
      ann1.Post(Path("/api/v1/claims/", claim_id, "/submit"),
                {{"result", round1}}, {{"Idempotency-Key", "submit-other"}}),
      409, std::nullopt));

  // Review round 1: revise, with a comment anchored on box 0.
  auto lease = reviewer.Post(Path("/api/v1/pools/", pool, "/review-claims"),
                             json::object());
  ASSERT_EQ(lease.status, 201) << lease.Describe();
  EXPECT_EQ(lease.body["submission"]["id"], sub);
  EXPECT_EQ(lease.raw.find("gold"), std::string::npos) << lease.raw;
  // Nothing else is waiting for review.
  EXPECT_EQ(
      reviewer
          .Post(Path("/api/v1/pools/", pool, "/review-claims"), json::object())
          .status,
      204);
  json comment = {{"text", "The box cuts off the person's feet."},
                  {"anchor", {{"box", 0}}}};
  auto revise = reviewer.Post(Path("/api/v1/submissions/", sub, "/review"),
                              {{"verdict", "revise"}, {"comments", {comment}}});
  ASSERT_EQ(revise.status, 200) << revise.Describe();
  EXPECT_EQ(revise.body["state"], "returned");

  // The annotator sees it among returned submissions, with the comment.
  auto returned = ann1.Get("/api/v1/me/submissions?state=returned");
  ASSERT_EQ(returned.status, 200) << returned.Describe();
  ASSERT_EQ(returned.body["submissions"].size(), 1u) << returned.raw;
  const json& mine = returned.body["submissions"][0];
  EXPECT_EQ(mine["id"], sub);
  ASSERT_EQ(mine["rounds"].size(), 1u);
  EXPECT_EQ(mine["rounds"][0]["verdict"], "revise");
  EXPECT_EQ(mine["rounds"][0]["comments"][0], comment);
  auto pending = ann1.Get("/api/v1/me/submissions?state=pending_review");
  ASSERT_EQ(pending.status, 200);
  EXPECT_TRUE(pending.body["submissions"].empty()) << pending.raw;

  // Round 2 (revise is idempotent too).
  json round2 = BoxResult("person", 3);
  round2["boxes"][0]["h"] = 40;
  auto revised = ann1.Post(Path("/api/v1/submissions/", sub, "/revise"),
                           {{"result", round2}, {"active_seconds", 7}},
                           {{"Idempotency-Key", "revise-1"}});
  ASSERT_EQ(revised.status, 201) << revised.Describe();
  EXPECT_EQ(revised.body["round"], 2);
  EXPECT_EQ(revised.body["state"], "pending_review");
  auto revised_again = ann1.Post(Path("/api/v1/submissions/", sub, "/revise"),
                                 {{"result", round2}, {"active_seconds", 7}},
                                 {{"Idempotency-Key", "revise-1"}});
  ASSERT_EQ(revised_again.status, 200) << revised_again.Describe();
  EXPECT_EQ(revised_again.body["round"], 2);

  // Review round 2: accept.
  lease = reviewer.Post(Path("/api/v1/pools/", pool, "/review-claims"),
                        json::object());
  ASSERT_EQ(lease.status, 201) << lease.Describe();
  EXPECT_EQ(lease.body["submission"]["id"], sub);
  EXPECT_EQ(lease.body["submission"]["round"], 2);
  auto accept = reviewer.Post(Path("/api/v1/submissions/", sub, "/review"),
                              {{"verdict", "accept"}});
  ASSERT_EQ(accept.status, 200) << accept.Describe();
  EXPECT_EQ(accept.body["state"], "accepted");
  EXPECT_EQ(accept.body["first_pass"], false);

  // Paid: the annotator's balance rises by the price, the budget falls by it.
  auto earnings = ann1.Get("/api/v1/me/earnings");
  ASSERT_EQ(earnings.status, 200) << earnings.Describe();
  EXPECT_EQ(earnings.body["balance"]["amount_minor"], kPrice);
  EXPECT_EQ(earnings.body["balance"]["currency"], "CNY");
  ASSERT_EQ(earnings.body["entries"].size(), 1u) << earnings.raw;
  EXPECT_EQ(earnings.body["entries"][0]["submission_id"], sub);
  EXPECT_EQ(earnings.body["entries"][0]["amount"]["amount_minor"], kPrice);
  auto other_earnings = ann2.Get("/api/v1/me/earnings");
  ASSERT_EQ(other_earnings.status, 200);
  EXPECT_EQ(other_earnings.body["balance"]["amount_minor"], 0);
  got = requester.Get(Path("/api/v1/projects/", project));
  ASSERT_EQ(got.status, 200) << got.Describe();
  EXPECT_EQ(got.body["budget"]["remaining"]["amount_minor"], kBudget - kPrice);

  stats = PoolStats(requester, pool);
  EXPECT_EQ(stats["tasks"], 4);
  EXPECT_EQ(stats["open_slots"], 3);
  EXPECT_EQ(stats["active_claims"], 0);
  EXPECT_EQ(stats["accepted"], 1);
  EXPECT_EQ(stats["rejected"], 0);
  EXPECT_EQ(stats["in_review"], 0);
  EXPECT_EQ(stats["cost"]["amount_minor"], kPrice);

  // Export: one line, the final round's result.
  auto exported =
      requester.Get(Path("/api/v1/pools/", pool, "/export?format=jsonl"));
  ASSERT_EQ(exported.status, 200) << exported.Describe();
  EXPECT_EQ(exported.Header("Content-Type").value_or(""),
            "application/x-ndjson");
  std::vector<std::string> lines =
      absl::StrSplit(exported.raw, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u) << exported.raw;
  json line = json::parse(lines[0], nullptr, false);
  ASSERT_FALSE(line.is_discarded()) << lines[0];
  EXPECT_EQ(line["submission_id"], sub);
  EXPECT_EQ(line["task_id"], task_id);
  EXPECT_EQ(line["round"], 2);
  EXPECT_EQ(line["result"], round2);
  EXPECT_EQ(line["data"]["note"], "json-1");
}

TEST_P(IntegrationTest, TextPoolWithOverlapTwo) {
  ApiClient requester = CreateUser("req", {"requester"});
  ApiClient ann1 = CreateUser("ann1", {"annotator"});
  // ann2 also reviews: never their own work.
  ApiClient ann2 = CreateUser("ann2", {"annotator", "reviewer"});
  ApiClient ann3 = CreateUser("ann3", {"annotator"});
  ApiClient reviewer = CreateUser("rev", {"reviewer"});
  const int64_t kBudget = 1'000, kPrice = 120;
  int64_t project = CreateProject(requester, kBudget);
  ASSERT_GT(project, 0);
  int64_t pool =
      CreatePool(requester, project,
                 {{"name", "helpfulness"},
                  {"task_type", "rating"},
                  {"config",
                   {{"criteria", {"helpful", "honest"}},
                    {"scale", {{"min", 1}, {"max", 7}}},
                    {"rationale_required", true}}},
                  {"price", {{"amount_minor", kPrice}, {"currency", "CNY"}}},
                  {"overlap", 2}});
  ASSERT_GT(pool, 0);
  ASSERT_TRUE(AddTasks(requester, pool,
                       {{{"data",
                          {{"prompt", "How do I boil an egg?"},
                           {"response", "Simmer it for nine minutes."},
                           {"source", "faq"}}}}}));
  ASSERT_TRUE(OpenPool(requester, pool));

  std::vector<int64_t> submissions;  // ann1's, then ann2's
  int64_t task = 0;
  int n = 0;
  for (ApiClient* ann : {&ann1, &ann2}) {
    ++n;
    auto claim =
        ann->Post(Path("/api/v1/pools/", pool, "/claims"), json::object());
    ASSERT_EQ(claim.status, 201) << claim.Describe();
    if (task == 0) task = claim.body["task"]["id"];
    EXPECT_EQ(claim.body["task"]["id"], task);
    EXPECT_EQ(claim.body["task"]["data"]["source"], "faq");
    // A rationale is required by this pool.
    auto bad =
        ann->Post(Path("/api/v1/claims/",
                       claim.body["claim"]["id"].get<int64_t>(), "/submit"),
                  {{"result", {{"scores", {{"helpful", 5}, {"honest", 6}}}}}});
    EXPECT_TRUE(IsApiError(bad, 400, "result.rationale"));
    auto sub =
        ann->Post(Path("/api/v1/claims/",
                       claim.body["claim"]["id"].get<int64_t>(), "/submit"),
                  {{"result",
                    {{"scores", {{"helpful", 4 + n}, {"honest", 6}}},
                     {"rationale", "Correct and short."}}}},
                  {{"Idempotency-Key", absl::StrCat("k", n)}});
    ASSERT_EQ(sub.status, 201) << sub.Describe();
    submissions.push_back(sub.body["id"].get<int64_t>());
    // The same annotator never gets the same task twice.
    auto twice =
        ann->Post(Path("/api/v1/pools/", pool, "/claims"), json::object());
    EXPECT_EQ(twice.status, 204) << twice.Describe();
    EXPECT_TRUE(twice.raw.empty());
  }
  ASSERT_EQ(submissions.size(), 2u);
  EXPECT_NE(submissions[0], submissions[1]);
  // Both slots are taken: a third annotator gets nothing.
  auto third =
      ann3.Post(Path("/api/v1/pools/", pool, "/claims"), json::object());
  EXPECT_EQ(third.status, 204) << third.Describe();
  json stats = PoolStats(requester, pool);
  EXPECT_EQ(stats["open_slots"], 0);
  EXPECT_EQ(stats["in_review"], 2);

  // ann2 reviews ann1's work, and is then offered nothing (only their own
  // submission is left); the reviewer takes that one. Both are accepted.
  auto accept_next = [&](ApiClient& who, int64_t expected) {
    auto lease = who.Post(Path("/api/v1/pools/", pool, "/review-claims"),
                          json::object());
    ASSERT_EQ(lease.status, 201) << lease.Describe();
    ASSERT_EQ(lease.body["submission"]["id"], expected);
    auto accept =
        who.Post(Path("/api/v1/submissions/", expected, "/review"),
                 {{"verdict", "accept"}, {"comments", json::array()}});
    ASSERT_EQ(accept.status, 200) << accept.Describe();
    EXPECT_EQ(accept.body["first_pass"], true);
  };
  accept_next(ann2, submissions[0]);
  auto own =
      ann2.Post(Path("/api/v1/pools/", pool, "/review-claims"), json::object());
  EXPECT_EQ(own.status, 204) << own.Describe();
  EXPECT_TRUE(IsApiError(
      ann2.Post(Path("/api/v1/submissions/", submissions[1], "/review"),
                {{"verdict", "accept"}}),
      403, std::nullopt));
  accept_next(reviewer, submissions[1]);
  EXPECT_EQ(
      reviewer
          .Post(Path("/api/v1/pools/", pool, "/review-claims"), json::object())
          .status,
      204);
  for (ApiClient* ann : {&ann1, &ann2}) {
    auto e = ann->Get("/api/v1/me/earnings");
    ASSERT_EQ(e.status, 200);
    EXPECT_EQ(e.body["balance"]["amount_minor"], kPrice);
  }
  auto project_now = requester.Get(Path("/api/v1/projects/", project));
  EXPECT_EQ(project_now.body["budget"]["remaining"]["amount_minor"],
            kBudget - 2 * kPrice);
  auto exported = requester.Get(Path("/api/v1/pools/", pool, "/export"));
  ASSERT_EQ(exported.status, 200) << exported.Describe();
  std::vector<std::string> lines =
      absl::StrSplit(exported.raw, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << exported.raw;
  std::set<std::string> annotators;
  for (const auto& l : lines) {
    json j = json::parse(l, nullptr, false);
    ASSERT_FALSE(j.is_discarded());
    EXPECT_EQ(j["task_id"], task);
    annotators.insert(j["annotator"].get<std::string>());
  }
  EXPECT_EQ(annotators.size(), 2u);
}

TEST_P(IntegrationTest, ExpiredLeaseReturnsTheTask) {
  ApiClient requester = CreateUser("req", {"requester"});
  ApiClient ann1 = CreateUser("ann1", {"annotator"});
  ApiClient ann2 = CreateUser("ann2", {"annotator"});
  int64_t project = CreateProject(requester, 1000);
  ASSERT_GT(project, 0);
  int64_t pool = CreateBboxPool(requester, project, 10, /*overlap=*/1,
                                /*lease_seconds=*/1);
  ASSERT_GT(pool, 0);
  ASSERT_TRUE(AddTasks(requester, pool, {ImageTask()}));
  ASSERT_TRUE(OpenPool(requester, pool));

  auto claim =
      ann1.Post(Path("/api/v1/pools/", pool, "/claims"), json::object());
  ASSERT_EQ(claim.status, 201) << claim.Describe();
  const int64_t claim_id = claim.body["claim"]["id"];
  const int64_t task = claim.body["task"]["id"];

  // The background sweep (every second here) gives the slot back.
  json stats = WaitForStats(requester, pool, [](const json& s) {
    return s["open_slots"] == 1 && s["active_claims"] == 0;
  });
  ASSERT_EQ(stats["open_slots"], 1) << stats.dump();
  ASSERT_EQ(stats["active_claims"], 0) << stats.dump();

  // Too late to submit; someone else may take the task now.
  auto late =
      ann1.Post(Path("/api/v1/claims/", claim_id, "/submit"),
                {{"result", BoxResult()}}, {{"Idempotency-Key", "late"}});
  EXPECT_TRUE(IsApiError(late, 409, std::nullopt));
  auto me = ann1.Get("/api/v1/me/submissions");
  ASSERT_EQ(me.status, 200);
  EXPECT_TRUE(me.body["submissions"].empty()) << me.raw;
  auto other =
      ann2.Post(Path("/api/v1/pools/", pool, "/claims"), json::object());
  ASSERT_EQ(other.status, 201) << other.Describe();
  EXPECT_EQ(other.body["task"]["id"], task);
  EXPECT_NE(other.body["claim"]["id"], claim_id);
}

TEST_P(IntegrationTest, GivingBackAClaim) {
  ApiClient requester = CreateUser("req", {"requester"});
  ApiClient ann1 = CreateUser("ann1", {"annotator"});
  ApiClient ann2 = CreateUser("ann2", {"annotator"});
  int64_t project = CreateProject(requester, 1000);
  ASSERT_GT(project, 0);
  int64_t pool = CreateBboxPool(requester, project, 10);
  ASSERT_GT(pool, 0);
  ASSERT_TRUE(AddTasks(requester, pool, {ImageTask()}));
  ASSERT_TRUE(OpenPool(requester, pool));

  auto claim =
      ann1.Post(Path("/api/v1/pools/", pool, "/claims"), json::object());
  ASSERT_EQ(claim.status, 201) << claim.Describe();
  const int64_t claim_id = claim.body["claim"]["id"];
  const int64_t task = claim.body["task"]["id"];
  EXPECT_EQ(PoolStats(requester, pool)["open_slots"], 0);
  // Only the holder may give it back.
  EXPECT_TRUE(IsApiError(ann2.Delete(Path("/api/v1/claims/", claim_id)), 404,
                         std::nullopt));

  auto give_back = ann1.Delete(Path("/api/v1/claims/", claim_id));
  ASSERT_EQ(give_back.status, 204) << give_back.Describe();
  EXPECT_TRUE(give_back.raw.empty());
  json stats = PoolStats(requester, pool);
  EXPECT_EQ(stats["open_slots"], 1);
  EXPECT_EQ(stats["active_claims"], 0);
  // A released claim can be neither released again nor submitted.
  EXPECT_TRUE(IsApiError(ann1.Delete(Path("/api/v1/claims/", claim_id)), 409,
                         std::nullopt));
  EXPECT_TRUE(IsApiError(ann1.Post(Path("/api/v1/claims/", claim_id, "/submit"),
                                   {{"result", BoxResult()}}),
                         409, std::nullopt));

  auto other =
      ann2.Post(Path("/api/v1/pools/", pool, "/claims"), json::object());
  ASSERT_EQ(other.status, 201) << other.Describe();
  EXPECT_EQ(other.body["task"]["id"], task);
  EXPECT_EQ(PoolStats(requester, pool)["open_slots"], 0);
}

// Image upload, submit-and-claim-next and the work statistics the web app
// shows, over HTTP.
TEST_P(IntegrationTest, UploadedImagesAreWorkedWithSubmitAndNext) {
  ApiClient requester = CreateUser("req", {"requester"});
  ApiClient ann1 = CreateUser("ann1", {"annotator"});
  ApiClient rev = CreateUser("rev", {"reviewer"});
  const int64_t kPrice = 10;
  const int64_t project = CreateProject(requester, 1'000);
  ASSERT_GT(project, 0);
  const int64_t pool = CreateBboxPool(requester, project, kPrice);
  const int64_t classify =
      CreatePool(requester, project,
                 {{"task_type", "classify"}, {"config", {{"labels", {"a"}}}}});
  const int64_t rating = CreatePool(
      requester, project,
      {{"task_type", "rating"}, {"config", {{"criteria", {"helpful"}}}}});
  ASSERT_GT(pool * classify * rating, 0);

  const std::string png = MakePng(32, 24);
  const std::vector<std::pair<std::string, std::string>> image_type = {
      {"Content-Type", "image/png"}};
  auto upload = [&](int64_t to, const std::string& name,
                    const std::string& bytes) {
    return requester.Send(
        "POST",
        Path("/api/v1/pools/", to, absl::StrCat("/images?name=", name).c_str()),
        bytes, image_type);
  };
  auto first = upload(pool, "cat.png", png);
  ASSERT_EQ(first.status, 201) << first.Describe();
  const std::string image = first.body["image"];
  EXPECT_TRUE(absl::StartsWith(image, Path("uploads/pool-", pool, "/")))
      << image;
  EXPECT_TRUE(absl::EndsWith(image, "-cat.png")) << image;
  EXPECT_EQ(image.size(), Path("uploads/pool-", pool, "/").size() + 12 + 8);
  EXPECT_EQ(first.body["width"], 32);
  EXPECT_EQ(first.body["height"], 24);
  // An identical upload is a second task on the same file.
  auto again = upload(pool, "cat.png", png);
  ASSERT_EQ(again.status, 201) << again.Describe();
  EXPECT_EQ(again.body["image"], image);
  EXPECT_NE(again.body["task_id"], first.body["task_id"]);
  const std::filesystem::path stored =
      std::filesystem::path(media_dir_) / image;
  EXPECT_TRUE(std::filesystem::is_regular_file(stored)) << stored;
  std::vector<std::string> files;
  for (const auto& e :
       std::filesystem::directory_iterator(stored.parent_path())) {
    files.push_back(e.path().filename().string());
  }
  EXPECT_EQ(files.size(), 1u) << absl::StrJoin(files, ", ");  // no temp files
  // Classify pools take images too; text pools do not.
  auto other = upload(classify, "dog.png", MakePng(16, 16));
  ASSERT_EQ(other.status, 201) << other.Describe();
  EXPECT_EQ(other.body["width"], 16);
  EXPECT_NE(other.body["image"], image);
  EXPECT_TRUE(IsApiError(upload(rating, "cat.png", png), 400, "pool"));
  EXPECT_EQ(PoolStats(requester, pool)["tasks"], 2);

  // Work through both tasks with submit?next=1.
  ASSERT_TRUE(OpenPool(requester, pool));
  auto claim =
      ann1.Post(Path("/api/v1/pools/", pool, "/claims"), json::object());
  ASSERT_EQ(claim.status, 201) << claim.Describe();
  const int64_t task = claim.body["task"]["id"];
  EXPECT_EQ(claim.body["task"]["data"]["image"], image);
  auto served = ann1.Get(Path("/api/v1/tasks/", task, "/image"));
  ASSERT_EQ(served.status, 200) << served.Describe();
  EXPECT_EQ(served.raw, png);
  EXPECT_EQ(served.Header("Content-Type").value_or(""), "image/png");

  const std::string submit1 =
      Path("/api/v1/claims/", claim.body["claim"]["id"].get<int64_t>(),
           "/submit?next=1");
  const json work1 = {{"result", BoxResult()}, {"active_seconds", 30}};
  auto sub = ann1.Post(submit1, work1, {{"Idempotency-Key", "first"}});
  ASSERT_EQ(sub.status, 201) << sub.Describe();
  EXPECT_EQ(sub.body["state"], "pending_review");
  ASSERT_TRUE(sub.body["next"].is_object()) << sub.Describe();
  EXPECT_FALSE(sub.body.contains("next_reason"));
  EXPECT_NE(sub.body["next"]["task"]["id"], task);
  EXPECT_EQ(sub.body["next"]["claim"]["state"], "active");
  const int64_t next_claim = sub.body["next"]["claim"]["id"];
  auto replay = ann1.Post(submit1, work1, {{"Idempotency-Key", "first"}});
  ASSERT_EQ(replay.status, 200) << replay.Describe();
  EXPECT_EQ(replay.body["id"], sub.body["id"]);
  EXPECT_EQ(replay.body["next"]["claim"]["id"], next_claim);
  auto last = ann1.Post(Path("/api/v1/claims/", next_claim, "/submit?next=1"),
                        {{"result", BoxResult()}, {"active_seconds", 60}});
  ASSERT_EQ(last.status, 201) << last.Describe();
  EXPECT_TRUE(last.body["next"].is_null()) << last.Describe();
  EXPECT_TRUE(last.body["next_reason"].is_string()) << last.Describe();
  for (int i = 0; i < 2; ++i) {
    auto lease = rev.Post(Path("/api/v1/pools/", pool, "/review-claims"),
                          json::object());
    ASSERT_EQ(lease.status, 201) << lease.Describe();
    auto verdict =
        rev.Post(Path("/api/v1/submissions/",
                      lease.body["submission"]["id"].get<int64_t>(), "/review"),
                 {{"verdict", "accept"}});
    ASSERT_EQ(verdict.status, 200) << verdict.Describe();
  }

  // 2 x 10 fen over 90 active seconds: 800 fen an hour.
  const json cny800 = {{"amount_minor", 800}, {"currency", "CNY"}};
  auto earnings = ann1.Get("/api/v1/me/earnings");
  ASSERT_EQ(earnings.status, 200) << earnings.Describe();
  ASSERT_EQ(earnings.body["pools"].size(), 1u) << earnings.Describe();
  EXPECT_EQ(earnings.body["pools"][0],
            json({{"pool_id", pool},
                  {"pool_name", "boxes"},
                  {"accepted", 2},
                  {"earned", {{"amount_minor", 20}, {"currency", "CNY"}}},
                  {"active_seconds", 90},
                  {"hourly", cny800},
                  {"topups", {{"amount_minor", 0}, {"currency", "CNY"}}},
                  {"hourly_with_topups", cny800}}));
  auto pools = ann1.Get("/api/v1/pools");
  ASSERT_EQ(pools.status, 200) << pools.Describe();
  json item;
  for (const json& p : pools.body["pools"]) {
    if (p["id"] == pool) item = p;
  }
  ASSERT_TRUE(item.is_object()) << pools.Describe();
  EXPECT_EQ(item["hourly_estimate"], cny800);
  EXPECT_EQ(item["my_work"], json({{"submitted", 2},
                                   {"accepted", 2},
                                   {"rejected", 0},
                                   {"returned", 0},
                                   {"in_review", 0},
                                   {"first_pass_accepted", 2}}));
  json stats = PoolStats(requester, pool);
  ASSERT_EQ(stats["throughput"].size(), 48u) << stats.dump();
  int64_t submitted = 0, accepted = 0;
  for (const json& h : stats["throughput"]) {
    submitted += h["submitted"].get<int64_t>();
    accepted += h["accepted"].get<int64_t>();
  }
  EXPECT_EQ(submitted, 2);
  EXPECT_EQ(accepted, 2);
  EXPECT_EQ(stats["hourly_earnings"], json::array({8.0}));
  EXPECT_EQ(stats["budget_remaining"],
            json({{"amount_minor", 1'000 - 20}, {"currency", "CNY"}}));
}

}  // namespace
}  // namespace tessera::integration
