// Tessera's entities and their states. Pure data: no I/O. JSON payloads (task
// data, results, configs) are held as JSON text; task_types.h validates them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tessera/base/ids.h"
#include "tessera/base/money.h"

namespace tessera::domain {

enum class Role { kAdmin, kRequester, kReviewer, kAnnotator };
enum class TaskType {
  kBbox,
  kClassify,
  kPairwise,
  kRating,
  kRewrite,
  kReference
};
// draft: being filled; scheduled: released for opens_at; open; closed.
enum class PoolState { kDraft, kScheduled, kOpen, kClosed };
enum class ClaimState { kActive, kSubmitted, kExpired, kReleased };
enum class SubmissionState {
  kPendingReview,
  kInReview,
  kReturned,
  kAccepted,
  kRejected
};
enum class Verdict { kAccept, kRevise, kReject };

// Wire/database strings, defined once. Parse* return kInvalidArgument naming
// `field` for unknown strings.
absl::string_view ToString(Role r);
absl::string_view ToString(TaskType t);
absl::string_view ToString(PoolState s);
absl::string_view ToString(ClaimState s);
absl::string_view ToString(SubmissionState s);
absl::string_view ToString(Verdict v);
absl::StatusOr<Role> ParseRole(absl::string_view s, absl::string_view field);
absl::StatusOr<TaskType> ParseTaskType(absl::string_view s,
                                       absl::string_view field);
absl::StatusOr<PoolState> ParsePoolState(absl::string_view s,
                                         absl::string_view field);
absl::StatusOr<ClaimState> ParseClaimState(absl::string_view s,
                                           absl::string_view field);
absl::StatusOr<SubmissionState> ParseSubmissionState(absl::string_view s,
                                                     absl::string_view field);
absl::StatusOr<Verdict> ParseVerdict(absl::string_view s,
                                     absl::string_view field);

struct User {
  UserId id;
  std::string username;
  std::string password_hash;  // argon2id string from libsodium
  std::vector<Role> roles;
  absl::Time created_at;
  bool HasRole(Role r) const;
};

struct Session {
  std::string
      token_hash;  // BLAKE2b of the token, hex; the token is never stored
  UserId user_id;
  absl::Time created_at;
  absl::Time expires_at;
  bool revoked = false;
};

struct Project {
  ProjectId id;
  UserId owner_id;
  std::string name;
  std::string description;
  std::string guidelines;  // markdown
  std::string currency = "CNY";
  absl::Time created_at;
};

struct Pool {
  PoolId id;
  ProjectId project_id;
  std::string name;
  TaskType task_type = TaskType::kClassify;
  std::string config_json = "{}";
  Money price;
  int overlap = 1;  // how many different annotators each task needs
  int lease_seconds = 600;
  int max_rounds = 3;
  std::optional<absl::Time> opens_at;
  PoolState state = PoolState::kDraft;
  absl::Time created_at;
};

struct Task {
  TaskId id;
  PoolId pool_id;
  std::string data_json;
  std::optional<std::string> gold_json;  // never shown to annotators
  int open_slots = 1;  // overlap minus live claims and non-rejected submissions
  absl::Time created_at;
  // A digest of the task's data (hex), set by imports so that re-importing
  // the same file with dedupe adds nothing twice.
  std::optional<std::string> dedupe_key;
};

// A draft answer for a task made by a model (or imported with the tasks):
// shown to annotators to accept, adjust or delete; never a submission.
struct Preannotation {
  int64_t id = 0;
  TaskId task_id;
  PoolId pool_id;
  std::string source;       // "import" or "model"
  std::string model;        // e.g. "opencv-hog-people"
  std::string version;      // e.g. "4.6.0"
  std::string result_json;  // the pool type's result shape
  std::optional<double> score;
  absl::Time created_at;
};

struct Claim {
  ClaimId id;
  TaskId task_id;
  PoolId pool_id;
  UserId annotator_id;
  ClaimState state = ClaimState::kActive;
  absl::Time created_at;
  absl::Time expires_at;
  // Why the task went to this annotator (JSON; issue 6). Written by
  // Tx::InsertClaim, read back by Tx::ListClaimRecords, not by GetClaim.
  std::string reason_json;
};

struct Submission {
  SubmissionId id;
  ClaimId claim_id;
  TaskId task_id;
  PoolId pool_id;
  UserId annotator_id;
  SubmissionState state = SubmissionState::kPendingReview;
  int round = 1;
  std::optional<UserId> reviewer_id;  // holder of the review lease
  std::optional<absl::Time> review_expires_at;
  bool first_pass = false;  // accepted in round 1
  absl::Time created_at;
  absl::Time updated_at;
};

// One round of a submission: the annotator's result and, once reviewed, the
// verdict and comments.
struct Round {
  SubmissionId submission_id;
  int round = 1;
  std::string result_json;
  int64_t active_seconds = 0;
  std::string idempotency_key;
  absl::Time submitted_at;
  std::optional<Verdict> verdict;
  std::optional<UserId> reviewer_id;
  std::string comments_json = "[]";
  std::optional<absl::Time> reviewed_at;
};

enum class AccountKind { kFunding, kProject, kAnnotator };
absl::string_view ToString(AccountKind k);

struct LedgerEntry {
  int64_t id = 0;
  int64_t journal_id = 0;  // entries of one journal sum to zero
  AccountId account_id;
  Money amount;      // positive credits the account, negative debits it
  std::string kind;  // "funding", "task_payment", ...
  std::optional<SubmissionId> submission_id;
  std::string memo;
  absl::Time created_at;
};

struct AuditRecord {
  std::optional<UserId> actor;
  std::string action;  // e.g. "claim.create"
  std::string entity;  // e.g. "claim"
  int64_t entity_id = 0;
  std::string before_json = "null";
  std::string after_json = "null";
  absl::Time at;
};

}  // namespace tessera::domain
