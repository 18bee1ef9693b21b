// Scoring drafts against gold boxes: greedy IoU matching, precision/recall,
// and the box edits an annotator needs with and without the drafts.
#pragma once

#include <vector>

#include "tessera/preannotate/detector.h"

namespace tessera::preannotate {

struct EvalOptions {
  // A draft matches a gold box of the same label at IoU >= this.
  double match_iou = 0.5;
  // A matched draft with IoU below this still needs one "move" edit (drag
  // or resize); at or above it the annotator accepts it as is.
  double accept_iou = 0.9;
};

// Counts for one image (or, summed, a data set).
struct EvalCounts {
  int gold = 0;             // gold boxes
  int drafts = 0;           // drafted boxes
  int true_positives = 0;   // matched drafts
  int false_positives = 0;  // unmatched drafts: each needs a delete
  int misses = 0;           // unmatched gold boxes: each needs an add
  int moves = 0;            // matched drafts with IoU < accept_iou
  // Edits from scratch: one add per gold box.
  int EditsFromScratch() const { return gold; }
  // Edits starting from the drafts: deletes + moves + adds.
  int EditsWithDrafts() const { return false_positives + moves + misses; }

  EvalCounts& operator+=(const EvalCounts& o);
};

// Greedy matching in descending draft score: each draft takes the unmatched
// gold box of the same label with the highest IoU, if that IoU is at least
// options.match_iou. Deterministic (ties keep input order).
EvalCounts Evaluate(const std::vector<Detection>& drafts,
                    const std::vector<Detection>& gold,
                    const EvalOptions& options = {});

// Precision, recall and F1 of summed counts; 0 where undefined.
double Precision(const EvalCounts& c);
double Recall(const EvalCounts& c);
double F1(const EvalCounts& c);

}  // namespace tessera::preannotate
