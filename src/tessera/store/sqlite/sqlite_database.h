// The SQLite driver: a SqlDatabase over one database file in WAL mode, with a
// single writer thread that group-commits concurrent write transactions and a
// pool of read-only connections for snapshot reads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tessera/store/sql/sql_conn.h"

namespace tessera::store::sqlite {

// How hard a COMMIT pushes data to disk.
enum class Durability {
  kFull,    // PRAGMA synchronous=FULL: the WAL is fsynced at every commit; an
            // acknowledged transaction survives power loss.
  kNormal,  // PRAGMA synchronous=NORMAL: fsync only at checkpoints; survives a
            // process crash, may lose the last commits on power loss.
};

struct SqliteOptions {
  // Database file, relative to the working directory or absolute. Created if
  // missing.
  std::string path;
  Durability durability = Durability::kFull;
  // Read-only connections serving TxMode::kRead; readers block when all are
  // busy. At least 1.
  int read_connections = 4;
  // Most write transactions the writer thread runs inside one COMMIT.
  int max_batch = 64;
  // How long a connection waits for another process's lock before failing
  // with kUnavailable.
  absl::Duration busy_timeout = absl::Seconds(5);
};

// Opens (creating if needed) the database at options.path.
//
// RunTransaction(kWrite, fn) queues fn for the writer thread and blocks until
// the COMMIT that contains it has finished. The writer runs up to max_batch
// queued transactions in one SQLite transaction. A fn that fails is undone
// and its error is returned to its caller only; its neighbours are kept (a
// fn that fails having written rolls the transaction back, and the fns
// before it run again, each in its own SAVEPOINT: write fns must be safe to
// run twice, as on PostgreSQL, which retries them). A caller gets OK
// only after that shared COMMIT succeeded; if the COMMIT fails, every caller
// in the batch gets the error. Calling RunTransaction(kWrite) from inside a
// write fn fails with kInternal (it would deadlock).
//
// RunWriteAsync(fn, done) queues fn the same way without waiting: the writer
// thread calls done with fn's result right after that COMMIT (done must be
// quick; it delays the next batch). It returns false once the database is
// closed.
//
// RunTransaction(kRead, fn) runs fn on a pooled read-only connection inside
// BEGIN ... COMMIT, so fn sees one consistent snapshot of committed data.
//
// The returned database is thread-safe. Close() (also run by the destructor)
// finishes queued writes, then closes every connection; later calls to
// RunTransaction fail with kFailedPrecondition.
//
// Errors: kInvalidArgument for bad options; kUnavailable or kInternal when the
// file cannot be opened or configured.
absl::StatusOr<std::unique_ptr<SqlDatabase>> OpenSqlite(
    const SqliteOptions& options);

// What the WAL checkpoints of a database from OpenSqlite have done so far
// (all zero for any other database). A checkpoint that found another one
// running is not counted.
struct SqliteWalStats {
  int64_t checkpoints = 0;         // by the checkpoint thread
  int64_t writer_checkpoints = 0;  // by the writer, between its commits
  int64_t wal_restarts = 0;        // times the WAL was written from its start
};
SqliteWalStats WalStats(const SqlDatabase& db);

}  // namespace tessera::store::sqlite
