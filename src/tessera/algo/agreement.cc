// Agreement metrics: Krippendorff's alpha, Fleiss' and Cohen's kappa,
// percent agreement, mean pairwise box IoU.
#include "tessera/algo/agreement.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tessera::algo {
namespace {

// Compressed rows of answer indices per item (or unit).
struct Rows {
  std::vector<int32_t> begin;
  std::vector<int32_t> index;
  int32_t Count(int32_t i) const { return begin[i + 1] - begin[i]; }
};

Rows GroupBy(const std::vector<int32_t>& key, int32_t num_keys) {
  Rows r;
  r.begin.assign(num_keys + 1, 0);
  for (int32_t k : key) ++r.begin[k + 1];
  for (int32_t i = 0; i < num_keys; ++i) r.begin[i + 1] += r.begin[i];
  r.index.resize(key.size());
  std::vector<int32_t> next(r.begin.begin(), r.begin.end() - 1);
  for (size_t k = 0; k < key.size(); ++k) {
    r.index[next[key[k]]++] = static_cast<int32_t>(k);
  }
  return r;
}

absl::Status ValidateCategorical(const CategoricalData& d) {
  const size_t n = d.item.size();
  if (d.worker.size() != n || d.label.size() != n) {
    return absl::InvalidArgumentError(
        "labels: item, worker and label differ in length");
  }
  for (size_t k = 0; k < n; ++k) {
    if (d.item[k] < 0 || d.item[k] >= d.num_items || d.worker[k] < 0 ||
        d.worker[k] >= d.num_workers || d.label[k] < 0 ||
        d.label[k] >= d.num_classes) {
      return absl::InvalidArgumentError(
          absl::StrCat("labels: answer ", k, " has an index out of range"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AlphaResult> KrippendorffAlpha(const RatingData& d,
                                              AlphaLevel level) {
  const size_t n_all = d.value.size();
  if (d.unit.size() != n_all || d.coder.size() != n_all) {
    return absl::InvalidArgumentError(
        "ratings: unit, coder and value differ in length");
  }
  for (size_t k = 0; k < n_all; ++k) {
    if (d.unit[k] < 0 || d.unit[k] >= d.num_units || d.coder[k] < 0 ||
        d.coder[k] >= d.num_coders) {
      return absl::InvalidArgumentError(
          absl::StrCat("ratings: value ", k, " has an index out of range"));
    }
    if (!std::isfinite(d.value[k])) {
      return absl::InvalidArgumentError(
          absl::StrCat("ratings: value ", k, " is not finite"));
    }
    if (level == AlphaLevel::kRatio && d.value[k] < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ratings: value ", k, " is negative, not allowed at ratio level"));
    }
  }
  const Rows units = GroupBy(d.unit, d.num_units);

  // Distinct values of the pairable units, and their counts n_c.
  std::vector<double> values;
  std::vector<int32_t> coders;
  for (int32_t u = 0; u < d.num_units; ++u) {
    if (units.Count(u) < 2) continue;
    coders.clear();
    for (int32_t i = units.begin[u]; i < units.begin[u + 1]; ++i) {
      values.push_back(d.value[units.index[i]]);
      coders.push_back(d.coder[units.index[i]]);
    }
    std::sort(coders.begin(), coders.end());
    if (std::adjacent_find(coders.begin(), coders.end()) != coders.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ratings: a coder has two values for unit ", u));
    }
  }
  AlphaResult r;
  r.pairable_values = static_cast<int64_t>(values.size());
  if (r.pairable_values < 2) {
    return absl::InvalidArgumentError(
        "ratings: alpha needs at least one unit with two values");
  }
  std::sort(values.begin(), values.end());
  std::vector<double> distinct;
  std::vector<double> count;  // n_c
  for (double v : values) {
    if (distinct.empty() || distinct.back() != v) {
      distinct.push_back(v);
      count.push_back(0);
    }
    count.back() += 1;
  }
  const size_t num_values = distinct.size();
  // cumulative[c] = sum of n_g for g < c (for the ordinal metric).
  std::vector<double> cumulative(num_values + 1, 0.0);
  for (size_t c = 0; c < num_values; ++c)
    cumulative[c + 1] = cumulative[c] + count[c];
  auto delta = [&](size_t c, size_t k) -> double {
    if (c == k) return 0.0;
    switch (level) {
      case AlphaLevel::kNominal:
        return 1.0;
      case AlphaLevel::kOrdinal: {
        const size_t lo = std::min(c, k), hi = std::max(c, k);
        const double x =
            cumulative[hi + 1] - cumulative[lo] - 0.5 * (count[lo] + count[hi]);
        return x * x;
      }
      case AlphaLevel::kInterval: {
        const double x = distinct[c] - distinct[k];
        return x * x;
      }
      case AlphaLevel::kRatio: {
        const double s = distinct[c] + distinct[k];
        const double x = s > 0 ? (distinct[c] - distinct[k]) / s : 0.0;
        return x * x;
      }
    }
    return 0.0;
  };

  // Observed: D_o = (1/n) sum_u 1/(m_u - 1) sum over ordered pairs of
  // values in u of delta (the coincidence matrix, summed on the fly).
  const double n = static_cast<double>(r.pairable_values);
  double observed = 0;
  std::vector<std::pair<size_t, double>> in_unit;  // (value index, count)
  for (int32_t u = 0; u < d.num_units; ++u) {
    const int32_t m = units.Count(u);
    if (m < 2) continue;
    ++r.pairable_units;
    in_unit.clear();
    for (int32_t i = units.begin[u]; i < units.begin[u + 1]; ++i) {
      const double v = d.value[units.index[i]];
      const size_t c = static_cast<size_t>(
          std::lower_bound(distinct.begin(), distinct.end(), v) -
          distinct.begin());
      auto it = std::find_if(in_unit.begin(), in_unit.end(),
                             [&](const auto& p) { return p.first == c; });
      if (it == in_unit.end()) {
        in_unit.emplace_back(c, 1.0);
      } else {
        it->second += 1;
      }
    }
    double s = 0;
    for (size_t a = 0; a < in_unit.size(); ++a) {
      for (size_t b = a + 1; b < in_unit.size(); ++b) {
        s += 2.0 * in_unit[a].second * in_unit[b].second *
             delta(in_unit[a].first, in_unit[b].first);
      }
    }
    observed += s / (m - 1);
  }
  r.observed_disagreement = observed / n;

  // Expected: D_e = 1/(n(n-1)) sum_c sum_k n_c n_k delta_ck.
  double expected = 0;
  if (level == AlphaLevel::kNominal) {
    double sq = 0;
    for (double c : count) sq += c * c;
    expected = n * n - sq;
  } else if (level == AlphaLevel::kInterval) {
    // sum_c sum_k n_c n_k (v_c - v_k)^2 = 2 (n sum n_c v_c^2 - (sum n_c
    // v_c)^2), computed around the mean for accuracy.
    double mean = 0;
    for (size_t c = 0; c < num_values; ++c) mean += count[c] * distinct[c];
    mean /= n;
    double ss = 0;
    for (size_t c = 0; c < num_values; ++c) {
      ss += count[c] * (distinct[c] - mean) * (distinct[c] - mean);
    }
    expected = 2.0 * n * ss;
  } else {
    for (size_t c = 0; c < num_values; ++c) {
      for (size_t k = c + 1; k < num_values; ++k) {
        expected += 2.0 * count[c] * count[k] * delta(c, k);
      }
    }
  }
  r.expected_disagreement = expected / (n * (n - 1));
  if (!(r.expected_disagreement > 0)) {
    return absl::InvalidArgumentError(
        "ratings: all pairable values are equal, alpha is undefined");
  }
  r.alpha = 1.0 - r.observed_disagreement / r.expected_disagreement;
  return r;
}

absl::StatusOr<KappaResult> FleissKappa(const CategoricalData& d) {
  if (auto s = ValidateCategorical(d); !s.ok()) return s;
  const Rows items = GroupBy(d.item, d.num_items);
  std::vector<double> per_class(d.num_classes, 0.0);
  std::vector<int32_t> in_item(d.num_classes, 0);
  double total = 0, p_sum = 0;
  KappaResult r;
  for (int32_t i = 0; i < d.num_items; ++i) {
    const int32_t m = items.Count(i);
    if (m < 2) continue;
    ++r.items;
    for (int32_t t = items.begin[i]; t < items.begin[i + 1]; ++t) {
      ++in_item[d.label[items.index[t]]];
    }
    double agree = 0;
    for (int32_t t = items.begin[i]; t < items.begin[i + 1]; ++t) {
      const int32_t c = d.label[items.index[t]];
      if (in_item[c] == 0) continue;  // already counted
      const double x = in_item[c];
      agree += x * (x - 1);
      per_class[c] += x;
      in_item[c] = 0;
    }
    p_sum += agree / (static_cast<double>(m) * (m - 1));
    total += m;
  }
  if (r.items == 0) {
    return absl::InvalidArgumentError(
        "labels: Fleiss' kappa needs an item with at least two labels");
  }
  double pe = 0;
  for (double x : per_class) pe += (x / total) * (x / total);
  r.observed_agreement = p_sum / r.items;
  r.expected_agreement = pe;
  if (pe >= 1.0) {
    return absl::InvalidArgumentError(
        "labels: every label is the same class, kappa is undefined");
  }
  r.kappa = (r.observed_agreement - pe) / (1.0 - pe);
  return r;
}

absl::StatusOr<KappaResult> CohenKappa(const CategoricalData& d) {
  if (auto s = ValidateCategorical(d); !s.ok()) return s;
  if (d.num_workers != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "labels: Cohen's kappa needs exactly two raters, got ", d.num_workers));
  }
  std::vector<int32_t> first(d.num_items, -1), second(d.num_items, -1);
  for (size_t k = 0; k < d.size(); ++k) {
    auto& slot = d.worker[k] == 0 ? first : second;
    if (slot[d.item[k]] >= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "labels: rater ", d.worker[k], " labels item ", d.item[k], " twice"));
    }
    slot[d.item[k]] = d.label[k];
  }
  std::vector<double> m0(d.num_classes, 0.0), m1(d.num_classes, 0.0);
  double agree = 0;
  KappaResult r;
  for (int32_t i = 0; i < d.num_items; ++i) {
    if (first[i] < 0 || second[i] < 0) continue;
    ++r.items;
    agree += first[i] == second[i];
    m0[first[i]] += 1;
    m1[second[i]] += 1;
  }
  if (r.items == 0) {
    return absl::InvalidArgumentError("labels: the two raters share no item");
  }
  const double n = r.items;
  double pe = 0;
  for (int32_t c = 0; c < d.num_classes; ++c) pe += (m0[c] / n) * (m1[c] / n);
  r.observed_agreement = agree / n;
  r.expected_agreement = pe;
  if (pe >= 1.0) {
    return absl::InvalidArgumentError(
        "labels: both raters always give the same class, kappa is undefined");
  }
  r.kappa = (r.observed_agreement - pe) / (1.0 - pe);
  return r;
}

absl::StatusOr<double> PercentAgreement(const CategoricalData& d) {
  if (auto s = ValidateCategorical(d); !s.ok()) return s;
  const Rows items = GroupBy(d.item, d.num_items);
  std::vector<int32_t> in_item(d.num_classes, 0);
  double sum = 0;
  int64_t used = 0;
  for (int32_t i = 0; i < d.num_items; ++i) {
    const int32_t m = items.Count(i);
    if (m < 2) continue;
    ++used;
    for (int32_t t = items.begin[i]; t < items.begin[i + 1]; ++t) {
      ++in_item[d.label[items.index[t]]];
    }
    double agree = 0;
    for (int32_t t = items.begin[i]; t < items.begin[i + 1]; ++t) {
      const int32_t c = d.label[items.index[t]];
      const double x = in_item[c];
      agree += x * (x - 1);
      in_item[c] = 0;
    }
    sum += agree / (static_cast<double>(m) * (m - 1));
  }
  if (used == 0) {
    return absl::InvalidArgumentError(
        "labels: percent agreement needs an item with at least two labels");
  }
  return sum / static_cast<double>(used);
}

absl::StatusOr<BoxAgreement> MeanPairwiseIoU(const BoxAnnotations& d,
                                             double min_iou) {
  if (auto s = ValidateBoxAnnotations(d); !s.ok()) return s;
  // Boxes sorted by (image, worker, label); viewers per image.
  std::vector<int32_t> order(d.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    if (d.image[a] != d.image[b]) return d.image[a] < d.image[b];
    if (d.worker[a] != d.worker[b]) return d.worker[a] < d.worker[b];
    if (d.label[a] != d.label[b]) return d.label[a] < d.label[b];
    return a < b;
  });
  std::vector<std::pair<int32_t, int32_t>> views;
  for (size_t k = 0; k < d.size(); ++k)
    views.emplace_back(d.image[k], d.worker[k]);
  for (size_t v = 0; v < d.view_image.size(); ++v) {
    views.emplace_back(d.view_image[v], d.view_worker[v]);
  }
  std::sort(views.begin(), views.end());
  views.erase(std::unique(views.begin(), views.end()), views.end());

  BoxAgreement r;
  double pair_sum = 0, iou_sum = 0;
  std::vector<std::pair<size_t, size_t>> ranges;  // per viewer, boxes in order
  std::vector<Box> a, b;
  size_t bi = 0;
  for (size_t s = 0; s < views.size();) {
    const int32_t img = views[s].first;
    size_t e = s;
    while (e < views.size() && views[e].first == img) ++e;
    ranges.clear();
    for (size_t v = s; v < e; ++v) {
      const int32_t w = views[v].second;
      while (bi < order.size() &&
             (d.image[order[bi]] < img ||
              (d.image[order[bi]] == img && d.worker[order[bi]] < w))) {
        ++bi;
      }
      const size_t begin = bi;
      while (bi < order.size() && d.image[order[bi]] == img &&
             d.worker[order[bi]] == w)
        ++bi;
      ranges.emplace_back(begin, bi);
    }
    for (size_t x = 0; x < ranges.size(); ++x) {
      for (size_t y = x + 1; y < ranges.size(); ++y) {
        const auto [xs, xe] = ranges[x];
        const auto [ys, ye] = ranges[y];
        const size_t total = (xe - xs) + (ye - ys);
        ++r.worker_pairs;
        if (total == 0) {
          pair_sum += 1.0;
          continue;
        }
        // Per label: both workers' runs are sorted by label.
        double matched_iou = 0;
        size_t matched = 0;
        size_t i = xs, j = ys;
        while (i < xe || j < ye) {
          const int32_t lab =
              (j >= ye || (i < xe && d.label[order[i]] < d.label[order[j]]))
                  ? d.label[order[i]]
                  : d.label[order[j]];
          a.clear();
          b.clear();
          while (i < xe && d.label[order[i]] == lab)
            a.push_back(d.box[order[i++]]);
          while (j < ye && d.label[order[j]] == lab)
            b.push_back(d.box[order[j++]]);
          for (const BoxMatch& m : MatchBoxes(a, b, min_iou)) {
            matched_iou += m.iou;
            ++matched;
          }
        }
        pair_sum += matched_iou / static_cast<double>(total - matched);
        iou_sum += matched_iou;
        r.matched_boxes += static_cast<int64_t>(matched);
      }
    }
    s = e;
  }
  if (r.worker_pairs == 0) {
    return absl::InvalidArgumentError(
        "boxes: mean pairwise IoU needs an image seen by two workers");
  }
  r.mean_pairwise_iou = pair_sum / static_cast<double>(r.worker_pairs);
  r.mean_matched_iou = r.matched_boxes > 0 ? iou_sum / r.matched_boxes : 0.0;
  return r;
}

}  // namespace tessera::algo
