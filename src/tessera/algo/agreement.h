// Inter-annotator agreement: Krippendorff's alpha (four levels, missing
// data), Fleiss' and Cohen's kappa, percent agreement, and mean pairwise IoU
// of boxes. See docs/algorithms/agreement.md.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/algo/boxes.h"
#include "tessera/algo/dense.h"

namespace tessera::algo {

// Level of measurement of alpha's difference function.
enum class AlphaLevel : int8_t { kNominal, kOrdinal, kInterval, kRatio };

// Reliability data with missing values: value k is coder[k]'s value for
// unit[k]; a coder who did not code a unit simply has no entry. Nominal
// values are compared by equality, ordinal ones by their order.
struct RatingData {
  int32_t num_units = 0;
  int32_t num_coders = 0;
  std::vector<int32_t> unit;
  std::vector<int32_t> coder;
  std::vector<double> value;
  size_t size() const { return value.size(); }
};

struct AlphaResult {
  double alpha = 0;
  double observed_disagreement = 0;  // D_o
  double expected_disagreement = 0;  // D_e
  int64_t pairable_values = 0;       // n: values in units with >= 2 values
  int32_t pairable_units = 0;
};

// Krippendorff's alpha = 1 - D_o / D_e by the coincidence-matrix
// formulation (Krippendorff 2011, "Computing Krippendorff's
// Alpha-Reliability"); units with fewer than two values are ignored.
// O(values log values); ordinal and ratio also cost O(V^2) in the number of
// distinct values V. InvalidArgument on inconsistent sizes, out-of-range
// indices, a coder coding a unit twice, non-finite values, negative values
// at ratio level, fewer than two pairable values, or no variation at all
// (D_e = 0, alpha undefined).
absl::StatusOr<AlphaResult> KrippendorffAlpha(const RatingData& data,
                                              AlphaLevel level);

struct KappaResult {
  double kappa = 0;
  double observed_agreement = 0;  // P_o (Cohen) or mean P_i (Fleiss)
  double expected_agreement = 0;  // P_e
  int32_t items = 0;              // items that entered the statistic
};

// Fleiss' kappa (Fleiss 1971) over items with at least two labels; items may
// have different numbers of raters (P_i uses each item's own count, p_j
// pools all those labels), which reduces to Fleiss' formula when every item
// has the same count. InvalidArgument when no item has two labels or P_e = 1.
absl::StatusOr<KappaResult> FleissKappa(const CategoricalData& data);

// Cohen's kappa (Cohen 1960) between workers 0 and 1 over the items both
// labelled. InvalidArgument unless num_workers == 2, a worker labels an item
// twice, no item is shared, or P_e = 1.
absl::StatusOr<KappaResult> CohenKappa(const CategoricalData& data);

// Percent agreement: the mean over items with at least two labels of the
// share of agreeing label pairs. InvalidArgument when no item has two labels.
absl::StatusOr<double> PercentAgreement(const CategoricalData& data);

struct BoxAgreement {
  // Mean over (image, pair of workers who both saw it) of the set IoU of
  // their boxes: matched IoU summed over labels / (|A| + |B| - matches); 1
  // when both drew nothing.
  double mean_pairwise_iou = 0;
  // Mean IoU of the matched box pairs (0 when none).
  double mean_matched_iou = 0;
  int64_t worker_pairs = 0;
  int64_t matched_boxes = 0;
};

// Mean pairwise IoU agreement of box annotations (same conventions as
// AggregateBoxes): per image, every pair of viewers, boxes matched one to
// one per label greedily by IoU, pairs with IoU >= min_iou (and > 0) count.
// Quadratic in the viewers of an image. InvalidArgument as AggregateBoxes,
// or when no image has two viewers.
absl::StatusOr<BoxAgreement> MeanPairwiseIoU(const BoxAnnotations& data,
                                             double min_iou = 0.0);

}  // namespace tessera::algo
