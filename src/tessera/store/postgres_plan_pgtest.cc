// PostgreSQL's plan for the claim's search, on a pool whose first tasks are
// all claimed and whose statistics say so: it must walk the pool's open
// tasks (tasks_open) and probe each candidate's claim by this annotator, not
// walk the claimed tasks (the primary key from the pool's start) nor join
// all of the annotator's claims. Either would make every claim slower as the
// pool is worked through.
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status.h"
#include "tessera/store/postgres/pg_database.h"
#include "tessera/store/postgres/pg_test_util.h"
#include "tessera/store/sql/claim_sql.h"
#include "tessera/store/store.h"

namespace tessera::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

#define ASSERT_OK(expr)                   \
  do {                                    \
    const absl::Status status_ = (expr);  \
    ASSERT_TRUE(status_.ok()) << status_; \
  } while (false)

constexpr int kTasks = 100000;
constexpr int kClaimed = 3000;  // the pool's first tasks, all by annotator 2

class PostgresClaimPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (postgres::ShouldSkipPgTests()) GTEST_SKIP() << "TESSERA_SKIP_PG=1";
    absl::StatusOr<std::string> url =
        postgres::CreateTestDatabase("claim_plan");
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    postgres::PgOptions options;
    options.url = url_;
    options.pool_size = 2;
    auto store_db = postgres::OpenPostgres(options);
    ASSERT_TRUE(store_db.ok()) << store_db.status();
    store_ = MakeSqlStore(std::move(*store_db));
    ASSERT_OK(store_->Migrate());
    auto db = postgres::OpenPostgres(options);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_OK(db_->RunTransaction(TxMode::kWrite, [](SqlConn& c) {
      return c.ExecScript(absl::StrCat(
          "INSERT INTO users (username, password_hash, roles, created_at) "
          "SELECT 'u' || g, 'x', 'annotator', 0 FROM generate_series(1, 3) "
          "g;"
          "INSERT INTO projects (name, description, guidelines, owner_id, "
          "currency, created_at) VALUES ('p', '', '', 1, 'CNY', 0);"
          "INSERT INTO pools (project_id, name, task_type, config, "
          "price_minor, currency, overlap, lease_seconds, max_rounds, state, "
          "created_at) VALUES (1, 'p', 'image_bbox', '{}', 10, 'CNY', 1, "
          "600, 3, 'open', 0);"
          "INSERT INTO tasks (pool_id, data, open_slots, created_at) SELECT "
          "1, '{\"image\":\"a.jpg\",\"width\":640,\"height\":480}', 1, 0 "
          "FROM generate_series(1, ",
          kTasks,
          ");"
          "INSERT INTO claims (task_id, pool_id, annotator_id, state, "
          "created_at, expires_at, reason) SELECT g, 1, 2, 'submitted', g, "
          "g, '{}' FROM generate_series(1, ",
          kClaimed,
          ") g;"
          "UPDATE tasks SET open_slots = 0 WHERE id <= ",
          kClaimed, ";"));
    }));
    ASSERT_OK(db_->RunTransaction(TxMode::kWrite, [](SqlConn& c) {
      return c.ExecScript("ANALYZE tasks; ANALYZE claims;");
    }));
  }

  void TearDown() override {
    if (store_) store_->Close();
    if (db_) db_->Close();
    if (!url_.empty()) postgres::DropTestDatabase(url_);
  }

  // The plan of the claim's search for `annotator`, as a custom and as a
  // generic plan: the driver prepares its statements, and PostgreSQL may
  // switch to a generic plan after five executions.
  std::string Plans(absl::string_view condition, UserId annotator) {
    const Dialect& dialect = db_->dialect();
    // The statement with PostgreSQL's numbered parameters, and their values.
    const std::pair<std::string, int> rewritten = postgres::RewritePlaceholders(
        UnclaimedTaskSql(dialect, condition) + " FOR UPDATE OF t SKIP LOCKED");
    const std::string& sql = rewritten.first;
    std::vector<std::string> types, values;
    for (const SqlValue& v :
         UnclaimedTaskParams(dialect, PoolId(1), annotator)) {
      types.push_back("bigint");
      values.push_back(absl::StrCat(std::get<int64_t>(v)));
    }
    EXPECT_EQ(rewritten.second, static_cast<int>(values.size()));
    std::string out;
    for (const char* mode : {"force_custom_plan", "force_generic_plan"}) {
      absl::Status status =
          db_->RunTransaction(TxMode::kWrite, [&](SqlConn& c) -> absl::Status {
            TS_RETURN_IF_ERROR(c.ExecScript(absl::StrCat(
                "SET LOCAL plan_cache_mode = ", mode, "; PREPARE search(",
                absl::StrJoin(types, ", "), ") AS ", sql, ";")));
            TS_ASSIGN_OR_RETURN(
                SqlRows rows,
                c.Query(absl::StrCat("EXPLAIN EXECUTE search(",
                                     absl::StrJoin(values, ", "), ")")));
            for (const SqlRow& row : rows) {
              out += std::get<std::string>(row.at(0)) + "\n";
            }
            return c.ExecScript("DEALLOCATE search;");
          });
      EXPECT_TRUE(status.ok()) << status;
    }
    return out;
  }

  std::string url_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<SqlDatabase> db_;
};

TEST_F(PostgresClaimPlanTest, ClaimWalksOpenTasksAndProbesEachOne) {
  for (UserId annotator : {UserId(2), UserId(3)}) {
    const std::string plan = Plans("t.open_slots > 0", annotator);
    SCOPED_TRACE(plan);
    EXPECT_THAT(plan, HasSubstr("Index Scan using tasks_open on tasks t"));
    EXPECT_THAT(plan, HasSubstr("claims_task_annotator"));
    EXPECT_THAT(plan, HasSubstr("SubPlan"));
    EXPECT_THAT(plan, Not(HasSubstr("tasks_pkey")));
    EXPECT_THAT(plan, Not(HasSubstr("Join")));
    EXPECT_THAT(plan, Not(HasSubstr("Seq Scan")));
    EXPECT_THAT(plan, Not(HasSubstr("Sort")));
  }
  const std::string gold = Plans("t.gold IS NOT NULL", UserId(2));
  SCOPED_TRACE(gold);
  EXPECT_THAT(gold, HasSubstr("tasks_gold"));
  EXPECT_THAT(gold, Not(HasSubstr("Join")));
}

// And it finds what the store's claim finds: the first task the annotator
// has not claimed, after the claimed ones.
TEST_F(PostgresClaimPlanTest, FindsTheFirstTaskTheAnnotatorHasNotClaimed) {
  for (UserId annotator : {UserId(2), UserId(3)}) {
    std::optional<TaskId> found;
    ASSERT_OK(store_->Run(TxMode::kWrite, [&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(found, tx.FindClaimableTask(PoolId(1), annotator));
      return absl::OkStatus();
    }));
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->value, kClaimed + 1);
  }
}

}  // namespace
}  // namespace tessera::store
