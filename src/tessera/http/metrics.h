// A small thread-safe Prometheus registry: counters, gauges and latency
// histograms rendered in the text exposition format 0.0.4.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace tessera::http {

// Label (name, value) pairs, in the order they should be rendered.
using Labels = std::vector<std::pair<std::string, std::string>>;

// All methods are thread-safe. A metric used before Describe() is created
// with the type its first use implies (Inc: counter, Set: gauge, Observe:
// histogram) and no help text. Using a name with a different type than it
// was created with is ignored (and logged once to stderr).
class Metrics {
 public:
  // Upper bounds (seconds) of every histogram's buckets; +Inf is implied.
  static constexpr std::array<double, 14> kLatencyBuckets = {
      .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Declares metric `name` of `type` ("counter", "gauge" or "histogram") with
  // `help` text. Re-describing updates the help text only.
  void Describe(std::string name, std::string type, std::string help);
  // Adds `v` to counter (or gauge) `name`{labels}.
  void Inc(absl::string_view name, const Labels& labels, double v = 1);
  // Sets gauge `name`{labels} to `v`.
  void Set(absl::string_view name, const Labels& labels, double v);
  // Records one observation of `seconds` in histogram `name`{labels}.
  void Observe(absl::string_view name, const Labels& labels, double seconds);

  // Every metric, sorted by name then labels, in Prometheus text format.
  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    double value = 0;  // counter/gauge value
    std::array<uint64_t, kLatencyBuckets.size()> buckets{};  // non-cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    bool warned = false;
    // Keyed by the rendered label set, e.g. `method="GET",route="/x"`.
    absl::flat_hash_map<std::string, Series> series;
  };

  // The series for name{labels}, creating family/series as needed; null when
  // the family exists with a different type.
  Series* FindOrCreate(absl::string_view name, const Labels& labels, Type type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  // std::map: Render() emits families in name order without sorting.
  std::map<std::string, Family, std::less<>> families_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera::http
