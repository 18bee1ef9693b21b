// Entry to the workforce: an annotator's background (profile, verified domain
// skills) and per-pool trials with known answers, graded on the spot for
// objective types and by a reviewer for free text, paid, with feedback.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tessera/algo/boxes.h"
#include "tessera/base/json_util.h"
#include "tessera/base/mix.h"
#include "tessera/base/money.h"
#include "tessera/base/status.h"
#include "tessera/domain/task_types.h"
#include "tessera/domain/workforce.h"
#include "tessera/service/internal/access.h"
#include "tessera/service/internal/fairness.h"
#include "tessera/service/service.h"

namespace tessera::service {
namespace {

using domain::AccountKind;
using domain::PoolState;
using domain::Role;
using domain::TaskType;
using internal::Audit;
using internal::OwnedPool;
using internal::ParseStored;
using internal::RequireRole;
using store::ProfileRow;
using store::SkillRow;
using store::TrialAnswerRow;
using store::TrialAttemptRow;
using store::TrialTaskRow;
using store::Tx;

// The domains a profile may name (docs/workforce.md).
constexpr absl::string_view kDomains[] = {"medicine",  "law",  "finance",
                                          "cs",        "math", "science",
                                          "languages", "other"};

// Attempt states, as stored (the eligibility check reads "passed").
constexpr absl::string_view kInProgress = "in_progress";
constexpr absl::string_view kGrading = "grading";
constexpr absl::string_view kPassed = "passed";
constexpr absl::string_view kFailed = "failed";

constexpr int kMaxTrialTasksPerRequest = 1000;
constexpr size_t kMaxReasonBytes = 2000;
constexpr size_t kMaxFeedbackBytes = 2000;

json TimeJson(absl::Time t) { return Rfc3339(t); }
json OptTimeJson(const std::optional<absl::Time>& t) {
  return t ? json(Rfc3339(*t)) : json(nullptr);
}
json OptUserJson(const std::optional<UserId>& u) {
  return u ? json(u->value) : json(nullptr);
}
json OptScoreJson(const std::optional<double>& s) {
  return s ? json(*s) : json(nullptr);
}

// Free-text types are graded by a reviewer; the others against gold.
bool GradedByReviewer(TaskType t) {
  return t == TaskType::kRewrite || t == TaskType::kReference;
}

// A non-blank reason of at most kMaxReasonBytes, trimmed.
absl::StatusOr<std::string> RequiredReason(const json& body) {
  TS_ASSIGN_OR_RETURN(std::string reason, RequiredString(body, "reason"));
  std::string trimmed(absl::StripAsciiWhitespace(reason));
  if (trimmed.empty()) return InvalidField("reason", "must not be blank");
  if (trimmed.size() > kMaxReasonBytes) {
    return InvalidField("reason", "must be at most 2000 bytes");
  }
  return trimmed;
}

absl::Status ValidateSkillName(absl::string_view skill,
                               absl::string_view field) {
  bool ok = !skill.empty() && skill.size() <= 64;
  for (char c : skill) {
    ok = ok && (absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.' ||
                c == ':');
  }
  if (!ok) {
    return InvalidField(field,
                        "must be 1-64 letters, digits, '_', '-', '.' or ':'");
  }
  return absl::OkStatus();
}

json SkillJson(const SkillRow& s) {
  json j = {{"skill", s.skill},
            {"granted_by", s.granted_by.value},
            {"reason", s.reason},
            {"granted_at", TimeJson(s.granted_at)}};
  if (s.revoked_at) {
    j["revoked_by"] = OptUserJson(s.revoked_by);
    j["revoked_at"] = OptTimeJson(s.revoked_at);
  }
  return j;
}

// The profile view: background, verification, granted and revoked skills.
absl::StatusOr<json> ProfileView(Tx& tx, const domain::User& u) {
  TS_ASSIGN_OR_RETURN(auto profile, tx.FindProfile(u.id));
  TS_ASSIGN_OR_RETURN(auto skills, tx.ListSkills(u.id));
  json granted = json::array();
  json revoked = json::array();
  for (const SkillRow& s : skills) {
    (s.revoked_at ? revoked : granted).push_back(SkillJson(s));
  }
  ProfileRow p;
  if (profile) p = *profile;
  json domains = profile ? ParseStored(p.domains_json) : json::array();
  const char* state = !profile        ? "none"
                      : p.verified_at ? "verified"
                                      : "unverified";
  return json{{"user_id", u.id.value},
              {"username", u.username},
              {"domains", domains},
              {"profession", p.profession},
              {"education", p.education},
              {"evidence", p.evidence},
              {"updated_at", profile ? OptTimeJson(p.updated_at) : nullptr},
              {"verification",
               {{"state", state},
                {"verified_by", OptUserJson(p.verified_by)},
                {"verified_at", OptTimeJson(p.verified_at)}}},
              {"skills", granted},
              {"revoked_skills", revoked}};
}

absl::StatusOr<std::string> OptionalText(const json& body, const char* key,
                                         size_t max_bytes) {
  TS_ASSIGN_OR_RETURN(auto value, OptionalString(body, key));
  std::string text(absl::StripAsciiWhitespace(value.value_or("")));
  if (text.size() > max_bytes) {
    return InvalidField(key,
                        absl::StrCat("must be at most ", max_bytes, " bytes"));
  }
  return text;
}

// ------------------------------------------------------------- grading

struct Grade {
  double score = 0;
  std::string feedback;
};

std::string Num(double v) { return absl::StrCat(v); }

// "(120, 40, 30×80)": a box's top-left corner and size.
std::string Where(const json& box) {
  return absl::StrCat("(", Num(box.value("x", 0.0)), ", ",
                      Num(box.value("y", 0.0)), ", ", Num(box.value("w", 0.0)),
                      "\u00d7", Num(box.value("h", 0.0)), ")");
}

algo::Box ToBox(const json& b) {
  const double x = b.value("x", 0.0), y = b.value("y", 0.0);
  return {x, y, x + b.value("w", 0.0), y + b.value("h", 0.0)};
}

// F1 of the boxes matched one to one (same label, IoU >= threshold).
Grade GradeBoxes(const json& result, const json& gold, double iou_threshold) {
  const json answer = result.value("boxes", json::array());
  const json expected = gold.value("boxes", json::array());
  std::vector<bool> answer_matched(answer.size()),
      expected_matched(expected.size());
  absl::flat_hash_set<std::string> labels;
  for (const json& b : answer) labels.insert(b.value("label", ""));
  for (const json& b : expected) labels.insert(b.value("label", ""));
  std::vector<std::string> sorted(labels.begin(), labels.end());
  std::sort(sorted.begin(), sorted.end());
  int64_t tp = 0;
  for (const std::string& label : sorted) {
    std::vector<int32_t> ai, ei;
    std::vector<algo::Box> ab, eb;
    for (size_t i = 0; i < answer.size(); ++i) {
      if (answer[i].value("label", "") != label) continue;
      ai.push_back(static_cast<int32_t>(i));
      ab.push_back(ToBox(answer[i]));
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      if (expected[i].value("label", "") != label) continue;
      ei.push_back(static_cast<int32_t>(i));
      eb.push_back(ToBox(expected[i]));
    }
    for (const algo::BoxMatch& m : algo::MatchBoxes(ab, eb, iou_threshold)) {
      answer_matched[ai[m.a]] = true;
      expected_matched[ei[m.b]] = true;
      ++tp;
    }
  }
  const int64_t fp = static_cast<int64_t>(answer.size()) - tp;
  const int64_t fn = static_cast<int64_t>(expected.size()) - tp;
  Grade g;
  g.score = (tp + fp + fn == 0) ? 1.0 : 2.0 * tp / (2.0 * tp + fp + fn);
  std::vector<std::string> notes;
  notes.push_back(expected.empty() ? std::string("no boxes were expected")
                                   : absl::StrCat(tp, " of ", expected.size(),
                                                  " boxes matched"));
  for (size_t e = 0; e < expected.size(); ++e) {
    if (expected_matched[e]) continue;
    // A box in the right place with the wrong label says more than a miss.
    bool relabelled = false;
    for (size_t a = 0; a < answer.size() && !relabelled; ++a) {
      if (answer_matched[a] ||
          algo::IoU(ToBox(answer[a]), ToBox(expected[e])) < iou_threshold) {
        continue;
      }
      answer_matched[a] = relabelled = true;
      notes.push_back(absl::StrCat(
          "labelled ", answer[a].value("label", ""), " at ", Where(answer[a]),
          " where the expected label was ", expected[e].value("label", "")));
    }
    if (!relabelled) {
      notes.push_back(absl::StrCat("missed a ", expected[e].value("label", ""),
                                   " at ", Where(expected[e])));
    }
  }
  for (size_t a = 0; a < answer.size(); ++a) {
    if (answer_matched[a]) continue;
    notes.push_back(absl::StrCat("extra ", answer[a].value("label", ""),
                                 " box at ", Where(answer[a])));
  }
  if (!expected.empty() || !answer.empty()) {
    notes.push_back(
        absl::StrCat("a box matches at IoU ", Num(iou_threshold), " or more"));
  }
  g.feedback = absl::StrJoin(notes, "; ");
  return g;
}

// Exact match of one string field (classify label, pairwise choice).
Grade GradeChoice(const json& result, const json& gold, const char* key) {
  const std::string chose = result.value(key, "");
  const std::string expected = gold.value(key, "");
  if (chose == expected) return {1.0, absl::StrCat("correct: ", chose)};
  return {0.0, absl::StrCat("you chose ", chose, "; the expected answer was ",
                            expected)};
}

// Share of criteria scored within `tolerance` of the known score.
Grade GradeRating(const json& result, const json& gold, double tolerance) {
  const json expected = gold.value("scores", json::object());
  const json given = result.value("scores", json::object());
  int within = 0;
  std::vector<std::string> misses;
  for (const auto& [criterion, score] : expected.items()) {
    const double want = score.get<double>();
    const double got = given.contains(criterion) && given[criterion].is_number()
                           ? given[criterion].get<double>()
                           : std::nan("");
    if (std::abs(got - want) <= tolerance + 1e-9) {
      ++within;
    } else {
      misses.push_back(absl::StrCat(criterion, ": you gave ", Num(got),
                                    ", expected ", Num(want)));
    }
  }
  Grade g;
  const size_t n = expected.size();
  g.score = n == 0 ? 1.0 : static_cast<double>(within) / n;
  g.feedback = absl::StrCat(within, " of ", n, " criteria within ",
                            Num(tolerance), " of the expected score");
  for (const std::string& m : misses) absl::StrAppend(&g.feedback, "; ", m);
  return g;
}

Grade GradeAnswer(TaskType type, const domain::TrialSettings& s,
                  const json& result, const json& gold) {
  switch (type) {
    case TaskType::kBbox:
      return GradeBoxes(result, gold, s.iou_threshold);
    case TaskType::kClassify:
      return GradeChoice(result, gold, "label");
    case TaskType::kPairwise:
      return GradeChoice(result, gold, "choice");
    case TaskType::kRating:
      return GradeRating(result, gold, s.rating_tolerance);
    case TaskType::kRewrite:
    case TaskType::kReference:
      break;
  }
  return {0.0, ""};
}

// ------------------------------------------------------------ attempts

// Everything one attempt's views and writes need.
struct AttemptContext {
  TrialAttemptRow attempt;
  domain::Pool pool;
  json config;
  domain::WorkforceSettings settings;
  std::vector<TrialTaskRow> tasks;  // the attempt's, in presentation order
  std::vector<TrialAnswerRow> answers;
};

// The attempt's tasks: among the pool's trial tasks that existed when it
// started, those the annotator has not answered in earlier attempts first,
// then a fixed shuffle seeded by the attempt id; `settings.trial.tasks` of
// them.
absl::StatusOr<AttemptContext> LoadAttempt(Tx& tx, const TrialAttemptRow& a) {
  AttemptContext c;
  c.attempt = a;
  TS_ASSIGN_OR_RETURN(c.pool, tx.GetPool(a.pool_id));
  c.config = ParseStored(c.pool.config_json);
  c.settings = domain::WorkforceOf(c.config);
  TS_ASSIGN_OR_RETURN(auto all, tx.ListTrialTasks(a.pool_id));
  TS_ASSIGN_OR_RETURN(auto seen_ids, tx.ListAnsweredTrialTasks(
                                         a.annotator_id, a.pool_id, a.id));
  absl::flat_hash_set<int64_t> seen(seen_ids.begin(), seen_ids.end());
  std::vector<std::pair<std::pair<int, uint64_t>, size_t>> order;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].created_at > a.started_at) continue;
    const uint64_t key =
        SplitMix64(static_cast<uint64_t>(a.id) * 0x100000001b3ULL ^
                   static_cast<uint64_t>(all[i].id));
    order.push_back({{seen.contains(all[i].id) ? 1 : 0, key}, i});
  }
  std::sort(order.begin(), order.end());
  const size_t n =
      std::min(order.size(), static_cast<size_t>(c.settings.trial.tasks));
  for (size_t i = 0; i < n; ++i) c.tasks.push_back(all[order[i].second]);
  TS_ASSIGN_OR_RETURN(c.answers, tx.ListTrialAnswers(a.id));
  return c;
}

bool Finished(const TrialAttemptRow& a) {
  return a.state == kPassed || a.state == kFailed;
}

// What a finished paid attempt paid: the pool's price per answer.
Money TrialPay(const AttemptContext& c) {
  return {static_cast<int64_t>(c.answers.size()) * c.pool.price.amount_minor,
          c.pool.price.currency};
}

// The attempt view. The annotator's (`reviewer` false) never holds gold and
// shows scores and feedback only once the attempt is finished; a reviewer's
// holds each task's gold (the reference answer, null when none) and grades.
json AttemptJson(const AttemptContext& c, bool reviewer) {
  const TrialAttemptRow& a = c.attempt;
  absl::flat_hash_map<int64_t, const TrialAnswerRow*> by_task;
  for (const TrialAnswerRow& w : c.answers) by_task[w.trial_task_id] = &w;
  const bool finished = Finished(a);
  json tasks = json::array();
  for (size_t i = 0; i < c.tasks.size(); ++i) {
    const TrialTaskRow& t = c.tasks[i];
    auto it = by_task.find(t.id);
    const TrialAnswerRow* w = it == by_task.end() ? nullptr : it->second;
    json j = {{"trial_task_id", t.id},
              {"position", i + 1},
              {"data", ParseStored(t.data_json)},
              {"answered", w != nullptr},
              {"result", w ? ParseStored(w->result_json) : json(nullptr)},
              {"active_seconds", w ? json(w->active_seconds) : json(nullptr)},
              {"submitted_at", w ? OptTimeJson(w->submitted_at) : nullptr}};
    if (finished || reviewer) {
      j["score"] = w ? OptScoreJson(w->score) : json(nullptr);
      j["feedback"] = w ? json(w->feedback) : json(nullptr);
    }
    if (reviewer) {
      j["gold"] = t.gold_json ? ParseStored(*t.gold_json) : json(nullptr);
    }
    tasks.push_back(std::move(j));
  }
  const domain::TrialSettings& s = c.settings.trial;
  json paid = nullptr;
  if (finished && s.paid && c.pool.price.amount_minor > 0) {
    paid = MoneyToJson(TrialPay(c));
  }
  return {{"id", a.id},
          {"pool_id", a.pool_id.value},
          {"pool_name", c.pool.name},
          {"task_type", domain::ToString(c.pool.task_type)},
          {"config", c.config},
          {"annotator_id", a.annotator_id.value},
          {"state", a.state},
          {"score", finished ? OptScoreJson(a.score) : json(nullptr)},
          {"pass_threshold", s.pass_threshold},
          {"graded_by",
           GradedByReviewer(c.pool.task_type) ? "reviewer" : "automatic"},
          {"started_at", TimeJson(a.started_at)},
          {"finished_at", OptTimeJson(a.finished_at)},
          {"answered", c.answers.size()},
          {"total", c.tasks.size()},
          {"paid", paid},
          {"tasks", std::move(tasks)}};
}

// Pays a paid trial's answers from the project's budget (one journal, kind
// trial_payment) through the shared ledger helper (internal/fairness.h).
absl::Status PayTrial(Tx& tx, const AttemptContext& c, absl::Time now) {
  const Money amount = TrialPay(c);
  if (!c.settings.trial.paid || amount.amount_minor <= 0) {
    return absl::OkStatus();
  }
  return internal::PayFromProjectBudget(
             tx, c.pool.project_id, c.attempt.annotator_id, amount,
             "trial_payment", std::nullopt,
             absl::StrCat("trial attempt ", c.attempt.id, " in pool ",
                          c.pool.id.value, ": ", c.answers.size(), " answers"),
             now)
      .status();
}

// Scores a fully graded attempt (mean of its answers), decides pass or
// fail, pays, and writes the attempt (from `from_state`).
absl::Status FinishAttempt(Tx& tx, AttemptContext& c,
                           absl::string_view from_state, absl::Time now) {
  double sum = 0;
  for (const TrialAnswerRow& w : c.answers) sum += w.score.value_or(0);
  const double score = c.answers.empty() ? 0 : sum / c.answers.size();
  c.attempt.score = score;
  c.attempt.state = std::string(
      score + 1e-9 >= c.settings.trial.pass_threshold ? kPassed : kFailed);
  c.attempt.finished_at = now;
  TS_RETURN_IF_ERROR(PayTrial(tx, c, now));
  return tx.UpdateTrialAttempt(c.attempt, from_state);
}

// Why the caller may not start a new attempt now, if anything stops them.
std::optional<std::string> StartBlocker(
    const std::vector<TrialAttemptRow>& attempts,
    const domain::TrialSettings& s, absl::Time now) {
  std::optional<absl::Time> last_failed;
  for (const TrialAttemptRow& a : attempts) {
    if (a.state == kPassed) return "you already passed this pool's trial";
    if (a.state == kGrading) {
      return absl::StrCat("your attempt ", a.id,
                          " is waiting for a reviewer's grade");
    }
    if (a.state == kFailed && a.finished_at) last_failed = a.finished_at;
  }
  if (static_cast<int>(attempts.size()) >= s.max_tries) {
    return absl::StrCat("you have used all ", s.max_tries,
                        " tries at this pool's trial");
  }
  if (last_failed) {
    const absl::Time until = *last_failed + absl::Hours(s.cooldown_hours);
    if (until > now) {
      return absl::StrCat("the cool-down after your last try ends at ",
                          Rfc3339(until));
    }
  }
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------- background

absl::StatusOr<json> Service::PutMyProfile(const Principal& p,
                                           const json& body) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kAnnotator));
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  auto domains = body.find("domains");
  if (domains == body.end() || !domains->is_array()) {
    return InvalidField("domains",
                        "must be an array of domains (medicine, law, finance, "
                        "cs, math, science, languages, other)");
  }
  json clean = json::array();
  for (size_t i = 0; i < domains->size(); ++i) {
    const json& d = (*domains)[i];
    const std::string f = absl::StrCat("domains[", i, "]");
    const bool known =
        d.is_string() &&
        std::find(std::begin(kDomains), std::end(kDomains),
                  absl::string_view(d.get_ref<const std::string&>())) !=
            std::end(kDomains);
    if (!known) {
      return InvalidField(f,
                          "must be one of medicine, law, finance, cs, math, "
                          "science, languages, other");
    }
    if (std::find(clean.begin(), clean.end(), d) != clean.end()) {
      return InvalidField(f, "is listed twice");
    }
    clean.push_back(d);
  }
  ProfileRow row;
  row.user_id = p.id;
  row.domains_json = clean.dump();
  TS_ASSIGN_OR_RETURN(row.profession, OptionalText(body, "profession", 200));
  TS_ASSIGN_OR_RETURN(row.education, OptionalText(body, "education", 200));
  TS_ASSIGN_OR_RETURN(row.evidence, OptionalText(body, "evidence", 5000));
  const absl::Time now = clock_.Now();
  row.updated_at = now;
  json out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::User u, tx.GetUser(p.id));
    TS_ASSIGN_OR_RETURN(auto before, tx.FindProfile(p.id));
    TS_RETURN_IF_ERROR(tx.UpsertProfile(row));
    json after = {{"domains", clean},
                  {"profession", row.profession},
                  {"education", row.education},
                  {"evidence", row.evidence}};
    json prior = nullptr;
    if (before) {
      prior = {{"domains", ParseStored(before->domains_json)},
               {"profession", before->profession},
               {"education", before->education},
               {"evidence", before->evidence},
               {"verified", before->verified_at.has_value()}};
    }
    TS_RETURN_IF_ERROR(Audit(tx, p.id, "profile.update", "user", p.id.value,
                             prior, after, now));
    TS_ASSIGN_OR_RETURN(out, ProfileView(tx, u));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<json> Service::GetMyProfile(const Principal& p) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kAnnotator));
  json out;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::User u, tx.GetUser(p.id));
    TS_ASSIGN_OR_RETURN(out, ProfileView(tx, u));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<json> Service::ListProfiles(const Principal& p,
                                           bool unverified_only) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kReviewer));
  json list = json::array();
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    list = json::array();
    TS_ASSIGN_OR_RETURN(auto profiles, tx.ListProfiles(unverified_only, 500));
    for (const ProfileRow& row : profiles) {
      TS_ASSIGN_OR_RETURN(domain::User u, tx.GetUser(row.user_id));
      TS_ASSIGN_OR_RETURN(json view, ProfileView(tx, u));
      list.push_back(std::move(view));
    }
    return absl::OkStatus();
  }));
  return json{{"profiles", list}};
}

absl::StatusOr<json> Service::GetUserProfile(const Principal& p, UserId user) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kReviewer));
  json out;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    auto u = tx.GetUser(user);
    if (!u.ok()) return NotFound("user");
    TS_ASSIGN_OR_RETURN(out, ProfileView(tx, *u));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<json> Service::GrantSkill(const Principal& p, UserId user,
                                         const json& body) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kReviewer));
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  TS_ASSIGN_OR_RETURN(std::string skill, RequiredString(body, "skill"));
  TS_RETURN_IF_ERROR(ValidateSkillName(skill, "skill"));
  TS_ASSIGN_OR_RETURN(std::string reason, RequiredReason(body));
  if (user == p.id) {
    return PermissionDenied("you cannot grant a skill to yourself");
  }
  const absl::Time now = clock_.Now();
  json out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    auto u = tx.GetUser(user);
    if (!u.ok()) return NotFound("user");
    SkillRow row{user, skill, p.id, reason, now, std::nullopt, std::nullopt};
    absl::Status granted = tx.GrantSkill(row);
    if (granted.code() == absl::StatusCode::kAlreadyExists) {
      return WithField(
          Conflict(absl::StrCat(u->username, " already holds skill ", skill)),
          "skill");
    }
    TS_RETURN_IF_ERROR(granted);
    TS_RETURN_IF_ERROR(tx.MarkProfileVerified(user, p.id, now));
    TS_RETURN_IF_ERROR(Audit(tx, p.id, "skill.grant", "user", user.value,
                             nullptr, {{"skill", skill}, {"reason", reason}},
                             now));
    TS_ASSIGN_OR_RETURN(out, ProfileView(tx, *u));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<json> Service::RevokeSkill(const Principal& p, UserId user,
                                          const std::string& skill,
                                          const json& body) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kReviewer));
  TS_RETURN_IF_ERROR(ValidateSkillName(skill, "skill"));
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  TS_ASSIGN_OR_RETURN(std::string reason, RequiredReason(body));
  const absl::Time now = clock_.Now();
  json out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    auto u = tx.GetUser(user);
    if (!u.ok()) return NotFound("user");
    absl::Status revoked = tx.RevokeSkill(user, skill, p.id, now);
    if (revoked.code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(
          absl::StrCat(u->username, " does not hold skill ", skill));
    }
    TS_RETURN_IF_ERROR(revoked);
    TS_RETURN_IF_ERROR(Audit(tx, p.id, "skill.revoke", "user", user.value,
                             {{"skill", skill}},
                             {{"skill", skill}, {"reason", reason}}, now));
    TS_ASSIGN_OR_RETURN(out, ProfileView(tx, *u));
    return absl::OkStatus();
  }));
  return out;
}

// -------------------------------------------------------------- trials

absl::StatusOr<json> Service::AddTrialTasks(const Principal& p, PoolId pool_id,
                                            const json& body) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kRequester));
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  auto list = body.find("tasks");
  if (list == body.end() || !list->is_array() || list->empty()) {
    return InvalidField("tasks", "must be a non-empty array of {data, gold}");
  }
  if (list->size() > static_cast<size_t>(kMaxTrialTasksPerRequest)) {
    return InvalidField("tasks", "at most 1000 trial tasks per request");
  }
  const absl::Time now = clock_.Now();
  json ids = json::array();
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    ids = json::array();
    TS_ASSIGN_OR_RETURN(domain::Pool pool, OwnedPool(tx, p, pool_id));
    if (pool.state == PoolState::kClosed) {
      return FailedPrecondition("the pool is closed");
    }
    const json config = ParseStored(pool.config_json);
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string f = absl::StrCat("tasks[", i, "]");
      const json& spec = (*list)[i];
      TS_RETURN_IF_ERROR(RequireObject(spec, f));
      auto data = spec.find("data");
      if (data == spec.end()) {
        return InvalidField(absl::StrCat(f, ".data"), "is required");
      }
      TS_RETURN_IF_ERROR(domain::ValidateTaskData(pool.task_type, config, *data,
                                                  absl::StrCat(f, ".data")));
      TrialTaskRow row;
      row.pool_id = pool_id;
      row.data_json = data->dump();
      row.created_at = now;
      auto gold = spec.find("gold");
      if (gold != spec.end() && !gold->is_null()) {
        TS_RETURN_IF_ERROR(domain::ValidateGold(
            pool.task_type, config, *data, *gold, absl::StrCat(f, ".gold")));
        row.gold_json = gold->dump();
      } else if (!GradedByReviewer(pool.task_type)) {
        return InvalidField(absl::StrCat(f, ".gold"),
                            absl::StrCat("is required: trial tasks of a ",
                                         domain::ToString(pool.task_type),
                                         " pool are graded against it"));
      }
      TS_ASSIGN_OR_RETURN(int64_t id, tx.InsertTrialTask(row));
      ids.push_back(id);
    }
    return Audit(tx, p.id, "trial_tasks.add", "pool", pool_id.value, nullptr,
                 {{"count", list->size()}, {"trial_task_ids", ids}}, now);
  }));
  return json{{"created", ids.size()}, {"trial_task_ids", ids}};
}

absl::StatusOr<json> Service::ListTrialTasks(const Principal& p,
                                             PoolId pool_id) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kRequester));
  json out;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::Pool pool, OwnedPool(tx, p, pool_id));
    TS_ASSIGN_OR_RETURN(auto tasks, tx.ListTrialTasks(pool_id));
    json list = json::array();
    for (const TrialTaskRow& t : tasks) {
      list.push_back(
          {{"id", t.id},
           {"data", ParseStored(t.data_json)},
           {"gold", t.gold_json ? ParseStored(*t.gold_json) : json(nullptr)},
           {"created_at", TimeJson(t.created_at)}});
    }
    const auto settings = domain::WorkforceOf(ParseStored(pool.config_json));
    out = {{"pool_id", pool_id.value},
           {"trial", domain::WorkforceToJson(settings)["trial"]},
           {"trial_tasks", std::move(list)}};
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<Service::TrialStart> Service::StartTrial(const Principal& p,
                                                        PoolId pool_id) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kAnnotator));
  const absl::Time now = clock_.Now();
  TrialStart out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    auto pool = tx.GetPool(pool_id);
    if (!pool.ok() || pool->state == PoolState::kDraft) {
      return NotFound("pool");
    }
    TS_RETURN_IF_ERROR(tx.LockTrialAnnotator(p.id));
    TS_ASSIGN_OR_RETURN(auto attempts, tx.ListTrialAttempts(p.id, pool_id));
    for (const TrialAttemptRow& a : attempts) {
      if (a.state != kInProgress) continue;
      TS_ASSIGN_OR_RETURN(AttemptContext c, LoadAttempt(tx, a));
      out = {AttemptJson(c, false), true};
      return absl::OkStatus();
    }
    const auto settings = domain::WorkforceOf(ParseStored(pool->config_json));
    const domain::TrialSettings& s = settings.trial;
    if (!s.required) {
      return FailedPrecondition(
          "this pool has no trial: its settings do not require one");
    }
    if (pool->state == PoolState::kClosed) {
      return FailedPrecondition("the pool is closed");
    }
    TS_ASSIGN_OR_RETURN(auto tasks, tx.ListTrialTasks(pool_id));
    if (tasks.empty()) {
      return FailedPrecondition(
          "this pool's trial has no tasks yet; the requester must add them");
    }
    if (auto blocker = StartBlocker(attempts, s, now)) {
      return FailedPrecondition(*blocker);
    }
    const int64_t n = std::min<int64_t>(s.tasks, tasks.size());
    if (s.paid && pool->price.amount_minor > 0) {
      TS_ASSIGN_OR_RETURN(auto budget, tx.FindAccount(AccountKind::kProject,
                                                      pool->project_id.value,
                                                      pool->price.currency));
      int64_t balance = 0;
      if (budget) {
        TS_ASSIGN_OR_RETURN(balance, tx.Balance(*budget));
      }
      if (balance < n * pool->price.amount_minor) {
        return FailedPrecondition(
            "the project's budget cannot pay for a trial now; try again "
            "when the requester has added budget");
      }
    }
    TrialAttemptRow a;
    a.pool_id = pool_id;
    a.annotator_id = p.id;
    a.state = std::string(kInProgress);
    a.started_at = now;
    TS_ASSIGN_OR_RETURN(a.id, tx.InsertTrialAttempt(a));
    TS_RETURN_IF_ERROR(Audit(tx, p.id, "trial.start", "trial_attempt", a.id,
                             nullptr,
                             {{"pool_id", pool_id.value},
                              {"try", attempts.size() + 1},
                              {"tasks", n}},
                             now));
    TS_ASSIGN_OR_RETURN(AttemptContext c, LoadAttempt(tx, a));
    out = {AttemptJson(c, false), false};
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<json> Service::GetTrial(const Principal& p, int64_t attempt) {
  json out;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    auto a = tx.GetTrialAttempt(attempt);
    if (!a.ok()) return NotFound("trial attempt");
    const bool own = a->annotator_id == p.id;
    if (!own && !p.Has(Role::kReviewer) && !p.Has(Role::kAdmin)) {
      return NotFound("trial attempt");
    }
    TS_ASSIGN_OR_RETURN(AttemptContext c, LoadAttempt(tx, *a));
    out = AttemptJson(c, /*reviewer=*/!own);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::string> Service::TrialTaskImage(const Principal& p,
                                                    int64_t attempt,
                                                    int64_t trial_task_id) {
  std::string image;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    auto a = tx.GetTrialAttempt(attempt);
    if (!a.ok()) return NotFound("trial attempt");
    if (a->annotator_id != p.id && !p.Has(Role::kReviewer) &&
        !p.Has(Role::kAdmin)) {
      return NotFound("trial attempt");
    }
    TS_ASSIGN_OR_RETURN(AttemptContext c, LoadAttempt(tx, *a));
    for (const TrialTaskRow& t : c.tasks) {
      if (t.id != trial_task_id) continue;
      json data = ParseStored(t.data_json);
      if (!data.is_object() || !data.contains("image") ||
          !data["image"].is_string()) {
        return NotFound("trial task image");
      }
      image = data["image"].get<std::string>();
      return absl::OkStatus();
    }
    return NotFound("trial task in this attempt");
  }));
  return image;
}

absl::StatusOr<json> Service::AnswerTrial(const Principal& p, int64_t attempt,
                                          const json& body) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kAnnotator));
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  TS_ASSIGN_OR_RETURN(int64_t task_id, RequiredInt(body, "trial_task_id"));
  auto result = body.find("result");
  if (result == body.end()) return InvalidField("result", "is required");
  TS_ASSIGN_OR_RETURN(auto active_seconds, OptionalInt(body, "active_seconds"));
  if (active_seconds && (*active_seconds < 0 || *active_seconds > 7 * 86400)) {
    return InvalidField("active_seconds", "must be from 0 to 604800");
  }
  const absl::Time now = clock_.Now();
  json out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    TS_RETURN_IF_ERROR(tx.LockTrialAnnotator(p.id));
    auto a = tx.GetTrialAttempt(attempt);
    if (!a.ok() || a->annotator_id != p.id) return NotFound("trial attempt");
    if (a->state != kInProgress) {
      return FailedPrecondition(absl::StrCat("this attempt is ", a->state,
                                             "; it takes no more answers"));
    }
    TS_ASSIGN_OR_RETURN(AttemptContext c, LoadAttempt(tx, *a));
    const TrialTaskRow* task = nullptr;
    for (const TrialTaskRow& t : c.tasks) {
      if (t.id == task_id) task = &t;
    }
    if (task == nullptr) {
      return InvalidField("trial_task_id", "is not a task of this attempt");
    }
    for (const TrialAnswerRow& w : c.answers) {
      if (w.trial_task_id == task_id) {
        return WithField(Conflict("this trial task was already answered"),
                         "trial_task_id");
      }
    }
    const json data = ParseStored(task->data_json);
    TS_RETURN_IF_ERROR(domain::ValidateResult(c.pool.task_type, c.config, data,
                                              *result, "result"));
    TrialAnswerRow w;
    w.attempt_id = attempt;
    w.trial_task_id = task_id;
    w.result_json = result->dump();
    w.active_seconds = active_seconds.value_or(0);
    w.submitted_at = now;
    if (!GradedByReviewer(c.pool.task_type) && task->gold_json) {
      Grade g = GradeAnswer(c.pool.task_type, c.settings.trial, *result,
                            ParseStored(*task->gold_json));
      w.score = g.score;
      w.feedback = std::move(g.feedback);
      w.graded_at = now;
    }
    TS_RETURN_IF_ERROR(tx.InsertTrialAnswer(w));
    c.answers.push_back(w);
    json after = {{"trial_task_id", task_id},
                  {"answered", c.answers.size()},
                  {"total", c.tasks.size()}};
    if (c.answers.size() >= c.tasks.size()) {
      bool all_graded = true;
      for (const TrialAnswerRow& x : c.answers) {
        all_graded = all_graded && x.score.has_value();
      }
      if (all_graded) {
        TS_RETURN_IF_ERROR(FinishAttempt(tx, c, kInProgress, now));
        after["score"] = *c.attempt.score;
      } else {
        c.attempt.state = std::string(kGrading);
        TS_RETURN_IF_ERROR(tx.UpdateTrialAttempt(c.attempt, kInProgress));
      }
      after["state"] = c.attempt.state;
    }
    TS_RETURN_IF_ERROR(Audit(tx, p.id, "trial.answer", "trial_attempt", attempt,
                             nullptr, after, now));
    out = AttemptJson(c, false);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<json> Service::ListTrialReviews(const Principal& p) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kReviewer));
  json list = json::array();
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    list = json::array();
    TS_ASSIGN_OR_RETURN(auto waiting,
                        tx.ListTrialAttemptsInState(kGrading, 200));
    for (const TrialAttemptRow& a : waiting) {
      if (a.annotator_id == p.id) continue;
      TS_ASSIGN_OR_RETURN(AttemptContext c, LoadAttempt(tx, a));
      list.push_back(AttemptJson(c, true));
    }
    return absl::OkStatus();
  }));
  return json{{"attempts", list}};
}

absl::StatusOr<json> Service::GradeTrial(const Principal& p, int64_t attempt,
                                         const json& body) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kReviewer));
  TS_RETURN_IF_ERROR(RequireObject(body, "body"));
  auto grades = body.find("grades");
  if (grades == body.end() || !grades->is_array() || grades->empty()) {
    return InvalidField("grades",
                        "must be a non-empty array of {trial_task_id, "
                        "score, feedback}");
  }
  struct Given {
    int64_t task_id;
    double score;
    std::string feedback;
  };
  std::vector<Given> given;
  for (size_t i = 0; i < grades->size(); ++i) {
    const std::string f = absl::StrCat("grades[", i, "]");
    const json& g = (*grades)[i];
    TS_RETURN_IF_ERROR(RequireObject(g, f));
    Given x;
    TS_ASSIGN_OR_RETURN(x.task_id, RequiredInt(g, "trial_task_id", f));
    auto score = g.find("score");
    if (score == g.end() || !score->is_number() ||
        !(score->get<double>() >= 0 && score->get<double>() <= 1)) {
      return InvalidField(absl::StrCat(f, ".score"),
                          "must be a number from 0 to 1");
    }
    x.score = score->get<double>();
    TS_ASSIGN_OR_RETURN(auto feedback, OptionalString(g, "feedback", f));
    x.feedback = std::string(absl::StripAsciiWhitespace(feedback.value_or("")));
    if (x.feedback.size() > kMaxFeedbackBytes) {
      return InvalidField(absl::StrCat(f, ".feedback"),
                          "must be at most 2000 bytes");
    }
    given.push_back(std::move(x));
  }
  const absl::Time now = clock_.Now();
  json out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    auto a = tx.GetTrialAttempt(attempt);
    if (!a.ok()) return NotFound("trial attempt");
    if (a->annotator_id == p.id) {
      return PermissionDenied("you cannot grade your own trial");
    }
    if (a->state != kGrading) {
      return FailedPrecondition(absl::StrCat("this attempt is ", a->state,
                                             ", not waiting for a grade"));
    }
    TS_ASSIGN_OR_RETURN(AttemptContext c, LoadAttempt(tx, *a));
    absl::flat_hash_map<int64_t, size_t> index;
    for (size_t i = 0; i < c.answers.size(); ++i) {
      index[c.answers[i].trial_task_id] = i;
    }
    absl::flat_hash_set<int64_t> done;
    for (size_t i = 0; i < given.size(); ++i) {
      const std::string f = absl::StrCat("grades[", i, "].trial_task_id");
      auto it = index.find(given[i].task_id);
      if (it == index.end()) {
        return InvalidField(f, "is not an answered task of this attempt");
      }
      if (!done.insert(given[i].task_id).second) {
        return InvalidField(f, "is graded twice");
      }
      TrialAnswerRow& w = c.answers[it->second];
      w.score = given[i].score;
      w.feedback = given[i].feedback;
      w.graded_by = p.id;
      w.graded_at = now;
    }
    for (const TrialAnswerRow& w : c.answers) {
      if (!done.contains(w.trial_task_id)) {
        return InvalidField("grades",
                            absl::StrCat("must grade every task of the "
                                         "attempt; trial task ",
                                         w.trial_task_id, " has no grade"));
      }
    }
    for (const TrialAnswerRow& w : c.answers) {
      TS_RETURN_IF_ERROR(tx.GradeTrialAnswer(w));
    }
    TS_RETURN_IF_ERROR(FinishAttempt(tx, c, kGrading, now));
    TS_RETURN_IF_ERROR(
        Audit(tx, p.id, "trial.grade", "trial_attempt", attempt,
              {{"state", std::string(kGrading)}},
              {{"state", c.attempt.state}, {"score", *c.attempt.score}}, now));
    out = AttemptJson(c, true);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<json> Service::ListMyTrials(const Principal& p) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kAnnotator));
  const absl::Time now = clock_.Now();
  json list = json::array();
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    list = json::array();
    TS_ASSIGN_OR_RETURN(auto attempts,
                        tx.ListTrialAttempts(p.id, std::nullopt));
    // Per pool, in order of the first attempt.
    std::vector<PoolId> order;
    absl::flat_hash_map<int64_t, std::vector<TrialAttemptRow>> by_pool;
    for (const TrialAttemptRow& a : attempts) {
      auto& v = by_pool[a.pool_id.value];
      if (v.empty()) order.push_back(a.pool_id);
      v.push_back(a);
    }
    for (PoolId id : order) {
      TS_ASSIGN_OR_RETURN(domain::Pool pool, tx.GetPool(id));
      const auto settings = domain::WorkforceOf(ParseStored(pool.config_json));
      const domain::TrialSettings& s = settings.trial;
      const auto& mine = by_pool[id.value];
      json items = json::array();
      bool passed = false;
      for (const TrialAttemptRow& a : mine) {
        passed = passed || a.state == kPassed;
        items.push_back(
            {{"id", a.id},
             {"state", a.state},
             {"score", Finished(a) ? OptScoreJson(a.score) : json(nullptr)},
             {"started_at", TimeJson(a.started_at)},
             {"finished_at", OptTimeJson(a.finished_at)}});
      }
      json next_try = nullptr;
      std::optional<std::string> blocker = StartBlocker(mine, s, now);
      for (const TrialAttemptRow& a : mine) {
        if (a.state == kInProgress) blocker = "an attempt is in progress";
      }
      if (!passed && mine.size() < static_cast<size_t>(s.max_tries)) {
        const TrialAttemptRow& last = mine.back();
        if (last.state == kFailed && last.finished_at) {
          next_try = Rfc3339(
              std::max(now, *last.finished_at + absl::Hours(s.cooldown_hours)));
        }
      }
      list.push_back({{"pool_id", id.value},
                      {"pool_name", pool.name},
                      {"passed", passed},
                      {"tries_used", mine.size()},
                      {"max_tries", s.max_tries},
                      {"cooldown_hours", s.cooldown_hours},
                      {"pass_threshold", s.pass_threshold},
                      {"can_start", !blocker.has_value()},
                      {"reason", blocker ? json(*blocker) : json(nullptr)},
                      {"next_try_at", next_try},
                      {"attempts", std::move(items)}});
    }
    return absl::OkStatus();
  }));
  return json{{"trials", list}};
}

}  // namespace tessera::service
