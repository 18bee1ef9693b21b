// `tessera agreement`: inter-annotator agreement of a labels CSV
// (Krippendorff's alpha, Fleiss' and Cohen's kappa, percent agreement) or of
// a boxes CSV (mean pairwise IoU). The contract is in docs/cli.md.
#pragma once

#include <ostream>
#include <string>

namespace tessera::cli {

struct AgreementOptions {
  std::string labels_path;  // required: item,worker,label (boxes CSV for iou)
  std::string metric;       // required: alpha | fleiss | cohen | percent | iou
  // alpha only: nominal (default) | ordinal | interval | ratio; the last
  // three need numeric labels.
  std::string level;
  bool json = false;
  // Keep every row when a worker labels an item more than once (fleiss and
  // percent count them; alpha and cohen then reject the repeat).
  bool keep_repeats = false;
};

// Runs the command; output, errors and exit statuses as RunAggregate.
int RunAgreement(const AgreementOptions& options, std::ostream& out,
                 std::ostream& err);

}  // namespace tessera::cli
