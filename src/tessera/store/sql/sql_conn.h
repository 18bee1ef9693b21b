// The driver boundary under the SQL store: a connection that runs parameterised
// SQL, and a database that runs a function as one transaction. The SQLite and
// PostgreSQL drivers implement these; sql_tx.cc writes the domain's SQL once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tessera::store {

// A SQL value: NULL, integer, real or text (JSON is stored as text).
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;
using SqlRow = std::vector<SqlValue>;
using SqlRows = std::vector<SqlRow>;

// Dialect facts the shared SQL needs.
struct Dialect {
  std::string name;          // "sqlite" or "postgres"
  bool skip_locked = false;  // supports SELECT ... FOR UPDATE SKIP LOCKED
};

// One open connection inside a transaction. SQL uses `?` placeholders in both
// dialects (the PostgreSQL driver rewrites them to $1, $2, ...; SQL text must
// not contain a literal '?'). Not thread-safe; used by one transaction at a
// time.
//
// Errors: a unique or foreign-key violation is kAlreadyExists (message names
// the constraint); a serialization failure or deadlock is kAborted; a busy or
// lost connection is kUnavailable; anything else kInternal.
class SqlConn {
 public:
  virtual ~SqlConn() = default;
  // Runs a statement that returns no rows (or whose rows are ignored).
  virtual absl::Status Exec(absl::string_view sql,
                            const std::vector<SqlValue>& params = {}) = 0;
  // Runs a statement and returns all its rows. Integer columns come back as
  // int64_t, text as std::string, NULL as monostate.
  virtual absl::StatusOr<SqlRows> Query(
      absl::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
  // Number of rows changed by the last Exec (UPDATE/DELETE/INSERT).
  virtual int64_t Changes() = 0;
  // Runs several ;-separated statements without parameters (migrations).
  virtual absl::Status ExecScript(absl::string_view sql) = 0;
  // The integer primary key of the row the last successful INSERT on this
  // connection added, where the backend keeps it (SQLite; elsewhere use
  // RETURNING).
  virtual absl::StatusOr<int64_t> LastInsertId() {
    return absl::UnimplementedError("LastInsertId: use RETURNING");
  }
};

enum class TxMode {
  kRead,   // a consistent snapshot; must not write
  kWrite,  // may write; serialised with other writers as the backend needs
};

// A database: runs `fn` as one transaction and commits it when `fn` returns
// OK; rolls it back (and changes nothing) when `fn` returns an error, which is
// then returned. A returned OK means the transaction is committed (durably,
// as the durability mode promises). `fn` may be run more than once when the
// backend retries a kAborted transaction, so it must have no side effects
// outside the connection other than assigning its captured outputs.
// Thread-safe.
class SqlDatabase {
 public:
  virtual ~SqlDatabase() = default;
  virtual const Dialect& dialect() const = 0;
  virtual absl::Status RunTransaction(
      TxMode mode, absl::FunctionRef<absl::Status(SqlConn&)> fn) = 0;
  // A write transaction that does not block the caller, where the driver can
  // run one so (see Store::RunWriteAsync): queues `fn` and returns true;
  // `done` then gets what RunTransaction(kWrite, fn) would have returned.
  // False, with nothing run, where it cannot (the default) or once closed.
  virtual bool RunWriteAsync(std::function<absl::Status(SqlConn&)> /*fn*/,
                             std::function<void(absl::Status)> /*done*/) {
    return false;
  }
  // Whether RunWriteAsync can work here (until Close).
  virtual bool async_writes() const { return false; }
  // Stops accepting work, finishes queued transactions, closes connections.
  virtual void Close() = 0;
};

}  // namespace tessera::store
