// The task lifecycle through service::Service on a real store with a fake
// clock: identity, catalog, claims, review rounds, payment, lease expiry,
// scheduled release, visibility, audit, and fault injection at the store.
// Built twice: on SQLite (service_test) and, with TESSERA_SERVICE_TEST_POSTGRES
// defined, on PostgreSQL (service_pgtest).
#include "tessera/service/service.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/clock.h"
#include "tessera/base/status.h"
#include "tessera/service/auth.h"
#include "tessera/store/fault_injection.h"
#include "tessera/store/store_conformance.h"

namespace tessera::service {
namespace {

using store::FaultInjectingStore;
using store::Tx;
using store::TxMode;
using store::WriteFault;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// True when `j` has an object key named `key` at any depth.
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

// The distinctive gold box below: its width must never reach an annotator.
constexpr char kGoldMarker[] = "33.25";

json BboxData(int n, int width = 640) {
  return {{"image", absl::StrCat("street/", n, ".jpg")},
          {"width", width},
          {"height", 480}};
}
json Box(const std::string& label, double x, double y, double w, double h) {
  return {{"label", label}, {"x", x}, {"y", y}, {"w", w}, {"h", h}};
}
json BboxResult(double x) {
  return {{"boxes", json::array({Box("car", x, 10, 100, 50)})}};
}

class ServiceTest : public store::StoreTestBase {
 protected:
  void SetUp() override {
    StoreTestBase::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    TS_ASSERT_OK(InitCrypto());
    faults_ = std::make_unique<FaultInjectingStore>(store());
    service_ = std::make_unique<Service>(*faults_, clock_);
  }
  void TearDown() override {
    service_.reset();
    faults_.reset();
    StoreTestBase::TearDown();
  }

  Service& svc() { return *service_; }
  FaultInjectingStore& faults() { return *faults_; }

  // Creates a user the way the CLI does (no acting admin).
  absl::StatusOr<Principal> NewUser(const std::string& name,
                                    const std::vector<std::string>& roles) {
    TS_ASSIGN_OR_RETURN(
        json u, svc().CreateUser(std::nullopt, {{"username", name},
                                                {"password", "password-123"},
                                                {"roles", roles}}));
    Principal p;
    p.id = UserId(u["id"].get<int64_t>());
    p.username = u["username"].get<std::string>();
    for (const json& r : u["roles"]) {
      TS_ASSIGN_OR_RETURN(domain::Role role,
                          domain::ParseRole(r.get<std::string>(), "roles"));
      p.roles.push_back(role);
    }
    return p;
  }

  // A project with `budget` minor units of CNY (none when 0).
  absl::StatusOr<ProjectId> NewProject(const Principal& r, int64_t budget) {
    json body = {{"name", "Street scenes"}, {"guidelines", "Box every car."}};
    if (budget > 0) {
      body["budget"] = {{"amount_minor", budget}, {"currency", "CNY"}};
    }
    TS_ASSIGN_OR_RETURN(json p, svc().CreateProject(r, body));
    return ProjectId(p["id"].get<int64_t>());
  }

  absl::StatusOr<PoolId> NewPool(const Principal& r, ProjectId project,
                                 json body) {
    TS_ASSIGN_OR_RETURN(json p, svc().CreatePool(r, project, body));
    return PoolId(p["id"].get<int64_t>());
  }
  static json BboxPool(int64_t price = 250) {
    return {{"name", "boxes"},
            {"task_type", "bbox"},
            {"config", {{"labels", {"car", "person"}}}},
            {"price", {{"amount_minor", price}, {"currency", "CNY"}}},
            {"overlap", 1},
            {"lease_seconds", 600},
            {"max_rounds", 3}};
  }
  static json RatingPool(int max_rounds) {
    return {{"name", "ratings"},
            {"task_type", "rating"},
            {"config", {{"criteria", {"helpful", "honest"}}}},
            {"price", {{"amount_minor", 100}, {"currency", "CNY"}}},
            {"overlap", 1},
            {"max_rounds", max_rounds}};
  }

  // An open bbox pool with `tasks` tasks (the first carries gold).
  absl::StatusOr<PoolId> OpenBboxPool(const Principal& r, ProjectId project,
                                      int tasks, json body = BboxPool()) {
    TS_ASSIGN_OR_RETURN(PoolId pool, NewPool(r, project, body));
    json list = json::array();
    for (int i = 0; i < tasks; ++i) {
      json t = {{"data", BboxData(i)}};
      if (i == 0) {
        t["gold"] = {{"boxes", json::array({Box("person", 1, 2, 33.25, 44)})}};
      }
      list.push_back(t);
    }
    TS_RETURN_IF_ERROR(svc().AddTasks(r, pool, {{"tasks", list}}).status());
    TS_RETURN_IF_ERROR(svc().OpenPool(r, pool).status());
    return pool;
  }

  // Claims a task; kNotFound when there is none.
  absl::StatusOr<json> ClaimTask(const Principal& a, PoolId pool) {
    TS_ASSIGN_OR_RETURN(auto result, svc().Claim(a, pool));
    if (!result) return absl::NotFoundError("no task to claim");
    return result->body;
  }
  static ClaimId ClaimIdOf(const json& claim_body) {
    return ClaimId(claim_body["claim"]["id"].get<int64_t>());
  }
  static TaskId TaskIdOf(const json& claim_body) {
    return TaskId(claim_body["task"]["id"].get<int64_t>());
  }

  // Leases the next submission of `pool` for review; kNotFound when none.
  absl::StatusOr<SubmissionId> LeaseReview(const Principal& rv, PoolId pool) {
    TS_ASSIGN_OR_RETURN(auto lease, svc().ClaimReview(rv, pool));
    if (!lease) return absl::NotFoundError("nothing to review");
    return SubmissionId((*lease)["submission"]["id"].get<int64_t>());
  }

  // Direct reads of the stored state, bypassing the service's rules.
  absl::StatusOr<domain::Claim> StoredClaim(ClaimId id) {
    domain::Claim out;
    TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(out, tx.GetClaim(id));
      return absl::OkStatus();
    }));
    return out;
  }
  absl::StatusOr<domain::Submission> StoredSubmission(SubmissionId id) {
    domain::Submission out;
    TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(out, tx.GetSubmission(id));
      return absl::OkStatus();
    }));
    return out;
  }
  absl::StatusOr<std::vector<domain::Round>> StoredRounds(SubmissionId id) {
    std::vector<domain::Round> out;
    TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(out, tx.ListRounds(id));
      return absl::OkStatus();
    }));
    return out;
  }
  absl::StatusOr<int> OpenSlots(TaskId id) {
    int out = -1;
    TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(domain::Task t, tx.GetTask(id));
      out = t.open_slots;
      return absl::OkStatus();
    }));
    return out;
  }
  absl::StatusOr<int64_t> SumAllEntries() {
    int64_t out = -1;
    TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(out, tx.SumAllEntries());
      return absl::OkStatus();
    }));
    return out;
  }
  absl::StatusOr<std::vector<domain::Submission>> StoredSubmissionsOf(
      UserId annotator) {
    std::vector<domain::Submission> out;
    TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
      store::SubmissionFilter f;
      f.annotator = annotator;
      TS_ASSIGN_OR_RETURN(out, tx.ListSubmissions(f));
      return absl::OkStatus();
    }));
    return out;
  }
  absl::StatusOr<std::vector<std::string>> AuditActions(
      const std::string& entity, int64_t id) {
    std::vector<std::string> out;
    TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(auto rows, tx.ListAudit(entity, id));
      out.clear();
      for (const auto& a : rows) out.push_back(a.action);
      return absl::OkStatus();
    }));
    return out;
  }
  // The project's remaining budget as its owner sees it.
  absl::StatusOr<int64_t> Remaining(const Principal& r, ProjectId project) {
    TS_ASSIGN_OR_RETURN(json p, svc().GetProject(r, project));
    return p["budget"]["remaining"]["amount_minor"].get<int64_t>();
  }
  absl::StatusOr<int64_t> Earned(const Principal& a) {
    TS_ASSIGN_OR_RETURN(json e, svc().Earnings(a));
    return e["balance"]["amount_minor"].get<int64_t>();
  }

  FakeClock clock_;

 private:
  std::unique_ptr<FaultInjectingStore> faults_;
  std::unique_ptr<Service> service_;
};

// ------------------------------------------------------------------ identity

TEST_P(ServiceTest, LoginAuthenticateLogoutAndTokenExpiry) {
  TS_ASSERT_OK_AND_ASSIGN(
      json created,
      svc().CreateUser(std::nullopt, {{"username", "ann"},
                                      {"password", "correct horse"},
                                      {"roles", {"annotator", "reviewer"}}}));
  const UserId ann(created["id"].get<int64_t>());
  EXPECT_EQ(created["username"], "ann");
  EXPECT_EQ(created["roles"], json::array({"annotator", "reviewer"}));
  EXPECT_FALSE(HasKeyAnywhere(created, "password"));
  EXPECT_FALSE(HasKeyAnywhere(created, "password_hash"));

  // Rejected before any hashing or writing.
  absl::Status dup = svc()
                         .CreateUser(std::nullopt, {{"username", "ann"},
                                                    {"password", "another one"},
                                                    {"roles", {"annotator"}}})
                         .status();
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists) << dup;
  EXPECT_EQ(FieldOf(dup), "username");
  absl::Status bad_role =
      svc()
          .CreateUser(std::nullopt, {{"username", "bob"},
                                     {"password", "long enough"},
                                     {"roles", {"annotator", "wizard"}}})
          .status();
  EXPECT_EQ(bad_role.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(bad_role), "roles[1]");
  absl::Status short_pw =
      svc()
          .CreateUser(std::nullopt, {{"username", "bob"},
                                     {"password", "short"},
                                     {"roles", {"annotator"}}})
          .status();
  EXPECT_EQ(FieldOf(short_pw), "password");
  Principal not_admin{ann, "ann", {domain::Role::kAnnotator}};
  EXPECT_EQ(svc()
                .CreateUser(not_admin, {{"username", "eve"},
                                        {"password", "long enough"},
                                        {"roles", {"admin"}}})
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);

  EXPECT_EQ(svc()
                .Login({{"username", "ann"}, {"password", "wrong horse"}})
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(svc()
                .Login({{"username", "nobody"}, {"password", "correct horse"}})
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);

  TS_ASSERT_OK_AND_ASSIGN(
      json login,
      svc().Login({{"username", "ann"}, {"password", "correct horse"}}));
  const std::string token = login["token"].get<std::string>();
  EXPECT_EQ(login["user"]["id"], ann.value);
  TS_ASSERT_OK_AND_ASSIGN(Principal p, svc().Authenticate(token));
  EXPECT_EQ(p.id, ann);
  EXPECT_EQ(p.username, "ann");
  EXPECT_TRUE(p.Has(domain::Role::kReviewer));
  EXPECT_FALSE(p.Has(domain::Role::kAdmin));
  EXPECT_EQ(svc().Authenticate("").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(svc().Authenticate("not-a-token").status().code(),
            absl::StatusCode::kUnauthenticated);

  TS_ASSERT_OK(svc().Logout(token));
  EXPECT_EQ(svc().Authenticate(token).status().code(),
            absl::StatusCode::kUnauthenticated);

  // A token lives for the configured TTL (24 h by default), not a second more.
  TS_ASSERT_OK_AND_ASSIGN(
      json again,
      svc().Login({{"username", "ann"}, {"password", "correct horse"}}));
  const std::string token2 = again["token"].get<std::string>();
  clock_.Advance(absl::Hours(24) - absl::Seconds(1));
  TS_EXPECT_OK(svc().Authenticate(token2));
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(svc().Authenticate(token2).status().code(),
            absl::StatusCode::kUnauthenticated);

  TS_ASSERT_OK_AND_ASSIGN(auto actions, AuditActions("user", ann.value));
  EXPECT_THAT(actions, ElementsAre("user.create", "session.create",
                                   "session.revoke", "session.create"));
}

// ------------------------------------------------------------------ lifecycle

TEST_P(ServiceTest, FullLifecycleWithRevisionAndPayment) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  // The annotator is a reviewer too: still never reviews their own work.
  TS_ASSERT_OK_AND_ASSIGN(Principal ann,
                          NewUser("ann", {"annotator", "reviewer"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal rev, NewUser("rev", {"reviewer"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 10'000));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, NewPool(req, project, BboxPool(250)));
  TS_ASSERT_OK_AND_ASSIGN(int64_t remaining, Remaining(req, project));
  EXPECT_EQ(remaining, 10'000);

  // All or nothing: one bad task among good ones inserts none.
  json bad = {{"tasks",
               {{{"data", BboxData(0)}},
                {{"data", BboxData(1)}},
                {{"data", BboxData(2, -5)}},
                {{"data", BboxData(3)}}}}};
  absl::Status rejected = svc().AddTasks(req, pool, bad).status();
  EXPECT_EQ(rejected.code(), absl::StatusCode::kInvalidArgument) << rejected;
  EXPECT_EQ(FieldOf(rejected), "tasks[2].data.width");
  json bad_gold = {
      {"tasks",
       {{{"data", BboxData(0)}},
        {{"data", BboxData(1)},
         {"gold", {{"boxes", json::array({Box("bus", 1, 1, 5, 5)})}}}}}}};
  EXPECT_EQ(FieldOf(svc().AddTasks(req, pool, bad_gold).status()),
            "tasks[1].gold.boxes[0].label");
  TS_ASSERT_OK_AND_ASSIGN(json stats, svc().PoolStats(req, pool));
  EXPECT_EQ(stats["tasks"], 0);

  json good = {
      {"tasks",
       {{{"data", BboxData(0)},
         {"gold", {{"boxes", json::array({Box("person", 1, 2, 33.25, 44)})}}}},
        {{"data", BboxData(1)}}}}};
  TS_ASSERT_OK_AND_ASSIGN(json added, svc().AddTasks(req, pool, good));
  EXPECT_EQ(added["created"], 2);
  const TaskId first_task(added["first_task_id"].get<int64_t>());

  // A draft pool is invisible to annotators until it is released.
  EXPECT_EQ(svc().Claim(ann, pool).status().code(),
            absl::StatusCode::kNotFound);
  TS_ASSERT_OK_AND_ASSIGN(json opened, svc().OpenPool(req, pool));
  EXPECT_EQ(opened["state"], "open");

  TS_ASSERT_OK_AND_ASSIGN(json claim, ClaimTask(ann, pool));
  EXPECT_EQ(TaskIdOf(claim), first_task);
  EXPECT_FALSE(HasKeyAnywhere(claim, "gold")) << claim.dump();
  EXPECT_THAT(claim.dump(), ::testing::Not(HasSubstr(kGoldMarker)));
  const ClaimId claim_id = ClaimIdOf(claim);
  TS_ASSERT_OK_AND_ASSIGN(auto resumed, svc().Claim(ann, pool));
  ASSERT_TRUE(resumed.has_value());
  EXPECT_TRUE(resumed->resumed);
  EXPECT_EQ(ClaimIdOf(resumed->body), claim_id);

  // Validation errors name the field; none of them changes anything.
  absl::Status outside =
      svc().Submit(ann, claim_id, {{"result", BboxResult(600)}}, "").status();
  EXPECT_EQ(outside.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(outside), "result.boxes[0]");
  json wrong_label = {
      {"result", {{"boxes", json::array({Box("bus", 1, 1, 5, 5)})}}}};
  EXPECT_EQ(FieldOf(svc().Submit(ann, claim_id, wrong_label, "").status()),
            "result.boxes[0].label");
  EXPECT_EQ(FieldOf(svc().Submit(ann, claim_id, json::object(), "").status()),
            "result");
  EXPECT_EQ(
      FieldOf(svc()
                  .Submit(ann, claim_id,
                          {{"result", BboxResult(10)}, {"active_seconds", -1}},
                          "")
                  .status()),
      "active_seconds");
  TS_ASSERT_OK_AND_ASSIGN(domain::Claim stored_claim, StoredClaim(claim_id));
  EXPECT_EQ(stored_claim.state, domain::ClaimState::kActive);

  // Submit; a retry with the same key is the same submission.
  TS_ASSERT_OK_AND_ASSIGN(json sub, svc().Submit(ann, claim_id,
                                                 {{"result", BboxResult(10)},
                                                  {"active_seconds", 30}},
                                                 "key-1"));
  const SubmissionId sid(sub["id"].get<int64_t>());
  EXPECT_EQ(sub["state"], "pending_review");
  EXPECT_EQ(sub["round"], 1);
  TS_ASSERT_OK_AND_ASSIGN(
      json replay,
      svc().Submit(ann, claim_id, {{"result", BboxResult(10)}}, "key-1"));
  EXPECT_EQ(replay["id"], sid.value);
  EXPECT_EQ(replay["replayed"], true);
  EXPECT_EQ(svc()
                .Submit(ann, claim_id, {{"result", BboxResult(10)}}, "key-2")
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(svc()
                .Submit(ann, claim_id, {{"result", BboxResult(10)}}, "")
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  TS_ASSERT_OK_AND_ASSIGN(auto subs, StoredSubmissionsOf(ann.id));
  EXPECT_EQ(subs.size(), 1u);

  // Review: never one's own work; a lease first.
  TS_ASSERT_OK_AND_ASSIGN(auto own, svc().ClaimReview(ann, pool));
  EXPECT_FALSE(own.has_value());
  EXPECT_EQ(svc().Review(rev, sid, {{"verdict", "accept"}}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  TS_ASSERT_OK_AND_ASSIGN(auto lease, svc().ClaimReview(rev, pool));
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ((*lease)["submission"]["id"], sid.value);
  EXPECT_FALSE(HasKeyAnywhere(*lease, "gold")) << lease->dump();
  EXPECT_THAT(lease->dump(), ::testing::Not(HasSubstr(kGoldMarker)));
  EXPECT_EQ(svc().Review(ann, sid, {{"verdict", "accept"}}).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(FieldOf(svc().Review(rev, sid, {{"verdict", "revise"}}).status()),
            "comments");
  EXPECT_EQ(
      FieldOf(
          svc()
              .Review(rev, sid,
                      {{"verdict", "revise"},
                       {"comments",
                        {{{"text", "which box?"}, {"anchor", {{"box", 5}}}}}}})
              .status()),
      "comments[0].anchor.box");
  TS_ASSERT_OK_AND_ASSIGN(
      json returned,
      svc().Review(
          rev, sid,
          {{"verdict", "revise"},
           {"comments", {{{"text", "too loose"}, {"anchor", {{"box", 0}}}}}}}));
  EXPECT_EQ(returned["state"], "returned");

  // Round 2.
  TS_ASSERT_OK_AND_ASSIGN(
      json revised,
      svc().Revise(ann, sid, {{"result", BboxResult(12)}}, "rev-2"));
  EXPECT_EQ(revised["round"], 2);
  EXPECT_EQ(revised["state"], "pending_review");
  TS_ASSERT_OK_AND_ASSIGN(
      json revised_again,
      svc().Revise(ann, sid, {{"result", BboxResult(12)}}, "rev-2"));
  EXPECT_EQ(revised_again["round"], 2);
  EXPECT_EQ(revised_again["replayed"], true);
  TS_ASSERT_OK_AND_ASSIGN(SubmissionId leased, LeaseReview(rev, pool));
  EXPECT_EQ(leased, sid);
  TS_ASSERT_OK_AND_ASSIGN(json accepted,
                          svc().Review(rev, sid, {{"verdict", "accept"}}));
  EXPECT_EQ(accepted["state"], "accepted");
  EXPECT_EQ(accepted["first_pass"], false);
  EXPECT_EQ(svc().Review(rev, sid, {{"verdict", "accept"}}).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // The price moved from the project to the annotator, once.
  TS_ASSERT_OK_AND_ASSIGN(remaining, Remaining(req, project));
  EXPECT_EQ(remaining, 10'000 - 250);
  TS_ASSERT_OK_AND_ASSIGN(json earnings, svc().Earnings(ann));
  EXPECT_EQ(earnings["balance"]["amount_minor"], 250);
  ASSERT_EQ(earnings["entries"].size(), 1u);
  EXPECT_EQ(earnings["entries"][0]["submission_id"], sid.value);
  EXPECT_EQ(earnings["entries"][0]["kind"], "task_payment");
  TS_ASSERT_OK_AND_ASSIGN(int64_t sum, SumAllEntries());
  EXPECT_EQ(sum, 0);
  TS_ASSERT_OK_AND_ASSIGN(int64_t reviewer_pay, Earned(rev));
  EXPECT_EQ(reviewer_pay, 0);

  // What each party sees afterwards.
  TS_ASSERT_OK_AND_ASSIGN(json mine, svc().GetSubmission(ann, sid));
  EXPECT_EQ(mine["rounds"].size(), 2u);
  EXPECT_EQ(mine["rounds"][0]["verdict"], "revise");
  EXPECT_EQ(mine["rounds"][1]["verdict"], "accept");
  EXPECT_FALSE(HasKeyAnywhere(mine, "gold")) << mine.dump();
  TS_ASSERT_OK_AND_ASSIGN(json me, svc().Me(ann));
  EXPECT_EQ(me["standing"]["accepted"], 1);
  EXPECT_EQ(me["standing"]["first_pass_accepted"], 0);
  TS_ASSERT_OK_AND_ASSIGN(stats, svc().PoolStats(req, pool));
  EXPECT_EQ(stats["tasks"], 2);
  EXPECT_EQ(stats["accepted"], 1);
  EXPECT_EQ(stats["cost"]["amount_minor"], 250);
  TS_ASSERT_OK_AND_ASSIGN(std::string exported, svc().ExportJsonl(req, pool));
  std::vector<std::string> lines =
      absl::StrSplit(exported, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u);
  json line = json::parse(lines[0]);
  EXPECT_EQ(line["submission_id"], sid.value);
  EXPECT_EQ(line["result"], BboxResult(12));

  // Every state change left an audit row.
  TS_ASSERT_OK_AND_ASSIGN(auto sub_audit,
                          AuditActions("submission", sid.value));
  EXPECT_THAT(sub_audit, ElementsAre("submission.create", "review.lease",
                                     "review.revise", "submission.revise",
                                     "review.lease", "review.accept"));
  TS_ASSERT_OK_AND_ASSIGN(auto claim_audit,
                          AuditActions("claim", claim_id.value));
  EXPECT_THAT(claim_audit, ElementsAre("claim.create"));
  TS_ASSERT_OK_AND_ASSIGN(auto pool_audit, AuditActions("pool", pool.value));
  EXPECT_THAT(pool_audit, ElementsAre("pool.create", "tasks.add", "pool.open"));
  TS_ASSERT_OK_AND_ASSIGN(auto project_audit,
                          AuditActions("project", project.value));
  EXPECT_THAT(project_audit, ElementsAre("project.create"));
}

TEST_P(ServiceTest, ReviseOnTheLastRoundRejectsAndFreesTheSlot) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann2, NewUser("ann2", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal rev, NewUser("rev", {"reviewer"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 1'000));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, NewPool(req, project, RatingPool(2)));
  TS_ASSERT_OK(svc().AddTasks(req, pool,
                              {{"tasks",
                                {{{"data",
                                   {{"prompt", "Is the sky blue?"},
                                    {"response", "Yes, by day."}}}}}}}));
  TS_ASSERT_OK(svc().OpenPool(req, pool));
  TS_ASSERT_OK_AND_ASSIGN(json claim, ClaimTask(ann, pool));
  const TaskId task = TaskIdOf(claim);

  auto rating = [](int helpful, int honest) {
    return json{{"result",
                 {{"scores", {{"helpful", helpful}, {"honest", honest}}},
                  {"rationale", "short and right"}}}};
  };
  EXPECT_EQ(
      FieldOf(svc().Submit(ann, ClaimIdOf(claim), rating(9, 3), "").status()),
      "result.scores.helpful");
  EXPECT_EQ(
      FieldOf(svc()
                  .Submit(ann, ClaimIdOf(claim),
                          {{"result", {{"scores", {{"helpful", 4}}}}}}, "")
                  .status()),
      "result.scores.honest");
  TS_ASSERT_OK_AND_ASSIGN(
      json sub, svc().Submit(ann, ClaimIdOf(claim), rating(4, 5), "s1"));
  const SubmissionId sid(sub["id"].get<int64_t>());
  TS_ASSERT_OK_AND_ASSIGN(int slots, OpenSlots(task));
  EXPECT_EQ(slots, 0);

  const json revise = {{"verdict", "revise"},
                       {"comments", {{{"text", "why?"}}}}};
  TS_ASSERT_OK(LeaseReview(rev, pool));
  TS_ASSERT_OK_AND_ASSIGN(json r1, svc().Review(rev, sid, revise));
  EXPECT_EQ(r1["state"], "returned");
  TS_ASSERT_OK_AND_ASSIGN(slots, OpenSlots(task));
  EXPECT_EQ(slots, 0);  // returned work still holds its slot
  TS_ASSERT_OK(svc().Revise(ann, sid, rating(5, 5), "s2"));
  TS_ASSERT_OK(LeaseReview(rev, pool));
  TS_ASSERT_OK_AND_ASSIGN(json r2, svc().Review(rev, sid, revise));
  EXPECT_EQ(r2["state"], "rejected");
  EXPECT_EQ(r2["round"], 2);
  EXPECT_EQ(svc().Revise(ann, sid, rating(5, 5), "s3").status().code(),
            absl::StatusCode::kFailedPrecondition);

  // The slot is free for someone else, never for the same annotator again.
  TS_ASSERT_OK_AND_ASSIGN(slots, OpenSlots(task));
  EXPECT_EQ(slots, 1);
  TS_ASSERT_OK_AND_ASSIGN(auto none, svc().Claim(ann, pool));
  EXPECT_FALSE(none.has_value());
  TS_ASSERT_OK_AND_ASSIGN(json other, ClaimTask(ann2, pool));
  EXPECT_EQ(TaskIdOf(other), task);

  // Nothing was paid.
  TS_ASSERT_OK_AND_ASSIGN(int64_t remaining, Remaining(req, project));
  EXPECT_EQ(remaining, 1'000);
  TS_ASSERT_OK_AND_ASSIGN(int64_t earned, Earned(ann));
  EXPECT_EQ(earned, 0);
  TS_ASSERT_OK_AND_ASSIGN(auto audit, AuditActions("submission", sid.value));
  EXPECT_THAT(
      audit, ElementsAre("submission.create", "review.lease", "review.revise",
                         "submission.revise", "review.lease", "review.revise"));
}

TEST_P(ServiceTest, AcceptWithoutBudgetFailsAndChangesNothing) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal rev, NewUser("rev", {"reviewer"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 0));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, OpenBboxPool(req, project, 1));
  TS_ASSERT_OK_AND_ASSIGN(json claim, ClaimTask(ann, pool));
  TS_ASSERT_OK_AND_ASSIGN(
      json sub,
      svc().Submit(ann, ClaimIdOf(claim), {{"result", BboxResult(5)}}, ""));
  const SubmissionId sid(sub["id"].get<int64_t>());
  TS_ASSERT_OK(LeaseReview(rev, pool));

  absl::Status unpaid =
      svc().Review(rev, sid, {{"verdict", "accept"}}).status();
  EXPECT_EQ(unpaid.code(), absl::StatusCode::kFailedPrecondition) << unpaid;
  EXPECT_THAT(std::string(unpaid.message()), HasSubstr("budget"));

  TS_ASSERT_OK_AND_ASSIGN(domain::Submission stored, StoredSubmission(sid));
  EXPECT_EQ(stored.state, domain::SubmissionState::kInReview);
  EXPECT_EQ(stored.reviewer_id, std::optional<UserId>(rev.id));
  TS_ASSERT_OK_AND_ASSIGN(auto rounds, StoredRounds(sid));
  ASSERT_EQ(rounds.size(), 1u);
  EXPECT_FALSE(rounds[0].verdict.has_value());
  TS_ASSERT_OK_AND_ASSIGN(int64_t sum, SumAllEntries());
  EXPECT_EQ(sum, 0);
  TS_ASSERT_OK_AND_ASSIGN(json earnings, svc().Earnings(ann));
  EXPECT_EQ(earnings["balance"]["amount_minor"], 0);
  EXPECT_TRUE(earnings["entries"].empty());
  TS_ASSERT_OK_AND_ASSIGN(int64_t remaining, Remaining(req, project));
  EXPECT_EQ(remaining, 0);
  TS_ASSERT_OK_AND_ASSIGN(auto audit, AuditActions("submission", sid.value));
  EXPECT_THAT(audit, ElementsAre("submission.create", "review.lease"));

  // The reviewer still holds the lease and can decide otherwise.
  TS_ASSERT_OK_AND_ASSIGN(json rejected,
                          svc().Review(rev, sid, {{"verdict", "reject"}}));
  EXPECT_EQ(rejected["state"], "rejected");
}

// ---------------------------------------------------------- time: the clock

TEST_P(ServiceTest, ExpiredLeaseFreesTheTaskAndRefusesTheLateSubmit) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann2, NewUser("ann2", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 0));
  json body = BboxPool(0);
  body["lease_seconds"] = 60;
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, OpenBboxPool(req, project, 1, body));
  TS_ASSERT_OK_AND_ASSIGN(json claim, ClaimTask(ann, pool));
  const ClaimId claim_id = ClaimIdOf(claim);
  const TaskId task = TaskIdOf(claim);

  clock_.Advance(absl::Seconds(59));
  TS_ASSERT_OK_AND_ASSIGN(int expired, svc().ExpireLeases());
  EXPECT_EQ(expired, 0);
  clock_.Advance(absl::Seconds(2));
  TS_ASSERT_OK_AND_ASSIGN(expired, svc().ExpireLeases());
  EXPECT_EQ(expired, 1);
  TS_ASSERT_OK_AND_ASSIGN(expired, svc().ExpireLeases());
  EXPECT_EQ(expired, 0);

  absl::Status late =
      svc().Submit(ann, claim_id, {{"result", BboxResult(5)}}, "late").status();
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition) << late;
  TS_ASSERT_OK_AND_ASSIGN(domain::Claim stored, StoredClaim(claim_id));
  EXPECT_EQ(stored.state, domain::ClaimState::kExpired);
  TS_ASSERT_OK_AND_ASSIGN(auto subs, StoredSubmissionsOf(ann.id));
  EXPECT_TRUE(subs.empty());
  TS_ASSERT_OK_AND_ASSIGN(int slots, OpenSlots(task));
  EXPECT_EQ(slots, 1);

  // Claimable again, by someone else only.
  TS_ASSERT_OK_AND_ASSIGN(auto none, svc().Claim(ann, pool));
  EXPECT_FALSE(none.has_value());
  TS_ASSERT_OK_AND_ASSIGN(json other, ClaimTask(ann2, pool));
  EXPECT_EQ(TaskIdOf(other), task);
  TS_ASSERT_OK_AND_ASSIGN(auto audit, AuditActions("claim", claim_id.value));
  EXPECT_THAT(audit, ElementsAre("claim.create", "claim.expire"));
}

TEST_P(ServiceTest, ClaimingAgainAfterTheLeaseRanOutExpiresTheOldClaim) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 0));
  json body = BboxPool(0);
  body["lease_seconds"] = 60;
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, OpenBboxPool(req, project, 2, body));
  TS_ASSERT_OK_AND_ASSIGN(json first, ClaimTask(ann, pool));
  clock_.Advance(absl::Seconds(61));
  // No sweep yet: the next claim retires the stale one itself.
  TS_ASSERT_OK_AND_ASSIGN(json second, ClaimTask(ann, pool));
  EXPECT_NE(ClaimIdOf(second), ClaimIdOf(first));
  EXPECT_NE(TaskIdOf(second), TaskIdOf(first));
  TS_ASSERT_OK_AND_ASSIGN(domain::Claim old, StoredClaim(ClaimIdOf(first)));
  EXPECT_EQ(old.state, domain::ClaimState::kExpired);
  TS_ASSERT_OK_AND_ASSIGN(int slots, OpenSlots(TaskIdOf(first)));
  EXPECT_EQ(slots, 1);
  TS_ASSERT_OK_AND_ASSIGN(int expired, svc().ExpireLeases());
  EXPECT_EQ(expired, 0);
}

TEST_P(ServiceTest, ScheduledPoolOpensWhenItsTimeComes) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 0));
  json body = BboxPool(0);
  body["opens_at"] = Rfc3339(clock_.Now() + absl::Hours(1));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, OpenBboxPool(req, project, 1, body));
  TS_ASSERT_OK_AND_ASSIGN(json got, svc().GetPool(req, pool));
  EXPECT_EQ(got["state"], "scheduled");  // opening schedules the release

  absl::Status early = svc().Claim(ann, pool).status();
  EXPECT_EQ(early.code(), absl::StatusCode::kFailedPrecondition) << early;
  EXPECT_THAT(std::string(early.message()), HasSubstr("opens at"));
  TS_ASSERT_OK_AND_ASSIGN(json listed, svc().ListPools(ann));
  ASSERT_EQ(listed["pools"].size(), 1u);
  EXPECT_EQ(listed["pools"][0]["can_claim"], false);
  TS_ASSERT_OK_AND_ASSIGN(int opened, svc().OpenDuePools());
  EXPECT_EQ(opened, 0);

  clock_.Advance(absl::Minutes(59));
  TS_ASSERT_OK_AND_ASSIGN(opened, svc().OpenDuePools());
  EXPECT_EQ(opened, 0);
  clock_.Advance(absl::Minutes(1));
  TS_ASSERT_OK_AND_ASSIGN(opened, svc().OpenDuePools());
  EXPECT_EQ(opened, 1);
  TS_ASSERT_OK_AND_ASSIGN(opened, svc().OpenDuePools());
  EXPECT_EQ(opened, 0);
  TS_ASSERT_OK_AND_ASSIGN(got, svc().GetPool(req, pool));
  EXPECT_EQ(got["state"], "open");
  TS_ASSERT_OK_AND_ASSIGN(json claim, ClaimTask(ann, pool));
  EXPECT_FALSE(HasKeyAnywhere(claim, "gold"));
  TS_ASSERT_OK_AND_ASSIGN(auto audit, AuditActions("pool", pool.value));
  EXPECT_THAT(
      audit, ElementsAre("pool.create", "tasks.add", "pool.open", "pool.open"));
}

TEST_P(ServiceTest, DraftWithOpensAtStaysHiddenUntilReleased) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 0));
  json body = BboxPool(0);
  body["opens_at"] = Rfc3339(clock_.Now() + absl::Hours(1));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, NewPool(req, project, body));
  clock_.Advance(absl::Hours(2));
  TS_ASSERT_OK_AND_ASSIGN(int opened, svc().OpenDuePools());
  EXPECT_EQ(opened, 0);  // never released with /open: stays a draft
  TS_ASSERT_OK_AND_ASSIGN(json listed, svc().ListPools(ann));
  EXPECT_TRUE(listed["pools"].empty());
  EXPECT_EQ(svc().Claim(ann, pool).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc().GetPool(ann, pool).status().code(),
            absl::StatusCode::kNotFound);
  TS_ASSERT_OK_AND_ASSIGN(json got, svc().GetPool(req, pool));
  EXPECT_EQ(got["state"], "draft");
}

// ----------------------------------------------------------------- visibility

TEST_P(ServiceTest, UsersSeeOnlyWhatIsTheirs) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal req2, NewUser("req2", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann2, NewUser("ann2", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 1'000));
  TS_ASSERT_OK_AND_ASSIGN(PoolId draft, NewPool(req, project, BboxPool()));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, OpenBboxPool(req, project, 2));

  TS_ASSERT_OK_AND_ASSIGN(json claim, ClaimTask(ann, pool));
  EXPECT_FALSE(HasKeyAnywhere(claim, "gold")) << claim.dump();
  EXPECT_THAT(claim.dump(), ::testing::Not(HasSubstr(kGoldMarker)));
  const ClaimId claim_id = ClaimIdOf(claim);
  const TaskId task = TaskIdOf(claim);

  // Another annotator cannot touch the claim ...
  EXPECT_EQ(svc()
                .Submit(ann2, claim_id, {{"result", BboxResult(5)}}, "")
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc().Release(ann2, claim_id).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(svc().TaskImage(ann2, task).status().code(),
            absl::StatusCode::kNotFound);
  TS_ASSERT_OK_AND_ASSIGN(std::string image, svc().TaskImage(ann, task));
  EXPECT_EQ(image, "street/0.jpg");
  TS_ASSERT_OK_AND_ASSIGN(
      json sub, svc().Submit(ann, claim_id, {{"result", BboxResult(5)}}, ""));
  const SubmissionId sid(sub["id"].get<int64_t>());
  // ... nor the submission.
  EXPECT_EQ(svc().GetSubmission(ann2, sid).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      svc().Revise(ann2, sid, {{"result", BboxResult(5)}}, "").status().code(),
      absl::StatusCode::kNotFound);
  TS_ASSERT_OK_AND_ASSIGN(json own, svc().GetSubmission(ann, sid));
  EXPECT_FALSE(HasKeyAnywhere(own, "gold")) << own.dump();
  EXPECT_THAT(own.dump(), ::testing::Not(HasSubstr(kGoldMarker)));
  TS_ASSERT_OK_AND_ASSIGN(json mine,
                          svc().ListMySubmissions(ann, std::nullopt));
  EXPECT_EQ(mine["submissions"].size(), 1u);
  TS_ASSERT_OK_AND_ASSIGN(json theirs,
                          svc().ListMySubmissions(ann2, std::nullopt));
  EXPECT_TRUE(theirs["submissions"].empty());
  EXPECT_EQ(svc().GetPool(ann, draft).status().code(),
            absl::StatusCode::kNotFound);

  // Another requester sees none of the project, its pools or its work.
  EXPECT_EQ(svc().GetProject(req2, project).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc().GetPool(req2, pool).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc().GetPool(req2, draft).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc().CreatePool(req2, project, BboxPool()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc()
                .AddTasks(req2, pool, {{"tasks", {{{"data", BboxData(9)}}}}})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc().OpenPool(req2, draft).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc().ClosePool(req2, pool).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc().PoolStats(req2, pool).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc().ExportJsonl(req2, pool).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc().GetSubmission(req2, sid).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc().TaskImage(req2, task).status().code(),
            absl::StatusCode::kNotFound);
  TS_ASSERT_OK_AND_ASSIGN(json projects, svc().ListProjects(req2));
  EXPECT_TRUE(projects["projects"].empty());
  TS_ASSERT_OK_AND_ASSIGN(json pools, svc().ListPools(req2));
  EXPECT_TRUE(pools["pools"].empty()) << pools.dump();
  // The owner does see them.
  TS_EXPECT_OK(svc().GetSubmission(req, sid));
  TS_EXPECT_OK(svc().GetPool(req, draft));
  // Roles gate the use cases.
  EXPECT_EQ(svc().CreateProject(ann, {{"name", "mine"}}).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc().Claim(req, pool).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc().ClaimReview(ann, pool).status().code(),
            absl::StatusCode::kPermissionDenied);
  // Nothing the others tried left a trace on the pool.
  TS_ASSERT_OK_AND_ASSIGN(json stats, svc().PoolStats(req, pool));
  EXPECT_EQ(stats["tasks"], 2);
}

// ------------------------------------------------------------ fault injection

class ServiceFaultTest : public ServiceTest {};

const WriteFault kBothFaults[] = {WriteFault::kFailBeforeRun,
                                  WriteFault::kFailBeforeCommit};

TEST_P(ServiceFaultTest, FailedClaimLeavesTheSlotFree) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 0));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, OpenBboxPool(req, project, 1));
  for (WriteFault fault : kBothFaults) {
    faults().FailWrite(1, fault);
    EXPECT_EQ(svc().Claim(ann, pool).status().code(),
              absl::StatusCode::kUnavailable);
    std::optional<domain::Claim> active;
    TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(active, tx.FindActiveClaim(ann.id, pool));
      return absl::OkStatus();
    }));
    EXPECT_FALSE(active.has_value());
    TS_ASSERT_OK_AND_ASSIGN(json stats, svc().PoolStats(req, pool));
    EXPECT_EQ(stats["open_slots"], 1);
    EXPECT_EQ(stats["active_claims"], 0);
  }
  TS_ASSERT_OK_AND_ASSIGN(json claim, ClaimTask(ann, pool));
  TS_ASSERT_OK_AND_ASSIGN(json stats, svc().PoolStats(req, pool));
  EXPECT_EQ(stats["open_slots"], 0);
  EXPECT_EQ(stats["active_claims"], 1);
  EXPECT_EQ(faults().injected(), 2);
}

TEST_P(ServiceFaultTest, FailedSubmitLeavesNoSubmissionAndTheClaimActive) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 0));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, OpenBboxPool(req, project, 1));
  TS_ASSERT_OK_AND_ASSIGN(json claim, ClaimTask(ann, pool));
  const ClaimId claim_id = ClaimIdOf(claim);
  const json body = {{"result", BboxResult(5)}, {"active_seconds", 12}};

  for (WriteFault fault : kBothFaults) {
    faults().FailWrite(1, fault);
    absl::Status failed = svc().Submit(ann, claim_id, body, "key-1").status();
    EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable) << failed;
    TS_ASSERT_OK_AND_ASSIGN(auto subs, StoredSubmissionsOf(ann.id));
    EXPECT_TRUE(subs.empty());
    TS_ASSERT_OK_AND_ASSIGN(domain::Claim stored, StoredClaim(claim_id));
    EXPECT_EQ(stored.state, domain::ClaimState::kActive);
    TS_ASSERT_OK_AND_ASSIGN(auto audit, AuditActions("claim", claim_id.value));
    EXPECT_THAT(audit, ElementsAre("claim.create"));
  }

  // The client retries with the same key: acknowledged once, kept once.
  TS_ASSERT_OK_AND_ASSIGN(json sub, svc().Submit(ann, claim_id, body, "key-1"));
  faults().FailWrite(1, WriteFault::kFailBeforeCommit);
  EXPECT_EQ(svc().Submit(ann, claim_id, body, "key-1").status().code(),
            absl::StatusCode::kUnavailable);
  TS_ASSERT_OK_AND_ASSIGN(json replay,
                          svc().Submit(ann, claim_id, body, "key-1"));
  EXPECT_EQ(replay["id"], sub["id"]);
  TS_ASSERT_OK_AND_ASSIGN(auto subs, StoredSubmissionsOf(ann.id));
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_EQ(subs[0].id.value, sub["id"].get<int64_t>());
  TS_ASSERT_OK_AND_ASSIGN(auto rounds, StoredRounds(subs[0].id));
  ASSERT_EQ(rounds.size(), 1u);
  EXPECT_EQ(rounds[0].active_seconds, 12);
  TS_ASSERT_OK_AND_ASSIGN(domain::Claim stored, StoredClaim(claim_id));
  EXPECT_EQ(stored.state, domain::ClaimState::kSubmitted);
  TS_ASSERT_OK_AND_ASSIGN(auto audit,
                          AuditActions("submission", subs[0].id.value));
  EXPECT_THAT(audit, ElementsAre("submission.create"));
}

TEST_P(ServiceFaultTest, FailedAcceptLeavesNoLedgerEntriesAndRetryPaysOnce) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal rev, NewUser("rev", {"reviewer"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 1'000));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool,
                          OpenBboxPool(req, project, 1, BboxPool(100)));
  TS_ASSERT_OK_AND_ASSIGN(json claim, ClaimTask(ann, pool));
  TS_ASSERT_OK_AND_ASSIGN(
      json sub,
      svc().Submit(ann, ClaimIdOf(claim), {{"result", BboxResult(5)}}, ""));
  const SubmissionId sid(sub["id"].get<int64_t>());
  TS_ASSERT_OK(LeaseReview(rev, pool));

  for (WriteFault fault : kBothFaults) {
    faults().FailWrite(1, fault);
    absl::Status failed =
        svc().Review(rev, sid, {{"verdict", "accept"}}).status();
    EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable) << failed;
    TS_ASSERT_OK_AND_ASSIGN(domain::Submission stored, StoredSubmission(sid));
    EXPECT_EQ(stored.state, domain::SubmissionState::kInReview);
    TS_ASSERT_OK_AND_ASSIGN(auto rounds, StoredRounds(sid));
    ASSERT_EQ(rounds.size(), 1u);
    EXPECT_FALSE(rounds[0].verdict.has_value());
    TS_ASSERT_OK_AND_ASSIGN(json earnings, svc().Earnings(ann));
    EXPECT_EQ(earnings["balance"]["amount_minor"], 0);
    EXPECT_TRUE(earnings["entries"].empty());
    TS_ASSERT_OK_AND_ASSIGN(int64_t remaining, Remaining(req, project));
    EXPECT_EQ(remaining, 1'000);
    TS_ASSERT_OK_AND_ASSIGN(int64_t sum, SumAllEntries());
    EXPECT_EQ(sum, 0);
    TS_ASSERT_OK_AND_ASSIGN(auto audit, AuditActions("submission", sid.value));
    EXPECT_THAT(audit, ElementsAre("submission.create", "review.lease"));
  }

  TS_ASSERT_OK_AND_ASSIGN(json accepted,
                          svc().Review(rev, sid, {{"verdict", "accept"}}));
  EXPECT_EQ(accepted["state"], "accepted");
  EXPECT_EQ(accepted["first_pass"], true);
  // A retry of the acknowledged accept does not pay twice.
  EXPECT_EQ(svc().Review(rev, sid, {{"verdict", "accept"}}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  TS_ASSERT_OK_AND_ASSIGN(json earnings, svc().Earnings(ann));
  EXPECT_EQ(earnings["balance"]["amount_minor"], 100);
  EXPECT_EQ(earnings["entries"].size(), 1u);
  TS_ASSERT_OK_AND_ASSIGN(int64_t remaining, Remaining(req, project));
  EXPECT_EQ(remaining, 900);
  TS_ASSERT_OK_AND_ASSIGN(int64_t sum, SumAllEntries());
  EXPECT_EQ(sum, 0);
  TS_ASSERT_OK_AND_ASSIGN(auto audit, AuditActions("submission", sid.value));
  EXPECT_THAT(
      audit, ElementsAre("submission.create", "review.lease", "review.accept"));
}

TEST_P(ServiceFaultTest, FailedProjectCreationLeavesNoBudget) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  for (WriteFault fault : kBothFaults) {
    faults().FailWrite(1, fault);
    EXPECT_EQ(NewProject(req, 5'000).status().code(),
              absl::StatusCode::kUnavailable);
    TS_ASSERT_OK_AND_ASSIGN(json projects, svc().ListProjects(req));
    EXPECT_TRUE(projects["projects"].empty());
    TS_ASSERT_OK_AND_ASSIGN(int64_t sum, SumAllEntries());
    EXPECT_EQ(sum, 0);
  }
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 5'000));
  TS_ASSERT_OK_AND_ASSIGN(int64_t remaining, Remaining(req, project));
  EXPECT_EQ(remaining, 5'000);
  TS_ASSERT_OK_AND_ASSIGN(json projects, svc().ListProjects(req));
  EXPECT_EQ(projects["projects"].size(), 1u);
}

// An import source over a fixed list; an entry without a value is a
// malformed line.
class ListSource final : public ImportSource {
 public:
  explicit ListSource(std::vector<absl::StatusOr<ImportItem>> items)
      : items_(std::move(items)) {}
  absl::Status Rewind() override {
    next_ = 0;
    ++rewinds_;
    return absl::OkStatus();
  }
  absl::StatusOr<bool> Next(ImportItem& item) override {
    if (next_ >= items_.size()) return false;
    const auto& entry = items_[next_++];
    if (!entry.ok()) return entry.status();
    item = *entry;
    return true;
  }
  int rewinds() const { return rewinds_; }

 private:
  std::vector<absl::StatusOr<ImportItem>> items_;
  size_t next_ = 0;
  int rewinds_ = 0;
};

ImportItem Item(int line, json data) {
  ImportItem item;
  item.where = absl::StrCat("tasks.jsonl:", line);
  item.data = std::move(data);
  return item;
}

TEST_P(ServiceTest, ImportIsAllOrNothingOrSkipsWhatIsInvalid) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal other, NewUser("other", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 0));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, NewPool(req, project, BboxPool()));
  ImportItem gold = Item(3, BboxData(3));
  gold.gold = json{{"boxes", json::array({Box("person", 1, 2, 30, 40)})}};
  std::vector<absl::StatusOr<ImportItem>> items = {
      Item(1, BboxData(1)), Item(2, BboxData(2, -5)), gold,
      absl::InvalidArgumentError("tasks.jsonl:4: not a JSON object"),
      Item(5, BboxData(1))};

  ListSource source(items);
  absl::Status failed =
      svc().ImportTasks(req, pool, source, ImportOptions{}).status();
  EXPECT_EQ(failed.code(), absl::StatusCode::kInvalidArgument) << failed;
  EXPECT_THAT(failed.message(), HasSubstr("tasks.jsonl:2"));
  EXPECT_EQ(FieldOf(failed), "data.width");
  TS_ASSERT_OK_AND_ASSIGN(json stats, svc().PoolStats(req, pool));
  EXPECT_EQ(stats["tasks"], 0);
  // Someone else's pool does not exist for them.
  EXPECT_EQ(svc().ImportTasks(other, pool, source, {}).status().code(),
            absl::StatusCode::kNotFound);

  ImportOptions skip;
  skip.skip_invalid = true;
  skip.dedupe = true;
  TS_ASSERT_OK_AND_ASSIGN(json report,
                          svc().ImportTasks(req, pool, source, skip));
  EXPECT_EQ(report["created"], 2) << report.dump();
  EXPECT_EQ(report["skipped"], 2);
  EXPECT_EQ(report["duplicates"], 1);  // line 5 repeats line 1
  EXPECT_EQ(report["gold"], 1);
  ASSERT_EQ(report["errors"].size(), 2u);
  EXPECT_THAT(report["errors"][0]["message"].get<std::string>(),
              HasSubstr("tasks.jsonl:2"));
  EXPECT_EQ(report["errors"][0]["field"], "data.width");
  EXPECT_THAT(report["errors"][1]["message"].get<std::string>(),
              HasSubstr("tasks.jsonl:4"));

  // Importing the same file again with dedupe adds nothing; without, all.
  TS_ASSERT_OK_AND_ASSIGN(json again,
                          svc().ImportTasks(req, pool, source, skip));
  EXPECT_EQ(again["created"], 0);
  EXPECT_EQ(again["duplicates"], 3);
  TS_ASSERT_OK_AND_ASSIGN(stats, svc().PoolStats(req, pool));
  EXPECT_EQ(stats["tasks"], 2);
}

TEST_P(ServiceTest, ImportedDraftsReachTheAnnotatorAndExportsWalkThePool) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal rev, NewUser("rev", {"reviewer"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 10'000));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, NewPool(req, project, BboxPool()));
  ImportItem first = Item(1, BboxData(1));
  first.draft = json{{"boxes", json::array({Box("car", 5, 5, 50, 20)})}};
  (*first.draft)["boxes"][0]["score"] = 0.75;
  first.draft_model = "opencv-hog";
  first.draft_score = 0.75;
  first.gold = json{{"boxes", json::array({Box("person", 1, 2, 33.25, 44)})}};
  ListSource source({first, Item(2, BboxData(2)), Item(3, BboxData(3))});
  TS_ASSERT_OK_AND_ASSIGN(json report,
                          svc().ImportTasks(std::nullopt, pool, source, {}));
  EXPECT_EQ(report["created"], 3);
  EXPECT_EQ(report["drafts"], 1);
  TS_ASSERT_OK(svc().OpenPool(req, pool).status());

  TS_ASSERT_OK_AND_ASSIGN(json claim, ClaimTask(ann, pool));
  EXPECT_FALSE(HasKeyAnywhere(claim, "gold")) << claim.dump();
  EXPECT_THAT(claim.dump(), ::testing::Not(HasSubstr(kGoldMarker)));
  const json& drafts = claim["task"]["preannotations"];
  ASSERT_EQ(drafts.size(), 1u) << claim.dump();
  EXPECT_EQ(drafts[0]["model"], "opencv-hog");
  EXPECT_EQ(drafts[0]["score"], 0.75);
  EXPECT_EQ(drafts[0]["result"]["boxes"][0]["label"], "car");
  TS_ASSERT_OK(
      svc()
          .Submit(ann, ClaimIdOf(claim), {{"result", BboxResult(7)}}, "k1")
          .status());
  TS_ASSERT_OK_AND_ASSIGN(SubmissionId sid, LeaseReview(rev, pool));
  TS_ASSERT_OK(svc().Review(rev, sid, {{"verdict", "accept"}}).status());

  struct Seen {
    int64_t task;
    size_t accepted, drafts;
    bool inferred;
  };
  auto walk = [&](ExportOptions options, std::string* method) {
    std::vector<Seen> seen;
    absl::Status s = svc().ExportPool(
        req, pool, options,
        [&](const ExportHeader& h) {
          EXPECT_EQ(h.pool.id, pool);
          *method = h.quality_method;
          return absl::OkStatus();
        },
        [&](const ExportTask& t) {
          seen.push_back({t.task.id.value, t.accepted.size(), t.drafts.size(),
                          t.inferred != nullptr});
          return absl::OkStatus();
        });
    EXPECT_TRUE(s.ok()) << s;
    return seen;
  };
  std::string method;
  ExportOptions raw;
  raw.page_size = 2;  // three tasks: two pages
  auto plain = walk(raw, &method);
  ASSERT_EQ(plain.size(), 3u);
  EXPECT_LT(plain[0].task, plain[1].task);
  EXPECT_LT(plain[1].task, plain[2].task);
  EXPECT_EQ(plain[0].accepted, 1u);
  EXPECT_EQ(plain[1].accepted, 0u);
  EXPECT_EQ(plain[0].drafts, 0u);  // only when asked
  EXPECT_FALSE(plain[0].inferred);
  EXPECT_EQ(method, "");
  ExportOptions full = raw;
  full.drafts = true;
  full.aggregated = true;
  auto rich = walk(full, &method);
  ASSERT_EQ(rich.size(), 3u);
  EXPECT_EQ(rich[0].drafts, 1u);
  EXPECT_TRUE(rich[0].inferred);
  EXPECT_FALSE(rich[1].inferred);
  EXPECT_EQ(method, "weighted_boxes");
  // An annotator may not export.
  EXPECT_EQ(svc()
                .ExportPool(
                    ann, pool, raw,
                    [](const ExportHeader&) { return absl::OkStatus(); },
                    [](const ExportTask&) { return absl::OkStatus(); })
                .code(),
            absl::StatusCode::kPermissionDenied);
}

// ------------------------------------------------------- work statistics

// The pool of `pools` (a ListPools body) with id `id`, or null.
json PoolItem(const json& pools, PoolId id) {
  for (const json& p : pools["pools"]) {
    if (p["id"] == id.value) return p;
  }
  return nullptr;
}

json Cny(int64_t minor) {
  return {{"amount_minor", minor}, {"currency", "CNY"}};
}

// The pool list keeps accepted work per pool for a few seconds; an accept
// in this process drops it at once (the clock does not move here).
TEST_P(ServiceTest, PoolListHourlyEstimateFollowsAnAcceptAtOnce) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal rev, NewUser("rev", {"reviewer"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 10'000));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, OpenBboxPool(req, project, 1));
  TS_ASSERT_OK_AND_ASSIGN(json c, ClaimTask(ann, pool));
  TS_ASSERT_OK(svc()
                   .Submit(ann, ClaimIdOf(c),
                           {{"result", BboxResult(10)}, {"active_seconds", 90}},
                           "")
                   .status());
  TS_ASSERT_OK_AND_ASSIGN(json before, svc().ListPools(ann));
  EXPECT_TRUE(PoolItem(before, pool)["hourly_estimate"].is_null());
  TS_ASSERT_OK_AND_ASSIGN(SubmissionId id, LeaseReview(rev, pool));
  TS_ASSERT_OK(svc().Review(rev, id, {{"verdict", "accept"}}).status());
  TS_ASSERT_OK_AND_ASSIGN(json after, svc().ListPools(ann));
  // 250 fen for 90 s of work: 10,000 fen an hour.
  EXPECT_EQ(PoolItem(after, pool)["hourly_estimate"], Cny(10'000));
}

TEST_P(ServiceTest, EarningsPoolListAndStatsCountWorkPerPoolAndHour) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann2, NewUser("ann2", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal rev, NewUser("rev", {"reviewer"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 10'000));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, OpenBboxPool(req, project, 4));
  TS_ASSERT_OK_AND_ASSIGN(PoolId idle,
                          OpenBboxPool(req, project, 1, BboxPool(100)));
  auto submit = [&](const Principal& a, int64_t seconds) -> absl::Status {
    TS_ASSIGN_OR_RETURN(json c, ClaimTask(a, pool));
    return svc()
        .Submit(a, ClaimIdOf(c),
                {{"result", BboxResult(10)}, {"active_seconds", seconds}}, "")
        .status();
  };
  auto review = [&](const json& body) -> absl::StatusOr<SubmissionId> {
    TS_ASSIGN_OR_RETURN(SubmissionId id, LeaseReview(rev, pool));
    TS_RETURN_IF_ERROR(svc().Review(rev, id, body).status());
    return id;
  };
  const json accept = {{"verdict", "accept"}};

  // Hour 0 (22:xx UTC): two first submissions.
  TS_ASSERT_OK(submit(ann, 60));
  TS_ASSERT_OK(submit(ann2, 120));
  // Hour 1: one accepted, one rejected; a returned and revised one.
  clock_.Advance(absl::Hours(1));
  TS_ASSERT_OK(review(accept).status());
  TS_ASSERT_OK(review({{"verdict", "reject"}}).status());
  TS_ASSERT_OK(submit(ann, 30));
  TS_ASSERT_OK_AND_ASSIGN(
      SubmissionId returned,
      review({{"verdict", "revise"}, {"comments", {{{"text", "tighter"}}}}}));
  TS_ASSERT_OK(svc()
                   .Revise(ann, returned,
                           {{"result", BboxResult(12)}, {"active_seconds", 90}},
                           "")
                   .status());
  // Hour 2: the revision and a zero-time submission accepted.
  clock_.Advance(absl::Hours(1));
  TS_ASSERT_OK(review(accept).status());
  TS_ASSERT_OK(submit(ann2, 0));
  TS_ASSERT_OK(review(accept).status());

  // ann: 2 accepted x 250 over 60 + 30 + 90 s = 10000 fen an hour.
  TS_ASSERT_OK_AND_ASSIGN(json earnings, svc().Earnings(ann));
  ASSERT_EQ(earnings["pools"].size(), 1u) << earnings.dump();
  EXPECT_EQ(earnings["pools"][0], json({{"pool_id", pool.value},
                                        {"pool_name", "boxes"},
                                        {"accepted", 2},
                                        {"earned", Cny(500)},
                                        {"active_seconds", 180},
                                        {"hourly", Cny(10'000)},
                                        {"topups", Cny(0)},
                                        {"hourly_with_topups", Cny(10'000)}}));
  EXPECT_EQ(earnings["balance"], Cny(500));  // the old keys stay
  // ann2: accepted work without active time has no hourly rate.
  TS_ASSERT_OK_AND_ASSIGN(json earnings2, svc().Earnings(ann2));
  ASSERT_EQ(earnings2["pools"].size(), 1u) << earnings2.dump();
  EXPECT_EQ(earnings2["pools"][0]["earned"], Cny(250));
  EXPECT_EQ(earnings2["pools"][0]["active_seconds"], 0);
  EXPECT_TRUE(earnings2["pools"][0]["hourly"].is_null());
  TS_ASSERT_OK_AND_ASSIGN(json none, svc().Earnings(rev));
  EXPECT_EQ(none["pools"], json::array());

  // The pool list: 3 accepted over 180 s → 60 s each → 250 x 60 an hour.
  TS_ASSERT_OK_AND_ASSIGN(json pools, svc().ListPools(ann));
  json item = PoolItem(pools, pool);
  ASSERT_FALSE(item.is_null()) << pools.dump();
  EXPECT_EQ(item["hourly_estimate"], Cny(15'000));
  EXPECT_EQ(item["my_work"], json({{"submitted", 2},
                                   {"accepted", 2},
                                   {"rejected", 0},
                                   {"returned", 0},
                                   {"in_review", 0},
                                   {"first_pass_accepted", 1}}));
  EXPECT_TRUE(item.contains("can_claim"));  // the old keys stay
  json idle_item = PoolItem(pools, idle);
  ASSERT_FALSE(idle_item.is_null());
  EXPECT_TRUE(idle_item["hourly_estimate"].is_null());
  EXPECT_EQ(idle_item["my_work"]["submitted"], 0);
  TS_ASSERT_OK_AND_ASSIGN(json pools2, svc().ListPools(ann2));
  EXPECT_EQ(PoolItem(pools2, pool)["my_work"],
            json({{"submitted", 2},
                  {"accepted", 1},
                  {"rejected", 1},
                  {"returned", 0},
                  {"in_review", 0},
                  {"first_pass_accepted", 1}}));

  // Stats: 48 hours ending with the current one (00:00 UTC).
  TS_ASSERT_OK_AND_ASSIGN(json stats, svc().PoolStats(req, pool));
  const json& hours = stats["throughput"];
  ASSERT_EQ(hours.size(), 48u);
  const absl::Time now_hour =
      absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now()) / 3600 * 3600);
  EXPECT_EQ(hours[47]["start"], Rfc3339(now_hour));
  EXPECT_EQ(hours[0]["start"], Rfc3339(now_hour - absl::Hours(47)));
  EXPECT_EQ(hours[45], json({{"start", Rfc3339(now_hour - absl::Hours(2))},
                             {"submitted", 2},
                             {"accepted", 0}}));
  EXPECT_EQ(hours[46]["submitted"], 2);  // a submission and its revision
  EXPECT_EQ(hours[46]["accepted"], 1);
  EXPECT_EQ(hours[47]["submitted"], 1);
  EXPECT_EQ(hours[47]["accepted"], 2);
  int64_t submitted = 0;
  for (const json& h : hours) submitted += h["submitted"].get<int64_t>();
  EXPECT_EQ(submitted, 5);
  EXPECT_EQ(stats["hourly_earnings"], json::array({100.0}));
  EXPECT_EQ(stats["budget_remaining"], Cny(10'000 - 750));
  EXPECT_EQ(stats["cost"], Cny(750));  // the old keys stay
  // Two days later the old hours have left the window.
  clock_.Advance(absl::Hours(48));
  TS_ASSERT_OK_AND_ASSIGN(json later, svc().PoolStats(req, pool));
  for (const json& h : later["throughput"]) {
    EXPECT_EQ(h["submitted"], 0) << h.dump();
    EXPECT_EQ(h["accepted"], 0) << h.dump();
  }
}

TEST_P(ServiceTest, SubmitAndClaimNextClaimsInTheSamePool) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 10'000));
  TS_ASSERT_OK_AND_ASSIGN(PoolId other, OpenBboxPool(req, project, 2));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, OpenBboxPool(req, project, 3));
  TS_ASSERT_OK_AND_ASSIGN(json first, ClaimTask(ann, pool));
  const json work = {{"result", BboxResult(10)}};

  // The submit and the next claim are one transaction: when its commit
  // fails, neither happened.
  const int64_t writes_before = faults().writes();
  faults().FailWrite(1, store::WriteFault::kFailBeforeCommit);
  EXPECT_FALSE(
      svc().SubmitAndClaimNext(ann, ClaimIdOf(first), work, "k1").ok());
  EXPECT_EQ(faults().writes() - writes_before, 1);
  TS_ASSERT_OK_AND_ASSIGN(domain::Claim unsent, StoredClaim(ClaimIdOf(first)));
  EXPECT_EQ(unsent.state, domain::ClaimState::kActive);

  TS_ASSERT_OK_AND_ASSIGN(
      json out, svc().SubmitAndClaimNext(ann, ClaimIdOf(first), work, "k1"));
  EXPECT_EQ(faults().writes() - writes_before, 2);
  EXPECT_EQ(out["state"], "pending_review");
  ASSERT_TRUE(out["next"].is_object()) << out.dump();
  EXPECT_FALSE(out.contains("next_reason"));
  EXPECT_EQ(out["next"]["claim"]["pool_id"], pool.value);
  EXPECT_NE(TaskIdOf(out["next"]), TaskIdOf(first));
  const ClaimId second = ClaimIdOf(out["next"]);
  // A retried request replays the submit and resumes the same next claim.
  TS_ASSERT_OK_AND_ASSIGN(
      json replay, svc().SubmitAndClaimNext(ann, ClaimIdOf(first), work, "k1"));
  EXPECT_EQ(replay["replayed"], true);
  EXPECT_EQ(replay["id"], out["id"]);
  EXPECT_EQ(ClaimIdOf(replay["next"]), second);

  // A failing claim (closed pool) never fails the submit.
  TS_ASSERT_OK(svc().ClosePool(req, pool).status());
  TS_ASSERT_OK_AND_ASSIGN(json last,
                          svc().SubmitAndClaimNext(ann, second, work, ""));
  EXPECT_EQ(last["state"], "pending_review");
  EXPECT_TRUE(last["next"].is_null());
  EXPECT_THAT(last["next_reason"].get<std::string>(), HasSubstr("closed"));
  TS_ASSERT_OK_AND_ASSIGN(domain::Claim stored, StoredClaim(second));
  EXPECT_EQ(stored.state, domain::ClaimState::kSubmitted);

  // No task left: next is null with a reason.
  TS_ASSERT_OK_AND_ASSIGN(json a, ClaimTask(ann, other));
  TS_ASSERT_OK_AND_ASSIGN(
      json b, svc().SubmitAndClaimNext(ann, ClaimIdOf(a), work, ""));
  ASSERT_TRUE(b["next"].is_object());
  TS_ASSERT_OK_AND_ASSIGN(
      json c, svc().SubmitAndClaimNext(ann, ClaimIdOf(b["next"]), work, ""));
  EXPECT_TRUE(c["next"].is_null());
  EXPECT_THAT(c["next_reason"].get<std::string>(), HasSubstr("no task"));
  // A failing submit still fails, and claims nothing.
  absl::Status again =
      svc().SubmitAndClaimNext(ann, ClaimIdOf(a), work, "").status();
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
}

// Runs a non-blocking service call (ClaimAsync, SubmitAsync) and waits for
// its outcome; nullopt when it declined, having called nothing.
template <typename T>
std::optional<T> AwaitAsync(
    const std::function<bool(Service::Then<T>)>& start) {
  absl::Notification done;
  std::optional<T> out;
  const bool started = start([&](Service::Later<T> later) {
    out = later();
    done.Notify();
  });
  if (!started) return std::nullopt;
  done.WaitForNotification();
  return out;
}

// The non-blocking forms give what the blocking forms give, refuse what
// they refuse (before or inside the transaction), and where the store
// cannot write without blocking (PostgreSQL) decline without running.
TEST_P(ServiceTest, AsyncClaimAndSubmitMatchTheBlockingForms) {
  using ClaimOutcome = absl::StatusOr<std::optional<ClaimResult>>;
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 10'000));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, OpenBboxPool(req, project, 3));
  auto claim = [&](const Principal& who) {
    return AwaitAsync<ClaimOutcome>([&](Service::Then<ClaimOutcome> then) {
      return svc().ClaimAsync(who, pool, std::move(then));
    });
  };
  auto submit = [&](ClaimId id, json body, std::string key, bool next) {
    return AwaitAsync<absl::StatusOr<json>>(
        [&](Service::Then<absl::StatusOr<json>> then) {
          return svc().SubmitAsync(ann, id, body, key, next, std::move(then));
        });
  };
  if (!svc().async_writes()) {
    EXPECT_FALSE(claim(ann).has_value());
    TS_ASSERT_OK_AND_ASSIGN(json c, ClaimTask(ann, pool));
    EXPECT_FALSE(submit(ClaimIdOf(c), {{"result", BboxResult(1)}}, "", false)
                     .has_value());
    TS_ASSERT_OK_AND_ASSIGN(domain::Claim stored, StoredClaim(ClaimIdOf(c)));
    EXPECT_EQ(stored.state, domain::ClaimState::kActive);
    return;
  }

  // A claim that fails to commit claims nothing.
  faults().FailWrite(1, store::WriteFault::kFailBeforeCommit);
  std::optional<ClaimOutcome> failed = claim(ann);
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->status().code(), absl::StatusCode::kUnavailable);
  TS_ASSERT_OK_AND_ASSIGN(json stats, svc().PoolStats(req, pool));
  EXPECT_EQ(stats["active_claims"], 0);

  std::optional<ClaimOutcome> first = claim(ann);
  ASSERT_TRUE(first.has_value() && first->ok() && first->value().has_value());
  EXPECT_FALSE((*first)->value().resumed);
  const json first_body = (*first)->value().body;
  // Claiming again resumes the same claim, as Claim does.
  std::optional<ClaimOutcome> again = claim(ann);
  ASSERT_TRUE(again.has_value() && again->ok() && again->value().has_value());
  EXPECT_TRUE((*again)->value().resumed);
  EXPECT_EQ(ClaimIdOf((*again)->value().body), ClaimIdOf(first_body));
  // Refused before the transaction: role, body.
  std::optional<ClaimOutcome> not_annotator = claim(req);
  ASSERT_TRUE(not_annotator.has_value());
  EXPECT_EQ(not_annotator->status().code(),
            absl::StatusCode::kPermissionDenied);
  auto no_result =
      submit(ClaimIdOf(first_body), {{"active_seconds", 3}}, "", false);
  ASSERT_TRUE(no_result.has_value());
  EXPECT_EQ(no_result->status().code(), absl::StatusCode::kInvalidArgument);
  // Refused inside it: a box outside the image.
  auto outside = submit(ClaimIdOf(first_body),
                        {{"result", BboxResult(100'000)}}, "", false);
  ASSERT_TRUE(outside.has_value());
  EXPECT_EQ(outside->status().code(), absl::StatusCode::kInvalidArgument);
  TS_ASSERT_OK_AND_ASSIGN(domain::Claim active,
                          StoredClaim(ClaimIdOf(first_body)));
  EXPECT_EQ(active.state, domain::ClaimState::kActive);

  const json work = {{"result", BboxResult(10)}, {"active_seconds", 7}};
  auto submitted = submit(ClaimIdOf(first_body), work, "key-1", true);
  ASSERT_TRUE(submitted.has_value() && submitted->ok())
      << (submitted ? submitted->status() : absl::OkStatus());
  EXPECT_EQ((**submitted)["state"], "pending_review");
  ASSERT_TRUE((**submitted)["next"].is_object()) << submitted->value().dump();
  EXPECT_NE(TaskIdOf((**submitted)["next"]), TaskIdOf(first_body));
  // A retry with the same key replays the submission and its next claim.
  auto replay = submit(ClaimIdOf(first_body), work, "key-1", true);
  ASSERT_TRUE(replay.has_value() && replay->ok());
  EXPECT_EQ((**replay)["replayed"], true);
  EXPECT_EQ((**replay)["id"], (**submitted)["id"]);
  EXPECT_EQ(ClaimIdOf((**replay)["next"]), ClaimIdOf((**submitted)["next"]));
  // Without claim_next, just the submission.
  auto plain = submit(ClaimIdOf((**submitted)["next"]), work, "", false);
  ASSERT_TRUE(plain.has_value() && plain->ok());
  EXPECT_FALSE((**plain).contains("next"));
  TS_ASSERT_OK_AND_ASSIGN(json mine,
                          svc().ListMySubmissions(ann, std::nullopt));
  EXPECT_EQ(mine["submissions"].size(), 2u) << mine.dump();
}

TEST_P(ServiceTest, ImageTasksOnlyForTheOwnerOfABboxOrClassifyPool) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal other, NewUser("other", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal ann, NewUser("ann", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(ProjectId project, NewProject(req, 0));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, NewPool(req, project, BboxPool()));
  TS_ASSERT_OK_AND_ASSIGN(PoolId rating, NewPool(req, project, RatingPool(2)));

  EXPECT_EQ(svc().CheckImageUpload(ann, pool).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc().CheckImageUpload(other, pool).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(FieldOf(svc().CheckImageUpload(req, rating)), "pool");
  EXPECT_EQ(FieldOf(svc().AddImageTask(req, rating, "a.png", 4, 3).status()),
            "pool");
  TS_ASSERT_OK(svc().CheckImageUpload(req, pool));
  TS_ASSERT_OK_AND_ASSIGN(
      json added,
      svc().AddImageTask(req, pool, "uploads/pool-1/x.png", 64, 48));
  EXPECT_EQ(added["image"], "uploads/pool-1/x.png");
  EXPECT_EQ(added["width"], 64);
  EXPECT_EQ(added["height"], 48);
  domain::Task task;
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(task,
                        tx.GetTask(TaskId(added["task_id"].get<int64_t>())));
    return absl::OkStatus();
  }));
  EXPECT_EQ(task.pool_id, pool);
  EXPECT_EQ(
      json::parse(task.data_json),
      json({{"image", "uploads/pool-1/x.png"}, {"width", 64}, {"height", 48}}));
  TS_ASSERT_OK(svc().ClosePool(req, pool).status());
  EXPECT_EQ(svc().CheckImageUpload(req, pool).code(),
            absl::StatusCode::kFailedPrecondition);
}

#ifdef TESSERA_SERVICE_TEST_POSTGRES
#define TESSERA_SERVICE_TEST_STORE store::PostgresStoreFactory()
#else
#define TESSERA_SERVICE_TEST_STORE \
  store::SqliteStoreFactory(store::sqlite::Durability::kNormal)
#endif

INSTANTIATE_TEST_SUITE_P(service, ServiceTest,
                         ::testing::Values(TESSERA_SERVICE_TEST_STORE),
                         store::StoreFactoryName);
INSTANTIATE_TEST_SUITE_P(fault, ServiceFaultTest,
                         ::testing::Values(TESSERA_SERVICE_TEST_STORE),
                         store::StoreFactoryName);

}  // namespace
}  // namespace tessera::service
