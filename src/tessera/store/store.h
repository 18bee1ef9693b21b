// The storage port in domain terms. Services run each use case as one
// transaction through Store::Run; Tx offers the reads and writes they need.
// One implementation (sql/sql_store) writes the SQL once over the SQLite and
// PostgreSQL drivers; tests run one conformance suite against both.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tessera/base/ids.h"
#include "tessera/domain/types.h"
#include "tessera/store/sql/sql_conn.h"

namespace tessera::store {

struct SubmissionFilter {
  std::optional<UserId> annotator;
  std::optional<PoolId> pool;
  std::optional<TaskId> task;
  std::optional<domain::SubmissionState> state;
  int limit = 100;
  int64_t after_id = 0;  // keyset pagination: ids greater than this
};

// Submissions by state (of those a filter selects).
struct SubmissionCounts {
  int64_t total = 0;
  int64_t pending_review = 0;  // pending_review + in_review
  int64_t returned = 0;
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t first_pass_accepted = 0;
};

struct PoolStats {
  int64_t tasks = 0;
  int64_t open_slots = 0;
  int64_t active_claims = 0;
  int64_t pending_review = 0;  // pending_review + in_review
  int64_t returned = 0;
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t first_pass_accepted = 0;
};

// Submissions of one annotator in one pool (or of one pool, or of one
// annotator in a pool), counted by state. `accepted_active_seconds` sums
// active_seconds over every round of the accepted ones.
struct WorkTotals {
  PoolId pool_id;
  UserId annotator_id;    // unset (0) when the totals span annotators
  int64_t submitted = 0;  // all submissions, any state
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t returned = 0;
  int64_t in_review = 0;  // pending_review + in_review
  int64_t first_pass_accepted = 0;
  int64_t accepted_active_seconds = 0;
};

// Activity of a pool in one clock hour (UTC).
struct PoolHour {
  absl::Time start;       // the hour's first instant
  int64_t submitted = 0;  // rounds submitted in the hour
  int64_t accepted = 0;   // submissions accepted in the hour
};

// One stored quality snapshot of a pool (see service/quality.h for `body`).
struct QualitySnapshot {
  int64_t id = 0;
  PoolId pool_id;
  int version = 0;  // 1, 2, 3, ... per pool
  absl::Time created_at;
  // What the snapshot covers: the highest submission id of the pool and the
  // pool's input mark (PoolInputMark::mark) when its inputs were read.
  int64_t submissions_seen = 0;
  int64_t input_mark = 0;
  std::string method;     // e.g. "dawid_skene", "none"
  std::string body_json;  // the snapshot itself
};

// The inputs of aggregation for one submission: its latest round's result.
struct PoolResult {
  SubmissionId submission_id;
  TaskId task_id;
  UserId annotator_id;
  domain::SubmissionState state = domain::SubmissionState::kPendingReview;
  int round = 0;
  std::string result_json;
};

// Tells whether a pool's aggregation inputs changed. `mark` is the sum of
// every submission's round plus the number of rejected submissions: a new
// submission, a revision and a rejection each change it, while review leases
// and acceptances (which change no input) do not.
struct PoolInputMark {
  int64_t submissions = 0;        // all submissions, any state
  int64_t max_submission_id = 0;  // 0 when none
  int64_t mark = 0;
};

// One transaction. Errors follow sql_conn.h: kAlreadyExists for a unique
// violation, kAborted to retry, kNotFound from Get* when the row is absent.
// Not thread-safe; valid only inside the Store::Run callback that made it.
class Tx {
 public:
  virtual ~Tx() = default;

  // Users and sessions.
  virtual absl::StatusOr<UserId> InsertUser(const domain::User& user) = 0;
  virtual absl::StatusOr<domain::User> GetUser(UserId id) = 0;
  virtual absl::StatusOr<std::optional<domain::User>> FindUserByName(
      absl::string_view username) = 0;
  virtual absl::StatusOr<int64_t> CountUsers() = 0;
  virtual absl::Status InsertSession(const domain::Session& session) = 0;
  virtual absl::StatusOr<std::optional<domain::Session>> FindSession(
      absl::string_view token_hash) = 0;
  virtual absl::Status RevokeSession(absl::string_view token_hash) = 0;

  // Projects and pools.
  virtual absl::StatusOr<ProjectId> InsertProject(
      const domain::Project& project) = 0;
  virtual absl::StatusOr<domain::Project> GetProject(ProjectId id) = 0;
  // All projects, or those of `owner`.
  virtual absl::StatusOr<std::vector<domain::Project>> ListProjects(
      std::optional<UserId> owner) = 0;
  virtual absl::StatusOr<PoolId> InsertPool(const domain::Pool& pool) = 0;
  virtual absl::StatusOr<domain::Pool> GetPool(PoolId id) = 0;
  // All pools, or those of `project`.
  virtual absl::StatusOr<std::vector<domain::Pool>> ListPools(
      std::optional<ProjectId> project) = 0;
  // Writes state and opens_at.
  virtual absl::Status UpdatePool(const domain::Pool& pool) = 0;
  // Scheduled pools whose opens_at is at or before `now`.
  virtual absl::StatusOr<std::vector<PoolId>> ListDuePools(absl::Time now) = 0;
  virtual absl::StatusOr<PoolStats> GetPoolStats(PoolId id) = 0;
  // Work totals with GROUP BY queries (never a row per submission):
  // per pool of `annotator`'s submissions (pools where they have none are
  // absent), by pool id.
  virtual absl::StatusOr<std::vector<WorkTotals>> ListAnnotatorWork(
      UserId annotator) = 0;
  // Per pool over every annotator (annotator_id unset), only pools with
  // accepted submissions, by pool id.
  virtual absl::StatusOr<std::vector<WorkTotals>> ListAcceptedWorkByPool() = 0;
  // Per annotator with accepted submissions in `pool`, by annotator id.
  virtual absl::StatusOr<std::vector<WorkTotals>> ListAcceptedWorkByAnnotator(
      PoolId pool) = 0;
  // The clock hours from the one containing `since` on in which `pool` had
  // submitted rounds or acceptances, oldest first (hours with neither are
  // absent).
  virtual absl::StatusOr<std::vector<PoolHour>> ListPoolHours(
      PoolId pool, absl::Time since) = 0;

  // Tasks.
  virtual absl::StatusOr<TaskId> InsertTask(const domain::Task& task) = 0;
  // Inserts `tasks` (their ids are ignored) in a few multi-row statements,
  // for imports: the same rows as InsertTask on each, in order. Returns their
  // new ids, ascending in the order given.
  virtual absl::StatusOr<std::vector<TaskId>> InsertTasks(
      std::vector<domain::Task> tasks) = 0;
  virtual absl::StatusOr<domain::Task> GetTask(TaskId id) = 0;
  // The dispatch primitive: the oldest task of `pool` with a free slot that
  // `annotator` has never claimed. On PostgreSQL the row is locked (FOR
  // UPDATE SKIP LOCKED) so concurrent claimers take different tasks; call it
  // only in a kWrite transaction.
  virtual absl::StatusOr<std::optional<TaskId>> FindClaimableTask(
      PoolId pool, UserId annotator) = 0;
  // Up to `limit` tasks of `pool` with ids above `after_id`, by id.
  virtual absl::StatusOr<std::vector<domain::Task>> ListTasks(PoolId pool,
                                                              int64_t after_id,
                                                              int limit) = 0;
  // The dedupe keys of every task of `pool` that has one.
  virtual absl::StatusOr<std::vector<std::string>> ListTaskDedupeKeys(
      PoolId pool) = 0;
  // Adds `delta` to a task's free slots; kAborted if it would go below zero.
  virtual absl::Status AddOpenSlots(TaskId id, int delta) = 0;

  // Claims.
  virtual absl::StatusOr<ClaimId> InsertClaim(const domain::Claim& claim) = 0;
  virtual absl::StatusOr<domain::Claim> GetClaim(ClaimId id) = 0;
  virtual absl::StatusOr<std::optional<domain::Claim>> FindActiveClaim(
      UserId annotator, PoolId pool) = 0;
  // Compare-and-set: kAborted if the claim is no longer in `from`.
  virtual absl::Status UpdateClaimState(ClaimId id, domain::ClaimState from,
                                        domain::ClaimState to) = 0;
  // Active claims whose lease ended at or before `now`, oldest first.
  virtual absl::StatusOr<std::vector<domain::Claim>> ListExpiredClaims(
      absl::Time now, int limit) = 0;
  virtual absl::StatusOr<std::vector<domain::Claim>> ListActiveClaims(
      UserId annotator) = 0;

  // Submissions and their rounds.
  virtual absl::StatusOr<SubmissionId> InsertSubmission(
      const domain::Submission& submission) = 0;
  virtual absl::StatusOr<domain::Submission> GetSubmission(SubmissionId id) = 0;
  virtual absl::StatusOr<std::optional<domain::Submission>>
  FindSubmissionByClaim(ClaimId claim) = 0;
  // Writes state, round, reviewer lease, first_pass and updated_at.
  virtual absl::Status UpdateSubmission(
      const domain::Submission& submission) = 0;
  // The oldest submission of `pool` waiting for review (or whose review lease
  // ended before `now`) that `reviewer` did not write. Locked on PostgreSQL.
  virtual absl::StatusOr<std::optional<SubmissionId>> FindReviewableSubmission(
      PoolId pool, UserId reviewer, absl::Time now) = 0;
  // Counts by state; the filter's state, limit and after_id are ignored.
  virtual absl::StatusOr<SubmissionCounts> CountSubmissions(
      const SubmissionFilter& filter) = 0;
  virtual absl::StatusOr<std::vector<domain::Submission>> ListSubmissions(
      const SubmissionFilter& filter) = 0;
  virtual absl::Status InsertRound(const domain::Round& round) = 0;
  // Writes verdict, reviewer, comments and reviewed_at.
  virtual absl::Status UpdateRound(const domain::Round& round) = 0;
  // All rounds, oldest first.
  virtual absl::StatusOr<std::vector<domain::Round>> ListRounds(
      SubmissionId id) = 0;

  // Ledger (double entry).
  virtual absl::StatusOr<AccountId> EnsureAccount(
      domain::AccountKind kind, int64_t owner_id,
      absl::string_view currency) = 0;
  virtual absl::StatusOr<std::optional<AccountId>> FindAccount(
      domain::AccountKind kind, int64_t owner_id,
      absl::string_view currency) = 0;
  // Every account of `kind` owned by `owner_id`, with its currency.
  virtual absl::StatusOr<std::vector<std::pair<AccountId, std::string>>>
  ListAccounts(domain::AccountKind kind, int64_t owner_id) = 0;
  // The account's running balance, kept equal to the sum of its entries.
  virtual absl::StatusOr<int64_t> Balance(AccountId account) = 0;
  // Writes one journal; the entries must sum to zero (kInvalidArgument if
  // not). Returns the journal id.
  virtual absl::StatusOr<int64_t> InsertJournal(
      std::vector<domain::LedgerEntry> entries) = 0;
  // Newest first.
  virtual absl::StatusOr<std::vector<domain::LedgerEntry>> ListEntries(
      AccountId account, int limit) = 0;
  // Sum of every entry ever written, per the invariant always zero.
  virtual absl::StatusOr<int64_t> SumAllEntries() = 0;

  // Quality snapshots and their inputs.
  // kAlreadyExists when the pool already has a snapshot of that version (a
  // concurrent writer won: re-read the latest version and retry). Returns
  // the new row's id.
  virtual absl::StatusOr<int64_t> InsertQualitySnapshot(
      const QualitySnapshot& snapshot) = 0;
  // The pool's highest-version snapshot, if any.
  virtual absl::StatusOr<std::optional<QualitySnapshot>>
  FindLatestQualitySnapshot(PoolId pool) = 0;
  virtual absl::StatusOr<std::optional<QualitySnapshot>> FindQualitySnapshot(
      PoolId pool, int version) = 0;
  // Every submission of `pool` not rejected, with its latest round's result,
  // ordered by task id then submission id. One query.
  virtual absl::StatusOr<std::vector<PoolResult>> ListPoolResults(
      PoolId pool) = 0;
  // Accepted submissions of `pool` for tasks with ids in (after_task_id,
  // upto_task_id], with their final round's result, by task id then
  // submission id (exports).
  virtual absl::StatusOr<std::vector<PoolResult>> ListAcceptedResults(
      PoolId pool, int64_t after_task_id, int64_t upto_task_id) = 0;
  // Zeroes when the pool has no submissions.
  virtual absl::StatusOr<PoolInputMark> GetPoolInputMark(PoolId pool) = 0;
  // Pools with submissions whose input mark or highest submission id differs
  // from their latest snapshot's (or that have none), lowest id first.
  virtual absl::StatusOr<std::vector<PoolId>> ListStalePools(int limit) = 0;

  // Pre-annotations. kAlreadyExists when the task already has one from the
  // same model and version.
  virtual absl::StatusOr<int64_t> InsertPreannotation(
      const domain::Preannotation& p) = 0;
  // Of one task, oldest first.
  virtual absl::StatusOr<std::vector<domain::Preannotation>>
  ListTaskPreannotations(TaskId task) = 0;
  // Of the tasks of `pool` with ids in (after_task_id, upto_task_id], by
  // task id then id.
  virtual absl::StatusOr<std::vector<domain::Preannotation>>
  ListPoolPreannotations(PoolId pool, int64_t after_task_id,
                         int64_t upto_task_id) = 0;
  // Up to `limit` tasks of `pool` (by id, above `after_id`) with no
  // pre-annotation from `model` and `version`.
  virtual absl::StatusOr<std::vector<domain::Task>>
  ListTasksWithoutPreannotation(PoolId pool, absl::string_view model,
                                absl::string_view version, int64_t after_id,
                                int limit) = 0;

  // Audit trail.
  virtual absl::Status InsertAudit(const domain::AuditRecord& record) = 0;
  virtual absl::StatusOr<std::vector<domain::AuditRecord>> ListAudit(
      absl::string_view entity, int64_t entity_id) = 0;
};

// Runs use cases as transactions. Thread-safe.
class Store {
 public:
  virtual ~Store() = default;
  // Runs `fn` as one transaction (see SqlDatabase::RunTransaction: OK means
  // committed; an error means nothing changed; `fn` may run more than once).
  virtual absl::Status Run(TxMode mode,
                           absl::FunctionRef<absl::Status(Tx&)> fn) = 0;
  // Creates or upgrades the schema to the latest version.
  virtual absl::Status Migrate() = 0;
  // Latest schema version known to this binary, and the database's.
  virtual int LatestVersion() const = 0;
  virtual absl::StatusOr<int> CurrentVersion() = 0;
  virtual absl::string_view backend() const = 0;
  virtual void Close() = 0;
};

// A store over an SQL database (SQLite or PostgreSQL driver).
std::unique_ptr<Store> MakeSqlStore(std::unique_ptr<SqlDatabase> db);

}  // namespace tessera::store
