// Unit tests of Bradley-Terry, Crowd-BT and the Spearman helper.
#include "tessera/algo/pairwise.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::algo {
namespace {

PairwiseData Data(int32_t items, int32_t workers) {
  PairwiseData d;
  d.num_items = items;
  d.num_workers = workers;
  return d;
}

void Add(PairwiseData& d, int32_t worker, int32_t left, int32_t right,
         PairOutcome o, int times = 1) {
  for (int t = 0; t < times; ++t) {
    d.worker.push_back(worker);
    d.left.push_back(left);
    d.right.push_back(right);
    d.outcome.push_back(o);
  }
}

TEST(BradleyTerryTest, TwoItemsRecoverTheOddsRatio) {
  PairwiseData d = Data(2, 1);
  Add(d, 0, 0, 1, PairOutcome::kLeft, 3);
  Add(d, 0, 1, 0, PairOutcome::kLeft, 1);  // item 1 wins once
  BradleyTerryOptions o;
  o.prior_comparisons = 0;  // pure maximum likelihood: pi_0 / pi_1 = 3
  auto r = BradleyTerry(d, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->converged);
  EXPECT_NEAR(r->score[0] - r->score[1], std::log(3.0), 1e-6);
  EXPECT_THAT(r->ranking, ::testing::ElementsAre(0, 1));
  EXPECT_THAT(r->comparisons, ::testing::ElementsAre(4, 4));
  // log L = 3 log(3/4) + log(1/4).
  EXPECT_NEAR(r->log_likelihood, 3 * std::log(0.75) + std::log(0.25), 1e-6);
  EXPECT_TRUE(r->worker_reliability.empty());
}

TEST(BradleyTerryTest, TiesCountAsHalfAWinEach) {
  PairwiseData d = Data(2, 1);
  Add(d, 0, 0, 1, PairOutcome::kTie, 2);
  Add(d, 0, 0, 1, PairOutcome::kLeft, 1);
  BradleyTerryOptions o;
  o.prior_comparisons = 0;
  auto r = BradleyTerry(d, o);
  ASSERT_TRUE(r.ok()) << r.status();
  // Wins: item 0 = 1 + 2 * 0.5 = 2, item 1 = 1; ratio 2.
  EXPECT_NEAR(r->score[0] - r->score[1], std::log(2.0), 1e-6);
}

TEST(BradleyTerryTest, RightOutcomeCreditsTheRightItem) {
  PairwiseData d = Data(3, 1);
  Add(d, 0, 0, 1, PairOutcome::kRight, 2);  // 1 > 0
  Add(d, 0, 1, 2, PairOutcome::kRight, 2);  // 2 > 1
  Add(d, 0, 0, 2, PairOutcome::kRight, 2);  // 2 > 0
  auto r = BradleyTerry(d);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->ranking, ::testing::ElementsAre(2, 1, 0));
}

TEST(BradleyTerryTest, RegularisationKeepsNeverWinningItemsFinite) {
  PairwiseData d = Data(4, 1);
  Add(d, 0, 0, 1, PairOutcome::kLeft, 5);
  Add(d, 0, 1, 2, PairOutcome::kLeft, 5);
  // Item 3 is never compared.
  auto r = BradleyTerry(d);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->converged);
  for (double s : r->score) EXPECT_TRUE(std::isfinite(s));
  EXPECT_GT(r->score[0], r->score[1]);
  EXPECT_GT(r->score[1], r->score[2]);
  EXPECT_EQ(r->score[3], 0.0);
  EXPECT_EQ(r->comparisons[3], 0);
  EXPECT_LT(r->score[2], 0.0);  // never won: below the neutral item
  EXPECT_GT(r->score[0], 0.0);  // never lost: above it
}

TEST(BradleyTerryTest, RejectsBadInput) {
  PairwiseData self = Data(2, 1);
  Add(self, 0, 1, 1, PairOutcome::kLeft);
  EXPECT_EQ(BradleyTerry(self).status().code(),
            absl::StatusCode::kInvalidArgument);
  PairwiseData range = Data(2, 1);
  Add(range, 0, 0, 2, PairOutcome::kLeft);
  EXPECT_EQ(BradleyTerry(range).status().code(),
            absl::StatusCode::kInvalidArgument);
  PairwiseData worker = Data(2, 1);
  Add(worker, 1, 0, 1, PairOutcome::kLeft);
  EXPECT_EQ(CrowdBradleyTerry(worker).status().code(),
            absl::StatusCode::kInvalidArgument);
  PairwiseData ragged = Data(2, 1);
  Add(ragged, 0, 0, 1, PairOutcome::kLeft);
  ragged.outcome.pop_back();
  EXPECT_EQ(BradleyTerry(ragged).status().code(),
            absl::StatusCode::kInvalidArgument);
  PairwiseData ok = Data(2, 1);
  Add(ok, 0, 0, 1, PairOutcome::kLeft);
  BradleyTerryOptions bad;
  bad.prior_comparisons = -1;
  EXPECT_EQ(BradleyTerry(ok, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// 40 items with true scores; workers 0-5 answer by Bradley-Terry, 6-7
// answer at random, 8-9 always report the true loser.
PairwiseData NoisyCrowd(std::vector<double>& truth) {
  std::mt19937 rng(12345);
  auto uniform = [&] { return (rng() + 0.5) / 4294967296.0; };
  const int32_t items = 40;
  truth.resize(items);
  for (int32_t i = 0; i < items; ++i) truth[i] = 0.1 * i;
  PairwiseData d = Data(items, 10);
  for (int k = 0; k < 6000; ++k) {
    const int32_t l = static_cast<int32_t>(rng() % items);
    const int32_t r =
        static_cast<int32_t>((l + 1 + rng() % (items - 1)) % items);
    const int32_t w = static_cast<int32_t>(rng() % 10);
    const double p = 1.0 / (1.0 + std::exp(truth[r] - truth[l]));
    bool left_wins = uniform() < p;
    if (w >= 6 && w < 8) left_wins = uniform() < 0.5;
    if (w >= 8) left_wins = truth[l] < truth[r];
    Add(d, w, l, r, left_wins ? PairOutcome::kLeft : PairOutcome::kRight);
  }
  return d;
}

TEST(CrowdBtTest, LearnsWhoIsReliableAndRanksBetter) {
  std::vector<double> truth;
  const PairwiseData d = NoisyCrowd(truth);
  auto bt = BradleyTerry(d);
  auto crowd = CrowdBradleyTerry(d);
  ASSERT_TRUE(bt.ok()) << bt.status();
  ASSERT_TRUE(crowd.ok()) << crowd.status();
  // Here EM creeps along the ridge where eta and the score scale trade off
  // (the top item's strength keeps growing slowly), so it may stop at
  // max_em_iterations; the ranking and reliabilities have settled long
  // before.
  ASSERT_EQ(crowd->worker_reliability.size(), 10u);
  // Honest workers' eta trades off against the score scale, so it need not
  // reach 1; it must clearly separate them from the others.
  for (int w = 0; w < 6; ++w)
    EXPECT_GT(crowd->worker_reliability[w], 0.75) << w;
  for (int w = 6; w < 8; ++w) {
    EXPECT_NEAR(crowd->worker_reliability[w], 0.5, 0.1) << w;
  }
  for (int w = 8; w < 10; ++w)
    EXPECT_LT(crowd->worker_reliability[w], 0.1) << w;
  const double rho_bt = SpearmanCorrelation(bt->score, truth);
  const double rho_crowd = SpearmanCorrelation(crowd->score, truth);
  EXPECT_GT(rho_crowd, 0.95);
  EXPECT_GT(rho_crowd, rho_bt + 0.05);
  EXPECT_GT(crowd->log_likelihood, bt->log_likelihood);
}

TEST(SpearmanTest, HandCheckedValues) {
  EXPECT_DOUBLE_EQ(SpearmanCorrelation({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0);
  EXPECT_DOUBLE_EQ(SpearmanCorrelation({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0);
  // Ranks (1, 2, 3) vs (1.5, 1.5, 3): r = 0.866...
  EXPECT_NEAR(SpearmanCorrelation({1, 2, 3}, {5, 5, 9}), std::sqrt(0.75),
              1e-12);
  EXPECT_EQ(SpearmanCorrelation({1, 1, 1}, {1, 2, 3}), 0.0);
}

}  // namespace
}  // namespace tessera::algo
