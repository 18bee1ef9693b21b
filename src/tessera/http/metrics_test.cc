// Prometheus rendering: counters, gauges, cumulative histograms, escaping.
#include "tessera/http/metrics.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(HttpMetricsTest, RendersCounterAndGauge) {
  Metrics m;
  m.Describe("reqs_total", "counter", "Requests.");
  m.Describe("open", "gauge", "Open things.");
  m.Inc("reqs_total", {{"method", "GET"}, {"status", "200"}});
  m.Inc("reqs_total", {{"method", "GET"}, {"status", "200"}}, 2);
  m.Inc("reqs_total", {{"method", "POST"}, {"status", "201"}});
  m.Set("open", {}, 5);
  m.Set("open", {}, 3);
  EXPECT_EQ(m.Render(),
            "# HELP open Open things.\n"
            "# TYPE open gauge\n"
            "open 3\n"
            "# HELP reqs_total Requests.\n"
            "# TYPE reqs_total counter\n"
            "reqs_total{method=\"GET\",status=\"200\"} 3\n"
            "reqs_total{method=\"POST\",status=\"201\"} 1\n");
}

TEST(HttpMetricsTest, HistogramBucketsAreCumulative) {
  Metrics m;
  m.Describe("lat_seconds", "histogram", "Latency.");
  m.Observe("lat_seconds", {{"route", "/x"}}, 0.0004);  // first bucket
  m.Observe("lat_seconds", {{"route", "/x"}}, 0.001);   // le is inclusive
  m.Observe("lat_seconds", {{"route", "/x"}}, 0.3);
  m.Observe("lat_seconds", {{"route", "/x"}}, 60);  // only +Inf
  std::string out = m.Render();
  EXPECT_THAT(out, HasSubstr("# TYPE lat_seconds histogram\n"));
  EXPECT_THAT(out,
              HasSubstr("lat_seconds_bucket{route=\"/x\",le=\"0.0005\"} 1\n"));
  EXPECT_THAT(out,
              HasSubstr("lat_seconds_bucket{route=\"/x\",le=\"0.001\"} 2\n"));
  EXPECT_THAT(out,
              HasSubstr("lat_seconds_bucket{route=\"/x\",le=\"0.25\"} 2\n"));
  EXPECT_THAT(out,
              HasSubstr("lat_seconds_bucket{route=\"/x\",le=\"0.5\"} 3\n"));
  EXPECT_THAT(out, HasSubstr("lat_seconds_bucket{route=\"/x\",le=\"10\"} 3\n"));
  EXPECT_THAT(out,
              HasSubstr("lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"));
  EXPECT_THAT(out,
              HasSubstr("lat_seconds_sum{route=\"/x\"} 60.301400000000001\n"));
  EXPECT_THAT(out, HasSubstr("lat_seconds_count{route=\"/x\"} 4\n"));
  // 14 finite buckets + Inf.
  size_t buckets = 0;
  for (size_t pos = 0; (pos = out.find("_bucket{", pos)) != std::string::npos;
       ++pos) {
    ++buckets;
  }
  EXPECT_EQ(buckets, 15u);
}

TEST(HttpMetricsTest, HistogramWithoutLabels) {
  Metrics m;
  m.Observe("h", {}, 0.002);
  std::string out = m.Render();
  EXPECT_THAT(out, HasSubstr("h_bucket{le=\"0.0025\"} 1\n"));
  EXPECT_THAT(out, HasSubstr("h_count 1\n"));
  EXPECT_THAT(out, Not(HasSubstr("# HELP h")));  // undescribed
}

TEST(HttpMetricsTest, EscapesLabelValuesAndHelp) {
  Metrics m;
  m.Describe("c", "counter", "Line one\nback\\slash");
  m.Inc("c", {{"path", "a\"b\\c\nd"}});
  EXPECT_EQ(m.Render(),
            "# HELP c Line one\\nback\\\\slash\n"
            "# TYPE c counter\n"
            "c{path=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(HttpMetricsTest, LargeCountersAreExactAndFractionsRoundTrip) {
  Metrics m;
  m.Inc("big", {}, 123456789012.0);
  m.Set("frac", {}, 0.1);
  std::string out = m.Render();
  EXPECT_THAT(out, HasSubstr("big 123456789012\n"));
  EXPECT_THAT(out, HasSubstr("frac 0.10000000000000001\n"));
}

TEST(HttpMetricsTest, WrongTypeIsIgnored) {
  Metrics m;
  m.Describe("g", "counter", "x");
  m.Observe("g", {}, 1);
  EXPECT_EQ(m.Render(), "# HELP g x\n# TYPE g counter\n");
}

TEST(HttpMetricsTest, ConcurrentIncrementsAreCounted) {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 10000; ++i) m.Inc("n", {{"k", "v"}});
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_THAT(m.Render(), HasSubstr("n{k=\"v\"} 40000\n"));
}

}  // namespace
}  // namespace tessera::http
