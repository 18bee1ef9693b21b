// tessera-algo-bench: times one quality-engine method on one labels file
// (parse and compute separately) and prints one Markdown row with accuracy,
// iterations, peak memory and bytes per label. bench/algo.sh runs the matrix.
//
//   tessera-algo-bench --kind cat --answers P.answers.csv --truth P.truth.csv
//       --method ds --threads 2 [--set NAME] [--reference-seconds 70.2]
//   tessera-algo-bench --kind pair --answers P.answers.csv --truth P.truth.csv
//       --method bt|crowd-bt
// Run each measurement in a fresh process: the peak RSS is the process's.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "tessera/algo/categorical.h"
#include "tessera/algo/dense.h"
#include "tessera/algo/labels_csv.h"
#include "tessera/algo/pairwise.h"

namespace tessera::bench {
namespace {

using algo::CategoricalResult;

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

// A field of /proc/self/status in KiB (VmRSS, VmHWM), 0 when unreadable.
int64_t StatusKib(absl::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view l = line;
    if (!absl::ConsumePrefix(&l, field) || !absl::ConsumePrefix(&l, ":")) {
      continue;
    }
    l = absl::StripAsciiWhitespace(l);
    absl::ConsumeSuffix(&l, "kB");
    int64_t kib = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(l), &kib)) return kib;
  }
  return 0;
}

// getrusage's ru_maxrss: the process's peak resident set, in KiB.
int64_t PeakKib() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// Resets VmHWM to the current RSS (Linux >= 4.0), so that the next VmHWM
// read is the peak of what ran in between. False if the kernel refused.
bool ResetHwm() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

template <typename T>
int64_t Bytes(const std::vector<T>& v) {
  return static_cast<int64_t>(v.capacity() * sizeof(T));
}

// What one run measured; printed as a Markdown row.
struct Row {
  std::string set;
  std::string method;
  int threads = 0;
  int64_t labels = 0;
  int64_t items = 0;
  int64_t workers = 0;
  double parse_seconds = 0;
  double parse_cpu_seconds = 0;  // CPU time of the parse (one thread)
  double compute_seconds = 0;
  double compute_cpu_seconds = 0;
  int iterations = 0;
  bool converged = true;
  std::string quality;  // "acc 0.9512" or "ρ 0.873"
  int64_t startup_kib = 0;
  // Whole process: the larger of the parse peak and ru_maxrss at the end
  // (resetting VmHWM also resets ru_maxrss).
  int64_t peak_kib = 0;
  int64_t parse_hwm_kib = 0;       // VmHWM at the end of parsing
  int64_t before_compute_kib = 0;  // VmRSS when compute starts
  int64_t compute_hwm_kib = -1;    // VmHWM during compute (-1: unknown)
  int64_t model_bytes = 0;
  double reference_seconds = 0;  // crowd-kit, fit+predict; 0 = none
};

std::string Fixed(double v, int digits) {
  return absl::StrFormat("%.*f", digits, v);
}

void Print(const Row& r) {
  const double labels = static_cast<double>(std::max<int64_t>(r.labels, 1));
  // Bytes above the RSS the process started with, per label: at the process
  // peak (usually while parsing), and at the compute peak minus the model.
  const double per_label =
      static_cast<double>(r.peak_kib - r.startup_kib) * 1024 / labels;
  const int64_t compute_kib =
      r.compute_hwm_kib >= 0 ? r.compute_hwm_kib : r.peak_kib;
  const double per_label_no_model =
      (static_cast<double>(compute_kib - r.startup_kib) * 1024 -
       static_cast<double>(r.model_bytes)) /
      labels;
  std::string compute_peak = "–";
  if (r.compute_hwm_kib >= 0) {
    compute_peak = Fixed(static_cast<double>(r.compute_hwm_kib) / 1024, 0);
  }
  auto mib = [](int64_t kib) {
    return Fixed(static_cast<double>(kib) / 1024, 0);
  };
  std::string ratio = "–";
  if (r.reference_seconds > 0) {
    ratio = absl::StrCat(
        Fixed(r.reference_seconds / std::max(r.compute_seconds, 1e-9), 0),
        "× / ",
        Fixed(r.reference_seconds /
                  std::max(r.compute_seconds + r.parse_seconds, 1e-9),
              0),
        "×");
  }
  const double ns_per_label_iter =
      r.compute_seconds * 1e9 / labels / std::max(r.iterations, 1);
  std::cout << absl::StrCat(
                   "| ", r.set, " | ", r.labels, " | ", r.method, " | ",
                   r.threads, " | ", Fixed(r.parse_seconds, 3), " / ",
                   Fixed(r.parse_cpu_seconds, 3), " | ",
                   Fixed(r.compute_seconds, 3), " | ",
                   Fixed(r.compute_cpu_seconds, 3), " | ", r.iterations,
                   r.converged ? "" : " (max)", " | ",
                   Fixed(ns_per_label_iter, 1), " | ", r.quality, " | ",
                   r.reference_seconds > 0 ? Fixed(r.reference_seconds, 2)
                                           : std::string("–"),
                   " | ", ratio, " | ", mib(r.peak_kib), " / ",
                   mib(r.parse_hwm_kib), " / ", mib(r.before_compute_kib),
                   " / ", compute_peak, " | ",
                   Fixed(static_cast<double>(r.model_bytes) / (1 << 20), 1),
                   " | ", Fixed(per_label, 1), " / ",
                   Fixed(per_label_no_model, 1), " |")
            << std::endl;
}

int64_t ModelBytes(const CategoricalResult& r) {
  return Bytes(r.label) + Bytes(r.posterior) + Bytes(r.class_prior) +
         Bytes(r.confusion) + Bytes(r.skill) + Bytes(r.ability) +
         Bytes(r.inverse_difficulty) + Bytes(r.log_likelihood);
}

int64_t ModelBytes(const algo::PairwiseResult& r) {
  return Bytes(r.score) + Bytes(r.ranking) + Bytes(r.comparisons) +
         Bytes(r.worker_reliability);
}

absl::Status RunCategorical(const std::string& answers,
                            const std::string& truth_path,
                            const std::string& method_name, Row& row) {
  std::optional<algo::CategoricalMethod> method =
      algo::ParseCategoricalMethod(method_name);
  if (!method) {
    return absl::InvalidArgumentError(
        "--method must be mv, wawa, ds, ocds, best, glad or mace");
  }
  double w0 = Wall();
  double p0 = Cpu();
  absl::StatusOr<algo::CategoricalLabels> labels =
      algo::ReadCategoricalLabels(answers);
  if (!labels.ok()) return labels.status();
  row.parse_seconds = Wall() - w0;
  row.parse_cpu_seconds = Cpu() - p0;
  absl::StatusOr<std::vector<int32_t>> truth =
      algo::ReadCategoricalTruth(truth_path, labels->items, labels->classes);
  if (!truth.ok()) return truth.status();
  row.labels = static_cast<int64_t>(labels->data.size());
  row.items = labels->data.num_items;
  row.workers = labels->data.num_workers;

  row.parse_hwm_kib = StatusKib("VmHWM");
  row.before_compute_kib = StatusKib("VmRSS");
  const bool hwm = ResetHwm();
  w0 = Wall();
  const double c0 = Cpu();
  const CategoricalResult result =
      algo::RunCategorical(*method, labels->data, row.threads);
  row.compute_seconds = Wall() - w0;
  row.compute_cpu_seconds = Cpu() - c0;
  if (hwm) row.compute_hwm_kib = StatusKib("VmHWM");
  row.iterations = result.iterations;
  row.converged = result.converged;
  row.model_bytes = ModelBytes(result);
  const algo::AccuracyReport acc = algo::Accuracy(result, *truth);
  row.quality = absl::StrCat("acc ", Fixed(acc.accuracy, 4));
  return absl::OkStatus();
}

// Pairs CSV (worker,left,right,winner with winner left|right|tie) into dense
// arrays; the library has no reader for it, so the benchmark brings one.
struct PairLabels {
  algo::PairwiseData data;
  algo::Interner items;
  algo::Interner workers;
};

absl::StatusOr<PairLabels> ReadPairs(const std::string& path) {
  absl::StatusOr<std::string> content = algo::ReadWholeFile(path);
  if (!content.ok()) return content.status();
  PairLabels out;
  int col_worker = -1, col_left = -1, col_right = -1, col_winner = -1;
  int64_t line_no = 0;
  std::vector<absl::string_view> f;
  for (absl::string_view line : absl::StrSplit(*content, '\n')) {
    ++line_no;
    absl::ConsumeSuffix(&line, "\r");
    if (line.empty()) continue;
    f = absl::StrSplit(line, ',');
    if (col_worker < 0) {
      for (int i = 0; i < static_cast<int>(f.size()); ++i) {
        if (f[i] == "worker") col_worker = i;
        if (f[i] == "left") col_left = i;
        if (f[i] == "right") col_right = i;
        if (f[i] == "winner") col_winner = i;
      }
      if (col_worker < 0 || col_left < 0 || col_right < 0 || col_winner < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":1: need columns worker,left,right,winner"));
      }
      continue;
    }
    const int need = std::max({col_worker, col_left, col_right, col_winner});
    if (static_cast<int>(f.size()) <= need) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_no, ": too few fields"));
    }
    algo::PairOutcome o;
    if (f[col_winner] == "left") {
      o = algo::PairOutcome::kLeft;
    } else if (f[col_winner] == "right") {
      o = algo::PairOutcome::kRight;
    } else if (f[col_winner] == "tie") {
      o = algo::PairOutcome::kTie;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_no, ": winner must be left|right|tie"));
    }
    out.data.worker.push_back(out.workers.Intern(f[col_worker]));
    out.data.left.push_back(out.items.Intern(f[col_left]));
    out.data.right.push_back(out.items.Intern(f[col_right]));
    out.data.outcome.push_back(o);
  }
  out.data.num_items = out.items.size();
  out.data.num_workers = out.workers.size();
  return out;
}

absl::Status RunPairs(const std::string& answers, const std::string& truth_path,
                      const std::string& method, Row& row) {
  if (method != "bt" && method != "crowd-bt") {
    return absl::InvalidArgumentError("--method must be bt or crowd-bt");
  }
  double w0 = Wall();
  double p0 = Cpu();
  absl::StatusOr<PairLabels> pairs = ReadPairs(answers);
  if (!pairs.ok()) return pairs.status();
  row.parse_seconds = Wall() - w0;
  row.parse_cpu_seconds = Cpu() - p0;
  row.labels = static_cast<int64_t>(pairs->data.size());
  row.items = pairs->data.num_items;
  row.workers = pairs->data.num_workers;

  // Truth: item,score.
  absl::StatusOr<std::string> truth_text = algo::ReadWholeFile(truth_path);
  if (!truth_text.ok()) return truth_text.status();
  std::vector<double> truth(static_cast<size_t>(pairs->data.num_items), NAN);
  bool header = true;
  for (absl::string_view line : absl::StrSplit(*truth_text, '\n')) {
    absl::ConsumeSuffix(&line, "\r");
    if (line.empty()) continue;
    if (header) {
      header = false;
      continue;
    }
    std::vector<absl::string_view> f = absl::StrSplit(line, ',');
    double score = 0;
    if (f.size() < 2 || !absl::SimpleAtod(f[1], &score)) {
      return absl::InvalidArgumentError(
          absl::StrCat(truth_path, ": bad row: ", line));
    }
    const int32_t item = pairs->items.Find(f[0]);
    if (item >= 0) truth[static_cast<size_t>(item)] = score;
  }

  row.parse_hwm_kib = StatusKib("VmHWM");
  row.before_compute_kib = StatusKib("VmRSS");
  const bool hwm = ResetHwm();
  w0 = Wall();
  const double c0 = Cpu();
  absl::StatusOr<algo::PairwiseResult> result =
      method == "bt" ? algo::BradleyTerry(pairs->data)
                     : algo::CrowdBradleyTerry(pairs->data);
  if (!result.ok()) return result.status();
  row.compute_seconds = Wall() - w0;
  row.compute_cpu_seconds = Cpu() - c0;
  if (hwm) row.compute_hwm_kib = StatusKib("VmHWM");
  row.iterations = result->iterations;
  row.converged = result->converged;
  row.model_bytes = ModelBytes(*result);
  std::vector<double> a, b;
  for (size_t i = 0; i < truth.size(); ++i) {
    if (std::isnan(truth[i])) continue;
    a.push_back(result->score[i]);
    b.push_back(truth[i]);
  }
  row.quality = absl::StrCat("ρ ", Fixed(algo::SpearmanCorrelation(a, b), 4));
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  Row row;
  row.startup_kib = StatusKib("VmRSS");
  std::string kind = "cat", answers, truth, method = "ds";
  bool header = false;
  CLI::App app{"Times one quality-engine method on one labels file"};
  app.add_option("--kind", kind, "cat or pair");
  app.add_option("--answers", answers, "answers CSV");
  app.add_option("--truth", truth, "truth CSV");
  app.add_option("--method", method,
                 "cat: mv|wawa|ds|ocds|best|glad|mace; pair: bt|crowd-bt");
  app.add_option("--threads", row.threads, "threads (0 = all cores)");
  app.add_option("--set", row.set, "name of the data set in the row");
  app.add_option("--reference-seconds", row.reference_seconds,
                 "crowd-kit's time for the same fit, for the ratio column");
  app.add_flag("--header", header, "print the table header and exit");
  CLI11_PARSE(app, argc, argv);
  if (header) {
    std::cout
        << "| set | labels | method | threads | parse s: wall / CPU | compute "
           "s | compute "
           "CPU s | iterations | ns / label / iteration | accuracy (ρ for "
           "pairs) | crowd-kit s | speed-up: compute / parse+compute | RSS "
           "MiB: process peak / parse peak / at compute start / compute peak "
           "| model MiB | bytes per label: process peak / compute peak "
           "without model |\n"
        << "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
           "| --- | --- | --- | --- |"
        << std::endl;
    return 0;
  }
  if (answers.empty() || truth.empty()) {
    std::cerr << "tessera-algo-bench: --answers and --truth are required\n";
    return 2;
  }
  row.method = method;
  if (row.set.empty()) row.set = answers;
  absl::Status s =
      kind == "pair" ? RunPairs(answers, truth, method, row)
      : kind == "cat"
          ? RunCategorical(answers, truth, method, row)
          : absl::InvalidArgumentError("--kind must be cat or pair");
  if (!s.ok()) {
    std::cerr << "tessera-algo-bench: " << s << "\n";
    return 1;
  }
  row.peak_kib = std::max(PeakKib(), row.parse_hwm_kib);
  Print(row);
  return 0;
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) { return tessera::bench::Main(argc, argv); }
