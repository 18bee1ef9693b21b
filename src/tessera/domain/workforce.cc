// Parsing and defaults of a pool's workforce settings.
#include "tessera/domain/workforce.h"

#include "absl/strings/str_cat.h"
#include "tessera/base/json_util.h"
#include "tessera/base/status.h"

namespace tessera::domain {
namespace {

using nlohmann::json;

constexpr Tier kTiers[] = {Tier::kNewcomer, Tier::kContributor,
                           Tier::kQualityContributor, Tier::kReviewerEligible};

absl::StatusOr<double> Fraction(const json& obj, const char* key, double def,
                                absl::string_view field, double lo = 0,
                                double hi = 1) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return def;
  if (!it->is_number() || it->get<double>() < lo || it->get<double>() > hi) {
    return InvalidField(JoinField(field, key),
                        absl::StrCat("must be a number from ", lo, " to ", hi));
  }
  return it->get<double>();
}

absl::StatusOr<int> Count(const json& obj, const char* key, int def,
                          absl::string_view field, int lo, int hi) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return def;
  if (!it->is_number_integer() || it->get<int64_t>() < lo ||
      it->get<int64_t>() > hi) {
    return InvalidField(
        JoinField(field, key),
        absl::StrCat("must be an integer from ", lo, " to ", hi));
  }
  return static_cast<int>(it->get<int64_t>());
}

absl::StatusOr<bool> Flag(const json& obj, const char* key, bool def,
                          absl::string_view field) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return def;
  if (!it->is_boolean()) {
    return InvalidField(JoinField(field, key), "must be a boolean");
  }
  return it->get<bool>();
}

}  // namespace

absl::string_view ToString(Tier t) {
  switch (t) {
    case Tier::kNewcomer:
      return "newcomer";
    case Tier::kContributor:
      return "contributor";
    case Tier::kQualityContributor:
      return "quality_contributor";
    case Tier::kReviewerEligible:
      return "reviewer_eligible";
  }
  return "newcomer";
}

std::optional<Tier> TierFromString(absl::string_view s) {
  for (Tier t : kTiers) {
    if (ToString(t) == s) return t;
  }
  return std::nullopt;
}

absl::StatusOr<WorkforceSettings> ParseWorkforce(const json& j,
                                                 absl::string_view field) {
  WorkforceSettings w;
  if (j.is_null()) return w;
  TS_RETURN_IF_ERROR(RequireObject(j, field));
  TS_ASSIGN_OR_RETURN(auto domain, OptionalString(j, "domain", field));
  w.domain = domain.value_or("");
  TS_ASSIGN_OR_RETURN(w.skill, OptionalString(j, "skill", field));
  if (w.skill && w.skill->empty()) w.skill.reset();

  if (auto t = j.find("trial"); t != j.end() && !t->is_null()) {
    const std::string tf = JoinField(field, "trial");
    TS_RETURN_IF_ERROR(RequireObject(*t, tf));
    TrialSettings& s = w.trial;
    TS_ASSIGN_OR_RETURN(s.required, Flag(*t, "required", s.required, tf));
    TS_ASSIGN_OR_RETURN(s.pass_threshold,
                        Fraction(*t, "pass_threshold", s.pass_threshold, tf));
    TS_ASSIGN_OR_RETURN(s.tasks, Count(*t, "tasks", s.tasks, tf, 1, 200));
    TS_ASSIGN_OR_RETURN(s.max_tries,
                        Count(*t, "max_tries", s.max_tries, tf, 1, 100));
    TS_ASSIGN_OR_RETURN(
        s.cooldown_hours,
        Count(*t, "cooldown_hours", s.cooldown_hours, tf, 0, 24 * 365));
    TS_ASSIGN_OR_RETURN(s.paid, Flag(*t, "paid", s.paid, tf));
    TS_ASSIGN_OR_RETURN(
        s.rating_tolerance,
        Fraction(*t, "rating_tolerance", s.rating_tolerance, tf, 0, 100));
    TS_ASSIGN_OR_RETURN(s.iou_threshold,
                        Fraction(*t, "iou_threshold", s.iou_threshold, tf));
  }
  TS_ASSIGN_OR_RETURN(w.gold_rate, Fraction(j, "gold_rate", 0, field, 0, 0.5));
  if (auto t = j.find("tier_min"); t != j.end() && !t->is_null()) {
    auto tier =
        t->is_string() ? TierFromString(t->get<std::string>()) : std::nullopt;
    if (!tier) {
      return InvalidField(JoinField(field, "tier_min"),
                          "must be newcomer, contributor, quality_contributor "
                          "or reviewer_eligible");
    }
    w.tier_min = *tier;
  }
  TS_ASSIGN_OR_RETURN(w.exploration_share,
                      Fraction(j, "exploration_share", 0.1, field, 0, 0.5));
  TS_ASSIGN_OR_RETURN(w.daily_cap, Count(j, "daily_cap", 0, field, 0, 100000));
  TS_ASSIGN_OR_RETURN(w.break_after_minutes,
                      Count(j, "break_after_minutes", 0, field, 0, 24 * 60));
  if (auto f = j.find("hourly_floor"); f != j.end() && !f->is_null()) {
    TS_ASSIGN_OR_RETURN(w.hourly_floor,
                        MoneyFromJson(*f, JoinField(field, "hourly_floor")));
  }
  if (auto d = j.find("dynamic_overlap"); d != j.end() && !d->is_null()) {
    const std::string df = JoinField(field, "dynamic_overlap");
    TS_RETURN_IF_ERROR(RequireObject(*d, df));
    DynamicOverlap& o = w.dynamic_overlap;
    TS_ASSIGN_OR_RETURN(o.min, Count(*d, "min", 1, df, 1, 100));
    TS_ASSIGN_OR_RETURN(o.max, Count(*d, "max", 0, df, 0, 100));
    TS_ASSIGN_OR_RETURN(o.confidence,
                        Fraction(*d, "confidence", 0.9, df, 0.5, 1));
    if (o.max > 0 && o.max < o.min) {
      return InvalidField(JoinField(df, "max"), "must be at least min");
    }
  }
  return w;
}

json WorkforceToJson(const WorkforceSettings& w) {
  const TrialSettings& t = w.trial;
  return json{
      {"domain", w.domain},
      {"skill", w.skill ? json(*w.skill) : json(nullptr)},
      {"trial",
       {{"required", t.required},
        {"pass_threshold", t.pass_threshold},
        {"tasks", t.tasks},
        {"max_tries", t.max_tries},
        {"cooldown_hours", t.cooldown_hours},
        {"paid", t.paid},
        {"rating_tolerance", t.rating_tolerance},
        {"iou_threshold", t.iou_threshold}}},
      {"gold_rate", w.gold_rate},
      {"tier_min", ToString(w.tier_min)},
      {"exploration_share", w.exploration_share},
      {"daily_cap", w.daily_cap},
      {"break_after_minutes", w.break_after_minutes},
      {"hourly_floor",
       w.hourly_floor ? MoneyToJson(*w.hourly_floor) : json(nullptr)},
      {"dynamic_overlap",
       {{"min", w.dynamic_overlap.min},
        {"max", w.dynamic_overlap.max},
        {"confidence", w.dynamic_overlap.confidence}}},
  };
}

WorkforceSettings WorkforceOf(const json& pool_config) {
  auto it = pool_config.find("workforce");
  if (it == pool_config.end()) return WorkforceSettings{};
  auto parsed = ParseWorkforce(*it, "config.workforce");
  return parsed.ok() ? *parsed : WorkforceSettings{};
}

}  // namespace tessera::domain
