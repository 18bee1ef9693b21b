// The store conformance suite: one value-parameterised GoogleTest suite that
// every Store backend must pass, plus factories that open a fresh migrated
// store on SQLite (temp file) or PostgreSQL (throwaway database).
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "tessera/base/status.h"
#include "tessera/store/sqlite/sqlite_database.h"
#include "tessera/store/store.h"

// Test assertions on Status and StatusOr values.
#define TS_ASSERT_OK(expr)                                    \
  do {                                                        \
    const absl::Status ts_assert_status_ =                    \
        ::tessera::store::StatusOfForTest(expr);              \
    ASSERT_TRUE(ts_assert_status_.ok()) << ts_assert_status_; \
  } while (0)
#define TS_EXPECT_OK(expr)                                    \
  do {                                                        \
    const absl::Status ts_expect_status_ =                    \
        ::tessera::store::StatusOfForTest(expr);              \
    EXPECT_TRUE(ts_expect_status_.ok()) << ts_expect_status_; \
  } while (0)
#define TS_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  ASSERT_TRUE(tmp.ok()) << tmp.status();              \
  lhs = std::move(*tmp)
#define TS_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  TS_ASSERT_OK_AND_ASSIGN_IMPL_(TS_CONCAT_(ts_assert_or_, __LINE__), lhs, expr)

namespace tessera {

// Lets GoogleTest print ids in failure messages.
template <typename Tag>
void PrintTo(const Id<Tag>& id, std::ostream* os) {
  *os << id.value;
}

}  // namespace tessera

namespace tessera::store {

inline absl::Status StatusOfForTest(const absl::Status& s) { return s; }
template <typename T>
absl::Status StatusOfForTest(const absl::StatusOr<T>& s) {
  return s.status();
}

// A fresh, migrated store and what must be undone once it is destroyed.
struct TestStore {
  std::unique_ptr<Store> store;
  std::function<void()> cleanup;  // may be empty; run after `store` is gone
};

// Opens a new, empty, migrated store per call (one per test).
struct StoreFactory {
  std::string name;            // test-name suffix: [A-Za-z0-9_]
  std::function<bool()> skip;  // may be empty; true skips the test
  std::function<absl::StatusOr<TestStore>()> open;
};

// Names the factory in GoogleTest's messages.
inline void PrintTo(const StoreFactory& factory, std::ostream* os) {
  *os << factory.name;
}

// A database file in a fresh directory under ::testing::TempDir(), removed
// afterwards.
StoreFactory SqliteStoreFactory(sqlite::Durability durability);
// A fresh database from postgres::CreateTestDatabase, dropped afterwards.
// Skipped when TESSERA_SKIP_PG=1; fails without TESSERA_TEST_PG_URL.
StoreFactory PostgresStoreFactory();

// For INSTANTIATE_TEST_SUITE_P: names each instance after its factory.
std::string StoreFactoryName(
    const ::testing::TestParamInfo<StoreFactory>& info);

// Opens GetParam()'s store in SetUp and tears it down afterwards. Tests reach
// the store through store(), and run transactions with Write/Read.
class StoreTestBase : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  Store& store() { return *test_store_.store; }
  absl::Status Write(absl::FunctionRef<absl::Status(Tx&)> fn) {
    return store().Run(TxMode::kWrite, fn);
  }
  absl::Status Read(absl::FunctionRef<absl::Status(Tx&)> fn) {
    return store().Run(TxMode::kRead, fn);
  }

 private:
  TestStore test_store_;
};

// The conformance suite. Instantiate it once per backend:
//   INSTANTIATE_TEST_SUITE_P(conformance, StoreConformanceTest,
//                            ::testing::Values(SqliteStoreFactory(...)),
//                            StoreFactoryName);
class StoreConformanceTest : public StoreTestBase {};

}  // namespace tessera::store
