// Runs the store conformance suite on SQLite database files in a temporary
// directory, in both durability modes, and checks SQLite query plans the
// hot paths rely on.
#include "tessera/store/store_conformance.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status.h"
#include "tessera/store/sqlite/sqlite_database.h"
#include "tessera/store/store.h"

namespace tessera::store {
namespace {

INSTANTIATE_TEST_SUITE_P(
    conformance, StoreConformanceTest,
    ::testing::Values(SqliteStoreFactory(sqlite::Durability::kFull),
                      SqliteStoreFactory(sqlite::Durability::kNormal)),
    StoreFactoryName);

// A SQLite file in a fresh temporary directory, removed with it.
class TempSqlite {
 public:
  explicit TempSqlite(const std::string& name)
      : dir_((std::filesystem::path(::testing::TempDir()) /
              "tessera_sqlite.XXXXXX")
                 .string()) {
    if (mkdtemp(dir_.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << dir_;
    options_.path = (std::filesystem::path(dir_) / name).string();
  }
  ~TempSqlite() { std::filesystem::remove_all(dir_); }

  // Runs `fn` as one transaction on a connection of its own.
  absl::Status OnConnection(TxMode mode,
                            absl::FunctionRef<absl::Status(SqlConn&)> fn) {
    TS_ASSIGN_OR_RETURN(auto db, sqlite::OpenSqlite(options_));
    absl::Status status = db->RunTransaction(mode, fn);
    db->Close();
    return status;
  }
  absl::Status Migrate() {
    TS_ASSIGN_OR_RETURN(auto db, sqlite::OpenSqlite(options_));
    auto store = MakeSqlStore(std::move(db));
    absl::Status status = store->Migrate();
    store->Close();
    return status;
  }
  absl::StatusOr<std::unique_ptr<Store>> OpenStore() {
    TS_ASSIGN_OR_RETURN(auto db, sqlite::OpenSqlite(options_));
    return MakeSqlStore(std::move(db));
  }
  // SQLite's plan for each of `queries`, one line per step.
  absl::StatusOr<std::string> Plan(const std::vector<std::string>& queries) {
    std::string plan;
    TS_RETURN_IF_ERROR(
        OnConnection(TxMode::kRead, [&](SqlConn& c) -> absl::Status {
          for (const std::string& q : queries) {
            TS_ASSIGN_OR_RETURN(auto rows,
                                c.Query("EXPLAIN QUERY PLAN " + q, {}));
            for (const auto& row : rows) {
              plan += std::get<std::string>(row.back()) + "\n";
            }
          }
          return absl::OkStatus();
        }));
    return plan;
  }

 private:
  std::string dir_;
  sqlite::SqliteOptions options_;
};

// A claim computes its annotator's standing inside the single writer from
// their submissions by pool, day and state (ListReviewDays): that read must
// come from the annotator index alone, not one table page per submission.
TEST(SqliteQueryPlan, StandingReadsOnlyTheAnnotatorIndex) {
  TempSqlite db("plan.db");
  TS_ASSERT_OK(db.Migrate());
  TS_ASSERT_OK_AND_ASSIGN(
      std::string plan,
      db.Plan({"SELECT pool_id, updated_at, state, first_pass, round FROM "
               "submissions WHERE annotator_id = 1"}));
  EXPECT_THAT(
      plan, ::testing::HasSubstr("USING COVERING INDEX submissions_annotator"));
}

// Migration 9 counts the claims already made into claim_days, and the reads
// that replaced claims_annotator_day use their indexes.
TEST(SqliteMigration, ClaimDaysAreBackfilledFromClaims) {
  TempSqlite db("v9.db");
  TS_ASSERT_OK(db.Migrate());
  // Back to version 8's schema, with claims made before claim_days existed:
  // by user 2 in pool 1 two on day 20000 and one on day 20001 (a newcomer's),
  // by user 3 one on day 20001.
  constexpr int64_t kDay = int64_t{86400} * 1000 * 1000;
  const std::string v8 = absl::StrCat(
      "DROP TABLE claim_days; DROP INDEX tasks_gold;"
      "CREATE INDEX claims_annotator_day ON claims(annotator_id, pool_id, "
      "created_at);"
      "DELETE FROM schema_migrations WHERE version >= 9;"
      "INSERT INTO users (id, username, password_hash, roles, created_at) "
      "VALUES (1, 'r', '', 'requester', 0), (2, 'a', '', 'annotator', 0), "
      "(3, 'b', '', 'annotator', 0);"
      "INSERT INTO projects (id, owner_id, name, description, guidelines, "
      "currency, created_at) VALUES (1, 1, 'p', '', '', 'CNY', 0);"
      "INSERT INTO pools (id, project_id, name, task_type, config, "
      "price_minor, currency, overlap, lease_seconds, max_rounds, state, "
      "created_at) VALUES (1, 1, 'q', 'classify', '{}', 0, 'CNY', 3, 60, 3, "
      "'open', 0);"
      "INSERT INTO tasks (id, pool_id, data, gold, open_slots, created_at) "
      "VALUES (1, 1, '{}', NULL, 1, 0), (2, 1, '{}', '{}', 1, 0), "
      "(3, 1, '{}', NULL, 1, 0);"
      "INSERT INTO claims (task_id, pool_id, annotator_id, state, created_at, "
      "expires_at, reason) VALUES (1, 1, 2, 'expired', ",
      20000 * kDay + 5, ", 0, NULL), (2, 1, 2, 'submitted', ", 20000 * kDay + 9,
      ", 0, NULL), (3, 1, 2, 'active', ", 20001 * kDay,
      ", 0, '{\"tier\":\"newcomer\"}'), (1, 1, 3, 'active', ", 20001 * kDay + 1,
      ", 0, '{\"tier\":\"trusted\"}');");
  TS_ASSERT_OK(db.OnConnection(TxMode::kWrite,
                               [&](SqlConn& c) { return c.ExecScript(v8); }));
  TS_ASSERT_OK(db.Migrate());

  TS_ASSERT_OK_AND_ASSIGN(auto store, db.OpenStore());
  const PoolId pool(1);
  const absl::Time day = absl::FromUnixSeconds(int64_t{20001} * 86400);
  TS_ASSERT_OK(store->Run(TxMode::kRead, [&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(int64_t today,
                        tx.CountClaimsSince(UserId(2), pool, day));
    EXPECT_EQ(today, 1);
    TS_ASSIGN_OR_RETURN(
        int64_t ever,
        tx.CountClaimsSince(UserId(2), pool, absl::InfinitePast()));
    EXPECT_EQ(ever, 3);
    TS_ASSIGN_OR_RETURN(int64_t other,
                        tx.CountClaimsSince(UserId(3), pool, day));
    EXPECT_EQ(other, 1);
    TS_ASSIGN_OR_RETURN(auto pool_today, tx.CountPoolClaimsSince(pool, day));
    EXPECT_EQ(pool_today, std::make_pair(int64_t{2}, int64_t{1}));
    TS_ASSIGN_OR_RETURN(auto gold, tx.ListClaimedGoldTasks(UserId(2), pool));
    EXPECT_THAT(gold, ::testing::ElementsAre(TaskId(2)));
    return absl::OkStatus();
  }));
  store->Close();

  TS_ASSERT_OK_AND_ASSIGN(
      std::string plan,
      db.Plan({"SELECT SUM(claims) FROM claim_days INDEXED BY "
               "claim_days_annotator WHERE annotator_id = 2 AND pool_id = 1 "
               "AND utc_day >= 20001",
               "SELECT t.id FROM tasks t WHERE t.pool_id = 1 AND t.gold IS "
               "NOT NULL AND EXISTS (SELECT 1 FROM claims c WHERE c.task_id = "
               "t.id AND c.annotator_id = 2) ORDER BY t.id"}));
  // Without claims_annotator_day, the claim's own search still probes
  // claims_task_annotator per task, never scans the claims.
  TS_ASSERT_OK_AND_ASSIGN(
      std::string claimable,
      db.Plan({"SELECT t.id FROM tasks t WHERE t.pool_id = 1 AND "
               "t.open_slots > 0 AND NOT EXISTS (SELECT 1 FROM claims c WHERE "
               "c.task_id = t.id AND c.annotator_id = 2) ORDER BY t.id LIMIT "
               "1"}));
  EXPECT_THAT(claimable, ::testing::HasSubstr("INDEX claims_task_annotator"));
  EXPECT_THAT(claimable, ::testing::Not(::testing::HasSubstr("SCAN c")));
  EXPECT_THAT(plan, ::testing::HasSubstr("INDEX claim_days_annotator"));
  EXPECT_THAT(plan, ::testing::HasSubstr("INDEX tasks_gold"));
  EXPECT_THAT(plan, ::testing::HasSubstr("INDEX claims_task_annotator"));
}

}  // namespace
}  // namespace tessera::store
