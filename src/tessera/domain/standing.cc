// Standing maths (smoothing, decay, score, tiers, hints) and gold grading.
#include "tessera/domain/standing.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tessera/base/status.h"

namespace tessera::domain {
namespace {

using nlohmann::json;

struct Sums {
  double successes = 0, count = 0, dsuccesses = 0, dcount = 0;
};

Sums Sum(const std::vector<Observation>& obs, const StandingPolicy& p,
         absl::Time now) {
  Sums s;
  for (const Observation& o : obs) {
    double w = DecayWeight(o.at, now, p);
    s.successes += o.successes;
    s.count += o.trials;
    s.dsuccesses += w * o.successes;
    s.dcount += w * o.trials;
  }
  return s;
}

StandingFactor Factor(const char* name, const Sums& s, double weight) {
  StandingFactor f;
  f.name = name;
  f.successes = s.successes;
  f.count = s.count;
  f.decayed_successes = s.dsuccesses;
  f.decayed_count = s.dcount;
  f.weight = weight;
  return f;
}

// Beta-smoothed rate.
double Smooth(const BetaPrior& prior, const Sums& s) {
  return (prior.alpha + s.dsuccesses) / (prior.alpha + prior.beta + s.dcount);
}

std::string Num(double v) { return absl::StrFormat("%.2f", v); }

}  // namespace

absl::Status ValidateStandingPolicy(const StandingPolicy& p) {
  auto bad = [](const char* field, double got, absl::string_view must) {
    return InvalidField(field, absl::StrCat("must be ", must, ", got ", got));
  };
  auto unit = [&](const char* field, double v) -> absl::Status {
    if (!(v >= 0 && v <= 1)) return bad(field, v, "in [0, 1]");
    return absl::OkStatus();
  };
  auto positive = [&](const char* field, double v) -> absl::Status {
    if (!(v > 0 && std::isfinite(v))) return bad(field, v, "more than 0");
    return absl::OkStatus();
  };
  auto prior = [&](const char* field, const BetaPrior& b) -> absl::Status {
    if (!(b.alpha > 0 && b.beta > 0 && std::isfinite(b.alpha) &&
          std::isfinite(b.beta))) {
      return InvalidField(
          field, absl::StrCat("must be [alpha, beta] with both more than 0, "
                              "got [",
                              b.alpha, ", ", b.beta, "]"));
    }
    return absl::OkStatus();
  };
  auto at_least = [&](const char* field, double v, double min,
                      absl::string_view what) -> absl::Status {
    if (!(v >= min)) return bad(field, v, absl::StrCat("at least ", what));
    return absl::OkStatus();
  };
  if (!(p.half_life > absl::ZeroDuration()) ||
      p.half_life == absl::InfiniteDuration()) {
    return InvalidField("half_life", "must be more than 0");
  }
  if (!(p.comeback_window > absl::ZeroDuration()) ||
      p.comeback_window == absl::InfiniteDuration()) {
    return InvalidField("comeback_window", "must be more than 0");
  }
  for (absl::Status s : {
           prior("gold_prior", p.gold_prior),
           prior("first_pass_prior", p.first_pass_prior),
           at_least("rounds_prior_mean", p.rounds_prior_mean, 1, "1"),
           positive("rounds_prior_mean", p.rounds_prior_mean),
           positive("rounds_prior_weight", p.rounds_prior_weight),
           prior("rejection_prior", p.rejection_prior),
           prior("agreement_prior", p.agreement_prior),
           positive("volume_scale", p.volume_scale),
           unit("gold_weight", p.gold_weight),
           unit("first_pass_weight", p.first_pass_weight),
           unit("rounds_weight", p.rounds_weight),
           unit("rejection_weight", p.rejection_weight),
           unit("agreement_weight", p.agreement_weight),
           unit("volume_weight", p.volume_weight),
       }) {
    TS_RETURN_IF_ERROR(s);
  }
  const double sum = p.gold_weight + p.first_pass_weight + p.rounds_weight +
                     p.rejection_weight + p.agreement_weight + p.volume_weight;
  if (std::abs(sum - 1) > 1e-6) {
    return InvalidField("weights",
                        absl::StrCat("the six weights (gold_weight, "
                                     "first_pass_weight, rounds_weight, "
                                     "rejection_weight, agreement_weight, "
                                     "volume_weight) must sum to 1, got ",
                                     sum));
  }
  for (absl::Status s : {
           at_least("contributor_min_reviewed", p.contributor_min_reviewed, 0,
                    "0"),
           unit("quality_min_score", p.quality_min_score),
           at_least("quality_min_reviewed", p.quality_min_reviewed,
                    p.contributor_min_reviewed,
                    absl::StrCat("contributor_min_reviewed (",
                                 p.contributor_min_reviewed, ")")),
           unit("quality_min_gold_accuracy", p.quality_min_gold_accuracy),
           at_least("quality_gold_checks", p.quality_gold_checks, 0, "0"),
           at_least("gold_bound_z", p.gold_bound_z, 0, "0"),
           unit("reviewer_min_score", p.reviewer_min_score),
           at_least(
               "reviewer_min_score", p.reviewer_min_score, p.quality_min_score,
               absl::StrCat("quality_min_score (", p.quality_min_score, ")")),
           at_least("reviewer_min_reviewed", p.reviewer_min_reviewed,
                    p.quality_min_reviewed,
                    absl::StrCat("quality_min_reviewed (",
                                 p.quality_min_reviewed, ")")),
           unit("comeback_share", p.comeback_share),
           at_least("comeback_min_reviewed", p.comeback_min_reviewed, 1, "1"),
           unit("scarce_open_share", p.scarce_open_share),
           at_least("scarce_price_minor",
                    static_cast<double>(p.scarce_price_minor), 0, "0"),
       }) {
    TS_RETURN_IF_ERROR(s);
  }
  if (!std::isfinite(p.gold_bound_z)) {
    return bad("gold_bound_z", p.gold_bound_z, "finite");
  }
  return absl::OkStatus();
}

double DecayWeight(absl::Time at, absl::Time now, const StandingPolicy& p) {
  absl::Duration age = std::max(absl::ZeroDuration(), now - at);
  return std::exp2(-absl::FDivDuration(age, p.half_life));
}

Standing ComputeStanding(const StandingInputs& in, const StandingPolicy& p,
                         absl::Time now) {
  Standing out;
  Sums gold = Sum(in.gold, p, now);
  Sums first = Sum(in.first_pass, p, now);
  Sums rounds = Sum(in.rounds, p, now);
  Sums rejection = Sum(in.rejection, p, now);
  Sums agreement = Sum(in.agreement, p, now);

  StandingFactor g = Factor("gold_accuracy", gold, p.gold_weight);
  g.prior = p.gold_prior.Mean();
  g.smoothed = g.value = Smooth(p.gold_prior, gold);

  StandingFactor f =
      Factor("first_pass_acceptance", first, p.first_pass_weight);
  f.prior = p.first_pass_prior.Mean();
  f.smoothed = f.value = Smooth(p.first_pass_prior, first);

  // Mean rounds, smoothed toward the prior mean; value = 1 / mean (1 round
  // on average is perfect).
  StandingFactor r = Factor("review_rounds", rounds, p.rounds_weight);
  r.prior = p.rounds_prior_mean;
  r.smoothed =
      (p.rounds_prior_mean * p.rounds_prior_weight + rounds.dsuccesses) /
      (p.rounds_prior_weight + rounds.dcount);
  r.value = std::clamp(1.0 / std::max(r.smoothed, 1.0), 0.0, 1.0);

  StandingFactor j = Factor("rejection_rate", rejection, p.rejection_weight);
  j.prior = p.rejection_prior.Mean();
  j.smoothed = Smooth(p.rejection_prior, rejection);
  j.value = 1 - j.smoothed;

  StandingFactor a = Factor("agreement", agreement, p.agreement_weight);
  a.prior = p.agreement_prior.Mean();
  a.smoothed = a.value = Smooth(p.agreement_prior, agreement);

  // Volume: decayed reviewed tasks, saturating.
  StandingFactor v = Factor("volume", first, p.volume_weight);
  v.successes = v.decayed_successes = 0;
  v.prior = 0;
  v.smoothed = first.dcount;
  v.value = first.dcount / (first.dcount + p.volume_scale);

  out.factors = {g, f, r, j, a, v};
  for (StandingFactor& x : out.factors) {
    x.contribution = x.weight * x.value;
    out.score += x.contribution;
  }
  out.score = std::clamp(out.score, 0.0, 1.0);
  out.reviewed = static_cast<int64_t>(std::llround(first.count));
  out.gold_checks = static_cast<int64_t>(std::llround(gold.count));
  out.gold_accuracy = g.value;
  {
    // Beta(a, b) posterior of the gold accuracy; its sd by the closed form.
    const double a = p.gold_prior.alpha + gold.dsuccesses;
    const double b = p.gold_prior.beta + gold.dcount - gold.dsuccesses;
    const double sd = std::sqrt(a * b / ((a + b) * (a + b) * (a + b + 1)));
    out.gold_accuracy_upper = std::min(1.0, a / (a + b) + p.gold_bound_z * sd);
  }
  out.tier = TierFor(out.score, out.reviewed, out.gold_checks,
                     out.gold_accuracy_upper, p);
  return out;
}

Tier TierFor(double score, int64_t reviewed, int64_t gold_checks,
             double gold_accuracy_upper, const StandingPolicy& p) {
  bool gold_ok = gold_checks < p.quality_gold_checks ||
                 gold_accuracy_upper >= p.quality_min_gold_accuracy;
  if (score >= p.reviewer_min_score && reviewed >= p.reviewer_min_reviewed &&
      gold_ok) {
    return Tier::kReviewerEligible;
  }
  if (score >= p.quality_min_score && reviewed >= p.quality_min_reviewed &&
      gold_ok) {
    return Tier::kQualityContributor;
  }
  if (reviewed >= p.contributor_min_reviewed) return Tier::kContributor;
  return Tier::kNewcomer;
}

std::vector<std::string> StandingHints(const Standing& s,
                                       const StandingPolicy& p) {
  std::vector<std::string> out;
  auto more = [&](int need, const char* tier) {
    if (s.reviewed < need) {
      out.push_back(absl::StrCat(need - s.reviewed,
                                 " more reviewed tasks to reach ", tier));
    }
  };
  auto score = [&](double need, const char* tier) {
    if (s.score < need) {
      out.push_back(absl::StrCat("score ", Num(s.score), " < ", Num(need),
                                 " needed for ", tier));
    }
  };
  auto gold = [&](const char* tier) {
    if (s.gold_checks >= p.quality_gold_checks &&
        s.gold_accuracy_upper < p.quality_min_gold_accuracy) {
      out.push_back(absl::StrCat("gold accuracy ", Num(s.gold_accuracy),
                                 " (at most ", Num(s.gold_accuracy_upper),
                                 ") < ", Num(p.quality_min_gold_accuracy),
                                 " needed for ", tier));
    }
  };
  if (s.tier < Tier::kContributor) {
    more(p.contributor_min_reviewed, "contributor");
  }
  if (s.tier < Tier::kQualityContributor) {
    more(p.quality_min_reviewed, "quality contributor");
    score(p.quality_min_score, "quality contributor");
    gold("quality contributor");
  } else if (s.tier < Tier::kReviewerEligible) {
    more(p.reviewer_min_reviewed, "reviewer eligible");
    score(p.reviewer_min_score, "reviewer eligible");
    gold("reviewer eligible");
  }
  if (s.tier < Tier::kReviewerEligible) {
    // The factor with the most room to add to the score.
    const StandingFactor* best = nullptr;
    for (const StandingFactor& f : s.factors) {
      if (best == nullptr ||
          f.weight * (1 - f.value) > best->weight * (1 - best->value)) {
        best = &f;
      }
    }
    if (best != nullptr && best->weight * (1 - best->value) > 0.005) {
      out.push_back(absl::StrCat(
          "most room to grow: ", best->name, " (value ", Num(best->value),
          ", weight ", Num(best->weight), ", up to +",
          Num(best->weight * (1 - best->value)), " score)"));
    }
  }
  return out;
}

json TierThresholdsJson(const StandingPolicy& p) {
  return json::array(
      {{{"tier", "newcomer"}, {"min_score", 0}, {"min_reviewed", 0}},
       {{"tier", "contributor"},
        {"min_score", 0},
        {"min_reviewed", p.contributor_min_reviewed}},
       {{"tier", "quality_contributor"},
        {"min_score", p.quality_min_score},
        {"min_reviewed", p.quality_min_reviewed},
        {"min_gold_accuracy", p.quality_min_gold_accuracy},
        {"gold_checks_needed", p.quality_gold_checks},
        {"gold_bound_z", p.gold_bound_z}},
       {{"tier", "reviewer_eligible"},
        {"min_score", p.reviewer_min_score},
        {"min_reviewed", p.reviewer_min_reviewed},
        {"min_gold_accuracy", p.quality_min_gold_accuracy},
        {"gold_checks_needed", p.quality_gold_checks},
        {"gold_bound_z", p.gold_bound_z}}});
}

std::optional<std::string> ComebackReason(int64_t reviewed, int64_t came_back,
                                          const StandingPolicy& p) {
  if (reviewed < p.comeback_min_reviewed || reviewed <= 0) return std::nullopt;
  double share = static_cast<double>(came_back) / static_cast<double>(reviewed);
  if (share < p.comeback_share) return std::nullopt;
  return absl::StrCat(
      "work keeps coming back: ", std::llround(share * 100),
      "% returned or rejected in the last ",
      absl::ToInt64Hours(p.comeback_window) / 24, " days (", came_back, " of ",
      reviewed, ") \xE2\x86\x92 at most 1 concurrent claim, lower priority");
}

namespace {

double BoxIoU(const json& a, const json& b) {
  double ax1 = a.value("x", 0.0), ay1 = a.value("y", 0.0);
  double ax2 = ax1 + a.value("w", 0.0), ay2 = ay1 + a.value("h", 0.0);
  double bx1 = b.value("x", 0.0), by1 = b.value("y", 0.0);
  double bx2 = bx1 + b.value("w", 0.0), by2 = by1 + b.value("h", 0.0);
  double iw = std::max(0.0, std::min(ax2, bx2) - std::max(ax1, bx1));
  double ih = std::max(0.0, std::min(ay2, by2) - std::max(ay1, by1));
  double inter = iw * ih;
  double uni = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  return uni > 0 ? inter / uni : 0;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::optional<GoldGrade> GradeGold(TaskType type, const json& result,
                                   const json& gold, double rating_tolerance,
                                   double iou_threshold) {
  if (!result.is_object() || !gold.is_object()) return std::nullopt;
  switch (type) {
    case TaskType::kClassify: {
      bool ok = Str(result, "label") == Str(gold, "label");
      return GoldGrade{ok ? 1.0 : 0.0, ok};
    }
    case TaskType::kPairwise: {
      bool ok = Str(result, "choice") == Str(gold, "choice");
      return GoldGrade{ok ? 1.0 : 0.0, ok};
    }
    case TaskType::kRating: {
      const json gs = gold.value("scores", json::object());
      const json rs = result.value("scores", json::object());
      if (!gs.is_object() || gs.empty()) return std::nullopt;
      int within = 0;
      for (auto it = gs.begin(); it != gs.end(); ++it) {
        auto r = rs.find(it.key());
        if (r != rs.end() && r->is_number() && it->is_number() &&
            std::abs(r->get<double>() - it->get<double>()) <=
                rating_tolerance) {
          ++within;
        }
      }
      double score = static_cast<double>(within) / gs.size();
      return GoldGrade{score, within == static_cast<int>(gs.size())};
    }
    case TaskType::kBbox: {
      const json gb = gold.value("boxes", json::array());
      const json rb = result.value("boxes", json::array());
      if (!gb.is_array() || !rb.is_array()) return std::nullopt;
      if (gb.empty() && rb.empty()) return GoldGrade{1.0, true};
      // Greedy one-to-one matching, best IoU first.
      struct Pair {
        double iou;
        size_t g, r;
      };
      std::vector<Pair> pairs;
      for (size_t g = 0; g < gb.size(); ++g) {
        for (size_t r = 0; r < rb.size(); ++r) {
          if (Str(gb[g], "label") != Str(rb[r], "label")) continue;
          double iou = BoxIoU(gb[g], rb[r]);
          if (iou >= iou_threshold) pairs.push_back({iou, g, r});
        }
      }
      std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) {
        if (a.iou != b.iou) return a.iou > b.iou;
        if (a.g != b.g) return a.g < b.g;
        return a.r < b.r;
      });
      std::vector<bool> gu(gb.size()), ru(rb.size());
      double matched = 0;
      for (const Pair& pr : pairs) {
        if (gu[pr.g] || ru[pr.r]) continue;
        gu[pr.g] = ru[pr.r] = true;
        matched += 1;
      }
      double f1 = 2 * matched / static_cast<double>(gb.size() + rb.size());
      return GoldGrade{f1, f1 >= 0.5};
    }
    case TaskType::kRewrite:
    case TaskType::kReference:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace tessera::domain
