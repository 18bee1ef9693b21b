// PostgreSQL driver: libpq connections with `?`→`$n` rewriting and cached
// prepared statements, a blocking connection pool, and a retrying
// transaction loop.
#include "tessera/store/postgres/pg_database.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tessera/base/status.h"

namespace tessera::store::postgres {
namespace {

// Prepared statements kept per connection before they are all deallocated;
// bounds server memory when callers generate SQL text.
constexpr size_t kMaxCachedStatements = 1024;

// Type oids from pg_type.h (stable across PostgreSQL versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// Maps a failed result (or a missing one) to a Status by SQLSTATE.
absl::Status PgError(PGconn* conn, const PGresult* result,
                     absl::string_view sql) {
  const char* state = result != nullptr
                          ? PQresultErrorField(result, PG_DIAG_SQLSTATE)
                          : nullptr;
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)
                        : nullptr;
  std::string message =
      primary != nullptr ? primary
      : result != nullptr && *PQresultErrorMessage(result) != '\0'
          ? PQresultErrorMessage(result)
          : PQerrorMessage(conn);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  const absl::string_view sqlstate = state != nullptr ? state : "";
  std::string text = absl::StrCat("postgres: ", message);
  if (!sqlstate.empty()) absl::StrAppend(&text, " [", sqlstate, "]");

  if (sqlstate.substr(0, 2) == "23") {
    const char* constraint =
        PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
    if (constraint != nullptr) {
      absl::StrAppend(&text, " (constraint ", constraint, ")");
    }
    return absl::AlreadyExistsError(text);
  }
  if (!sql.empty()) absl::StrAppend(&text, " in: ", sql);
  if (sqlstate == "40001" || sqlstate == "40P01") {
    return absl::AbortedError(text);
  }
  if (PQstatus(conn) == CONNECTION_BAD || sqlstate.substr(0, 2) == "08" ||
      sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03") {
    return absl::UnavailableError(text);
  }
  return absl::InternalError(text);
}

void IgnoreNotice(void*, const char*) {}

// One libpq connection with its prepared statements. Not thread-safe: used
// by one transaction at a time.
class PgConn final : public SqlConn {
 public:
  static absl::StatusOr<std::unique_ptr<PgConn>> Connect(
      const std::string& url) {
    PGconn* raw = PQconnectdb(url.c_str());
    if (raw == nullptr) {
      return absl::UnavailableError("postgres: out of memory connecting");
    }
    auto conn = std::unique_ptr<PgConn>(new PgConn(raw));
    if (PQstatus(raw) != CONNECTION_OK) {
      std::string message = PQerrorMessage(raw);
      while (!message.empty() && message.back() == '\n') message.pop_back();
      return absl::UnavailableError(
          absl::StrCat("postgres: cannot connect: ", message));
    }
    PQsetNoticeProcessor(raw, &IgnoreNotice, nullptr);
    return conn;
  }

  ~PgConn() override { PQfinish(conn_); }
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  absl::Status Exec(absl::string_view sql,
                    const std::vector<SqlValue>& params) override {
    TS_ASSIGN_OR_RETURN(Result result, Run(sql, params));
    return absl::OkStatus();
  }

  absl::StatusOr<SqlRows> Query(absl::string_view sql,
                                const std::vector<SqlValue>& params) override {
    TS_ASSIGN_OR_RETURN(Result result, Run(sql, params));
    const PGresult* res = result.get();
    const int columns = PQnfields(res);
    const int row_count = PQntuples(res);
    std::vector<Oid> types(columns);
    for (int c = 0; c < columns; ++c) types[c] = PQftype(res, c);
    SqlRows rows(row_count);
    for (int r = 0; r < row_count; ++r) {
      SqlRow& row = rows[r];
      row.reserve(columns);
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(res, r, c)) {
          row.emplace_back(std::monostate{});
          continue;
        }
        const char* value = PQgetvalue(res, r, c);
        const int length = PQgetlength(res, r, c);
        switch (types[c]) {
          case kInt2Oid:
          case kInt4Oid:
          case kInt8Oid: {
            int64_t n = 0;
            if (!absl::SimpleAtoi(absl::string_view(value, length), &n)) {
              return absl::InternalError(
                  absl::StrCat("postgres: bad integer '", value, "'"));
            }
            row.emplace_back(n);
            break;
          }
          case kFloat4Oid:
          case kFloat8Oid:
          case kNumericOid:
            row.emplace_back(std::strtod(value, nullptr));
            break;
          case kBoolOid:
            row.emplace_back(int64_t{value[0] == 't' ? 1 : 0});
            break;
          default:
            row.emplace_back(std::string(value, length));
        }
      }
    }
    return rows;
  }

  int64_t Changes() override { return changes_; }

  absl::Status ExecScript(absl::string_view sql) override {
    const std::string script(sql);
    Result result(PQexec(conn_, script.c_str()));
    return CheckResult(result.get(), "script");
  }

  // Runs a parameterless command (BEGIN, COMMIT, ROLLBACK) with the simple
  // protocol and returns its command tag.
  absl::StatusOr<std::string> Command(const char* sql) {
    Result result(PQexec(conn_, sql));
    TS_RETURN_IF_ERROR(CheckResult(result.get(), sql));
    return std::string(PQcmdStatus(result.get()));
  }

  // True when the connection is usable and outside any transaction.
  bool Idle() const {
    return PQstatus(conn_) == CONNECTION_OK &&
           PQtransactionStatus(conn_) == PQTRANS_IDLE;
  }
  bool InTransaction() const {
    const PGTransactionStatusType status = PQtransactionStatus(conn_);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
  }

 private:
  struct Prepared {
    std::string name;
    int params = 0;
  };

  explicit PgConn(PGconn* conn) : conn_(conn) {}

  absl::Status CheckResult(const PGresult* result, absl::string_view sql) {
    if (result != nullptr) {
      switch (PQresultStatus(result)) {
        case PGRES_COMMAND_OK:
        case PGRES_TUPLES_OK:
        case PGRES_EMPTY_QUERY:
          return absl::OkStatus();
        default:
          break;
      }
    }
    return PgError(conn_, result, sql);
  }

  absl::StatusOr<const Prepared*> Prepare(absl::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return &it->second;
    if (cache_.size() >= kMaxCachedStatements) {
      Result result(PQexec(conn_, "DEALLOCATE ALL"));
      if (PQresultStatus(result.get()) == PGRES_COMMAND_OK) cache_.clear();
    }
    auto [text, count] = RewritePlaceholders(sql);
    Prepared prepared{absl::StrCat("tessera_", next_statement_++), count};
    Result result(
        PQprepare(conn_, prepared.name.c_str(), text.c_str(), 0, nullptr));
    TS_RETURN_IF_ERROR(CheckResult(result.get(), sql));
    auto [it, inserted] = cache_.emplace(std::string(sql), std::move(prepared));
    return &it->second;
  }

  absl::StatusOr<Result> Run(absl::string_view sql,
                             const std::vector<SqlValue>& params) {
    TS_ASSIGN_OR_RETURN(const Prepared* prepared, Prepare(sql));
    if (prepared->params != static_cast<int>(params.size())) {
      return absl::InternalError(
          absl::StrCat("postgres: statement takes ", prepared->params,
                       " parameters, got ", params.size(), ": ", sql));
    }
    std::vector<std::string> storage(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<int> lengths(params.size(), 0);
    for (size_t i = 0; i < params.size(); ++i) {
      const SqlValue& value = params[i];
      if (std::holds_alternative<std::monostate>(value)) continue;
      if (const int64_t* n = std::get_if<int64_t>(&value)) {
        storage[i] = absl::StrCat(*n);
      } else if (const double* d = std::get_if<double>(&value)) {
        char buffer[32];
        auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), *d);
        storage[i].assign(buffer, end);
      } else {
        // Text is sent with an explicit length, so it may hold any bytes
        // except NUL (which PostgreSQL text cannot store).
        storage[i] = std::get<std::string>(value);
      }
      values[i] = storage[i].c_str();
      lengths[i] = static_cast<int>(storage[i].size());
    }
    Result result(PQexecPrepared(conn_, prepared->name.c_str(),
                                 static_cast<int>(params.size()), values.data(),
                                 lengths.data(), nullptr, 0));
    TS_RETURN_IF_ERROR(CheckResult(result.get(), sql));
    const char* tuples = PQcmdTuples(result.get());
    int64_t changes = 0;
    changes_ =
        (tuples != nullptr && absl::SimpleAtoi(tuples, &changes)) ? changes : 0;
    return result;
  }

  PGconn* const conn_;
  absl::flat_hash_map<std::string, Prepared> cache_;
  int64_t next_statement_ = 0;
  int64_t changes_ = 0;
};

// Sleeps a little before a retry, more after each attempt, with jitter so
// that two transactions that collided do not collide again.
void BackOff(int attempt) {
  thread_local std::minstd_rand rng(std::random_device{}());
  const int64_t cap_us = int64_t{1000} << std::min(attempt, 6);
  std::uniform_int_distribution<int64_t> jitter(cap_us / 4, cap_us);
  absl::SleepFor(absl::Microseconds(jitter(rng)));
}

class PgDatabase final : public SqlDatabase {
 public:
  explicit PgDatabase(const PgOptions& options) : options_(options) {
    dialect_.name = "postgres";
    dialect_.skip_locked = true;
  }
  ~PgDatabase() override { Close(); }

  const Dialect& dialect() const override { return dialect_; }

  absl::Status RunTransaction(
      TxMode mode, absl::FunctionRef<absl::Status(SqlConn&)> fn) override {
    // kRead promises one consistent snapshot, which READ COMMITTED does not
    // give across statements; a READ ONLY REPEATABLE READ transaction never
    // fails with a serialization error, so it costs nothing extra.
    const char* begin = mode == TxMode::kRead
                            ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                            : "BEGIN ISOLATION LEVEL READ COMMITTED";
    for (int attempt = 0;; ++attempt) {
      TS_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, Acquire());
      absl::Status status = conn->Command(begin).status();
      const bool began = status.ok();
      if (began) status = fn(*conn);
      if (began && status.ok()) {
        absl::StatusOr<std::string> tag = conn->Command("COMMIT");
        if (!tag.ok()) {
          status = tag.status();
        } else if (*tag != "COMMIT") {
          status = absl::InternalError(
              "postgres: transaction rolled back at COMMIT: a statement in it "
              "failed but fn returned OK");
        }
      }
      if (!status.ok() && conn->InTransaction()) {
        (void)conn->Command("ROLLBACK");
      }
      Release(std::move(conn));
      // kAborted: serialization failure or deadlock; kUnavailable before fn
      // ran: a pooled connection had gone stale (it has been discarded).
      const bool retry =
          attempt < options_.max_retries &&
          (status.code() == absl::StatusCode::kAborted ||
           (!began && status.code() == absl::StatusCode::kUnavailable));
      if (!retry) return status;
      if (status.code() == absl::StatusCode::kAborted) BackOff(attempt);
    }
  }

  void Close() override {
    std::vector<std::unique_ptr<PgConn>> idle;
    {
      absl::MutexLock lock(&mu_);
      closed_ = true;
      open_ -= static_cast<int>(idle_.size());
      idle.swap(idle_);
    }
    // `idle` closes its connections here, outside the lock.
  }

  // Takes a connection from the pool, opening one if the pool is not full;
  // blocks while every connection is busy.
  absl::StatusOr<std::unique_ptr<PgConn>> Acquire() {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](PgDatabase* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->closed_ || !self->idle_.empty() ||
                   self->open_ < self->options_.pool_size;
          },
          this));
      if (closed_) {
        return absl::FailedPreconditionError("postgres: database closed");
      }
      if (!idle_.empty()) {
        std::unique_ptr<PgConn> conn = std::move(idle_.back());
        idle_.pop_back();
        return conn;
      }
      ++open_;
    }
    absl::StatusOr<std::unique_ptr<PgConn>> conn =
        PgConn::Connect(options_.url);
    if (!conn.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
    }
    return conn;
  }

  // Returns a connection to the pool, or closes it when it is broken, still
  // inside a transaction, or the database is closed.
  void Release(std::unique_ptr<PgConn> conn) {
    {
      absl::MutexLock lock(&mu_);
      if (!closed_ && conn->Idle()) {
        idle_.push_back(std::move(conn));
        return;
      }
      --open_;
    }
    // `conn` closes here, outside the lock.
  }

 private:
  const PgOptions options_;
  Dialect dialect_;
  absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle plus in use
  std::vector<std::unique_ptr<PgConn>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::pair<std::string, int> RewritePlaceholders(absl::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int count = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote re-enters on the next char
      out.push_back(c);
    } else if (c == '\'' || c == '"') {
      quote = c;
      out.push_back(c);
    } else if (c == '?') {
      absl::StrAppend(&out, "$", ++count);
    } else {
      out.push_back(c);
    }
  }
  return {std::move(out), count};
}

absl::StatusOr<std::unique_ptr<SqlDatabase>> OpenPostgres(
    const PgOptions& options) {
  if (options.url.empty()) {
    return absl::InvalidArgumentError("postgres: url is empty");
  }
  if (options.pool_size < 1 || options.max_retries < 0) {
    return absl::InvalidArgumentError(
        "postgres: pool_size must be at least 1 and max_retries at least 0");
  }
  auto db = std::make_unique<PgDatabase>(options);
  TS_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, db->Acquire());
  db->Release(std::move(conn));
  return db;
}

}  // namespace tessera::store::postgres
