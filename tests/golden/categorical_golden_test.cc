// Golden tests: categorical truth inference and numeric aggregation on real
// crowdsourcing data (tests/golden/data/README.md) against the accuracies
// published by Ustalov, Pavlichenko, Tseitlin, "Learning from Crowds with
// Crowd-Kit", JOSS 9(96):6227, 2024, and crowd-kit (2025) on these files.
//
// Accuracy is over truth items with at least one answer. Every row is kept as
// an answer (RepeatPolicy::kKeepAll), as crowd-kit does: relevance and adult
// contain repeated (item, worker) pairs. Majority-vote ties go to the lowest
// class, crowd-kit's rule, so the published MV and Wawa numbers are exact.
#include <cmath>
#include <map>
#include <string>

#include "gtest/gtest.h"
#include "tessera/algo/categorical.h"
#include "tessera/algo/labels_csv.h"
#include "tessera/algo/numeric.h"

namespace tessera::algo {
namespace {

struct Set {
  CategoricalLabels labels;
  std::vector<int32_t> truth;
};

std::string Dir(const std::string& name) {
  return std::string(TESSERA_GOLDEN_DATA_DIR) + "/crowd-labels/" + name;
}

const Set& Load(const std::string& name) {
  static auto* cache = new std::map<std::string, Set>();
  auto it = cache->find(name);
  if (it != cache->end()) return it->second;
  LabelsCsvOptions keep;
  keep.repeats = RepeatPolicy::kKeepAll;
  absl::StatusOr<CategoricalLabels> l =
      ReadCategoricalLabels(Dir(name) + "/labels.csv", keep);
  EXPECT_TRUE(l.ok()) << l.status();
  Set s;
  s.labels = std::move(*l);
  absl::StatusOr<std::vector<int32_t>> t = ReadCategoricalTruth(
      Dir(name) + "/truth.csv", s.labels.items, s.labels.classes);
  EXPECT_TRUE(t.ok()) << t.status();
  s.truth = std::move(*t);
  return cache->emplace(name, std::move(s)).first->second;
}

double Acc(const std::string& name, const CategoricalResult& r) {
  return Accuracy(r, Load(name).truth).accuracy;
}

const CategoricalData& Data(const std::string& name) {
  return Load(name).labels.data;
}

CategoricalResult Mv(const CategoricalData& d) {
  MajorityVoteOptions o;
  o.tie_break = TieBreak::kLowestClass;
  return MajorityVote(d, o);
}

CategoricalResult WawaLowest(const CategoricalData& d) {
  WawaOptions o;
  o.vote.tie_break = TieBreak::kLowestClass;
  return Wawa(d, o);
}

TEST(CategoricalGoldenTest, DataSetsLoadAsDescribed) {
  EXPECT_EQ(Data("product").size(), 24945u);
  EXPECT_EQ(Data("sentiment").size(), 20000u);
  EXPECT_EQ(Data("relevance").size(), 98453u);
  EXPECT_EQ(Data("adult").size(), 92721u);
  EXPECT_EQ(Data("relevance").num_classes, 4);
  EXPECT_EQ(Accuracy(Mv(Data("adult")), Load("adult").truth).evaluated, 333);
  EXPECT_EQ(Accuracy(Mv(Data("relevance")), Load("relevance").truth).evaluated,
            4460);
}

// Dawid-Skene: published .940 / .960 / .615; adult: the current crowd-kit's
// .766 (the paper's .748 came from an older version). Our numbers equal
// crowd-kit's to four digits (.9397 / .9600 / .6173 / .7658).
TEST(CategoricalGoldenTest, DawidSkeneReproducesPublishedAccuracy) {
  EXPECT_NEAR(Acc("product", DawidSkene(Data("product"))), 0.940, 0.005);
  EXPECT_NEAR(Acc("sentiment", DawidSkene(Data("sentiment"))), 0.960, 0.005);
  EXPECT_NEAR(Acc("relevance", DawidSkene(Data("relevance"))), 0.615, 0.005);
  EXPECT_NEAR(Acc("adult", DawidSkene(Data("adult"))), 0.766, 0.005);
  // Tighter: the current crowd-kit on exactly these files.
  EXPECT_NEAR(Acc("product", DawidSkene(Data("product"))), 0.9397, 0.0005);
  EXPECT_NEAR(Acc("relevance", DawidSkene(Data("relevance"))), 0.6173, 0.0005);
}

// MV and Wawa are deterministic counts: the published three-digit values must
// match to rounding (±0.0005), which they do with crowd-kit's tie rule.
TEST(CategoricalGoldenTest, MajorityVoteAndWawaMatchPublished) {
  const double kRounding = 0.0005;
  EXPECT_NEAR(Acc("product", Mv(Data("product"))), 0.897, kRounding);
  EXPECT_NEAR(Acc("sentiment", Mv(Data("sentiment"))), 0.932, kRounding);
  EXPECT_NEAR(Acc("relevance", Mv(Data("relevance"))), 0.536, kRounding);
  EXPECT_NEAR(Acc("adult", Mv(Data("adult"))), 0.763, kRounding);
  EXPECT_NEAR(Acc("product", WawaLowest(Data("product"))), 0.897, kRounding);
  EXPECT_NEAR(Acc("sentiment", WawaLowest(Data("sentiment"))), 0.951,
              kRounding);
  EXPECT_NEAR(Acc("relevance", WawaLowest(Data("relevance"))), 0.557,
              kRounding);
  EXPECT_NEAR(Acc("adult", WawaLowest(Data("adult"))), 0.766, kRounding);
}

// GLAD's M-step is a non-convex optimisation stopped early, so results depend
// on the optimiser: crowd-kit itself moved from .511 (paper) to .565 (2025) on
// relevance. We hold product, sentiment and adult to ±0.005 of the paper
// (ours: .9283 / .9480 / .7598) and relevance to ±0.015 of it (ours: .5004).
TEST(CategoricalGoldenTest, GladMatchesPublished) {
  EXPECT_NEAR(Acc("product", Glad(Data("product"))), 0.928, 0.005);
  EXPECT_NEAR(Acc("sentiment", Glad(Data("sentiment"))), 0.948, 0.005);
  EXPECT_NEAR(Acc("adult", Glad(Data("adult"))), 0.760, 0.005);
  EXPECT_NEAR(Acc("relevance", Glad(Data("relevance"))), 0.511, 0.015);
}

// MACE. crowd-kit's MACE column (.929 / .950 / .501 / .763) comes from an
// indexing bug, not from the model: in crowd-kit's mace.py (_e_step) the
// strategy counts are `annotation.groupby(['worker', 'label']).sum()
// ['strategy_marginal'].unstack()`, rows sorted by worker NAME and columns by
// label, and _variational_m_step stores their `.values` as `thetas_`, which
// is read as `thetas_[workers, labels]` with pandas.factorize (first
// appearance) codes. So each worker spams with another worker's strategy
// (and relevance and adult, whose classes first appear as 0,2,1,3 and
// 1,0,2,3, also get permuted classes). compat_crowdkit reproduces this, and
// crowd-kit's start (RandomState(0), the same for all 10 restarts); a replica
// of crowd-kit's code run on these files gives .9293 / .9540 / .5009 / .7598,
// and with the indexing fixed .8162 / .9570 / .6076 / .7808, which is what
// our default (a correct fit of the model) gives. docs/algorithms/mace.md.
MaceOptions CrowdKitMace(const std::string& name) {
  MaceOptions o;
  o.compat_crowdkit = true;
  const Interner& workers = Load(name).labels.workers;
  for (int32_t w = 0; w < workers.size(); ++w) {
    o.worker_names.push_back(workers.Name(w));
  }
  return o;
}

TEST(CategoricalGoldenTest, MaceCrowdKitCompatMatchesPublished) {
  struct Row {
    const char* name;
    double published, replica;  // JOSS 2024; crowd-kit's code on these files
  };
  for (const Row& row :
       {Row{"product", 0.929, 0.9293}, Row{"sentiment", 0.950, 0.9540},
        Row{"relevance", 0.501, 0.5009}, Row{"adult", 0.763, 0.7598}}) {
    const double acc =
        Acc(row.name, Mace(Data(row.name), CrowdKitMace(row.name)));
    EXPECT_NEAR(acc, row.published, 0.005) << row.name;
    EXPECT_NEAR(acc, row.replica, 0.0001) << row.name;
  }
}

// Our default (the model fitted correctly, 10 seeded restarts) is pinned as
// regression values (±0.005): better than crowd-kit's column on sentiment,
// relevance and adult, worse on product, whose truth is 88% class 0.
TEST(CategoricalGoldenTest, MacePinnedValues) {
  const double product = Acc("product", Mace(Data("product")));
  const double sentiment = Acc("sentiment", Mace(Data("sentiment")));
  const double relevance = Acc("relevance", Mace(Data("relevance")));
  const double adult = Acc("adult", Mace(Data("adult")));
  EXPECT_NEAR(product, 0.8186, 0.005);
  EXPECT_NEAR(sentiment, 0.957, 0.005);
  EXPECT_NEAR(relevance, 0.6081, 0.005);
  EXPECT_NEAR(adult, 0.7808, 0.005);
  EXPECT_GE(sentiment, 0.950);
  EXPECT_GE(relevance, 0.501);
  EXPECT_GE(adult, 0.763);
}

// The default method is at least as accurate as the best published method on
// each set (product: crowd-kit's DS .9397, printed .940; sentiment DS .960;
// relevance DS .615; adult Wawa .766, here 255/333 = .7658), with one setting.
TEST(CategoricalGoldenTest, DefaultMethodBeatsBestPublished) {
  EXPECT_GE(Acc("product", Best(Data("product"))), 0.9397);
  EXPECT_GE(Acc("sentiment", Best(Data("sentiment"))), 0.960);
  EXPECT_GE(Acc("relevance", Best(Data("relevance"))), 0.615);
  EXPECT_GE(Acc("adult", Best(Data("adult"))), 0.766);
  // Face was not used to choose the setting: still no worse than MV or DS.
  const double face = Acc("face", Best(Data("face")));
  EXPECT_GE(face, Acc("face", Mv(Data("face"))));
  EXPECT_GE(face, Acc("face", DawidSkene(Data("face"))));
  EXPECT_EQ(CategoricalMethodName(CategoricalMethod::kBest), "best");
}

// Numeric: N_Emotion (700 items x 10 ratings, -100..100). Pinned values. On
// these data worker offsets are not the main error, so the bias-corrected
// mean gains nothing over the mean (it must stay within 5% of it); it pays
// on crowds with biased raters (numeric_test.cc).
TEST(NumericGoldenTest, EmotionErrors) {
  absl::StatusOr<NumericLabels> l =
      ReadNumericLabels(Dir("emotion-numeric") + "/labels.csv");
  ASSERT_TRUE(l.ok()) << l.status();
  absl::StatusOr<std::vector<double>> t =
      ReadNumericTruth(Dir("emotion-numeric") + "/truth.csv", l->items);
  ASSERT_TRUE(t.ok()) << t.status();
  const NumericErrors mean = CompareNumeric(NumericMean(l->data).value, *t);
  const NumericErrors median = CompareNumeric(NumericMedian(l->data).value, *t);
  const NumericErrors fixed =
      CompareNumeric(NumericBiasCorrectedMean(l->data).value, *t);
  EXPECT_EQ(mean.evaluated, 700);
  EXPECT_NEAR(mean.mae, 12.022, 0.001);
  EXPECT_NEAR(mean.rmse, 17.835, 0.001);
  EXPECT_NEAR(median.mae, 13.529, 0.001);
  EXPECT_NEAR(median.rmse, 21.264, 0.001);
  EXPECT_NEAR(fixed.mae, 12.381, 0.001);
  EXPECT_NEAR(fixed.rmse, 17.952, 0.001);
  EXPECT_LE(fixed.mae, 1.05 * mean.mae);
}

}  // namespace
}  // namespace tessera::algo
