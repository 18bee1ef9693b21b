// Numeric rating aggregation: mean, median, bias-corrected mean, errors.
#include "tessera/algo/numeric.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tessera/algo/internal/grouping.h"

namespace tessera::algo {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Answer indices grouped by item (counting sort).
struct Grouped {
  std::vector<int64_t> begin;
  std::vector<int32_t> order;
};

Grouped GroupNumeric(const NumericData& d) {
  TESSERA_ALGO_CHECK(d.worker.size() == d.size() && d.value.size() == d.size(),
                     "numeric column sizes");
  Grouped g;
  g.begin.assign(static_cast<size_t>(d.num_items) + 1, 0);
  for (int32_t j : d.item) {
    TESSERA_ALGO_CHECK(j >= 0 && j < d.num_items, "item index");
    ++g.begin[j + 1];
  }
  for (int32_t j = 0; j < d.num_items; ++j) g.begin[j + 1] += g.begin[j];
  std::vector<int64_t> next(g.begin.begin(), g.begin.end() - 1);
  g.order.resize(d.size());
  for (size_t k = 0; k < d.size(); ++k) {
    TESSERA_ALGO_CHECK(d.worker[k] >= 0 && d.worker[k] < d.num_workers,
                       "worker index");
    g.order[next[d.item[k]]++] = static_cast<int32_t>(k);
  }
  return g;
}

}  // namespace

NumericResult NumericMean(const NumericData& data) {
  NumericResult r;
  r.value.assign(data.num_items, kNaN);
  std::vector<double> sum(data.num_items, 0.0);
  std::vector<int64_t> n(data.num_items, 0);
  for (size_t k = 0; k < data.size(); ++k) {
    TESSERA_ALGO_CHECK(data.item[k] >= 0 && data.item[k] < data.num_items,
                       "item index");
    sum[data.item[k]] += data.value[k];
    ++n[data.item[k]];
  }
  for (int32_t j = 0; j < data.num_items; ++j) {
    if (n[j] > 0) r.value[j] = sum[j] / static_cast<double>(n[j]);
  }
  return r;
}

NumericResult NumericMedian(const NumericData& data) {
  const Grouped g = GroupNumeric(data);
  NumericResult r;
  r.value.assign(data.num_items, kNaN);
  std::vector<double> v;
  for (int32_t j = 0; j < data.num_items; ++j) {
    const int64_t b = g.begin[j], e = g.begin[j + 1];
    if (b == e) continue;
    v.clear();
    for (int64_t i = b; i < e; ++i) v.push_back(data.value[g.order[i]]);
    const size_t m = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + m, v.end());
    double med = v[m];
    if (v.size() % 2 == 0) {
      med = 0.5 * (med + *std::max_element(v.begin(), v.begin() + m));
    }
    r.value[j] = med;
  }
  return r;
}

NumericResult NumericBiasCorrectedMean(const NumericData& data,
                                       const BiasCorrectedOptions& options) {
  NumericResult r = NumericMean(data);
  r.worker_bias.assign(data.num_workers, 0.0);
  std::vector<double> resid(data.num_workers), count(data.num_workers, 0.0);
  for (int32_t w : data.worker) {
    TESSERA_ALGO_CHECK(w >= 0 && w < data.num_workers, "worker index");
    count[w] += 1.0;
  }
  std::vector<double> sum(data.num_items), n(data.num_items), active;
  for (int it = 0; it < options.max_iterations; ++it) {
    // Biases from residuals against the current item values.
    std::fill(resid.begin(), resid.end(), 0.0);
    for (size_t k = 0; k < data.size(); ++k) {
      resid[data.worker[k]] += data.value[k] - r.value[data.item[k]];
    }
    active.clear();
    for (int32_t w = 0; w < data.num_workers; ++w) {
      if (count[w] == 0) continue;
      r.worker_bias[w] = resid[w] / (count[w] + options.shrinkage);
      active.push_back(r.worker_bias[w]);
    }
    // Biases are identified up to a shared constant: centre them on their
    // median, i.e. assume the typical worker is unbiased.
    double centre = 0.0;
    if (!active.empty()) {
      const size_t m = active.size() / 2;
      std::nth_element(active.begin(), active.begin() + m, active.end());
      centre = active[m];
      if (active.size() % 2 == 0) {
        centre = 0.5 * (centre +
                        *std::max_element(active.begin(), active.begin() + m));
      }
    }
    for (int32_t w = 0; w < data.num_workers; ++w) {
      if (count[w] > 0) r.worker_bias[w] -= centre;
    }
    // Item values from bias-corrected answers.
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(n.begin(), n.end(), 0.0);
    for (size_t k = 0; k < data.size(); ++k) {
      sum[data.item[k]] += data.value[k] - r.worker_bias[data.worker[k]];
      n[data.item[k]] += 1.0;
    }
    double change = 0.0;
    for (int32_t j = 0; j < data.num_items; ++j) {
      if (n[j] == 0) continue;
      const double v = sum[j] / n[j];
      change = std::max(change, std::abs(v - r.value[j]));
      r.value[j] = v;
    }
    r.iterations = it + 1;
    if (change < options.tolerance) break;
  }
  return r;
}

NumericErrors CompareNumeric(const std::vector<double>& estimate,
                             const std::vector<double>& truth) {
  NumericErrors e;
  double abs_sum = 0.0, sq_sum = 0.0;
  const size_t n = std::min(estimate.size(), truth.size());
  for (size_t j = 0; j < n; ++j) {
    if (!std::isfinite(estimate[j]) || !std::isfinite(truth[j])) continue;
    const double d = estimate[j] - truth[j];
    abs_sum += std::abs(d);
    sq_sum += d * d;
    ++e.evaluated;
  }
  if (e.evaluated > 0) {
    e.mae = abs_sum / static_cast<double>(e.evaluated);
    e.rmse = std::sqrt(sq_sum / static_cast<double>(e.evaluated));
  } else {
    e.mae = e.rmse = kNaN;
  }
  return e;
}

}  // namespace tessera::algo
