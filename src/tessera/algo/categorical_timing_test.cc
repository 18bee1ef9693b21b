// Timing of the CSV reader and every categorical method on synthetic data
// from shared/bench/gen_synth.py. DISABLED_ by default (no timing assertions);
// run with (one line)
//   TESSERA_SYNTH=/tmp/synth_1m algo_categorical_timing_test
//     --gtest_also_run_disabled_tests [--gtest_filter=*Ds*]
// where /tmp/synth_1m.answers.csv and .truth.csv exist. Prints parse and
// compute seconds (wall and process CPU) and accuracy.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "gtest/gtest.h"
#include "tessera/algo/categorical.h"
#include "tessera/algo/labels_csv.h"

namespace tessera::algo {
namespace {

double Wall() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
double Cpu() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) +
         1e-9 * static_cast<double>(ts.tv_nsec);
}

void Time(const char* method) {
  const char* prefix = std::getenv("TESSERA_SYNTH");
  if (prefix == nullptr) GTEST_SKIP() << "set TESSERA_SYNTH=/path/prefix";
  double w0 = Wall(), c0 = Cpu();
  absl::StatusOr<CategoricalLabels> l =
      ReadCategoricalLabels(std::string(prefix) + ".answers.csv");
  ASSERT_TRUE(l.ok()) << l.status();
  const double parse_wall = Wall() - w0, parse_cpu = Cpu() - c0;
  absl::StatusOr<std::vector<int32_t>> t = ReadCategoricalTruth(
      std::string(prefix) + ".truth.csv", l->items, l->classes);
  ASSERT_TRUE(t.ok()) << t.status();
  const int threads = std::getenv("TESSERA_THREADS")
                          ? std::atoi(std::getenv("TESSERA_THREADS"))
                          : 0;
  w0 = Wall();
  c0 = Cpu();
  const CategoricalResult r =
      RunCategorical(*ParseCategoricalMethod(method), l->data, threads);
  const double wall = Wall() - w0, cpu = Cpu() - c0;
  std::printf(
      "%s labels=%zu parse %.3fs wall %.3fs cpu | %s %.3fs wall %.3fs cpu, "
      "%d iterations, accuracy %.4f\n",
      prefix, l->data.size(), parse_wall, parse_cpu, method, wall, cpu,
      r.iterations, Accuracy(r, *t).accuracy);
}

TEST(CategoricalTiming, DISABLED_Mv) { Time("mv"); }
TEST(CategoricalTiming, DISABLED_Wawa) { Time("wawa"); }
TEST(CategoricalTiming, DISABLED_Ds) { Time("ds"); }
TEST(CategoricalTiming, DISABLED_Ocds) { Time("ocds"); }
TEST(CategoricalTiming, DISABLED_Best) { Time("best"); }
TEST(CategoricalTiming, DISABLED_Glad) { Time("glad"); }
TEST(CategoricalTiming, DISABLED_Mace) { Time("mace"); }

}  // namespace
}  // namespace tessera::algo
