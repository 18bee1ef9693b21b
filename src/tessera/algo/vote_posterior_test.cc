// Hand-checked cases of the one-coin weighted-vote posterior and the smoothed
// agreement reliability that dynamic overlap decides with.
#include "tessera/algo/vote_posterior.h"

#include <cmath>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::algo {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;

TEST(OneCoinPosteriorTest, NoVotesIsUniform) {
  EXPECT_THAT(OneCoinPosterior({}, 4), ElementsAre(0.25, 0.25, 0.25, 0.25));
}

TEST(OneCoinPosteriorTest, OneVoteGivesItsAccuracy) {
  // K = 2: P(0) = 0.9 / (0.9 + 0.1).
  std::vector<WeightedVote> v = {{0, 0.9}};
  EXPECT_THAT(OneCoinPosterior(v, 2),
              ElementsAre(DoubleNear(0.9, 1e-12), DoubleNear(0.1, 1e-12)));
}

TEST(OneCoinPosteriorTest, TwoAgreeingVotesOfFourClasses) {
  // 0.8^2 against 3 x (0.2 / 3)^2: 0.64 / 0.653333 = 0.979592.
  std::vector<WeightedVote> v = {{0, 0.8}, {0, 0.8}};
  std::vector<double> p = OneCoinPosterior(v, 4);
  EXPECT_NEAR(p[0], 0.64 / (0.64 + 3 * (0.2 / 3) * (0.2 / 3)), 1e-12);
  EXPECT_NEAR(p[0], 0.979592, 1e-6);
  EXPECT_NEAR(p[1], (1 - p[0]) / 3, 1e-12);
}

TEST(OneCoinPosteriorTest, ConflictingVotesFollowTheMoreReliable) {
  // K = 2: class 0: 0.8 x 0.4 = 0.32; class 1: 0.2 x 0.6 = 0.12.
  std::vector<WeightedVote> v = {{0, 0.8}, {1, 0.6}};
  std::vector<double> p = OneCoinPosterior(v, 2);
  EXPECT_NEAR(p[0], 0.32 / 0.44, 1e-12);  // 0.727273
  EXPECT_NEAR(p[1], 0.12 / 0.44, 1e-12);
}

TEST(OneCoinPosteriorTest, PairwiseChoiceAsThreeClasses) {
  // a (0) at 0.9 and b (1) at 0.6: 0.9 x 0.2 = 0.18, 0.05 x 0.6 = 0.03,
  // 0.05 x 0.2 = 0.01; total 0.22.
  std::vector<WeightedVote> v = {{0, 0.9}, {1, 0.6}};
  EXPECT_THAT(OneCoinPosterior(v, 3),
              ElementsAre(DoubleNear(0.18 / 0.22, 1e-12),
                          DoubleNear(0.03 / 0.22, 1e-12),
                          DoubleNear(0.01 / 0.22, 1e-12)));
}

TEST(OneCoinPosteriorTest, ChanceLevelVoterCarriesNoInformation) {
  // Accuracy 1/K makes every class equally likely to be given.
  std::vector<WeightedVote> v = {{2, 0.25}, {2, 0.25}, {2, 0.25}};
  EXPECT_THAT(OneCoinPosterior(v, 4),
              ElementsAre(DoubleNear(0.25, 1e-12), DoubleNear(0.25, 1e-12),
                          DoubleNear(0.25, 1e-12), DoubleNear(0.25, 1e-12)));
}

TEST(OneCoinPosteriorTest, TwoNewcomersAgreeingReachTwelveThirteenths) {
  // Prior-only reliability 2/3 each, K = 4: (4/9) / (4/9 + 3/81) = 12/13.
  const double a = SmoothedAgreementAccuracy(0, 0);
  std::vector<WeightedVote> v = {{1, a}, {1, a}};
  PosteriorMode m = ModeOf(OneCoinPosterior(v, 4));
  EXPECT_EQ(m.label, 1);
  EXPECT_NEAR(m.confidence, 12.0 / 13.0, 1e-12);
  // One such vote alone: 2/3, below any sensible confidence target.
  std::vector<WeightedVote> one = {{1, a}};
  EXPECT_NEAR(ModeOf(OneCoinPosterior(one, 4)).confidence, 2.0 / 3.0, 1e-12);
}

TEST(OneCoinPosteriorTest, ExtremeAccuraciesAreClampedAndManyVotesStayFinite) {
  std::vector<WeightedVote> sure = {{0, 1.0}, {1, 1.0}};
  std::vector<double> p = OneCoinPosterior(sure, 2);
  EXPECT_NEAR(p[0], 0.5, 1e-12);  // two certain voters disagreeing: a tie
  std::vector<WeightedVote> many(2000, WeightedVote{3, 0.99});
  p = OneCoinPosterior(many, 4);
  EXPECT_NEAR(p[3], 1.0, 1e-12);
  EXPECT_GE(p[0], 0.0);
}

TEST(OneCoinPosteriorTest, OutOfRangeLabelsAreIgnored) {
  std::vector<WeightedVote> v = {{7, 0.9}, {-1, 0.9}, {1, 0.9}};
  EXPECT_THAT(OneCoinPosterior(v, 2),
              ElementsAre(DoubleNear(0.1, 1e-12), DoubleNear(0.9, 1e-12)));
}

TEST(ModeOfTest, LowestIndexWinsTies) {
  std::vector<double> p = {0.4, 0.4, 0.2};
  PosteriorMode m = ModeOf(p);
  EXPECT_EQ(m.label, 0);
  EXPECT_DOUBLE_EQ(m.confidence, 0.4);
  EXPECT_EQ(ModeOf({}).label, -1);
}

TEST(SmoothedAgreementAccuracyTest, BetaTwoOnePrior) {
  EXPECT_DOUBLE_EQ(SmoothedAgreementAccuracy(0, 0), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(SmoothedAgreementAccuracy(7, 10), 9.0 / 13.0);
  EXPECT_DOUBLE_EQ(SmoothedAgreementAccuracy(0, 10), 2.0 / 13.0);
  EXPECT_DOUBLE_EQ(SmoothedAgreementAccuracy(97, 97), 99.0 / 100.0);
}

TEST(AgreementWithOthersTest, MajorityTiesAndNoOthers) {
  std::vector<int32_t> clear = {1, 1, 2};
  EXPECT_DOUBLE_EQ(AgreementWithOthers(1, clear), 1.0);
  EXPECT_DOUBLE_EQ(AgreementWithOthers(2, clear), 0.0);
  std::vector<int32_t> tie = {1, 2};
  EXPECT_DOUBLE_EQ(AgreementWithOthers(2, tie), 0.5);
  EXPECT_DOUBLE_EQ(AgreementWithOthers(0, tie), 0.0);
  EXPECT_DOUBLE_EQ(AgreementWithOthers(0, {}), -1.0);
}

TEST(ChanceCorrectedAccuracyTest, HandCheckedFourClasses) {
  // Crowd agreement 1/2 with K = 4: q = (1 + sqrt(1 - 4 + 12 x 0.5)) / 4 =
  // (1 + sqrt 3) / 4 = 0.6830127; chance agreement of a wrong answer
  // (1 - q) / 3 = 0.1056624.
  const double q = (1 + std::sqrt(3.0)) / 4, chance = (1 - q) / 3;
  // No pairs of one's own: the crowd's accuracy.
  EXPECT_NEAR(ChanceCorrectedAccuracy(0, 0, 50, 100, 4), q, 1e-12);
  // 1 of 10: r = (1 + 1.5) / 13 = 0.1923077 -> 0.150074.
  EXPECT_NEAR(ChanceCorrectedAccuracy(1, 10, 50, 100, 4),
              ((2.5 / 13) - chance) / (q - chance), 1e-12);
  EXPECT_NEAR(ChanceCorrectedAccuracy(1, 10, 50, 100, 4), 0.150074, 1e-6);
  // 6 of 10: r = 7.5 / 13 = 0.576923 -> 0.816248.
  EXPECT_NEAR(ChanceCorrectedAccuracy(6, 10, 50, 100, 4), 0.816248, 1e-6);
  // Far above the crowd, and below chance: clamped.
  EXPECT_DOUBLE_EQ(ChanceCorrectedAccuracy(10, 10, 50, 100, 4), 0.99);
  EXPECT_DOUBLE_EQ(ChanceCorrectedAccuracy(0, 40, 50, 100, 4), 0.01);
}

TEST(ChanceCorrectedAccuracyTest, FallsBackWithoutACrowdSignal) {
  // No crowd pairs, or a crowd at chance (p = 1/4 with K = 4): Beta(2, 1).
  EXPECT_DOUBLE_EQ(ChanceCorrectedAccuracy(0, 0, 0, 0, 4), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(ChanceCorrectedAccuracy(3, 4, 25, 100, 4), 5.0 / 7.0);
}

}  // namespace
}  // namespace tessera::algo
