// Standing maths checked by hand: smoothing, decay, score, tiers, hints, and
// gold grading.
#include "tessera/domain/standing.h"

#include <cmath>

#include "gtest/gtest.h"
#include "tessera/base/status.h"

namespace tessera::domain {
namespace {

using nlohmann::json;

constexpr double kEps = 1e-12;
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

const StandingFactor& F(const Standing& s, const std::string& name) {
  for (const auto& f : s.factors) {
    if (f.name == name) return f;
  }
  ADD_FAILURE() << "no factor " << name;
  return s.factors.front();
}

TEST(StandingTest, WeightsSumToOne) {
  StandingPolicy p;
  EXPECT_NEAR(p.gold_weight + p.first_pass_weight + p.rounds_weight +
                  p.rejection_weight + p.agreement_weight + p.volume_weight,
              1.0, kEps);
}

// Case 1, no data: every factor is its prior.
//   gold 3.5/5 = 0.7, first pass 0.7, rounds 1/1.25 = 0.8,
//   rejection 1 - 0.5/5 = 0.9, agreement 0.7, volume 0.
//   score = 0.3*0.7 + 0.2*0.7 + 0.1*0.8 + 0.15*0.9 + 0.15*0.7 + 0.1*0
//         = 0.21 + 0.14 + 0.08 + 0.135 + 0.105 = 0.67
TEST(StandingTest, NoDataFallsBackToPriors) {
  Standing s = ComputeStanding({}, StandingPolicy{}, kNow);
  EXPECT_NEAR(F(s, "gold_accuracy").value, 0.7, kEps);
  EXPECT_NEAR(F(s, "review_rounds").value, 0.8, kEps);
  EXPECT_NEAR(F(s, "rejection_rate").value, 0.9, kEps);
  EXPECT_NEAR(F(s, "volume").value, 0.0, kEps);
  EXPECT_NEAR(s.score, 0.67, kEps);
  EXPECT_EQ(s.tier, Tier::kNewcomer);
  EXPECT_EQ(s.reviewed, 0);
}

// Case 2, all today: 4 of 5 gold checks passed; 10 reviewed, 8 first pass,
// 12 rounds in all; 1 of 10 decided rejected; 9 of 10 answers agree.
//   gold       (3.5+4)/(5+5)     = 0.75
//   first pass (3.5+8)/(5+10)    = 23/30
//   rounds     (1.25*4+12)/(4+10) = 17/14 -> value 14/17
//   rejection  (0.5+1)/(5+10)    = 0.1   -> value 0.9
//   agreement  (3.5+9)/(5+10)    = 5/6
//   volume     10/(10+30)        = 0.25
//   score = 0.225 + 0.2*23/30 + 0.1*14/17 + 0.135 + 0.125 + 0.025
//         = 0.745686274509804 (below 0.8: contributor by volume only)
TEST(StandingTest, SmoothedCounts) {
  StandingInputs in;
  in.gold = {{kNow, 4, 5}};
  in.first_pass = {{kNow, 8, 10}};
  in.rounds = {{kNow, 12, 10}};
  in.rejection = {{kNow, 1, 10}};
  in.agreement = {{kNow, 9, 10}};
  Standing s = ComputeStanding(in, StandingPolicy{}, kNow);
  EXPECT_NEAR(F(s, "gold_accuracy").value, 0.75, kEps);
  EXPECT_NEAR(F(s, "first_pass_acceptance").value, 23.0 / 30, kEps);
  EXPECT_NEAR(F(s, "review_rounds").smoothed, 17.0 / 14, kEps);
  EXPECT_NEAR(F(s, "review_rounds").value, 14.0 / 17, kEps);
  EXPECT_NEAR(F(s, "rejection_rate").smoothed, 0.1, kEps);
  EXPECT_NEAR(F(s, "agreement").value, 5.0 / 6, kEps);
  EXPECT_NEAR(F(s, "volume").value, 0.25, kEps);
  const double expected =
      0.225 + 0.2 * 23.0 / 30 + 0.1 * 14.0 / 17 + 0.135 + 0.125 + 0.025;
  EXPECT_NEAR(s.score, expected, kEps);
  EXPECT_NEAR(s.score, 0.745686274509804, 1e-12);
  EXPECT_EQ(s.tier, Tier::kContributor);
  auto hints = StandingHints(s, StandingPolicy{});
  ASSERT_GE(hints.size(), 2u);
  EXPECT_EQ(hints[0], "20 more reviewed tasks to reach quality contributor");
  EXPECT_EQ(hints[1], "score 0.75 < 0.80 needed for quality contributor");
}

// Case 3, decay: 2 failed gold checks exactly one half-life (90 days) ago
// weigh 0.5 each: gold = 3.5 / (5 + 2*0.5) = 3.5/6 = 0.583333...; the raw
// count stays 2.
TEST(StandingTest, DecayHalvesOldEvidence) {
  StandingInputs in;
  in.gold = {{kNow - absl::Hours(90 * 24), 0, 2}};
  Standing s = ComputeStanding(in, StandingPolicy{}, kNow);
  EXPECT_NEAR(DecayWeight(kNow - absl::Hours(90 * 24), kNow, StandingPolicy{}),
              0.5, kEps);
  EXPECT_NEAR(F(s, "gold_accuracy").decayed_count, 1.0, kEps);
  EXPECT_NEAR(F(s, "gold_accuracy").value, 3.5 / 6, kEps);
  EXPECT_EQ(s.gold_checks, 2);
  // Future observations (clock skew) weigh 1, never more.
  EXPECT_NEAR(DecayWeight(kNow + absl::Hours(1), kNow, StandingPolicy{}), 1.0,
              kEps);
}

// Case 4, a strong record today: 100 reviewed, all first pass in 1 round,
// none rejected, 20/20 gold, 100/100 agreement.
//   gold 23.5/25 = 0.94; first pass 103.5/105; rounds (5+100)/104 -> value
//   104/105; rejection 0.5/105 -> value 104.5/105; agreement 103.5/105;
//   volume 100/130.
//   score = 0.282 + 0.2*103.5/105 + 0.1*104/105 + 0.15*104.5/105
//           + 0.15*103.5/105 + 0.1*100/130 = 0.9522564102564...
TEST(StandingTest, ReviewerEligible) {
  StandingInputs in;
  in.gold = {{kNow, 20, 20}};
  in.first_pass = {{kNow, 100, 100}};
  in.rounds = {{kNow, 100, 100}};
  in.rejection = {{kNow, 0, 100}};
  in.agreement = {{kNow, 100, 100}};
  Standing s = ComputeStanding(in, StandingPolicy{}, kNow);
  const double expected = 0.282 + 0.2 * 103.5 / 105 + 0.1 * 104.0 / 105 +
                          0.15 * 104.5 / 105 + 0.15 * 103.5 / 105 +
                          0.1 * 100.0 / 130;
  EXPECT_NEAR(s.score, expected, kEps);
  EXPECT_NEAR(s.score, 0.952256410256410, 1e-12);
  EXPECT_EQ(s.tier, Tier::kReviewerEligible);
  EXPECT_TRUE(StandingHints(s, StandingPolicy{}).empty());
}

TEST(StandingTest, TierThresholds) {
  StandingPolicy p;
  EXPECT_EQ(TierFor(0.99, 9, 0, 0, p), Tier::kNewcomer);
  EXPECT_EQ(TierFor(0.5, 10, 0, 0, p), Tier::kContributor);
  EXPECT_EQ(TierFor(0.8, 30, 0, 0, p), Tier::kQualityContributor);
  // From five gold checks on, the upper bound of the gold accuracy must
  // reach 0.8.
  EXPECT_EQ(TierFor(0.85, 30, 5, 0.79, p), Tier::kContributor);
  EXPECT_EQ(TierFor(0.85, 30, 4, 0.1, p), Tier::kQualityContributor);
  EXPECT_EQ(TierFor(0.9, 100, 5, 0.8, p), Tier::kReviewerEligible);
  EXPECT_EQ(TierFor(0.89, 100, 5, 0.8, p), Tier::kQualityContributor);
}

TEST(StandingTest, ValidatePolicy) {
  EXPECT_TRUE(ValidateStandingPolicy(StandingPolicy{}).ok());
  auto field_of = [](const StandingPolicy& p) {
    absl::Status s = ValidateStandingPolicy(p);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    return FieldOf(s).value_or("");
  };
  StandingPolicy p;
  p.quality_min_score = 1.5;
  EXPECT_EQ(field_of(p), "quality_min_score");
  p = {};
  p.reviewer_min_score = 0.75;  // below quality_min_score 0.8
  EXPECT_EQ(field_of(p), "reviewer_min_score");
  EXPECT_EQ(ValidateStandingPolicy(p).message(),
            "must be at least quality_min_score (0.8), got 0.75");
  p = {};
  p.quality_min_reviewed = 5;  // below contributor_min_reviewed 10
  EXPECT_EQ(field_of(p), "quality_min_reviewed");
  p = {};
  p.reviewer_min_reviewed = 20;
  EXPECT_EQ(field_of(p), "reviewer_min_reviewed");
  p = {};
  p.gold_weight = 0.4;  // sum 1.1
  EXPECT_EQ(field_of(p), "weights");
  p = {};
  p.volume_weight = -0.1;
  EXPECT_EQ(field_of(p), "volume_weight");
  p = {};
  p.gold_prior = {0, 1};
  EXPECT_EQ(field_of(p), "gold_prior");
  p = {};
  p.rounds_prior_mean = 0.5;
  EXPECT_EQ(field_of(p), "rounds_prior_mean");
  p = {};
  p.half_life = absl::ZeroDuration();
  EXPECT_EQ(field_of(p), "half_life");
  p = {};
  p.comeback_share = std::nan("");
  EXPECT_EQ(field_of(p), "comeback_share");
  p = {};
  p.comeback_min_reviewed = 0;
  EXPECT_EQ(field_of(p), "comeback_min_reviewed");
  p = {};
  p.scarce_price_minor = -1;
  EXPECT_EQ(field_of(p), "scarce_price_minor");
  // Equal thresholds are allowed: the tiers still differ by volume.
  p = {};
  p.reviewer_min_score = 0.8;
  EXPECT_TRUE(ValidateStandingPolicy(p).ok());
}

TEST(StandingTest, GoldAccuracyHint) {
  StandingInputs in;
  // (3.5+1)/15 = 0.3; Beta(4.5, 10.5): sd sqrt(4.5*10.5/(15^2*16)) =
  // 0.11456, bound 0.3 + 1.2816 x 0.11456 = 0.4468.
  in.gold = {{kNow, 1, 10}};
  Standing s = ComputeStanding(in, StandingPolicy{}, kNow);
  EXPECT_NEAR(s.gold_accuracy_upper, 0.4468, 1e-4);
  auto hints = StandingHints(s, StandingPolicy{});
  EXPECT_NE(std::find(hints.begin(), hints.end(),
                      "gold accuracy 0.30 (at most 0.45) < 0.80 needed for "
                      "quality contributor"),
            hints.end());
  EXPECT_NE(std::find(hints.begin(), hints.end(),
                      "10 more reviewed tasks to reach contributor"),
            hints.end());
}

// Few gold checks hold nobody back; many poor ones do. Beta(3.5 + right,
// 1.5 + wrong): 3 of 5 -> mean 0.65, bound 0.834; 13 of 20 -> 0.66, 0.779.
TEST(StandingTest, GoldRuleNeedsEvidence) {
  StandingPolicy p;
  StandingInputs few;
  few.gold = {{kNow, 3, 5}};
  Standing s = ComputeStanding(few, p, kNow);
  EXPECT_NEAR(s.gold_accuracy, 0.65, 1e-9);
  EXPECT_NEAR(s.gold_accuracy_upper, 0.834, 1e-3);
  EXPECT_EQ(TierFor(0.85, 30, s.gold_checks, s.gold_accuracy_upper, p),
            Tier::kQualityContributor);
  StandingInputs many;
  many.gold = {{kNow, 13, 20}};
  s = ComputeStanding(many, p, kNow);
  EXPECT_NEAR(s.gold_accuracy, 0.66, 1e-9);
  EXPECT_NEAR(s.gold_accuracy_upper, 0.779, 1e-3);
  EXPECT_EQ(TierFor(0.85, 30, s.gold_checks, s.gold_accuracy_upper, p),
            Tier::kContributor);
}

TEST(StandingTest, Comeback) {
  StandingPolicy p;
  EXPECT_FALSE(ComebackReason(9, 9, p));  // too few reviewed
  EXPECT_FALSE(ComebackReason(10, 2, p));
  auto r = ComebackReason(10, 4, p);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r,
            "work keeps coming back: 40% returned or rejected in the last 30 "
            "days (4 of 10) \xE2\x86\x92 at most 1 concurrent claim, lower "
            "priority");
}

TEST(GradeGoldTest, EachType) {
  EXPECT_TRUE(
      GradeGold(TaskType::kClassify, {{"label", "cat"}}, {{"label", "cat"}})
          ->passed);
  EXPECT_FALSE(
      GradeGold(TaskType::kClassify, {{"label", "dog"}}, {{"label", "cat"}})
          ->passed);
  EXPECT_TRUE(GradeGold(TaskType::kPairwise, {{"choice", "a"}},
                        {{"choice", "a"}, {"rationale", "x"}})
                  ->passed);
  json gold_scores = {{"scores", {{"help", 4}, {"safe", 2}}}};
  auto within = GradeGold(
      TaskType::kRating, {{"scores", {{"help", 5}, {"safe", 1}}}}, gold_scores);
  EXPECT_TRUE(within->passed);
  auto off = GradeGold(TaskType::kRating,
                       {{"scores", {{"help", 2}, {"safe", 2}}}}, gold_scores);
  EXPECT_FALSE(off->passed);
  EXPECT_NEAR(off->score, 0.5, kEps);
  // Boxes: one of two gold boxes found (IoU 0.81 >= 0.5), one extra box of
  // the wrong label: F1 = 2*1/(2+2) = 0.5, passes.
  json gold_boxes = {
      {"boxes",
       {{{"label", "p"}, {"x", 0}, {"y", 0}, {"w", 10}, {"h", 10}},
        {{"label", "p"}, {"x", 50}, {"y", 50}, {"w", 10}, {"h", 10}}}}};
  json drawn = {
      {"boxes",
       {{{"label", "p"}, {"x", 1}, {"y", 1}, {"w", 9}, {"h", 9}},
        {{"label", "q"}, {"x", 50}, {"y", 50}, {"w", 10}, {"h", 10}}}}};
  auto boxes = GradeGold(TaskType::kBbox, drawn, gold_boxes);
  EXPECT_NEAR(boxes->score, 0.5, kEps);
  EXPECT_TRUE(boxes->passed);
  EXPECT_FALSE(
      GradeGold(TaskType::kBbox, {{"boxes", json::array()}}, gold_boxes)
          ->passed);
  EXPECT_FALSE(GradeGold(TaskType::kRewrite, {{"text", "a"}}, {{"text", "a"}}));
}

}  // namespace
}  // namespace tessera::domain
