// Tessera's use cases. Each public function is one transaction and enforces
// who may see and do what, so the HTTP API and the CLI share every rule.
// Inputs are parsed request bodies; outputs are the API's JSON objects.
// Thread-safe: any number of threads may call concurrently.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tessera/base/clock.h"
#include "tessera/base/ids.h"
#include "tessera/domain/standing.h"
#include "tessera/domain/types.h"
#include "tessera/service/transfer.h"
#include "tessera/store/store.h"

namespace tessera::service {

using nlohmann::json;

// The authenticated caller.
struct Principal {
  UserId id;
  std::string username;
  std::vector<domain::Role> roles;
  bool Has(domain::Role r) const;
};

struct ServiceOptions {
  absl::Duration token_ttl = absl::Hours(24);  // login session lifetime
  int max_tasks_per_request = 100'000;         // one import call
  // How long a verified token is trusted without reading the database. A
  // logout in this process takes effect at once; in another process sharing
  // the database, within this time. Zero disables the cache.
  absl::Duration auth_cache_ttl = absl::Seconds(5);
  // The `issuer` of signed work records (GET /me/record): who vouches for
  // them, e.g. the platform's host name.
  std::string record_issuer = "tessera";
  // A quality snapshot body larger than this is written in parts of at
  // most this size, each in its own small transaction, so that no single
  // write holds up claims for the time a body of megabytes takes.
  size_t snapshot_part_bytes = 256 << 10;
  // After storing a pool's new quality snapshot, delete the pool's versions
  // older than its newest this many (GET /pools/{id}/quality?version= then
  // answers 404 for them); 0 keeps every version.
  int keep_quality_snapshots = 5;
};

// The result of a claim: 201 with the claim, or nothing to do (204).
struct ClaimResult {
  json body;             // {claim, task}
  bool resumed = false;  // the caller already held this claim
};

// ---- Workforce: standing and allocation (issue 6): forward declarations
namespace internal {
class StandingCache;
struct EligibilityMemo;
std::shared_ptr<StandingCache> NewStandingCache();
}  // namespace internal
// ---- end Workforce: standing and allocation

class Service {
 public:
  // `store` and `clock` must outlive the service.
  Service(store::Store& store, const Clock& clock, ServiceOptions options = {});

  // Identity. Login fails with kUnauthenticated for a wrong name or password
  // (same message for both).
  absl::StatusOr<json> Login(const json& body);
  absl::StatusOr<Principal> Authenticate(absl::string_view token);
  // The principal of `token` if Authenticate has it cached (no database
  // read, never blocks for long); nullopt otherwise, valid token or not.
  std::optional<Principal> CachedPrincipal(absl::string_view token);
  absl::Status Logout(absl::string_view token);
  // `actor` is the admin creating the user, or nullopt for the CLI (which
  // has the machine's trust). Body: {username, password, roles[]}.
  absl::StatusOr<json> CreateUser(const std::optional<Principal>& actor,
                                  const json& body);
  absl::StatusOr<json> Me(const Principal& p);

  // Catalog (requester; admin may act on any project).
  absl::StatusOr<json> CreateProject(const Principal& p, const json& body);
  absl::StatusOr<json> GetProject(const Principal& p, ProjectId id);
  absl::StatusOr<json> ListProjects(const Principal& p);
  absl::StatusOr<json> CreatePool(const Principal& p, ProjectId project,
                                  const json& body);
  absl::StatusOr<json> GetPool(const Principal& p, PoolId id);
  // All or nothing: {tasks:[{data, gold?}]} (NDJSON is turned into the same
  // list by the caller).
  absl::StatusOr<json> AddTasks(const Principal& p, PoolId pool,
                                const json& tasks);
  absl::StatusOr<json> OpenPool(const Principal& p, PoolId id);
  absl::StatusOr<json> ClosePool(const Principal& p, PoolId id);
  // Pools visible to the caller; for annotators each pool says whether they
  // may work on it now and, if not, why. Each pool also has
  // "hourly_estimate" (Money or null: price x 3600 / mean active seconds of
  // the pool's accepted submissions) and "my_work" {submitted, accepted,
  // rejected, returned, in_review, first_pass_accepted} (the caller's own).
  // A fixed number of queries however many pools there are.
  absl::StatusOr<json> ListPools(const Principal& p);
  // One task {"data": {image, width, height}} for an uploaded image the
  // caller has stored at `image` (media-relative). Who may: as AddTasks; bbox
  // and classify pools only (kInvalidArgument, field "pool", otherwise).
  // Returns {task_id, image, width, height}. CheckImageUpload runs the same
  // checks without writing (call it before storing the file).
  absl::Status CheckImageUpload(const Principal& p, PoolId pool);
  absl::StatusOr<json> AddImageTask(const Principal& p, PoolId pool,
                                    const std::string& image, int width,
                                    int height);

  // Work (annotator).
  absl::StatusOr<std::optional<ClaimResult>> Claim(const Principal& p,
                                                   PoolId pool);
  // `idempotency_key` may be empty. A retried submit with the same key
  // returns the first submission.
  absl::StatusOr<json> Submit(const Principal& p, ClaimId claim,
                              const json& body,
                              absl::string_view idempotency_key);
  // Submit, then Claim in the same pool, in one transaction (the claim in
  // a savepoint of its own): adds "next" (Claim's {claim, task}, or null)
  // and, when null, "next_reason". A failing claim never fails the submit.
  absl::StatusOr<json> SubmitAndClaimNext(const Principal& p, ClaimId claim,
                                          const json& body,
                                          absl::string_view idempotency_key);

  // Whether the store can write without blocking: when false ClaimAsync and
  // SubmitAsync always return false.
  bool async_writes() const { return store_.async_writes(); }
  // An outcome made on demand: call it once, on any thread.
  template <typename T>
  using Later = std::function<T()>;
  template <typename T>
  using Then = std::function<void(Later<T>)>;
  // Non-blocking forms of Claim, and of Submit (SubmitAndClaimNext with
  // `claim_next`), for callers that must not wait, such as the HTTP
  // server's I/O threads. They return false, having done nothing, when the
  // store cannot write without blocking (PostgreSQL): call the blocking
  // form then. Otherwise `then` runs exactly once with a function that
  // makes what the blocking form would have returned: at once, on the
  // calling thread, for a request refused before its transaction; else on
  // the store's thread right after the commit, where `then` must only hand
  // that function to another thread (making it formats JSON).
  bool ClaimAsync(const Principal& p, PoolId pool,
                  Then<absl::StatusOr<std::optional<ClaimResult>>> then);
  bool SubmitAsync(const Principal& p, ClaimId claim, json body,
                   std::string idempotency_key, bool claim_next,
                   Then<absl::StatusOr<json>> then);
  absl::Status Release(const Principal& p, ClaimId claim);
  absl::StatusOr<json> Revise(const Principal& p, SubmissionId id,
                              const json& body,
                              absl::string_view idempotency_key);
  absl::StatusOr<json> GetSubmission(const Principal& p, SubmissionId id);
  // The caller's own submissions, optionally of one state.
  absl::StatusOr<json> ListMySubmissions(const Principal& p,
                                         std::optional<std::string> state);
  // Balances and entries, plus "pools": per pool with accepted work
  // {pool_id, pool_name, accepted, earned (Money), active_seconds, hourly
  // (Money or null when active_seconds is 0)}.
  absl::StatusOr<json> Earnings(const Principal& p);

  // Review (reviewer).
  absl::StatusOr<std::optional<json>> ClaimReview(const Principal& p,
                                                  PoolId pool);
  absl::StatusOr<json> Review(const Principal& p, SubmissionId id,
                              const json& body);

  // Requester views. PoolStats includes "throughput" (the last 48 clock
  // hours, oldest first: {start, submitted, accepted}), "hourly_earnings"
  // (per annotator with accepted work and active time: earned per active
  // hour as a decimal number in the price currency) and "budget_remaining".
  absl::StatusOr<json> PoolStats(const Principal& p, PoolId pool);
  // Accepted results of a pool as JSON lines (raw: one line per accepted
  // submission with its final round).
  absl::StatusOr<std::string> ExportJsonl(const Principal& p, PoolId pool);
  // Imports tasks from `source` into `pool` in one transaction (see
  // transfer.h). `actor` is a requester owning the pool (or an admin), or
  // nullopt for the CLI. Without skip_invalid the first invalid item fails
  // the whole import (kInvalidArgument naming where and the field) and
  // nothing is written. Report: {"created", "duplicates", "skipped",
  // "gold", "drafts", "first_task_id", "last_task_id",
  // "errors": [{"where", "field"?, "message"}]}.
  absl::StatusOr<json> ImportTasks(const std::optional<Principal>& actor,
                                   PoolId pool, ImportSource& source,
                                   const ImportOptions& options);
  // Walks `pool`'s tasks by id in one read transaction: `begin` once, then
  // `visit` per task. Who may: as ImportTasks.
  absl::Status ExportPool(
      const std::optional<Principal>& actor, PoolId pool,
      const ExportOptions& options,
      absl::FunctionRef<absl::Status(const ExportHeader&)> begin,
      absl::FunctionRef<absl::Status(const ExportTask&)> visit);
  // Stores a model's draft for a task (the pre-annotation job). kAlreadyExists
  // when that model and version already drafted it.
  absl::Status AddPreannotation(const domain::Preannotation& draft);
  // Pools (bbox, rewrite, reference), not closed, whose config has
  // "preannotate" (the pre-annotation job's work).
  absl::StatusOr<std::vector<domain::Pool>> ListDraftingPools();
  // Up to `limit` tasks of `pool` with ids above `after_id` that `model` at
  // `version` has not drafted yet.
  absl::StatusOr<std::vector<domain::Task>> TasksToDraft(
      PoolId pool, const std::string& model, const std::string& version,
      int64_t after_id, int limit);

  // The media-root-relative image path of a task the caller may see, or
  // kNotFound. http(s) URLs are returned as they are.
  absl::StatusOr<std::string> TaskImage(const Principal& p, TaskId task);

  // Quality (requester owning the pool, or admin; defined in quality.cc,
  // snapshot shape in quality.h). Aggregate infers truth over the pool's
  // submissions now and stores the result as the pool's next snapshot
  // version; GetQuality returns the latest snapshot (or `version`), kNotFound
  // when there is none.
  absl::StatusOr<json> Aggregate(const Principal& p, PoolId pool);
  absl::StatusOr<json> GetQuality(const Principal& p, PoolId pool,
                                  std::optional<int> version = std::nullopt);

  // Background jobs. Return how many rows they changed.
  absl::StatusOr<int> ExpireLeases(int limit = 500);
  absl::StatusOr<int> OpenDuePools();
  // Snapshots every pool whose submissions changed since its latest snapshot
  // (at most `limit` pools per call). Safe in several processes at once: a
  // pool another process has just snapshotted is skipped. Returns how many
  // snapshots it wrote; on failures, tries every pool and then returns the
  // first error.
  absl::StatusOr<int> AggregateStalePools(int limit = 100);

  // ---- Workforce: trials and background (issue 6)
  // Defined in trials.cc; shapes in docs/workforce.md ("Trials and
  // background") and docs/openapi.yaml.
  //
  // The caller's background (annotators): body {domains: [from kDomains],
  // profession, education?, evidence?}. Replacing it clears its
  // verification (skills already granted stay). Returns the profile view.
  absl::StatusOr<json> PutMyProfile(const Principal& p, const json& body);
  absl::StatusOr<json> GetMyProfile(const Principal& p);
  // Reviewers and admins: every profile, or those waiting for verification.
  absl::StatusOr<json> ListProfiles(const Principal& p, bool unverified_only);
  absl::StatusOr<json> GetUserProfile(const Principal& p, UserId user);
  // Reviewers and admins (never for themselves): body {skill, reason}.
  // Grants a domain skill and marks the profile verified; kAlreadyExists when
  // the user holds it.
  absl::StatusOr<json> GrantSkill(const Principal& p, UserId user,
                                  const json& body);
  // body {reason}; kNotFound when the user does not hold `skill`.
  absl::StatusOr<json> RevokeSkill(const Principal& p, UserId user,
                                   const std::string& skill, const json& body);
  // The pool's owner: {tasks: [{data, gold}]}, all or nothing; gold is
  // required except in rewrite and reference pools (graded by a reviewer).
  absl::StatusOr<json> AddTrialTasks(const Principal& p, PoolId pool,
                                     const json& body);
  // The pool's owner: the trial tasks with their gold, and the settings.
  absl::StatusOr<json> ListTrialTasks(const Principal& p, PoolId pool);
  struct TrialStart {
    json body;             // the attempt view
    bool resumed = false;  // an attempt in progress was returned
  };
  // Annotators: starts an attempt at the pool's trial, or returns the one in
  // progress. kFailedPrecondition with the reason when no trial is
  // configured, it was passed, the tries are used up, the cool-down has not
  // ended (the message says when it does), an attempt waits for a reviewer,
  // or the project cannot pay for a paid trial.
  absl::StatusOr<TrialStart> StartTrial(const Principal& p, PoolId pool);
  // The attempt as its annotator sees it (never gold): tasks with data and
  // answers, and once finished each task's score and feedback. Reviewers and
  // admins may read any attempt (with gold when grading).
  absl::StatusOr<json> GetTrial(const Principal& p, int64_t attempt);
  // The image (media path or URL) of one of an attempt's trial tasks, for
  // whoever may read the attempt.
  absl::StatusOr<std::string> TrialTaskImage(const Principal& p,
                                             int64_t attempt,
                                             int64_t trial_task_id);
  // body {trial_task_id, result, active_seconds?}: validated like a
  // submission and graded at once for objective types; the last answer
  // finishes the attempt (or sends it to a reviewer) and pays a paid trial.
  absl::StatusOr<json> AnswerTrial(const Principal& p, int64_t attempt,
                                   const json& body);
  // Reviewers: attempts waiting for grading (not the caller's own), oldest
  // first, with data, reference answer and the annotator's answers.
  absl::StatusOr<json> ListTrialReviews(const Principal& p);
  // Reviewers: body {grades: [{trial_task_id, score 0..1, feedback?}]} for
  // every task of an attempt in grading; finishes it (and pays).
  absl::StatusOr<json> GradeTrial(const Principal& p, int64_t attempt,
                                  const json& body);
  // The caller's attempts, per pool, with tries left and the next try time.
  absl::StatusOr<json> ListMyTrials(const Principal& p);
  // ---- end Workforce: trials and background

  // ---- Workforce: appeals, floor, flags, records (issue 6)
  // Defined in fairness.cc; shapes in docs/workforce.md ("Fairness
  // guarantees") and docs/openapi.yaml.
  //
  // The annotator of a rejected submission: body {note (non-blank)}. One
  // appeal per submission; kFailedPrecondition when it is not rejected or
  // already appealed. Returns the appeal.
  absl::StatusOr<json> AppealSubmission(const Principal& p, SubmissionId id,
                                        const json& body);
  // Reviewers and admins: appeals in `state` (open, upheld, denied; all when
  // nullopt), each with its submission (rounds included), the rejecting
  // reviewer and whether the caller may decide it.
  absl::StatusOr<json> ListAppeals(const Principal& p,
                                   std::optional<std::string> state);
  // Reviewers and admins other than the one who rejected the submission (and
  // its annotator): body {decision: uphold|deny, note?}. Upholding accepts
  // the submission and pays the pool's price from the project's budget in
  // the same transaction.
  absl::StatusOr<json> DecideAppeal(const Principal& p, int64_t appeal,
                                    const json& body);
  absl::StatusOr<json> ListMyAppeals(const Principal& p);
  // The pool's owner or an admin: settles the hourly floor for the ISO week
  // containing `week` (YYYY-MM-DD, UTC), which must have ended. Idempotent.
  // Returns {pool_id, week_start, floor, topups: [...], unpaid: [...]}.
  absl::StatusOr<json> SettleFloor(const Principal& p, PoolId pool,
                                   absl::string_view week);
  // The job: settles the last `weeks` ended weeks of every pool with an
  // hourly floor. Returns how many top-ups it credited.
  absl::StatusOr<int> SettleEndedFloorWeeks(int weeks = 4);
  // An annotator holding a claim on, or a submission for, `task`: body
  // {section (a guideline heading), note?}. Returns the flag.
  absl::StatusOr<json> FlagTask(const Principal& p, TaskId task,
                                const json& body);
  // The pool's owner or an admin: flags per section with the disagreement on
  // each flagged task.
  absl::StatusOr<json> ListPoolFlags(const Principal& p, PoolId pool);
  // The caller's signed portable work record {record, signature, key_id,
  // algorithm}; see service/record_signing.h for the canonical bytes.
  absl::StatusOr<json> WorkRecord(const Principal& p);
  // The public half of the record-signing key {key_id, public_key,
  // algorithm}; the pair is created on first use.
  absl::StatusOr<json> RecordKey();
  // ---- end Workforce: appeals, floor, flags, records

 private:
  // The transactional parts of Claim and Submit, which SubmitAndClaimNext
  // runs in one transaction; the response JSON is built after the commit.
  struct ClaimDraft {
    std::optional<domain::Claim> claimed;  // none: no task for the caller
    json task;
    bool resumed = false;
  };
  absl::Status ClaimInTx(store::Tx& tx, const Principal& p, PoolId pool_id,
                         absl::Time now, ClaimDraft& out);
  static ClaimResult ClaimResultOf(ClaimDraft draft);
  struct SubmitDraft {
    json replayed;  // a replay's JSON (built inside: replays are rare)
    std::optional<std::pair<domain::Submission, domain::Round>> created;
  };
  absl::Status SubmitInTx(store::Tx& tx, const Principal& p, ClaimId claim_id,
                          const json& result,
                          std::optional<int64_t> active_seconds,
                          absl::string_view idempotency_key, absl::Time now,
                          SubmitDraft& out);
  static json SubmitJsonOf(SubmitDraft draft);

  // A write use case in the two parts both calling forms share: `run` is its
  // transaction (run again on a retry), `finish` makes the outcome from the
  // transaction's status.
  template <typename T>
  struct WriteWork {
    std::function<absl::Status(store::Tx&)> run;
    std::function<T(absl::Status)> finish;
  };
  WriteWork<absl::StatusOr<std::optional<ClaimResult>>> ClaimWork(
      const Principal& p, PoolId pool_id);
  struct SubmitState;  // service.cc
  // Checks the caller and the body (which must outlive `state`'s use) and
  // fills `state` with them.
  absl::Status PrepareSubmit(const Principal& p, const json& body,
                             absl::string_view idempotency_key, bool claim_next,
                             SubmitState& state);
  // Submit and SubmitAndClaimNext.
  absl::StatusOr<json> SubmitNow(const Principal& p, ClaimId claim_id,
                                 const json& body,
                                 absl::string_view idempotency_key,
                                 bool claim_next);
  WriteWork<absl::StatusOr<json>> SubmitWork(
      const Principal& p, ClaimId claim_id, std::shared_ptr<SubmitState> state);
  // The blocking form: runs `work.run` as a write transaction.
  template <typename T>
  T RunWork(const WriteWork<T>& work);
  // The non-blocking form (see ClaimAsync).
  template <typename T>
  bool RunWorkAsync(WriteWork<T> work, Then<T> then);

  absl::Status Write(absl::FunctionRef<absl::Status(store::Tx&)> fn);
  absl::Status Read(absl::FunctionRef<absl::Status(store::Tx&)> fn);
  // Snapshots one pool (quality.cc). `actor` is the caller, who must own
  // the pool (nullopt: the job). With `only_if_stale`, returns nullopt when
  // the latest snapshot already covers the pool's current inputs.
  absl::StatusOr<std::optional<json>> AggregatePool(
      const std::optional<Principal>& actor, PoolId pool, bool only_if_stale);
  // Writes `body` as quality snapshot parts under a new token (one small
  // transaction each) and returns the token.
  absl::StatusOr<std::string> StageSnapshotParts(PoolId pool,
                                                 absl::string_view body,
                                                 absl::Time now);
  // Deletes the pool's snapshots older than its newest
  // `options_.keep_quality_snapshots` (none when that is 0), best effort.
  void PruneSnapshots(PoolId pool);

  struct CachedSession {
    Principal principal;
    absl::Time session_expires;
    absl::Time cached_until;
  };

  // ListPools' accepted work per pool (its hourly estimates). That read
  // scans every accepted submission, so its result is kept for
  // kAcceptedWorkTtl and dropped whenever this process accepts work
  // (Review, DecideAppeal); other processes' accepts show within the TTL.
  absl::StatusOr<std::shared_ptr<const std::vector<store::WorkTotals>>>
  AcceptedWorkByPool(store::Tx& tx, absl::Time now);
  void ForgetAcceptedWork();
  static constexpr absl::Duration kAcceptedWorkTtl = absl::Seconds(10);
  absl::Mutex accepted_work_mu_;
  std::shared_ptr<const std::vector<store::WorkTotals>> accepted_work_
      ABSL_GUARDED_BY(accepted_work_mu_);
  absl::Time accepted_work_at_ ABSL_GUARDED_BY(accepted_work_mu_);
  uint64_t accepted_work_generation_ ABSL_GUARDED_BY(accepted_work_mu_) = 0;

  store::Store& store_;
  const Clock& clock_;
  ServiceOptions options_;
  absl::Mutex auth_mu_;
  absl::flat_hash_map<std::string, CachedSession> auth_cache_
      ABSL_GUARDED_BY(auth_mu_);

  // ---- Workforce: standing and allocation (issue 6)
  // Defined in standing.cc; shapes in docs/workforce.md ("Standing and
  // allocation") and docs/openapi.yaml.
 public:
  // The caller's standing (annotators): overall and per domain, every
  // factor, score, tier, thresholds, hints, allocation flags and tier
  // history. Records a tier change in standing_history.
  absl::StatusOr<json> MyStanding(const Principal& p);
  // Another user's standing, for requesters, reviewers and admins.
  absl::StatusOr<json> UserStanding(const Principal& p, UserId user);
  // Requesters owning the project (or admins): body {annotator_id, reason}.
  // kAlreadyExists when already blocked. Audited.
  absl::StatusOr<json> BlockAnnotator(const Principal& p, ProjectId project,
                                      const json& body);
  // kNotFound when the annotator is not blocked there. Audited.
  absl::Status UnblockAnnotator(const Principal& p, ProjectId project,
                                UserId annotator);
  absl::StatusOr<json> ListBlocks(const Principal& p, ProjectId project);
  // The caller's own claims with why each went to them, newest first (200).
  absl::StatusOr<json> ListMyClaims(const Principal& p);
  // The pool's claims with annotator and reason, newest first (500); owner
  // or admin.
  absl::StatusOr<json> ListPoolClaims(const Principal& p, PoolId pool,
                                      std::optional<UserId> annotator);
  // Replaces the standing and allocation settings (defaults: see
  // domain::StandingPolicy). Call before serving; not thread-safe.
  void SetStandingPolicy(const domain::StandingPolicy& policy);

 private:
  // Hooks of Claim, Submit and ListPools into allocation (standing.cc).
  struct Allocation {
    std::optional<TaskId> task;  // nullopt: nothing to claim (204)
    bool consume_slot = true;    // gold checks take no slot
    json reason;                 // stored in claims.reason
  };
  // Eligibility (kPermissionDenied with the reasons), the comeback limit and
  // scarcity (kFailedPrecondition), then the task: gold check or next open
  // task. Call in the claim's write transaction.
  absl::StatusOr<Allocation> Allocate(store::Tx& tx, const Principal& p,
                                      const domain::Pool& pool, absl::Time now);
  // Grades a submission of a gold task and stores its gold_checks row.
  absl::Status RecordGoldCheck(store::Tx& tx, const domain::Pool& pool,
                               const domain::Task& task,
                               const domain::Submission& s, const json& result,
                               absl::Time now);
  // Why the caller may not claim in `pool` (empty: may). `memo` carries
  // per-caller reads across the pools of one ListPools call.
  absl::StatusOr<std::vector<std::string>> PoolEligibility(
      store::Tx& tx, const Principal& p, const domain::Pool& pool,
      absl::Time now, std::shared_ptr<internal::EligibilityMemo>& memo);
  domain::StandingPolicy standing_policy_;
  std::shared_ptr<internal::StandingCache> standing_cache_ =
      internal::NewStandingCache();
  // ---- end Workforce: standing and allocation

  // ---- Workforce: reviewer invitations (issue 6)
  // Defined in invitations.cc; shapes in docs/workforce.md ("Invitations to
  // review") and docs/openapi.yaml. An invitation is {id, user_id,
  // invited_by, note, state (pending, accepted, declined), created_at,
  // decided_at}.
 public:
  // Admins: body {note?} (at most 2000 characters). kNotFound when the user
  // does not exist; kAlreadyExists when they already review or have a
  // pending invitation; kFailedPrecondition unless their overall standing
  // tier is reviewer_eligible. Audited ("reviewer.invite").
  absl::StatusOr<json> InviteReviewer(const Principal& p, UserId user,
                                      const json& body);
  // The caller's invitations, newest first: {invitations: [...]}.
  absl::StatusOr<json> ListMyInvitations(const Principal& p);
  // The invited user only (kNotFound for anyone else): accepting grants the
  // reviewer role in the same transaction. kFailedPrecondition when the
  // invitation is no longer pending. Audited
  // ("reviewer.invitation_accept"/"reviewer.invitation_decline").
  absl::StatusOr<json> DecideInvitation(const Principal& p, int64_t id,
                                        bool accept);

 private:
  // Drops the cached sessions of `user` (after their roles changed).
  void ForgetCachedSessions(UserId user);
  // ---- end Workforce: reviewer invitations
};

}  // namespace tessera::service
