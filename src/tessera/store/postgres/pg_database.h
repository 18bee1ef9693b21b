// The PostgreSQL driver: a SqlDatabase over a pool of libpq connections, with
// per-connection prepared statements and retry of serialization failures.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/store/sql/sql_conn.h"

namespace tessera::store::postgres {

struct PgOptions {
  // libpq connection string: a URI (postgresql://user@host:port/db?...) or
  // keyword=value pairs.
  std::string url;
  // Most connections open at once; opened lazily, RunTransaction blocks when
  // all are in use. At least 1.
  int pool_size = 16;
  // How many times a transaction whose fn or COMMIT failed with kAborted
  // (serialization failure, deadlock) is run again before the error is
  // returned.
  int max_retries = 5;
};

// Connects once to check `options.url` (the connection is kept in the pool)
// and returns the database.
//
// RunTransaction takes a pooled connection, runs BEGIN, fn, COMMIT. kWrite is
// READ COMMITTED (fn may raise it with SET TRANSACTION as its first
// statement); kRead is REPEATABLE READ READ ONLY, one consistent snapshot. On
// kAborted it rolls back and runs fn again, up to max_retries times; on any
// other error it rolls back and returns the error. A connection found broken is
// discarded and replaced. Unlike SQLite, a failed statement aborts the whole
// PostgreSQL transaction: fn must return the error rather than carry on (a
// COMMIT after a swallowed error fails with kInternal).
//
// Parameters are sent as text with unspecified types, so the server infers
// each `?`'s type from its context; where it cannot (e.g. `? IS NULL`), write
// CAST(? AS BIGINT). Result columns: int2/int4/int8 → int64_t, float4/float8/
// numeric → double, bool → int64_t 0/1, NULL → monostate, others → text.
//
// Thread-safe. Close() closes idle connections now and busy ones when their
// transaction ends; later RunTransaction calls fail with kFailedPrecondition.
//
// Errors: kInvalidArgument for bad options; kUnavailable when the server
// cannot be reached.
absl::StatusOr<std::unique_ptr<SqlDatabase>> OpenPostgres(
    const PgOptions& options);

// Rewrites `?` placeholders to $1, $2, ... outside quoted literals and
// identifiers, as the driver does to every statement; returns the new text
// and the placeholder count.
std::pair<std::string, int> RewritePlaceholders(absl::string_view sql);

}  // namespace tessera::store::postgres
