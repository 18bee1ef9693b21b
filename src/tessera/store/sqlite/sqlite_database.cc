// SQLite driver: RAII connections with a per-connection prepared-statement
// cache, a group-committing writer thread, and a pool of read connections.
#include "tessera/store/sqlite/sqlite_database.h"

#include <pthread.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "tessera/base/status.h"

namespace tessera::store::sqlite {
namespace {

// Statements cached per connection before the cache is flushed; bounds memory
// when callers generate SQL text (e.g. IN lists of varying length).
constexpr size_t kMaxCachedStatements = 512;

// Maps a SQLite result code (extended codes enabled) to a Status.
absl::Status SqliteError(int rc, absl::string_view message,
                         absl::string_view sql) {
  std::string text =
      absl::StrCat("sqlite: ", message, " (", sqlite3_errstr(rc), ")");
  if (!sql.empty()) absl::StrAppend(&text, " in: ", sql);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(text);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(text);
    default:
      return absl::InternalError(text);
  }
}

// One SQLite connection. Not thread-safe: used by one thread at a time (the
// writer thread, or the reader that leased it from the pool).
class SqliteConn final : public SqlConn {
 public:
  // Opens `path` with `flags` (SQLITE_OPEN_*) and applies the per-connection
  // pragmas.
  static absl::StatusOr<std::unique_ptr<SqliteConn>> Open(
      const SqliteOptions& options, int flags) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(options.path.c_str(), &db,
                             flags | SQLITE_OPEN_NOMUTEX, nullptr);
    // sqlite3_open_v2 allocates a handle even on failure; the RAII owner
    // closes it either way.
    auto conn = std::unique_ptr<SqliteConn>(new SqliteConn(db));
    if (rc != SQLITE_OK) {
      return SqliteError(rc,
                         db != nullptr ? sqlite3_errmsg(db) : "out of memory",
                         absl::StrCat("open ", options.path));
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(
        db, static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
    TS_RETURN_IF_ERROR(conn->ExecScript("PRAGMA foreign_keys=ON;"));
    TS_RETURN_IF_ERROR(conn->ExecScript(options.durability == Durability::kFull
                                            ? "PRAGMA synchronous=FULL;"
                                            : "PRAGMA synchronous=NORMAL;"));
    return conn;
  }

  ~SqliteConn() override {
    ClearCache();
    sqlite3_close_v2(db_);
  }

  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  absl::Status Exec(absl::string_view sql,
                    const std::vector<SqlValue>& params) override {
    TS_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql, params));
    StmtReset reset(stmt);
    if (stmt == nullptr) return absl::OkStatus();  // blank SQL
    if (!sqlite3_stmt_readonly(stmt)) wrote_ = true;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return StepError(sql);
    changes_ = sqlite3_changes64(db_);
    return absl::OkStatus();
  }

  absl::StatusOr<SqlRows> Query(absl::string_view sql,
                                const std::vector<SqlValue>& params) override {
    TS_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql, params));
    StmtReset reset(stmt);
    SqlRows rows;
    if (stmt == nullptr) return rows;
    if (!sqlite3_stmt_readonly(stmt)) wrote_ = true;
    const int columns = sqlite3_column_count(stmt);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      SqlRow& row = rows.emplace_back();
      row.reserve(columns);
      for (int i = 0; i < columns; ++i) {
        switch (sqlite3_column_type(stmt, i)) {
          case SQLITE_INTEGER:
            row.emplace_back(
                static_cast<int64_t>(sqlite3_column_int64(stmt, i)));
            break;
          case SQLITE_FLOAT:
            row.emplace_back(sqlite3_column_double(stmt, i));
            break;
          case SQLITE_NULL:
            row.emplace_back(std::monostate{});
            break;
          default: {  // TEXT or BLOB: bytes as they are.
            const void* data = sqlite3_column_blob(stmt, i);
            const int size = sqlite3_column_bytes(stmt, i);
            row.emplace_back(
                data == nullptr
                    ? std::string()
                    : std::string(static_cast<const char*>(data), size));
          }
        }
      }
    }
    if (rc != SQLITE_DONE) return StepError(sql);
    changes_ = sqlite3_changes64(db_);
    return rows;
  }

  int64_t Changes() override { return changes_; }

  absl::StatusOr<int64_t> LastInsertId() override {
    return sqlite3_last_insert_rowid(db_);
  }

  absl::Status ExecScript(absl::string_view sql) override {
    wrote_ = true;  // a script may hold anything
    const std::string script(sql);
    char* error = nullptr;
    int rc = sqlite3_exec(db_, script.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
      absl::Status status =
          SqliteError(sqlite3_extended_errcode(db_),
                      error != nullptr ? error : sqlite3_errmsg(db_), "script");
      sqlite3_free(error);
      return status;
    }
    return absl::OkStatus();
  }

  // True when no transaction is open (SQLite's autocommit mode).
  bool InAutocommit() const { return sqlite3_get_autocommit(db_) != 0; }

  // Whether a statement that may write (not read-only by
  // sqlite3_stmt_readonly, or any script) ran since ClearWrote: a failed
  // job that wrote nothing needs nothing undone.
  bool Wrote() const { return wrote_; }
  void ClearWrote() { wrote_ = false; }

  // Copies what it can of the WAL into the database file without waiting
  // for (or blocking) readers and writers (SQLITE_CHECKPOINT_PASSIVE).
  // Returns how many of the WAL's pages are now copied (-1 when unknown:
  // another checkpoint was running).
  absl::StatusOr<int> CheckpointPassive() {
    int log_frames = -1;
    int copied = -1;
    int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                       &log_frames, &copied);
    if (rc == SQLITE_OK) return copied;
    if (rc == SQLITE_BUSY) return -1;
    return SqliteError(rc, sqlite3_errmsg(db_), "wal checkpoint");
  }

  // Calls hook(arg, frames) after each commit with the WAL's size in frames
  // (pages). Replaces SQLite's automatic checkpoint, which would otherwise
  // run inside the commit that crosses its threshold.
  void SetWalHook(int (*hook)(void*, sqlite3*, const char*, int), void* arg) {
    sqlite3_wal_hook(db_, hook, arg);
  }

 private:
  // Resets a statement and clears its bindings when a call ends.
  class StmtReset {
   public:
    explicit StmtReset(sqlite3_stmt* stmt) : stmt_(stmt) {}
    ~StmtReset() {
      if (stmt_ != nullptr) {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
      }
    }
    StmtReset(const StmtReset&) = delete;
    StmtReset& operator=(const StmtReset&) = delete;

   private:
    sqlite3_stmt* stmt_;
  };

  explicit SqliteConn(sqlite3* db) : db_(db) {}

  absl::Status StepError(absl::string_view sql) {
    return SqliteError(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_), sql);
  }

  void ClearCache() {
    for (auto& [text, stmt] : cache_) sqlite3_finalize(stmt);
    cache_.clear();
  }

  // Returns the cached statement for `sql` with `params` bound, or nullptr
  // when `sql` holds no statement.
  absl::StatusOr<sqlite3_stmt*> Prepare(absl::string_view sql,
                                        const std::vector<SqlValue>& params) {
    sqlite3_stmt* stmt = nullptr;
    if (auto it = cache_.find(sql); it != cache_.end()) {
      stmt = it->second;
    } else {
      if (cache_.size() >= kMaxCachedStatements) ClearCache();
      const char* tail = nullptr;
      int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                  SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
      if (rc != SQLITE_OK) {
        return SqliteError(rc, sqlite3_errmsg(db_), sql);
      }
      absl::string_view rest(tail, sql.data() + sql.size() - tail);
      if (rest.find_first_not_of(" \t\r\n;") != absl::string_view::npos) {
        sqlite3_finalize(stmt);
        return absl::InternalError(absl::StrCat(
            "sqlite: more than one statement (use ExecScript) in: ", sql));
      }
      if (stmt == nullptr) {
        if (!params.empty()) {
          return absl::InternalError(
              absl::StrCat("sqlite: parameters given for blank SQL: ", sql));
        }
        return nullptr;
      }
      cache_.emplace(std::string(sql), stmt);
    }
    if (sqlite3_bind_parameter_count(stmt) != static_cast<int>(params.size())) {
      return absl::InternalError(absl::StrCat(
          "sqlite: statement takes ", sqlite3_bind_parameter_count(stmt),
          " parameters, got ", params.size(), ": ", sql));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      int rc = SQLITE_OK;
      const SqlValue& value = params[i];
      if (std::holds_alternative<std::monostate>(value)) {
        rc = sqlite3_bind_null(stmt, index);
      } else if (const int64_t* n = std::get_if<int64_t>(&value)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const double* d = std::get_if<double>(&value)) {
        rc = sqlite3_bind_double(stmt, index, *d);
      } else {
        const std::string& s = std::get<std::string>(value);
        rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(),
                                 SQLITE_TRANSIENT, SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) {
        sqlite3_clear_bindings(stmt);
        return SqliteError(rc, sqlite3_errmsg(db_), sql);
      }
    }
    return stmt;
  }

  sqlite3* const db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> cache_;
  int64_t changes_ = 0;
  bool wrote_ = false;
};

// A write transaction waiting for the writer thread. A blocking caller's job
// lives on its stack, and the caller waits on `done` until the writer has set
// `result`. An asynchronous job (RunWriteAsync) is on the heap and owns its
// fn; Finish deletes it and hands the result to `then`.
struct WriteJob {
  explicit WriteJob(absl::FunctionRef<absl::Status(SqlConn&)> f) : fn(f) {}
  WriteJob(std::function<absl::Status(SqlConn&)> f,
           std::function<void(absl::Status)> t)
      : owned_fn(std::move(f)), fn(owned_fn), then(std::move(t)) {}
  std::function<absl::Status(SqlConn&)> owned_fn;  // before fn, which refers
                                                   // to it
  absl::FunctionRef<absl::Status(SqlConn&)> fn;
  std::function<void(absl::Status)> then;
  absl::Status result;
  absl::Notification done;
};

// Writer thread: hands `status` to the job's caller.
void Finish(WriteJob* job, absl::Status status) {
  if (!job->then) {
    job->result = std::move(status);
    job->done.Notify();
    return;
  }
  std::function<void(absl::Status)> then = std::move(job->then);
  delete job;
  try {
    then(std::move(status));
  } catch (const std::exception& e) {
    std::cerr << "tessera sqlite: a write's completion threw: " << e.what()
              << "\n";
  } catch (...) {
    std::cerr << "tessera sqlite: a write's completion threw\n";
  }
}

class SqliteDatabase final : public SqlDatabase {
 public:
  SqliteDatabase(const SqliteOptions& options,
                 std::unique_ptr<SqliteConn> writer,
                 std::unique_ptr<SqliteConn> checkpointer,
                 std::vector<std::unique_ptr<SqliteConn>> readers)
      : max_batch_(options.max_batch),
        reader_count_(static_cast<int>(readers.size())),
        writer_(std::move(writer)),
        checkpointer_(std::move(checkpointer)),
        idle_readers_(std::move(readers)) {
    dialect_.name = "sqlite";
    dialect_.skip_locked = false;
    writer_->SetWalHook(&SqliteDatabase::OnWalCommit, this);
    writer_thread_ = std::thread([this] { WriterLoop(); });
    writer_thread_id_ = writer_thread_.get_id();
    checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
  }

  ~SqliteDatabase() override { Close(); }

  const Dialect& dialect() const override { return dialect_; }

  SqliteWalStats WalStats() const {
    return {stats_.checkpoints.load(std::memory_order_relaxed),
            stats_.writer_checkpoints.load(std::memory_order_relaxed),
            stats_.wal_restarts.load(std::memory_order_relaxed)};
  }

  absl::Status RunTransaction(
      TxMode mode, absl::FunctionRef<absl::Status(SqlConn&)> fn) override {
    return mode == TxMode::kWrite ? RunWrite(fn) : RunRead(fn);
  }

  bool async_writes() const override { return true; }

  bool RunWriteAsync(std::function<absl::Status(SqlConn&)> fn,
                     std::function<void(absl::Status)> done) override {
    auto job = std::make_unique<WriteJob>(std::move(fn), std::move(done));
    absl::MutexLock lock(&mu_);
    if (closed_) return false;
    queue_.push_back(job.release());
    return true;
  }

  void Close() override {
    {
      absl::MutexLock lock(&mu_);
      if (closed_) return;
      closed_ = true;  // wakes the writer, which drains the queue and exits
    }
    writer_thread_.join();
    checkpoint_thread_.join();
    checkpointer_.reset();
    absl::MutexLock lock(&mu_);
    // Readers in flight return their connection before it is closed.
    mu_.Await(absl::Condition(
        +[](SqliteDatabase* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
          return static_cast<int>(self->idle_readers_.size()) ==
                 self->reader_count_;
        },
        this));
    idle_readers_.clear();
    writer_.reset();  // last connection: SQLite checkpoints the WAL
  }

 private:
  absl::Status RunWrite(absl::FunctionRef<absl::Status(SqlConn&)> fn) {
    if (std::this_thread::get_id() == writer_thread_id_) {
      return absl::InternalError(
          "sqlite: nested write transaction (RunTransaction(kWrite) called "
          "from inside a write transaction)");
    }
    WriteJob job(fn);
    {
      absl::MutexLock lock(&mu_);
      if (closed_)
        return absl::FailedPreconditionError("sqlite: database closed");
      queue_.push_back(&job);
    }
    job.done.WaitForNotification();
    return std::move(job.result);
  }

  absl::Status RunRead(absl::FunctionRef<absl::Status(SqlConn&)> fn) {
    std::unique_ptr<SqliteConn> conn;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](SqliteDatabase* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->closed_ || !self->idle_readers_.empty();
          },
          this));
      if (closed_)
        return absl::FailedPreconditionError("sqlite: database closed");
      conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
    // Returns the connection to the pool however this function exits.
    struct Lease {
      SqliteDatabase* db;
      std::unique_ptr<SqliteConn>& conn;
      ~Lease() {
        if (!conn->InAutocommit()) (void)conn->ExecScript("ROLLBACK;");
        absl::MutexLock lock(&db->mu_);
        db->idle_readers_.push_back(std::move(conn));
      }
    } lease{this, conn};
    TS_RETURN_IF_ERROR(conn->Exec("BEGIN", {}));
    TS_RETURN_IF_ERROR(fn(*conn));
    return conn->Exec("COMMIT", {});
  }

  // SQLite's wal hook on the writer connection, after every commit, with
  // the WAL's size in frames (pages). SQLite's automatic checkpoint would
  // run inside the commit that crosses its threshold, and, once the WAL is
  // past it and cannot restart, inside every commit after (under load the
  // writer rarely begins a transaction with the WAL fully copied, which a
  // restart needs): hundreds of checkpoints a second, each with two fsyncs.
  // Instead:
  // - the checkpoint thread copies the WAL into the database file once
  //   kCheckpointFrames pages have been added since its last checkpoint;
  // - once the WAL holds kRestartFrames pages and the checkpoint thread has
  //   copied all but the last few (256 pages, or an eighth of a larger
  //   WAL), the writer itself copies those after its batch, so that its
  //   next transaction starts on a fully copied WAL and writes it from the
  //   start again: the file stays small;
  // - past kWriterCheckpointFrames (the checkpoint thread cannot keep up)
  //   the writer checkpoints after its batch whatever it costs, to bound
  //   the file.
  static int OnWalCommit(void* arg, sqlite3*, const char*, int frames) {
    static_cast<SqliteDatabase*>(arg)->AfterCommit(frames);
    return SQLITE_OK;
  }

  // Writer thread only.
  void AfterCommit(int frames) {
    if (frames < wal_frames_) {
      // The WAL restarted: earlier checkpoint counts are of the old file.
      wal_generation_.fetch_add(1, std::memory_order_relaxed);
      stats_.wal_restarts.fetch_add(1, std::memory_order_relaxed);
    }
    wal_frames_ = frames;
    const int uncopied = frames - Backfilled();
    // The share left for the writer to copy grows with the WAL, so that
    // when commits outpace the checkpoint thread the WAL still restarts
    // (later, and at a higher cost to the writer).
    if (frames >= kWriterCheckpointFrames ||
        (frames >= kRestartFrames &&
         uncopied <= std::max(kRestartUncopiedFrames, frames / 8))) {
      writer_checkpoint_wanted_ = true;
    }
    if (uncopied >= kCheckpointFrames &&
        !checkpoint_requested_.exchange(true, std::memory_order_acq_rel)) {
      absl::MutexLock lock(&mu_);
      checkpoint_wanted_ = true;
    }
  }

  // Pages of the current WAL known to be copied into the database file.
  int Backfilled() const {
    const uint64_t packed = backfilled_.load(std::memory_order_acquire);
    return (packed >> 32) == wal_generation_.load(std::memory_order_relaxed)
               ? static_cast<int>(packed & 0xffffffff)
               : 0;
  }

  // Checkpoints on `conn` and records how far the WAL is copied. A count
  // recorded for a WAL that restarted meanwhile is ignored (the next
  // commit asks for a checkpoint again), never taken for the new file's.
  // `counter` counts the checkpoints that ran, not those that found
  // another one running (SQLITE_BUSY).
  void Checkpoint(SqliteConn& conn, std::atomic<int64_t>& counter) {
    const uint64_t generation = wal_generation_.load(std::memory_order_relaxed);
    absl::StatusOr<int> copied = conn.CheckpointPassive();
    if (!copied.ok()) {
      // Not fatal: the WAL keeps the data, and the writer checkpoints
      // itself should the file keep growing.
      std::cerr << "tessera sqlite: " << copied.status() << "\n";
      return;
    }
    if (*copied >= 0) {
      counter.fetch_add(1, std::memory_order_relaxed);
      backfilled_.store((generation << 32) | static_cast<uint32_t>(*copied),
                        std::memory_order_release);
    }
  }

  void CheckpointLoop() {
    pthread_setname_np(pthread_self(), "sqlite-ckpt");
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](SqliteDatabase* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
              return self->closed_ || self->checkpoint_wanted_;
            },
            this));
        if (closed_) return;  // the last connection to close checkpoints
        checkpoint_wanted_ = false;
      }
      Checkpoint(*checkpointer_, stats_.checkpoints);
      checkpoint_requested_.store(false, std::memory_order_release);
    }
  }

  void WriterLoop() {
    pthread_setname_np(pthread_self(), "sqlite-writer");
    std::vector<WriteJob*> batch;
    while (true) {
      batch.clear();
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](SqliteDatabase* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
              return self->closed_ || !self->queue_.empty();
            },
            this));
        if (queue_.empty()) return;  // closed and drained
        while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
          batch.push_back(queue_.front());
          queue_.pop_front();
        }
      }
      RunBatch(batch);
      if (writer_checkpoint_wanted_) {
        writer_checkpoint_wanted_ = false;
        Checkpoint(*writer_, stats_.writer_checkpoints);
      }
    }
  }

  // Runs one fn in the batch's open transaction. Normally without a
  // savepoint: while one is open SQLite copies every page a statement first
  // changes into the sub-journal (a claim or a submission changes 12-20),
  // which cost the writer ~10% of its time in a claim→submit run (and the
  // sub-journal of a long fn, an import of 1M rows, grew to ~12 GB). A fn
  // that fails having written rolls the whole transaction back; RunBatch
  // then runs the jobs before it again, each in its own savepoint
  // (`savepoint`), rolled back on its error so that only its changes vanish.
  // A fn that fails before writing (most refusals: a bad result, a late
  // submit) leaves the transaction as it was.
  absl::Status RunJob(WriteJob* job, bool savepoint) {
    SqliteConn& conn = *writer_;
    if (savepoint) TS_RETURN_IF_ERROR(conn.Exec("SAVEPOINT tessera_job", {}));
    conn.ClearWrote();
    absl::Status status;
    try {
      status = job->fn(conn);
    } catch (const std::exception& e) {
      status = absl::InternalError(
          absl::StrCat("sqlite: write transaction threw: ", e.what()));
    } catch (...) {
      status = absl::InternalError("sqlite: write transaction threw");
    }
    if (!savepoint) {
      if (!status.ok() && conn.Wrote() && !conn.InAutocommit()) {
        (void)conn.ExecScript("ROLLBACK;");
      }
      return status;
    }
    if (status.ok()) status = conn.Exec("RELEASE tessera_job", {});
    if (!status.ok() && !conn.InAutocommit()) {
      // If rolling back the savepoint fails too, the caller sees the outer
      // transaction as lost (InAutocommit after a full ROLLBACK).
      absl::Status undo = conn.Exec("ROLLBACK TO tessera_job", {});
      if (undo.ok()) undo = conn.Exec("RELEASE tessera_job", {});
      if (!undo.ok()) (void)conn.ExecScript("ROLLBACK;");
    }
    return status;
  }

  // Runs `batch` as few transactions as possible (normally one) and finishes
  // every job in it.
  void RunBatch(const std::vector<WriteJob*>& batch) {
    SqliteConn& conn = *writer_;
    std::deque<WriteJob*> pending(batch.begin(), batch.end());
    // Savepoints per job once a failure has cost the batch a rollback, so
    // that it costs at most one.
    bool savepoints = false;
    while (!pending.empty()) {
      absl::Status begin = conn.Exec("BEGIN IMMEDIATE", {});
      if (!begin.ok()) {
        for (WriteJob* job : pending) Finish(job, begin);
        return;
      }
      std::vector<WriteJob*> succeeded;
      bool lost = false;
      const bool isolate = savepoints && pending.size() > 1;
      while (!pending.empty()) {
        WriteJob* job = pending.front();
        pending.pop_front();
        absl::Status status = RunJob(job, isolate);
        if (status.ok() && conn.InAutocommit()) {
          status = absl::InternalError(
              "sqlite: a write transaction's fn ended the transaction");
        }
        if (status.ok()) {
          succeeded.push_back(job);
          continue;
        }
        Finish(job, std::move(status));
        if (conn.InAutocommit()) {
          // The failure took the whole transaction with it (RunJob rolled it
          // back, SQLite does on some errors, or the fn ended it): run the
          // jobs that had succeeded again in a fresh transaction. Each round
          // removes the failing job, so this terminates.
          pending.insert(pending.begin(), succeeded.begin(), succeeded.end());
          savepoints = true;
          lost = true;
          break;
        }
      }
      if (lost) continue;
      absl::Status commit = conn.Exec("COMMIT", {});
      if (!commit.ok() && !conn.InAutocommit()) {
        (void)conn.ExecScript("ROLLBACK;");
      }
      for (WriteJob* job : succeeded) Finish(job, commit);
    }
  }

  Dialect dialect_;
  const int max_batch_;
  const int reader_count_;

  absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<WriteJob*> queue_ ABSL_GUARDED_BY(mu_);
  // SQLite's own default threshold for its automatic checkpoint (pages).
  static constexpr int kCheckpointFrames = 1000;
  static constexpr int kRestartFrames = 2 * kCheckpointFrames;
  static constexpr int kRestartUncopiedFrames = 256;
  static constexpr int kWriterCheckpointFrames = 20 * kCheckpointFrames;

  bool checkpoint_wanted_ ABSL_GUARDED_BY(mu_) = false;
  // Set by the writer when it asks for a checkpoint, cleared by the
  // checkpoint thread when that checkpoint is done: one request at a time.
  std::atomic<bool> checkpoint_requested_{false};
  // WAL restarts the writer has seen, and (generation << 32 | pages) of
  // the last checkpoint.
  std::atomic<uint64_t> wal_generation_{0};
  std::atomic<uint64_t> backfilled_{0};
  struct {
    std::atomic<int64_t> checkpoints{0};
    std::atomic<int64_t> writer_checkpoints{0};
    std::atomic<int64_t> wal_restarts{0};
  } stats_;
  // Used only by the writer thread.
  int wal_frames_ = 0;
  bool writer_checkpoint_wanted_ = false;
  // Used only by the writer thread (and by Close after joining it).
  std::unique_ptr<SqliteConn> writer_;
  // Used only by the checkpoint thread (and by Close after joining it).
  std::unique_ptr<SqliteConn> checkpointer_;
  std::vector<std::unique_ptr<SqliteConn>> idle_readers_ ABSL_GUARDED_BY(mu_);
  std::thread writer_thread_;
  std::thread::id writer_thread_id_;
  std::thread checkpoint_thread_;
};

}  // namespace

SqliteWalStats WalStats(const SqlDatabase& db) {
  const auto* sqlite = dynamic_cast<const SqliteDatabase*>(&db);
  return sqlite != nullptr ? sqlite->WalStats() : SqliteWalStats{};
}

absl::StatusOr<std::unique_ptr<SqlDatabase>> OpenSqlite(
    const SqliteOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("sqlite: path is empty");
  }
  if (options.read_connections < 1 || options.max_batch < 1) {
    return absl::InvalidArgumentError(
        "sqlite: read_connections and max_batch must be at least 1");
  }
  // While a savepoint is open (after a failure in a batch, Tx::Nested) or a
  // statement may need its own rollback, each page changed is first copied
  // to the sub-journal, which SQLite keeps in memory only up
  // to 64 KiB and then writes to a temp file: a third of the writer's time
  // under load went to those writes. Keep up to 1 MiB in memory (bigger
  // jobs, e.g. imports, still spill). SQLite allocates the in-memory
  // journal as one chunk of this size, so it must stay well below
  // jemalloc's 8 MiB "oversize" threshold: those allocations are returned
  // to the kernel (madvise) on every free. Possible only before SQLite's
  // first use in the process, which is normally this call; otherwise it is
  // refused and the default stays.
  static std::once_flag spill_once;
  std::call_once(spill_once, [] {
    (void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, 1 << 20);
  });
  TS_ASSIGN_OR_RETURN(
      std::unique_ptr<SqliteConn> writer,
      SqliteConn::Open(options, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  TS_ASSIGN_OR_RETURN(SqlRows mode,
                      writer->Query("PRAGMA journal_mode=WAL", {}));
  if (mode.size() != 1 || mode[0].size() != 1 ||
      !std::holds_alternative<std::string>(mode[0][0]) ||
      std::get<std::string>(mode[0][0]) != "wal") {
    return absl::InternalError(
        absl::StrCat("sqlite: cannot switch ", options.path, " to WAL mode"));
  }
  TS_ASSIGN_OR_RETURN(std::unique_ptr<SqliteConn> checkpointer,
                      SqliteConn::Open(options, SQLITE_OPEN_READWRITE));
  std::vector<std::unique_ptr<SqliteConn>> readers;
  for (int i = 0; i < options.read_connections; ++i) {
    TS_ASSIGN_OR_RETURN(std::unique_ptr<SqliteConn> reader,
                        SqliteConn::Open(options, SQLITE_OPEN_READONLY));
    readers.push_back(std::move(reader));
  }
  return std::make_unique<SqliteDatabase>(
      options, std::move(writer), std::move(checkpointer), std::move(readers));
}

}  // namespace tessera::store::sqlite
