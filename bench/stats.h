// Latency samples and their summary (percentiles, max) for the benchmarks;
// also small helpers to print results as Markdown.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tessera::bench {

// Microsecond latency samples of one kind of request. Not thread-safe: keep
// one per thread (or connection) and Merge() them at the end.
class Latencies {
 public:
  void Add(int64_t micros) { samples_.push_back(micros); }
  void Merge(const Latencies& other);
  int64_t count() const { return static_cast<int64_t>(samples_.size()); }
  // Nearest-rank percentile in milliseconds (q in [0, 1]); 0 when empty.
  // Sorts the samples on first use after an Add or Merge.
  double PercentileMs(double q);
  double MaxMs();

 private:
  std::vector<int64_t> samples_;
  bool sorted_ = false;
};

// "12.3" style formatting used in the Markdown tables.
std::string Fmt(double v, int decimals = 1);
// "404:3, 409:1" (or "none").
std::string FormatCounts(const std::map<int, int64_t>& counts);

}  // namespace tessera::bench
