// Greedy IoU matching of drafts to gold boxes and the edit counts it implies.
#include "tessera/preannotate/evaluation.h"

#include <algorithm>
#include <numeric>

namespace tessera::preannotate {

EvalCounts& EvalCounts::operator+=(const EvalCounts& o) {
  gold += o.gold;
  drafts += o.drafts;
  true_positives += o.true_positives;
  false_positives += o.false_positives;
  misses += o.misses;
  moves += o.moves;
  return *this;
}

EvalCounts Evaluate(const std::vector<Detection>& drafts,
                    const std::vector<Detection>& gold,
                    const EvalOptions& options) {
  EvalCounts c;
  c.gold = static_cast<int>(gold.size());
  c.drafts = static_cast<int>(drafts.size());
  std::vector<size_t> order(drafts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return drafts[a].score > drafts[b].score;
  });
  std::vector<bool> taken(gold.size(), false);
  for (size_t i : order) {
    int best = -1;
    double best_iou = options.match_iou;
    for (size_t g = 0; g < gold.size(); ++g) {
      if (taken[g] || gold[g].label != drafts[i].label) continue;
      double iou = IoU(drafts[i], gold[g]);
      if (iou >= best_iou && (best < 0 || iou > best_iou)) {
        best = static_cast<int>(g);
        best_iou = iou;
      }
    }
    if (best < 0) {
      ++c.false_positives;
      continue;
    }
    taken[best] = true;
    ++c.true_positives;
    if (best_iou < options.accept_iou) ++c.moves;
  }
  c.misses = c.gold - c.true_positives;
  return c;
}

double Precision(const EvalCounts& c) {
  return c.drafts == 0 ? 0 : static_cast<double>(c.true_positives) / c.drafts;
}

double Recall(const EvalCounts& c) {
  return c.gold == 0 ? 0 : static_cast<double>(c.true_positives) / c.gold;
}

double F1(const EvalCounts& c) {
  double p = Precision(c), r = Recall(c);
  return p + r == 0 ? 0 : 2 * p * r / (p + r);
}

}  // namespace tessera::preannotate
