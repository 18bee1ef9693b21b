// The built-in people detector: OpenCV's HOG descriptor with its default
// linear SVM (Dalal-Triggs, trained on INRIA people; ships inside OpenCV).
#pragma once

#include <memory>

#include "tessera/preannotate/detector.h"

namespace tessera::preannotate {

// Defaults were chosen on coco128's person boxes with bench/preannotate.sh
// (docs/benchmarks.md, "Pre-annotation"): the best F1 at IoU >= 0.5 among
// settings costing no more time. On such general images drafts below score
// 0.85 cost annotators more edits than they save: filter before storing.
struct HogOptions {
  // Images whose longer side is below this are upscaled by `upscale` first:
  // the SVM window is 64x128 with the person ~48x96 inside it, so without
  // upscaling smaller people cannot be found at all.
  // On coco128 (~640x480) upscaling everything by 2 took ~6x the time and
  // lowered F1 (0.058 vs 0.075: 8 more hits, 375 more false positives), so
  // only really small images are scaled.
  int upscale_below = 400;
  double upscale = 2.0;
  // Pyramid step between scales (smaller = more scales, slower).
  double scale_step = 1.05;
  // SVM margin a window needs to count (0 = the SVM's own boundary).
  double hit_threshold = 0.0;
  // OpenCV's own grouping: keep only clusters of more than this many
  // overlapping windows (0 = off). Suppresses isolated false positives.
  int group_threshold = 0;
  // Non-maximum suppression: a box overlapping a better one with IoU above
  // this is dropped.
  double nms_iou = 0.3;
  // Drop detections whose score (below) is under this.
  double min_score = 0.5;
  // Shrink each window to the person inside it (OpenCV's peopledetect
  // sample does the same: the window has ~10% margin left/right, ~7% top).
  bool tighten = true;
};

// Label "person"; score = 1 / (1 + exp(-margin)), the SVM margin squashed
// into (0, 1), so scores above 0.5 are on the positive side of the SVM.
std::unique_ptr<Detector> MakeHogDetector(const HogOptions& options = {});

}  // namespace tessera::preannotate
