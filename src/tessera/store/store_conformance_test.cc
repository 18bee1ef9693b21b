// Runs the store conformance suite on SQLite database files in a temporary
// directory, in both durability modes, and checks SQLite query plans the
// hot paths rely on.
#include "tessera/store/store_conformance.h"

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <variant>

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

}  // namespace
}  // namespace tessera::store
