// Tessera's use cases. Each public function is one transaction and enforces
// who may see and do what, so the HTTP API and the CLI share every rule.
// Inputs are parsed request bodies; outputs are the API's JSON objects.
// Thread-safe: any number of threads may call concurrently.
#pragma once

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
};

// The result of a claim: 201 with the claim, or nothing to do (204).
struct ClaimResult {
  json body;             // {claim, task}
  bool resumed = false;  // the caller already held this claim
};

class Service {
 public:
  // `store` and `clock` must outlive the service.
  Service(store::Store& store, const Clock& clock, ServiceOptions options = {});

  // Identity. Login fails with kUnauthenticated for a wrong name or password
  // (same message for both).
  absl::StatusOr<json> Login(const json& body);
  absl::StatusOr<Principal> Authenticate(absl::string_view token);
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
  // Submit, then (in its own transaction) Claim in the same pool: adds
  // "next" (Claim's {claim, task}, or null) and, when null, "next_reason".
  // A failing claim never fails the submit.
  absl::StatusOr<json> SubmitAndClaimNext(const Principal& p, ClaimId claim,
                                          const json& body,
                                          absl::string_view idempotency_key);
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

 private:
  absl::Status Write(absl::FunctionRef<absl::Status(store::Tx&)> fn);
  absl::Status Read(absl::FunctionRef<absl::Status(store::Tx&)> fn);
  // Snapshots one pool (quality.cc). `actor` is the caller, who must own
  // the pool (nullopt: the job). With `only_if_stale`, returns nullopt when
  // the latest snapshot already covers the pool's current inputs.
  absl::StatusOr<std::optional<json>> AggregatePool(
      const std::optional<Principal>& actor, PoolId pool, bool only_if_stale);

  struct CachedSession {
    Principal principal;
    absl::Time session_expires;
    absl::Time cached_until;
  };

  store::Store& store_;
  const Clock& clock_;
  ServiceOptions options_;
  absl::Mutex auth_mu_;
  absl::flat_hash_map<std::string, CachedSession> auth_cache_
      ABSL_GUARDED_BY(auth_mu_);
};

}  // namespace tessera::service
