// Aggregation of numeric ratings: mean, median and a worker-bias-corrected
// mean, and MAE/RMSE against truth. Dense arrays in, dense arrays out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tessera::algo {

// Numeric answers: worker[k] rated item[k] with value[k].
struct NumericData {
  int32_t num_items = 0;
  int32_t num_workers = 0;
  std::vector<int32_t> item;
  std::vector<int32_t> worker;
  std::vector<double> value;
  size_t size() const { return item.size(); }
};

struct NumericResult {
  std::vector<double> value;        // per item; NaN for items with no answers
  std::vector<double> worker_bias;  // per worker (bias-corrected mean only)
  int iterations = 0;
};

// Arithmetic mean of each item's answers.
NumericResult NumericMean(const NumericData& data);
// Median of each item's answers (mean of the two middle ones when even).
NumericResult NumericMedian(const NumericData& data);

// Model: value = truth[item] + bias[worker] + noise. Alternates
// truth = mean(value - bias) and bias = sum(value - truth) / (n_w + shrinkage)
// (a Gaussian prior pulling biases with few answers towards 0), then centres
// biases on their median over workers (the typical worker is unbiased).
struct BiasCorrectedOptions {
  double shrinkage = 1.0;   // pseudo-answers of zero bias per worker
  double tolerance = 1e-9;  // max change of any item value
  int max_iterations = 100;
};
NumericResult NumericBiasCorrectedMean(
    const NumericData& data, const BiasCorrectedOptions& options = {});

// Errors against truth over items where both are finite.
struct NumericErrors {
  int64_t evaluated = 0;
  double mae = 0.0;
  double rmse = 0.0;
};
NumericErrors CompareNumeric(const std::vector<double>& estimate,
                             const std::vector<double>& truth);

}  // namespace tessera::algo
