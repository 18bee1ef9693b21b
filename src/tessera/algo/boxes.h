// Bounding-box aggregation across annotators (IoU grouping, support
// threshold, median or reliability-weighted merge with EM over annotator
// reliability) and its evaluation against truth. See docs/algorithms/boxes.md.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tessera::algo {

// An axis-aligned box in pixels; (x1, y1) is the top-left corner. A box with
// x2 <= x1 or y2 <= y1 has zero area.
struct Box {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

double Area(const Box& b);
// Intersection over union; 0 when the union is empty.
double IoU(const Box& a, const Box& b);

// Crowd annotations. Box k: worker[k] drew box[k] of class label[k] on
// image[k]. A worker who saw an image and drew nothing is listed as a view
// (view_image[v], view_worker[v]); drawing a box implies a view, so views
// may but need not repeat those. Labels are dense 0..num_labels-1; a worker
// who saw an image is taken to have seen it for every label.
struct BoxAnnotations {
  int32_t num_images = 0;
  int32_t num_workers = 0;
  int32_t num_labels = 1;
  std::vector<int32_t> image;
  std::vector<int32_t> worker;
  std::vector<int32_t> label;
  std::vector<Box> box;
  std::vector<int32_t> view_image;
  std::vector<int32_t> view_worker;
  size_t size() const { return box.size(); }
};

// A set of boxes, e.g. the aggregated result or the truth. confidence is
// optional (empty or one per box).
struct BoxSet {
  std::vector<int32_t> image;
  std::vector<int32_t> label;
  std::vector<Box> box;
  std::vector<double> confidence;
  size_t size() const { return box.size(); }
};

enum class BoxMethod : int8_t {
  // One annotator per image, picked by a seeded hash of (seed, image): the
  // baseline of "no aggregation".
  kSingle,
  // Groups kept when at least min_support of the image's viewers drew a box
  // in them; coordinates are per-coordinate medians.
  kUnweighted,
  // Annotator reliability estimated by EM (hard EM over box-level
  // agreement with the merged boxes); a group's support is the share of its
  // viewers who drew it, each weighted by their recall; coordinates are
  // weighted medians, each worker weighted by 1 / localisation error.
  kWeighted,
};

struct BoxAggregationOptions {
  BoxMethod method = BoxMethod::kWeighted;
  // A box joins a group when its IoU with the group's current merged box is
  // at least this (one box per worker per group).
  double match_iou = 0.5;
  // A group is kept when its support (fraction of the image's viewers who
  // drew it; recall-weighted for kWeighted) is at least this.
  double min_support = 0.5;
  // kWeighted: EM rounds, and the tolerance on the reliabilities (the EM
  // also stops only when the kept groups no longer change).
  int max_iterations = 30;
  double tolerance = 1e-4;
  // kWeighted: pseudo-counts pulling each annotator's recall and precision
  // toward the crowd's, and pseudo-boxes doing the same for localisation
  // error (so annotators with little work get near-average weight).
  double prior_count = 1.0;
  double localization_prior_boxes = 5.0;
  // kSingle: seed of the per-image annotator choice.
  uint64_t seed = 1;
};

struct BoxAggregation {
  // Merged boxes, ordered by image, label, then x1; confidence is the
  // group's support (1 for kSingle).
  BoxSet boxes;
  // Per worker, against the merged boxes: the fraction of the worker's boxes
  // that are in a kept group (precision), the fraction of kept groups on the
  // images the worker saw that the worker drew (recall), and the mean IoU of
  // the worker's kept boxes with their merged box; 0 when undefined. Empty
  // for kSingle.
  std::vector<double> worker_precision;
  std::vector<double> worker_recall;
  std::vector<double> worker_mean_iou;
  // kWeighted: the model's per-worker support weight (smoothed recall) and
  // coordinate weight (1 / mean squared relative corner error). Empty for
  // the other methods.
  std::vector<double> worker_detection;
  std::vector<double> worker_coordinate_weight;
  // kSingle: per image, the chosen worker (-1 when nobody saw it).
  std::vector<int32_t> chosen_worker;
  int iterations = 0;
  bool converged = false;
};

// OK when sizes agree, indices are in range and coordinates are finite;
// InvalidArgument naming the first bad row otherwise.
absl::Status ValidateBoxAnnotations(const BoxAnnotations& data);

// Aggregates crowd boxes per image and label. O(boxes x groups per image)
// per round. InvalidArgument on inconsistent sizes, out-of-range indices or
// non-finite coordinates.
absl::StatusOr<BoxAggregation> AggregateBoxes(
    const BoxAnnotations& data, const BoxAggregationOptions& options = {});

struct BoxEvaluation {
  int64_t true_positives = 0;
  int64_t false_positives = 0;
  int64_t false_negatives = 0;
  // precision = TP / (TP + FP), recall = TP / (TP + FN), f1 = 2TP / (2TP +
  // FP + FN); each is 1 when its denominator is 0 (nothing to get wrong).
  double precision = 1.0;
  double recall = 1.0;
  double f1 = 1.0;
  // Mean IoU of the matched (true-positive) pairs; 0 when there are none.
  double mean_iou = 0.0;
};

// Scores predicted boxes against truth on the given images only (boxes on
// other images are ignored): per image and label, pairs are matched one to
// one greedily by decreasing IoU, and a pair with IoU >= iou_threshold is a
// true positive.
BoxEvaluation EvaluateBoxes(const BoxSet& predicted, const BoxSet& truth,
                            absl::Span<const int32_t> images,
                            double iou_threshold = 0.5);

// Greedy one-to-one matching of box sets a and b by decreasing IoU, keeping
// pairs with IoU >= min_iou (and > 0). Returns (index in a, index in b, IoU).
struct BoxMatch {
  int32_t a = 0;
  int32_t b = 0;
  double iou = 0;
};
std::vector<BoxMatch> MatchBoxes(absl::Span<const Box> a,
                                 absl::Span<const Box> b, double min_iou);

}  // namespace tessera::algo
