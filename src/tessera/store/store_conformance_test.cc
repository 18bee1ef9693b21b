// Runs the store conformance suite on SQLite database files in a temporary
// directory, in both durability modes, and checks SQLite query plans the
// hot paths rely on.
#include "tessera/store/store_conformance.h"

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/store/sqlite/sqlite_database.h"
#include "tessera/store/store.h"

namespace tessera::store {
namespace {

INSTANTIATE_TEST_SUITE_P(
    conformance, StoreConformanceTest,
    ::testing::Values(SqliteStoreFactory(sqlite::Durability::kFull),
                      SqliteStoreFactory(sqlite::Durability::kNormal)),
    StoreFactoryName);

// A claim computes its annotator's standing inside the single writer from
// their submissions by pool, day and state (ListReviewDays): that read must
// come from the annotator index alone, not one table page per submission.
TEST(SqliteQueryPlan, StandingReadsOnlyTheAnnotatorIndex) {
  std::string dir =
      (std::filesystem::path(::testing::TempDir()) / "tessera_plan.XXXXXX")
          .string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  sqlite::SqliteOptions options;
  options.path = (std::filesystem::path(dir) / "plan.db").string();
  {
    auto db = sqlite::OpenSqlite(options);
    ASSERT_TRUE(db.ok()) << db.status();
    auto store = MakeSqlStore(std::move(*db));
    ASSERT_TRUE(store->Migrate().ok());
  }
  auto db = sqlite::OpenSqlite(options);
  ASSERT_TRUE(db.ok()) << db.status();
  std::string plan;
  ASSERT_TRUE((*db)
                  ->RunTransaction(
                      TxMode::kRead,
                      [&](SqlConn& c) -> absl::Status {
                        auto rows = c.Query(
                            "EXPLAIN QUERY PLAN SELECT pool_id, updated_at, "
                            "state, first_pass, round FROM submissions WHERE "
                            "annotator_id = ?",
                            {int64_t{1}});
                        if (!rows.ok()) return rows.status();
                        for (const auto& row : *rows) {
                          plan += std::get<std::string>(row.back()) + "\n";
                        }
                        return absl::OkStatus();
                      })
                  .ok());
  EXPECT_THAT(
      plan, ::testing::HasSubstr("USING COVERING INDEX submissions_annotator"));
  (*db)->Close();
  std::filesystem::remove_all(dir);
}

// Migration 9 counts the claims already made into claim_days, and the reads
// that replaced claims_annotator_day use their indexes.
TEST(SqliteMigration, ClaimDaysAreBackfilledFromClaims) {
  std::string dir =
      (std::filesystem::path(::testing::TempDir()) / "tessera_v9.XXXXXX")
          .string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  sqlite::SqliteOptions options;
  options.path = (std::filesystem::path(dir) / "v9.db").string();
  auto raw = [&](const std::string& sql) {
    auto db = sqlite::OpenSqlite(options);
    ASSERT_TRUE(db.ok()) << db.status();
    absl::Status s = (*db)->RunTransaction(
        TxMode::kWrite, [&](SqlConn& c) { return c.ExecScript(sql); });
    EXPECT_TRUE(s.ok()) << s;
    (*db)->Close();
  };
  auto migrate = [&] {
    auto db = sqlite::OpenSqlite(options);
    ASSERT_TRUE(db.ok()) << db.status();
    auto store = MakeSqlStore(std::move(*db));
    absl::Status s = store->Migrate();
    EXPECT_TRUE(s.ok()) << s;
    store->Close();
  };
  migrate();
  // Version 8's schema, with claims made before claim_days existed: two on
  // day 20000 and one on day 20001 by user 2 in pool 1, one by user 3.
  constexpr int64_t kDay = int64_t{86400} * 1000 * 1000;
  raw(absl::StrCat(
      "DROP TABLE claim_days; DROP INDEX tasks_gold;"
      "CREATE INDEX claims_annotator_day ON claims(annotator_id, pool_id, "
      "created_at);"
      "DELETE FROM schema_migrations WHERE version = 9;"
      "INSERT INTO users (id, username, password_hash, roles, created_at) "
      "VALUES (1, 'r', '', 'requester', 0), (2, 'a', '', 'annotator', 0), "
      "(3, 'b', '', 'annotator', 0);"
      "INSERT INTO projects (id, owner_id, name, description, guidelines, "
      "currency, created_at) VALUES (1, 1, 'p', '', '', 'CNY', 0);"
      "INSERT INTO pools (id, project_id, name, task_type, config, "
      "price_minor, currency, overlap, lease_seconds, max_rounds, state, "
      "created_at) VALUES (1, 1, 'q', 'classification', '{}', 0, 'CNY', 3, "
      "60, 3, 'open', 0);"
      "INSERT INTO tasks (id, pool_id, data, gold, open_slots, created_at) "
      "VALUES (1, 1, '{}', NULL, 1, 0), (2, 1, '{}', '{}', 1, 0), "
      "(3, 1, '{}', NULL, 1, 0);"
      "INSERT INTO claims (task_id, pool_id, annotator_id, state, created_at, "
      "expires_at) VALUES "
      "(1, 1, 2, 'expired', ",
      20000 * kDay + 5, ", 0), (2, 1, 2, 'submitted', ", 20000 * kDay + 9,
      ", 0), (3, 1, 2, 'active', ", 20001 * kDay, ", 0), (1, 1, 3, 'active', ",
      20001 * kDay + 1, ", 0);"));
  migrate();
  auto db = sqlite::OpenSqlite(options);
  ASSERT_TRUE(db.ok()) << db.status();
  auto store = MakeSqlStore(std::move(*db));
  const PoolId pool(1);
  ASSERT_TRUE(store
                  ->Run(TxMode::kRead,
                        [&](Tx& tx) -> absl::Status {
                          const absl::Time day =
                              absl::FromUnixSeconds(int64_t{20001} * 86400);
                          auto today =
                              tx.CountClaimsSince(UserId(2), pool, day);
                          EXPECT_EQ(today.value_or(-1), 1);
                          auto ever = tx.CountClaimsSince(UserId(2), pool,
                                                          absl::InfinitePast());
                          EXPECT_EQ(ever.value_or(-1), 3);
                          auto other =
                              tx.CountClaimsSince(UserId(3), pool, day);
                          EXPECT_EQ(other.value_or(-1), 1);
                          auto gold = tx.ListClaimedGoldTasks(UserId(2), pool);
                          EXPECT_THAT(gold.value_or(std::vector<TaskId>{}),
                                      ::testing::ElementsAre(TaskId(2)));
                          return absl::OkStatus();
                        })
                  .ok());
  store->Close();
  std::string plan;
  db = sqlite::OpenSqlite(options);
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE(
      (*db)
          ->RunTransaction(
              TxMode::kRead,
              [&](SqlConn& c) -> absl::Status {
                for (const char* sql :
                     {"EXPLAIN QUERY PLAN SELECT SUM(claims) FROM claim_days "
                      "INDEXED BY claim_days_annotator WHERE annotator_id = 2 "
                      "AND pool_id = 1 AND utc_day >= 20001",
                      "EXPLAIN QUERY PLAN SELECT t.id FROM tasks t WHERE "
                      "t.pool_id = 1 AND t.gold IS NOT NULL AND EXISTS "
                      "(SELECT 1 FROM claims c WHERE c.task_id = t.id AND "
                      "c.annotator_id = 2) ORDER BY t.id"}) {
                  auto rows = c.Query(sql, {});
                  if (!rows.ok()) return rows.status();
                  for (const auto& row : *rows) {
                    plan += std::get<std::string>(row.back()) + "\n";
                  }
                }
                return absl::OkStatus();
              })
          .ok());
  EXPECT_THAT(plan, ::testing::HasSubstr("INDEX claim_days_annotator"));
  EXPECT_THAT(plan, ::testing::HasSubstr("INDEX tasks_gold"));
  EXPECT_THAT(plan, ::testing::HasSubstr("INDEX claims_task_annotator"));
  (*db)->Close();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tessera::store
