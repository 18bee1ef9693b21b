// Unit tests of box IoU, grouping, support, merging and evaluation.
#include "tessera/algo/boxes.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::algo {
namespace {

BoxAnnotations Annotations(int32_t images, int32_t workers, int32_t labels) {
  BoxAnnotations d;
  d.num_images = images;
  d.num_workers = workers;
  d.num_labels = labels;
  return d;
}

void Draw(BoxAnnotations& d, int32_t image, int32_t worker, Box b,
          int32_t label = 0) {
  d.image.push_back(image);
  d.worker.push_back(worker);
  d.label.push_back(label);
  d.box.push_back(b);
}

void View(BoxAnnotations& d, int32_t image, int32_t worker) {
  d.view_image.push_back(image);
  d.view_worker.push_back(worker);
}

TEST(IoUTest, HandCheckedValues) {
  const Box a{0, 0, 10, 10};
  EXPECT_DOUBLE_EQ(IoU(a, a), 1.0);
  EXPECT_DOUBLE_EQ(IoU(a, Box{20, 20, 30, 30}), 0.0);
  EXPECT_DOUBLE_EQ(IoU(a, Box{10, 0, 20, 10}), 0.0);  // touching edges
  EXPECT_DOUBLE_EQ(IoU(a, Box{5, 0, 15, 10}), 50.0 / 150.0);
  EXPECT_DOUBLE_EQ(IoU(a, Box{0, 0, 5, 5}), 0.25);
  EXPECT_DOUBLE_EQ(IoU(Box{3, 3, 3, 3}, Box{3, 3, 3, 3}), 0.0);  // empty
  EXPECT_DOUBLE_EQ(Area(Box{5, 5, 1, 1}), 0.0);
}

TEST(MatchBoxesTest, GreedyOneToOneByDecreasingIoU) {
  const std::vector<Box> a = {{0, 0, 10, 10}, {1, 0, 11, 10}};
  const std::vector<Box> b = {{1, 0, 11, 10}};
  const auto m = MatchBoxes(a, b, 0.5);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].a, 1);  // the exact copy wins
  EXPECT_EQ(m[0].b, 0);
  EXPECT_DOUBLE_EQ(m[0].iou, 1.0);
  EXPECT_TRUE(MatchBoxes(a, std::vector<Box>{{0, 0, 3, 3}}, 0.5).empty());
}

// Image 0 seen by workers 0-3: object A drawn by 0, 1, 2; object B by 0 and
// 1; a spurious box C by 2; worker 3 drew nothing.
BoxAnnotations ThreeObjects() {
  BoxAnnotations d = Annotations(1, 4, 1);
  Draw(d, 0, 0, {10, 10, 50, 90});
  Draw(d, 0, 1, {12, 11, 52, 92});
  Draw(d, 0, 2, {9, 13, 49, 88});
  Draw(d, 0, 0, {200, 10, 240, 80});
  Draw(d, 0, 1, {202, 12, 238, 82});
  Draw(d, 0, 2, {500, 500, 520, 540});
  View(d, 0, 3);
  return d;
}

TEST(AggregateBoxesTest, UnweightedKeepsMajorityGroupsWithMedianCorners) {
  BoxAggregationOptions o;
  o.method = BoxMethod::kUnweighted;
  auto r = AggregateBoxes(ThreeObjects(), o);
  ASSERT_TRUE(r.ok()) << r.status();
  // A: 3 of 4 viewers, B: 2 of 4 (kept at 0.5), C: 1 of 4 (dropped).
  ASSERT_EQ(r->boxes.size(), 2u);
  const Box& a = r->boxes.box[0];
  EXPECT_DOUBLE_EQ(a.x1, 10);
  EXPECT_DOUBLE_EQ(a.y1, 11);
  EXPECT_DOUBLE_EQ(a.x2, 50);
  EXPECT_DOUBLE_EQ(a.y2, 90);
  EXPECT_DOUBLE_EQ(r->boxes.confidence[0], 0.75);
  const Box& b = r->boxes.box[1];  // median of two = midpoint
  EXPECT_DOUBLE_EQ(b.x1, 201);
  EXPECT_DOUBLE_EQ(b.y2, 81);
  EXPECT_DOUBLE_EQ(r->boxes.confidence[1], 0.5);
  // Worker 2: one of two boxes kept, one of two kept groups drawn.
  EXPECT_DOUBLE_EQ(r->worker_precision[2], 0.5);
  EXPECT_DOUBLE_EQ(r->worker_recall[2], 0.5);
  EXPECT_DOUBLE_EQ(r->worker_recall[3], 0.0);
  EXPECT_DOUBLE_EQ(r->worker_precision[0], 1.0);

  o.min_support = 0.6;
  auto strict = AggregateBoxes(ThreeObjects(), o);
  ASSERT_TRUE(strict.ok());
  EXPECT_EQ(strict->boxes.size(), 1u);
}

TEST(AggregateBoxesTest, OneBoxPerWorkerPerGroup) {
  BoxAnnotations d = Annotations(1, 2, 1);
  Draw(d, 0, 0, {0, 0, 10, 10});
  Draw(d, 0, 0, {0, 0, 10, 10});  // a duplicate by the same worker
  Draw(d, 0, 1, {0, 0, 10, 10});
  BoxAggregationOptions o;
  o.method = BoxMethod::kUnweighted;
  o.min_support = 0.75;
  auto r = AggregateBoxes(d, o);
  ASSERT_TRUE(r.ok()) << r.status();
  // One group with both workers (support 1), one with the duplicate (0.5).
  ASSERT_EQ(r->boxes.size(), 1u);
  EXPECT_DOUBLE_EQ(r->boxes.confidence[0], 1.0);
}

TEST(AggregateBoxesTest, LabelsAreGroupedSeparately) {
  BoxAnnotations d = Annotations(1, 2, 2);
  Draw(d, 0, 0, {0, 0, 10, 10}, 0);
  Draw(d, 0, 1, {0, 0, 10, 10}, 1);
  BoxAggregationOptions o;
  o.method = BoxMethod::kUnweighted;
  o.min_support = 0.6;
  auto r = AggregateBoxes(d, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->boxes.size(), 0u);  // each label has 1 of 2 viewers
}

TEST(AggregateBoxesTest, SinglePicksOneSeededViewerPerImage) {
  BoxAnnotations d = ThreeObjects();
  BoxAggregationOptions o;
  o.method = BoxMethod::kSingle;
  auto r = AggregateBoxes(d, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->chosen_worker.size(), 1u);
  const int32_t w = r->chosen_worker[0];
  ASSERT_GE(w, 0);
  ASSERT_LT(w, 4);
  size_t drawn = 0;
  for (int32_t k : d.worker) drawn += k == w;
  EXPECT_EQ(r->boxes.size(), drawn);
  auto again = AggregateBoxes(d, o);
  EXPECT_EQ(again->chosen_worker, r->chosen_worker);
  // Over many seeds every viewer, including the one who drew nothing, is
  // chosen sometimes.
  std::vector<int> chosen(4, 0);
  for (uint64_t seed = 0; seed < 200; ++seed) {
    o.seed = seed;
    ++chosen[AggregateBoxes(d, o)->chosen_worker[0]];
  }
  for (int c : chosen) EXPECT_GT(c, 10);
}

// Twenty images with one object at a known place: workers 0-2 draw it
// within a pixel; worker 3 draws it off by 8 pixels; on the last image only
// workers 0 and 3 are present.
TEST(AggregateBoxesTest, WeightedMergeTrustsPreciseWorkers) {
  BoxAnnotations d = Annotations(21, 4, 1);
  for (int32_t img = 0; img < 20; ++img) {
    const double x = 10.0 * img;
    Draw(d, img, 0, {x, 0, x + 100, 200});
    Draw(d, img, 1, {x + 1, 1, x + 101, 201});
    Draw(d, img, 2, {x - 1, 0, x + 99, 199});
    Draw(d, img, 3, {x + 8, 8, x + 108, 208});
  }
  Draw(d, 20, 0, {0, 0, 100, 200});
  Draw(d, 20, 3, {8, 8, 108, 208});
  BoxAggregationOptions o;
  o.method = BoxMethod::kUnweighted;
  auto unweighted = AggregateBoxes(d, o);
  o.method = BoxMethod::kWeighted;
  auto weighted = AggregateBoxes(d, o);
  ASSERT_TRUE(unweighted.ok());
  ASSERT_TRUE(weighted.ok());
  EXPECT_TRUE(weighted->converged);
  const Box truth{0, 0, 100, 200};
  const Box& u = unweighted->boxes.box.back();
  const Box& w = weighted->boxes.box.back();
  ASSERT_EQ(unweighted->boxes.image.back(), 20);
  ASSERT_EQ(weighted->boxes.image.back(), 20);
  EXPECT_DOUBLE_EQ(u.x1, 4);  // midpoint of 0 and 8
  EXPECT_DOUBLE_EQ(w.x1, 0);  // worker 0 outweighs worker 3
  EXPECT_GT(IoU(w, truth), IoU(u, truth));
  EXPECT_GT(weighted->worker_coordinate_weight[0],
            weighted->worker_coordinate_weight[3]);
  EXPECT_GT(weighted->worker_mean_iou[0], weighted->worker_mean_iou[3]);
}

// Workers 0-2 find all four objects of each image; workers 3 and 4 find
// only the first. On the last image an object drawn by workers 0 and 1 has
// unweighted support 2/5, but its recall-weighted support is 2 / (3 + 2 x
// 1/4) > 1/2.
TEST(AggregateBoxesTest, WeightedSupportDiscountsLowRecallWorkers) {
  BoxAnnotations d = Annotations(31, 5, 1);
  for (int32_t img = 0; img < 30; ++img) {
    for (int obj = 0; obj < 4; ++obj) {
      const Box b{100.0 * obj, 0, 100.0 * obj + 50, 100};
      for (int32_t w = 0; w < 3; ++w) Draw(d, img, w, b);
      if (obj == 0) {
        Draw(d, img, 3, b);
        Draw(d, img, 4, b);
      }
    }
  }
  Draw(d, 30, 0, {0, 0, 50, 100});
  Draw(d, 30, 1, {0, 0, 50, 100});
  for (int32_t w = 2; w < 5; ++w) View(d, 30, w);
  BoxAggregationOptions o;
  o.method = BoxMethod::kUnweighted;
  auto unweighted = AggregateBoxes(d, o);
  o.method = BoxMethod::kWeighted;
  auto weighted = AggregateBoxes(d, o);
  ASSERT_TRUE(unweighted.ok());
  ASSERT_TRUE(weighted.ok());
  EXPECT_TRUE(weighted->converged);
  EXPECT_EQ(unweighted->boxes.size(), 120u);
  EXPECT_EQ(weighted->boxes.size(), 121u);
  EXPECT_EQ(weighted->boxes.image.back(), 30);
  EXPECT_GT(weighted->boxes.confidence.back(), 0.5);
  EXPECT_NEAR(weighted->worker_detection[3], 0.25, 0.02);
  EXPECT_NEAR(weighted->worker_detection[0], 1.0, 0.02);
  EXPECT_NEAR(weighted->worker_recall[3], 30.0 / 121.0, 1e-9);
}

TEST(AggregateBoxesTest, RejectsBadInput) {
  BoxAnnotations d = Annotations(1, 1, 1);
  Draw(d, 0, 0, {0, 0, NAN, 1});
  EXPECT_EQ(AggregateBoxes(d).status().code(),
            absl::StatusCode::kInvalidArgument);
  BoxAnnotations range = Annotations(1, 1, 1);
  View(range, 0, 1);
  EXPECT_EQ(AggregateBoxes(range).status().code(),
            absl::StatusCode::kInvalidArgument);
  BoxAggregationOptions o;
  o.match_iou = 0;
  EXPECT_EQ(AggregateBoxes(BoxAnnotations{}, o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EvaluateBoxesTest, CountsMatchesOnSelectedImagesOnly) {
  BoxSet truth, pred;
  auto add = [](BoxSet& s, int32_t img, Box b) {
    s.image.push_back(img);
    s.label.push_back(0);
    s.box.push_back(b);
  };
  add(truth, 0, {0, 0, 10, 10});
  add(truth, 0, {100, 100, 110, 110});
  add(pred, 0, {0, 0, 10, 8});     // IoU 0.8
  add(pred, 0, {50, 50, 60, 60});  // false positive
  add(pred, 1, {0, 0, 10, 10});    // image 1 has no truth: a false positive
  add(pred, 2, {0, 0, 10, 10});    // image 2 not selected: ignored
  const std::vector<int32_t> images = {0, 1};
  const BoxEvaluation ev = EvaluateBoxes(pred, truth, images);
  EXPECT_EQ(ev.true_positives, 1);
  EXPECT_EQ(ev.false_positives, 2);
  EXPECT_EQ(ev.false_negatives, 1);
  EXPECT_DOUBLE_EQ(ev.precision, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(ev.recall, 0.5);
  EXPECT_DOUBLE_EQ(ev.f1, 2.0 / 5.0);
  EXPECT_DOUBLE_EQ(ev.mean_iou, 0.8);
  const BoxEvaluation nothing = EvaluateBoxes(BoxSet{}, BoxSet{}, images);
  EXPECT_DOUBLE_EQ(nothing.f1, 1.0);
  EXPECT_DOUBLE_EQ(nothing.mean_iou, 0.0);
}

}  // namespace
}  // namespace tessera::algo
