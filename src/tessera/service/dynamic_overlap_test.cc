// Dynamic overlap through service::Service: tasks start with `min` slots and
// gain one per submission only while the reliability-weighted posterior is
// below the pool's confidence, never beyond `max`. Built on SQLite
// (service_dynamic_overlap_test) and, with TESSERA_SERVICE_TEST_POSTGRES, on
// PostgreSQL (service_dynamic_overlap_pgtest).
#include "tessera/service/internal/dynamic_overlap.h"

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

class DynamicOverlapTest : public ServiceTestBase {
 protected:
  void SetUp() override {
    ServiceTestBase::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto owner = NewUser("owner", {"requester"});
    TS_ASSERT_OK(owner.status());
    owner_ = *owner;
    auto annotators = NewAnnotators("ann", 5);
    TS_ASSERT_OK(annotators.status());
    annotators_ = *std::move(annotators);
  }

  // An open four-class classify pool with dynamic overlap {min, max,
  // confidence} and `tasks` tasks (the first `gold` of them with gold "x").
  absl::StatusOr<PoolId> OpenPool(int min, int max, double confidence,
                                  int tasks, int gold = 0,
                                  int64_t budget = 1'000'000) {
    TS_ASSIGN_OR_RETURN(
        json project,
        svc().CreateProject(
            owner_,
            {{"name", "dynamic"},
             {"budget", {{"amount_minor", budget}, {"currency", "CNY"}}}}));
    json config = {
        {"labels", {"x", "y", "z", "w"}},
        {"workforce",
         {{"dynamic_overlap",
           {{"min", min}, {"max", max}, {"confidence", confidence}}}}}};
    TS_ASSIGN_OR_RETURN(
        json pool, svc().CreatePool(
                       owner_, ProjectId(project["id"].get<int64_t>()),
                       {{"name", "classify"},
                        {"task_type", "classify"},
                        {"config", config},
                        {"price", {{"amount_minor", 10}, {"currency", "CNY"}}},
                        {"overlap", 1}}));
    PoolId id(pool["id"].get<int64_t>());
    json list = json::array();
    for (int i = 0; i < tasks; ++i) {
      json t = {{"data", {{"text", absl::StrCat("item ", i)}}}};
      if (i < gold) t["gold"] = {{"label", "x"}};
      list.push_back(t);
    }
    TS_ASSIGN_OR_RETURN(json added,
                        svc().AddTasks(owner_, id, {{"tasks", list}}));
    first_task_ = TaskId(added["first_task_id"].get<int64_t>());
    TS_RETURN_IF_ERROR(svc().OpenPool(owner_, id).status());
    return id;
  }

  // Annotator `i` claims the next task and answers `label`; returns the
  // task id, or kNotFound when there was nothing to claim.
  absl::StatusOr<TaskId> Answer(int i, PoolId pool, const std::string& label) {
    TS_ASSIGN_OR_RETURN(auto claim, svc().Claim(annotators_[i], pool));
    if (!claim) return absl::NotFoundError("nothing to claim");
    const json& body = claim->body;
    TS_RETURN_IF_ERROR(svc()
                           .Submit(annotators_[i],
                                   ClaimId(body["claim"]["id"].get<int64_t>()),
                                   {{"result", {{"label", label}}}}, "")
                           .status());
    return TaskId(body["task"]["id"].get<int64_t>());
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

  Principal owner_;
  std::vector<Principal> annotators_;
  TaskId first_task_;
};

TEST_P(DynamicOverlapTest, TasksStartWithMinSlots) {
  auto pool = OpenPool(2, 5, 0.9, 3);
  TS_ASSERT_OK(pool.status());
  auto slots = OpenSlots(first_task_);
  TS_ASSERT_OK(slots.status());
  EXPECT_EQ(*slots, 2);
}

TEST_P(DynamicOverlapTest, AddsSlotsOnlyWhileUnsure) {
  // One task; newcomers' reliability is 2/3 (no record): one vote gives
  // 2/3 < 0.9, two agreeing votes give 12/13 = 0.923 >= 0.9.
  auto pool = OpenPool(1, 5, 0.9, 1);
  TS_ASSERT_OK(pool.status());
  auto task = Answer(0, *pool, "x");
  TS_ASSERT_OK(task.status());
  EXPECT_EQ(*task, first_task_);
  auto slots = OpenSlots(first_task_);
  TS_ASSERT_OK(slots.status());
  EXPECT_EQ(*slots, 1) << "2/3 < 0.9: one more annotator";
  TS_ASSERT_OK(Answer(1, *pool, "x").status());
  slots = OpenSlots(first_task_);
  TS_ASSERT_OK(slots.status());
  EXPECT_EQ(*slots, 0) << "12/13 >= 0.9: done";
  EXPECT_EQ(Answer(2, *pool, "x").status().code(), absl::StatusCode::kNotFound);
  // The extension was audited with its numbers.
  std::vector<domain::AuditRecord> audit;
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(audit, tx.ListAudit("task", first_task_.value));
    return absl::OkStatus();
  }));
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "task.extend_overlap");
}

TEST_P(DynamicOverlapTest, HigherConfidenceAsksForMore) {
  // At 0.95 two agreeing newcomers (0.923) are not enough.
  auto pool = OpenPool(1, 5, 0.95, 1);
  TS_ASSERT_OK(pool.status());
  TS_ASSERT_OK(Answer(0, *pool, "y").status());
  TS_ASSERT_OK(Answer(1, *pool, "y").status());
  auto slots = OpenSlots(first_task_);
  TS_ASSERT_OK(slots.status());
  EXPECT_EQ(*slots, 1);
  TS_ASSERT_OK(Answer(2, *pool, "y").status());
  slots = OpenSlots(first_task_);
  TS_ASSERT_OK(slots.status());
  EXPECT_EQ(*slots, 0);  // three agreeing at 2/3: 0.986
}

TEST_P(DynamicOverlapTest, NeverBeyondMax) {
  // Disagreement keeps confidence low; the task stops at max = 3.
  auto pool = OpenPool(1, 3, 0.9, 1);
  TS_ASSERT_OK(pool.status());
  TS_ASSERT_OK(Answer(0, *pool, "x").status());
  TS_ASSERT_OK(Answer(1, *pool, "y").status());
  auto slots = OpenSlots(first_task_);
  TS_ASSERT_OK(slots.status());
  EXPECT_EQ(*slots, 1);
  TS_ASSERT_OK(Answer(2, *pool, "z").status());
  slots = OpenSlots(first_task_);
  TS_ASSERT_OK(slots.status());
  EXPECT_EQ(*slots, 0);
  EXPECT_EQ(Answer(3, *pool, "w").status().code(), absl::StatusCode::kNotFound);
  // Its posterior is still unsure: the cap, not confidence, stopped it.
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::Pool p, tx.GetPool(*pool));
    TS_ASSIGN_OR_RETURN(auto post,
                        internal::InferTaskPosterior(tx, p, first_task_));
    EXPECT_EQ(post.submissions, 3);
    EXPECT_LT(post.confidence, 0.9);
    return absl::OkStatus();
  }));
}

TEST_P(DynamicOverlapTest, WaitsForOutstandingClaimsOfTheTarget) {
  // min 2: the first of two claimed slots submitting decides nothing.
  auto pool = OpenPool(2, 5, 0.9, 1);
  TS_ASSERT_OK(pool.status());
  auto c0 = svc().Claim(annotators_[0], *pool);
  auto c1 = svc().Claim(annotators_[1], *pool);
  TS_ASSERT_OK(c0.status());
  TS_ASSERT_OK(c1.status());
  ASSERT_TRUE(*c0 && *c1);
  TS_ASSERT_OK(svc()
                   .Submit(annotators_[0],
                           ClaimId((**c0).body["claim"]["id"].get<int64_t>()),
                           {{"result", {{"label", "x"}}}}, "")
                   .status());
  auto slots = OpenSlots(first_task_);
  TS_ASSERT_OK(slots.status());
  EXPECT_EQ(*slots, 0);
  TS_ASSERT_OK(svc()
                   .Submit(annotators_[1],
                           ClaimId((**c1).body["claim"]["id"].get<int64_t>()),
                           {{"result", {{"label", "y"}}}}, "")
                   .status());
  slots = OpenSlots(first_task_);
  TS_ASSERT_OK(slots.status());
  EXPECT_EQ(*slots, 1);  // the whole target is in and it disagrees
}

TEST_P(DynamicOverlapTest, ReliabilityFromAgreementWeighsVotes) {
  // Four tasks; the first two answers are x (0) and x (1) on two of them and
  // x (0) and y (2) on the other two; annotator 3 always answers last.
  // Crowd: 2 of 4 first pairs agree, p = 1/2, so the crowd's accuracy q
  // solves 4q^2 - 2q + 1 - 3/2 = 0: q = (1 + sqrt(3)) / 4 = 0.683013, and a
  // wrong answer meets another by chance (1 - q) / 3 = 0.105662.
  // Annotator 0 agrees in 2 of 4: r = (2 + 3/2) / 7 = 1/2, a = q.
  // Annotator 2 agrees in 0 of 2: r = 1.5 / 5 = 0.3,
  // a = (0.3 - 0.105662) / (q - 0.105662) = 0.336603.
  auto pool = OpenPool(4, 4, 0.99, 5);
  TS_ASSERT_OK(pool.status());
  for (int t = 0; t < 4; ++t) {
    const bool agreeing = t < 2;
    TS_ASSERT_OK(Answer(0, *pool, "x").status());
    TS_ASSERT_OK(
        Answer(agreeing ? 1 : 2, *pool, agreeing ? "x" : "y").status());
    TS_ASSERT_OK(
        Answer(agreeing ? 2 : 1, *pool, agreeing ? "y" : "x").status());
    TS_ASSERT_OK(Answer(3, *pool, "x").status());
  }
  TS_ASSERT_OK(Answer(0, *pool, "z").status());
  TS_ASSERT_OK(Answer(2, *pool, "w").status());
  const TaskId last(first_task_.value + 4);
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::Pool p, tx.GetPool(*pool));
    TS_ASSIGN_OR_RETURN(double r0, internal::AnnotatorReliability(
                                       tx, p, annotators_[0].id, last));
    TS_ASSIGN_OR_RETURN(double r2, internal::AnnotatorReliability(
                                       tx, p, annotators_[2].id, last));
    EXPECT_NEAR(r0, (1 + std::sqrt(3.0)) / 4, 1e-12);
    EXPECT_NEAR(r2, 0.336603, 1e-6);
    // z at r0 against w at r2, K = 4.
    TS_ASSIGN_OR_RETURN(auto post, internal::InferTaskPosterior(tx, p, last));
    EXPECT_EQ(post.submissions, 2);
    EXPECT_EQ(post.label, 2);
    const double z = r0 * ((1 - r2) / 3), w = ((1 - r0) / 3) * r2,
                 other = ((1 - r0) / 3) * ((1 - r2) / 3);
    EXPECT_NEAR(post.confidence, z / (z + w + 2 * other), 1e-12);
    return absl::OkStatus();
  }));
}

TEST_P(DynamicOverlapTest, BudgetReservesTheMinimumOfLaterTasks) {
  // Price 10, budget 30, two tasks with min 1. After the first answer on
  // task 1 (unpaid): 10 for task 2's minimum + 10 for that answer + 10 for
  // one more = 30: affordable. After the second (two unpaid): 40 > 30.
  auto pool = OpenPool(1, 5, 0.9, 2, /*gold=*/0, /*budget=*/30);
  TS_ASSERT_OK(pool.status());
  TS_ASSERT_OK(Answer(0, *pool, "x").status());
  auto slots = OpenSlots(first_task_);
  TS_ASSERT_OK(slots.status());
  EXPECT_EQ(*slots, 1);
  TS_ASSERT_OK(Answer(1, *pool, "y").status());
  slots = OpenSlots(first_task_);
  TS_ASSERT_OK(slots.status());
  EXPECT_EQ(*slots, 0) << "unsure, but the budget is spoken for";
}

TEST_P(DynamicOverlapTest, GoldTasksAreNeverExtended) {
  auto pool = OpenPool(1, 5, 0.9, 1, /*gold=*/1);
  TS_ASSERT_OK(pool.status());
  TS_ASSERT_OK(Answer(0, *pool, "y").status());
  auto slots = OpenSlots(first_task_);
  TS_ASSERT_OK(slots.status());
  EXPECT_EQ(*slots, 0);
}

#ifdef TESSERA_SERVICE_TEST_POSTGRES
#define TESSERA_DYNAMIC_OVERLAP_TEST_STORE store::PostgresStoreFactory()
#else
#define TESSERA_DYNAMIC_OVERLAP_TEST_STORE \
  store::SqliteStoreFactory(store::sqlite::Durability::kNormal)
#endif

INSTANTIATE_TEST_SUITE_P(dynamic_overlap, DynamicOverlapTest,
                         ::testing::Values(TESSERA_DYNAMIC_OVERLAP_TEST_STORE),
                         store::StoreFactoryName);

}  // namespace
}  // namespace tessera::service
