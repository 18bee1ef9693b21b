// Golden tests: agreement metrics against published worked examples, and
// box aggregation on the Lean Crowdsourcing pedestrian annotations.
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tessera/algo/agreement.h"
#include "tessera/algo/boxes.h"
#include "tessera/algo/dense.h"

namespace tessera::algo {
namespace {

// Krippendorff, K. (2011). "Computing Krippendorff's Alpha-Reliability".
// Annenberg School for Communication, University of Pennsylvania. Example C:
// 4 observers (A-D) x 12 units, values 1-5, missing data (0 = missing).
// Published: nominal .743, ordinal .815, interval .849, ratio .797. The same
// data is in R's irr::kripp.alpha / DescTools::KrippAlpha examples.
RatingData KrippendorffExample() {
  const int table[4][12] = {
      {1, 2, 3, 3, 2, 1, 4, 1, 2, 0, 0, 0},
      {1, 2, 3, 3, 2, 2, 4, 1, 2, 5, 0, 3},
      {0, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 0},
      {1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, 0},
  };
  RatingData d;
  d.num_units = 12;
  d.num_coders = 4;
  for (int c = 0; c < 4; ++c) {
    for (int u = 0; u < 12; ++u) {
      if (table[c][u] == 0) continue;
      d.unit.push_back(u);
      d.coder.push_back(c);
      d.value.push_back(table[c][u]);
    }
  }
  return d;
}

TEST(AgreementGoldenTest, KrippendorffAlphaPaperExample) {
  const RatingData d = KrippendorffExample();
  struct Case {
    AlphaLevel level;
    double published;
  };
  for (const Case& c :
       {Case{AlphaLevel::kNominal, 0.743}, Case{AlphaLevel::kOrdinal, 0.815},
        Case{AlphaLevel::kInterval, 0.849}, Case{AlphaLevel::kRatio, 0.797}}) {
    auto r = KrippendorffAlpha(d, c.level);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_NEAR(r->alpha, c.published, 0.0005) << static_cast<int>(c.level);
    EXPECT_EQ(r->pairable_values, 40);  // unit 12 has a lone value
    EXPECT_EQ(r->pairable_units, 11);
  }
}

// Fleiss' kappa, worked example of the Wikipedia article "Fleiss' kappa":
// 10 subjects, 14 raters each, 5 categories; P = 0.378, P_e = 0.213,
// kappa = 0.210.
TEST(AgreementGoldenTest, FleissKappaWikipediaExample) {
  const int counts[10][5] = {
      {0, 0, 0, 0, 14}, {0, 2, 6, 4, 2}, {0, 0, 3, 5, 6}, {0, 3, 9, 2, 0},
      {2, 2, 8, 1, 1},  {7, 7, 0, 0, 0}, {3, 2, 6, 3, 0}, {2, 5, 3, 2, 2},
      {6, 5, 2, 1, 0},  {0, 2, 2, 3, 7},
  };
  CategoricalData d;
  d.num_items = 10;
  d.num_workers = 14;
  d.num_classes = 5;
  for (int i = 0; i < 10; ++i) {
    int rater = 0;
    for (int c = 0; c < 5; ++c) {
      for (int t = 0; t < counts[i][c]; ++t) {
        d.item.push_back(i);
        d.worker.push_back(rater++);
        d.label.push_back(c);
      }
    }
    ASSERT_EQ(rater, 14);
  }
  auto r = FleissKappa(d);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->observed_agreement, 0.378, 0.0005);
  EXPECT_NEAR(r->expected_agreement, 0.213, 0.0005);
  EXPECT_NEAR(r->kappa, 0.210, 0.0005);
  EXPECT_EQ(r->items, 10);
}

// The pedestrian annotations of Branson, Van Horn, Perona, "Lean
// Crowdsourcing" (CVPR 2017); see data/pedestrians/README.md.
struct Pedestrians {
  BoxAnnotations crowd;
  BoxSet truth;
  std::vector<int32_t> truth_images;
};

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> f;
  std::string cell;
  std::stringstream ss(line);
  while (std::getline(ss, cell, ',')) f.push_back(cell);
  if (!line.empty() && line.back() == ',') f.emplace_back();
  return f;
}

Pedestrians LoadPedestrians() {
  const std::string dir = TESSERA_PEDESTRIANS_DIR;
  Pedestrians p;
  Interner images, workers;
  std::string line;
  std::ifstream im(dir + "/images.csv");
  EXPECT_TRUE(std::getline(im, line)) << dir;
  while (std::getline(im, line)) {
    const auto f = SplitCsv(line);
    const int32_t id = images.Intern(f.at(0));
    if (f.at(3) == "1") p.truth_images.push_back(id);
  }
  std::ifstream bx(dir + "/boxes.csv");
  EXPECT_TRUE(std::getline(bx, line));
  while (std::getline(bx, line)) {
    const auto f = SplitCsv(line);
    const int32_t img = images.Intern(f.at(0));
    const int32_t w = workers.Intern(f.at(1));
    if (f.size() < 6 || f[2].empty()) {
      p.crowd.view_image.push_back(img);
      p.crowd.view_worker.push_back(w);
      continue;
    }
    p.crowd.image.push_back(img);
    p.crowd.worker.push_back(w);
    p.crowd.label.push_back(0);
    p.crowd.box.push_back(
        {std::stod(f[2]), std::stod(f[3]), std::stod(f[4]), std::stod(f[5])});
  }
  p.crowd.num_images = images.size();
  p.crowd.num_workers = workers.size();
  std::ifstream tr(dir + "/truth.csv");
  EXPECT_TRUE(std::getline(tr, line));
  while (std::getline(tr, line)) {
    const auto f = SplitCsv(line);
    if (f.size() < 5 || f[1].empty()) continue;  // expert saw no pedestrian
    p.truth.image.push_back(images.Intern(f[0]));
    p.truth.label.push_back(0);
    p.truth.box.push_back(
        {std::stod(f[1]), std::stod(f[2]), std::stod(f[3]), std::stod(f[4])});
  }
  return p;
}

BoxEvaluation Score(const Pedestrians& p, BoxMethod method,
                    double match_iou = 0.5) {
  BoxAggregationOptions o;
  o.method = method;
  o.match_iou = match_iou;
  auto r = AggregateBoxes(p.crowd, o);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return {};
  return EvaluateBoxes(r->boxes, p.truth, p.truth_images, 0.5);
}

TEST(BoxesGoldenTest, PedestriansDataAsDescribed) {
  const Pedestrians p = LoadPedestrians();
  EXPECT_EQ(p.crowd.num_images, 724);
  EXPECT_EQ(p.crowd.num_workers, 43);
  EXPECT_EQ(p.crowd.size(), 5945u);
  EXPECT_EQ(p.crowd.view_image.size(), 886u);
  EXPECT_EQ(p.truth_images.size(), 469u);
  EXPECT_EQ(p.truth.size(), 607u);
}

// Default options (match_iou 0.5, min_support 0.5), F1 and mean IoU at
// IoU >= 0.5 against the expert boxes of the 469 frames with truth.
TEST(BoxesGoldenTest, WeightedMergeBeatsUnweightedAndSingle) {
  const Pedestrians p = LoadPedestrians();
  const BoxEvaluation single = Score(p, BoxMethod::kSingle);
  const BoxEvaluation unweighted = Score(p, BoxMethod::kUnweighted);
  const BoxEvaluation weighted = Score(p, BoxMethod::kWeighted);
  constexpr double kTol = 0.002;
  EXPECT_NEAR(single.f1, 0.8532, kTol);
  EXPECT_NEAR(single.mean_iou, 0.7764, kTol);
  EXPECT_NEAR(unweighted.precision, 0.9735, kTol);
  EXPECT_NEAR(unweighted.recall, 0.8468, kTol);
  EXPECT_NEAR(unweighted.f1, 0.9057, kTol);
  EXPECT_NEAR(unweighted.mean_iou, 0.8301, kTol);
  EXPECT_NEAR(weighted.precision, 0.9792, kTol);
  EXPECT_NEAR(weighted.recall, 0.8517, kTol);
  EXPECT_NEAR(weighted.f1, 0.9110, kTol);
  EXPECT_NEAR(weighted.mean_iou, 0.8389, kTol);
  EXPECT_GT(weighted.f1, unweighted.f1);
  EXPECT_GT(unweighted.f1, single.f1);
  EXPECT_GT(weighted.mean_iou, unweighted.mean_iou);
  EXPECT_GT(unweighted.mean_iou, single.mean_iou);
}

// A looser grouping threshold helps both merges; the weighted one stays
// ahead.
TEST(BoxesGoldenTest, WeightedMergeAheadAtLooserGrouping) {
  const Pedestrians p = LoadPedestrians();
  const BoxEvaluation unweighted = Score(p, BoxMethod::kUnweighted, 0.3);
  const BoxEvaluation weighted = Score(p, BoxMethod::kWeighted, 0.3);
  EXPECT_NEAR(unweighted.f1, 0.9206, 0.002);
  EXPECT_NEAR(weighted.f1, 0.9318, 0.002);
  EXPECT_GT(weighted.f1, unweighted.f1);
  EXPECT_GT(weighted.mean_iou, unweighted.mean_iou);
}

TEST(BoxesGoldenTest, PedestrianAgreement) {
  const Pedestrians p = LoadPedestrians();
  auto r = MeanPairwiseIoU(p.crowd);
  ASSERT_TRUE(r.ok()) << r.status();
  // 7 annotators per frame: 21 pairs on most of the 724 frames.
  EXPECT_EQ(r->worker_pairs, 15204);
  EXPECT_NEAR(r->mean_pairwise_iou, 0.6983, 0.0005);
  EXPECT_NEAR(r->mean_matched_iou, 0.7074, 0.0005);
}

}  // namespace
}  // namespace tessera::algo
