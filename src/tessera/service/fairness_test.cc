// The fairness guarantees through service::Service with a fake clock:
// appeals (a different reviewer decides; upholding accepts, pays and counts
// as accepted), hourly-floor top-ups (hand-checked, idempotent, balanced),
// guideline flags and signed work records. Built on SQLite
// (service_fairness_test) and on PostgreSQL (service_fairness_pgtest).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tessera/base/clock.h"
#include "tessera/base/status.h"
#include "tessera/service/auth.h"
#include "tessera/service/record_signing.h"
#include "tessera/service/service.h"
#include "tessera/service/service_test_base.h"
#include "tessera/store/store_conformance.h"

namespace tessera::service {
namespace {

using store::Tx;

// Monday 2026-01-05 00:00 UTC.
constexpr int64_t kMonday = 1'767'571'200;

TEST(RecordSigningTest, CanonicalBytesSortKeysWithoutSpaces) {
  EXPECT_EQ(CanonicalRecordBytes({{"b", 1}, {"a", {{"d", 2}, {"c", "x"}}}}),
            R"({"a":{"c":"x","d":2},"b":1})");
}

TEST(RecordSigningTest, SignaturesVerifyAndAnyChangeFails) {
  ASSERT_TRUE(InitCrypto().ok());
  RecordKeyPair key = NewRecordKeyPair();
  json record = {{"subject", {{"username", "ann"}}}, {"accepted", 3}};
  auto sig = SignRecord(record, key.secret_key);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_TRUE(VerifyRecord(record, *sig, key.public_key).ok());
  json changed = record;
  changed["accepted"] = 4;
  EXPECT_EQ(VerifyRecord(changed, *sig, key.public_key).code(),
            absl::StatusCode::kUnauthenticated);
  std::string bad_sig = *sig;
  bad_sig[5] = bad_sig[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(VerifyRecord(record, bad_sig, key.public_key).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyRecord(record, *sig, NewRecordKeyPair().public_key).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyRecord(record, *sig, "not a key").code(),
            absl::StatusCode::kInvalidArgument);
}

// Rejections in every "rejection_rate" factor of a standing view (the
// factor's successes), at any depth.
double RejectionsInStanding(const json& j) {
  double sum = 0;
  if (j.is_object()) {
    if (j.value("name", "") == "rejection_rate") {
      return j.value("successes", 0.0);
    }
    for (const auto& [k, v] : j.items()) sum += RejectionsInStanding(v);
  } else if (j.is_array()) {
    for (const json& v : j) sum += RejectionsInStanding(v);
  }
  return sum;
}

class FairnessTest : public ServiceTestBase {
 protected:
  FairnessTest() : ServiceTestBase(absl::FromUnixSeconds(kMonday + 3600)) {}

  void SetUp() override {
    ServiceTestBase::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto owner = NewUser("owner", {"requester"});
    auto ann = NewUser("ann", {"annotator"});
    auto bob = NewUser("bob", {"annotator"});
    auto rev1 = NewUser("rev1", {"reviewer"});
    auto rev2 = NewUser("rev2", {"reviewer"});
    auto admin = NewUser("root", {"admin"});
    ASSERT_TRUE(owner.ok() && ann.ok() && bob.ok() && rev1.ok() && rev2.ok() &&
                admin.ok());
    owner_ = *owner;
    ann_ = *ann;
    bob_ = *bob;
    rev1_ = *rev1;
    rev2_ = *rev2;
    admin_ = *admin;
  }

  // An open classify pool (price 100 minor CNY, overlap 1) with `tasks`
  // tasks in a new project with `budget`; `workforce` goes into its config.
  absl::StatusOr<PoolId> OpenPool(int tasks, int64_t budget,
                                  json workforce = nullptr,
                                  const std::string& guidelines = "") {
    TS_ASSIGN_OR_RETURN(
        json project,
        svc().CreateProject(
            owner_,
            {{"name", "fair"},
             {"guidelines", guidelines},
             {"budget", {{"amount_minor", budget}, {"currency", "CNY"}}}}));
    project_ = ProjectId(project["id"].get<int64_t>());
    json config = {{"labels", {"cat", "dog"}}};
    if (!workforce.is_null()) config["workforce"] = workforce;
    TS_ASSIGN_OR_RETURN(
        json pool, svc().CreatePool(
                       owner_, project_,
                       {{"name", "pets"},
                        {"task_type", "classify"},
                        {"config", config},
                        {"price", {{"amount_minor", 100}, {"currency", "CNY"}}},
                        {"overlap", 1},
                        {"max_rounds", 3}}));
    PoolId id(pool["id"].get<int64_t>());
    json list = json::array();
    for (int i = 0; i < tasks; ++i) {
      list.push_back({{"data", {{"text", "item " + std::to_string(i)}}}});
    }
    TS_RETURN_IF_ERROR(svc().AddTasks(owner_, id, {{"tasks", list}}).status());
    TS_RETURN_IF_ERROR(svc().OpenPool(owner_, id).status());
    return id;
  }

  // Claims and submits one task as `a`; returns the submission id.
  absl::StatusOr<SubmissionId> SubmitOne(const Principal& a, PoolId pool,
                                         const std::string& label,
                                         int64_t active_seconds) {
    TS_ASSIGN_OR_RETURN(auto claim, svc().Claim(a, pool));
    if (!claim) return absl::NotFoundError("no task to claim");
    TS_ASSIGN_OR_RETURN(
        json sub,
        svc().Submit(a, ClaimId(claim->body["claim"]["id"].get<int64_t>()),
                     {{"result", {{"label", label}}},
                      {"active_seconds", active_seconds}},
                     ""));
    return SubmissionId(sub["id"].get<int64_t>());
  }

  // `r` leases the next submission of `pool` and gives it `verdict`.
  absl::StatusOr<SubmissionId> ReviewNext(const Principal& r, PoolId pool,
                                          const std::string& verdict) {
    TS_ASSIGN_OR_RETURN(auto lease, svc().ClaimReview(r, pool));
    if (!lease) return absl::NotFoundError("nothing to review");
    SubmissionId id((*lease)["submission"]["id"].get<int64_t>());
    TS_RETURN_IF_ERROR(
        svc()
            .Review(r, id, {{"verdict", verdict}, {"comments", json::array()}})
            .status());
    return id;
  }

  int64_t ProjectBalance() {
    int64_t balance = 0;
    EXPECT_TRUE(Read([&](Tx& tx) -> absl::Status {
                  TS_ASSIGN_OR_RETURN(
                      auto account,
                      tx.FindAccount(domain::AccountKind::kProject,
                                     project_.value, "CNY"));
                  if (!account) return absl::NotFoundError("account");
                  TS_ASSIGN_OR_RETURN(balance, tx.Balance(*account));
                  return absl::OkStatus();
                }).ok());
    return balance;
  }
  int64_t JournalSum() {
    int64_t sum = -1;
    EXPECT_TRUE(Read([&](Tx& tx) -> absl::Status {
                  TS_ASSIGN_OR_RETURN(sum, tx.SumAllEntries());
                  return absl::OkStatus();
                }).ok());
    return sum;
  }

  Principal owner_, ann_, bob_, rev1_, rev2_, admin_;
  ProjectId project_;
};

TEST_P(FairnessTest, UpheldAppealReversesRejectionPaysAndCountsAsAccepted) {
  auto pool = OpenPool(1, 1000);
  ASSERT_TRUE(pool.ok()) << pool.status();
  auto sub = SubmitOne(ann_, *pool, "cat", 30);
  ASSERT_TRUE(sub.ok()) << sub.status();
  // Not rejected yet: no appeal.
  EXPECT_EQ(
      svc().AppealSubmission(ann_, *sub, {{"note", "why?"}}).status().code(),
      absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(ReviewNext(rev1_, *pool, "reject").ok());
  ASSERT_EQ(ProjectBalance(), 1000);
  auto standing_before = svc().MyStanding(ann_);
  ASSERT_TRUE(standing_before.ok()) << standing_before.status();
  EXPECT_GT(RejectionsInStanding(*standing_before), 0);

  auto blank = svc().AppealSubmission(ann_, *sub, {{"note", "   "}});
  EXPECT_EQ(blank.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(blank.status()), "note");
  EXPECT_EQ(
      svc().AppealSubmission(bob_, *sub, {{"note", "mine"}}).status().code(),
      absl::StatusCode::kNotFound);
  auto appeal = svc().AppealSubmission(
      ann_, *sub, {{"note", "the image shows a cat; see section 2"}});
  ASSERT_TRUE(appeal.ok()) << appeal.status();
  EXPECT_EQ((*appeal)["state"], "open");
  const int64_t appeal_id = (*appeal)["id"].get<int64_t>();
  EXPECT_EQ(
      svc().AppealSubmission(ann_, *sub, {{"note", "again"}}).status().code(),
      absl::StatusCode::kFailedPrecondition);

  // Annotators cannot list appeals; reviewers see who rejected.
  EXPECT_EQ(svc().ListAppeals(ann_, "open").status().code(),
            absl::StatusCode::kPermissionDenied);
  auto listed = svc().ListAppeals(rev2_, "open");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ((*listed)["appeals"].size(), 1u);
  const json& open = (*listed)["appeals"][0];
  EXPECT_EQ(open["rejected_by"]["id"], rev1_.id.value);
  EXPECT_EQ(open["note"], "the image shows a cat; see section 2");
  EXPECT_EQ(open["submission"]["rounds"].size(), 1u);
  EXPECT_TRUE(open["may_decide"].get<bool>());
  EXPECT_FALSE((*svc().ListAppeals(rev1_, "open"))["appeals"][0]["may_decide"]
                   .get<bool>());

  // The rejecting reviewer may not decide.
  auto same = svc().DecideAppeal(rev1_, appeal_id, {{"decision", "uphold"}});
  EXPECT_EQ(same.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc()
                .DecideAppeal(rev2_, appeal_id, {{"decision", "maybe"}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);

  auto decided = svc().DecideAppeal(
      rev2_, appeal_id, {{"decision", "uphold"}, {"note", "it is a cat"}});
  ASSERT_TRUE(decided.ok()) << decided.status();
  EXPECT_EQ((*decided)["state"], "upheld");
  EXPECT_EQ((*decided)["decided_by"], rev2_.id.value);
  EXPECT_EQ((*decided)["payment"]["amount"]["amount_minor"], 100);

  auto s = svc().GetSubmission(ann_, *sub);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)["state"], "accepted");
  EXPECT_FALSE((*s)["first_pass"].get<bool>());
  EXPECT_EQ((*s)["rounds"][0]["verdict"], "reject");  // the history stays

  // Paid once, from the project's budget, in a balanced journal.
  auto earnings = svc().Earnings(ann_);
  ASSERT_TRUE(earnings.ok());
  EXPECT_EQ((*earnings)["balance"]["amount_minor"], 100);
  ASSERT_EQ((*earnings)["entries"].size(), 1u);
  EXPECT_EQ((*earnings)["entries"][0]["kind"], "task_payment");
  EXPECT_NE((*earnings)["entries"][0]["memo"].get<std::string>().find(
                "appeal " + std::to_string(appeal_id)),
            std::string::npos);
  EXPECT_EQ(ProjectBalance(), 900);
  EXPECT_EQ(JournalSum(), 0);

  // Standing counts it as accepted, not rejected.
  auto me = svc().Me(ann_);
  ASSERT_TRUE(me.ok());
  EXPECT_EQ((*me)["standing"]["accepted"], 1);
  EXPECT_EQ((*me)["standing"]["rejected"], 0);

  // The standing score no longer counts a rejection.
  auto standing_after = svc().MyStanding(ann_);
  ASSERT_TRUE(standing_after.ok()) << standing_after.status();
  EXPECT_EQ(RejectionsInStanding(*standing_after), 0);

  // The task's slot, given back at the rejection, is taken again.
  ASSERT_TRUE(
      Read([&](Tx& tx) -> absl::Status {
        TS_ASSIGN_OR_RETURN(domain::Submission sub_row, tx.GetSubmission(*sub));
        TS_ASSIGN_OR_RETURN(domain::Task task, tx.GetTask(sub_row.task_id));
        EXPECT_EQ(task.open_slots, 0);
        TS_ASSIGN_OR_RETURN(auto audit, tx.ListAudit("appeal", appeal_id));
        EXPECT_EQ(audit.size(), 2u);  // create, uphold
        return absl::OkStatus();
      }).ok());

  // Decided once.
  EXPECT_EQ(svc()
                .DecideAppeal(admin_, appeal_id, {{"decision", "deny"}})
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  auto mine = svc().ListMyAppeals(ann_);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ((*mine)["appeals"].size(), 1u);
  EXPECT_EQ((*mine)["appeals"][0]["state"], "upheld");
  EXPECT_EQ((*mine)["appeals"][0]["submission_state"], "accepted");
  EXPECT_EQ((*svc().ListAppeals(rev2_, "open"))["appeals"].size(), 0u);
}

TEST_P(FairnessTest, DeniedAppealStaysRejectedAndPaysNothing) {
  auto pool = OpenPool(1, 1000);
  ASSERT_TRUE(pool.ok()) << pool.status();
  auto sub = SubmitOne(ann_, *pool, "dog", 30);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(ReviewNext(rev1_, *pool, "reject").ok());
  auto appeal = svc().AppealSubmission(ann_, *sub, {{"note", "please"}});
  ASSERT_TRUE(appeal.ok());
  auto decided = svc().DecideAppeal(rev2_, (*appeal)["id"].get<int64_t>(),
                                    {{"decision", "deny"}});
  ASSERT_TRUE(decided.ok()) << decided.status();
  EXPECT_EQ((*decided)["state"], "denied");
  EXPECT_TRUE((*decided)["payment"].is_null());
  EXPECT_EQ((*svc().GetSubmission(ann_, *sub))["state"], "rejected");
  EXPECT_EQ(ProjectBalance(), 1000);
  EXPECT_EQ((*svc().Me(ann_))["standing"]["rejected"], 1);
  // One appeal per submission, even after a denial.
  EXPECT_EQ(
      svc().AppealSubmission(ann_, *sub, {{"note", "again"}}).status().code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST_P(FairnessTest, AdminWhoRejectedMustAlsoLeaveTheAppealToAnother) {
  auto pool = OpenPool(1, 1000);
  ASSERT_TRUE(pool.ok());
  auto sub = SubmitOne(ann_, *pool, "dog", 30);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(ReviewNext(admin_, *pool, "reject").ok());
  auto appeal = svc().AppealSubmission(ann_, *sub, {{"note", "please"}});
  ASSERT_TRUE(appeal.ok());
  const int64_t id = (*appeal)["id"].get<int64_t>();
  EXPECT_EQ(
      svc().DecideAppeal(admin_, id, {{"decision", "uphold"}}).status().code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(
      svc().DecideAppeal(ann_, id, {{"decision", "uphold"}}).status().code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(svc().DecideAppeal(rev1_, id, {{"decision", "uphold"}}).ok());
}

TEST_P(FairnessTest, UpholdFailsWholeWhenTheBudgetCannotPay) {
  auto pool = OpenPool(2, 100);
  ASSERT_TRUE(pool.ok());
  auto first = SubmitOne(ann_, *pool, "dog", 30);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(ReviewNext(rev1_, *pool, "reject").ok());
  auto second = SubmitOne(bob_, *pool, "cat", 30);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(ReviewNext(rev1_, *pool, "accept").ok());  // spends the budget
  auto appeal = svc().AppealSubmission(ann_, *first, {{"note", "please"}});
  ASSERT_TRUE(appeal.ok());
  const int64_t id = (*appeal)["id"].get<int64_t>();
  EXPECT_EQ(
      svc().DecideAppeal(rev2_, id, {{"decision", "uphold"}}).status().code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*svc().GetSubmission(ann_, *first))["state"], "rejected");
  EXPECT_EQ((*svc().ListMyAppeals(ann_))["appeals"][0]["state"], "open");
  EXPECT_EQ(JournalSum(), 0);
}

// Floor 12.00/h, price 1.00 per task. In the week of 2026-01-05 ann has
// three accepted tasks of 600 s (0.5 h: due 6.00, paid 3.00, top-up 3.00)
// and one rejected task of 3,000 s (not counted); bob two of 60 s (due 0.40,
// paid 2.00: none).
TEST_P(FairnessTest, FloorTopUpsAreHandCheckedIdempotentAndBalanced) {
  auto pool = OpenPool(
      10, 10'000,
      {{"hourly_floor", {{"amount_minor", 1200}, {"currency", "CNY"}}}});
  ASSERT_TRUE(pool.ok()) << pool.status();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(SubmitOne(ann_, *pool, "cat", 600).ok());
    ASSERT_TRUE(ReviewNext(rev1_, *pool, "accept").ok());
  }
  ASSERT_TRUE(SubmitOne(ann_, *pool, "cat", 3000).ok());
  ASSERT_TRUE(ReviewNext(rev1_, *pool, "reject").ok());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(SubmitOne(bob_, *pool, "dog", 60).ok());
    ASSERT_TRUE(ReviewNext(rev1_, *pool, "accept").ok());
  }
  ASSERT_EQ(ProjectBalance(), 10'000 - 500);

  // The week has not ended.
  EXPECT_EQ(svc().SettleFloor(owner_, *pool, "2026-01-07").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(svc().SettleFloor(owner_, *pool, "07/01/2026").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(svc().SettleFloor(ann_, *pool, "2026-01-07").status().code(),
            absl::StatusCode::kPermissionDenied);

  clock_.Advance(absl::Hours(24 * 7));
  auto settled = svc().SettleFloor(owner_, *pool, "2026-01-07");
  ASSERT_TRUE(settled.ok()) << settled.status();
  EXPECT_EQ((*settled)["week_start"], "2026-01-05T00:00:00Z");
  ASSERT_EQ((*settled)["topups"].size(), 1u);
  const json& t = (*settled)["topups"][0];
  EXPECT_EQ(t["annotator_id"], ann_.id.value);
  EXPECT_EQ(t["accepted"], 3);
  EXPECT_EQ(t["active_seconds"], 1800);
  EXPECT_EQ(t["paid"]["amount_minor"], 300);
  EXPECT_EQ(t["due"]["amount_minor"], 600);
  EXPECT_EQ(t["amount"]["amount_minor"], 300);
  EXPECT_TRUE(t["settled_now"].get<bool>());
  EXPECT_EQ(ProjectBalance(), 10'000 - 500 - 300);
  EXPECT_EQ(JournalSum(), 0);

  // Again (HTTP and the job): nothing more is credited.
  auto again = svc().SettleFloor(owner_, *pool, "2026-01-05");
  ASSERT_TRUE(again.ok());
  ASSERT_EQ((*again)["topups"].size(), 1u);
  EXPECT_FALSE((*again)["topups"][0]["settled_now"].get<bool>());
  auto job = svc().SettleEndedFloorWeeks();
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(*job, 0);
  EXPECT_EQ(ProjectBalance(), 10'000 - 800);

  // Earnings show the top-up and the hourly rate with it: (3.00 + 3.00) per
  // 0.5 h = 12.00/h.
  auto earnings = svc().Earnings(ann_);
  ASSERT_TRUE(earnings.ok());
  EXPECT_EQ((*earnings)["balance"]["amount_minor"], 600);
  ASSERT_EQ((*earnings)["pools"].size(), 1u);
  const json& entry = (*earnings)["pools"][0];
  EXPECT_EQ(entry["earned"]["amount_minor"], 300);
  EXPECT_EQ(entry["topups"]["amount_minor"], 300);
  EXPECT_EQ(entry["hourly"]["amount_minor"], 600);
  EXPECT_EQ(entry["hourly_with_topups"]["amount_minor"], 1200);
  bool saw_topup = false;
  for (const json& e : (*earnings)["entries"]) {
    saw_topup = saw_topup || e["kind"] == "floor_topup";
  }
  EXPECT_TRUE(saw_topup);
  EXPECT_EQ((*svc().Earnings(bob_))["pools"][0]["topups"]["amount_minor"], 0);

  // The second week is settled by the job once it has ended: bob, 1 task of
  // 900 s (due 3.00, paid 1.00: top-up 2.00).
  ASSERT_TRUE(SubmitOne(bob_, *pool, "dog", 900).ok());
  ASSERT_TRUE(ReviewNext(rev1_, *pool, "accept").ok());
  EXPECT_EQ(*svc().SettleEndedFloorWeeks(), 0);  // its week is running
  clock_.Advance(absl::Hours(24 * 7));
  EXPECT_EQ(*svc().SettleEndedFloorWeeks(), 1);
  EXPECT_EQ(*svc().SettleEndedFloorWeeks(), 0);
  EXPECT_EQ(ProjectBalance(), 10'000 - 800 - 100 - 200);
  EXPECT_EQ(JournalSum(), 0);
}

TEST_P(FairnessTest, FloorNeedsAFloorAndReportsWhatTheBudgetCannotPay) {
  auto plain = OpenPool(1, 1000);
  ASSERT_TRUE(plain.ok());
  clock_.Advance(absl::Hours(24 * 7));
  EXPECT_EQ(svc().SettleFloor(owner_, *plain, "2026-01-05").status().code(),
            absl::StatusCode::kFailedPrecondition);

  // Budget 150: the task's 1.00 is paid, the 10.00 top-up is not.
  auto pool = OpenPool(
      1, 150,
      {{"hourly_floor", {{"amount_minor", 1200}, {"currency", "CNY"}}}});
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE(SubmitOne(ann_, *pool, "cat", 3300).ok());
  ASSERT_TRUE(ReviewNext(rev1_, *pool, "accept").ok());
  clock_.Advance(absl::Hours(24 * 7));
  auto settled = svc().SettleFloor(owner_, *pool, "2026-01-12");
  ASSERT_TRUE(settled.ok()) << settled.status();
  EXPECT_EQ((*settled)["topups"].size(), 0u);
  ASSERT_EQ((*settled)["unpaid"].size(), 1u);
  EXPECT_EQ((*settled)["unpaid"][0]["amount"]["amount_minor"], 1000);
  EXPECT_EQ(ProjectBalance(), 50);
  EXPECT_EQ(JournalSum(), 0);
}

TEST_P(FairnessTest, FlagsGroupBySectionWithDisagreement) {
  auto pool = OpenPool(3, 1000, nullptr,
                       "# Pets\nLabel the animal.\n## Edge cases\nCartoons "
                       "count.\n## Mixed images\n");
  ASSERT_TRUE(pool.ok()) << pool.status();
  auto claim = svc().Claim(ann_, *pool);
  ASSERT_TRUE(claim.ok() && *claim);
  const TaskId task((*claim)->body["task"]["id"].get<int64_t>());

  auto flag = svc().FlagTask(
      ann_, task,
      {{"section", "edge cases"}, {"note", "is a drawing of a cat a cat?"}});
  ASSERT_TRUE(flag.ok()) << flag.status();
  EXPECT_EQ((*flag)["section"], "Edge cases");
  auto unknown = svc().FlagTask(ann_, task, {{"section", "Colours"}});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(unknown.status()), "section");
  EXPECT_EQ(FieldOf(svc().FlagTask(ann_, task, {{"section", " "}}).status()),
            "section");
  // Not bob's task.
  EXPECT_EQ(svc().FlagTask(bob_, task, {{"section", "Pets"}}).status().code(),
            absl::StatusCode::kNotFound);

  // Submitted work can be flagged too.
  ASSERT_TRUE(svc()
                  .Submit(ann_,
                          ClaimId((*claim)->body["claim"]["id"].get<int64_t>()),
                          {{"result", {{"label", "cat"}}}}, "")
                  .ok());
  ASSERT_TRUE(SubmitOne(bob_, *pool, "dog", 10).ok());  // another task
  ASSERT_TRUE(
      svc()
          .FlagTask(ann_, task, {{"section", "Mixed images"}, {"note", ""}})
          .ok());

  EXPECT_EQ(svc().ListPoolFlags(ann_, *pool).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto flags = svc().ListPoolFlags(owner_, *pool);
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ((*flags)["flags"], 2);
  EXPECT_TRUE((*flags)["snapshot_version"].is_null());
  ASSERT_EQ((*flags)["sections"].size(), 2u);
  const json& edge = (*flags)["sections"][0];
  EXPECT_EQ(edge["section"], "Edge cases");
  EXPECT_EQ(edge["count"], 1);
  EXPECT_EQ(edge["notes"][0]["note"], "is a drawing of a cat a cat?");
  ASSERT_EQ(edge["tasks"].size(), 1u);
  EXPECT_EQ(edge["tasks"][0]["task_id"], task.value);
  const json& d = edge["tasks"][0]["disagreement"];
  EXPECT_EQ(d["source"], "answers");
  EXPECT_EQ(d["answers"], 1);
  EXPECT_EQ(d["disagreement"], 0.0);

  // With a quality snapshot the disagreement comes from it.
  ASSERT_TRUE(svc().Aggregate(owner_, *pool).ok());
  auto after = svc().ListPoolFlags(owner_, *pool);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)["snapshot_version"], 1);
  const json& d2 = (*after)["sections"][0]["tasks"][0]["disagreement"];
  EXPECT_EQ(d2["source"], "quality_snapshot");
  EXPECT_EQ(d2["label"], "cat");
  EXPECT_TRUE(d2["confidence"].is_number());
  EXPECT_NEAR(d2["disagreement"].get<double>(),
              1.0 - d2["confidence"].get<double>(), 1e-12);
}

TEST_P(FairnessTest, WorkRecordIsSignedWithOneStableKey) {
  auto pool = OpenPool(3, 1000);
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE(SubmitOne(ann_, *pool, "cat", 30).ok());
  ASSERT_TRUE(ReviewNext(rev1_, *pool, "accept").ok());
  ASSERT_TRUE(SubmitOne(ann_, *pool, "cat", 30).ok());
  ASSERT_TRUE(ReviewNext(rev1_, *pool, "reject").ok());

  ASSERT_TRUE(svc()
                  .PutMyProfile(ann_, {{"domains", {"law", "finance"}},
                                       {"profession", "paralegal"}})
                  .ok());
  auto record = svc().WorkRecord(ann_);
  ASSERT_TRUE(record.ok()) << record.status();
  auto key = svc().RecordKey();
  ASSERT_TRUE(key.ok());
  EXPECT_EQ((*key)["algorithm"], "Ed25519");
  EXPECT_EQ((*record)["key_id"], (*key)["key_id"]);
  // A second service on the same database uses the same key.
  Service other(store(), clock_);
  EXPECT_EQ((*other.RecordKey())["public_key"], (*key)["public_key"]);

  const json& r = (*record)["record"];
  EXPECT_EQ(r["issuer"], "tessera");
  EXPECT_EQ(r["subject"]["username"], "ann");
  EXPECT_EQ(r["subject"]["user_id"], ann_.id.value);
  EXPECT_EQ(r["issued_at"], Rfc3339(clock_.Now()));
  EXPECT_EQ(r["domains"], json({"finance", "law"}));
  ASSERT_EQ(r["volumes"].size(), 1u);
  EXPECT_EQ(r["volumes"][0]["task_type"], "classify");
  EXPECT_EQ(r["volumes"][0]["domain"], "general");
  EXPECT_EQ(r["volumes"][0]["submitted"], 2);
  EXPECT_EQ(r["totals"]["accepted"], 1);
  EXPECT_EQ(r["totals"]["rejected"], 1);
  EXPECT_EQ(r["acceptance_rate"], 0.5);
  EXPECT_TRUE(r["gold"]["accuracy"].is_null());

  const std::string pk = (*key)["public_key"];
  const std::string sig = (*record)["signature"];
  EXPECT_TRUE(VerifyRecord(r, sig, pk).ok());
  json tampered = r;
  tampered["totals"]["rejected"] = 0;
  EXPECT_FALSE(VerifyRecord(tampered, sig, pk).ok());
  tampered = r;
  tampered["subject"]["username"] = "anm";
  EXPECT_FALSE(VerifyRecord(tampered, sig, pk).ok());
}

#ifdef TESSERA_SERVICE_TEST_POSTGRES
#define TESSERA_FAIRNESS_TEST_STORE store::PostgresStoreFactory()
#else
#define TESSERA_FAIRNESS_TEST_STORE \
  store::SqliteStoreFactory(store::sqlite::Durability::kNormal)
#endif

INSTANTIATE_TEST_SUITE_P(fairness, FairnessTest,
                         ::testing::Values(TESSERA_FAIRNESS_TEST_STORE),
                         store::StoreFactoryName);

}  // namespace
}  // namespace tessera::service
