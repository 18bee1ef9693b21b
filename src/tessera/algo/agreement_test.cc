// Unit tests of the agreement metrics on small hand-checked cases.
#include "tessera/algo/agreement.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::algo {
namespace {

RatingData Ratings(int32_t units, int32_t coders) {
  RatingData d;
  d.num_units = units;
  d.num_coders = coders;
  return d;
}

CategoricalData Labels(int32_t items, int32_t workers, int32_t classes) {
  CategoricalData d;
  d.num_items = items;
  d.num_workers = workers;
  d.num_classes = classes;
  return d;
}

void Rate(RatingData& d, int32_t unit, int32_t coder, double value) {
  d.unit.push_back(unit);
  d.coder.push_back(coder);
  d.value.push_back(value);
}

void Label(CategoricalData& d, int32_t item, int32_t worker, int32_t label) {
  d.item.push_back(item);
  d.worker.push_back(worker);
  d.label.push_back(label);
}

TEST(KrippendorffAlphaTest, TwoCodersBinaryByHand) {
  // Units (a, b): (0,0) (1,1) (0,1) (1,1). n = 8 values, n_0 = 3, n_1 = 5.
  // Observed: one disagreeing unit contributes 2 / (2 - 1) = 2, D_o = 2/8.
  // Expected: 2 n_0 n_1 / (n (n - 1)) = 30 / 56. alpha = 1 - (1/4)/(30/56).
  RatingData d = Ratings(4, 2);
  const int a[] = {0, 1, 0, 1}, b[] = {0, 1, 1, 1};
  for (int u = 0; u < 4; ++u) {
    Rate(d, u, 0, a[u]);
    Rate(d, u, 1, b[u]);
  }
  auto r = KrippendorffAlpha(d, AlphaLevel::kNominal);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->alpha, 1.0 - (0.25) / (30.0 / 56.0), 1e-12);
  EXPECT_EQ(r->pairable_values, 8);
  EXPECT_EQ(r->pairable_units, 4);
  // With two values the interval metric scales both disagreements alike.
  auto interval = KrippendorffAlpha(d, AlphaLevel::kInterval);
  ASSERT_TRUE(interval.ok());
  EXPECT_NEAR(interval->alpha, r->alpha, 1e-12);
}

TEST(KrippendorffAlphaTest, PerfectAgreementIsOneAndLoneValuesAreIgnored) {
  RatingData d = Ratings(3, 3);
  Rate(d, 0, 0, 1);
  Rate(d, 0, 1, 1);
  Rate(d, 1, 0, 3);
  Rate(d, 1, 2, 3);
  Rate(d, 2, 1, 7);  // alone in its unit: not pairable
  for (AlphaLevel level : {AlphaLevel::kNominal, AlphaLevel::kOrdinal,
                           AlphaLevel::kInterval, AlphaLevel::kRatio}) {
    auto r = KrippendorffAlpha(d, level);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_DOUBLE_EQ(r->alpha, 1.0);
    EXPECT_EQ(r->pairable_values, 4);
  }
}

TEST(KrippendorffAlphaTest, RejectsUndefinedAndBadInput) {
  RatingData same = Ratings(2, 2);
  Rate(same, 0, 0, 2);
  Rate(same, 0, 1, 2);
  EXPECT_EQ(KrippendorffAlpha(same, AlphaLevel::kNominal).status().code(),
            absl::StatusCode::kInvalidArgument);
  RatingData twice = Ratings(1, 2);
  Rate(twice, 0, 0, 1);
  Rate(twice, 0, 0, 2);
  Rate(twice, 0, 1, 2);
  EXPECT_EQ(KrippendorffAlpha(twice, AlphaLevel::kNominal).status().code(),
            absl::StatusCode::kInvalidArgument);
  RatingData negative = Ratings(1, 2);
  Rate(negative, 0, 0, -1);
  Rate(negative, 0, 1, 2);
  EXPECT_EQ(KrippendorffAlpha(negative, AlphaLevel::kRatio).status().code(),
            absl::StatusCode::kInvalidArgument);
  RatingData range = Ratings(1, 1);
  Rate(range, 0, 1, 1);
  EXPECT_EQ(KrippendorffAlpha(range, AlphaLevel::kNominal).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CohenKappaTest, WikipediaYesNoExample) {
  // Cohen's kappa article, Wikipedia: 50 proposals; both yes 20, A yes / B no
  // 5, A no / B yes 10, both no 15. p_o = 0.7, p_e = 0.5, kappa = 0.4.
  CategoricalData d = Labels(50, 2, 2);
  int item = 0;
  auto add = [&](int a, int b, int times) {
    for (int t = 0; t < times; ++t, ++item) {
      Label(d, item, 0, a);
      Label(d, item, 1, b);
    }
  };
  add(1, 1, 20);
  add(1, 0, 5);
  add(0, 1, 10);
  add(0, 0, 15);
  auto r = CohenKappa(d);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->observed_agreement, 0.7, 1e-12);
  EXPECT_NEAR(r->expected_agreement, 0.5, 1e-12);
  EXPECT_NEAR(r->kappa, 0.4, 1e-12);
  EXPECT_EQ(r->items, 50);
}

TEST(CohenKappaTest, NeedsExactlyTwoRatersLabellingOnce) {
  CategoricalData three = Labels(1, 3, 2);
  Label(three, 0, 0, 0);
  EXPECT_EQ(CohenKappa(three).status().code(),
            absl::StatusCode::kInvalidArgument);
  CategoricalData twice = Labels(1, 2, 2);
  Label(twice, 0, 0, 0);
  Label(twice, 0, 0, 1);
  EXPECT_EQ(CohenKappa(twice).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FleissKappaTest, SmallCaseByHand) {
  // Two items, three raters, two classes: (0,0,0) and (0,0,1).
  // P_1 = 1, P_2 = 2/6; P = 2/3. p = (5/6, 1/6), P_e = 26/36.
  CategoricalData d = Labels(2, 3, 2);
  for (int w = 0; w < 3; ++w) Label(d, 0, w, 0);
  Label(d, 1, 0, 0);
  Label(d, 1, 1, 0);
  Label(d, 1, 2, 1);
  auto r = FleissKappa(d);
  ASSERT_TRUE(r.ok()) << r.status();
  const double pe = 26.0 / 36.0;
  EXPECT_NEAR(r->kappa, (2.0 / 3.0 - pe) / (1.0 - pe), 1e-12);
  EXPECT_EQ(r->items, 2);
}

TEST(FleissKappaTest, AllSameClassIsUndefined) {
  CategoricalData d = Labels(1, 2, 2);
  Label(d, 0, 0, 1);
  Label(d, 0, 1, 1);
  EXPECT_EQ(FleissKappa(d).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PercentAgreementTest, MeanShareOfAgreeingPairs) {
  // Item 0: (a, a, b) -> 1 of 3 pairs; item 1: (a, a) -> 1; item 2: one
  // label, ignored. Mean = (1/3 + 1) / 2.
  CategoricalData d = Labels(3, 3, 2);
  Label(d, 0, 0, 0);
  Label(d, 0, 1, 0);
  Label(d, 0, 2, 1);
  Label(d, 1, 0, 1);
  Label(d, 1, 1, 1);
  Label(d, 2, 0, 1);
  auto r = PercentAgreement(d);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(*r, (1.0 / 3.0 + 1.0) / 2.0, 1e-12);
  CategoricalData lone = Labels(1, 1, 1);
  Label(lone, 0, 0, 0);
  EXPECT_FALSE(PercentAgreement(lone).ok());
}

TEST(MeanPairwiseIoUTest, HandCheckedPairs) {
  BoxAnnotations d;
  d.num_images = 3;
  d.num_workers = 3;
  auto draw = [&](int32_t img, int32_t w, Box b) {
    d.image.push_back(img);
    d.worker.push_back(w);
    d.label.push_back(0);
    d.box.push_back(b);
  };
  // Image 0: workers 0 and 1 draw the same box, worker 2 one half as wide.
  draw(0, 0, {0, 0, 10, 10});
  draw(0, 1, {0, 0, 10, 10});
  draw(0, 2, {0, 0, 5, 10});
  // Image 1: worker 0 draws a box, worker 1 saw it and drew nothing.
  draw(1, 0, {0, 0, 10, 10});
  d.view_image = {1, 2, 2};
  d.view_worker = {1, 0, 1};  // image 2: both saw it, neither drew
  auto r = MeanPairwiseIoU(d);
  ASSERT_TRUE(r.ok()) << r.status();
  // Pairs: image 0 (0,1)=1, (0,2)=0.5, (1,2)=0.5; image 1 (0,1)=0;
  // image 2 (0,1)=1.
  EXPECT_EQ(r->worker_pairs, 5);
  EXPECT_NEAR(r->mean_pairwise_iou, (1 + 0.5 + 0.5 + 0 + 1) / 5.0, 1e-12);
  EXPECT_EQ(r->matched_boxes, 3);
  EXPECT_NEAR(r->mean_matched_iou, (1 + 0.5 + 0.5) / 3.0, 1e-12);
  EXPECT_FALSE(MeanPairwiseIoU(BoxAnnotations{}).ok());
}

}  // namespace
}  // namespace tessera::algo
