// Unit tests of the categorical truth-inference methods on small cases whose
// answers can be worked out by hand, plus determinism across thread counts.
#include "tessera/algo/categorical.h"

#include <cmath>
#include <cstdint>
#include <numeric>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::algo {
namespace {

using ::testing::ElementsAre;

void Add(CategoricalData& d, int32_t item, int32_t worker, int32_t label) {
  d.item.push_back(item);
  d.worker.push_back(worker);
  d.label.push_back(label);
  d.num_items = std::max(d.num_items, item + 1);
  d.num_workers = std::max(d.num_workers, worker + 1);
}

// Items 0..29: workers 0-2 always right (truth alternates 0/1), worker 3
// always answers 0. Items 30..39 (truth 1): only worker 0 (says 1) and the
// spammer (says 0) answer: a 1-1 tie for majority vote.
CategoricalData SpammerCase(std::vector<int32_t>& truth) {
  CategoricalData d;
  d.num_classes = 2;
  for (int32_t j = 0; j < 30; ++j) {
    const int32_t t = j % 2;
    truth.push_back(t);
    for (int32_t w = 0; w < 3; ++w) Add(d, j, w, t);
    Add(d, j, 3, 0);
  }
  for (int32_t j = 30; j < 40; ++j) {
    truth.push_back(1);
    Add(d, j, 0, 1);
    Add(d, j, 3, 0);
  }
  return d;
}

// Deterministic pseudo-random crowd: `workers` workers of accuracy between
// 0.5 and 0.9 (errors uniform), `per_item` answers per item.
CategoricalData Synthetic(int32_t items, int32_t workers, int32_t classes,
                          int per_item, std::vector<int32_t>& truth) {
  uint64_t s = 12345;
  auto next = [&s] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(s >> 33);
  };
  CategoricalData d;
  d.num_classes = classes;
  d.num_workers = workers;
  d.num_items = items;
  for (int32_t j = 0; j < items; ++j) {
    const int32_t t = static_cast<int32_t>(next() % classes);
    truth.push_back(t);
    for (int r = 0; r < per_item; ++r) {
      const int32_t w =
          static_cast<int32_t>((j * 7 + r * 13 + next() % 3) % workers);
      const double acc = 0.5 + 0.4 * (w % 5) / 4.0;
      int32_t y = t;
      if ((next() % 1000) / 1000.0 >= acc) {
        y = static_cast<int32_t>((t + 1 + next() % (classes - 1)) % classes);
      }
      Add(d, j, w, y);
    }
  }
  return d;
}

TEST(MajorityVoteTest, CountsVotesAndReportsShares) {
  CategoricalData d;
  d.num_classes = 3;
  Add(d, 0, 0, 2);
  Add(d, 0, 1, 2);
  Add(d, 0, 2, 1);
  Add(d, 1, 0, 0);
  Add(d, 1, 1, 0);
  Add(d, 1, 2, 0);
  const CategoricalResult r = MajorityVote(d);
  EXPECT_THAT(r.label, ElementsAre(2, 0));
  EXPECT_NEAR(r.posterior[0 * 3 + 2], 2.0 / 3, 1e-12);
  EXPECT_NEAR(r.posterior[0 * 3 + 1], 1.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(r.posterior[1 * 3 + 0], 1.0);
  // Worker 2 agrees with the vote on one of two items.
  EXPECT_DOUBLE_EQ(r.skill[2], 0.5);
  EXPECT_DOUBLE_EQ(r.skill[0], 1.0);
}

TEST(MajorityVoteTest, TiesFollowTheDocumentedRule) {
  CategoricalData d;
  d.num_classes = 2;
  for (int32_t j = 0; j < 64; ++j) {
    Add(d, j, 0, 0);
    Add(d, j, 1, 1);
  }
  MajorityVoteOptions lowest;
  lowest.tie_break = TieBreak::kLowestClass;
  for (int32_t y : MajorityVote(d, lowest).label) EXPECT_EQ(y, 0);

  const CategoricalResult a = MajorityVote(d);
  const CategoricalResult b = MajorityVote(d);
  EXPECT_EQ(a.label, b.label);  // reproducible
  const int ones = std::accumulate(a.label.begin(), a.label.end(), 0);
  EXPECT_GT(ones, 10);  // both classes win some ties
  EXPECT_LT(ones, 54);
  MajorityVoteOptions other;
  other.seed = 99;
  EXPECT_NE(MajorityVote(d, other).label, a.label);  // the seed matters
}

TEST(WawaTest, WeightsWorkersByAgreementWithTheVote) {
  // Workers 0 and 1 agree with the vote everywhere, worker 2 never does.
  // Item 3 has one answer from worker 0 (class 1) and one from worker 2
  // (class 0): a tie for MV (lowest class: 0), but Wawa trusts worker 0.
  CategoricalData d;
  d.num_classes = 2;
  for (int32_t j = 0; j < 3; ++j) {
    Add(d, j, 0, 1);
    Add(d, j, 1, 1);
    Add(d, j, 2, 0);
  }
  Add(d, 3, 0, 1);
  Add(d, 3, 2, 0);
  WawaOptions o;
  o.vote.tie_break = TieBreak::kLowestClass;
  const CategoricalResult r = Wawa(d, o);
  EXPECT_THAT(r.label, ElementsAre(1, 1, 1, 1));
  EXPECT_DOUBLE_EQ(r.skill[2], 0.25);  // agrees with MV only on item 3
}

TEST(DawidSkeneTest, LearnsToIgnoreAConstantSpammer) {
  std::vector<int32_t> truth;
  const CategoricalData d = SpammerCase(truth);
  MajorityVoteOptions lowest;
  lowest.tie_break = TieBreak::kLowestClass;
  const CategoricalResult mv = MajorityVote(d, lowest);
  const CategoricalResult ds = DawidSkene(d);
  for (int32_t j = 30; j < 40; ++j) {
    EXPECT_EQ(mv.label[j], 0) << j;  // tie broken to the lowest class
    EXPECT_EQ(ds.label[j], 1) << j;  // worker 0 is trusted, the spammer not
  }
  EXPECT_EQ(Accuracy(ds, truth).correct, 40);
  EXPECT_EQ(Accuracy(mv, truth).correct, 30);
  // The spammer's confusion: answers 0 whatever the truth.
  const int K = 2;
  EXPECT_GT(ds.confusion[(3 * K + 1) * K + 0], 0.99);
  EXPECT_GT(ds.confusion[(3 * K + 0) * K + 0], 0.99);
  EXPECT_GT(ds.skill[0], 0.99);
  EXPECT_TRUE(ds.converged);
  EXPECT_GE(ds.iterations, 1);
  ASSERT_EQ(ds.log_likelihood.size(), static_cast<size_t>(ds.iterations));
  // EM never decreases the likelihood (no smoothing: plain ML).
  for (size_t i = 1; i < ds.log_likelihood.size(); ++i) {
    EXPECT_GE(ds.log_likelihood[i], ds.log_likelihood[i - 1] - 1e-12);
  }
}

TEST(DawidSkeneTest, PosteriorsAndConfusionRowsAreDistributions) {
  std::vector<int32_t> truth;
  const CategoricalData d = Synthetic(300, 12, 3, 4, truth);
  for (const CategoricalResult& r :
       {DawidSkene(d), Best(d), OneCoinDawidSkene(d)}) {
    for (int32_t j = 0; j < d.num_items; ++j) {
      double s = 0.0;
      for (int c = 0; c < 3; ++c) s += r.posterior[j * 3 + c];
      EXPECT_NEAR(s, 1.0, 1e-9);
    }
    for (int32_t w = 0; w < d.num_workers; ++w) {
      for (int t = 0; t < 3; ++t) {
        double s = 0.0;
        for (int o = 0; o < 3; ++o) s += r.confusion[(w * 3 + t) * 3 + o];
        EXPECT_NEAR(s, 1.0, 1e-6) << "worker " << w << " row " << t;
      }
    }
  }
}

TEST(DawidSkeneTest, BeatsMajorityVoteOnAMixedCrowd) {
  std::vector<int32_t> truth;
  const CategoricalData d = Synthetic(2000, 40, 3, 5, truth);
  const double mv = Accuracy(MajorityVote(d), truth).accuracy;
  const double ds = Accuracy(DawidSkene(d), truth).accuracy;
  const double best = Accuracy(Best(d), truth).accuracy;
  EXPECT_GT(ds, mv);
  EXPECT_GT(best, mv);
}

TEST(DawidSkeneTest, WorkerWithOneAnswerAndItemsWithoutAnswers) {
  std::vector<int32_t> truth;
  CategoricalData d = SpammerCase(truth);
  Add(d, 40, 4, 1);  // worker 4: one answer only
  d.num_items = 42;  // item 41 has no answers
  for (const CategoricalResult& r : {DawidSkene(d), Best(d)}) {
    EXPECT_EQ(r.label[41], -1);
    EXPECT_NEAR(r.posterior[41 * 2] + r.posterior[41 * 2 + 1], 1.0, 1e-12);
    EXPECT_EQ(r.label[40], 1);
    EXPECT_FALSE(std::isnan(r.skill[4]));
  }
  // With the default prior the lone worker's unseen row stays informative
  // and strictly positive (no zero probabilities).
  const CategoricalResult best = Best(d);
  for (int i = 0; i < 4; ++i) EXPECT_GT(best.confusion[4 * 4 + i], 0.0);
}

TEST(OneCoinTest, SkillIsTheExpectedAccuracy) {
  std::vector<int32_t> truth;
  const CategoricalData d = SpammerCase(truth);
  const CategoricalResult r = OneCoinDawidSkene(d);
  EXPECT_GT(r.skill[1], 0.95);
  EXPECT_LT(r.skill[3], 0.75);  // right only when the truth is 0
}

TEST(GladTest, FlippedWorkerGetsNegativeAbility) {
  // Workers 0-3 right, worker 4 always answers the other class.
  CategoricalData d;
  d.num_classes = 2;
  std::vector<int32_t> truth;
  for (int32_t j = 0; j < 40; ++j) {
    const int32_t t = (j * 7 / 3) % 2;
    truth.push_back(t);
    for (int32_t w = 0; w < 4; ++w)
      Add(d, j, w, (w == 3 && j % 5 == 0) ? 1 - t : t);
    Add(d, j, 4, 1 - t);
  }
  const CategoricalResult r = Glad(d);
  EXPECT_EQ(Accuracy(r, truth).correct, 40);
  EXPECT_LT(r.ability[4], 0.0);
  EXPECT_GT(r.ability[0], r.ability[3]);  // worker 3 errs on 1 item in 5
  EXPECT_EQ(r.inverse_difficulty.size(), 40u);
  EXPECT_TRUE(r.converged);
}

TEST(MaceTest, SpammerGetsLowCompetence) {
  std::vector<int32_t> truth;
  const CategoricalData d = SpammerCase(truth);
  for (bool vb : {true, false}) {
    MaceOptions o;
    o.variational = vb;
    const CategoricalResult r = Mace(d, o);
    EXPECT_GT(r.skill[1], 0.8) << vb;
    EXPECT_LT(r.skill[3], 0.5) << vb;
    for (int32_t j = 0; j < 30; ++j) EXPECT_EQ(r.label[j], truth[j]) << j;
  }
}

// compat_crowdkit starts from numpy's RandomState(0): its first uniforms are
// 0.5488135039273248 and 0.7151893663724195, so (spam, know) of worker 0 is
// (1 + 1.5 u0, 1 + 1.5 u1) normalised, and with no iterations skill = know.
TEST(MaceTest, CrowdKitCompatStartsFromNumpySeedZero) {
  CategoricalData d;
  d.num_classes = 2;
  Add(d, 0, 0, 0);
  Add(d, 1, 0, 1);
  MaceOptions o;
  o.compat_crowdkit = true;
  o.max_iterations = 0;
  const double s = 1 + 1.5 * 0.5488135039273248;
  const double k = 1 + 1.5 * 0.7151893663724195;
  EXPECT_NEAR(Mace(d, o).skill[0], k / (s + k), 1e-12);
}

// crowd-kit's indexing bug, reproduced: worker w spams with the strategy
// estimated for the w-th worker in name order. Worker 0 ("b") always answers
// 0 and worker 1 ("a") always 1; by name "a" comes first, so worker 0 gets
// worker 1's strategy (favouring class 1), and vice versa.
TEST(MaceTest, CrowdKitCompatSwapsStrategiesByWorkerName) {
  CategoricalData d;
  d.num_classes = 2;
  for (int32_t j = 0; j < 20; ++j) {
    Add(d, j, 0, 0);
    Add(d, j, 1, 1);
    Add(d, j, 2, j % 2);
  }
  // Spam part of P(answer y | true t), t != y: spam * xi[y].
  auto spam_xi = [](const CategoricalResult& r, int32_t w, int y) {
    return r.confusion[(static_cast<size_t>(w) * 2 + (1 - y)) * 2 + y];
  };
  MaceOptions o;
  o.compat_crowdkit = true;
  o.max_iterations = 5;
  o.worker_names = {"a", "b", "c"};  // name order = index order: no swap
  const CategoricalResult plain = Mace(d, o);
  EXPECT_GT(spam_xi(plain, 0, 0), spam_xi(plain, 0, 1));
  EXPECT_GT(spam_xi(plain, 1, 1), spam_xi(plain, 1, 0));
  o.worker_names = {"b", "a", "c"};
  const CategoricalResult swapped = Mace(d, o);
  EXPECT_GT(spam_xi(swapped, 0, 1), spam_xi(swapped, 0, 0));
  EXPECT_GT(spam_xi(swapped, 1, 0), spam_xi(swapped, 1, 1));
  // All-integer names sort numerically, as pandas sorts an int64 column:
  // 10 > 9, so the order is 9, 10, 11 = index order 1, 0, 2 (swapped).
  o.worker_names = {"10", "9", "11"};
  EXPECT_EQ(Mace(d, o).confusion, swapped.confusion);
}

TEST(DeterminismTest, ResultsDoNotDependOnThreadCount) {
  std::vector<int32_t> truth;
  // 120k answers: enough for several item parts.
  const CategoricalData d = Synthetic(24000, 60, 3, 5, truth);
  for (int threads : {2, 3}) {
    DawidSkeneOptions ds1, dsn;
    ds1.threads = 1;
    dsn.threads = threads;
    EXPECT_EQ(DawidSkene(d, ds1).posterior, DawidSkene(d, dsn).posterior);
    GladOptions g1, gn;
    g1.threads = 1;
    gn.threads = threads;
    g1.max_iterations = gn.max_iterations = 5;
    EXPECT_EQ(Glad(d, g1).posterior, Glad(d, gn).posterior);
    MaceOptions m1, mn;
    m1.threads = 1;
    mn.threads = threads;
    m1.restarts = mn.restarts = 1;
    m1.max_iterations = mn.max_iterations = 5;
    EXPECT_EQ(Mace(d, m1).posterior, Mace(d, mn).posterior);
  }
}

TEST(MethodTableTest, NamesRoundTrip) {
  for (const char* n : {"best", "mv", "wawa", "ds", "ocds", "glad", "mace"}) {
    const std::optional<CategoricalMethod> m = ParseCategoricalMethod(n);
    ASSERT_TRUE(m.has_value()) << n;
    EXPECT_EQ(CategoricalMethodName(*m), n);
  }
  EXPECT_FALSE(ParseCategoricalMethod("dawid").has_value());
}

TEST(AccuracyTest, CountsOnlyTruthItemsWithAnswers) {
  CategoricalResult r;
  r.label = {0, 1, -1, 2};
  const AccuracyReport a = Accuracy(r, {0, 0, 1, -2});
  EXPECT_EQ(a.evaluated, 3);  // item 2 has no answers
  EXPECT_EQ(a.correct, 1);
  EXPECT_DOUBLE_EQ(a.accuracy, 1.0 / 3);
}

}  // namespace
}  // namespace tessera::algo
