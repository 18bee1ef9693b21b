// The store port written once in SQL over SqlConn; the drivers supply the
// dialect. Keep statements portable between SQLite 3.40 and PostgreSQL 15.
#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tessera/base/status.h"
#include "tessera/store/sql/claim_sql.h"
#include "tessera/store/sql/migrations.h"
#include "tessera/store/store.h"

namespace tessera::store {
namespace {

using domain::AccountKind;
using domain::AuditRecord;
using domain::Claim;
using domain::ClaimState;
using domain::LedgerEntry;
using domain::Pool;
using domain::Preannotation;
using domain::Project;
using domain::Round;
using domain::Session;
using domain::Submission;
using domain::SubmissionState;
using domain::Task;
using domain::User;

// Value conversions.
int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
// claim_days.utc_day is Micros(t) / kMicrosPerDay.
constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000 * 1000;
// Restricts a claim_days read to the UTC day of `since` and later (all days
// for InfinitePast()).
void AppendFromDay(absl::Time since, std::string& sql,
                   std::vector<SqlValue>& params) {
  if (since == absl::InfinitePast()) return;
  sql += " AND utc_day >= ?";
  params.push_back(Micros(since) / kMicrosPerDay);
}
// A claim's reason that records tier newcomer contains this (claim_days
// counts them apart).
constexpr absl::string_view kNewcomerReason = R"("tier":"newcomer")";
absl::Time FromMicros(int64_t v) { return absl::FromUnixMicros(v); }
SqlValue OptMicros(const std::optional<absl::Time>& t) {
  if (!t) return std::monostate{};
  return Micros(*t);
}
template <typename T>
SqlValue OptId(const std::optional<T>& id) {
  if (!id) return std::monostate{};
  return id->value;
}
SqlValue OptText(const std::optional<std::string>& s) {
  if (!s) return std::monostate{};
  return *s;
}

bool IsNull(const SqlValue& v) {
  return std::holds_alternative<std::monostate>(v);
}
int64_t Int(const SqlValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (auto* s = std::get_if<std::string>(&v)) return std::stoll(*s);
  return 0;
}
// The first column of `rows` as ids.
template <typename IdT>
std::vector<IdT> IdsOf(const SqlRows& rows) {
  std::vector<IdT> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.emplace_back(Int(r[0]));
  return out;
}
std::string Text(const SqlValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return "";
}
std::optional<absl::Time> OptTime(const SqlValue& v) {
  if (IsNull(v)) return std::nullopt;
  return FromMicros(Int(v));
}

std::string RolesText(const std::vector<domain::Role>& roles) {
  std::vector<std::string> names;
  for (domain::Role r : roles) names.emplace_back(domain::ToString(r));
  return absl::StrJoin(names, ",");
}

constexpr const char* kUserCols =
    "id, username, password_hash, roles, created_at";
absl::StatusOr<User> RowToUser(const SqlRow& r) {
  User u;
  u.id = UserId(Int(r[0]));
  u.username = Text(r[1]);
  u.password_hash = Text(r[2]);
  for (absl::string_view name :
       absl::StrSplit(Text(r[3]), ',', absl::SkipEmpty())) {
    TS_ASSIGN_OR_RETURN(domain::Role role, domain::ParseRole(name, "roles"));
    u.roles.push_back(role);
  }
  u.created_at = FromMicros(Int(r[4]));
  return u;
}

constexpr const char* kProjectCols =
    "id, owner_id, name, description, guidelines, currency, created_at";
Project RowToProject(const SqlRow& r) {
  Project p;
  p.id = ProjectId(Int(r[0]));
  p.owner_id = UserId(Int(r[1]));
  p.name = Text(r[2]);
  p.description = Text(r[3]);
  p.guidelines = Text(r[4]);
  p.currency = Text(r[5]);
  p.created_at = FromMicros(Int(r[6]));
  return p;
}

constexpr const char* kPoolCols =
    "id, project_id, name, task_type, config, price_minor, currency, overlap, "
    "lease_seconds, max_rounds, opens_at, state, created_at";
absl::StatusOr<Pool> RowToPool(const SqlRow& r) {
  Pool p;
  p.id = PoolId(Int(r[0]));
  p.project_id = ProjectId(Int(r[1]));
  p.name = Text(r[2]);
  TS_ASSIGN_OR_RETURN(p.task_type,
                      domain::ParseTaskType(Text(r[3]), "task_type"));
  p.config_json = Text(r[4]);
  p.price = Money{Int(r[5]), Text(r[6])};
  p.overlap = static_cast<int>(Int(r[7]));
  p.lease_seconds = static_cast<int>(Int(r[8]));
  p.max_rounds = static_cast<int>(Int(r[9]));
  p.opens_at = OptTime(r[10]);
  TS_ASSIGN_OR_RETURN(p.state, domain::ParsePoolState(Text(r[11]), "state"));
  p.created_at = FromMicros(Int(r[12]));
  return p;
}

constexpr const char* kTaskCols =
    "id, pool_id, data, gold, open_slots, created_at, dedupe_key";
Task RowToTask(const SqlRow& r) {
  Task t;
  t.id = TaskId(Int(r[0]));
  t.pool_id = PoolId(Int(r[1]));
  t.data_json = Text(r[2]);
  if (!IsNull(r[3])) t.gold_json = Text(r[3]);
  t.open_slots = static_cast<int>(Int(r[4]));
  t.created_at = FromMicros(Int(r[5]));
  if (!IsNull(r[6])) t.dedupe_key = Text(r[6]);
  return t;
}

constexpr const char* kPreannotationCols =
    "id, task_id, pool_id, source, model, version, result, score, created_at";
Preannotation RowToPreannotation(const SqlRow& r) {
  Preannotation p;
  p.id = Int(r[0]);
  p.task_id = TaskId(Int(r[1]));
  p.pool_id = PoolId(Int(r[2]));
  p.source = Text(r[3]);
  p.model = Text(r[4]);
  p.version = Text(r[5]);
  p.result_json = Text(r[6]);
  if (!IsNull(r[7])) {
    const SqlValue& v = r[7];
    p.score = std::holds_alternative<double>(v) ? std::get<double>(v)
                                                : static_cast<double>(Int(v));
  }
  p.created_at = FromMicros(Int(r[8]));
  return p;
}

// Rows of (submission id, task id, annotator id, state, round, result).
absl::StatusOr<std::vector<PoolResult>> RowsToResults(const SqlRows& rows) {
  std::vector<PoolResult> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) {
    PoolResult p;
    p.submission_id = SubmissionId(Int(r[0]));
    p.task_id = TaskId(Int(r[1]));
    p.annotator_id = UserId(Int(r[2]));
    TS_ASSIGN_OR_RETURN(p.state,
                        domain::ParseSubmissionState(Text(r[3]), "state"));
    p.round = static_cast<int>(Int(r[4]));
    p.result_json = Text(r[5]);
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<Preannotation> RowsToPreannotations(const SqlRows& rows) {
  std::vector<Preannotation> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.push_back(RowToPreannotation(r));
  return out;
}

std::vector<Task> RowsToTasks(const SqlRows& rows) {
  std::vector<Task> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.push_back(RowToTask(r));
  return out;
}

constexpr const char* kClaimCols =
    "id, task_id, pool_id, annotator_id, state, created_at, expires_at";
absl::StatusOr<Claim> RowToClaim(const SqlRow& r) {
  Claim c;
  c.id = ClaimId(Int(r[0]));
  c.task_id = TaskId(Int(r[1]));
  c.pool_id = PoolId(Int(r[2]));
  c.annotator_id = UserId(Int(r[3]));
  TS_ASSIGN_OR_RETURN(c.state, domain::ParseClaimState(Text(r[4]), "state"));
  c.created_at = FromMicros(Int(r[5]));
  c.expires_at = FromMicros(Int(r[6]));
  return c;
}

constexpr const char* kSubmissionCols =
    "id, claim_id, task_id, pool_id, annotator_id, state, round, reviewer_id, "
    "review_expires_at, first_pass, created_at, updated_at";
absl::StatusOr<Submission> RowToSubmission(const SqlRow& r) {
  Submission s;
  s.id = SubmissionId(Int(r[0]));
  s.claim_id = ClaimId(Int(r[1]));
  s.task_id = TaskId(Int(r[2]));
  s.pool_id = PoolId(Int(r[3]));
  s.annotator_id = UserId(Int(r[4]));
  TS_ASSIGN_OR_RETURN(s.state,
                      domain::ParseSubmissionState(Text(r[5]), "state"));
  s.round = static_cast<int>(Int(r[6]));
  if (!IsNull(r[7])) s.reviewer_id = UserId(Int(r[7]));
  s.review_expires_at = OptTime(r[8]);
  s.first_pass = Int(r[9]) != 0;
  s.created_at = FromMicros(Int(r[10]));
  s.updated_at = FromMicros(Int(r[11]));
  return s;
}

constexpr const char* kRoundCols =
    "submission_id, round, result, active_seconds, idempotency_key, "
    "submitted_at, verdict, reviewer_id, comments, reviewed_at";
absl::StatusOr<Round> RowToRound(const SqlRow& r) {
  Round d;
  d.submission_id = SubmissionId(Int(r[0]));
  d.round = static_cast<int>(Int(r[1]));
  d.result_json = Text(r[2]);
  d.active_seconds = Int(r[3]);
  d.idempotency_key = Text(r[4]);
  d.submitted_at = FromMicros(Int(r[5]));
  if (!IsNull(r[6])) {
    TS_ASSIGN_OR_RETURN(d.verdict, domain::ParseVerdict(Text(r[6]), "verdict"));
  }
  if (!IsNull(r[7])) d.reviewer_id = UserId(Int(r[7]));
  d.comments_json = Text(r[8]);
  d.reviewed_at = OptTime(r[9]);
  return d;
}

constexpr const char* kSnapshotCols =
    "id, pool_id, version, created_at, submissions_seen, input_mark, method, "
    "body, parts_token";
QualitySnapshot RowToSnapshot(const SqlRow& r) {
  QualitySnapshot q;
  q.id = Int(r[0]);
  q.pool_id = PoolId(Int(r[1]));
  q.version = static_cast<int>(Int(r[2]));
  q.created_at = FromMicros(Int(r[3]));
  q.submissions_seen = Int(r[4]);
  q.input_mark = Int(r[5]);
  q.method = Text(r[6]);
  q.body_json = Text(r[7]);
  if (!std::holds_alternative<std::monostate>(r[8])) {
    q.parts_token = Text(r[8]);
  }
  return q;
}

// How many submissions a join of submissions with all their rounds covers
// (each has exactly one round 1; cheaper than COUNT(DISTINCT s.id)).
constexpr const char* kSubmissionsAmongRounds =
    "CAST(COALESCE(SUM(CASE WHEN r.round = 1 THEN 1 ELSE 0 END), 0) AS "
    "BIGINT)";

// PoolInputMark::mark over the submissions in scope (an aggregate).
constexpr const char* kInputMark =
    "CAST(COALESCE(SUM(round), 0) + COALESCE(SUM(CASE WHEN state = "
    "'rejected' THEN 1 ELSE 0 END), 0) AS BIGINT)";

// Ends the subquery of an [NOT] EXISTS over "the annotator's claims of task
// t" so that it runs as one probe of claims_task_annotator per candidate
// task, as SQLite runs it. PostgreSQL would otherwise join it against all of
// the annotator's claims (a merge join over the whole of
// claims_task_annotator, or a scan of claims): a cost that grows with the
// claims table, paid by every claim. OFFSET keeps PostgreSQL from pulling
// the subquery up into a join.
const char* PerTaskProbe(const Dialect& dialect) {
  return dialect.name == "postgres" ? " OFFSET 0" : "";
}

class SqlTx final : public Tx {
 public:
  SqlTx(SqlConn& conn, const Dialect& dialect)
      : conn_(conn), dialect_(dialect) {}

  absl::Status Nested(absl::FunctionRef<absl::Status(Tx&)> fn) override {
    // Simple-query statements: PostgreSQL does not prepare SAVEPOINT.
    TS_RETURN_IF_ERROR(conn_.ExecScript("SAVEPOINT tessera_nested"));
    absl::Status status = fn(*this);
    if (status.ok()) return conn_.ExecScript("RELEASE tessera_nested");
    TS_RETURN_IF_ERROR(
        conn_.ExecScript("ROLLBACK TO tessera_nested; RELEASE tessera_nested"));
    return status;
  }

  // Users and sessions.
  absl::StatusOr<UserId> InsertUser(const User& u) override {
    TS_ASSIGN_OR_RETURN(
        int64_t id,
        InsertReturningId(
            "INSERT INTO users (username, password_hash, roles, created_at) "
            "VALUES (?, ?, ?, ?) RETURNING id",
            {u.username, u.password_hash, RolesText(u.roles),
             Micros(u.created_at)}));
    return UserId(id);
  }
  absl::StatusOr<User> GetUser(UserId id) override {
    TS_ASSIGN_OR_RETURN(auto rows, Q(absl::StrCat("SELECT ", kUserCols,
                                                  " FROM users WHERE id = ?"),
                                     {id.value}));
    if (rows.empty()) return NotFound("user");
    return RowToUser(rows[0]);
  }
  absl::StatusOr<std::optional<User>> FindUserByName(
      absl::string_view username) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q(absl::StrCat("SELECT ", kUserCols, " FROM users WHERE username = ?"),
          {std::string(username)}));
    if (rows.empty()) return std::nullopt;
    TS_ASSIGN_OR_RETURN(User u, RowToUser(rows[0]));
    return u;
  }
  absl::StatusOr<int64_t> CountUsers() override {
    TS_ASSIGN_OR_RETURN(auto rows, Q("SELECT COUNT(*) FROM users", {}));
    return Int(rows[0][0]);
  }
  absl::Status InsertSession(const Session& s) override {
    return conn_.Exec(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, "
        "revoked) VALUES (?, ?, ?, ?, ?)",
        {s.token_hash, s.user_id.value, Micros(s.created_at),
         Micros(s.expires_at), int64_t{s.revoked ? 1 : 0}});
  }
  absl::StatusOr<std::optional<Session>> FindSession(
      absl::string_view token_hash) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT token_hash, user_id, created_at, expires_at, revoked FROM "
          "sessions WHERE token_hash = ?",
          {std::string(token_hash)}));
    if (rows.empty()) return std::nullopt;
    const SqlRow& r = rows[0];
    Session s;
    s.token_hash = Text(r[0]);
    s.user_id = UserId(Int(r[1]));
    s.created_at = FromMicros(Int(r[2]));
    s.expires_at = FromMicros(Int(r[3]));
    s.revoked = Int(r[4]) != 0;
    return s;
  }
  absl::Status RevokeSession(absl::string_view token_hash) override {
    return conn_.Exec("UPDATE sessions SET revoked = 1 WHERE token_hash = ?",
                      {std::string(token_hash)});
  }

  // Projects and pools.
  absl::StatusOr<ProjectId> InsertProject(const Project& p) override {
    TS_ASSIGN_OR_RETURN(
        int64_t id,
        InsertReturningId(
            "INSERT INTO projects (owner_id, name, description, guidelines, "
            "currency, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            {p.owner_id.value, p.name, p.description, p.guidelines, p.currency,
             Micros(p.created_at)}));
    return ProjectId(id);
  }
  absl::StatusOr<Project> GetProject(ProjectId id) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q(absl::StrCat("SELECT ", kProjectCols, " FROM projects WHERE id = ?"),
          {id.value}));
    if (rows.empty()) return NotFound("project");
    return RowToProject(rows[0]);
  }
  absl::StatusOr<std::vector<Project>> ListProjects(
      std::optional<UserId> owner) override {
    SqlRows rows;
    if (owner) {
      TS_ASSIGN_OR_RETURN(rows, Q(absl::StrCat("SELECT ", kProjectCols,
                                               " FROM projects WHERE owner_id "
                                               "= ? ORDER BY id"),
                                  {owner->value}));
    } else {
      TS_ASSIGN_OR_RETURN(rows, Q(absl::StrCat("SELECT ", kProjectCols,
                                               " FROM projects ORDER BY id"),
                                  {}));
    }
    std::vector<Project> out;
    for (const SqlRow& r : rows) out.push_back(RowToProject(r));
    return out;
  }
  absl::StatusOr<PoolId> InsertPool(const Pool& p) override {
    TS_ASSIGN_OR_RETURN(
        int64_t id,
        InsertReturningId(
            "INSERT INTO pools (project_id, name, task_type, config, "
            "price_minor, "
            "currency, overlap, lease_seconds, max_rounds, opens_at, state, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING "
            "id",
            {p.project_id.value, p.name,
             std::string(domain::ToString(p.task_type)), p.config_json,
             p.price.amount_minor, p.price.currency, int64_t{p.overlap},
             int64_t{p.lease_seconds}, int64_t{p.max_rounds},
             OptMicros(p.opens_at), std::string(domain::ToString(p.state)),
             Micros(p.created_at)}));
    return PoolId(id);
  }
  absl::StatusOr<Pool> GetPool(PoolId id) override {
    TS_ASSIGN_OR_RETURN(auto rows, Q(absl::StrCat("SELECT ", kPoolCols,
                                                  " FROM pools WHERE id = ?"),
                                     {id.value}));
    if (rows.empty()) return NotFound("pool");
    return RowToPool(rows[0]);
  }
  absl::StatusOr<std::vector<Pool>> ListPools(
      std::optional<ProjectId> project) override {
    SqlRows rows;
    if (project) {
      TS_ASSIGN_OR_RETURN(rows, Q(absl::StrCat("SELECT ", kPoolCols,
                                               " FROM pools WHERE project_id = "
                                               "? ORDER BY id"),
                                  {project->value}));
    } else {
      TS_ASSIGN_OR_RETURN(
          rows,
          Q(absl::StrCat("SELECT ", kPoolCols, " FROM pools ORDER BY id"), {}));
    }
    std::vector<Pool> out;
    for (const SqlRow& r : rows) {
      TS_ASSIGN_OR_RETURN(Pool p, RowToPool(r));
      out.push_back(std::move(p));
    }
    return out;
  }
  absl::Status UpdatePool(const Pool& p) override {
    TS_RETURN_IF_ERROR(
        conn_.Exec("UPDATE pools SET state = ?, opens_at = ? WHERE id = ?",
                   {std::string(domain::ToString(p.state)),
                    OptMicros(p.opens_at), p.id.value}));
    return ExpectOneChange("pool");
  }
  absl::StatusOr<std::vector<PoolId>> ListDuePools(absl::Time now) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q("SELECT id FROM pools WHERE state = 'scheduled' AND "
                          "opens_at IS NOT NULL AND opens_at <= ? ORDER BY id",
                          {Micros(now)}));
    return IdsOf<PoolId>(rows);
  }
  absl::StatusOr<PoolStats> GetPoolStats(PoolId id) override {
    PoolStats s;
    TS_ASSIGN_OR_RETURN(
        auto t,
        Q("SELECT COUNT(*), CAST(COALESCE(SUM(open_slots), 0) AS BIGINT) "
          "FROM tasks WHERE pool_id = ?",
          {id.value}));
    s.tasks = Int(t[0][0]);
    s.open_slots = Int(t[0][1]);
    TS_ASSIGN_OR_RETURN(auto c,
                        Q("SELECT COUNT(*) FROM claims WHERE pool_id = ? "
                          "AND state = 'active'",
                          {id.value}));
    s.active_claims = Int(c[0][0]);
    SubmissionFilter by_pool;
    by_pool.pool = id;
    TS_ASSIGN_OR_RETURN(SubmissionCounts n, CountSubmissions(by_pool));
    s.pending_review = n.pending_review;
    s.returned = n.returned;
    s.accepted = n.accepted;
    s.rejected = n.rejected;
    s.first_pass_accepted = n.first_pass_accepted;
    return s;
  }
  absl::StatusOr<std::vector<WorkTotals>> ListAnnotatorWork(
      UserId annotator) override {
    TS_ASSIGN_OR_RETURN(
        auto counts,
        Q("SELECT pool_id, state, COUNT(*), "
          "CAST(COALESCE(SUM(first_pass), 0) AS BIGINT) FROM submissions "
          "WHERE annotator_id = ? GROUP BY pool_id, state ORDER BY pool_id",
          {annotator.value}));
    TS_ASSIGN_OR_RETURN(
        auto seconds,
        Q("SELECT s.pool_id, CAST(COALESCE(SUM(r.active_seconds), 0) AS "
          "BIGINT) FROM submissions s JOIN rounds r ON r.submission_id = s.id "
          "WHERE s.annotator_id = ? AND s.state = 'accepted' GROUP BY "
          "s.pool_id",
          {annotator.value}));
    std::vector<WorkTotals> out;
    for (const SqlRow& r : counts) {
      const PoolId pool(Int(r[0]));
      if (out.empty() || out.back().pool_id != pool) {
        out.emplace_back();
        out.back().pool_id = pool;
        out.back().annotator_id = annotator;
      }
      WorkTotals& w = out.back();
      const std::string state = Text(r[1]);
      const int64_t count = Int(r[2]);
      w.submitted += count;
      if (state == "pending_review" || state == "in_review") {
        w.in_review += count;
      } else if (state == "returned") {
        w.returned = count;
      } else if (state == "accepted") {
        w.accepted = count;
        w.first_pass_accepted = Int(r[3]);
      } else if (state == "rejected") {
        w.rejected = count;
      }
    }
    for (const SqlRow& r : seconds) {
      const PoolId pool(Int(r[0]));
      for (WorkTotals& w : out) {
        if (w.pool_id == pool) w.accepted_active_seconds = Int(r[1]);
      }
    }
    return out;
  }
  absl::StatusOr<std::vector<WorkTotals>> ListAcceptedWorkByPool() override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q(absl::StrCat(
              "SELECT s.pool_id, ", kSubmissionsAmongRounds,
              ", CAST(COALESCE(SUM(r.active_seconds), 0) AS BIGINT) FROM "
              "submissions s JOIN rounds r ON r.submission_id = s.id WHERE "
              "s.state = 'accepted' GROUP BY s.pool_id ORDER BY s.pool_id"),
          {}));
    std::vector<WorkTotals> out;
    for (const SqlRow& r : rows) {
      WorkTotals& w = out.emplace_back();
      w.pool_id = PoolId(Int(r[0]));
      w.submitted = w.accepted = Int(r[1]);
      w.accepted_active_seconds = Int(r[2]);
    }
    return out;
  }
  absl::StatusOr<std::vector<WorkTotals>> ListAcceptedWorkByAnnotator(
      PoolId pool) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        // `+`: group in a temp b-tree after the (pool_id, state) index
        // search; without it SQLite walks the whole annotator index.
        Q(absl::StrCat(
              "SELECT +s.annotator_id, ", kSubmissionsAmongRounds,
              ", CAST(COALESCE(SUM(r.active_seconds), 0) AS BIGINT) FROM "
              "submissions s JOIN rounds r ON r.submission_id = s.id WHERE "
              "s.pool_id = ? AND s.state = 'accepted' GROUP BY "
              "+s.annotator_id ORDER BY 1"),
          {pool.value}));
    std::vector<WorkTotals> out;
    for (const SqlRow& r : rows) {
      WorkTotals& w = out.emplace_back();
      w.pool_id = pool;
      w.annotator_id = UserId(Int(r[0]));
      w.submitted = w.accepted = Int(r[1]);
      w.accepted_active_seconds = Int(r[2]);
    }
    return out;
  }
  absl::StatusOr<std::vector<PoolHour>> ListPoolHours(
      PoolId pool, absl::Time since) override {
    constexpr int64_t kHourMicros = int64_t{3600} * 1000 * 1000;
    int64_t from = Micros(since);
    from -= ((from % kHourMicros) + kHourMicros) % kHourMicros;
    // Hour numbers since the epoch (times are never negative here).
    TS_ASSIGN_OR_RETURN(
        auto submitted,
        Q("SELECT r.submitted_at / 3600000000, COUNT(*) FROM rounds r JOIN "
          "submissions s ON s.id = r.submission_id WHERE s.pool_id = ? AND "
          "r.submitted_at >= ? GROUP BY 1 ORDER BY 1",
          {pool.value, from}));
    TS_ASSIGN_OR_RETURN(
        auto accepted,
        Q("SELECT r.reviewed_at / 3600000000, COUNT(*) FROM rounds r JOIN "
          "submissions s ON s.id = r.submission_id WHERE s.pool_id = ? AND "
          "r.verdict = ? AND r.reviewed_at >= ? GROUP BY 1 ORDER BY 1",
          {pool.value, std::string(domain::ToString(domain::Verdict::kAccept)),
           from}));
    std::map<int64_t, PoolHour> hours;
    for (const SqlRow& r : submitted) hours[Int(r[0])].submitted = Int(r[1]);
    for (const SqlRow& r : accepted) hours[Int(r[0])].accepted = Int(r[1]);
    std::vector<PoolHour> out;
    out.reserve(hours.size());
    for (auto& [hour, h] : hours) {
      h.start = FromMicros(hour * kHourMicros);
      out.push_back(h);
    }
    return out;
  }

  // Tasks.
  absl::StatusOr<TaskId> InsertTask(const Task& t) override {
    TS_ASSIGN_OR_RETURN(
        int64_t id,
        InsertReturningId(
            "INSERT INTO tasks (pool_id, data, gold, open_slots, created_at, "
            "dedupe_key) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            {t.pool_id.value, t.data_json, OptText(t.gold_json),
             int64_t{t.open_slots}, Micros(t.created_at),
             OptText(t.dedupe_key)}));
    return TaskId(id);
  }
  absl::StatusOr<std::vector<TaskId>> InsertTasks(
      std::vector<Task> tasks) override {
    // Rows per statement: few statements (each costs a statement journal
    // under SQLite's RETURNING), well below both backends' parameter limits.
    constexpr size_t kRowsPerInsert = 256;
    std::vector<TaskId> ids;
    ids.reserve(tasks.size());
    std::vector<SqlValue> params;
    for (size_t begin = 0; begin < tasks.size(); begin += kRowsPerInsert) {
      const size_t end = std::min(tasks.size(), begin + kRowsPerInsert);
      std::string sql =
          "INSERT INTO tasks (pool_id, data, gold, open_slots, created_at, "
          "dedupe_key) VALUES ";
      params.clear();
      params.reserve(6 * (end - begin));
      for (size_t i = begin; i < end; ++i) {
        Task& t = tasks[i];
        absl::StrAppend(&sql, i == begin ? "" : ", ", "(?, ?, ?, ?, ?, ?)");
        params.emplace_back(t.pool_id.value);
        params.emplace_back(std::move(t.data_json));
        params.push_back(OptText(t.gold_json));
        params.emplace_back(int64_t{t.open_slots});
        params.emplace_back(Micros(t.created_at));
        params.push_back(OptText(t.dedupe_key));
      }
      sql += " RETURNING id";
      TS_ASSIGN_OR_RETURN(auto rows, Q(sql, params));
      if (rows.size() != end - begin) {
        return absl::InternalError("INSERT returned fewer ids than rows");
      }
      // Rows are numbered in VALUES order; RETURNING's order is unspecified.
      const size_t first = ids.size();
      for (const SqlRow& r : rows) ids.emplace_back(Int(r[0]));
      std::sort(ids.begin() + first, ids.end(),
                [](TaskId a, TaskId b) { return a.value < b.value; });
    }
    return ids;
  }
  absl::StatusOr<Task> GetTask(TaskId id) override {
    TS_ASSIGN_OR_RETURN(auto rows, Q(absl::StrCat("SELECT ", kTaskCols,
                                                  " FROM tasks WHERE id = ?"),
                                     {id.value}));
    if (rows.empty()) return NotFound("task");
    return RowToTask(rows[0]);
  }
  absl::StatusOr<std::vector<Task>> ListTasks(PoolId pool, int64_t after_id,
                                              int limit) override {
    TS_ASSIGN_OR_RETURN(
        auto rows, Q(absl::StrCat("SELECT ", kTaskCols,
                                  " FROM tasks WHERE pool_id = ? AND id > ? "
                                  "ORDER BY id LIMIT ?"),
                     {pool.value, after_id, int64_t{limit}}));
    return RowsToTasks(rows);
  }
  absl::StatusOr<std::vector<std::string>> ListTaskDedupeKeys(
      PoolId pool) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q("SELECT dedupe_key FROM tasks WHERE pool_id = ? AND "
                          "dedupe_key IS NOT NULL",
                          {pool.value}));
    std::vector<std::string> out;
    out.reserve(rows.size());
    for (const SqlRow& r : rows) out.push_back(Text(r[0]));
    return out;
  }
  absl::StatusOr<std::optional<TaskId>> FindClaimableTask(
      PoolId pool, UserId annotator) override {
    return FirstUnclaimedTask(pool, annotator, "t.open_slots > 0",
                              /*lock=*/true);
  }
  // UnclaimedTaskSql's task; `lock` takes it FOR UPDATE on PostgreSQL.
  absl::StatusOr<std::optional<TaskId>> FirstUnclaimedTask(
      PoolId pool, UserId annotator, absl::string_view condition, bool lock) {
    const std::string sql = UnclaimedTaskSql(dialect_, condition);
    const std::vector<SqlValue> params =
        UnclaimedTaskParams(dialect_, pool, annotator);
    if (!dialect_.skip_locked || !lock) {
      TS_ASSIGN_OR_RETURN(auto rows, Q(sql, params));
      if (rows.empty()) return std::nullopt;
      return TaskId(Int(rows[0][0]));
    }
    // Skip tasks other claimers hold locked; if that leaves none, the only
    // candidates may be locked ones with a slot left after their claim
    // commits, so wait for them rather than report an empty pool early.
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q(sql + " FOR UPDATE OF t SKIP LOCKED", params));
    if (rows.empty()) {
      TS_ASSIGN_OR_RETURN(rows, Q(sql + " FOR UPDATE OF t", params));
    }
    if (rows.empty()) return std::nullopt;
    return TaskId(Int(rows[0][0]));
  }
  absl::Status AddOpenSlots(TaskId id, int delta) override {
    TS_RETURN_IF_ERROR(conn_.Exec(
        "UPDATE tasks SET open_slots = open_slots + ? WHERE id = ? AND "
        "open_slots + ? >= 0",
        {int64_t{delta}, id.value, int64_t{delta}}));
    if (conn_.Changes() != 1) {
      return absl::AbortedError("task has no free slot any more");
    }
    return absl::OkStatus();
  }

  // Claims.
  absl::StatusOr<ClaimId> InsertClaim(const Claim& c) override {
    TS_ASSIGN_OR_RETURN(
        int64_t id,
        InsertReturningId(
            "INSERT INTO claims (task_id, pool_id, annotator_id, state, "
            "created_at, expires_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            {c.task_id.value, c.pool_id.value, c.annotator_id.value,
             std::string(domain::ToString(c.state)), Micros(c.created_at),
             Micros(c.expires_at),
             c.reason_json.empty() ? SqlValue(std::monostate{})
                                   : SqlValue(c.reason_json)}));
    const bool newcomer = absl::StrContains(c.reason_json, kNewcomerReason);
    TS_RETURN_IF_ERROR(conn_.Exec(
        "INSERT INTO claim_days (pool_id, utc_day, annotator_id, claims, "
        "newcomer_claims) VALUES (?, ?, ?, 1, ?) ON CONFLICT (pool_id, "
        "utc_day, annotator_id) DO UPDATE SET claims = claim_days.claims + 1, "
        "newcomer_claims = claim_days.newcomer_claims + "
        "excluded.newcomer_claims",
        {c.pool_id.value, Micros(c.created_at) / kMicrosPerDay,
         c.annotator_id.value, int64_t{newcomer ? 1 : 0}}));
    return ClaimId(id);
  }
  absl::StatusOr<Claim> GetClaim(ClaimId id) override {
    TS_ASSIGN_OR_RETURN(auto rows, Q(absl::StrCat("SELECT ", kClaimCols,
                                                  " FROM claims WHERE id = ?"),
                                     {id.value}));
    if (rows.empty()) return NotFound("claim");
    return RowToClaim(rows[0]);
  }
  absl::StatusOr<std::optional<Claim>> FindActiveClaim(UserId annotator,
                                                       PoolId pool) override {
    TS_ASSIGN_OR_RETURN(
        auto rows, Q(absl::StrCat("SELECT ", kClaimCols,
                                  " FROM claims WHERE annotator_id = ? AND "
                                  "pool_id = ? AND state = 'active'"),
                     {annotator.value, pool.value}));
    if (rows.empty()) return std::nullopt;
    TS_ASSIGN_OR_RETURN(Claim c, RowToClaim(rows[0]));
    return c;
  }
  absl::Status UpdateClaimState(ClaimId id, ClaimState from,
                                ClaimState to) override {
    TS_RETURN_IF_ERROR(
        conn_.Exec("UPDATE claims SET state = ? WHERE id = ? AND state = ?",
                   {std::string(domain::ToString(to)), id.value,
                    std::string(domain::ToString(from))}));
    if (conn_.Changes() != 1) {
      return absl::AbortedError("claim changed state concurrently");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Claim>> ListExpiredClaims(absl::Time now,
                                                       int limit) override {
    std::string sql = absl::StrCat(
        "SELECT ", kClaimCols,
        " FROM claims WHERE state = 'active' AND expires_at <= ? ORDER BY "
        "expires_at, id LIMIT ?");
    if (dialect_.skip_locked) sql += " FOR UPDATE SKIP LOCKED";
    TS_ASSIGN_OR_RETURN(auto rows, Q(sql, {Micros(now), int64_t{limit}}));
    return Claims(rows);
  }
  absl::StatusOr<std::vector<Claim>> ListActiveClaims(
      UserId annotator) override {
    TS_ASSIGN_OR_RETURN(
        auto rows, Q(absl::StrCat("SELECT ", kClaimCols,
                                  " FROM claims WHERE annotator_id = ? AND "
                                  "state = 'active' ORDER BY id"),
                     {annotator.value}));
    return Claims(rows);
  }

  // Submissions.
  absl::StatusOr<SubmissionId> InsertSubmission(const Submission& s) override {
    TS_ASSIGN_OR_RETURN(
        int64_t id,
        InsertReturningId(
            "INSERT INTO submissions (claim_id, task_id, pool_id, "
            "annotator_id, "
            "state, round, reviewer_id, review_expires_at, first_pass, "
            "created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            {s.claim_id.value, s.task_id.value, s.pool_id.value,
             s.annotator_id.value, std::string(domain::ToString(s.state)),
             int64_t{s.round}, OptId(s.reviewer_id),
             OptMicros(s.review_expires_at), int64_t{s.first_pass ? 1 : 0},
             Micros(s.created_at), Micros(s.updated_at)}));
    return SubmissionId(id);
  }
  absl::StatusOr<Submission> GetSubmission(SubmissionId id) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q(absl::StrCat("SELECT ", kSubmissionCols,
                                       " FROM submissions WHERE id = ?"),
                          {id.value}));
    if (rows.empty()) return NotFound("submission");
    return RowToSubmission(rows[0]);
  }
  absl::StatusOr<std::optional<Submission>> FindSubmissionByClaim(
      ClaimId claim) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q(absl::StrCat("SELECT ", kSubmissionCols,
                                       " FROM submissions WHERE claim_id = ?"),
                          {claim.value}));
    if (rows.empty()) return std::nullopt;
    TS_ASSIGN_OR_RETURN(Submission s, RowToSubmission(rows[0]));
    return s;
  }
  absl::Status UpdateSubmission(const Submission& s) override {
    TS_RETURN_IF_ERROR(conn_.Exec(
        "UPDATE submissions SET state = ?, round = ?, reviewer_id = ?, "
        "review_expires_at = ?, first_pass = ?, updated_at = ? WHERE id = ?",
        {std::string(domain::ToString(s.state)), int64_t{s.round},
         OptId(s.reviewer_id), OptMicros(s.review_expires_at),
         int64_t{s.first_pass ? 1 : 0}, Micros(s.updated_at), s.id.value}));
    return ExpectOneChange("submission");
  }
  absl::StatusOr<std::optional<SubmissionId>> FindReviewableSubmission(
      PoolId pool, UserId reviewer, absl::Time now) override {
    // Two index-ordered probes on (pool_id, state, id): the oldest waiting
    // submission, and the oldest review lease that ran out. One OR query
    // makes planners scan every accepted submission of the pool instead.
    const char* lock = dialect_.skip_locked ? " FOR UPDATE SKIP LOCKED" : "";
    TS_ASSIGN_OR_RETURN(
        auto waiting,
        Q(absl::StrCat("SELECT id FROM submissions WHERE pool_id = ? AND "
                       "state = 'pending_review' AND annotator_id <> ? "
                       "ORDER BY id LIMIT 1",
                       lock),
          {pool.value, reviewer.value}));
    TS_ASSIGN_OR_RETURN(
        auto lapsed,
        Q(absl::StrCat("SELECT id FROM submissions WHERE pool_id = ? AND "
                       "state = 'in_review' AND review_expires_at <= ? AND "
                       "annotator_id <> ? ORDER BY id LIMIT 1",
                       lock),
          {pool.value, Micros(now), reviewer.value}));
    std::optional<SubmissionId> best;
    for (const SqlRows* rows : {&waiting, &lapsed}) {
      if (rows->empty()) continue;
      SubmissionId id(Int((*rows)[0][0]));
      if (!best || id < *best) best = id;
    }
    return best;
  }
  absl::StatusOr<SubmissionCounts> CountSubmissions(
      const SubmissionFilter& f) override {
    std::string sql =
        "SELECT state, COUNT(*), CAST(COALESCE(SUM(first_pass), 0) AS BIGINT) "
        "FROM submissions WHERE 1 = 1";
    std::vector<SqlValue> params;
    AppendSubmissionFilter(f, sql, params);
    sql += " GROUP BY state";
    TS_ASSIGN_OR_RETURN(auto rows, Q(sql, params));
    SubmissionCounts n;
    for (const SqlRow& r : rows) {
      const std::string state = Text(r[0]);
      const int64_t count = Int(r[1]);
      n.total += count;
      if (state == "pending_review" || state == "in_review") {
        n.pending_review += count;
      } else if (state == "returned") {
        n.returned = count;
      } else if (state == "accepted") {
        n.accepted = count;
        n.first_pass_accepted = Int(r[2]);
      } else if (state == "rejected") {
        n.rejected = count;
      }
    }
    return n;
  }
  absl::StatusOr<std::vector<Submission>> ListSubmissions(
      const SubmissionFilter& f) override {
    std::string sql = absl::StrCat("SELECT ", kSubmissionCols,
                                   " FROM submissions WHERE id > ?");
    std::vector<SqlValue> params = {f.after_id};
    AppendSubmissionFilter(f, sql, params);
    if (f.state) {
      sql += " AND state = ?";
      params.push_back(std::string(domain::ToString(*f.state)));
    }
    sql += " ORDER BY id LIMIT ?";
    params.push_back(int64_t{f.limit});
    TS_ASSIGN_OR_RETURN(auto rows, Q(sql, params));
    std::vector<Submission> out;
    for (const SqlRow& r : rows) {
      TS_ASSIGN_OR_RETURN(Submission s, RowToSubmission(r));
      out.push_back(std::move(s));
    }
    return out;
  }
  absl::Status InsertRound(const Round& d) override {
    return conn_.Exec(
        absl::StrCat("INSERT INTO rounds (", kRoundCols,
                     ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        {d.submission_id.value, int64_t{d.round}, d.result_json,
         d.active_seconds, d.idempotency_key, Micros(d.submitted_at),
         d.verdict ? SqlValue(std::string(domain::ToString(*d.verdict)))
                   : SqlValue(),
         OptId(d.reviewer_id), d.comments_json, OptMicros(d.reviewed_at)});
  }
  absl::Status UpdateRound(const Round& d) override {
    TS_RETURN_IF_ERROR(conn_.Exec(
        "UPDATE rounds SET verdict = ?, reviewer_id = ?, comments = ?, "
        "reviewed_at = ? WHERE submission_id = ? AND round = ?",
        {d.verdict ? SqlValue(std::string(domain::ToString(*d.verdict)))
                   : SqlValue(),
         OptId(d.reviewer_id), d.comments_json, OptMicros(d.reviewed_at),
         d.submission_id.value, int64_t{d.round}}));
    return ExpectOneChange("round");
  }
  absl::StatusOr<std::vector<Round>> ListRounds(SubmissionId id) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q(absl::StrCat("SELECT ", kRoundCols,
                                       " FROM rounds WHERE submission_id = ? "
                                       "ORDER BY round"),
                          {id.value}));
    std::vector<Round> out;
    for (const SqlRow& r : rows) {
      TS_ASSIGN_OR_RETURN(Round d, RowToRound(r));
      out.push_back(std::move(d));
    }
    return out;
  }

  // Ledger.
  absl::StatusOr<std::optional<AccountId>> FindAccount(
      AccountKind kind, int64_t owner_id, absl::string_view currency) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q("SELECT id FROM accounts WHERE kind = ? AND owner_id "
                          "= ? AND currency = ?",
                          {std::string(domain::ToString(kind)), owner_id,
                           std::string(currency)}));
    if (rows.empty()) return std::nullopt;
    return AccountId(Int(rows[0][0]));
  }
  absl::StatusOr<AccountId> EnsureAccount(AccountKind kind, int64_t owner_id,
                                          absl::string_view currency) override {
    TS_ASSIGN_OR_RETURN(auto found, FindAccount(kind, owner_id, currency));
    if (found) return *found;
    // Two transactions may create the same account at once (on PostgreSQL,
    // the first two accepts paying one annotator): the second waits for the
    // first's row and then finds it, instead of failing on the unique key.
    TS_RETURN_IF_ERROR(conn_.Exec(
        "INSERT INTO accounts (kind, owner_id, currency) VALUES (?, ?, ?) "
        "ON CONFLICT (kind, owner_id, currency) DO NOTHING",
        {std::string(domain::ToString(kind)), owner_id,
         std::string(currency)}));
    TS_ASSIGN_OR_RETURN(found, FindAccount(kind, owner_id, currency));
    if (!found) return absl::InternalError("account vanished after insert");
    return *found;
  }
  absl::StatusOr<std::vector<std::pair<AccountId, std::string>>> ListAccounts(
      AccountKind kind, int64_t owner_id) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q("SELECT id, currency FROM accounts WHERE kind = ? "
                          "AND owner_id = ? ORDER BY id",
                          {std::string(domain::ToString(kind)), owner_id}));
    std::vector<std::pair<AccountId, std::string>> out;
    for (const SqlRow& r : rows)
      out.emplace_back(AccountId(Int(r[0])), Text(r[1]));
    return out;
  }
  absl::StatusOr<int64_t> Balance(AccountId account) override {
    return BalanceOf(account, "");
  }
  absl::StatusOr<int64_t> LockBalance(AccountId account) override {
    return BalanceOf(account, dialect_.skip_locked ? " FOR UPDATE" : "");
  }
  absl::StatusOr<int64_t> BalanceOf(AccountId account, absl::string_view lock) {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q(absl::StrCat("SELECT balance_minor FROM accounts WHERE id = ?", lock),
          {account.value}));
    if (rows.empty()) return NotFound("account");
    return Int(rows[0][0]);
  }
  absl::StatusOr<int64_t> InsertJournal(
      std::vector<LedgerEntry> entries) override {
    if (entries.empty()) return absl::InvalidArgumentError("empty journal");
    int64_t sum = 0;
    for (const LedgerEntry& e : entries) {
      if (e.amount.currency != entries[0].amount.currency) {
        return absl::InvalidArgumentError("journal mixes currencies");
      }
      sum += e.amount.amount_minor;
    }
    if (sum != 0) {
      return absl::InvalidArgumentError("journal entries must sum to zero");
    }
    TS_ASSIGN_OR_RETURN(int64_t journal,
                        InsertReturningId("INSERT INTO journals (created_at) "
                                          "VALUES (?) RETURNING id",
                                          {Micros(entries[0].created_at)}));
    for (const LedgerEntry& e : entries) {
      TS_RETURN_IF_ERROR(conn_.Exec(
          "INSERT INTO ledger_entries (journal_id, account_id, amount_minor, "
          "currency, kind, submission_id, memo, created_at) VALUES (?, ?, ?, "
          "?, ?, ?, ?, ?)",
          {journal, e.account_id.value, e.amount.amount_minor,
           e.amount.currency, e.kind, OptId(e.submission_id), e.memo,
           Micros(e.created_at)}));
      // The running balance, kept with the entries in one transaction.
      TS_RETURN_IF_ERROR(conn_.Exec(
          "UPDATE accounts SET balance_minor = balance_minor + ? WHERE id = ? "
          "AND currency = ?",
          {e.amount.amount_minor, e.account_id.value, e.amount.currency}));
      if (conn_.Changes() != 1) {
        return absl::InvalidArgumentError(
            "ledger entry for an unknown account or in its wrong currency");
      }
    }
    return journal;
  }
  absl::StatusOr<std::vector<LedgerEntry>> ListEntries(AccountId account,
                                                       int limit) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT id, journal_id, account_id, amount_minor, currency, kind, "
          "submission_id, memo, created_at FROM ledger_entries WHERE "
          "account_id = ? ORDER BY id DESC LIMIT ?",
          {account.value, int64_t{limit}}));
    std::vector<LedgerEntry> out;
    for (const SqlRow& r : rows) {
      LedgerEntry e;
      e.id = Int(r[0]);
      e.journal_id = Int(r[1]);
      e.account_id = AccountId(Int(r[2]));
      e.amount = Money{Int(r[3]), Text(r[4])};
      e.kind = Text(r[5]);
      if (!IsNull(r[6])) e.submission_id = SubmissionId(Int(r[6]));
      e.memo = Text(r[7]);
      e.created_at = FromMicros(Int(r[8]));
      out.push_back(std::move(e));
    }
    return out;
  }
  absl::StatusOr<int64_t> SumAllEntries() override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM "
          "ledger_entries",
          {}));
    return Int(rows[0][0]);
  }

  // Quality snapshots.
  absl::StatusOr<int64_t> InsertQualitySnapshot(
      const QualitySnapshot& q) override {
    if (!q.parts_token.empty()) {
      // The parts must all be there: a reader assembles the body from them.
      TS_ASSIGN_OR_RETURN(
          auto parts,
          Q("SELECT COUNT(*), CAST(COALESCE(MAX(seq), -1) AS BIGINT) FROM "
            "quality_snapshot_parts WHERE token = ? AND pool_id = ?",
            {q.parts_token, q.pool_id.value}));
      if (Int(parts[0][0]) == 0 || Int(parts[0][1]) + 1 != Int(parts[0][0])) {
        return absl::FailedPreconditionError(
            "quality snapshot: its parts are missing or not numbered 0..n-1");
      }
    }
    return InsertReturningId(
        "INSERT INTO quality_snapshots (pool_id, version, created_at, "
        "submissions_seen, input_mark, method, body, parts_token) VALUES (?, "
        "?, ?, ?, ?, ?, ?, ?) RETURNING id",
        {q.pool_id.value, int64_t{q.version}, Micros(q.created_at),
         q.submissions_seen, q.input_mark, q.method,
         q.parts_token.empty() ? q.body_json : std::string(),
         q.parts_token.empty() ? SqlValue(std::monostate{})
                               : SqlValue(q.parts_token)});
  }
  absl::Status StageQualitySnapshotPart(PoolId pool, absl::string_view token,
                                        int seq, absl::string_view data,
                                        absl::Time at) override {
    return conn_.Exec(
        "INSERT INTO quality_snapshot_parts (token, seq, pool_id, created_at, "
        "data) VALUES (?, ?, ?, ?, ?)",
        {std::string(token), int64_t{seq}, pool.value, Micros(at),
         std::string(data)});
  }
  absl::StatusOr<int64_t> DeleteUnusedSnapshotParts(
      PoolId pool, absl::Time before,
      std::optional<std::string> token) override {
    const std::string unused =
        " AND token NOT IN (SELECT parts_token FROM quality_snapshots WHERE "
        "pool_id = ? AND parts_token IS NOT NULL)";
    if (token) {
      TS_RETURN_IF_ERROR(conn_.Exec(
          absl::StrCat("DELETE FROM quality_snapshot_parts WHERE pool_id = ? "
                       "AND token = ?",
                       unused),
          {pool.value, *token, pool.value}));
    } else {
      TS_RETURN_IF_ERROR(conn_.Exec(
          absl::StrCat("DELETE FROM quality_snapshot_parts WHERE pool_id = ? "
                       "AND created_at < ?",
                       unused),
          {pool.value, Micros(before), pool.value}));
    }
    return conn_.Changes();
  }
  absl::StatusOr<int64_t> DeleteOldQualitySnapshots(PoolId pool,
                                                    int keep) override {
    if (keep < 1) {
      return absl::InvalidArgumentError("keep at least one quality snapshot");
    }
    // The newest version to delete: the one after the `keep` newest.
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT version FROM quality_snapshots WHERE pool_id = ? ORDER BY "
          "version DESC LIMIT 1 OFFSET ?",
          {pool.value, int64_t{keep}}));
    if (rows.empty()) return 0;
    const int64_t last = Int(rows[0][0]);
    TS_RETURN_IF_ERROR(conn_.Exec(
        "DELETE FROM quality_snapshot_parts WHERE token IN (SELECT "
        "parts_token FROM quality_snapshots WHERE pool_id = ? AND version <= ? "
        "AND parts_token IS NOT NULL)",
        {pool.value, last}));
    TS_RETURN_IF_ERROR(conn_.Exec(
        "DELETE FROM quality_snapshots WHERE pool_id = ? AND version <= ?",
        {pool.value, last}));
    return conn_.Changes();
  }
  // The first snapshot row matching `where` (SQL after WHERE), with its
  // body assembled from its parts when it was stored in parts.
  absl::StatusOr<std::optional<QualitySnapshot>> FindSnapshotWithBody(
      absl::string_view where, const std::vector<SqlValue>& params) {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q(absl::StrCat("SELECT ", kSnapshotCols,
                                       " FROM quality_snapshots WHERE ", where),
                          params));
    if (rows.empty()) return std::nullopt;
    QualitySnapshot q = RowToSnapshot(rows[0]);
    if (q.parts_token.empty()) return q;
    TS_ASSIGN_OR_RETURN(auto parts,
                        Q("SELECT data FROM quality_snapshot_parts WHERE "
                          "token = ? ORDER BY seq",
                          {q.parts_token}));
    q.body_json.clear();
    for (const auto& row : parts) q.body_json += Text(row[0]);
    return q;
  }
  absl::StatusOr<std::optional<QualitySnapshot>> FindLatestQualitySnapshot(
      PoolId pool) override {
    return FindSnapshotWithBody("pool_id = ? ORDER BY version DESC LIMIT 1",
                                {pool.value});
  }
  absl::StatusOr<std::optional<QualitySnapshot>> FindLatestQualitySnapshotHead(
      PoolId pool) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT id, pool_id, version, created_at, submissions_seen, "
          "input_mark, method, '', parts_token FROM quality_snapshots WHERE "
          "pool_id = ? ORDER BY version DESC LIMIT 1",
          {pool.value}));
    if (rows.empty()) return std::nullopt;
    return RowToSnapshot(rows[0]);
  }
  absl::StatusOr<std::optional<QualitySnapshot>> FindQualitySnapshot(
      PoolId pool, int version) override {
    return FindSnapshotWithBody("pool_id = ? AND version = ?",
                                {pool.value, int64_t{version}});
  }
  absl::StatusOr<std::vector<PoolResult>> ListPoolResults(
      PoolId pool) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT s.id, s.task_id, s.annotator_id, s.state, s.round, r.result "
          "FROM submissions s JOIN rounds r ON r.submission_id = s.id AND "
          "r.round = s.round WHERE s.pool_id = ? AND s.state <> 'rejected' "
          "ORDER BY s.task_id, s.id",
          {pool.value}));
    return RowsToResults(rows);
  }
  absl::StatusOr<std::vector<PoolResult>> ListAcceptedResults(
      PoolId pool, int64_t after_task_id, int64_t upto_task_id) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT s.id, s.task_id, s.annotator_id, s.state, s.round, r.result "
          "FROM submissions s JOIN rounds r ON r.submission_id = s.id AND "
          "r.round = s.round WHERE s.pool_id = ? AND s.state = 'accepted' "
          "AND s.task_id > ? AND s.task_id <= ? ORDER BY s.task_id, s.id",
          {pool.value, after_task_id, upto_task_id}));
    return RowsToResults(rows);
  }
  absl::StatusOr<PoolInputMark> GetPoolInputMark(PoolId pool) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q(absl::StrCat("SELECT COUNT(*), COALESCE(MAX(id), 0), ", kInputMark,
                       " FROM submissions WHERE pool_id = ?"),
          {pool.value}));
    PoolInputMark m;
    m.submissions = Int(rows[0][0]);
    m.max_submission_id = Int(rows[0][1]);
    m.mark = Int(rows[0][2]);
    return m;
  }
  absl::StatusOr<std::vector<PoolId>> ListStalePools(int limit) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q(absl::StrCat(
              "SELECT m.pool_id FROM (SELECT pool_id, MAX(id) AS max_id, ",
              kInputMark,
              " AS mark FROM submissions GROUP BY pool_id) m "
              "LEFT JOIN quality_snapshots q ON q.pool_id = m.pool_id AND "
              "q.version = (SELECT MAX(version) FROM quality_snapshots l "
              "WHERE l.pool_id = m.pool_id) "
              "WHERE q.id IS NULL OR q.submissions_seen <> m.max_id OR "
              "q.input_mark <> m.mark ORDER BY m.pool_id LIMIT ?"),
          {int64_t{limit}}));
    return IdsOf<PoolId>(rows);
  }

  // Pre-annotations.
  absl::StatusOr<int64_t> InsertPreannotation(const Preannotation& p) override {
    std::vector<SqlValue> params = {
        p.task_id.value, p.pool_id.value, p.source,   p.model,
        p.version,       p.result_json,   SqlValue{}, Micros(p.created_at)};
    if (p.score) params[6] = *p.score;
    return InsertReturningId(
        "INSERT INTO preannotations (task_id, pool_id, source, model, "
        "version, result, score, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING id",
        params);
  }
  absl::StatusOr<std::vector<Preannotation>> ListTaskPreannotations(
      TaskId task) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q(absl::StrCat("SELECT ", kPreannotationCols,
                                       " FROM preannotations WHERE task_id = ? "
                                       "ORDER BY id"),
                          {task.value}));
    return RowsToPreannotations(rows);
  }
  absl::StatusOr<std::vector<Preannotation>> ListPoolPreannotations(
      PoolId pool, int64_t after_task_id, int64_t upto_task_id) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q(absl::StrCat("SELECT ", kPreannotationCols,
                       " FROM preannotations WHERE pool_id = ? AND task_id > "
                       "? AND task_id <= ? ORDER BY task_id, id"),
          {pool.value, after_task_id, upto_task_id}));
    return RowsToPreannotations(rows);
  }
  absl::StatusOr<std::vector<Task>> ListTasksWithoutPreannotation(
      PoolId pool, absl::string_view model, absl::string_view version,
      int64_t after_id, int limit) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q(absl::StrCat(
              "SELECT ", kTaskCols,
              " FROM tasks t WHERE t.pool_id = ? AND t.id > ? AND NOT EXISTS "
              "(SELECT 1 FROM preannotations p WHERE p.task_id = t.id AND "
              "p.model = ? AND p.version = ?) ORDER BY t.id LIMIT ?"),
          {pool.value, after_id, std::string(model), std::string(version),
           int64_t{limit}}));
    return RowsToTasks(rows);
  }

  // Audit.
  absl::Status InsertAudit(const AuditRecord& a) override {
    return conn_.Exec(
        "INSERT INTO audit (at, actor_id, action, entity, entity_id, "
        "before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
        {Micros(a.at), OptId(a.actor), a.action, a.entity, a.entity_id,
         a.before_json, a.after_json});
  }
  absl::StatusOr<std::vector<AuditRecord>> ListAudit(
      absl::string_view entity, int64_t entity_id) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT at, actor_id, action, entity, entity_id, before_json, "
          "after_json FROM audit WHERE entity = ? AND entity_id = ? ORDER BY "
          "id",
          {std::string(entity), entity_id}));
    std::vector<AuditRecord> out;
    for (const SqlRow& r : rows) {
      AuditRecord a;
      a.at = FromMicros(Int(r[0]));
      if (!IsNull(r[1])) a.actor = UserId(Int(r[1]));
      a.action = Text(r[2]);
      a.entity = Text(r[3]);
      a.entity_id = Int(r[4]);
      a.before_json = Text(r[5]);
      a.after_json = Text(r[6]);
      out.push_back(std::move(a));
    }
    return out;
  }

  // ---- Workforce: appeals, floor, flags, records (issue 6)
  static AppealRow RowToAppeal(const SqlRow& r) {
    AppealRow a;
    a.id = Int(r[0]);
    a.submission_id = SubmissionId(Int(r[1]));
    a.annotator_id = UserId(Int(r[2]));
    a.note = Text(r[3]);
    a.state = Text(r[4]);
    if (!IsNull(r[5])) a.decided_by = UserId(Int(r[5]));
    if (!IsNull(r[6])) a.decision_note = Text(r[6]);
    a.created_at = FromMicros(Int(r[7]));
    a.decided_at = OptTime(r[8]);
    return a;
  }
  static constexpr const char* kAppealCols =
      "id, submission_id, annotator_id, note, state, decided_by, "
      "decision_note, created_at, decided_at";
  absl::StatusOr<int64_t> InsertAppeal(const AppealRow& a) override {
    return InsertReturningId(
        "INSERT INTO appeals (submission_id, annotator_id, note, state, "
        "created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        {a.submission_id.value, a.annotator_id.value, a.note, a.state,
         Micros(a.created_at)});
  }
  absl::StatusOr<AppealRow> GetAppeal(int64_t id) override {
    TS_ASSIGN_OR_RETURN(auto rows, Q(absl::StrCat("SELECT ", kAppealCols,
                                                  " FROM appeals WHERE id = ?"),
                                     {id}));
    if (rows.empty()) return NotFound("appeal");
    return RowToAppeal(rows[0]);
  }
  absl::StatusOr<std::optional<AppealRow>> FindAppealBySubmission(
      SubmissionId id) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q(absl::StrCat("SELECT ", kAppealCols,
                                       " FROM appeals WHERE submission_id = ?"),
                          {id.value}));
    if (rows.empty()) return std::nullopt;
    return RowToAppeal(rows[0]);
  }
  absl::StatusOr<std::vector<AppealRow>> ListAppeals(
      const AppealFilter& f) override {
    std::string sql =
        absl::StrCat("SELECT ", kAppealCols, " FROM appeals WHERE 1 = 1");
    std::vector<SqlValue> params;
    if (f.state) {
      sql += " AND state = ?";
      params.push_back(*f.state);
    }
    if (f.annotator) {
      sql += " AND annotator_id = ?";
      params.push_back(f.annotator->value);
    }
    sql += " ORDER BY id LIMIT ?";
    params.push_back(int64_t{f.limit});
    TS_ASSIGN_OR_RETURN(auto rows, Q(sql, params));
    std::vector<AppealRow> out;
    for (const SqlRow& r : rows) out.push_back(RowToAppeal(r));
    return out;
  }
  absl::Status DecideAppeal(const AppealRow& a) override {
    TS_RETURN_IF_ERROR(conn_.Exec(
        "UPDATE appeals SET state = ?, decided_by = ?, decision_note = ?, "
        "decided_at = ? WHERE id = ? AND state = 'open'",
        {a.state, OptId(a.decided_by), OptText(a.decision_note),
         OptMicros(a.decided_at), a.id}));
    if (conn_.Changes() != 1) {
      return absl::FailedPreconditionError("the appeal is no longer open");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<WorkTotals>> ListAcceptedWorkInPeriod(
      PoolId pool, absl::Time from, absl::Time to) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q(absl::StrCat(
              "SELECT s.annotator_id, ", kSubmissionsAmongRounds,
              ", CAST(COALESCE(SUM(r.active_seconds), 0) AS BIGINT) FROM "
              "submissions s JOIN rounds r ON r.submission_id = s.id WHERE "
              "s.pool_id = ? AND s.state = 'accepted' AND s.updated_at >= ? "
              "AND s.updated_at < ? GROUP BY s.annotator_id ORDER BY 1"),
          {pool.value, Micros(from), Micros(to)}));
    std::vector<WorkTotals> out;
    for (const SqlRow& r : rows) {
      WorkTotals& w = out.emplace_back();
      w.pool_id = pool;
      w.annotator_id = UserId(Int(r[0]));
      w.submitted = w.accepted = Int(r[1]);
      w.accepted_active_seconds = Int(r[2]);
    }
    return out;
  }
  absl::Status InsertFloorTopup(const FloorTopupRow& t) override {
    return conn_.Exec(
        "INSERT INTO floor_topups (pool_id, annotator_id, week_start, "
        "amount_minor, currency, journal_id, created_at) VALUES (?, ?, ?, ?, "
        "?, ?, ?)",
        {t.pool_id.value, t.annotator_id.value, Micros(t.week_start),
         t.amount.amount_minor, t.amount.currency, t.journal_id,
         Micros(t.created_at)});
  }
  absl::StatusOr<std::vector<FloorTopupRow>> ListFloorTopups(
      std::optional<PoolId> pool, std::optional<UserId> annotator) override {
    std::string sql =
        "SELECT pool_id, annotator_id, week_start, amount_minor, currency, "
        "journal_id, created_at FROM floor_topups WHERE 1 = 1";
    std::vector<SqlValue> params;
    if (pool) {
      sql += " AND pool_id = ?";
      params.push_back(pool->value);
    }
    if (annotator) {
      sql += " AND annotator_id = ?";
      params.push_back(annotator->value);
    }
    sql += " ORDER BY week_start, pool_id, annotator_id";
    TS_ASSIGN_OR_RETURN(auto rows, Q(sql, params));
    std::vector<FloorTopupRow> out;
    for (const SqlRow& r : rows) {
      FloorTopupRow& t = out.emplace_back();
      t.pool_id = PoolId(Int(r[0]));
      t.annotator_id = UserId(Int(r[1]));
      t.week_start = FromMicros(Int(r[2]));
      t.amount = Money{Int(r[3]), Text(r[4])};
      t.journal_id = Int(r[5]);
      t.created_at = FromMicros(Int(r[6]));
    }
    return out;
  }
  absl::StatusOr<int64_t> InsertFlag(const FlagRow& f) override {
    return InsertReturningId(
        "INSERT INTO flags (task_id, pool_id, annotator_id, section, note, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        {f.task_id.value, f.pool_id.value, f.annotator_id.value, f.section,
         f.note, Micros(f.created_at)});
  }
  absl::StatusOr<std::vector<FlagRow>> ListPoolFlags(PoolId pool) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT id, task_id, pool_id, annotator_id, section, note, "
          "created_at FROM flags WHERE pool_id = ? ORDER BY section, id",
          {pool.value}));
    std::vector<FlagRow> out;
    for (const SqlRow& r : rows) {
      FlagRow& f = out.emplace_back();
      f.id = Int(r[0]);
      f.task_id = TaskId(Int(r[1]));
      f.pool_id = PoolId(Int(r[2]));
      f.annotator_id = UserId(Int(r[3]));
      f.section = Text(r[4]);
      f.note = Text(r[5]);
      f.created_at = FromMicros(Int(r[6]));
    }
    return out;
  }
  absl::StatusOr<SigningKeyRow> EnsureSigningKey(
      const SigningKeyRow& k) override {
    TS_RETURN_IF_ERROR(conn_.Exec(
        "INSERT INTO signing_keys (name, public_key, secret_key, created_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
        {k.name, k.public_key, k.secret_key, Micros(k.created_at)}));
    TS_ASSIGN_OR_RETURN(
        auto rows, Q("SELECT name, public_key, secret_key, created_at FROM "
                     "signing_keys WHERE name = ?",
                     {k.name}));
    if (rows.empty()) return NotFound("signing key");
    SigningKeyRow out;
    out.name = Text(rows[0][0]);
    out.public_key = Text(rows[0][1]);
    out.secret_key = Text(rows[0][2]);
    out.created_at = FromMicros(Int(rows[0][3]));
    return out;
  }
  absl::StatusOr<RecordInputs> GetRecordInputs(UserId user) override {
    RecordInputs in;
    TS_ASSIGN_OR_RETURN(
        auto profile,
        Q("SELECT domains FROM profiles WHERE user_id = ?", {user.value}));
    if (!profile.empty()) in.profile_domains_json = Text(profile[0][0]);
    TS_ASSIGN_OR_RETURN(auto skills,
                        Q("SELECT skill FROM skills WHERE user_id = ? AND "
                          "revoked_at IS NULL ORDER BY skill",
                          {user.value}));
    for (const SqlRow& r : skills) in.skills.push_back(Text(r[0]));
    TS_ASSIGN_OR_RETURN(
        auto gold, Q("SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN passed <> "
                     "0 THEN 1 ELSE 0 END), 0) AS BIGINT) FROM gold_checks "
                     "WHERE annotator_id = ?",
                     {user.value}));
    in.gold_checks = Int(gold[0][0]);
    in.gold_passed = Int(gold[0][1]);
    TS_ASSIGN_OR_RETURN(
        auto tiers, Q("SELECT domain, tier, score, at FROM standing_history "
                      "WHERE annotator_id = ? ORDER BY id",
                      {user.value}));
    for (const SqlRow& r : tiers) {
      RecordInputs::Tier& t = in.tiers.emplace_back();
      t.domain = Text(r[0]);
      t.tier = Text(r[1]);
      if (auto* d = std::get_if<double>(&r[2])) {
        t.score = *d;
      } else {
        t.score = static_cast<double>(Int(r[2]));
      }
      t.at = FromMicros(Int(r[3]));
    }
    return in;
  }
  // ---- end Workforce: appeals, floor, flags, records

  // ---- Workforce: standing and allocation (issue 6)
  absl::StatusOr<bool> HasSkill(UserId user, absl::string_view skill) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q("SELECT 1 FROM skills WHERE user_id = ? AND skill = "
                          "? AND revoked_at IS NULL",
                          {user.value, std::string(skill)}));
    return !rows.empty();
  }
  absl::StatusOr<bool> HasPassedTrial(UserId annotator, PoolId pool) override {
    TS_ASSIGN_OR_RETURN(
        auto rows, Q("SELECT 1 FROM trial_attempts WHERE annotator_id = ? AND "
                     "pool_id = ? AND state = 'passed' LIMIT 1",
                     {annotator.value, pool.value}));
    return !rows.empty();
  }
  static BlockRow RowToBlock(const SqlRow& r) {
    BlockRow b;
    b.project_id = ProjectId(Int(r[0]));
    b.annotator_id = UserId(Int(r[1]));
    b.reason = Text(r[2]);
    b.created_by = UserId(Int(r[3]));
    b.created_at = FromMicros(Int(r[4]));
    return b;
  }
  static constexpr const char* kBlockCols =
      "project_id, annotator_id, reason, created_by, created_at";
  absl::Status InsertBlock(const BlockRow& b) override {
    return conn_.Exec(
        "INSERT INTO blocks (project_id, annotator_id, reason, created_by, "
        "created_at) VALUES (?, ?, ?, ?, ?)",
        {b.project_id.value, b.annotator_id.value, b.reason, b.created_by.value,
         Micros(b.created_at)});
  }
  absl::StatusOr<bool> DeleteBlock(ProjectId project,
                                   UserId annotator) override {
    TS_RETURN_IF_ERROR(
        conn_.Exec("DELETE FROM blocks WHERE project_id = ? AND "
                   "annotator_id = ?",
                   {project.value, annotator.value}));
    return conn_.Changes() == 1;
  }
  absl::StatusOr<std::optional<BlockRow>> FindBlock(ProjectId project,
                                                    UserId annotator) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q(absl::StrCat(
              "SELECT ", kBlockCols,
              " FROM blocks WHERE project_id = ? AND annotator_id = ?"),
          {project.value, annotator.value}));
    if (rows.empty()) return std::nullopt;
    return RowToBlock(rows[0]);
  }
  absl::StatusOr<std::vector<BlockRow>> ListBlocks(ProjectId project) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q(absl::StrCat("SELECT ", kBlockCols,
                                       " FROM blocks WHERE project_id = ? "
                                       "ORDER BY annotator_id"),
                          {project.value}));
    std::vector<BlockRow> out;
    for (const SqlRow& r : rows) out.push_back(RowToBlock(r));
    return out;
  }
  absl::StatusOr<std::vector<BlockRow>> ListAnnotatorBlocks(
      UserId annotator) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q(absl::StrCat("SELECT ", kBlockCols,
                                       " FROM blocks WHERE annotator_id = ? "
                                       "ORDER BY project_id"),
                          {annotator.value}));
    std::vector<BlockRow> out;
    for (const SqlRow& r : rows) out.push_back(RowToBlock(r));
    return out;
  }
  absl::StatusOr<int64_t> InsertStandingHistory(
      const StandingHistoryRow& h) override {
    return InsertReturningId(
        "INSERT INTO standing_history (annotator_id, domain, tier, score, at) "
        "VALUES (?, ?, ?, ?, ?) RETURNING id",
        {h.annotator_id.value, h.domain, h.tier, h.score, Micros(h.at)});
  }
  absl::StatusOr<std::vector<StandingHistoryRow>> ListStandingHistory(
      UserId annotator) override {
    TS_ASSIGN_OR_RETURN(
        auto rows, Q("SELECT id, annotator_id, domain, tier, score, at FROM "
                     "standing_history WHERE annotator_id = ? ORDER BY id",
                     {annotator.value}));
    std::vector<StandingHistoryRow> out;
    for (const SqlRow& r : rows) {
      StandingHistoryRow& h = out.emplace_back();
      h.id = Int(r[0]);
      h.annotator_id = UserId(Int(r[1]));
      h.domain = Text(r[2]);
      h.tier = Text(r[3]);
      if (auto* d = std::get_if<double>(&r[4])) {
        h.score = *d;
      } else {
        h.score = static_cast<double>(Int(r[4]));
      }
      h.at = FromMicros(Int(r[5]));
    }
    return out;
  }
  absl::Status InsertGoldCheck(const GoldCheckRow& g) override {
    return conn_.Exec(
        "INSERT INTO gold_checks (submission_id, pool_id, task_id, "
        "annotator_id, score, passed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        {g.submission_id.value, g.pool_id.value, g.task_id.value,
         g.annotator_id.value, g.score, int64_t{g.passed ? 1 : 0},
         Micros(g.created_at)});
  }
  absl::StatusOr<std::vector<ReviewDay>> ListReviewDays(
      UserId annotator) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT pool_id, updated_at / 86400000000, "
          "CAST(COALESCE(SUM(CASE WHEN state IN ('accepted', 'rejected', "
          "'returned') THEN 1 ELSE 0 END), 0) AS BIGINT), "
          "CAST(COALESCE(SUM(first_pass), 0) AS BIGINT), "
          "CAST(COALESCE(SUM(CASE WHEN state IN ('accepted', 'rejected', "
          "'returned') THEN round ELSE 0 END), 0) AS BIGINT), "
          "CAST(COALESCE(SUM(CASE WHEN state IN ('accepted', 'rejected') "
          "THEN 1 ELSE 0 END), 0) AS BIGINT), "
          "CAST(COALESCE(SUM(CASE WHEN state = 'rejected' THEN 1 ELSE 0 END), "
          "0) AS BIGINT), "
          "CAST(COALESCE(SUM(CASE WHEN state IN ('rejected', 'returned') OR "
          "(state = 'accepted' AND round > 1) THEN 1 ELSE 0 END), 0) AS "
          "BIGINT) FROM submissions WHERE annotator_id = ? GROUP BY "
          "pool_id, updated_at / 86400000000 ORDER BY 1, 2",
          {annotator.value}));
    std::vector<ReviewDay> out;
    for (const SqlRow& r : rows) {
      ReviewDay& d = out.emplace_back();
      d.pool_id = PoolId(Int(r[0]));
      d.day = absl::FromUnixSeconds(Int(r[1]) * 86400);
      d.reviewed = Int(r[2]);
      d.first_pass = Int(r[3]);
      d.rounds = Int(r[4]);
      d.decided = Int(r[5]);
      d.rejected = Int(r[6]);
      d.came_back = Int(r[7]);
    }
    return out;
  }
  absl::StatusOr<std::vector<GoldDay>> ListGoldDays(UserId annotator) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT pool_id, created_at / 86400000000, COUNT(*), "
          "CAST(COALESCE(SUM(passed), 0) AS BIGINT) FROM gold_checks WHERE "
          "annotator_id = ? GROUP BY pool_id, created_at / 86400000000 ORDER "
          "BY 1, 2",
          {annotator.value}));
    std::vector<GoldDay> out;
    for (const SqlRow& r : rows) {
      GoldDay& d = out.emplace_back();
      d.pool_id = PoolId(Int(r[0]));
      d.day = absl::FromUnixSeconds(Int(r[1]) * 86400);
      d.checks = Int(r[2]);
      d.passed = Int(r[3]);
    }
    return out;
  }
  absl::StatusOr<std::vector<SnapshotRef>> ListLatestSnapshotRefs(
      const std::vector<PoolId>& pools) override {
    std::vector<SnapshotRef> out;
    if (pools.empty()) return out;
    std::vector<std::string> marks(pools.size(), "?");
    std::vector<SqlValue> params;
    for (PoolId p : pools) params.push_back(p.value);
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q(absl::StrCat("SELECT q.pool_id, q.version, q.created_at FROM "
                       "quality_snapshots q WHERE q.pool_id IN (",
                       absl::StrJoin(marks, ", "),
                       ") AND q.version = (SELECT MAX(version) FROM "
                       "quality_snapshots WHERE pool_id = q.pool_id) ORDER BY "
                       "q.pool_id"),
          params));
    for (const SqlRow& r : rows) {
      SnapshotRef& s = out.emplace_back();
      s.pool_id = PoolId(Int(r[0]));
      s.version = static_cast<int>(Int(r[1]));
      s.created_at = FromMicros(Int(r[2]));
    }
    return out;
  }
  absl::StatusOr<std::optional<TaskId>> FindClaimableTaskByGold(
      PoolId pool, UserId annotator, bool gold) override {
    // Gold tasks are never used up: concurrent claimers may share one.
    return gold ? FirstUnclaimedTask(pool, annotator, "t.gold IS NOT NULL",
                                     /*lock=*/false)
                : FirstUnclaimedTask(pool, annotator,
                                     "t.gold IS NULL AND t.open_slots > 0",
                                     /*lock=*/true);
  }
  absl::StatusOr<std::vector<TaskId>> ListGoldTaskIds(PoolId pool,
                                                      int64_t after) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q("SELECT id FROM tasks WHERE pool_id = ? AND gold IS "
                          "NOT NULL AND id > ? ORDER BY id",
                          {pool.value, after}));
    return IdsOf<TaskId>(rows);
  }
  absl::StatusOr<std::vector<TaskId>> ListClaimedGoldTasks(
      UserId annotator, PoolId pool) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q(absl::StrCat("SELECT t.id FROM tasks t WHERE t.pool_id = ? AND "
                       "t.gold IS NOT NULL AND EXISTS (SELECT 1 FROM claims c "
                       "WHERE c.task_id = t.id AND c.annotator_id = ?",
                       PerTaskProbe(dialect_), ") ORDER BY t.id"),
          {pool.value, annotator.value}));
    return IdsOf<TaskId>(rows);
  }
  absl::StatusOr<int64_t> CountClaimsSince(UserId annotator, PoolId pool,
                                           absl::Time since) override {
    // Without statistics SQLite would search the primary key by pool: every
    // annotator's rows of the pool.
    std::string sql = absl::StrCat(
        "SELECT CAST(COALESCE(SUM(claims), 0) AS BIGINT) FROM claim_days",
        dialect_.name == "sqlite" ? " INDEXED BY claim_days_annotator" : "",
        " WHERE annotator_id = ? AND pool_id = ?");
    std::vector<SqlValue> params = {annotator.value, pool.value};
    AppendFromDay(since, sql, params);
    TS_ASSIGN_OR_RETURN(auto rows, Q(sql, params));
    return Int(rows[0][0]);
  }
  absl::StatusOr<std::pair<int64_t, int64_t>> CountPoolClaimsSince(
      PoolId pool, absl::Time since) override {
    std::string sql =
        "SELECT CAST(COALESCE(SUM(claims), 0) AS BIGINT), "
        "CAST(COALESCE(SUM(newcomer_claims), 0) AS BIGINT) FROM claim_days "
        "WHERE pool_id = ?";
    std::vector<SqlValue> params = {pool.value};
    AppendFromDay(since, sql, params);
    TS_ASSIGN_OR_RETURN(auto rows, Q(sql, params));
    return std::make_pair(Int(rows[0][0]), Int(rows[0][1]));
  }
  absl::StatusOr<std::pair<int64_t, int64_t>> CountPoolSlots(
      PoolId pool) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT COUNT(*), CAST(COALESCE(SUM(open_slots), 0) AS BIGINT) FROM "
          "tasks WHERE pool_id = ? AND gold IS NULL",
          {pool.value}));
    return std::make_pair(Int(rows[0][0]), Int(rows[0][1]));
  }
  absl::StatusOr<std::vector<ClaimRecord>> ListClaimRecords(
      std::optional<UserId> annotator, std::optional<PoolId> pool,
      int limit) override {
    std::string sql =
        absl::StrCat("SELECT ", kClaimCols, ", reason FROM claims WHERE 1 = 1");
    std::vector<SqlValue> params;
    if (annotator) {
      sql += " AND annotator_id = ?";
      params.push_back(annotator->value);
    }
    if (pool) {
      sql += " AND pool_id = ?";
      params.push_back(pool->value);
    }
    sql += " ORDER BY id DESC LIMIT ?";
    params.push_back(int64_t{limit});
    TS_ASSIGN_OR_RETURN(auto rows, Q(sql, params));
    std::vector<ClaimRecord> out;
    for (const SqlRow& r : rows) {
      ClaimRecord& c = out.emplace_back();
      TS_ASSIGN_OR_RETURN(c.claim, RowToClaim(r));
      if (!IsNull(r[7])) c.reason_json = Text(r[7]);
    }
    return out;
  }
  // ---- end Workforce: standing and allocation
  // ---- Workforce: trials and background (issue 6)
  static std::optional<double> OptDouble(const SqlValue& v) {
    if (IsNull(v)) return std::nullopt;
    if (auto* d = std::get_if<double>(&v)) return *d;
    if (auto* s = std::get_if<std::string>(&v)) return std::stod(*s);
    return static_cast<double>(Int(v));
  }
  static SqlValue OptReal(const std::optional<double>& d) {
    if (!d) return std::monostate{};
    return *d;
  }
  static constexpr const char* kProfileCols =
      "user_id, domains, profession, education, evidence, updated_at, "
      "verified_by, verified_at";
  static ProfileRow RowToProfile(const SqlRow& r) {
    ProfileRow p;
    p.user_id = UserId(Int(r[0]));
    p.domains_json = Text(r[1]);
    p.profession = Text(r[2]);
    p.education = Text(r[3]);
    p.evidence = Text(r[4]);
    p.updated_at = FromMicros(Int(r[5]));
    if (!IsNull(r[6])) p.verified_by = UserId(Int(r[6]));
    p.verified_at = OptTime(r[7]);
    return p;
  }
  absl::Status UpsertProfile(const ProfileRow& p) override {
    return conn_.Exec(
        "INSERT INTO profiles (user_id, domains, profession, education, "
        "evidence, updated_at, verified_by, verified_at) VALUES (?, ?, ?, ?, "
        "?, ?, NULL, NULL) ON CONFLICT (user_id) DO UPDATE SET domains = "
        "excluded.domains, profession = excluded.profession, education = "
        "excluded.education, evidence = excluded.evidence, updated_at = "
        "excluded.updated_at, verified_by = NULL, verified_at = NULL",
        {p.user_id.value, p.domains_json, p.profession, p.education, p.evidence,
         Micros(p.updated_at)});
  }
  absl::StatusOr<std::optional<ProfileRow>> FindProfile(UserId user) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q(absl::StrCat("SELECT ", kProfileCols,
                                       " FROM profiles WHERE user_id = ?"),
                          {user.value}));
    if (rows.empty()) return std::nullopt;
    return RowToProfile(rows[0]);
  }
  absl::StatusOr<std::vector<ProfileRow>> ListProfiles(bool unverified_only,
                                                       int limit) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q(absl::StrCat("SELECT ", kProfileCols, " FROM profiles",
                       unverified_only ? " WHERE verified_at IS NULL" : "",
                       " ORDER BY user_id LIMIT ?"),
          {int64_t{limit}}));
    std::vector<ProfileRow> out;
    for (const SqlRow& r : rows) out.push_back(RowToProfile(r));
    return out;
  }
  absl::Status MarkProfileVerified(UserId user, UserId by,
                                   absl::Time at) override {
    return conn_.Exec(
        "UPDATE profiles SET verified_by = ?, verified_at = ? WHERE user_id "
        "= ?",
        {by.value, Micros(at), user.value});
  }
  absl::Status GrantSkill(const SkillRow& s) override {
    TS_RETURN_IF_ERROR(conn_.Exec(
        "UPDATE skills SET granted_by = ?, reason = ?, granted_at = ?, "
        "revoked_by = NULL, revoked_at = NULL WHERE user_id = ? AND skill = ? "
        "AND revoked_at IS NOT NULL",
        {s.granted_by.value, s.reason, Micros(s.granted_at), s.user_id.value,
         s.skill}));
    if (conn_.Changes() == 1) return absl::OkStatus();
    return conn_.Exec(
        "INSERT INTO skills (user_id, skill, granted_by, reason, granted_at) "
        "VALUES (?, ?, ?, ?, ?)",
        {s.user_id.value, s.skill, s.granted_by.value, s.reason,
         Micros(s.granted_at)});
  }
  absl::Status RevokeSkill(UserId user, absl::string_view skill, UserId by,
                           absl::Time at) override {
    TS_RETURN_IF_ERROR(conn_.Exec(
        "UPDATE skills SET revoked_by = ?, revoked_at = ? WHERE user_id = ? "
        "AND skill = ? AND revoked_at IS NULL",
        {by.value, Micros(at), user.value, std::string(skill)}));
    return ExpectOneChange("skill");
  }
  absl::StatusOr<std::vector<SkillRow>> ListSkills(UserId user) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT user_id, skill, granted_by, reason, granted_at, revoked_by, "
          "revoked_at FROM skills WHERE user_id = ? ORDER BY skill",
          {user.value}));
    std::vector<SkillRow> out;
    for (const SqlRow& r : rows) {
      SkillRow s;
      s.user_id = UserId(Int(r[0]));
      s.skill = Text(r[1]);
      s.granted_by = UserId(Int(r[2]));
      s.reason = Text(r[3]);
      s.granted_at = FromMicros(Int(r[4]));
      if (!IsNull(r[5])) s.revoked_by = UserId(Int(r[5]));
      s.revoked_at = OptTime(r[6]);
      out.push_back(std::move(s));
    }
    return out;
  }
  absl::StatusOr<int64_t> InsertTrialTask(const TrialTaskRow& t) override {
    return InsertReturningId(
        "INSERT INTO trial_tasks (pool_id, data, gold, created_at) VALUES (?, "
        "?, ?, ?) RETURNING id",
        {t.pool_id.value, t.data_json, OptText(t.gold_json),
         Micros(t.created_at)});
  }
  absl::StatusOr<std::vector<TrialTaskRow>> ListTrialTasks(
      PoolId pool) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q("SELECT id, pool_id, data, gold, created_at FROM "
                          "trial_tasks WHERE pool_id = ? ORDER BY id",
                          {pool.value}));
    std::vector<TrialTaskRow> out;
    for (const SqlRow& r : rows) {
      TrialTaskRow t;
      t.id = Int(r[0]);
      t.pool_id = PoolId(Int(r[1]));
      t.data_json = Text(r[2]);
      if (!IsNull(r[3])) t.gold_json = Text(r[3]);
      t.created_at = FromMicros(Int(r[4]));
      out.push_back(std::move(t));
    }
    return out;
  }
  static constexpr const char* kTrialAttemptCols =
      "id, pool_id, annotator_id, state, score, started_at, finished_at";
  static TrialAttemptRow RowToTrialAttempt(const SqlRow& r) {
    TrialAttemptRow a;
    a.id = Int(r[0]);
    a.pool_id = PoolId(Int(r[1]));
    a.annotator_id = UserId(Int(r[2]));
    a.state = Text(r[3]);
    a.score = OptDouble(r[4]);
    a.started_at = FromMicros(Int(r[5]));
    a.finished_at = OptTime(r[6]);
    return a;
  }
  static std::vector<TrialAttemptRow> RowsToTrialAttempts(const SqlRows& rows) {
    std::vector<TrialAttemptRow> out;
    for (const SqlRow& r : rows) out.push_back(RowToTrialAttempt(r));
    return out;
  }
  absl::StatusOr<int64_t> InsertTrialAttempt(
      const TrialAttemptRow& a) override {
    return InsertReturningId(
        "INSERT INTO trial_attempts (pool_id, annotator_id, state, score, "
        "started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        {a.pool_id.value, a.annotator_id.value, a.state, OptReal(a.score),
         Micros(a.started_at), OptMicros(a.finished_at)});
  }
  absl::StatusOr<TrialAttemptRow> GetTrialAttempt(int64_t id) override {
    TS_ASSIGN_OR_RETURN(auto rows,
                        Q(absl::StrCat("SELECT ", kTrialAttemptCols,
                                       " FROM trial_attempts WHERE id = ?"),
                          {id}));
    if (rows.empty()) return NotFound("trial attempt");
    return RowToTrialAttempt(rows[0]);
  }
  absl::StatusOr<std::vector<TrialAttemptRow>> ListTrialAttempts(
      UserId annotator, std::optional<PoolId> pool) override {
    std::string sql = absl::StrCat("SELECT ", kTrialAttemptCols,
                                   " FROM trial_attempts WHERE annotator_id "
                                   "= ?");
    std::vector<SqlValue> params = {annotator.value};
    if (pool) {
      sql += " AND pool_id = ?";
      params.push_back(pool->value);
    }
    sql += " ORDER BY id";
    TS_ASSIGN_OR_RETURN(auto rows, Q(sql, params));
    return RowsToTrialAttempts(rows);
  }
  absl::StatusOr<std::vector<TrialAttemptRow>> ListTrialAttemptsInState(
      absl::string_view state, int limit) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q(absl::StrCat("SELECT ", kTrialAttemptCols,
                       " FROM trial_attempts WHERE state = ? ORDER BY id "
                       "LIMIT ?"),
          {std::string(state), int64_t{limit}}));
    return RowsToTrialAttempts(rows);
  }
  absl::Status UpdateTrialAttempt(const TrialAttemptRow& a,
                                  absl::string_view from_state) override {
    TS_RETURN_IF_ERROR(conn_.Exec(
        "UPDATE trial_attempts SET state = ?, score = ?, finished_at = ? "
        "WHERE id = ? AND state = ?",
        {a.state, OptReal(a.score), OptMicros(a.finished_at), a.id,
         std::string(from_state)}));
    if (conn_.Changes() != 1) {
      return absl::AbortedError("the trial attempt changed state");
    }
    return absl::OkStatus();
  }
  absl::Status LockTrialAnnotator(UserId annotator) override {
    if (!dialect_.skip_locked) return absl::OkStatus();
    return Q("SELECT id FROM users WHERE id = ? FOR UPDATE", {annotator.value})
        .status();
  }
  absl::Status InsertTrialAnswer(const TrialAnswerRow& a) override {
    return conn_.Exec(
        "INSERT INTO trial_answers (attempt_id, trial_task_id, result, score, "
        "feedback, active_seconds, submitted_at, graded_by, graded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {a.attempt_id, a.trial_task_id, a.result_json, OptReal(a.score),
         a.feedback, a.active_seconds, Micros(a.submitted_at),
         OptId(a.graded_by), OptMicros(a.graded_at)});
  }
  absl::StatusOr<std::vector<TrialAnswerRow>> ListTrialAnswers(
      int64_t attempt) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT attempt_id, trial_task_id, result, score, feedback, "
          "active_seconds, submitted_at, graded_by, graded_at FROM "
          "trial_answers WHERE attempt_id = ? ORDER BY trial_task_id",
          {attempt}));
    std::vector<TrialAnswerRow> out;
    for (const SqlRow& r : rows) {
      TrialAnswerRow a;
      a.attempt_id = Int(r[0]);
      a.trial_task_id = Int(r[1]);
      a.result_json = Text(r[2]);
      a.score = OptDouble(r[3]);
      a.feedback = Text(r[4]);
      a.active_seconds = Int(r[5]);
      a.submitted_at = FromMicros(Int(r[6]));
      if (!IsNull(r[7])) a.graded_by = UserId(Int(r[7]));
      a.graded_at = OptTime(r[8]);
      out.push_back(std::move(a));
    }
    return out;
  }
  absl::Status GradeTrialAnswer(const TrialAnswerRow& a) override {
    TS_RETURN_IF_ERROR(conn_.Exec(
        "UPDATE trial_answers SET score = ?, feedback = ?, graded_by = ?, "
        "graded_at = ? WHERE attempt_id = ? AND trial_task_id = ?",
        {OptReal(a.score), a.feedback, OptId(a.graded_by),
         OptMicros(a.graded_at), a.attempt_id, a.trial_task_id}));
    return ExpectOneChange("trial answer");
  }
  absl::StatusOr<std::vector<int64_t>> ListAnsweredTrialTasks(
      UserId annotator, PoolId pool, int64_t before_attempt) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT DISTINCT w.trial_task_id FROM trial_answers w JOIN "
          "trial_attempts a ON a.id = w.attempt_id WHERE a.annotator_id = ? "
          "AND a.pool_id = ? AND a.id < ? ORDER BY w.trial_task_id",
          {annotator.value, pool.value, before_attempt}));
    std::vector<int64_t> out;
    for (const SqlRow& r : rows) out.push_back(Int(r[0]));
    return out;
  }
  // ---- end Workforce: trials and background
  // ---- Workforce: dynamic overlap and simulation (issue 6)
  absl::StatusOr<std::vector<PoolResult>> ListTaskResults(
      TaskId task) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT s.id, s.task_id, s.annotator_id, s.state, s.round, r.result "
          "FROM submissions s JOIN rounds r ON r.submission_id = s.id AND "
          "r.round = s.round WHERE s.task_id = ? AND s.state <> 'rejected' "
          "ORDER BY s.id",
          {task.value}));
    return RowsToResults(rows);
  }
  absl::StatusOr<int64_t> CountActiveClaims(TaskId task) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT COUNT(*) FROM claims WHERE task_id = ? AND state = 'active'",
          {task.value}));
    return Int(rows[0][0]);
  }
  absl::StatusOr<std::vector<PoolResult>> ListRecentPeerResults(
      PoolId pool, UserId annotator, TaskId exclude, int limit) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q("SELECT s.id, s.task_id, s.annotator_id, s.state, s.round, r.result "
          "FROM submissions s JOIN rounds r ON r.submission_id = s.id AND "
          "r.round = s.round WHERE s.state <> 'rejected' AND s.task_id IN "
          "(SELECT m.task_id FROM submissions m WHERE m.annotator_id = ? AND "
          "m.pool_id = ? AND m.task_id <> ? AND m.state <> 'rejected' "
          "ORDER BY m.id DESC LIMIT ?) ORDER BY s.task_id, s.id",
          {annotator.value, pool.value, exclude.value, int64_t{limit}}));
    return RowsToResults(rows);
  }
  absl::StatusOr<int64_t> MaxTaskId(PoolId pool) override {
    TS_ASSIGN_OR_RETURN(
        auto rows, Q("SELECT COALESCE(MAX(id), 0) FROM tasks WHERE pool_id = ?",
                     {pool.value}));
    return Int(rows[0][0]);
  }
  // ---- end Workforce: dynamic overlap and simulation
  // ---- Workforce: reviewer invitations (issue 6)
  absl::Status UpdateUserRoles(
      UserId user, const std::vector<domain::Role>& roles) override {
    TS_RETURN_IF_ERROR(conn_.Exec("UPDATE users SET roles = ? WHERE id = ?",
                                  {RolesText(roles), user.value}));
    if (conn_.Changes() != 1) return NotFound("user");
    return absl::OkStatus();
  }
  static ReviewerInvitationRow RowToInvitation(const SqlRow& r) {
    ReviewerInvitationRow i;
    i.id = Int(r[0]);
    i.user_id = UserId(Int(r[1]));
    i.invited_by = UserId(Int(r[2]));
    i.note = Text(r[3]);
    i.state = Text(r[4]);
    i.created_at = FromMicros(Int(r[5]));
    i.decided_at = OptTime(r[6]);
    return i;
  }
  static constexpr const char* kInvitationCols =
      "id, user_id, invited_by, note, state, created_at, decided_at";
  absl::StatusOr<int64_t> InsertReviewerInvitation(
      const ReviewerInvitationRow& i) override {
    return InsertReturningId(
        "INSERT INTO reviewer_invitations (user_id, invited_by, note, state, "
        "created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        {i.user_id.value, i.invited_by.value, i.note, i.state,
         Micros(i.created_at)});
  }
  absl::StatusOr<ReviewerInvitationRow> GetReviewerInvitation(
      int64_t id) override {
    TS_ASSIGN_OR_RETURN(
        auto rows, Q(absl::StrCat("SELECT ", kInvitationCols,
                                  " FROM reviewer_invitations WHERE id = ?"),
                     {id}));
    if (rows.empty()) return NotFound("invitation");
    return RowToInvitation(rows[0]);
  }
  absl::StatusOr<std::vector<ReviewerInvitationRow>> ListReviewerInvitations(
      UserId user) override {
    TS_ASSIGN_OR_RETURN(
        auto rows,
        Q(absl::StrCat("SELECT ", kInvitationCols,
                       " FROM reviewer_invitations WHERE user_id = ? "
                       "ORDER BY id DESC"),
          {user.value}));
    std::vector<ReviewerInvitationRow> out;
    for (const SqlRow& r : rows) out.push_back(RowToInvitation(r));
    return out;
  }
  absl::Status DecideReviewerInvitation(
      const ReviewerInvitationRow& i) override {
    TS_RETURN_IF_ERROR(
        conn_.Exec("UPDATE reviewer_invitations SET state = ?, decided_at = ? "
                   "WHERE id = ? AND state = 'pending'",
                   {i.state, OptMicros(i.decided_at), i.id}));
    if (conn_.Changes() != 1) {
      return absl::FailedPreconditionError(
          "the invitation is no longer pending");
    }
    return absl::OkStatus();
  }
  // ---- end Workforce: reviewer invitations

 private:
  absl::StatusOr<SqlRows> Q(absl::string_view sql,
                            const std::vector<SqlValue>& params) {
    return conn_.Query(sql, params);
  }
  absl::StatusOr<int64_t> InsertReturningId(
      absl::string_view sql, const std::vector<SqlValue>& params) {
    // SQLite runs RETURNING through a temporary table (~3 us of the
    // writer's time per insert); the new rowid it keeps anyway.
    constexpr absl::string_view kReturningId = " RETURNING id";
    if (dialect_.name == "sqlite" && absl::EndsWith(sql, kReturningId)) {
      sql.remove_suffix(kReturningId.size());
      TS_RETURN_IF_ERROR(conn_.Exec(sql, params));
      return conn_.LastInsertId();
    }
    TS_ASSIGN_OR_RETURN(auto rows, conn_.Query(sql, params));
    if (rows.empty()) return absl::InternalError("INSERT returned no id");
    return Int(rows[0][0]);
  }
  // The annotator, pool and task conditions of a filter.
  static void AppendSubmissionFilter(const SubmissionFilter& f,
                                     std::string& sql,
                                     std::vector<SqlValue>& params) {
    if (f.annotator) {
      sql += " AND annotator_id = ?";
      params.push_back(f.annotator->value);
    }
    if (f.pool) {
      sql += " AND pool_id = ?";
      params.push_back(f.pool->value);
    }
    if (f.task) {
      sql += " AND task_id = ?";
      params.push_back(f.task->value);
    }
  }
  absl::Status ExpectOneChange(absl::string_view what) {
    if (conn_.Changes() != 1) return NotFound(what);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Claim>> Claims(const SqlRows& rows) {
    std::vector<Claim> out;
    for (const SqlRow& r : rows) {
      TS_ASSIGN_OR_RETURN(Claim c, RowToClaim(r));
      out.push_back(std::move(c));
    }
    return out;
  }

  SqlConn& conn_;
  const Dialect& dialect_;
};

class SqlStore final : public Store {
 public:
  explicit SqlStore(std::unique_ptr<SqlDatabase> db) : db_(std::move(db)) {}
  ~SqlStore() override { Close(); }

  absl::Status Run(TxMode mode,
                   absl::FunctionRef<absl::Status(Tx&)> fn) override {
    return db_->RunTransaction(mode, [&](SqlConn& conn) {
      SqlTx tx(conn, db_->dialect());
      return fn(tx);
    });
  }

  bool RunWriteAsync(std::function<absl::Status(Tx&)> fn,
                     std::function<void(absl::Status)> done) override {
    return db_->RunWriteAsync(
        [fn = std::move(fn), dialect = &db_->dialect()](SqlConn& conn) {
          SqlTx tx(conn, *dialect);
          return fn(tx);
        },
        std::move(done));
  }
  bool async_writes() const override { return db_->async_writes(); }

  absl::Status Migrate() override {
    std::vector<Migration> all = Migrations(db_->dialect());
    return db_->RunTransaction(TxMode::kWrite, [&](SqlConn& conn) {
      TS_RETURN_IF_ERROR(conn.ExecScript(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER "
          "PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"));
      TS_ASSIGN_OR_RETURN(
          auto rows,
          conn.Query(
              "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
      int64_t current = Int(rows[0][0]);
      if (current > LatestVersion()) {
        return absl::FailedPreconditionError(
            absl::StrCat("database schema version ", current,
                         " is newer than this binary's ", LatestVersion()));
      }
      for (const Migration& m : all) {
        if (m.version <= current) continue;
        TS_RETURN_IF_ERROR(conn.ExecScript(m.sql));
        TS_RETURN_IF_ERROR(conn.Exec(
            "INSERT INTO schema_migrations (version, description, applied_at) "
            "VALUES (?, ?, ?)",
            {int64_t{m.version}, m.description, Rfc3339Now()}));
      }
      return absl::OkStatus();
    });
  }

  int LatestVersion() const override {
    return Migrations(db_->dialect()).back().version;
  }

  absl::StatusOr<int> CurrentVersion() override {
    int version = 0;
    TS_RETURN_IF_ERROR(db_->RunTransaction(TxMode::kRead, [&](SqlConn& conn) {
      auto rows = conn.Query(
          "SELECT COALESCE(MAX(version), 0) FROM "
          "schema_migrations");
      if (!rows.ok()) return absl::OkStatus();  // no table yet: version 0
      version = static_cast<int>(Int((*rows)[0][0]));
      return absl::OkStatus();
    }));
    return version;
  }

  absl::string_view backend() const override { return db_->dialect().name; }
  void Close() override { db_->Close(); }

 private:
  static std::string Rfc3339Now() {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(),
                            absl::UTCTimeZone());
  }

  std::unique_ptr<SqlDatabase> db_;
};

}  // namespace

// The pool's partial index (tasks_open, tasks_gold) holds exactly a claim's
// candidates, in id order. PostgreSQL's statistics, once they say that most
// of a pool's tasks are open, may make it walk the primary key from the
// pool's first task instead and filter, through every task claimed so far
// (its cost model takes the open tasks to be spread evenly, when they are
// the pool's last ones): 20-50 ms per claim after 12,000 claims. So on
// PostgreSQL the pool is a range and the order (pool_id, id), which only the
// (pool_id, id) indexes return without sorting the pool.
std::string UnclaimedTaskSql(const Dialect& dialect,
                             absl::string_view condition) {
  const bool pg = dialect.name == "postgres";
  return absl::StrCat(
      "SELECT t.id FROM tasks t WHERE ",
      pg ? "t.pool_id BETWEEN ? AND ?" : "t.pool_id = ?", " AND ", condition,
      " AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.task_id = t.id AND "
      "c.annotator_id = ?",
      PerTaskProbe(dialect), ") ORDER BY ", pg ? "t.pool_id, " : "",
      "t.id LIMIT 1");
}

std::vector<SqlValue> UnclaimedTaskParams(const Dialect& dialect, PoolId pool,
                                          UserId annotator) {
  if (dialect.name == "postgres") {
    return {pool.value, pool.value, annotator.value};
  }
  return {pool.value, annotator.value};
}

std::unique_ptr<Store> MakeSqlStore(std::unique_ptr<SqlDatabase> db) {
  return std::make_unique<SqlStore>(std::move(db));
}

}  // namespace tessera::store
