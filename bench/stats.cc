// Latency percentiles and number formatting for the benchmark reports.
#include "stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace tessera::bench {

void Latencies::Merge(const Latencies& other) {
  samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  sorted_ = false;
}

double Latencies::PercentileMs(double q) {
  if (samples_.empty()) return 0;
  if (!sorted_) {
    std::sort(samples_.begin(), samples_.end());
    sorted_ = true;
  }
  size_t rank = static_cast<size_t>(std::ceil(q * samples_.size()));
  if (rank == 0) rank = 1;
  if (rank > samples_.size()) rank = samples_.size();
  return samples_[rank - 1] / 1000.0;
}

double Latencies::MaxMs() { return PercentileMs(1.0); }

std::string Fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string FormatCounts(const std::map<int, int64_t>& counts) {
  if (counts.empty()) return "none";
  std::string out;
  for (const auto& [status, n] : counts) {
    if (!out.empty()) out += ", ";
    absl::StrAppend(
        &out, status == 0 ? std::string("io") : absl::StrCat(status), ":", n);
  }
  return out;
}

}  // namespace tessera::bench
