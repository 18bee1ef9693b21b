// The fairness guarantees (issue 6): appeals decided by a different reviewer,
// hourly-floor top-ups, guideline flags and signed portable work records.
#include "tessera/service/internal/fairness.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "tessera/base/clock.h"
#include "tessera/base/json_util.h"
#include "tessera/base/money.h"
#include "tessera/base/status.h"
#include "tessera/domain/workforce.h"
#include "tessera/service/internal/access.h"
#include "tessera/service/internal/views.h"
#include "tessera/service/record_signing.h"
#include "tessera/service/service.h"

namespace tessera::service {
namespace internal {

absl::StatusOr<int64_t> PayFromProjectBudget(
    store::Tx& tx, ProjectId project, UserId annotator, const Money& amount,
    absl::string_view kind, std::optional<SubmissionId> submission,
    const std::string& memo, absl::Time now) {
  if (amount.amount_minor <= 0) {
    return absl::InternalError("a payment must be positive");
  }
  TS_ASSIGN_OR_RETURN(AccountId from,
                      tx.EnsureAccount(domain::AccountKind::kProject,
                                       project.value, amount.currency));
  // Locked: two accepts paid from one budget must not both see enough.
  TS_ASSIGN_OR_RETURN(int64_t balance, tx.LockBalance(from));
  if (balance < amount.amount_minor) {
    return FailedPrecondition(
        "the project's budget cannot pay this; the requester must add "
        "budget first");
  }
  TS_ASSIGN_OR_RETURN(AccountId to,
                      tx.EnsureAccount(domain::AccountKind::kAnnotator,
                                       annotator.value, amount.currency));
  std::vector<domain::LedgerEntry> journal(2);
  journal[0].account_id = from;
  journal[0].amount = {-amount.amount_minor, amount.currency};
  journal[1].account_id = to;
  journal[1].amount = amount;
  for (auto& e : journal) {
    e.kind = std::string(kind);
    e.submission_id = submission;
    e.memo = memo;
    e.created_at = now;
  }
  return tx.InsertJournal(std::move(journal));
}

absl::Status AddFloorTopupsToEarnings(store::Tx& tx, UserId annotator,
                                      nlohmann::json& pools) {
  TS_ASSIGN_OR_RETURN(auto topups, tx.ListFloorTopups(std::nullopt, annotator));
  for (nlohmann::json& entry : pools) {
    const int64_t pool_id = entry.value("pool_id", int64_t{0});
    const nlohmann::json& earned = entry["earned"];
    Money sum{0, earned.value("currency", std::string("CNY"))};
    for (const auto& t : topups) {
      if (t.pool_id.value == pool_id && t.amount.currency == sum.currency) {
        sum.amount_minor += t.amount.amount_minor;
      }
    }
    entry["topups"] = MoneyToJson(sum);
    const int64_t seconds = entry.value("active_seconds", int64_t{0});
    if (seconds > 0) {
      const __int128 num =
          static_cast<__int128>(earned.value("amount_minor", int64_t{0}) +
                                sum.amount_minor) *
          3600;
      entry["hourly_with_topups"] = MoneyToJson(
          {static_cast<int64_t>((2 * num + seconds) / (2 * seconds)),
           sum.currency});
    } else {
      entry["hourly_with_topups"] = nullptr;
    }
  }
  return absl::OkStatus();
}

}  // namespace internal

namespace {

using domain::Role;
using domain::SubmissionState;
using internal::Audit;
using internal::OwnedPool;
using internal::ParseStored;
using internal::RequireRole;
using store::Tx;

constexpr size_t kMaxNote = 2000;
constexpr size_t kMaxSection = 200;
constexpr absl::string_view kRecordKeyName = "records";

json OptTime(const std::optional<absl::Time>& t) {
  return t ? json(Rfc3339(*t)) : json(nullptr);
}

json AppealJson(const store::AppealRow& a) {
  return {{"id", a.id},
          {"submission_id", a.submission_id.value},
          {"annotator_id", a.annotator_id.value},
          {"note", a.note},
          {"state", a.state},
          {"decided_by", a.decided_by ? json(a.decided_by->value) : json()},
          {"decision_note",
           a.decision_note ? json(*a.decision_note) : json(nullptr)},
          {"created_at", Rfc3339(a.created_at)},
          {"decided_at", OptTime(a.decided_at)}};
}

// Who rejected the submission: the reviewer of its latest reject verdict.
std::optional<UserId> Rejecter(const std::vector<domain::Round>& rounds) {
  for (auto it = rounds.rbegin(); it != rounds.rend(); ++it) {
    if (it->verdict == domain::Verdict::kReject) return it->reviewer_id;
  }
  return std::nullopt;
}

// A required, non-blank note of at most kMaxNote characters.
absl::StatusOr<std::string> Note(const json& body, absl::string_view field,
                                 bool required) {
  TS_ASSIGN_OR_RETURN(auto note, OptionalString(body, field));
  std::string text(absl::StripAsciiWhitespace(note.value_or("")));
  if (required && text.empty()) return InvalidField(field, "must not be blank");
  if (text.size() > kMaxNote) {
    return InvalidField(
        field, absl::StrCat("must be at most ", kMaxNote, " characters"));
  }
  return text;
}

// Monday 00:00 UTC of the ISO week containing `t`.
absl::Time WeekStart(absl::Time t) {
  int64_t seconds = absl::ToUnixSeconds(t);
  int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
  int64_t monday = days - (((days + 3) % 7) + 7) % 7;  // 1970-01-05: Monday
  return absl::FromUnixSeconds(monday * 86400);
}

// floor x seconds / 3600, rounded half up to the minor unit.
int64_t FloorDue(int64_t floor_minor, int64_t seconds) {
  const __int128 num = static_cast<__int128>(floor_minor) * seconds;
  return static_cast<int64_t>((2 * num + 3600) / 7200);
}

// Headings of a markdown text ("# Title" .. "###### Title"), trimmed.
std::vector<std::string> GuidelineSections(const std::string& guidelines) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(guidelines, '\n')) {
    line = absl::StripLeadingAsciiWhitespace(line);
    size_t hashes = 0;
    while (hashes < line.size() && line[hashes] == '#') ++hashes;
    if (hashes == 0 || hashes > 6 || hashes >= line.size() ||
        line[hashes] != ' ') {
      continue;
    }
    std::string heading(absl::StripAsciiWhitespace(line.substr(hashes)));
    if (!heading.empty()) out.push_back(heading);
  }
  return out;
}

// Result of settling one pool's week.
struct Settled {
  json topups = json::array();
  json unpaid = json::array();
  int credited = 0;
};

absl::StatusOr<Settled> SettleWeek(Tx& tx, const domain::Pool& pool,
                                   const Money& floor, absl::Time week_start,
                                   absl::Time now,
                                   std::optional<UserId> actor) {
  Settled out;
  const absl::Time week_end = week_start + absl::Hours(24 * 7);
  TS_ASSIGN_OR_RETURN(auto existing, tx.ListFloorTopups(pool.id, std::nullopt));
  absl::flat_hash_map<int64_t, const store::FloorTopupRow*> done;
  for (const auto& t : existing) {
    if (t.week_start == week_start) done[t.annotator_id.value] = &t;
  }
  TS_ASSIGN_OR_RETURN(
      auto work, tx.ListAcceptedWorkInPeriod(pool.id, week_start, week_end));
  for (const store::WorkTotals& w : work) {
    const int64_t paid = w.accepted * pool.price.amount_minor;
    const int64_t due = FloorDue(floor.amount_minor, w.accepted_active_seconds);
    json entry = {{"annotator_id", w.annotator_id.value},
                  {"week_start", Rfc3339(week_start)},
                  {"accepted", w.accepted},
                  {"active_seconds", w.accepted_active_seconds},
                  {"paid", MoneyToJson({paid, pool.price.currency})},
                  {"due", MoneyToJson({due, pool.price.currency})}};
    if (auto it = done.find(w.annotator_id.value); it != done.end()) {
      entry["amount"] = MoneyToJson(it->second->amount);
      entry["journal_id"] = it->second->journal_id;
      entry["created_at"] = Rfc3339(it->second->created_at);
      entry["settled_now"] = false;
      out.topups.push_back(std::move(entry));
      continue;
    }
    if (due <= paid) continue;
    const Money amount{due - paid, pool.price.currency};
    auto journal = internal::PayFromProjectBudget(
        tx, pool.project_id, w.annotator_id, amount, "floor_topup",
        std::nullopt,
        absl::StrCat(
            "hourly floor top-up for pool ", pool.id.value, ", week of ",
            absl::FormatTime("%Y-%m-%d", week_start, absl::UTCTimeZone())),
        now);
    if (!journal.ok()) {
      if (journal.status().code() != absl::StatusCode::kFailedPrecondition) {
        return journal.status();
      }
      entry["amount"] = MoneyToJson(amount);
      entry["reason"] = std::string(journal.status().message());
      out.unpaid.push_back(std::move(entry));
      continue;
    }
    store::FloorTopupRow row;
    row.pool_id = pool.id;
    row.annotator_id = w.annotator_id;
    row.week_start = week_start;
    row.amount = amount;
    row.journal_id = *journal;
    row.created_at = now;
    TS_RETURN_IF_ERROR(tx.InsertFloorTopup(row));
    entry["amount"] = MoneyToJson(amount);
    entry["journal_id"] = *journal;
    entry["created_at"] = Rfc3339(now);
    entry["settled_now"] = true;
    TS_RETURN_IF_ERROR(Audit(tx, actor, "floor.topup", "pool", pool.id.value,
                             nullptr, entry, now));
    out.topups.push_back(std::move(entry));
    ++out.credited;
  }
  return out;
}

// The pool's floor in its price currency, or why it cannot be settled.
absl::StatusOr<Money> PoolFloor(const domain::Pool& pool) {
  domain::WorkforceSettings w =
      domain::WorkforceOf(ParseStored(pool.config_json));
  if (!w.hourly_floor) {
    return FailedPrecondition("the pool has no hourly floor");
  }
  if (w.hourly_floor->currency != pool.price.currency) {
    return FailedPrecondition(
        "the hourly floor's currency differs from the pool's price currency");
  }
  return *w.hourly_floor;
}

// A profile's domains column: a JSON array of names, or a comma list.
std::vector<std::string> ProfileDomains(const std::string& text) {
  std::vector<std::string> out;
  json j = json::parse(text, nullptr, false);
  if (j.is_array()) {
    for (const json& d : j) {
      if (d.is_string()) out.push_back(d.get<std::string>());
    }
    return out;
  }
  for (absl::string_view d :
       absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(d));
  }
  return out;
}

}  // namespace

// ----------------------------------------------------------------- appeals

absl::StatusOr<json> Service::AppealSubmission(const Principal& p,
                                               SubmissionId id,
                                               const json& body) {
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  TS_ASSIGN_OR_RETURN(std::string note, Note(body, "note", true));
  const absl::Time now = clock_.Now();
  json out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    auto s = tx.GetSubmission(id);
    if (!s.ok() || s->annotator_id != p.id) return NotFound("submission");
    TS_ASSIGN_OR_RETURN(auto existing, tx.FindAppealBySubmission(id));
    if (existing) {
      return FailedPrecondition(
          absl::StrCat("this submission was already appealed (appeal ",
                       existing->id, ", ", existing->state, ")"));
    }
    if (s->state != SubmissionState::kRejected) {
      return FailedPrecondition(
          absl::StrCat("only a rejected submission can be appealed; this one "
                       "is ",
                       domain::ToString(s->state)));
    }
    store::AppealRow a;
    a.submission_id = id;
    a.annotator_id = p.id;
    a.note = note;
    a.state = "open";
    a.created_at = now;
    auto inserted = tx.InsertAppeal(a);
    if (inserted.status().code() == absl::StatusCode::kAlreadyExists) {
      return FailedPrecondition("this submission was already appealed");
    }
    TS_ASSIGN_OR_RETURN(a.id, std::move(inserted));
    out = AppealJson(a);
    return Audit(tx, p.id, "appeal.create", "appeal", a.id, nullptr, out, now);
  }));
  return out;
}

absl::StatusOr<json> Service::ListAppeals(const Principal& p,
                                          std::optional<std::string> state) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kReviewer));
  store::AppealFilter f;
  if (state) {
    if (*state != "open" && *state != "upheld" && *state != "denied") {
      return InvalidField("state", "must be open, upheld or denied");
    }
    f.state = *state;
  }
  f.limit = 500;
  json list = json::array();
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    list = json::array();
    TS_ASSIGN_OR_RETURN(auto appeals, tx.ListAppeals(f));
    for (const auto& a : appeals) {
      TS_ASSIGN_OR_RETURN(domain::Submission s,
                          tx.GetSubmission(a.submission_id));
      TS_ASSIGN_OR_RETURN(auto rounds, tx.ListRounds(s.id));
      TS_ASSIGN_OR_RETURN(domain::Task task, tx.GetTask(s.task_id));
      json j = AppealJson(a);
      j["submission"] =
          internal::SubmissionJson(s, rounds, /*with_reviewers=*/true);
      j["task"] = {{"id", task.id.value},
                   {"pool_id", task.pool_id.value},
                   {"data", ParseStored(task.data_json)}};
      std::optional<UserId> rejecter = Rejecter(rounds);
      j["rejected_by"] = nullptr;
      if (rejecter) {
        TS_ASSIGN_OR_RETURN(domain::User u, tx.GetUser(*rejecter));
        j["rejected_by"] = {{"id", u.id.value}, {"username", u.username}};
      }
      j["may_decide"] = a.state == "open" && p.id != a.annotator_id &&
                        (!rejecter || *rejecter != p.id);
      list.push_back(std::move(j));
    }
    return absl::OkStatus();
  }));
  return json{{"appeals", list}};
}

absl::StatusOr<json> Service::DecideAppeal(const Principal& p,
                                           int64_t appeal_id,
                                           const json& body) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kReviewer));
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  TS_ASSIGN_OR_RETURN(std::string decision, RequiredString(body, "decision"));
  if (decision != "uphold" && decision != "deny") {
    return InvalidField("decision", "must be uphold or deny");
  }
  TS_ASSIGN_OR_RETURN(std::string note, Note(body, "note", false));
  const bool uphold = decision == "uphold";
  const absl::Time now = clock_.Now();
  json out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    auto a = tx.GetAppeal(appeal_id);
    if (!a.ok()) return NotFound("appeal");
    TS_ASSIGN_OR_RETURN(domain::Submission s,
                        tx.GetSubmission(a->submission_id));
    TS_ASSIGN_OR_RETURN(auto rounds, tx.ListRounds(s.id));
    if (s.annotator_id == p.id) {
      return PermissionDenied("you cannot decide an appeal of your own work");
    }
    std::optional<UserId> rejecter = Rejecter(rounds);
    if (rejecter && *rejecter == p.id) {
      return PermissionDenied(
          "a reviewer other than the one who rejected the submission must "
          "decide its appeal");
    }
    if (a->state != "open") {
      return FailedPrecondition(
          absl::StrCat("the appeal was already decided (", a->state, ")"));
    }
    if (s.state != SubmissionState::kRejected) {
      return FailedPrecondition(
          absl::StrCat("the submission is no longer rejected (",
                       domain::ToString(s.state), ")"));
    }
    json payment = nullptr;
    if (uphold) {
      TS_ASSIGN_OR_RETURN(domain::Pool pool, tx.GetPool(s.pool_id));
      if (pool.price.amount_minor > 0) {
        TS_ASSIGN_OR_RETURN(
            int64_t journal,
            internal::PayFromProjectBudget(
                tx, pool.project_id, s.annotator_id, pool.price, "task_payment",
                s.id,
                absl::StrCat("appeal ", a->id, " upheld: accepted submission ",
                             s.id.value, " in pool ", pool.id.value),
                now));
        payment = {{"amount", MoneyToJson(pool.price)},
                   {"journal_id", journal},
                   {"kind", "task_payment"}};
      }
      // The rejection gave the task's slot back; take it again if nobody
      // has (otherwise the task ends with one answer more than its overlap).
      TS_ASSIGN_OR_RETURN(domain::Task task, tx.GetTask(s.task_id));
      if (task.open_slots > 0) {
        TS_RETURN_IF_ERROR(tx.AddOpenSlots(s.task_id, -1));
      }
      json before = {{"state", "rejected"}};
      s.state = SubmissionState::kAccepted;
      s.first_pass = false;
      s.review_expires_at.reset();
      s.updated_at = now;
      TS_RETURN_IF_ERROR(tx.UpdateSubmission(s));
      TS_RETURN_IF_ERROR(
          Audit(tx, p.id, "submission.reinstate", "submission", s.id.value,
                before, {{"state", "accepted"}, {"appeal_id", a->id}}, now));
    }
    a->state = uphold ? "upheld" : "denied";
    a->decided_by = p.id;
    a->decision_note = note;
    a->decided_at = now;
    TS_RETURN_IF_ERROR(tx.DecideAppeal(*a));
    out = AppealJson(*a);
    TS_RETURN_IF_ERROR(Audit(tx, p.id, absl::StrCat("appeal.", decision),
                             "appeal", a->id, {{"state", "open"}}, out, now));
    out["submission"] =
        internal::SubmissionJson(s, rounds, /*with_reviewers=*/true);
    out["payment"] = payment;
    return absl::OkStatus();
  }));
  ForgetAcceptedWork();  // an upheld appeal accepts work
  return out;
}

absl::StatusOr<json> Service::ListMyAppeals(const Principal& p) {
  store::AppealFilter f;
  f.annotator = p.id;
  f.limit = 500;
  json list = json::array();
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    list = json::array();
    TS_ASSIGN_OR_RETURN(auto appeals, tx.ListAppeals(f));
    for (const auto& a : appeals) {
      TS_ASSIGN_OR_RETURN(domain::Submission s,
                          tx.GetSubmission(a.submission_id));
      json j = AppealJson(a);
      j["submission_state"] = domain::ToString(s.state);
      j["pool_id"] = s.pool_id.value;
      j["task_id"] = s.task_id.value;
      list.push_back(std::move(j));
    }
    return absl::OkStatus();
  }));
  return json{{"appeals", list}};
}

// ------------------------------------------------------------ hourly floor

absl::StatusOr<json> Service::SettleFloor(const Principal& p, PoolId pool_id,
                                          absl::string_view week) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kRequester));
  absl::Time day;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%d", std::string(week), absl::UTCTimeZone(), &day,
                       &err)) {
    return InvalidField("week", "must be a date YYYY-MM-DD");
  }
  const absl::Time week_start = WeekStart(day);
  const absl::Time now = clock_.Now();
  if (week_start + absl::Hours(24 * 7) > now) {
    return FailedPrecondition(absl::StrCat(
        "the week of ",
        absl::FormatTime("%Y-%m-%d", week_start, absl::UTCTimeZone()),
        " has not ended; it can be settled from ",
        Rfc3339(week_start + absl::Hours(24 * 7))));
  }
  json out;
  absl::Status status;
  for (int attempt = 0; attempt < 2; ++attempt) {
    status = Write([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(domain::Pool pool, OwnedPool(tx, p, pool_id));
      TS_ASSIGN_OR_RETURN(Money floor, PoolFloor(pool));
      TS_ASSIGN_OR_RETURN(Settled settled,
                          SettleWeek(tx, pool, floor, week_start, now, p.id));
      out = {{"pool_id", pool.id.value},
             {"week_start", Rfc3339(week_start)},
             {"floor", MoneyToJson(floor)},
             {"topups", settled.topups},
             {"unpaid", settled.unpaid}};
      return absl::OkStatus();
    });
    // Another server settled the same week at the same time: read its rows.
    if (status.code() != absl::StatusCode::kAlreadyExists) break;
  }
  TS_RETURN_IF_ERROR(status);
  return out;
}

absl::StatusOr<int> Service::SettleEndedFloorWeeks(int weeks) {
  const absl::Time now = clock_.Now();
  const absl::Time current = WeekStart(now);
  std::vector<domain::Pool> pools;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(pools, tx.ListPools(std::nullopt));
    return absl::OkStatus();
  }));
  int credited = 0;
  absl::Status first_error;
  for (const domain::Pool& pool : pools) {
    auto floor = PoolFloor(pool);
    if (!floor.ok()) continue;
    for (int k = weeks; k >= 1; --k) {
      const absl::Time week_start = current - absl::Hours(24 * 7 * k);
      if (pool.created_at >= week_start + absl::Hours(24 * 7)) continue;
      int week_credited = 0;  // assigned, not added: the fn may run twice
      absl::Status s = Write([&](Tx& tx) -> absl::Status {
        TS_ASSIGN_OR_RETURN(
            Settled settled,
            SettleWeek(tx, pool, *floor, week_start, now, std::nullopt));
        week_credited = settled.credited;
        return absl::OkStatus();
      });
      if (s.ok()) credited += week_credited;
      // kAlreadyExists: another server settled it concurrently.
      if (!s.ok() && s.code() != absl::StatusCode::kAlreadyExists &&
          first_error.ok()) {
        first_error = s;
      }
    }
  }
  if (!first_error.ok()) return first_error;
  return credited;
}

// ------------------------------------------------------------------- flags

absl::StatusOr<json> Service::FlagTask(const Principal& p, TaskId task_id,
                                       const json& body) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kAnnotator));
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  TS_ASSIGN_OR_RETURN(std::string section_raw, RequiredString(body, "section"));
  std::string section(absl::StripAsciiWhitespace(section_raw));
  if (section.empty()) return InvalidField("section", "must not be blank");
  if (section.size() > kMaxSection) {
    return InvalidField("section", absl::StrCat("must be at most ", kMaxSection,
                                                " characters"));
  }
  TS_ASSIGN_OR_RETURN(std::string note, Note(body, "note", false));
  const absl::Time now = clock_.Now();
  json out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    auto task = tx.GetTask(task_id);
    if (!task.ok()) return NotFound("task");
    // Only the caller's own work: an active claim or a submission.
    bool mine = false;
    TS_ASSIGN_OR_RETURN(auto claims, tx.ListActiveClaims(p.id));
    for (const auto& c : claims) mine = mine || c.task_id == task_id;
    if (!mine) {
      store::SubmissionFilter f;
      f.annotator = p.id;
      f.task = task_id;
      f.limit = 1;
      TS_ASSIGN_OR_RETURN(auto subs, tx.ListSubmissions(f));
      mine = !subs.empty();
    }
    if (!mine) return NotFound("task");
    TS_ASSIGN_OR_RETURN(domain::Pool pool, tx.GetPool(task->pool_id));
    TS_ASSIGN_OR_RETURN(domain::Project project,
                        tx.GetProject(pool.project_id));
    std::vector<std::string> sections = GuidelineSections(project.guidelines);
    if (!sections.empty()) {
      auto it = std::find_if(sections.begin(), sections.end(),
                             [&](const std::string& h) {
                               return absl::EqualsIgnoreCase(h, section);
                             });
      if (it == sections.end()) {
        return InvalidField(
            "section", absl::StrCat("must be a heading of the guidelines: ",
                                    absl::StrJoin(sections, "; ")));
      }
      section = *it;
    }
    store::FlagRow f;
    f.task_id = task_id;
    f.pool_id = pool.id;
    f.annotator_id = p.id;
    f.section = section;
    f.note = note;
    f.created_at = now;
    TS_ASSIGN_OR_RETURN(f.id, tx.InsertFlag(f));
    out = {{"id", f.id},
           {"task_id", task_id.value},
           {"pool_id", pool.id.value},
           {"section", section},
           {"note", note},
           {"created_at", Rfc3339(now)}};
    return Audit(tx, p.id, "task.flag", "task", task_id.value, nullptr, out,
                 now);
  }));
  return out;
}

absl::StatusOr<json> Service::ListPoolFlags(const Principal& p,
                                            PoolId pool_id) {
  json out;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::Pool pool, OwnedPool(tx, p, pool_id));
    TS_ASSIGN_OR_RETURN(auto flags, tx.ListPoolFlags(pool.id));
    TS_ASSIGN_OR_RETURN(auto snapshot, tx.FindLatestQualitySnapshot(pool.id));
    // Per task: the snapshot's entry, when the snapshot covers the task.
    absl::flat_hash_map<int64_t, json> inferred;
    if (snapshot) {
      json body = ParseStored(snapshot->body_json);
      for (const json& t : body.value("tasks", json::array())) {
        if (t.contains("task_id")) {
          inferred[t["task_id"].get<int64_t>()] = t;
        }
      }
    }
    // Otherwise the spread of the answers submitted so far.
    absl::flat_hash_map<int64_t, std::map<std::string, int64_t>> answers;
    if (!flags.empty()) {
      TS_ASSIGN_OR_RETURN(auto results, tx.ListPoolResults(pool.id));
      for (const auto& r : results) {
        answers[r.task_id.value][ParseStored(r.result_json).dump()]++;
      }
    }
    auto disagreement = [&](int64_t task) -> json {
      if (auto it = inferred.find(task); it != inferred.end()) {
        json d = it->second;
        d.erase("task_id");
        d["source"] = "quality_snapshot";
        d["snapshot_version"] = snapshot->version;
        const json& c = it->second.value("confidence", json());
        d["disagreement"] = c.is_number() ? json(1.0 - c.get<double>()) : c;
        return d;
      }
      int64_t n = 0, top = 0;
      auto it = answers.find(task);
      if (it != answers.end()) {
        for (const auto& [answer, count] : it->second) {
          n += count;
          top = std::max(top, count);
        }
      }
      return {
          {"source", "answers"},
          {"answers", n},
          {"distinct",
           it == answers.end() ? 0 : static_cast<int64_t>(it->second.size())},
          {"majority_share",
           n > 0 ? json(static_cast<double>(top) / n) : json(nullptr)},
          {"disagreement",
           n > 0 ? json(1.0 - static_cast<double>(top) / n) : json(nullptr)}};
    };
    json sections = json::array();
    for (size_t i = 0; i < flags.size();) {
      size_t j = i;
      json notes = json::array();
      std::map<int64_t, int64_t> tasks;  // task id -> flags
      while (j < flags.size() && flags[j].section == flags[i].section) {
        const auto& f = flags[j];
        notes.push_back({{"flag_id", f.id},
                         {"task_id", f.task_id.value},
                         {"annotator_id", f.annotator_id.value},
                         {"note", f.note},
                         {"created_at", Rfc3339(f.created_at)}});
        tasks[f.task_id.value]++;
        ++j;
      }
      json task_list = json::array();
      for (const auto& [task, count] : tasks) {
        task_list.push_back({{"task_id", task},
                             {"flags", count},
                             {"disagreement", disagreement(task)}});
      }
      sections.push_back({{"section", flags[i].section},
                          {"count", static_cast<int64_t>(j - i)},
                          {"notes", notes},
                          {"tasks", task_list}});
      i = j;
    }
    std::sort(sections.begin(), sections.end(),
              [](const json& a, const json& b) {
                if (a["count"] != b["count"]) return a["count"] > b["count"];
                return a["section"] < b["section"];
              });
    out = {{"pool_id", pool.id.value},
           {"snapshot_version",
            snapshot ? json(snapshot->version) : json(nullptr)},
           {"flags", static_cast<int64_t>(flags.size())},
           {"sections", sections}};
    return absl::OkStatus();
  }));
  return out;
}

// ----------------------------------------------------------------- records

namespace {

// The record-signing key pair, created on first use (insert if absent, then
// read: concurrent servers end up with the same key).
absl::StatusOr<store::SigningKeyRow> RecordSigningKey(store::Store& store,
                                                      absl::Time now) {
  RecordKeyPair fresh = NewRecordKeyPair();
  store::SigningKeyRow key;
  TS_RETURN_IF_ERROR(
      store.Run(store::TxMode::kWrite, [&](Tx& tx) -> absl::Status {
        store::SigningKeyRow candidate;
        candidate.name = std::string(kRecordKeyName);
        candidate.public_key = fresh.public_key;
        candidate.secret_key = fresh.secret_key;
        candidate.created_at = now;
        TS_ASSIGN_OR_RETURN(key, tx.EnsureSigningKey(candidate));
        return absl::OkStatus();
      }));
  return key;
}

}  // namespace

absl::StatusOr<json> Service::RecordKey() {
  TS_ASSIGN_OR_RETURN(store::SigningKeyRow key,
                      RecordSigningKey(store_, clock_.Now()));
  return json{{"key_id", RecordKeyId(key.public_key)},
              {"public_key", key.public_key},
              {"algorithm", std::string(kRecordAlgorithm)},
              {"created_at", Rfc3339(key.created_at)}};
}

absl::StatusOr<json> Service::WorkRecord(const Principal& p) {
  const absl::Time now = clock_.Now();
  TS_ASSIGN_OR_RETURN(store::SigningKeyRow key, RecordSigningKey(store_, now));
  const std::string key_id = RecordKeyId(key.public_key);
  json record;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::User user, tx.GetUser(p.id));
    TS_ASSIGN_OR_RETURN(auto work, tx.ListAnnotatorWork(p.id));
    TS_ASSIGN_OR_RETURN(auto pools, tx.ListPools(std::nullopt));
    TS_ASSIGN_OR_RETURN(store::RecordInputs in, tx.GetRecordInputs(p.id));
    absl::flat_hash_map<int64_t, const domain::Pool*> by_id;
    for (const auto& pool : pools) by_id[pool.id.value] = &pool;
    // (task type, domain) -> submitted, accepted, rejected
    std::map<std::pair<std::string, std::string>, std::array<int64_t, 3>> vol;
    int64_t submitted = 0, accepted = 0, rejected = 0;
    for (const auto& w : work) {
      auto it = by_id.find(w.pool_id.value);
      if (it == by_id.end()) continue;
      const domain::Pool& pool = *it->second;
      std::string domain_name =
          domain::WorkforceOf(ParseStored(pool.config_json)).domain;
      if (domain_name.empty()) domain_name = "general";
      auto& v =
          vol[{std::string(domain::ToString(pool.task_type)), domain_name}];
      v[0] += w.submitted;
      v[1] += w.accepted;
      v[2] += w.rejected;
      submitted += w.submitted;
      accepted += w.accepted;
      rejected += w.rejected;
    }
    json volumes = json::array();
    for (const auto& [k, v] : vol) {
      volumes.push_back({{"task_type", k.first},
                         {"domain", k.second},
                         {"submitted", v[0]},
                         {"accepted", v[1]},
                         {"rejected", v[2]}});
    }
    std::set<std::string> domains;
    if (in.profile_domains_json) {
      for (auto& d : ProfileDomains(*in.profile_domains_json)) {
        if (!d.empty()) domains.insert(d);
      }
    }
    json tiers = json::array();
    for (const auto& t : in.tiers) {
      tiers.push_back({{"domain", t.domain},
                       {"tier", t.tier},
                       {"score", t.score},
                       {"at", Rfc3339(t.at)}});
    }
    const int64_t decided = accepted + rejected;
    record = {
        {"format", "tessera.work-record/1"},
        {"issuer", options_.record_issuer},
        {"key_id", key_id},
        {"subject", {{"user_id", user.id.value}, {"username", user.username}}},
        {"issued_at", Rfc3339(now)},
        {"domains",
         json(std::vector<std::string>(domains.begin(), domains.end()))},
        {"skills", in.skills},
        {"volumes", volumes},
        {"totals",
         {{"submitted", submitted},
          {"accepted", accepted},
          {"rejected", rejected}}},
        {"acceptance_rate", decided > 0
                                ? json(static_cast<double>(accepted) / decided)
                                : json(nullptr)},
        {"gold",
         {{"checks", in.gold_checks},
          {"passed", in.gold_passed},
          {"accuracy",
           in.gold_checks > 0
               ? json(static_cast<double>(in.gold_passed) / in.gold_checks)
               : json(nullptr)}}},
        {"tier_history", tiers}};
    return absl::OkStatus();
  }));
  TS_ASSIGN_OR_RETURN(std::string signature,
                      SignRecord(record, key.secret_key));
  return json{{"record", record},
              {"signature", signature},
              {"key_id", key_id},
              {"algorithm", std::string(kRecordAlgorithm)}};
}

}  // namespace tessera::service
