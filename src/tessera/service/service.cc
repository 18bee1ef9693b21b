// Use cases: each public function runs as one transaction.
#include "tessera/service/service.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tessera/base/json_util.h"
#include "tessera/base/money.h"
#include "tessera/base/status.h"
#include "tessera/domain/lifecycle.h"
#include "tessera/domain/task_types.h"
#include "tessera/service/auth.h"
#include "tessera/service/internal/access.h"
#include "tessera/service/internal/dynamic_overlap.h"
#include "tessera/service/internal/fairness.h"
#include "tessera/service/internal/views.h"

namespace tessera::service {
namespace {

using domain::AccountKind;
using domain::ClaimEvent;
using domain::ClaimState;
using domain::PoolState;
using domain::Role;
using domain::SubmissionEvent;
using domain::SubmissionState;
using domain::TaskType;
using domain::Verdict;
using internal::Audit;
using internal::OwnedPool;
using internal::OwnedProject;
using internal::ParseStored;
using internal::PreannotationJson;
using internal::RequireRole;
using internal::SubmissionJson;
using store::Tx;

constexpr int kMaxRoundsLimit = 10;
constexpr int64_t kMaxLeaseSeconds = 7 * 24 * 3600;

json TimeJson(absl::Time t) { return Rfc3339(t); }
json OptTimeJson(const std::optional<absl::Time>& t) {
  return t ? json(Rfc3339(*t)) : json(nullptr);
}

json RolesJson(const std::vector<Role>& roles) {
  json out = json::array();
  for (Role r : roles) out.push_back(domain::ToString(r));
  return out;
}

json UserJson(const domain::User& u) {
  return {{"id", u.id.value},
          {"username", u.username},
          {"roles", RolesJson(u.roles)},
          {"created_at", TimeJson(u.created_at)}};
}

json PoolJson(const domain::Pool& p) {
  return {{"id", p.id.value},
          {"project_id", p.project_id.value},
          {"name", p.name},
          {"task_type", domain::ToString(p.task_type)},
          {"config", ParseStored(p.config_json)},
          {"price", MoneyToJson(p.price)},
          {"overlap", p.overlap},
          {"lease_seconds", p.lease_seconds},
          {"max_rounds", p.max_rounds},
          {"opens_at", OptTimeJson(p.opens_at)},
          {"state", domain::ToString(p.state)},
          {"created_at", TimeJson(p.created_at)}};
}

// Task as an annotator or reviewer sees it: never the gold answer.
json TaskJson(const domain::Task& t) {
  return {{"id", t.id.value},
          {"pool_id", t.pool_id.value},
          {"data", ParseStored(t.data_json)}};
}

// A claimed task: TaskJson plus the drafts (pre-annotations) to start from.
absl::StatusOr<json> ClaimedTaskJson(Tx& tx, const domain::Task& t) {
  json j = TaskJson(t);
  TS_ASSIGN_OR_RETURN(auto drafts, tx.ListTaskPreannotations(t.id));
  json list = json::array();
  for (const auto& d : drafts) list.push_back(PreannotationJson(d));
  j["preannotations"] = std::move(list);
  return j;
}

json ClaimJson(const domain::Claim& c) {
  return {{"id", c.id.value},
          {"task_id", c.task_id.value},
          {"pool_id", c.pool_id.value},
          {"annotator_id", c.annotator_id.value},
          {"state", domain::ToString(c.state)},
          {"created_at", TimeJson(c.created_at)},
          {"expires_at", TimeJson(c.expires_at)}};
}

json EntryJson(const domain::LedgerEntry& e) {
  return {{"id", e.id},
          {"journal_id", e.journal_id},
          {"amount", MoneyToJson(e.amount)},
          {"kind", e.kind},
          {"submission_id",
           e.submission_id ? json(e.submission_id->value) : json(nullptr)},
          {"memo", e.memo},
          {"created_at", TimeJson(e.created_at)}};
}

// Whether annotators can claim from `pool` at `now`, and why not.
std::optional<std::string> ClosedReason(const domain::Pool& pool,
                                        absl::Time now) {
  switch (pool.state) {
    case PoolState::kOpen:
      return std::nullopt;
    case PoolState::kClosed:
      return "the pool is closed";
    case PoolState::kScheduled:
      if (pool.opens_at && *pool.opens_at <= now) return std::nullopt;
      return absl::StrCat("the pool opens at ",
                          Rfc3339(pool.opens_at.value_or(now)));
    case PoolState::kDraft:
      break;
  }
  return "the pool has not been released yet";
}

// Workers (annotators, reviewers) see released pools only.
bool ReleasedToWorkers(const domain::Pool& pool) {
  return pool.state != PoolState::kDraft;
}

// The common part of a submit or revise request.
struct WorkBody {
  const json* result;
  std::optional<int64_t> active_seconds;
};

absl::StatusOr<WorkBody> ParseWorkBody(const json& body,
                                       absl::string_view idempotency_key) {
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  auto result = body.find("result");
  if (result == body.end()) return InvalidField("result", "is required");
  TS_ASSIGN_OR_RETURN(auto active_seconds, OptionalInt(body, "active_seconds"));
  if (active_seconds && (*active_seconds < 0 || *active_seconds > 7 * 86400)) {
    return InvalidField("active_seconds", "must be from 0 to 604800");
  }
  if (idempotency_key.size() > 200) {
    return InvalidField("Idempotency-Key", "must be at most 200 characters");
  }
  return WorkBody{&*result, active_seconds};
}

// `amount_minor` x 3600 / `seconds` (> 0), rounded half up to the minor unit.
int64_t PerHourMinor(int64_t amount_minor, int64_t seconds) {
  const __int128 num = static_cast<__int128>(amount_minor) * 3600;
  return static_cast<int64_t>((2 * num + seconds) / (2 * seconds));
}

// Digits after the decimal point of `currency`'s minor unit (ISO 4217).
int MinorDigits(absl::string_view currency) {
  static constexpr absl::string_view kNone[] = {
      "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
      "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"};
  static constexpr absl::string_view kThree[] = {"BHD", "IQD", "JOD", "KWD",
                                                 "LYD", "OMR", "TND"};
  for (absl::string_view c : kNone) {
    if (c == currency) return 0;
  }
  for (absl::string_view c : kThree) {
    if (c == currency) return 3;
  }
  return 2;
}

// The caller's own submissions in a pool, by state (zeros without `w`).
json MyWorkJson(const store::WorkTotals* w) {
  store::WorkTotals none;
  if (w == nullptr) w = &none;
  return {{"submitted", w->submitted},
          {"accepted", w->accepted},
          {"rejected", w->rejected},
          {"returned", w->returned},
          {"in_review", w->in_review},
          {"first_pass_accepted", w->first_pass_accepted}};
}

absl::StatusOr<json> ParseTaskSpec(const json& body, absl::string_view field) {
  TS_RETURN_IF_ERROR(RequireObject(body, field));
  return body;
}

}  // namespace

namespace internal {

json SubmissionJson(const domain::Submission& s,
                    const std::vector<domain::Round>& rounds,
                    bool with_reviewers) {
  json rs = json::array();
  for (const auto& r : rounds) {
    json round = {{"round", r.round},
                  {"result", ParseStored(r.result_json)},
                  {"active_seconds", r.active_seconds},
                  {"submitted_at", TimeJson(r.submitted_at)},
                  {"verdict", r.verdict ? json(domain::ToString(*r.verdict))
                                        : json(nullptr)},
                  {"comments", ParseStored(r.comments_json)},
                  {"reviewed_at", OptTimeJson(r.reviewed_at)}};
    if (with_reviewers) {
      round["reviewer_id"] =
          r.reviewer_id ? json(r.reviewer_id->value) : json();
    }
    rs.push_back(std::move(round));
  }
  return {{"id", s.id.value},
          {"claim_id", s.claim_id.value},
          {"task_id", s.task_id.value},
          {"pool_id", s.pool_id.value},
          {"annotator_id", s.annotator_id.value},
          {"state", domain::ToString(s.state)},
          {"round", s.round},
          {"first_pass", s.first_pass},
          {"created_at", TimeJson(s.created_at)},
          {"updated_at", TimeJson(s.updated_at)},
          {"rounds", std::move(rs)}};
}

}  // namespace internal

bool Principal::Has(Role r) const {
  return std::find(roles.begin(), roles.end(), r) != roles.end();
}

Service::Service(store::Store& store, const Clock& clock,
                 ServiceOptions options)
    : store_(store), clock_(clock), options_(options) {}

absl::Status Service::Write(absl::FunctionRef<absl::Status(Tx&)> fn) {
  return store_.Run(store::TxMode::kWrite, fn);
}
absl::Status Service::Read(absl::FunctionRef<absl::Status(Tx&)> fn) {
  return store_.Run(store::TxMode::kRead, fn);
}

// ---------------------------------------------------------------- identity

absl::StatusOr<json> Service::Login(const json& body) {
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  TS_ASSIGN_OR_RETURN(std::string username, RequiredString(body, "username"));
  TS_ASSIGN_OR_RETURN(std::string password, RequiredString(body, "password"));
  std::optional<domain::User> user;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(user, tx.FindUserByName(username));
    return absl::OkStatus();
  }));
  // Verify outside the transaction: argon2id is deliberately slow.
  if (!user || !VerifyPassword(user->password_hash, password)) {
    return Unauthenticated("wrong username or password");
  }
  std::string token = NewToken();
  absl::Time now = clock_.Now();
  domain::Session session{HashToken(token), user->id, now,
                          now + options_.token_ttl, false};
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    TS_RETURN_IF_ERROR(tx.InsertSession(session));
    return Audit(tx, user->id, "session.create", "user", user->id.value,
                 nullptr, {{"expires_at", Rfc3339(session.expires_at)}}, now);
  }));
  return json{{"token", token},
              {"expires_at", Rfc3339(session.expires_at)},
              {"user", UserJson(*user)}};
}

std::optional<Principal> Service::CachedPrincipal(absl::string_view token) {
  if (token.empty()) return std::nullopt;
  std::string hash = HashToken(token);
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&auth_mu_);
  auto it = auth_cache_.find(hash);
  if (it == auth_cache_.end()) return std::nullopt;
  if (now < it->second.cached_until && now < it->second.session_expires) {
    return it->second.principal;
  }
  auth_cache_.erase(it);
  return std::nullopt;
}

absl::StatusOr<Principal> Service::Authenticate(absl::string_view token) {
  if (token.empty()) return Unauthenticated("missing bearer token");
  if (auto cached = CachedPrincipal(token)) return *std::move(cached);
  std::string hash = HashToken(token);
  absl::Time now = clock_.Now();
  Principal p;
  absl::Time expires;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto session, tx.FindSession(hash));
    if (!session || session->revoked || session->expires_at <= now) {
      return Unauthenticated("invalid or expired token");
    }
    TS_ASSIGN_OR_RETURN(domain::User u, tx.GetUser(session->user_id));
    p = Principal{u.id, u.username, u.roles};
    expires = session->expires_at;
    return absl::OkStatus();
  }));
  if (options_.auth_cache_ttl > absl::ZeroDuration()) {
    absl::MutexLock lock(&auth_mu_);
    if (auth_cache_.size() >= 100'000) auth_cache_.clear();  // bound memory
    auth_cache_[hash] =
        CachedSession{p, expires, now + options_.auth_cache_ttl};
  }
  return p;
}

absl::Status Service::Logout(absl::string_view token) {
  std::string hash = HashToken(token);
  absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&auth_mu_);
    auth_cache_.erase(hash);
  }
  return Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto session, tx.FindSession(hash));
    if (!session) return Unauthenticated("invalid token");
    TS_RETURN_IF_ERROR(tx.RevokeSession(hash));
    return Audit(tx, session->user_id, "session.revoke", "user",
                 session->user_id.value, nullptr, nullptr, now);
  });
}

absl::StatusOr<json> Service::CreateUser(const std::optional<Principal>& actor,
                                         const json& body) {
  if (actor && !actor->Has(Role::kAdmin)) {
    return PermissionDenied("only an admin may create users");
  }
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  domain::User u;
  TS_ASSIGN_OR_RETURN(u.username, RequiredString(body, "username"));
  if (u.username.empty() || u.username.size() > 64 ||
      !std::all_of(u.username.begin(), u.username.end(), [](char c) {
        return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.';
      })) {
    return InvalidField("username",
                        "use 1-64 letters, digits, '.', '_' or '-'");
  }
  TS_ASSIGN_OR_RETURN(std::string password, RequiredString(body, "password"));
  if (password.size() < 8 || password.size() > 1024) {
    return InvalidField("password", "must be 8 to 1024 characters");
  }
  auto roles = body.find("roles");
  if (roles == body.end() || !roles->is_array() || roles->empty()) {
    return InvalidField("roles", "must be a non-empty array of roles");
  }
  for (size_t i = 0; i < roles->size(); ++i) {
    std::string f = absl::StrCat("roles[", i, "]");
    if (!(*roles)[i].is_string()) return InvalidField(f, "must be a string");
    TS_ASSIGN_OR_RETURN(Role r,
                        domain::ParseRole((*roles)[i].get<std::string>(), f));
    if (std::find(u.roles.begin(), u.roles.end(), r) == u.roles.end()) {
      u.roles.push_back(r);
    }
  }
  TS_ASSIGN_OR_RETURN(u.password_hash, HashPassword(password));
  u.created_at = clock_.Now();
  absl::Status s = Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(u.id, tx.InsertUser(u));
    return Audit(tx, actor ? std::optional<UserId>(actor->id) : std::nullopt,
                 "user.create", "user", u.id.value, nullptr, UserJson(u),
                 u.created_at);
  });
  if (s.code() == absl::StatusCode::kAlreadyExists) {
    return WithField(Conflict("username is taken"), "username");
  }
  TS_RETURN_IF_ERROR(s);
  return UserJson(u);
}

absl::StatusOr<json> Service::Me(const Principal& p) {
  json out;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::User u, tx.GetUser(p.id));
    out = UserJson(u);
    store::SubmissionCounts n;
    if (p.Has(Role::kAnnotator)) {
      store::SubmissionFilter mine;
      mine.annotator = p.id;
      TS_ASSIGN_OR_RETURN(n, tx.CountSubmissions(mine));
    }
    json standing = {{"submitted", n.total},
                     {"accepted", n.accepted},
                     {"rejected", n.rejected},
                     {"first_pass_accepted", n.first_pass_accepted},
                     {"in_review", n.pending_review},
                     {"returned", n.returned}};
    out["standing"] = standing;
    return absl::OkStatus();
  }));
  return out;
}

// ----------------------------------------------------------------- catalog

absl::StatusOr<json> Service::CreateProject(const Principal& p,
                                            const json& body) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kRequester));
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  domain::Project project;
  TS_ASSIGN_OR_RETURN(project.name, RequiredString(body, "name"));
  if (project.name.empty() || project.name.size() > 200) {
    return InvalidField("name", "must be 1 to 200 characters");
  }
  TS_ASSIGN_OR_RETURN(auto description, OptionalString(body, "description"));
  TS_ASSIGN_OR_RETURN(auto guidelines, OptionalString(body, "guidelines"));
  project.description = description.value_or("");
  project.guidelines = guidelines.value_or("");
  Money budget{0, "CNY"};
  if (body.contains("budget")) {
    TS_ASSIGN_OR_RETURN(budget, MoneyFromJson(body["budget"], "budget"));
  }
  project.currency = budget.currency;
  project.owner_id = p.id;
  absl::Time now = clock_.Now();
  project.created_at = now;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(project.id, tx.InsertProject(project));
    TS_ASSIGN_OR_RETURN(AccountId account,
                        tx.EnsureAccount(AccountKind::kProject,
                                         project.id.value, project.currency));
    if (budget.amount_minor > 0) {
      TS_ASSIGN_OR_RETURN(
          AccountId funding,
          tx.EnsureAccount(AccountKind::kFunding, p.id.value, budget.currency));
      std::vector<domain::LedgerEntry> journal(2);
      journal[0].account_id = funding;
      journal[0].amount = {-budget.amount_minor, budget.currency};
      journal[1].account_id = account;
      journal[1].amount = budget;
      for (auto& e : journal) {
        e.kind = "funding";
        e.memo = absl::StrCat("budget of project ", project.id.value);
        e.created_at = now;
      }
      TS_RETURN_IF_ERROR(tx.InsertJournal(std::move(journal)).status());
    }
    return Audit(
        tx, p.id, "project.create", "project", project.id.value, nullptr,
        {{"name", project.name}, {"budget", MoneyToJson(budget)}}, now);
  }));
  return GetProject(p, project.id);
}

absl::StatusOr<json> Service::GetProject(const Principal& p, ProjectId id) {
  json out;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::Project project, OwnedProject(tx, p, id));
    TS_ASSIGN_OR_RETURN(
        auto account,
        tx.FindAccount(AccountKind::kProject, id.value, project.currency));
    int64_t balance = 0;
    if (account) {
      TS_ASSIGN_OR_RETURN(balance, tx.Balance(*account));
    }
    TS_ASSIGN_OR_RETURN(auto pools, tx.ListPools(id));
    json pool_list = json::array();
    for (const auto& pool : pools) pool_list.push_back(PoolJson(pool));
    out = {
        {"id", project.id.value},
        {"owner_id", project.owner_id.value},
        {"name", project.name},
        {"description", project.description},
        {"guidelines", project.guidelines},
        {"budget", {{"remaining", MoneyToJson({balance, project.currency})}}},
        {"pools", pool_list},
        {"created_at", TimeJson(project.created_at)}};
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<json> Service::ListProjects(const Principal& p) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kRequester));
  json out = json::array();
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(
        auto projects,
        tx.ListProjects(p.Has(Role::kAdmin) ? std::nullopt
                                            : std::optional<UserId>(p.id)));
    for (const auto& project : projects) {
      out.push_back({{"id", project.id.value},
                     {"name", project.name},
                     {"description", project.description},
                     {"created_at", TimeJson(project.created_at)}});
    }
    return absl::OkStatus();
  }));
  return json{{"projects", out}};
}

absl::StatusOr<json> Service::CreatePool(const Principal& p,
                                         ProjectId project_id,
                                         const json& body) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kRequester));
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  domain::Pool pool;
  pool.project_id = project_id;
  TS_ASSIGN_OR_RETURN(pool.name, RequiredString(body, "name"));
  if (pool.name.empty() || pool.name.size() > 200) {
    return InvalidField("name", "must be 1 to 200 characters");
  }
  TS_ASSIGN_OR_RETURN(std::string type, RequiredString(body, "task_type"));
  TS_ASSIGN_OR_RETURN(pool.task_type, domain::ParseTaskType(type, "task_type"));
  TS_ASSIGN_OR_RETURN(
      json config, domain::NormalizePoolConfig(
                       pool.task_type, body.value("config", json()), "config"));
  pool.config_json = config.dump();
  if (!body.contains("price")) return InvalidField("price", "is required");
  TS_ASSIGN_OR_RETURN(pool.price, MoneyFromJson(body["price"], "price"));
  TS_ASSIGN_OR_RETURN(auto overlap, OptionalInt(body, "overlap"));
  pool.overlap = static_cast<int>(overlap.value_or(1));
  if (overlap && (*overlap < 1 || *overlap > 100)) {
    return InvalidField("overlap", "must be from 1 to 100");
  }
  TS_ASSIGN_OR_RETURN(auto lease, OptionalInt(body, "lease_seconds"));
  if (lease && (*lease < 1 || *lease > kMaxLeaseSeconds)) {
    return InvalidField("lease_seconds", "must be from 1 to 604800");
  }
  pool.lease_seconds = static_cast<int>(lease.value_or(600));
  TS_ASSIGN_OR_RETURN(auto rounds, OptionalInt(body, "max_rounds"));
  if (rounds && (*rounds < 1 || *rounds > kMaxRoundsLimit)) {
    return InvalidField("max_rounds", "must be from 1 to 10");
  }
  pool.max_rounds = static_cast<int>(rounds.value_or(3));
  TS_ASSIGN_OR_RETURN(auto opens_at, OptionalString(body, "opens_at"));
  if (opens_at) {
    pool.opens_at = ParseRfc3339(*opens_at);
    if (!pool.opens_at) {
      return InvalidField("opens_at",
                          "must be an RFC 3339 time such as "
                          "2026-12-01T08:00:00+08:00");
    }
  }
  absl::Time now = clock_.Now();
  pool.created_at = now;
  pool.state = PoolState::kDraft;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::Project project,
                        OwnedProject(tx, p, project_id));
    if (project.currency != pool.price.currency) {
      return InvalidField(
          "price.currency",
          absl::StrCat("must match the project's currency ", project.currency));
    }
    TS_ASSIGN_OR_RETURN(pool.id, tx.InsertPool(pool));
    return Audit(tx, p.id, "pool.create", "pool", pool.id.value, nullptr,
                 PoolJson(pool), now);
  }));
  return PoolJson(pool);
}

absl::StatusOr<json> Service::GetPool(const Principal& p, PoolId id) {
  json out;
  absl::Time now = clock_.Now();
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::Pool pool, tx.GetPool(id));
    bool owner = false;
    if (p.Has(Role::kRequester) || p.Has(Role::kAdmin)) {
      owner = OwnedProject(tx, p, pool.project_id).ok();
    }
    if (!owner) {
      // Workers see pools that are released, never drafts of others.
      bool worker = p.Has(Role::kAnnotator) || p.Has(Role::kReviewer);
      if (!worker || !ReleasedToWorkers(pool)) return NotFound("pool");
    }
    out = PoolJson(pool);
    TS_ASSIGN_OR_RETURN(domain::Project project,
                        tx.GetProject(pool.project_id));
    out["guidelines"] = project.guidelines;
    std::vector<std::string> reasons;
    if (auto closed = ClosedReason(pool, now)) reasons.push_back(*closed);
    if (!p.Has(Role::kAnnotator)) {
      reasons.push_back("you do not have the annotator role");
    }
    out["can_claim"] = reasons.empty();
    out["reasons"] = reasons;
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<json> Service::AddTasks(const Principal& p, PoolId pool_id,
                                       const json& body) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kRequester));
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  auto list = body.find("tasks");
  if (list == body.end() || !list->is_array() || list->empty()) {
    return InvalidField("tasks", "must be a non-empty array of {data, gold?}");
  }
  if (list->size() > static_cast<size_t>(options_.max_tasks_per_request)) {
    return InvalidField("tasks",
                        absl::StrCat("at most ", options_.max_tasks_per_request,
                                     " tasks per request"));
  }
  absl::Time now = clock_.Now();
  int64_t first = 0, last = 0;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::Pool pool, OwnedPool(tx, p, pool_id));
    if (pool.state == PoolState::kClosed) {
      return FailedPrecondition("the pool is closed");
    }
    json config = ParseStored(pool.config_json);
    for (size_t i = 0; i < list->size(); ++i) {
      std::string f = absl::StrCat("tasks[", i, "]");
      TS_ASSIGN_OR_RETURN(json spec, ParseTaskSpec((*list)[i], f));
      auto data = spec.find("data");
      if (data == spec.end()) {
        return InvalidField(absl::StrCat(f, ".data"), "is required");
      }
      TS_RETURN_IF_ERROR(domain::ValidateTaskData(pool.task_type, config, *data,
                                                  absl::StrCat(f, ".data")));
      domain::Task task;
      task.pool_id = pool_id;
      task.data_json = data->dump();
      auto gold = spec.find("gold");
      if (gold != spec.end() && !gold->is_null()) {
        TS_RETURN_IF_ERROR(domain::ValidateGold(
            pool.task_type, config, *data, *gold, absl::StrCat(f, ".gold")));
        task.gold_json = gold->dump();
      }
      // Workforce: dynamic overlap (issue 6): `min` slots when it is on.
      task.open_slots = internal::InitialOpenSlots(pool, config);
      task.created_at = now;
      TS_ASSIGN_OR_RETURN(TaskId id, tx.InsertTask(task));
      if (i == 0) first = id.value;
      last = id.value;
    }
    return Audit(tx, p.id, "tasks.add", "pool", pool_id.value, nullptr,
                 {{"count", list->size()},
                  {"first_task_id", first},
                  {"last_task_id", last}},
                 now);
  }));
  return json{{"created", list->size()},
              {"first_task_id", first},
              {"last_task_id", last}};
}

namespace {

// A pool an uploaded image may become a task of.
absl::StatusOr<domain::Pool> ImagePool(Tx& tx, const Principal& p,
                                       PoolId pool_id) {
  TS_ASSIGN_OR_RETURN(domain::Pool pool, OwnedPool(tx, p, pool_id));
  if (pool.task_type != TaskType::kBbox &&
      pool.task_type != TaskType::kClassify) {
    return InvalidField("pool",
                        "images can be uploaded to bbox and "
                        "classify pools only");
  }
  if (pool.state == PoolState::kClosed) {
    return FailedPrecondition("the pool is closed");
  }
  return pool;
}

}  // namespace

absl::Status Service::CheckImageUpload(const Principal& p, PoolId pool_id) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kRequester));
  return Read([&](Tx& tx) -> absl::Status {
    return ImagePool(tx, p, pool_id).status();
  });
}

absl::StatusOr<json> Service::AddImageTask(const Principal& p, PoolId pool_id,
                                           const std::string& image, int width,
                                           int height) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kRequester));
  const json data = {{"image", image}, {"width", width}, {"height", height}};
  absl::Time now = clock_.Now();
  TaskId id;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::Pool pool, ImagePool(tx, p, pool_id));
    TS_RETURN_IF_ERROR(domain::ValidateTaskData(
        pool.task_type, ParseStored(pool.config_json), data, "data"));
    domain::Task task;
    task.pool_id = pool_id;
    task.data_json = data.dump();
    // Workforce: dynamic overlap (issue 6): `min` slots when it is on.
    task.open_slots =
        internal::InitialOpenSlots(pool, ParseStored(pool.config_json));
    task.created_at = now;
    TS_ASSIGN_OR_RETURN(id, tx.InsertTask(task));
    return Audit(tx, p.id, "tasks.add", "pool", pool_id.value, nullptr,
                 {{"count", 1},
                  {"first_task_id", id.value},
                  {"last_task_id", id.value},
                  {"image", image}},
                 now);
  }));
  return json{{"task_id", id.value},
              {"image", image},
              {"width", width},
              {"height", height}};
}

absl::StatusOr<json> Service::OpenPool(const Principal& p, PoolId id) {
  absl::Time now = clock_.Now();
  domain::Pool pool;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(pool, OwnedPool(tx, p, id));
    json before = {{"state", domain::ToString(pool.state)}};
    if (pool.state == PoolState::kOpen) return absl::OkStatus();
    // A future opens_at schedules the release; otherwise open now.
    if (pool.opens_at && *pool.opens_at > now) {
      pool.state = PoolState::kScheduled;
    } else {
      pool.state = PoolState::kOpen;
    }
    TS_RETURN_IF_ERROR(tx.UpdatePool(pool));
    return Audit(tx, p.id, "pool.open", "pool", id.value, before,
                 {{"state", domain::ToString(pool.state)},
                  {"opens_at", OptTimeJson(pool.opens_at)}},
                 now);
  }));
  return PoolJson(pool);
}

absl::StatusOr<json> Service::ClosePool(const Principal& p, PoolId id) {
  absl::Time now = clock_.Now();
  domain::Pool pool;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(pool, OwnedPool(tx, p, id));
    json before = {{"state", domain::ToString(pool.state)}};
    pool.state = PoolState::kClosed;
    TS_RETURN_IF_ERROR(tx.UpdatePool(pool));
    return Audit(tx, p.id, "pool.close", "pool", id.value, before,
                 {{"state", "closed"}}, now);
  }));
  return PoolJson(pool);
}

absl::StatusOr<std::shared_ptr<const std::vector<store::WorkTotals>>>
Service::AcceptedWorkByPool(Tx& tx, absl::Time now) {
  uint64_t generation = 0;
  {
    absl::MutexLock lock(&accepted_work_mu_);
    if (accepted_work_ && now >= accepted_work_at_ &&
        now - accepted_work_at_ < kAcceptedWorkTtl) {
      return accepted_work_;
    }
    generation = accepted_work_generation_;
  }
  TS_ASSIGN_OR_RETURN(auto rows, tx.ListAcceptedWorkByPool());
  auto fresh =
      std::make_shared<const std::vector<store::WorkTotals>>(std::move(rows));
  absl::MutexLock lock(&accepted_work_mu_);
  // Work accepted while we read may be missing from `rows`: keep them only
  // when nothing was accepted meanwhile.
  if (generation == accepted_work_generation_) {
    accepted_work_ = fresh;
    accepted_work_at_ = now;
  }
  return fresh;
}

void Service::ForgetAcceptedWork() {
  absl::MutexLock lock(&accepted_work_mu_);
  ++accepted_work_generation_;
  accepted_work_.reset();
}

absl::StatusOr<json> Service::ListPools(const Principal& p) {
  absl::Time now = clock_.Now();
  json out = json::array();
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    out = json::array();
    // ---- Workforce: standing and allocation (issue 6)
    std::shared_ptr<internal::EligibilityMemo> eligibility;
    TS_ASSIGN_OR_RETURN(auto pools, tx.ListPools(std::nullopt));
    TS_ASSIGN_OR_RETURN(auto accepted_by_pool, AcceptedWorkByPool(tx, now));
    TS_ASSIGN_OR_RETURN(auto my_work, tx.ListAnnotatorWork(p.id));
    absl::flat_hash_map<int64_t, const store::WorkTotals*> accepted, mine_by;
    for (const auto& w : *accepted_by_pool) accepted[w.pool_id.value] = &w;
    for (const auto& w : my_work) mine_by[w.pool_id.value] = &w;
    absl::flat_hash_map<int64_t, bool> owned;
    for (const auto& pool : pools) {
      bool mine = false;
      if (p.Has(Role::kAdmin)) {
        mine = true;
      } else if (p.Has(Role::kRequester)) {
        auto it = owned.find(pool.project_id.value);
        if (it == owned.end()) {
          TS_ASSIGN_OR_RETURN(auto project, tx.GetProject(pool.project_id));
          it = owned.emplace(pool.project_id.value, project.owner_id == p.id)
                   .first;
        }
        mine = it->second;
      }
      bool worker = p.Has(Role::kAnnotator) || p.Has(Role::kReviewer);
      if (!mine && !(worker && ReleasedToWorkers(pool))) continue;
      json j = PoolJson(pool);
      std::vector<std::string> reasons;
      if (auto closed = ClosedReason(pool, now)) reasons.push_back(*closed);
      if (!p.Has(Role::kAnnotator)) {
        reasons.push_back("you do not have the annotator role");
      }
      // ---- Workforce: standing and allocation (issue 6): eligibility.
      if (p.Has(Role::kAnnotator) && reasons.empty()) {
        TS_ASSIGN_OR_RETURN(auto why,
                            PoolEligibility(tx, p, pool, now, eligibility));
        reasons.insert(reasons.end(), why.begin(), why.end());
      }
      if (p.Has(Role::kAnnotator) && reasons.empty()) {
        TS_ASSIGN_OR_RETURN(auto active, tx.FindActiveClaim(p.id, pool.id));
        j["active_claim_id"] = active ? json(active->id.value) : json(nullptr);
      }
      j["can_claim"] = reasons.empty();
      j["reasons"] = reasons;
      j["owned"] = mine;
      json estimate = nullptr;
      if (auto it = accepted.find(pool.id.value);
          it != accepted.end() && it->second->accepted > 0 &&
          it->second->accepted_active_seconds > 0) {
        // price x 3600 / (active seconds / accepted submissions).
        const __int128 num = static_cast<__int128>(pool.price.amount_minor) *
                             3600 * it->second->accepted;
        const __int128 den = it->second->accepted_active_seconds;
        estimate =
            MoneyToJson({static_cast<int64_t>((2 * num + den) / (2 * den)),
                         pool.price.currency});
      }
      j["hourly_estimate"] = std::move(estimate);
      auto own = mine_by.find(pool.id.value);
      j["my_work"] = MyWorkJson(own == mine_by.end() ? nullptr : own->second);
      out.push_back(std::move(j));
    }
    return absl::OkStatus();
  }));
  return json{{"pools", out}};
}

// -------------------------------------------------------------------- work

template <typename T>
T Service::RunWork(const WriteWork<T>& work) {
  return work.finish(Write(work.run));
}

template <typename T>
bool Service::RunWorkAsync(WriteWork<T> work, Then<T> then) {
  return store_.RunWriteAsync(
      std::move(work.run), [finish = std::move(work.finish),
                            then = std::move(then)](absl::Status status) {
        then([finish, status = std::move(status)]() { return finish(status); });
      });
}

Service::WriteWork<absl::StatusOr<std::optional<ClaimResult>>>
Service::ClaimWork(const Principal& p, PoolId pool_id) {
  auto draft = std::make_shared<ClaimDraft>();
  const absl::Time now = clock_.Now();
  return {[this, p, pool_id, now, draft](Tx& tx) -> absl::Status {
            *draft = {};
            return ClaimInTx(tx, p, pool_id, now, *draft);
          },
          [draft](absl::Status status)
              -> absl::StatusOr<std::optional<ClaimResult>> {
            TS_RETURN_IF_ERROR(status);
            if (!draft->claimed) return std::nullopt;
            return ClaimResultOf(std::move(*draft));
          }};
}

absl::StatusOr<std::optional<ClaimResult>> Service::Claim(const Principal& p,
                                                          PoolId pool_id) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kAnnotator));
  return RunWork(ClaimWork(p, pool_id));
}

bool Service::ClaimAsync(
    const Principal& p, PoolId pool_id,
    Then<absl::StatusOr<std::optional<ClaimResult>>> then) {
  if (absl::Status s = RequireRole(p, Role::kAnnotator); !s.ok()) {
    then([s] { return s; });
    return true;
  }
  return RunWorkAsync(ClaimWork(p, pool_id), std::move(then));
}

ClaimResult Service::ClaimResultOf(ClaimDraft draft) {
  return ClaimResult{
      {{"claim", ClaimJson(*draft.claimed)}, {"task", std::move(draft.task)}},
      draft.resumed};
}

absl::Status Service::ClaimInTx(Tx& tx, const Principal& p, PoolId pool_id,
                                absl::Time now, ClaimDraft& out) {
  TS_ASSIGN_OR_RETURN(domain::Pool pool, tx.GetPool(pool_id));
  if (!ReleasedToWorkers(pool)) return NotFound("pool");
  if (auto reason = ClosedReason(pool, now)) {
    return FailedPrecondition(*reason);
  }
  TS_ASSIGN_OR_RETURN(auto active, tx.FindActiveClaim(p.id, pool_id));
  if (active) {
    if (active->expires_at > now) {
      TS_ASSIGN_OR_RETURN(domain::Task task, tx.GetTask(active->task_id));
      TS_ASSIGN_OR_RETURN(out.task, ClaimedTaskJson(tx, task));
      out.claimed = *active;
      out.resumed = true;
      return absl::OkStatus();
    }
    // The lease ran out and the sweeper has not seen it yet.
    TS_RETURN_IF_ERROR(tx.UpdateClaimState(active->id, ClaimState::kActive,
                                           ClaimState::kExpired));
    TS_RETURN_IF_ERROR(tx.AddOpenSlots(active->task_id, +1));
    TS_RETURN_IF_ERROR(Audit(tx, p.id, "claim.expire", "claim",
                             active->id.value, {{"state", "active"}},
                             {{"state", "expired"}}, now));
  }
  // ---- Workforce: standing and allocation (issue 6): eligibility and the
  // policy branch (gold check, priority, exploration) pick the task.
  TS_ASSIGN_OR_RETURN(Allocation pick, Allocate(tx, p, pool, now));
  std::optional<TaskId> task_id = pick.task;
  if (!task_id) return absl::OkStatus();
  if (pick.consume_slot) TS_RETURN_IF_ERROR(tx.AddOpenSlots(*task_id, -1));
  domain::Claim claim;
  claim.task_id = *task_id;
  claim.pool_id = pool_id;
  claim.annotator_id = p.id;
  claim.state = ClaimState::kActive;
  claim.created_at = now;
  claim.expires_at = now + absl::Seconds(pool.lease_seconds);
  // ---- Workforce: standing and allocation (issue 6): why this claim.
  claim.reason_json = pick.reason.dump();
  auto id = tx.InsertClaim(claim);
  if (id.status().code() == absl::StatusCode::kAlreadyExists) {
    // A concurrent claim by the same annotator won the race: retry.
    return absl::AbortedError("concurrent claim");
  }
  TS_RETURN_IF_ERROR(id.status());
  claim.id = *id;
  TS_ASSIGN_OR_RETURN(domain::Task task, tx.GetTask(*task_id));
  TS_ASSIGN_OR_RETURN(out.task, ClaimedTaskJson(tx, task));
  TS_RETURN_IF_ERROR(Audit(tx, p.id, "claim.create", "claim", claim.id.value,
                           nullptr, {{"task_id", task_id->value}}, now));
  out.claimed = std::move(claim);
  out.resumed = false;
  return absl::OkStatus();
}

// What a submit (and the claim after it, with claim_next) works on, shared
// by its transaction and the making of its outcome.
struct Service::SubmitState {
  json body;        // owned here by SubmitAsync; Submit's caller keeps its own
  WorkBody work{};  // points into the request body
  std::string idempotency_key;
  bool claim_next = false;
  absl::Time now;
  SubmitDraft submitted;
  ClaimDraft next;
  absl::Status next_status;
};

Service::WriteWork<absl::StatusOr<json>> Service::SubmitWork(
    const Principal& p, ClaimId claim_id, std::shared_ptr<SubmitState> state) {
  state->now = clock_.Now();
  auto run = [this, p, claim_id, st = state](Tx& tx) -> absl::Status {
    st->submitted = {};
    st->next = {};
    st->next_status = absl::OkStatus();
    TS_RETURN_IF_ERROR(SubmitInTx(tx, p, claim_id, *st->work.result,
                                  st->work.active_seconds, st->idempotency_key,
                                  st->now, st->submitted));
    if (!st->claim_next) return absl::OkStatus();
    const PoolId pool =
        st->submitted.created
            ? st->submitted.created->first.pool_id
            : PoolId(st->submitted.replayed.value("pool_id", int64_t{0}));
    // The claim runs in a savepoint: when it fails, its own changes are
    // undone and the submit still commits.
    st->next_status = tx.Nested([&](Tx& nested) {
      return ClaimInTx(nested, p, pool, st->now, st->next);
    });
    // A lost race (PostgreSQL): run the whole transaction again.
    if (absl::IsAborted(st->next_status)) return st->next_status;
    return absl::OkStatus();
  };
  auto finish = [st = state](absl::Status status) -> absl::StatusOr<json> {
    TS_RETURN_IF_ERROR(status);
    json out = SubmitJsonOf(std::move(st->submitted));
    if (!st->claim_next) return out;
    if (!st->next_status.ok()) {
      out["next"] = nullptr;
      out["next_reason"] = std::string(st->next_status.message());
    } else if (!st->next.claimed) {
      out["next"] = nullptr;
      out["next_reason"] = "no task is left for you in this pool";
    } else {
      out["next"] = ClaimResultOf(std::move(st->next)).body;
    }
    return out;
  };
  return {std::move(run), std::move(finish)};
}

absl::Status Service::PrepareSubmit(const Principal& p, const json& body,
                                    absl::string_view idempotency_key,
                                    bool claim_next, SubmitState& state) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kAnnotator));
  TS_ASSIGN_OR_RETURN(state.work, ParseWorkBody(body, idempotency_key));
  state.idempotency_key = std::string(idempotency_key);
  state.claim_next = claim_next;
  return absl::OkStatus();
}

absl::StatusOr<json> Service::SubmitNow(const Principal& p, ClaimId claim_id,
                                        const json& body,
                                        absl::string_view idempotency_key,
                                        bool claim_next) {
  auto state = std::make_shared<SubmitState>();
  TS_RETURN_IF_ERROR(
      PrepareSubmit(p, body, idempotency_key, claim_next, *state));
  return RunWork(SubmitWork(p, claim_id, std::move(state)));
}

absl::StatusOr<json> Service::Submit(const Principal& p, ClaimId claim_id,
                                     const json& body,
                                     absl::string_view idempotency_key) {
  return SubmitNow(p, claim_id, body, idempotency_key, /*claim_next=*/false);
}

json Service::SubmitJsonOf(SubmitDraft draft) {
  if (!draft.created) return std::move(draft.replayed);
  return SubmissionJson(draft.created->first, {draft.created->second});
}

absl::Status Service::SubmitInTx(Tx& tx, const Principal& p, ClaimId claim_id,
                                 const json& result,
                                 std::optional<int64_t> active_seconds,
                                 absl::string_view idempotency_key,
                                 absl::Time now, SubmitDraft& out) {
  auto claim = tx.GetClaim(claim_id);
  if (!claim.ok() || claim->annotator_id != p.id) return NotFound("claim");
  if (claim->state == ClaimState::kSubmitted) {
    TS_ASSIGN_OR_RETURN(auto existing, tx.FindSubmissionByClaim(claim_id));
    TS_ASSIGN_OR_RETURN(auto rounds, tx.ListRounds(existing->id));
    if (!idempotency_key.empty() && !rounds.empty() &&
        rounds[0].idempotency_key == idempotency_key) {
      out.replayed = SubmissionJson(*existing, rounds);
      out.replayed["replayed"] = true;
      return absl::OkStatus();
    }
    return Conflict("this claim was already submitted");
  }
  if (claim->state != ClaimState::kActive || claim->expires_at <= now) {
    return FailedPrecondition(absl::StrCat(
        "the lease on this task has ended (claim is ",
        claim->state == ClaimState::kActive ? "expired"
                                            : domain::ToString(claim->state),
        "); claim a new task"));
  }
  TS_ASSIGN_OR_RETURN(domain::Pool pool, tx.GetPool(claim->pool_id));
  TS_ASSIGN_OR_RETURN(domain::Task task, tx.GetTask(claim->task_id));
  TS_RETURN_IF_ERROR(
      domain::ValidateResult(pool.task_type, ParseStored(pool.config_json),
                             ParseStored(task.data_json), result, "result"));
  TS_RETURN_IF_ERROR(tx.UpdateClaimState(claim_id, ClaimState::kActive,
                                         ClaimState::kSubmitted));
  domain::Submission s;
  s.claim_id = claim_id;
  s.task_id = claim->task_id;
  s.pool_id = claim->pool_id;
  s.annotator_id = p.id;
  s.state = SubmissionState::kPendingReview;
  s.round = 1;
  s.created_at = s.updated_at = now;
  TS_ASSIGN_OR_RETURN(s.id, tx.InsertSubmission(s));
  domain::Round r;
  r.submission_id = s.id;
  r.round = 1;
  r.result_json = result.dump();
  r.active_seconds = active_seconds.value_or(0);
  r.idempotency_key = std::string(idempotency_key);
  r.submitted_at = now;
  TS_RETURN_IF_ERROR(tx.InsertRound(r));
  // ---- Workforce: standing and allocation (issue 6): grade gold checks.
  TS_RETURN_IF_ERROR(RecordGoldCheck(tx, pool, task, s, result, now));
  // ---- Workforce: dynamic overlap and simulation (issue 6)
  TS_RETURN_IF_ERROR(
      internal::ExtendOverlapIfUnsure(tx, pool, s.task_id, now).status());
  TS_RETURN_IF_ERROR(Audit(tx, p.id, "submission.create", "submission",
                           s.id.value, {{"claim_id", claim_id.value}},
                           {{"state", "pending_review"}, {"round", 1}}, now));
  out.created.emplace(std::move(s), std::move(r));
  return absl::OkStatus();
}

absl::StatusOr<json> Service::SubmitAndClaimNext(
    const Principal& p, ClaimId claim_id, const json& body,
    absl::string_view idempotency_key) {
  // One transaction, so one commit (and one fsync) per task in the web
  // app's loop.
  return SubmitNow(p, claim_id, body, idempotency_key, /*claim_next=*/true);
}

bool Service::SubmitAsync(const Principal& p, ClaimId claim_id, json body,
                          std::string idempotency_key, bool claim_next,
                          Then<absl::StatusOr<json>> then) {
  auto state = std::make_shared<SubmitState>();
  state->body = std::move(body);
  if (absl::Status refused =
          PrepareSubmit(p, state->body, idempotency_key, claim_next, *state);
      !refused.ok()) {
    then([refused] { return refused; });
    return true;
  }
  return RunWorkAsync(SubmitWork(p, claim_id, std::move(state)),
                      std::move(then));
}

absl::Status Service::Release(const Principal& p, ClaimId claim_id) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kAnnotator));
  absl::Time now = clock_.Now();
  return Write([&](Tx& tx) -> absl::Status {
    auto claim = tx.GetClaim(claim_id);
    if (!claim.ok() || claim->annotator_id != p.id) return NotFound("claim");
    TS_RETURN_IF_ERROR(
        domain::NextClaimState(claim->state, ClaimEvent::kRelease).status());
    TS_RETURN_IF_ERROR(tx.UpdateClaimState(claim_id, ClaimState::kActive,
                                           ClaimState::kReleased));
    TS_RETURN_IF_ERROR(tx.AddOpenSlots(claim->task_id, +1));
    return Audit(tx, p.id, "claim.release", "claim", claim_id.value,
                 {{"state", "active"}}, {{"state", "released"}}, now);
  });
}

absl::StatusOr<json> Service::Revise(const Principal& p, SubmissionId id,
                                     const json& body,
                                     absl::string_view idempotency_key) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kAnnotator));
  TS_ASSIGN_OR_RETURN(WorkBody work, ParseWorkBody(body, idempotency_key));
  const json* result = work.result;
  std::optional<int64_t> active_seconds = work.active_seconds;
  absl::Time now = clock_.Now();
  json out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    auto s = tx.GetSubmission(id);
    if (!s.ok() || s->annotator_id != p.id) return NotFound("submission");
    TS_ASSIGN_OR_RETURN(auto rounds, tx.ListRounds(id));
    if (!idempotency_key.empty() && !rounds.empty() &&
        rounds.back().idempotency_key == idempotency_key && rounds.size() > 1) {
      out = SubmissionJson(*s, rounds);
      out["replayed"] = true;
      return absl::OkStatus();
    }
    TS_ASSIGN_OR_RETURN(SubmissionState next,
                        domain::NextSubmissionState(
                            s->state, SubmissionEvent::kResubmit, s->round, 0));
    TS_ASSIGN_OR_RETURN(domain::Pool pool, tx.GetPool(s->pool_id));
    TS_ASSIGN_OR_RETURN(domain::Task task, tx.GetTask(s->task_id));
    TS_RETURN_IF_ERROR(
        domain::ValidateResult(pool.task_type, ParseStored(pool.config_json),
                               ParseStored(task.data_json), *result, "result"));
    s->state = next;
    s->round += 1;
    s->reviewer_id.reset();
    s->review_expires_at.reset();
    s->updated_at = now;
    TS_RETURN_IF_ERROR(tx.UpdateSubmission(*s));
    domain::Round r;
    r.submission_id = id;
    r.round = s->round;
    r.result_json = result->dump();
    r.active_seconds = active_seconds.value_or(0);
    r.idempotency_key = std::string(idempotency_key);
    r.submitted_at = now;
    TS_RETURN_IF_ERROR(tx.InsertRound(r));
    rounds.push_back(r);
    TS_RETURN_IF_ERROR(Audit(tx, p.id, "submission.revise", "submission",
                             id.value, {{"state", "returned"}},
                             {{"state", "pending_review"}, {"round", s->round}},
                             now));
    out = SubmissionJson(*s, rounds);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<json> Service::GetSubmission(const Principal& p,
                                            SubmissionId id) {
  json out;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::Submission s, tx.GetSubmission(id));
    bool allowed = s.annotator_id == p.id || p.Has(Role::kAdmin) ||
                   (s.reviewer_id && *s.reviewer_id == p.id);
    if (!allowed && p.Has(Role::kRequester)) {
      TS_ASSIGN_OR_RETURN(domain::Pool pool, tx.GetPool(s.pool_id));
      allowed = OwnedProject(tx, p, pool.project_id).ok();
    }
    if (!allowed) return NotFound("submission");
    TS_ASSIGN_OR_RETURN(auto rounds, tx.ListRounds(id));
    TS_ASSIGN_OR_RETURN(domain::Task task, tx.GetTask(s.task_id));
    out = SubmissionJson(s, rounds);
    out["task"] = TaskJson(task);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<json> Service::ListMySubmissions(
    const Principal& p, std::optional<std::string> state) {
  store::SubmissionFilter f;
  f.annotator = p.id;
  f.limit = 500;
  if (state) {
    TS_ASSIGN_OR_RETURN(f.state, domain::ParseSubmissionState(*state, "state"));
  }
  json out = json::array();
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto subs, tx.ListSubmissions(f));
    for (const auto& s : subs) {
      TS_ASSIGN_OR_RETURN(auto rounds, tx.ListRounds(s.id));
      out.push_back(SubmissionJson(s, rounds));
    }
    return absl::OkStatus();
  }));
  return json{{"submissions", out}};
}

absl::StatusOr<json> Service::Earnings(const Principal& p) {
  json balances = json::array();
  json entries = json::array();
  json pools = json::array();
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    balances = json::array();
    entries = json::array();
    pools = json::array();
    TS_ASSIGN_OR_RETURN(auto work, tx.ListAnnotatorWork(p.id));
    if (!work.empty()) {
      TS_ASSIGN_OR_RETURN(auto all_pools, tx.ListPools(std::nullopt));
      absl::flat_hash_map<int64_t, const domain::Pool*> by_id;
      for (const auto& pool : all_pools) by_id[pool.id.value] = &pool;
      for (const auto& w : work) {
        auto it = by_id.find(w.pool_id.value);
        if (w.accepted == 0 || it == by_id.end()) continue;
        const domain::Pool& pool = *it->second;
        // Prices never change once a pool exists, so accepted x price is
        // what the ledger paid.
        Money earned{w.accepted * pool.price.amount_minor, pool.price.currency};
        pools.push_back(
            {{"pool_id", pool.id.value},
             {"pool_name", pool.name},
             {"accepted", w.accepted},
             {"earned", MoneyToJson(earned)},
             {"active_seconds", w.accepted_active_seconds},
             {"hourly",
              w.accepted_active_seconds > 0
                  ? MoneyToJson({PerHourMinor(earned.amount_minor,
                                              w.accepted_active_seconds),
                                 earned.currency})
                  : json(nullptr)}});
      }
    }
    // Workforce: appeals, floor, flags, records (issue 6): floor top-ups.
    TS_RETURN_IF_ERROR(internal::AddFloorTopupsToEarnings(tx, p.id, pools));
    TS_ASSIGN_OR_RETURN(auto accounts,
                        tx.ListAccounts(AccountKind::kAnnotator, p.id.value));
    for (const auto& [account, currency] : accounts) {
      TS_ASSIGN_OR_RETURN(int64_t balance, tx.Balance(account));
      balances.push_back(MoneyToJson({balance, currency}));
      TS_ASSIGN_OR_RETURN(auto list, tx.ListEntries(account, 500));
      for (const auto& e : list) entries.push_back(EntryJson(e));
    }
    return absl::OkStatus();
  }));
  // The main balance: CNY, or the only currency earned in.
  json main = MoneyToJson({0, "CNY"});
  for (const json& b : balances) {
    if (b["currency"] == "CNY" || balances.size() == 1) main = b;
  }
  if (balances.empty()) balances.push_back(main);
  std::sort(entries.begin(), entries.end(), [](const json& a, const json& b) {
    return a["id"].get<int64_t>() > b["id"].get<int64_t>();
  });
  return json{{"balance", main},
              {"balances", balances},
              {"entries", entries},
              {"pools", pools}};
}

// ------------------------------------------------------------------ review

absl::StatusOr<std::optional<json>> Service::ClaimReview(const Principal& p,
                                                         PoolId pool_id) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kReviewer));
  absl::Time now = clock_.Now();
  std::optional<json> out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    out.reset();
    TS_ASSIGN_OR_RETURN(domain::Pool pool, tx.GetPool(pool_id));
    if (!ReleasedToWorkers(pool)) return NotFound("pool");
    TS_ASSIGN_OR_RETURN(auto id,
                        tx.FindReviewableSubmission(pool_id, p.id, now));
    if (!id) return absl::OkStatus();
    TS_ASSIGN_OR_RETURN(domain::Submission s, tx.GetSubmission(*id));
    json before = {{"state", domain::ToString(s.state)}};
    s.state = SubmissionState::kInReview;
    s.reviewer_id = p.id;
    s.review_expires_at = now + absl::Seconds(pool.lease_seconds);
    s.updated_at = now;
    TS_RETURN_IF_ERROR(tx.UpdateSubmission(s));
    TS_ASSIGN_OR_RETURN(auto rounds, tx.ListRounds(s.id));
    TS_ASSIGN_OR_RETURN(domain::Task task, tx.GetTask(s.task_id));
    TS_RETURN_IF_ERROR(Audit(tx, p.id, "review.lease", "submission", s.id.value,
                             before, {{"state", "in_review"}}, now));
    json j = SubmissionJson(s, rounds);
    j["review_expires_at"] = Rfc3339(*s.review_expires_at);
    out = json{
        {"submission", j}, {"task", TaskJson(task)}, {"pool", PoolJson(pool)}};
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<json> Service::Review(const Principal& p, SubmissionId id,
                                     const json& body) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kReviewer));
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  TS_ASSIGN_OR_RETURN(std::string verdict_text,
                      RequiredString(body, "verdict"));
  TS_ASSIGN_OR_RETURN(Verdict verdict,
                      domain::ParseVerdict(verdict_text, "verdict"));
  json comments = body.value("comments", json::array());
  if (comments.is_null()) comments = json::array();
  TS_RETURN_IF_ERROR(domain::ValidateComments(comments, "comments"));
  if (verdict == Verdict::kRevise && comments.empty()) {
    return InvalidField("comments",
                        "a revise verdict needs at least one comment");
  }
  absl::Time now = clock_.Now();
  json out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    auto s = tx.GetSubmission(id);
    if (!s.ok()) return NotFound("submission");
    if (s->annotator_id == p.id) {
      return PermissionDenied("you cannot review your own work");
    }
    if (s->state != SubmissionState::kInReview || !s->reviewer_id ||
        *s->reviewer_id != p.id) {
      return FailedPrecondition(
          "lease this submission for review first (POST "
          "/api/v1/pools/{id}/review-claims)");
    }
    if (s->review_expires_at && *s->review_expires_at <= now) {
      return FailedPrecondition(
          "your review lease on this submission has ended; lease it again");
    }
    TS_ASSIGN_OR_RETURN(domain::Pool pool, tx.GetPool(s->pool_id));
    SubmissionEvent event =
        verdict == Verdict::kAccept   ? SubmissionEvent::kAccept
        : verdict == Verdict::kRevise ? SubmissionEvent::kRevise
                                      : SubmissionEvent::kReject;
    TS_ASSIGN_OR_RETURN(SubmissionState next,
                        domain::NextSubmissionState(s->state, event, s->round,
                                                    pool.max_rounds));
    // The anchored box index must exist in the reviewed result.
    TS_ASSIGN_OR_RETURN(auto rounds, tx.ListRounds(id));
    if (rounds.empty()) return absl::InternalError("submission has no rounds");
    json reviewed = ParseStored(rounds.back().result_json);
    for (size_t i = 0; i < comments.size(); ++i) {
      const json& anchor = comments[i].value("anchor", json());
      if (anchor.is_object() && anchor.contains("box")) {
        size_t n = reviewed.value("boxes", json::array()).size();
        if (anchor["box"].get<int64_t>() >= static_cast<int64_t>(n)) {
          return InvalidField(absl::StrCat("comments[", i, "].anchor.box"),
                              absl::StrCat("the result has ", n, " boxes"));
        }
      }
    }
    json before = {{"state", domain::ToString(s->state)}, {"round", s->round}};
    domain::Round& r = rounds.back();
    r.verdict = verdict;
    r.reviewer_id = p.id;
    r.comments_json = comments.dump();
    r.reviewed_at = now;
    TS_RETURN_IF_ERROR(tx.UpdateRound(r));
    s->state = next;
    s->review_expires_at.reset();
    s->updated_at = now;
    if (next == SubmissionState::kAccepted) s->first_pass = s->round == 1;
    if (next == SubmissionState::kRejected) {
      TS_RETURN_IF_ERROR(tx.AddOpenSlots(s->task_id, +1));
    }
    TS_RETURN_IF_ERROR(tx.UpdateSubmission(*s));
    TS_RETURN_IF_ERROR(
        Audit(tx, p.id, absl::StrCat("review.", domain::ToString(verdict)),
              "submission", id.value, before,
              {{"state", domain::ToString(next)}, {"round", s->round}}, now));
    // The payment last: it locks the project's budget account until the
    // commit, and every accept in the project waits for that lock.
    if (next == SubmissionState::kAccepted && pool.price.amount_minor > 0) {
      absl::StatusOr<int64_t> paid = internal::PayFromProjectBudget(
          tx, pool.project_id, s->annotator_id, pool.price, "task_payment", id,
          absl::StrCat("accepted submission ", id.value, " in pool ",
                       pool.id.value),
          now);
      if (paid.status().code() == absl::StatusCode::kFailedPrecondition) {
        return FailedPrecondition(
            "the project's budget cannot pay for this task; the requester "
            "must add budget before work can be accepted");
      }
      TS_RETURN_IF_ERROR(paid.status());
    }
    out = SubmissionJson(*s, rounds);
    return absl::OkStatus();
  }));
  ForgetAcceptedWork();  // an accept changes the pools' hourly estimates
  return out;
}

// --------------------------------------------------------- requester views

absl::StatusOr<json> Service::PoolStats(const Principal& p, PoolId id) {
  const absl::Time now = clock_.Now();
  json out;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::Pool pool, OwnedPool(tx, p, id));
    TS_ASSIGN_OR_RETURN(store::PoolStats s, tx.GetPoolStats(id));
    int64_t reviewed = s.accepted + s.rejected;
    out = {{"pool_id", id.value},
           {"tasks", s.tasks},
           {"open_slots", s.open_slots},
           {"active_claims", s.active_claims},
           {"in_review", s.pending_review},
           {"returned", s.returned},
           {"accepted", s.accepted},
           {"rejected", s.rejected},
           {"first_pass_rate",
            reviewed ? json(double(s.first_pass_accepted) / reviewed)
                     : json(nullptr)},
           {"cost", MoneyToJson({s.accepted * pool.price.amount_minor,
                                 pool.price.currency})}};
    // The last 48 clock hours, the current one last, empty hours included.
    constexpr int kHours = 48;
    const absl::Time hour_now =
        absl::FromUnixSeconds(absl::ToUnixSeconds(now) / 3600 * 3600);
    const absl::Time since = hour_now - absl::Hours(kHours - 1);
    TS_ASSIGN_OR_RETURN(auto hours, tx.ListPoolHours(id, since));
    json throughput = json::array();
    size_t next = 0;
    for (int i = 0; i < kHours; ++i) {
      const absl::Time start = since + absl::Hours(i);
      store::PoolHour h;
      while (next < hours.size() && hours[next].start < start) ++next;
      if (next < hours.size() && hours[next].start == start) h = hours[next];
      throughput.push_back({{"start", Rfc3339(start)},
                            {"submitted", h.submitted},
                            {"accepted", h.accepted}});
    }
    out["throughput"] = std::move(throughput);
    TS_ASSIGN_OR_RETURN(auto by_annotator, tx.ListAcceptedWorkByAnnotator(id));
    json hourly = json::array();
    const double unit = std::pow(10.0, MinorDigits(pool.price.currency));
    for (const auto& w : by_annotator) {
      if (w.accepted_active_seconds <= 0) continue;
      hourly.push_back(PerHourMinor(w.accepted * pool.price.amount_minor,
                                    w.accepted_active_seconds) /
                       unit);
    }
    out["hourly_earnings"] = std::move(hourly);
    TS_ASSIGN_OR_RETURN(auto budget, tx.FindAccount(AccountKind::kProject,
                                                    pool.project_id.value,
                                                    pool.price.currency));
    int64_t remaining = 0;
    if (budget) {
      TS_ASSIGN_OR_RETURN(remaining, tx.Balance(*budget));
    }
    out["budget_remaining"] = MoneyToJson({remaining, pool.price.currency});
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::string> Service::ExportJsonl(const Principal& p,
                                                 PoolId id) {
  std::string out;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_RETURN_IF_ERROR(OwnedPool(tx, p, id).status());
    store::SubmissionFilter f;
    f.pool = id;
    f.state = SubmissionState::kAccepted;
    f.limit = 1000;
    while (true) {
      TS_ASSIGN_OR_RETURN(auto subs, tx.ListSubmissions(f));
      if (subs.empty()) break;
      for (const auto& s : subs) {
        TS_ASSIGN_OR_RETURN(auto rounds, tx.ListRounds(s.id));
        TS_ASSIGN_OR_RETURN(domain::Task task, tx.GetTask(s.task_id));
        json line = {{"task_id", s.task_id.value},
                     {"submission_id", s.id.value},
                     {"annotator", absl::StrCat("a", s.annotator_id.value)},
                     {"round", s.round},
                     {"data", ParseStored(task.data_json)},
                     {"result", ParseStored(rounds.back().result_json)}};
        out += line.dump();
        out += '\n';
      }
      f.after_id = subs.back().id.value;
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::string> Service::TaskImage(const Principal& p,
                                               TaskId task_id) {
  std::string image;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    auto task = tx.GetTask(task_id);
    if (!task.ok()) return NotFound("task");
    bool allowed = p.Has(Role::kAdmin);
    if (!allowed && p.Has(Role::kRequester)) {
      TS_ASSIGN_OR_RETURN(domain::Pool pool, tx.GetPool(task->pool_id));
      allowed = OwnedProject(tx, p, pool.project_id).ok();
    }
    if (!allowed && p.Has(Role::kReviewer)) {
      // The reviewer holding a review lease on work for this task.
      store::SubmissionFilter f;
      f.task = task_id;
      f.state = SubmissionState::kInReview;
      TS_ASSIGN_OR_RETURN(auto subs, tx.ListSubmissions(f));
      for (const auto& s : subs) {
        allowed = allowed || (s.reviewer_id && *s.reviewer_id == p.id);
      }
      // Any reviewer may decide an open appeal of a rejection on the task.
      f.state = SubmissionState::kRejected;
      TS_ASSIGN_OR_RETURN(auto rejected, tx.ListSubmissions(f));
      for (const auto& s : rejected) {
        if (allowed) break;
        TS_ASSIGN_OR_RETURN(auto appeal, tx.FindAppealBySubmission(s.id));
        allowed = appeal && appeal->state == "open";
      }
    }
    if (!allowed && p.Has(Role::kAnnotator)) {
      // A live claim on the task, or work submitted for it.
      TS_ASSIGN_OR_RETURN(auto claims, tx.ListActiveClaims(p.id));
      for (const auto& c : claims) allowed = allowed || c.task_id == task_id;
      if (!allowed) {
        store::SubmissionFilter f;
        f.annotator = p.id;
        f.task = task_id;
        TS_ASSIGN_OR_RETURN(auto subs, tx.ListSubmissions(f));
        allowed = !subs.empty();
      }
    }
    if (!allowed) return NotFound("task");
    json data = ParseStored(task->data_json);
    if (!data.is_object() || !data.contains("image") ||
        !data["image"].is_string()) {
      return NotFound("task image");
    }
    image = data["image"].get<std::string>();
    return absl::OkStatus();
  }));
  return image;
}

// -------------------------------------------------------------------- jobs

absl::StatusOr<int> Service::ExpireLeases(int limit) {
  absl::Time now = clock_.Now();
  int n = 0;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    n = 0;
    TS_ASSIGN_OR_RETURN(auto expired, tx.ListExpiredClaims(now, limit));
    for (const auto& c : expired) {
      TS_RETURN_IF_ERROR(
          tx.UpdateClaimState(c.id, ClaimState::kActive, ClaimState::kExpired));
      TS_RETURN_IF_ERROR(tx.AddOpenSlots(c.task_id, +1));
      TS_RETURN_IF_ERROR(Audit(tx, std::nullopt, "claim.expire", "claim",
                               c.id.value, {{"state", "active"}},
                               {{"state", "expired"}}, now));
      ++n;
    }
    return absl::OkStatus();
  }));
  return n;
}

absl::StatusOr<int> Service::OpenDuePools() {
  absl::Time now = clock_.Now();
  int n = 0;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    n = 0;
    TS_ASSIGN_OR_RETURN(auto due, tx.ListDuePools(now));
    for (PoolId id : due) {
      TS_ASSIGN_OR_RETURN(domain::Pool pool, tx.GetPool(id));
      pool.state = PoolState::kOpen;
      TS_RETURN_IF_ERROR(tx.UpdatePool(pool));
      TS_RETURN_IF_ERROR(Audit(tx, std::nullopt, "pool.open", "pool", id.value,
                               {{"state", "draft"}}, {{"state", "open"}}, now));
      ++n;
    }
    return absl::OkStatus();
  }));
  return n;
}

}  // namespace tessera::service
