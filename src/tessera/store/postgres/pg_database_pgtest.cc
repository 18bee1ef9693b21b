// Tests of the PostgreSQL driver against a real server (scripts/with-postgres):
// value round trips, error mapping, retries, pooling, SKIP LOCKED claims.
#include <libpq-fe.h>

#include <atomic>
#include <barrier>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status.h"
#include "tessera/store/postgres/pg_database.h"
#include "tessera/store/postgres/pg_test_util.h"

namespace tessera::store::postgres {
namespace {

using ::testing::HasSubstr;

class PgDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ShouldSkipPgTests()) GTEST_SKIP() << "TESSERA_SKIP_PG=1";
    absl::StatusOr<std::string> url = CreateTestDatabase(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    db_ = Open();
    ASSERT_NE(db_, nullptr);
  }

  void TearDown() override {
    db_.reset();
    if (!url_.empty()) DropTestDatabase(url_);
  }

  std::unique_ptr<SqlDatabase> Open(int pool_size = 16, int max_retries = 5) {
    PgOptions options;
    options.url = url_;
    options.pool_size = pool_size;
    options.max_retries = max_retries;
    absl::StatusOr<std::unique_ptr<SqlDatabase>> db = OpenPostgres(options);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? std::move(*db) : nullptr;
  }

  void CreateItems() {
    ASSERT_TRUE(db_->RunTransaction(
                       TxMode::kWrite,
                       [](SqlConn& c) {
                         return c.ExecScript(
                             "CREATE TABLE items (id BIGSERIAL PRIMARY KEY, "
                             "name TEXT NOT NULL UNIQUE, n BIGINT, "
                             "claimed_by BIGINT);");
                       })
                    .ok());
  }

  int64_t Count(const std::string& where = "TRUE") {
    int64_t count = -1;
    absl::Status status = db_->RunTransaction(TxMode::kRead, [&](SqlConn& c) {
      TS_ASSIGN_OR_RETURN(
          SqlRows rows,
          c.Query(absl::StrCat("SELECT count(*) FROM items WHERE ", where)));
      count = std::get<int64_t>(rows.at(0).at(0));
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return count;
  }

  std::string url_;
  std::unique_ptr<SqlDatabase> db_;
};

TEST_F(PgDatabaseTest, DialectIsPostgres) {
  EXPECT_EQ(db_->dialect().name, "postgres");
  EXPECT_TRUE(db_->dialect().skip_locked);
}

TEST_F(PgDatabaseTest, RoundTripsEveryValueType) {
  ASSERT_TRUE(db_->RunTransaction(
                     TxMode::kWrite,
                     [](SqlConn& c) {
                       return c.ExecScript(
                           "CREATE TABLE v (i BIGINT, s SMALLINT, n INTEGER, "
                           "r DOUBLE PRECISION, f REAL, num NUMERIC, t TEXT, "
                           "j JSONB, b BOOLEAN, z BIGINT, ts TIMESTAMPTZ);");
                     })
                  .ok());
  const int64_t big = INT64_C(-9007199254740993);
  const double third = 1.0 / 3.0;
  ASSERT_TRUE(
      db_->RunTransaction(
             TxMode::kWrite,
             [&](SqlConn& c) {
               return c.Exec(
                   "INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   {big, int64_t{-7}, int64_t{123456}, third, 0.5, 2.25,
                    std::string("h\xc3\xa9llo 'quoted' ?"),
                    std::string(R"({"a": [1, 2]})"), int64_t{1},
                    std::monostate{}, std::string("2024-01-02T03:04:05Z")});
             })
          .ok());
  SqlRows rows;
  absl::Status status = db_->RunTransaction(TxMode::kRead, [&](SqlConn& c) {
    TS_ASSIGN_OR_RETURN(
        rows, c.Query("SELECT i, s, n, r, f, num, t, j->>'a', b, z, "
                      "ts = '2024-01-02T03:04:05Z'::timestamptz, "
                      "to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM v"));
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(rows.size(), 1u);
  const SqlRow& row = rows[0];
  EXPECT_EQ(row[0], SqlValue(big));
  EXPECT_EQ(row[1], SqlValue(int64_t{-7}));
  EXPECT_EQ(row[2], SqlValue(int64_t{123456}));
  EXPECT_EQ(row[3], SqlValue(third));
  EXPECT_EQ(row[4], SqlValue(0.5));
  EXPECT_EQ(row[5], SqlValue(2.25));
  EXPECT_EQ(row[6], SqlValue(std::string("h\xc3\xa9llo 'quoted' ?")));
  EXPECT_EQ(row[7], SqlValue(std::string("[1, 2]")));
  EXPECT_EQ(row[8], SqlValue(int64_t{1}));
  EXPECT_EQ(row[9], SqlValue(std::monostate{}));
  EXPECT_EQ(row[10], SqlValue(int64_t{1}));
  EXPECT_EQ(row[11], SqlValue(std::string("2024-01-02")));
}

TEST_F(PgDatabaseTest, ChangesCountsRows) {
  CreateItems();
  absl::Status status = db_->RunTransaction(TxMode::kWrite, [](SqlConn& c) {
    TS_RETURN_IF_ERROR(
        c.Exec("INSERT INTO items (name) VALUES (?), (?), (?)",
               {std::string("a"), std::string("b"), std::string("c")}));
    EXPECT_EQ(c.Changes(), 3);
    TS_RETURN_IF_ERROR(c.Exec("UPDATE items SET n = ? WHERE name <> ?",
                              {int64_t{4}, std::string("a")}));
    EXPECT_EQ(c.Changes(), 2);
    TS_RETURN_IF_ERROR(
        c.Exec("DELETE FROM items WHERE name = ?", {std::string("zzz")}));
    EXPECT_EQ(c.Changes(), 0);
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(Count("n = 4"), 2);
}

TEST_F(PgDatabaseTest, FailingFnChangesNothing) {
  CreateItems();
  absl::Status status = db_->RunTransaction(TxMode::kWrite, [](SqlConn& c) {
    TS_RETURN_IF_ERROR(
        c.Exec("INSERT INTO items (name) VALUES (?)", {std::string("a")}));
    return absl::InvalidArgumentError("changed my mind");
  });
  EXPECT_EQ(status, absl::InvalidArgumentError("changed my mind"));
  EXPECT_EQ(Count(), 0);
}

TEST_F(PgDatabaseTest, UniqueViolationIsAlreadyExistsNamingConstraint) {
  CreateItems();
  auto insert = [](SqlConn& c) {
    return c.Exec("INSERT INTO items (name) VALUES (?)", {std::string("a")});
  };
  ASSERT_TRUE(db_->RunTransaction(TxMode::kWrite, insert).ok());
  absl::Status status = db_->RunTransaction(TxMode::kWrite, insert);
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
  EXPECT_THAT(status.message(), HasSubstr("items_name_key"));
  EXPECT_EQ(Count(), 1);
}

TEST_F(PgDatabaseTest, ForeignKeyViolationIsAlreadyExists) {
  absl::Status status = db_->RunTransaction(TxMode::kWrite, [](SqlConn& c) {
    TS_RETURN_IF_ERROR(c.ExecScript(
        "CREATE TABLE p (id BIGINT PRIMARY KEY);"
        "CREATE TABLE ch (p BIGINT CONSTRAINT ch_p_fk REFERENCES p(id));"));
    return c.Exec("INSERT INTO ch VALUES (?)", {int64_t{7}});
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
  EXPECT_THAT(status.message(), HasSubstr("ch_p_fk"));
}

TEST_F(PgDatabaseTest, ExecScriptRunsEveryStatement) {
  CreateItems();
  ASSERT_TRUE(
      db_->RunTransaction(TxMode::kWrite,
                          [](SqlConn& c) {
                            return c.ExecScript(
                                "INSERT INTO items (name) VALUES ('a');\n"
                                "INSERT INTO items (name) VALUES ('b');\n"
                                "UPDATE items SET n = 5;");
                          })
          .ok());
  EXPECT_EQ(Count("n = 5"), 2);
  absl::Status bad = db_->RunTransaction(TxMode::kWrite, [](SqlConn& c) {
    return c.ExecScript("INSERT INTO items (name) VALUES ('c'); NOT SQL;");
  });
  EXPECT_EQ(bad.code(), absl::StatusCode::kInternal) << bad;
  EXPECT_EQ(Count(), 2);
}

TEST_F(PgDatabaseTest, SwallowedStatementErrorFailsTheCommit) {
  CreateItems();
  absl::Status status = db_->RunTransaction(TxMode::kWrite, [](SqlConn& c) {
    TS_RETURN_IF_ERROR(c.Exec("INSERT INTO items (name) VALUES ('a')"));
    EXPECT_FALSE(c.Exec("INSERT INTO items (name) VALUES ('a')").ok());
    return absl::OkStatus();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_EQ(Count(), 0);
}

TEST_F(PgDatabaseTest, ReadTransactionCannotWrite) {
  CreateItems();
  absl::Status status = db_->RunTransaction(TxMode::kRead, [](SqlConn& c) {
    return c.Exec("INSERT INTO items (name) VALUES ('a')");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_EQ(Count(), 0);
}

TEST_F(PgDatabaseTest, ReadTransactionIsOneSnapshot) {
  CreateItems();
  absl::Status status = db_->RunTransaction(TxMode::kRead, [&](SqlConn& c) {
    TS_ASSIGN_OR_RETURN(SqlRows before, c.Query("SELECT count(*) FROM items"));
    // A write commits while this snapshot is open.
    EXPECT_TRUE(db_->RunTransaction(
                       TxMode::kWrite,
                       [](SqlConn& w) {
                         return w.Exec("INSERT INTO items (name) VALUES ('b')");
                       })
                    .ok());
    TS_ASSIGN_OR_RETURN(SqlRows after, c.Query("SELECT count(*) FROM items"));
    EXPECT_EQ(before, after);
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(Count(), 1);
}

TEST_F(PgDatabaseTest, ParametersSkipQuotedQuestionMarks) {
  SqlRows rows;
  absl::Status status = db_->RunTransaction(TxMode::kRead, [&](SqlConn& c) {
    TS_ASSIGN_OR_RETURN(rows,
                        c.Query("SELECT '?''?', ? || '', \"?column\".x FROM "
                                "(SELECT 1 AS x) AS \"?column\"",
                                {std::string("p")}));
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], SqlValue(std::string("?'?")));
  EXPECT_EQ(rows[0][1], SqlValue(std::string("p")));
  EXPECT_EQ(rows[0][2], SqlValue(int64_t{1}));
}

TEST_F(PgDatabaseTest, BadSqlAndParameterCountAreInternal) {
  absl::Status status = db_->RunTransaction(
      TxMode::kRead, [](SqlConn& c) { return c.Exec("SELEKT 1"); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  status = db_->RunTransaction(TxMode::kRead, [](SqlConn& c) {
    return c.Exec("SELECT ?::int", {int64_t{1}, int64_t{2}});
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
}

TEST_F(PgDatabaseTest, AbortedFnIsRetried) {
  int calls = 0;
  absl::Status status = db_->RunTransaction(TxMode::kWrite, [&](SqlConn& c) {
    ++calls;
    if (calls == 1) return absl::AbortedError("try again");
    return c.Exec("SELECT 1");
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(calls, 2);

  auto db = Open(/*pool_size=*/2, /*max_retries=*/3);
  calls = 0;
  status = db->RunTransaction(TxMode::kWrite, [&](SqlConn&) {
    ++calls;
    return absl::AbortedError("always");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(calls, 4);
}

// Write skew under SERIALIZABLE: both transactions read, then both write; the
// server aborts one with 40001, the driver retries it and both commit.
TEST_F(PgDatabaseTest, SerializationFailureIsRetried) {
  CreateItems();
  std::barrier both_read(2);
  std::atomic<int> attempts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      bool first = true;
      absl::Status status =
          db_->RunTransaction(TxMode::kWrite, [&](SqlConn& c) {
            ++attempts;
            TS_RETURN_IF_ERROR(
                c.Exec("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"));
            TS_ASSIGN_OR_RETURN(
                SqlRows rows,
                c.Query("SELECT count(*) FROM items WHERE n = 1"));
            if (first) {
              first = false;
              both_read.arrive_and_wait();
            }
            return c.Exec(
                "INSERT INTO items (name, n) VALUES (?, 1)",
                {absl::StrCat("t", t, "-saw-", std::get<int64_t>(rows[0][0]))});
          });
      EXPECT_TRUE(status.ok()) << status;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(Count("n = 1"), 2);
  EXPECT_GE(attempts.load(), 3);
  // The retried transaction saw the other's row.
  EXPECT_EQ(Count("name LIKE '%-saw-1'"), 1);
}

TEST_F(PgDatabaseTest, ConcurrentTransactionsFromSixteenThreads) {
  CreateItems();
  ASSERT_TRUE(db_->RunTransaction(
                     TxMode::kWrite,
                     [](SqlConn& c) {
                       return c.Exec(
                           "INSERT INTO items (name, n) VALUES ('counter', 0)");
                     })
                  .ok());
  constexpr int kThreads = 16;
  constexpr int kPerThread = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::Status s = db_->RunTransaction(TxMode::kWrite, [&](SqlConn& c) {
          TS_RETURN_IF_ERROR(
              c.Exec("UPDATE items SET n = n + 1 WHERE name = 'counter'"));
          return c.Exec("INSERT INTO items (name, n) VALUES (?, ?)",
                        {absl::StrCat(t, "-", i), int64_t{-1}});
        });
        if (!s.ok()) {
          ADD_FAILURE() << s;
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count("n = -1"), kThreads * kPerThread);
  EXPECT_EQ(
      Count(absl::StrCat("name = 'counter' AND n = ", kThreads * kPerThread)),
      1);
}

TEST_F(PgDatabaseTest, PoolNeverExceedsItsSize) {
  auto db = Open(/*pool_size=*/2);
  std::atomic<int> in_flight{0}, peak{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      absl::Status s = db->RunTransaction(TxMode::kRead, [&](SqlConn& c) {
        const int now = ++in_flight;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        absl::Status slept = c.Exec("SELECT pg_sleep(0.02)");
        --in_flight;
        return slept;
      });
      EXPECT_TRUE(s.ok()) << s;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(peak.load(), 2);
}

TEST_F(PgDatabaseTest, SkipLockedClaimsEveryRowExactlyOnce) {
  CreateItems();
  constexpr int kRows = 1000;
  constexpr int kThreads = 8;
  ASSERT_TRUE(
      db_->RunTransaction(TxMode::kWrite,
                          [](SqlConn& c) {
                            return c.Exec(
                                "INSERT INTO items (name) SELECT 'row' || g "
                                "FROM generate_series(1, ?) AS g",
                                {int64_t{kRows}});
                          })
          .ok());
  absl::Mutex mu;
  std::vector<int64_t> claimed;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (true) {
        int64_t id = 0;
        absl::Status s = db_->RunTransaction(TxMode::kWrite, [&](SqlConn& c) {
          id = 0;
          TS_ASSIGN_OR_RETURN(
              SqlRows rows,
              c.Query("SELECT id FROM items WHERE claimed_by IS NULL "
                      "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"));
          if (rows.empty()) return absl::OkStatus();
          id = std::get<int64_t>(rows[0][0]);
          TS_RETURN_IF_ERROR(
              c.Exec("UPDATE items SET claimed_by = ? WHERE id = ?",
                     {int64_t{t}, id}));
          if (c.Changes() != 1) return absl::InternalError("lost the row");
          return absl::OkStatus();
        });
        ASSERT_TRUE(s.ok()) << s;
        if (id == 0) break;
        absl::MutexLock lock(&mu);
        claimed.push_back(id);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(std::set<int64_t>(claimed.begin(), claimed.end()).size(),
            static_cast<size_t>(kRows));
  EXPECT_EQ(Count("claimed_by IS NULL"), 0);
}

TEST_F(PgDatabaseTest, BrokenConnectionIsReplaced) {
  auto db = Open(/*pool_size=*/1);
  int64_t pid = 0;
  ASSERT_TRUE(db->RunTransaction(TxMode::kRead, [&](SqlConn& c) {
                  TS_ASSIGN_OR_RETURN(SqlRows rows,
                                      c.Query("SELECT pg_backend_pid()"));
                  pid = std::get<int64_t>(rows[0][0]);
                  return absl::OkStatus();
                }).ok());
  ASSERT_TRUE(db_->RunTransaction(
                     TxMode::kWrite,
                     [&](SqlConn& c) {
                       return c.Exec("SELECT pg_terminate_backend(?)", {pid});
                     })
                  .ok());
  absl::SleepFor(absl::Milliseconds(100));
  int64_t new_pid = 0;
  absl::Status status = db->RunTransaction(TxMode::kRead, [&](SqlConn& c) {
    TS_ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT pg_backend_pid()"));
    new_pid = std::get<int64_t>(rows[0][0]);
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_NE(new_pid, pid);
}

TEST_F(PgDatabaseTest, CloseIsIdempotentAndRejectsLaterWork) {
  db_->Close();
  db_->Close();
  EXPECT_EQ(db_->RunTransaction(TxMode::kRead,
                                [](SqlConn&) { return absl::OkStatus(); })
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PgDatabaseTest, UnreachableServerIsUnavailable) {
  PgOptions options;
  options.url = "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=2";
  EXPECT_EQ(OpenPostgres(options).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tessera::store::postgres
