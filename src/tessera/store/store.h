// The storage port in domain terms. Services run each use case as one
// transaction through Store::Run; Tx offers the reads and writes they need.
// One implementation (sql/sql_store) writes the SQL once over the SQLite and
// PostgreSQL drivers; tests run one conformance suite against both.
#pragma once

#include <cstdint>
#include <functional>
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
  // Non-empty: the body was staged in parts under this token
  // (Tx::StageQualitySnapshotPart) and the row's own body is empty; readers
  // get body_json assembled from the parts either way.
  std::string parts_token;
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

// ---- Workforce: appeals, floor, flags, records (issue 6): rows
// An annotator's appeal of a rejection; state "open", "upheld" or "denied".
struct AppealRow {
  int64_t id = 0;
  SubmissionId submission_id;
  UserId annotator_id;
  std::string note;
  std::string state = "open";
  std::optional<UserId> decided_by;
  std::optional<std::string> decision_note;
  absl::Time created_at;
  std::optional<absl::Time> decided_at;
};
struct AppealFilter {
  std::optional<std::string> state;
  std::optional<UserId> annotator;
  int limit = 200;
};
// One hourly-floor top-up: what `annotator` was credited for `pool`'s ISO
// week starting at `week_start` (Monday 00:00 UTC).
struct FloorTopupRow {
  PoolId pool_id;
  UserId annotator_id;
  absl::Time week_start;
  Money amount;
  int64_t journal_id = 0;
  absl::Time created_at;
};
// An annotator's flag on a task: an ambiguous guideline section.
struct FlagRow {
  int64_t id = 0;
  TaskId task_id;
  PoolId pool_id;
  UserId annotator_id;
  std::string section;
  std::string note;
  absl::Time created_at;
};
// A named Ed25519 key pair, both halves base64.
struct SigningKeyRow {
  std::string name;
  std::string public_key;
  std::string secret_key;
  absl::Time created_at;
};
// What a portable work record reads besides submissions.
struct RecordInputs {
  std::optional<std::string> profile_domains_json;  // profiles.domains
  std::vector<std::string> skills;                  // granted, not revoked
  int64_t gold_checks = 0;
  int64_t gold_passed = 0;
  struct Tier {
    std::string domain;
    std::string tier;
    double score = 0;
    absl::Time at;
  };
  std::vector<Tier> tiers;  // standing_history, oldest first
};
// ---- end Workforce: appeals, floor, flags, records

// ---- Workforce: standing and allocation (issue 6): rows
// A requester's block of an annotator in a project.
struct BlockRow {
  ProjectId project_id;
  UserId annotator_id;
  std::string reason;
  UserId created_by;
  absl::Time created_at;
};
// A change of an annotator's tier in a domain ("" = general, "*" = overall).
struct StandingHistoryRow {
  int64_t id = 0;
  UserId annotator_id;
  std::string domain;
  std::string tier;
  double score = 0;
  absl::Time at;
};
// A graded gold task in regular work.
struct GoldCheckRow {
  SubmissionId submission_id;
  PoolId pool_id;
  TaskId task_id;
  UserId annotator_id;
  double score = 0;
  bool passed = false;
  absl::Time created_at;
};
// An annotator's submissions of one pool whose last change fell on one UTC
// day, counted among the reviewed ones (accepted, rejected or returned); a
// day with only pending submissions has reviewed = 0.
struct ReviewDay {
  PoolId pool_id;
  absl::Time day;          // 00:00 UTC
  int64_t reviewed = 0;    // accepted + rejected + returned
  int64_t first_pass = 0;  // accepted in round 1
  int64_t rounds = 0;      // sum of their rounds
  int64_t decided = 0;     // accepted + rejected
  int64_t rejected = 0;
  int64_t came_back = 0;  // reviewed ones returned, rejected or revised
};
// An annotator's gold checks of one pool on one UTC day.
struct GoldDay {
  PoolId pool_id;
  absl::Time day;
  int64_t checks = 0;
  int64_t passed = 0;
};
// The latest quality snapshot of a pool, without its body.
struct SnapshotRef {
  PoolId pool_id;
  int version = 0;
  absl::Time created_at;
};
// A claim with why it went to its annotator (claims.reason, JSON or null).
struct ClaimRecord {
  domain::Claim claim;
  std::optional<std::string> reason_json;
};
// ---- end Workforce: standing and allocation

// ---- Workforce: trials and background (issue 6): rows
// An annotator's background (profiles table); `domains_json` is a JSON array.
struct ProfileRow {
  UserId user_id;
  std::string domains_json = "[]";
  std::string profession;
  std::string education;
  std::string evidence;
  absl::Time updated_at;
  std::optional<UserId> verified_by;
  std::optional<absl::Time> verified_at;
};
// A domain skill granted to a user; revoked when revoked_at is set.
struct SkillRow {
  UserId user_id;
  std::string skill;
  UserId granted_by;
  std::string reason;
  absl::Time granted_at;
  std::optional<UserId> revoked_by;
  std::optional<absl::Time> revoked_at;
};
// A pool's trial task: data and the known answer (null for free-text pools
// graded by a reviewer).
struct TrialTaskRow {
  int64_t id = 0;
  PoolId pool_id;
  std::string data_json;
  std::optional<std::string> gold_json;
  absl::Time created_at;
};
// One try at a pool's trial; state "in_progress", "grading", "passed" or
// "failed".
struct TrialAttemptRow {
  int64_t id = 0;
  PoolId pool_id;
  UserId annotator_id;
  std::string state = "in_progress";
  std::optional<double> score;
  absl::Time started_at;
  std::optional<absl::Time> finished_at;
};
// An answer to one trial task of an attempt, with its grade once known.
struct TrialAnswerRow {
  int64_t attempt_id = 0;
  int64_t trial_task_id = 0;
  std::string result_json;
  std::optional<double> score;
  std::string feedback;
  int64_t active_seconds = 0;
  absl::Time submitted_at;
  std::optional<UserId> graded_by;  // the reviewer of a free-text answer
  std::optional<absl::Time> graded_at;
};
// ---- end Workforce: trials and background

// ---- Workforce: reviewer invitations (issue 6): rows
// An admin's invitation of a reviewer-eligible annotator to review; state
// "pending", "accepted" or "declined".
struct ReviewerInvitationRow {
  int64_t id = 0;
  UserId user_id;
  UserId invited_by;
  std::string note;
  std::string state = "pending";
  absl::Time created_at;
  std::optional<absl::Time> decided_at;
};
// ---- end Workforce: reviewer invitations

// One transaction. Errors follow sql_conn.h: kAlreadyExists for a unique
// violation, kAborted to retry, kNotFound from Get* when the row is absent.
// Not thread-safe; valid only inside the Store::Run callback that made it.
class Tx {
 public:
  virtual ~Tx() = default;

  // Runs `fn` in a savepoint of this transaction and returns its status.
  // When `fn` fails, only its own changes are undone and the transaction
  // goes on (if undoing fails too, that error is returned instead).
  virtual absl::Status Nested(absl::FunctionRef<absl::Status(Tx&)> fn) = 0;

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
  // Balance, with the account locked until this transaction ends, for a
  // debit that checks the balance first: a concurrent debit of the same
  // account waits here and then sees this one's result (PostgreSQL: FOR
  // UPDATE; SQLite runs one write transaction at a time).
  virtual absl::StatusOr<int64_t> LockBalance(AccountId account) = 0;
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
  // The same without its body (body_json empty): what a writer needs to
  // number the next version or see whether the latest is fresh, without
  // reading a body of megabytes inside the transaction.
  virtual absl::StatusOr<std::optional<QualitySnapshot>>
  FindLatestQualitySnapshotHead(PoolId pool) = 0;
  virtual absl::StatusOr<std::optional<QualitySnapshot>> FindQualitySnapshot(
      PoolId pool, int version) = 0;
  // Stores part `seq` (0, 1, ...) of a snapshot body under `token`, before
  // the snapshot that names the token is inserted: a large body then never
  // has to be written by one transaction. kAlreadyExists for a (token, seq)
  // stored before.
  virtual absl::Status StageQualitySnapshotPart(PoolId pool,
                                                absl::string_view token,
                                                int seq, absl::string_view data,
                                                absl::Time at) = 0;
  // Deletes the pool's parts staged before `before` that no snapshot names
  // (left by a writer that stopped between staging and inserting), or,
  // with `token`, every part staged under that token that no snapshot
  // names. Returns the number of parts deleted.
  virtual absl::StatusOr<int64_t> DeleteUnusedSnapshotParts(
      PoolId pool, absl::Time before,
      std::optional<std::string> token = std::nullopt) = 0;
  // Deletes the pool's snapshots older than its newest `keep` versions
  // (`keep` >= 1, else kInvalidArgument), with the parts their bodies were
  // staged in. Returns the number of snapshots deleted.
  virtual absl::StatusOr<int64_t> DeleteOldQualitySnapshots(PoolId pool,
                                                            int keep) = 0;
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
  // ---- Workforce: appeals, floor, flags, records (issue 6)
  // kAlreadyExists when the submission already has an appeal. Returns the id.
  virtual absl::StatusOr<int64_t> InsertAppeal(const AppealRow& a) = 0;
  virtual absl::StatusOr<AppealRow> GetAppeal(int64_t id) = 0;
  virtual absl::StatusOr<std::optional<AppealRow>> FindAppealBySubmission(
      SubmissionId id) = 0;
  // By id, oldest first.
  virtual absl::StatusOr<std::vector<AppealRow>> ListAppeals(
      const AppealFilter& filter) = 0;
  // Compare-and-set from "open": writes state, decided_by, decision_note and
  // decided_at; kFailedPrecondition when the appeal is no longer open.
  virtual absl::Status DecideAppeal(const AppealRow& a) = 0;
  // Per annotator (by id): the accepted submissions of `pool` whose last
  // change (acceptance) falls in [from, to), with the active seconds of all
  // their rounds (accepted, accepted_active_seconds).
  virtual absl::StatusOr<std::vector<WorkTotals>> ListAcceptedWorkInPeriod(
      PoolId pool, absl::Time from, absl::Time to) = 0;
  // kAlreadyExists when (pool, annotator, week) already has one.
  virtual absl::Status InsertFloorTopup(const FloorTopupRow& t) = 0;
  // Optionally of one pool and/or annotator, by week then pool, annotator.
  virtual absl::StatusOr<std::vector<FloorTopupRow>> ListFloorTopups(
      std::optional<PoolId> pool, std::optional<UserId> annotator) = 0;
  virtual absl::StatusOr<int64_t> InsertFlag(const FlagRow& f) = 0;
  // By section, then id.
  virtual absl::StatusOr<std::vector<FlagRow>> ListPoolFlags(PoolId pool) = 0;
  // Inserts `candidate` unless a key of that name exists, then returns the
  // stored key (so concurrent servers agree on one).
  virtual absl::StatusOr<SigningKeyRow> EnsureSigningKey(
      const SigningKeyRow& candidate) = 0;
  virtual absl::StatusOr<RecordInputs> GetRecordInputs(UserId user) = 0;
  // ---- end Workforce: appeals, floor, flags, records

  // ---- Workforce: standing and allocation (issue 6)
  // A granted, not revoked, skill.
  virtual absl::StatusOr<bool> HasSkill(UserId user,
                                        absl::string_view skill) = 0;
  // A trial attempt of `annotator` in `pool` in state 'passed'.
  virtual absl::StatusOr<bool> HasPassedTrial(UserId annotator,
                                              PoolId pool) = 0;
  // kAlreadyExists when the annotator is already blocked in the project.
  virtual absl::Status InsertBlock(const BlockRow& block) = 0;
  // Whether a block was removed.
  virtual absl::StatusOr<bool> DeleteBlock(ProjectId project,
                                           UserId annotator) = 0;
  virtual absl::StatusOr<std::optional<BlockRow>> FindBlock(
      ProjectId project, UserId annotator) = 0;
  // Of a project, by annotator id.
  virtual absl::StatusOr<std::vector<BlockRow>> ListBlocks(
      ProjectId project) = 0;
  // Of an annotator, by project id.
  virtual absl::StatusOr<std::vector<BlockRow>> ListAnnotatorBlocks(
      UserId annotator) = 0;
  virtual absl::StatusOr<int64_t> InsertStandingHistory(
      const StandingHistoryRow& row) = 0;
  // Tier history, oldest first.
  virtual absl::StatusOr<std::vector<StandingHistoryRow>> ListStandingHistory(
      UserId annotator) = 0;
  // kAlreadyExists when the submission was already graded.
  virtual absl::Status InsertGoldCheck(const GoldCheckRow& row) = 0;
  // The evidence of standing, one GROUP BY query each, by pool then day.
  virtual absl::StatusOr<std::vector<ReviewDay>> ListReviewDays(
      UserId annotator) = 0;
  virtual absl::StatusOr<std::vector<GoldDay>> ListGoldDays(
      UserId annotator) = 0;
  // The latest snapshot of each of `pools` that has one, by pool id.
  virtual absl::StatusOr<std::vector<SnapshotRef>> ListLatestSnapshotRefs(
      const std::vector<PoolId>& pools) = 0;
  // As FindClaimableTask, among the pool's gold tasks (`gold`; free slots
  // are not required: gold tasks are never used up) or among its tasks
  // without gold (!`gold`, with a free slot). Locked on PostgreSQL.
  virtual absl::StatusOr<std::optional<TaskId>> FindClaimableTaskByGold(
      PoolId pool, UserId annotator, bool gold) = 0;
  // The ids of `pool`'s gold tasks above `after`, ascending (the partial
  // index tasks_gold: as many entries read as there are gold tasks).
  virtual absl::StatusOr<std::vector<TaskId>> ListGoldTaskIds(
      PoolId pool, int64_t after) = 0;
  // The gold tasks of `pool` that `annotator` has claimed (in any state).
  virtual absl::StatusOr<std::vector<TaskId>> ListClaimedGoldTasks(
      UserId annotator, PoolId pool) = 0;
  // Claims `annotator` made in `pool` on the UTC day of `since` or later
  // (counted per day: pass a UTC midnight), or ever for InfinitePast().
  virtual absl::StatusOr<int64_t> CountClaimsSince(UserId annotator,
                                                   PoolId pool,
                                                   absl::Time since) = 0;
  // Claims made in `pool` on the UTC day of `since` or later (pass a UTC
  // midnight): all, and those whose reason records tier newcomer.
  virtual absl::StatusOr<std::pair<int64_t, int64_t>> CountPoolClaimsSince(
      PoolId pool, absl::Time since) = 0;
  // The pool's tasks without gold and their free slots.
  virtual absl::StatusOr<std::pair<int64_t, int64_t>> CountPoolSlots(
      PoolId pool) = 0;
  // Newest first, optionally of one annotator and/or pool.
  virtual absl::StatusOr<std::vector<ClaimRecord>> ListClaimRecords(
      std::optional<UserId> annotator, std::optional<PoolId> pool,
      int limit) = 0;
  // ---- end Workforce: standing and allocation
  // ---- Workforce: trials and background (issue 6)
  // Inserts or replaces the user's profile fields (domains, profession,
  // education, evidence, updated_at) and clears its verification.
  virtual absl::Status UpsertProfile(const ProfileRow& p) = 0;
  virtual absl::StatusOr<std::optional<ProfileRow>> FindProfile(
      UserId user) = 0;
  // Profiles by user id (only those never verified since their last change
  // when `unverified_only`), at most `limit`.
  virtual absl::StatusOr<std::vector<ProfileRow>> ListProfiles(
      bool unverified_only, int limit) = 0;
  // Marks the user's profile verified (no-op when the user has none).
  virtual absl::Status MarkProfileVerified(UserId user, UserId by,
                                           absl::Time at) = 0;
  // Grants a skill: inserts the row, or re-grants a revoked one (clearing
  // revoked_by/at). kAlreadyExists when the user holds it unrevoked.
  virtual absl::Status GrantSkill(const SkillRow& s) = 0;
  // Sets revoked_by/at; kNotFound when the user does not hold it unrevoked.
  virtual absl::Status RevokeSkill(UserId user, absl::string_view skill,
                                   UserId by, absl::Time at) = 0;
  // The user's skills, revoked ones included, by skill name.
  virtual absl::StatusOr<std::vector<SkillRow>> ListSkills(UserId user) = 0;
  virtual absl::StatusOr<int64_t> InsertTrialTask(const TrialTaskRow& t) = 0;
  // Of `pool`, by id.
  virtual absl::StatusOr<std::vector<TrialTaskRow>> ListTrialTasks(
      PoolId pool) = 0;
  virtual absl::StatusOr<int64_t> InsertTrialAttempt(
      const TrialAttemptRow& a) = 0;
  virtual absl::StatusOr<TrialAttemptRow> GetTrialAttempt(int64_t id) = 0;
  // Of `annotator` (in `pool` if given), by id.
  virtual absl::StatusOr<std::vector<TrialAttemptRow>> ListTrialAttempts(
      UserId annotator, std::optional<PoolId> pool) = 0;
  // Every attempt in `state`, oldest first, at most `limit`.
  virtual absl::StatusOr<std::vector<TrialAttemptRow>> ListTrialAttemptsInState(
      absl::string_view state, int limit) = 0;
  // Compare-and-set from `from_state`: writes state, score and finished_at;
  // kAborted (retry the transaction) when the attempt is no longer in it.
  virtual absl::Status UpdateTrialAttempt(const TrialAttemptRow& a,
                                          absl::string_view from_state) = 0;
  // Serialises the trial writes (starts, answers) of one annotator: on
  // PostgreSQL locks their users row until the transaction ends; a no-op on
  // SQLite, whose writers are serial.
  virtual absl::Status LockTrialAnnotator(UserId annotator) = 0;
  // kAlreadyExists when the attempt already has an answer for the task.
  virtual absl::Status InsertTrialAnswer(const TrialAnswerRow& a) = 0;
  // Of one attempt, by trial task id.
  virtual absl::StatusOr<std::vector<TrialAnswerRow>> ListTrialAnswers(
      int64_t attempt) = 0;
  // Writes score, feedback, graded_by and graded_at.
  virtual absl::Status GradeTrialAnswer(const TrialAnswerRow& a) = 0;
  // Trial task ids `annotator` answered in `pool` in attempts with ids below
  // `before_attempt`.
  virtual absl::StatusOr<std::vector<int64_t>> ListAnsweredTrialTasks(
      UserId annotator, PoolId pool, int64_t before_attempt) = 0;
  // ---- end Workforce: trials and background
  // ---- Workforce: dynamic overlap and simulation (issue 6)
  // Every submission of `task` not rejected, with its latest round's result,
  // by submission id. One query.
  virtual absl::StatusOr<std::vector<PoolResult>> ListTaskResults(
      TaskId task) = 0;
  // Active (unsubmitted, unreleased) claims on `task`, expired or not.
  virtual absl::StatusOr<int64_t> CountActiveClaims(TaskId task) = 0;
  // The non-rejected results (latest round) on the `limit` tasks of `pool`
  // that `annotator` most recently submitted to, other than `exclude`: theirs
  // and everyone else's, by task id then submission id. One query.
  virtual absl::StatusOr<std::vector<PoolResult>> ListRecentPeerResults(
      PoolId pool, UserId annotator, TaskId exclude, int limit) = 0;
  // The highest task id of `pool` (0 when it has none). One index probe.
  virtual absl::StatusOr<int64_t> MaxTaskId(PoolId pool) = 0;
  // ---- end Workforce: dynamic overlap and simulation
  // ---- Workforce: reviewer invitations (issue 6)
  // Replaces the user's roles; kNotFound when there is no such user.
  virtual absl::Status UpdateUserRoles(
      UserId user, const std::vector<domain::Role>& roles) = 0;
  // kAlreadyExists when the user already has a pending invitation. Returns
  // the id.
  virtual absl::StatusOr<int64_t> InsertReviewerInvitation(
      const ReviewerInvitationRow& inv) = 0;
  virtual absl::StatusOr<ReviewerInvitationRow> GetReviewerInvitation(
      int64_t id) = 0;
  // Of `user`, newest first.
  virtual absl::StatusOr<std::vector<ReviewerInvitationRow>>
  ListReviewerInvitations(UserId user) = 0;
  // Compare-and-set from "pending": writes state and decided_at;
  // kFailedPrecondition when the invitation is no longer pending.
  virtual absl::Status DecideReviewerInvitation(
      const ReviewerInvitationRow& inv) = 0;
  // ---- end Workforce: reviewer invitations
};

// Runs use cases as transactions. Thread-safe.
class Store {
 public:
  virtual ~Store() = default;
  // Runs `fn` as one transaction (see SqlDatabase::RunTransaction: OK means
  // committed; an error means nothing changed; `fn` may run more than once).
  virtual absl::Status Run(TxMode mode,
                           absl::FunctionRef<absl::Status(Tx&)> fn) = 0;
  // Runs `fn` as one write transaction without blocking the caller, where
  // the backend can: queues it and returns true; `done` then runs exactly
  // once with what Run(kWrite, fn) would have returned, on a thread of the
  // store's (SQLite: its writer thread, right after the COMMIT), so it must
  // be quick and must not block or start a transaction: hand the rest to
  // another thread. Returns false, having run nothing, where the backend
  // cannot (the default; PostgreSQL, whose transaction holds a connection
  // through its round trips) or the store is closed: then use Run.
  virtual bool RunWriteAsync(std::function<absl::Status(Tx&)> /*fn*/,
                             std::function<void(absl::Status)> /*done*/) {
    return false;
  }
  // Whether RunWriteAsync can work here (until the store closes).
  virtual bool async_writes() const { return false; }
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
