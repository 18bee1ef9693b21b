// Box aggregation: IoU grouping against running merged boxes, support
// thresholds, (weighted) median merge, EM over annotator reliability.
#include "tessera/algo/boxes.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tessera/base/mix.h"

namespace tessera::algo {

double Area(const Box& b) {
  return std::max(0.0, b.x2 - b.x1) * std::max(0.0, b.y2 - b.y1);
}

double IoU(const Box& a, const Box& b) {
  const double iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const double ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  const double inter = iw > 0 && ih > 0 ? iw * ih : 0.0;
  const double uni = Area(a) + Area(b) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

std::vector<BoxMatch> MatchBoxes(absl::Span<const Box> a,
                                 absl::Span<const Box> b, double min_iou) {
  std::vector<BoxMatch> candidates;
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = 0; j < b.size(); ++j) {
      const double iou = IoU(a[i], b[j]);
      if (iou > 0 && iou >= min_iou) {
        candidates.push_back(
            {static_cast<int32_t>(i), static_cast<int32_t>(j), iou});
      }
    }
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const BoxMatch& x, const BoxMatch& y) {
              if (x.iou != y.iou) return x.iou > y.iou;
              if (x.a != y.a) return x.a < y.a;
              return x.b < y.b;
            });
  std::vector<uint8_t> used_a(a.size()), used_b(b.size());
  std::vector<BoxMatch> out;
  for (const BoxMatch& m : candidates) {
    if (used_a[m.a] || used_b[m.b]) continue;
    used_a[m.a] = used_b[m.b] = 1;
    out.push_back(m);
  }
  return out;
}

namespace {}  // namespace

absl::Status ValidateBoxAnnotations(const BoxAnnotations& d) {
  const size_t n = d.box.size();
  if (d.image.size() != n || d.worker.size() != n || d.label.size() != n) {
    return absl::InvalidArgumentError(
        "box data: image, worker, label and box differ in length");
  }
  if (d.view_image.size() != d.view_worker.size()) {
    return absl::InvalidArgumentError(
        "box data: view_image and view_worker differ in length");
  }
  if (d.num_images < 0 || d.num_workers < 0 || d.num_labels < 1) {
    return absl::InvalidArgumentError("box data: bad counts");
  }
  for (size_t k = 0; k < n; ++k) {
    if (d.image[k] < 0 || d.image[k] >= d.num_images || d.worker[k] < 0 ||
        d.worker[k] >= d.num_workers || d.label[k] < 0 ||
        d.label[k] >= d.num_labels) {
      return absl::InvalidArgumentError(
          absl::StrCat("box data: box ", k, " has an index out of range"));
    }
    const Box& b = d.box[k];
    if (!std::isfinite(b.x1) || !std::isfinite(b.y1) || !std::isfinite(b.x2) ||
        !std::isfinite(b.y2)) {
      return absl::InvalidArgumentError(
          absl::StrCat("box data: box ", k, " has a non-finite coordinate"));
    }
  }
  for (size_t v = 0; v < d.view_image.size(); ++v) {
    if (d.view_image[v] < 0 || d.view_image[v] >= d.num_images ||
        d.view_worker[v] < 0 || d.view_worker[v] >= d.num_workers) {
      return absl::InvalidArgumentError(
          absl::StrCat("box data: view ", v, " has an index out of range"));
    }
  }
  return absl::OkStatus();
}

namespace {

// Per-coordinate weighted median (the lower weighted median, or the midpoint
// of the two middle values when the weight splits exactly in half, which
// gives the ordinary median for equal weights).
class Merger {
 public:
  Box Merge(absl::Span<const int32_t> members, const std::vector<Box>& boxes,
            const std::vector<int32_t>& worker,
            const std::vector<double>& weight) {
    Box out;
    out.x1 = Median(members, boxes, worker, weight, &Box::x1);
    out.y1 = Median(members, boxes, worker, weight, &Box::y1);
    out.x2 = Median(members, boxes, worker, weight, &Box::x2);
    out.y2 = Median(members, boxes, worker, weight, &Box::y2);
    return out;
  }

 private:
  double Median(absl::Span<const int32_t> members,
                const std::vector<Box>& boxes,
                const std::vector<int32_t>& worker,
                const std::vector<double>& weight, double Box::*coord) {
    scratch_.clear();
    double total = 0;
    for (int32_t k : members) {
      const double w = weight[worker[k]];
      scratch_.emplace_back(boxes[k].*coord, w);
      total += w;
    }
    std::sort(scratch_.begin(), scratch_.end());
    const double half = 0.5 * total;
    double cum = 0;
    for (size_t i = 0; i < scratch_.size(); ++i) {
      cum += scratch_[i].second;
      if (std::abs(cum - half) <= 1e-12 * total && i + 1 < scratch_.size()) {
        return 0.5 * (scratch_[i].first + scratch_[i + 1].first);
      }
      if (cum > half) return scratch_[i].first;
    }
    return scratch_.back().first;
  }

  std::vector<std::pair<double, double>> scratch_;
};

// Groups of boxes over all (image, label) cells, stored flat.
struct Groups {
  std::vector<int32_t> image;
  std::vector<int32_t> label;
  std::vector<Box> merged;
  std::vector<int32_t> begin;  // members of g: members[begin[g]..begin[g+1])
  std::vector<int32_t> members;
  size_t size() const { return merged.size(); }
  absl::Span<const int32_t> Members(size_t g) const {
    return absl::MakeConstSpan(members).subspan(begin[g],
                                                begin[g + 1] - begin[g]);
  }
};

class Aggregator {
 public:
  Aggregator(const BoxAnnotations& d, const BoxAggregationOptions& o)
      : d_(d), o_(o) {
    // Boxes sorted by (image, label, worker).
    order_.resize(d.size());
    std::iota(order_.begin(), order_.end(), 0);
    std::sort(order_.begin(), order_.end(), [&](int32_t a, int32_t b) {
      if (d.image[a] != d.image[b]) return d.image[a] < d.image[b];
      if (d.label[a] != d.label[b]) return d.label[a] < d.label[b];
      if (d.worker[a] != d.worker[b]) return d.worker[a] < d.worker[b];
      return a < b;
    });
    // Viewers of each image, unique, in CSR form.
    std::vector<std::pair<int32_t, int32_t>> views;
    views.reserve(d.size() + d.view_image.size());
    for (size_t k = 0; k < d.size(); ++k)
      views.emplace_back(d.image[k], d.worker[k]);
    for (size_t v = 0; v < d.view_image.size(); ++v) {
      views.emplace_back(d.view_image[v], d.view_worker[v]);
    }
    std::sort(views.begin(), views.end());
    views.erase(std::unique(views.begin(), views.end()), views.end());
    viewer_begin_.assign(d.num_images + 1, 0);
    viewers_.reserve(views.size());
    for (const auto& [img, w] : views) {
      ++viewer_begin_[img + 1];
      viewers_.push_back(w);
    }
    for (int32_t i = 0; i < d.num_images; ++i) {
      viewer_begin_[i + 1] += viewer_begin_[i];
    }
    worker_images_.assign(d.num_workers, 0);
    for (int32_t w : viewers_) ++worker_images_[w];
  }

  absl::Span<const int32_t> Viewers(int32_t img) const {
    return absl::MakeConstSpan(viewers_).subspan(
        viewer_begin_[img], viewer_begin_[img + 1] - viewer_begin_[img]);
  }

  // Groups every (image, label) cell. Workers join in decreasing `priority`
  // (ties by index); each one's boxes are matched greedily to the current
  // groups by IoU with their merged boxes, the rest open new groups; merged
  // boxes are weighted medians with `weight` per worker.
  Groups Cluster(const std::vector<double>& priority,
                 const std::vector<double>& weight) {
    Groups g;
    g.begin.push_back(0);
    const size_t n = order_.size();
    for (size_t s = 0; s < n;) {
      size_t e = s;
      const int32_t img = d_.image[order_[s]];
      const int32_t lab = d_.label[order_[s]];
      while (e < n && d_.image[order_[e]] == img && d_.label[order_[e]] == lab)
        ++e;
      ClusterCell(s, e, priority, weight, g);
      s = e;
    }
    return g;
  }

  // Recomputes every group's merged box with new worker weights.
  void Remerge(Groups& g, const std::vector<double>& weight) {
    for (size_t c = 0; c < g.size(); ++c) {
      g.merged[c] = merger_.Merge(g.Members(c), d_.box, d_.worker, weight);
    }
  }

  const BoxAnnotations& data() const { return d_; }
  const std::vector<int32_t>& worker_images() const { return worker_images_; }

 private:
  void ClusterCell(size_t s, size_t e, const std::vector<double>& priority,
                   const std::vector<double>& weight, Groups& g) {
    // Runs of one worker's boxes inside [s, e).
    runs_.clear();
    for (size_t i = s; i < e;) {
      size_t j = i;
      while (j < e && d_.worker[order_[j]] == d_.worker[order_[i]]) ++j;
      runs_.emplace_back(i, j);
      i = j;
    }
    std::stable_sort(runs_.begin(), runs_.end(),
                     [&](const auto& a, const auto& b) {
                       return priority[d_.worker[order_[a.first]]] >
                              priority[d_.worker[order_[b.first]]];
                     });
    size_t num_local = 0;
    centres_.clear();
    for (const auto& [rs, re] : runs_) {
      // Candidate (box, group) pairs above the threshold, best first.
      cand_.clear();
      for (size_t i = rs; i < re; ++i) {
        const Box& b = d_.box[order_[i]];
        for (size_t c = 0; c < num_local; ++c) {
          const double iou = IoU(b, centres_[c]);
          if (iou > 0 && iou >= o_.match_iou) {
            cand_.push_back(
                {static_cast<int32_t>(i - rs), static_cast<int32_t>(c), iou});
          }
        }
      }
      std::sort(cand_.begin(), cand_.end(),
                [](const BoxMatch& x, const BoxMatch& y) {
                  if (x.iou != y.iou) return x.iou > y.iou;
                  if (x.a != y.a) return x.a < y.a;
                  return x.b < y.b;
                });
      box_used_.assign(re - rs, 0);
      group_used_.assign(num_local, 0);
      for (const BoxMatch& m : cand_) {
        if (box_used_[m.a] || group_used_[m.b]) continue;
        box_used_[m.a] = group_used_[m.b] = 1;
        local_[m.b].push_back(order_[rs + m.a]);
      }
      for (size_t c = 0; c < num_local; ++c) {
        if (group_used_[c]) {
          centres_[c] = merger_.Merge(local_[c], d_.box, d_.worker, weight);
        }
      }
      for (size_t i = rs; i < re; ++i) {
        if (box_used_[i - rs]) continue;
        if (local_.size() <= num_local) local_.emplace_back();
        local_[num_local].clear();
        local_[num_local].push_back(order_[i]);
        centres_.push_back(d_.box[order_[i]]);
        ++num_local;
      }
    }
    const int32_t img = d_.image[order_[s]];
    const int32_t lab = d_.label[order_[s]];
    for (size_t c = 0; c < num_local; ++c) {
      g.image.push_back(img);
      g.label.push_back(lab);
      g.merged.push_back(centres_[c]);
      g.members.insert(g.members.end(), local_[c].begin(), local_[c].end());
      g.begin.push_back(static_cast<int32_t>(g.members.size()));
    }
  }

  const BoxAnnotations& d_;
  const BoxAggregationOptions& o_;
  std::vector<int32_t> order_;
  std::vector<int32_t> viewer_begin_;
  std::vector<int32_t> viewers_;
  std::vector<int32_t> worker_images_;
  // Scratch reused across cells.
  std::vector<std::pair<size_t, size_t>> runs_;
  std::vector<std::vector<int32_t>> local_;
  std::vector<Box> centres_;
  std::vector<BoxMatch> cand_;
  std::vector<uint8_t> box_used_;
  std::vector<uint8_t> group_used_;
  Merger merger_;
};

// EM rounds that rebuild the groups before they are held fixed.
constexpr int kRegroupRounds = 2;

// Fills the per-worker precision / recall / mean IoU against kept groups.
void WorkerStats(const Aggregator& agg, const Groups& g,
                 const std::vector<uint8_t>& kept, BoxAggregation& r) {
  const BoxAnnotations& d = agg.data();
  const int32_t nw = d.num_workers;
  std::vector<double> boxes(nw), boxes_kept(nw), iou_sum(nw), groups_seen(nw);
  for (size_t k = 0; k < d.size(); ++k) boxes[d.worker[k]] += 1;
  std::vector<double> kept_per_image(d.num_images);
  for (size_t c = 0; c < g.size(); ++c) {
    if (!kept[c]) continue;
    kept_per_image[g.image[c]] += 1;
    for (int32_t k : g.Members(c)) {
      boxes_kept[d.worker[k]] += 1;
      iou_sum[d.worker[k]] += IoU(d.box[k], g.merged[c]);
    }
  }
  for (int32_t img = 0; img < d.num_images; ++img) {
    for (int32_t w : agg.Viewers(img)) groups_seen[w] += kept_per_image[img];
  }
  r.worker_precision.assign(nw, 0);
  r.worker_recall.assign(nw, 0);
  r.worker_mean_iou.assign(nw, 0);
  for (int32_t w = 0; w < nw; ++w) {
    if (boxes[w] > 0) r.worker_precision[w] = boxes_kept[w] / boxes[w];
    if (groups_seen[w] > 0) r.worker_recall[w] = boxes_kept[w] / groups_seen[w];
    if (boxes_kept[w] > 0) r.worker_mean_iou[w] = iou_sum[w] / boxes_kept[w];
  }
}

void Emit(const Groups& g, const std::vector<uint8_t>& kept,
          const std::vector<double>& support, BoxAggregation& r) {
  std::vector<int32_t> idx;
  for (size_t c = 0; c < g.size(); ++c) {
    if (kept[c]) idx.push_back(static_cast<int32_t>(c));
  }
  std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) {
    if (g.image[a] != g.image[b]) return g.image[a] < g.image[b];
    if (g.label[a] != g.label[b]) return g.label[a] < g.label[b];
    return g.merged[a].x1 < g.merged[b].x1;
  });
  for (int32_t c : idx) {
    r.boxes.image.push_back(g.image[c]);
    r.boxes.label.push_back(g.label[c]);
    r.boxes.box.push_back(g.merged[c]);
    r.boxes.confidence.push_back(support[c]);
  }
}

BoxAggregation Single(const Aggregator& agg, const BoxAggregationOptions& o) {
  const BoxAnnotations& d = agg.data();
  BoxAggregation r;
  r.chosen_worker.assign(d.num_images, -1);
  for (int32_t img = 0; img < d.num_images; ++img) {
    auto viewers = agg.Viewers(img);
    if (viewers.empty()) continue;
    const uint64_t h =
        SplitMix64(SplitMix64(o.seed) ^ static_cast<uint64_t>(img));
    r.chosen_worker[img] = viewers[h % viewers.size()];
  }
  std::vector<int32_t> idx;
  for (size_t k = 0; k < d.size(); ++k) {
    if (d.worker[k] == r.chosen_worker[d.image[k]])
      idx.push_back(static_cast<int32_t>(k));
  }
  std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) {
    if (d.image[a] != d.image[b]) return d.image[a] < d.image[b];
    if (d.label[a] != d.label[b]) return d.label[a] < d.label[b];
    return d.box[a].x1 < d.box[b].x1;
  });
  for (int32_t k : idx) {
    r.boxes.image.push_back(d.image[k]);
    r.boxes.label.push_back(d.label[k]);
    r.boxes.box.push_back(d.box[k]);
    r.boxes.confidence.push_back(1.0);
  }
  r.iterations = 1;
  r.converged = true;
  return r;
}

// Majority support of each group: the fraction of the image's viewers who
// drew a box in it.
void MajoritySupport(const Aggregator& agg, const Groups& g, double min_support,
                     std::vector<double>& support, std::vector<uint8_t>& kept) {
  support.resize(g.size());
  kept.resize(g.size());
  for (size_t c = 0; c < g.size(); ++c) {
    support[c] = static_cast<double>(g.Members(c).size()) /
                 static_cast<double>(agg.Viewers(g.image[c]).size());
    kept[c] = support[c] >= min_support;
  }
}

// Hard EM over annotator reliability, starting from the majority groups.
// M-step: each worker's recall (share of the kept groups on the images they
// saw that they drew) and precision (share of their boxes in kept groups),
// both shrunk toward the crowd's, and their localisation error against the
// merged boxes. E-step: a group's support is the recall-weighted share of
// its viewers who drew it; merged boxes are weighted medians with weight
// 1 / (localisation error). Groups are rebuilt in the first rounds with the
// most reliable workers seeding them, then held fixed so the EM settles.
void WeightedEm(Aggregator& agg, const BoxAggregationOptions& o, Groups& g,
                std::vector<double>& support, std::vector<uint8_t>& kept,
                BoxAggregation& r) {
  const BoxAnnotations& d = agg.data();
  const int32_t nw = d.num_workers;
  const double a = o.prior_count;
  std::vector<double> recall(nw, 1.0), precision(nw, 1.0), cw(nw, 1.0);
  std::vector<double> priority(nw), drawn(nw), seen(nw), boxes(nw), err(nw),
      err_n(nw);
  std::vector<double> kept_per_image(d.num_images);
  std::vector<double> viewer_weight(d.num_images);
  for (size_t k = 0; k < d.size(); ++k) boxes[d.worker[k]] += 1;
  std::vector<uint8_t> previous;
  r.iterations = 0;
  r.converged = false;
  while (r.iterations < o.max_iterations) {
    ++r.iterations;
    // M-step.
    std::fill(drawn.begin(), drawn.end(), 0.0);
    std::fill(seen.begin(), seen.end(), 0.0);
    std::fill(err.begin(), err.end(), 0.0);
    std::fill(err_n.begin(), err_n.end(), 0.0);
    std::fill(kept_per_image.begin(), kept_per_image.end(), 0.0);
    double err_total = 0;
    for (size_t c = 0; c < g.size(); ++c) {
      if (!kept[c]) continue;
      kept_per_image[g.image[c]] += 1;
      const Box& m = g.merged[c];
      const double wdt = std::max(m.x2 - m.x1, 1e-9);
      const double hgt = std::max(m.y2 - m.y1, 1e-9);
      for (int32_t k : g.Members(c)) {
        const int32_t w = d.worker[k];
        drawn[w] += 1;
        const Box& b = d.box[k];
        const double dx1 = (b.x1 - m.x1) / wdt, dx2 = (b.x2 - m.x2) / wdt;
        const double dy1 = (b.y1 - m.y1) / hgt, dy2 = (b.y2 - m.y2) / hgt;
        const double e2 =
            0.25 * (dx1 * dx1 + dx2 * dx2 + dy1 * dy1 + dy2 * dy2);
        err[w] += e2;
        err_n[w] += 1;
        err_total += e2;
      }
    }
    for (int32_t img = 0; img < d.num_images; ++img) {
      for (int32_t w : agg.Viewers(img)) seen[w] += kept_per_image[img];
    }
    double drawn_total = 0, seen_total = 0, box_total = 0;
    for (int32_t w = 0; w < nw; ++w) {
      drawn_total += drawn[w];
      seen_total += seen[w];
      box_total += boxes[w];
    }
    const double recall_mean = seen_total > 0 ? drawn_total / seen_total : 1.0;
    const double precision_mean = box_total > 0 ? drawn_total / box_total : 1.0;
    const double err_mean = drawn_total > 0 ? err_total / drawn_total : 1.0;
    const double m0 = o.localization_prior_boxes;
    double change = 0;
    for (int32_t w = 0; w < nw; ++w) {
      const double rw = (drawn[w] + a * recall_mean) / (seen[w] + a);
      const double pw = (drawn[w] + a * precision_mean) / (boxes[w] + a);
      change = std::max(
          {change, std::abs(rw - recall[w]), std::abs(pw - precision[w])});
      recall[w] = rw;
      precision[w] = pw;
      cw[w] = 1.0 / std::max((err[w] + m0 * err_mean) / (err_n[w] + m0), 1e-12);
      priority[w] = rw * pw;
    }
    if (r.iterations <= kRegroupRounds) {
      g = agg.Cluster(priority, cw);
    } else {
      agg.Remerge(g, cw);
    }
    // E-step.
    for (int32_t img = 0; img < d.num_images; ++img) {
      double s = 0;
      for (int32_t w : agg.Viewers(img)) s += recall[w];
      viewer_weight[img] = s;
    }
    previous.swap(kept);
    support.resize(g.size());
    kept.resize(g.size());
    for (size_t c = 0; c < g.size(); ++c) {
      double s = 0;
      for (int32_t k : g.Members(c)) s += recall[d.worker[k]];
      const double den = viewer_weight[g.image[c]];
      support[c] = den > 0 ? s / den : 0.0;
      kept[c] = support[c] >= o.min_support;
    }
    if (r.iterations > kRegroupRounds && kept == previous &&
        change < o.tolerance) {
      r.converged = true;
      break;
    }
  }
  r.worker_detection = std::move(recall);
  r.worker_coordinate_weight = std::move(cw);
}
}  // namespace

absl::StatusOr<BoxAggregation> AggregateBoxes(
    const BoxAnnotations& data, const BoxAggregationOptions& options) {
  if (auto s = ValidateBoxAnnotations(data); !s.ok()) return s;
  if (!(options.match_iou > 0 && options.match_iou <= 1) ||
      !(options.min_support >= 0 && options.min_support <= 1) ||
      options.max_iterations < 1 || !(options.tolerance > 0) ||
      !(options.prior_count > 0) || !(options.localization_prior_boxes >= 0)) {
    return absl::InvalidArgumentError(
        "box options: need 0 < match_iou <= 1, 0 <= min_support <= 1, "
        "max_iterations >= 1, tolerance > 0, prior_count > 0, "
        "localization_prior_boxes >= 0");
  }
  Aggregator agg(data, options);
  if (options.method == BoxMethod::kSingle) return Single(agg, options);

  const int32_t nw = data.num_workers;
  std::vector<double> ones(nw, 1.0);
  std::vector<double> zeros(nw, 0.0);
  Groups g = agg.Cluster(zeros, ones);
  // Majority support: the unweighted result and the EM's starting point.
  std::vector<double> support;
  std::vector<uint8_t> kept;
  MajoritySupport(agg, g, options.min_support, support, kept);
  BoxAggregation r;
  r.iterations = 1;
  r.converged = true;
  if (options.method == BoxMethod::kWeighted) {
    WeightedEm(agg, options, g, support, kept, r);
  }
  Emit(g, kept, support, r);
  WorkerStats(agg, g, kept, r);
  return r;
}

BoxEvaluation EvaluateBoxes(const BoxSet& predicted, const BoxSet& truth,
                            absl::Span<const int32_t> images,
                            double iou_threshold) {
  // Index both sets by (image, label) over the selected images.
  std::vector<int32_t> sel(images.begin(), images.end());
  std::sort(sel.begin(), sel.end());
  sel.erase(std::unique(sel.begin(), sel.end()), sel.end());
  auto selected = [&](int32_t img) {
    return std::binary_search(sel.begin(), sel.end(), img);
  };
  auto sorted = [&](const BoxSet& s) {
    std::vector<int32_t> idx;
    for (size_t k = 0; k < s.size(); ++k) {
      if (selected(s.image[k])) idx.push_back(static_cast<int32_t>(k));
    }
    std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) {
      if (s.image[a] != s.image[b]) return s.image[a] < s.image[b];
      return s.label[a] < s.label[b];
    });
    return idx;
  };
  const std::vector<int32_t> p = sorted(predicted);
  const std::vector<int32_t> t = sorted(truth);
  BoxEvaluation ev;
  double iou_sum = 0;
  std::vector<Box> pa, tb;
  size_t i = 0, j = 0;
  while (i < p.size() || j < t.size()) {
    // The next (image, label) cell present in either set.
    std::pair<int32_t, int32_t> key;
    if (j >= t.size() ||
        (i < p.size() &&
         std::make_pair(predicted.image[p[i]], predicted.label[p[i]]) <
             std::make_pair(truth.image[t[j]], truth.label[t[j]]))) {
      key = {predicted.image[p[i]], predicted.label[p[i]]};
    } else {
      key = {truth.image[t[j]], truth.label[t[j]]};
    }
    pa.clear();
    tb.clear();
    while (i < p.size() && predicted.image[p[i]] == key.first &&
           predicted.label[p[i]] == key.second) {
      pa.push_back(predicted.box[p[i++]]);
    }
    while (j < t.size() && truth.image[t[j]] == key.first &&
           truth.label[t[j]] == key.second) {
      tb.push_back(truth.box[t[j++]]);
    }
    const std::vector<BoxMatch> m = MatchBoxes(pa, tb, iou_threshold);
    ev.true_positives += static_cast<int64_t>(m.size());
    ev.false_positives += static_cast<int64_t>(pa.size() - m.size());
    ev.false_negatives += static_cast<int64_t>(tb.size() - m.size());
    for (const BoxMatch& x : m) iou_sum += x.iou;
  }
  const double tp = static_cast<double>(ev.true_positives);
  const double fp = static_cast<double>(ev.false_positives);
  const double fn = static_cast<double>(ev.false_negatives);
  ev.precision = tp + fp > 0 ? tp / (tp + fp) : 1.0;
  ev.recall = tp + fn > 0 ? tp / (tp + fn) : 1.0;
  ev.f1 = tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 1.0;
  ev.mean_iou = tp > 0 ? iou_sum / tp : 0.0;
  return ev;
}

}  // namespace tessera::algo
