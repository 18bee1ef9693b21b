// Quality snapshots of a pool: truth inference, annotator quality estimates
// and agreement computed from the pool's submissions by the algo/ engine.
// Service::Aggregate and the aggregation job store them; exports and
// annotator standing read them.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tessera/domain/types.h"
#include "tessera/store/store.h"

namespace tessera::service {

// A computed snapshot, before it has a version.
struct QualityBody {
  std::string method;   // "dawid_skene_smoothed", "bias_corrected_mean",
                        // "weighted_boxes" or "none"
  nlohmann::json body;  // the shape below, without the stored fields
};

// Builds the snapshot of `pool` from `results` (Tx::ListPoolResults: the
// latest round of every non-rejected submission). Pure and deterministic;
// runs the algorithms on one thread. A result that does not parse or does
// not fit the pool's config (unknown label, missing field) is skipped and
// counted, so stored data can never make the job fail. kInternal only if an
// algorithm rejects its (well-formed) input.
//
// The stored body, as GET /pools/{id}/quality returns it (the service adds
// pool_id, version, created_at, method and submissions_seen from the row):
//   {"task_type", "inference": bool, "note"?: string,
//    "counts": {"tasks", "annotators", "results", "skipped"},
//    "tasks": [...], "annotators": [...], "agreement": {...} | null}
// Tasks are ordered by id, annotators by id; annotators appear only by id.
// Numbers that are undefined (e.g. alpha with no pairable values) are null.
//   classify (smoothed Dawid-Skene, algo::Best):
//     tasks:      {"task_id", "label", "confidence", "posterior": {label: p},
//                  "answers"}
//     annotators: {"annotator_id", "answers", "accuracy" (confusion diagonal
//                  weighted by the class prior), "agreement_with_inferred"}
//     agreement:  {"level": "nominal", "krippendorff_alpha",
//                  "percent_agreement"}
//   pairwise: as classify over the classes a, b, tie, with "choice" for
//     "label" and "reliability" for "accuracy".
//   rating (worker-bias-corrected mean per criterion):
//     tasks:      {"task_id", "scores": {criterion: value}, "ratings",
//                  "confidence" (1 - mean |bias-corrected rating - score|
//                  / scale range; null below two ratings)}
//     annotators: {"annotator_id", "ratings", "bias": {criterion: bias}}
//     agreement:  {"level": "interval",
//                  "krippendorff_alpha": {criterion: alpha}}
//   bbox (reliability-weighted box merge, algo::AggregateBoxes):
//     tasks:      {"task_id", "annotators", "boxes": [{"label", "x", "y",
//                  "w", "h", "confidence"}]}
//     annotators: {"annotator_id", "submissions", "boxes", "precision",
//                  "recall", "mean_iou"}
//     agreement:  {"mean_pairwise_iou", "mean_matched_iou", "worker_pairs"}
//   rewrite, reference: no inference ("inference": false and a note);
//     tasks {"task_id", "submissions"}, annotators {"annotator_id",
//     "submissions"}, agreement null.
absl::StatusOr<QualityBody> BuildQualitySnapshot(
    const domain::Pool& pool, const std::vector<store::PoolResult>& results);

}  // namespace tessera::service
