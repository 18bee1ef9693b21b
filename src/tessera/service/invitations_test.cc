// Invitations to review through service::Service with a fake clock: only
// admins invite, only reviewer-eligible annotators, accepting grants the
// reviewer role (and the reviewer desk), declining changes nothing, an
// invitation is decided once and only by its user. Built on SQLite
// (service_invitations_test) and PostgreSQL (service_invitations_pgtest).
#include <memory>
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

class InvitationServiceTest : public ServiceTestBase {
 protected:
  void SetUp() override {
    ServiceTestBase::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // Low thresholds, so three accepted tasks make an annotator reviewer
    // eligible.
    domain::StandingPolicy policy;
    policy.contributor_min_reviewed = 1;
    policy.quality_min_reviewed = 2;
    policy.quality_min_score = 0.5;
    policy.reviewer_min_reviewed = 3;
    policy.reviewer_min_score = 0.5;
    svc().SetStandingPolicy(policy);
    TS_ASSERT_OK_AND_ASSIGN(admin_, NewUser("boss", {"admin"}));
    TS_ASSERT_OK_AND_ASSIGN(req_, NewUser("req", {"requester"}));
    TS_ASSERT_OK_AND_ASSIGN(rev_, NewUser("rev", {"reviewer"}));
    TS_ASSERT_OK_AND_ASSIGN(
        json project,
        svc().CreateProject(
            req_,
            {{"name", "P"},
             {"guidelines", "g"},
             {"budget", {{"amount_minor", 1'000'000}, {"currency", "CNY"}}}}));
    project_ = ProjectId(project["id"].get<int64_t>());
  }

  // The principal behind a fresh login (roles as stored).
  absl::StatusOr<Principal> SignIn(const std::string& name) {
    TS_ASSIGN_OR_RETURN(
        json login,
        svc().Login({{"username", name}, {"password", "password-123"}}));
    return svc().Authenticate(login["token"].get<std::string>());
  }

  // An open classify pool of `tasks` tasks.
  absl::StatusOr<PoolId> Pool(int tasks) {
    TS_ASSIGN_OR_RETURN(
        json pool,
        svc().CreatePool(
            req_, project_,
            {{"name", "cats"},
             {"task_type", "classify"},
             {"config", {{"labels", {"cat", "dog"}}}},
             {"price", {{"amount_minor", 10}, {"currency", "CNY"}}}}));
    PoolId id(pool["id"].get<int64_t>());
    json list = json::array();
    for (int i = 0; i < tasks; ++i) {
      list.push_back({{"data", {{"text", absl::StrCat("item ", i)}}}});
    }
    TS_RETURN_IF_ERROR(svc().AddTasks(req_, id, {{"tasks", list}}).status());
    TS_RETURN_IF_ERROR(svc().OpenPool(req_, id).status());
    return id;
  }
  absl::Status Work(const Principal& a, PoolId pool) {
    TS_ASSIGN_OR_RETURN(auto c, svc().Claim(a, pool));
    if (!c) return absl::NotFoundError("no task");
    return svc()
        .Submit(a, ClaimId(c->body["claim"]["id"].get<int64_t>()),
                {{"result", {{"label", "cat"}}}}, "")
        .status();
  }
  // `a` does `n` tasks in a fresh pool, all accepted by the reviewer.
  absl::Status Record(const Principal& a, int n) {
    TS_ASSIGN_OR_RETURN(PoolId pool, Pool(n));
    for (int i = 0; i < n; ++i) TS_RETURN_IF_ERROR(Work(a, pool));
    while (true) {
      TS_ASSIGN_OR_RETURN(auto lease, svc().ClaimReview(rev_, pool));
      if (!lease) break;
      TS_RETURN_IF_ERROR(
          svc()
              .Review(rev_,
                      SubmissionId((*lease)["submission"]["id"].get<int64_t>()),
                      {{"verdict", "accept"}})
              .status());
    }
    clock_.Advance(absl::Seconds(10));  // past the standing cache
    return absl::OkStatus();
  }
  // An annotator whose overall tier is reviewer_eligible.
  absl::StatusOr<Principal> Eligible(const std::string& name) {
    TS_ASSIGN_OR_RETURN(Principal a, NewUser(name, {"annotator"}));
    TS_RETURN_IF_ERROR(Record(a, 3));
    return a;
  }
  int64_t CountInvitations(UserId user) {
    int64_t n = -1;
    TS_EXPECT_OK(Read([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(auto rows, tx.ListReviewerInvitations(user));
      n = static_cast<int64_t>(rows.size());
      return absl::OkStatus();
    }));
    return n;
  }

  Principal admin_, req_, rev_;
  ProjectId project_;
};

TEST_P(InvitationServiceTest, OnlyAdminsInvite) {
  TS_ASSERT_OK_AND_ASSIGN(Principal a, Eligible("a"));
  for (const Principal* who : {&a, &req_, &rev_}) {
    auto r = svc().InviteReviewer(*who, a.id, json::object());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied)
        << who->username;
  }
  EXPECT_EQ(CountInvitations(a.id), 0);
  EXPECT_EQ(svc()
                .InviteReviewer(admin_, UserId(999999), json::object())
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_P(InvitationServiceTest, NotEligibleIsRefusedAndNothingIsWritten) {
  TS_ASSERT_OK_AND_ASSIGN(Principal a, NewUser("a", {"annotator"}));
  TS_ASSERT_OK(Record(a, 1));  // contributor
  auto r = svc().InviteReviewer(admin_, a.id, {{"note", "hi"}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("reviewer_eligible"));
  EXPECT_THAT(r.status().message(), HasSubstr("a's tier is contributor"));
  EXPECT_EQ(CountInvitations(a.id), 0);
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto audit, tx.ListAudit("reviewer_invitation", 1));
    EXPECT_TRUE(audit.empty());
    return absl::OkStatus();
  }));
}

TEST_P(InvitationServiceTest, AcceptGrantsTheReviewerDesk) {
  TS_ASSERT_OK_AND_ASSIGN(Principal a, Eligible("a"));
  TS_ASSERT_OK_AND_ASSIGN(json standing, svc().MyStanding(a));
  EXPECT_EQ(standing["overall"]["tier"], "reviewer_eligible");
  EXPECT_THAT(standing["overall"]["hints"].dump(),
              HasSubstr("an admin can invite you to review"));
  // A session cached before the role changes.
  TS_ASSERT_OK_AND_ASSIGN(
      json login,
      svc().Login({{"username", "a"}, {"password", "password-123"}}));
  const std::string token = login["token"];
  TS_ASSERT_OK_AND_ASSIGN(Principal cached, svc().Authenticate(token));
  EXPECT_FALSE(cached.Has(domain::Role::kReviewer));

  TS_ASSERT_OK_AND_ASSIGN(
      json inv, svc().InviteReviewer(admin_, a.id, {{"note", "welcome"}}));
  EXPECT_EQ(inv["user_id"], a.id.value);
  EXPECT_EQ(inv["invited_by"], admin_.id.value);
  EXPECT_EQ(inv["note"], "welcome");
  EXPECT_EQ(inv["state"], "pending");
  EXPECT_TRUE(inv["decided_at"].is_null());
  // A second one while this one is pending.
  EXPECT_EQ(svc().InviteReviewer(admin_, a.id, json::object()).status().code(),
            absl::StatusCode::kAlreadyExists);

  TS_ASSERT_OK_AND_ASSIGN(json mine, svc().ListMyInvitations(a));
  ASSERT_EQ(mine["invitations"].size(), 1u);
  EXPECT_EQ(mine["invitations"][0], inv);
  TS_ASSERT_OK_AND_ASSIGN(json others, svc().ListMyInvitations(rev_));
  EXPECT_TRUE(others["invitations"].empty());

  // Not yet a reviewer: the desk is closed.
  TS_ASSERT_OK_AND_ASSIGN(Principal b, NewUser("b", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool, Pool(1));
  TS_ASSERT_OK(Work(b, pool));
  EXPECT_EQ(svc().ClaimReview(a, pool).status().code(),
            absl::StatusCode::kPermissionDenied);

  clock_.Advance(absl::Seconds(1));
  const int64_t id = inv["id"];
  TS_ASSERT_OK_AND_ASSIGN(json accepted, svc().DecideInvitation(a, id, true));
  EXPECT_EQ(accepted["state"], "accepted");
  EXPECT_EQ(accepted["decided_at"], Rfc3339(clock_.Now()));

  // The stored roles, and the cached session, now include reviewer.
  TS_ASSERT_OK_AND_ASSIGN(Principal again, svc().Authenticate(token));
  EXPECT_TRUE(again.Has(domain::Role::kReviewer));
  EXPECT_TRUE(again.Has(domain::Role::kAnnotator));
  TS_ASSERT_OK_AND_ASSIGN(Principal fresh, SignIn("a"));
  EXPECT_TRUE(fresh.Has(domain::Role::kReviewer));
  TS_ASSERT_OK_AND_ASSIGN(auto lease, svc().ClaimReview(fresh, pool));
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ((*lease)["submission"]["annotator_id"], b.id.value);

  // Decided once; a reviewer is not invited again.
  EXPECT_EQ(svc().DecideInvitation(a, id, true).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(svc().DecideInvitation(a, id, false).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto re = svc().InviteReviewer(admin_, a.id, json::object());
  EXPECT_EQ(re.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(re.status().message(), HasSubstr("already a reviewer"));

  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto audit, tx.ListAudit("reviewer_invitation", id));
    EXPECT_EQ(audit.size(), 2u);
    if (audit.size() == 2) {
      EXPECT_EQ(audit[0].action, "reviewer.invite");
      EXPECT_EQ(audit[0].actor, std::optional<UserId>(admin_.id));
      EXPECT_EQ(audit[1].action, "reviewer.invitation_accept");
      EXPECT_EQ(audit[1].actor, std::optional<UserId>(a.id));
    }
    return absl::OkStatus();
  }));
}

TEST_P(InvitationServiceTest, DeclineLeavesRolesUnchanged) {
  TS_ASSERT_OK_AND_ASSIGN(Principal a, Eligible("a"));
  TS_ASSERT_OK_AND_ASSIGN(json inv,
                          svc().InviteReviewer(admin_, a.id, json::object()));
  EXPECT_EQ(inv["note"], "");
  TS_ASSERT_OK_AND_ASSIGN(json declined,
                          svc().DecideInvitation(a, inv["id"], false));
  EXPECT_EQ(declined["state"], "declined");
  EXPECT_FALSE(declined["decided_at"].is_null());
  TS_ASSERT_OK_AND_ASSIGN(Principal fresh, SignIn("a"));
  EXPECT_EQ(fresh.roles, std::vector<domain::Role>{domain::Role::kAnnotator});
  EXPECT_EQ(svc().DecideInvitation(a, inv["id"], true).status().code(),
            absl::StatusCode::kFailedPrecondition);
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto audit, tx.ListAudit("reviewer_invitation",
                                                 inv["id"].get<int64_t>()));
    EXPECT_EQ(audit.size(), 2u);
    if (audit.size() == 2) {
      EXPECT_EQ(audit[1].action, "reviewer.invitation_decline");
    }
    return absl::OkStatus();
  }));
  // Declined: the admin may invite again, newest listed first.
  TS_ASSERT_OK_AND_ASSIGN(json second,
                          svc().InviteReviewer(admin_, a.id, json::object()));
  TS_ASSERT_OK_AND_ASSIGN(json mine, svc().ListMyInvitations(a));
  ASSERT_EQ(mine["invitations"].size(), 2u);
  EXPECT_EQ(mine["invitations"][0]["id"], second["id"]);
  EXPECT_EQ(mine["invitations"][1]["state"], "declined");
}

TEST_P(InvitationServiceTest, SomeoneElsesInvitationIsNotFound) {
  TS_ASSERT_OK_AND_ASSIGN(Principal a, Eligible("a"));
  TS_ASSERT_OK_AND_ASSIGN(Principal b, NewUser("b", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(json inv,
                          svc().InviteReviewer(admin_, a.id, json::object()));
  const int64_t id = inv["id"];
  for (const Principal* who : {&b, &rev_, &admin_}) {
    EXPECT_EQ(svc().DecideInvitation(*who, id, true).status().code(),
              absl::StatusCode::kNotFound)
        << who->username;
    EXPECT_EQ(svc().DecideInvitation(*who, id, false).status().code(),
              absl::StatusCode::kNotFound);
  }
  EXPECT_EQ(svc().DecideInvitation(a, id + 1000, true).status().code(),
            absl::StatusCode::kNotFound);
  TS_ASSERT_OK_AND_ASSIGN(json mine, svc().ListMyInvitations(a));
  EXPECT_EQ(mine["invitations"][0]["state"], "pending");
}

TEST_P(InvitationServiceTest, BadNoteIsRefused) {
  TS_ASSERT_OK_AND_ASSIGN(Principal a, Eligible("a"));
  auto too_long =
      svc().InviteReviewer(admin_, a.id, {{"note", std::string(2001, 'x')}});
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(too_long.status()), std::optional<std::string>("note"));
  auto not_text = svc().InviteReviewer(admin_, a.id, {{"note", 5}});
  EXPECT_EQ(not_text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(not_text.status()), std::optional<std::string>("note"));
  EXPECT_EQ(svc().InviteReviewer(admin_, a.id, json::array()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CountInvitations(a.id), 0);
  // 2000 characters (multi-byte ones count once) are fine.
  std::string accents;
  for (int i = 0; i < 2000; ++i) accents += "\xC3\xA9";  // é
  TS_EXPECT_OK(svc().InviteReviewer(admin_, a.id, {{"note", accents}}));
}

#ifdef TESSERA_SERVICE_TEST_POSTGRES
#define TESSERA_INVITATION_TEST_STORE store::PostgresStoreFactory()
#else
#define TESSERA_INVITATION_TEST_STORE \
  store::SqliteStoreFactory(store::sqlite::Durability::kNormal)
#endif

INSTANTIATE_TEST_SUITE_P(service, InvitationServiceTest,
                         ::testing::Values(TESSERA_INVITATION_TEST_STORE),
                         store::StoreFactoryName);

}  // namespace
}  // namespace tessera::service
