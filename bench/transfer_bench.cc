// tessera-transfer-bench: times JSONL import (Service::ImportTasks through
// the real text source) and COCO/YOLO export of a bbox pool on a fresh SQLite
// file, with peak RSS, and prints Markdown rows. bench/transfer.sh runs it.
//
//   tessera-transfer-bench --mode import --kind classify|pairwise
//       --lines 1000000 --durability full|normal [--dedupe] [--dir /tmp]
//   tessera-transfer-bench --mode export --images 100000 --boxes 10
//       --durability normal [--dir /tmp]
// Run each measurement in a fresh process: the peak RSS is reset (via
// /proc/self/clear_refs) after the input file is written, so it covers the
// timed step only.
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "fixture.h"
#include "nlohmann/json.hpp"
#include "tessera/base/clock.h"
#include "tessera/base/status.h"
#include "tessera/service/service.h"
#include "tessera/transfer/exporters.h"
#include "tessera/transfer/import_request.h"

namespace tessera::bench {
namespace {

using nlohmann::json;

double Now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A field of /proc/self/status in KiB (VmRSS, VmHWM), 0 when unreadable.
int64_t StatusKib(absl::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  std::string prefix = absl::StrCat(field, ":");
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      return std::strtoll(line.c_str() + prefix.size(), nullptr, 10);
    }
  }
  return 0;
}

// Makes VmHWM restart from the current RSS (Linux >= 4.0).
void ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

// CPU seconds of this process (all threads): on a shared machine the wall
// time also counts other people's work.
double Cpu() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) +
         1e-9 * static_cast<double>(ts.tv_nsec);
}

double Mib(int64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }
double KibToMib(int64_t kib) { return static_cast<double>(kib) / 1024; }

// Deterministic filler text of about `n` bytes that varies with `i`.
std::string Words(int64_t i, int n) {
  static constexpr const char* kWords[] = {
      "alpha",  "bravo",   "charlie", "delta",  "echo",   "foxtrot", "golf",
      "hotel",  "india",   "juliet",  "kilo",   "lima",   "mike",    "november",
      "oscar",  "papa",    "quebec",  "romeo",  "sierra", "tango",   "uniform",
      "victor", "whiskey", "xray",    "yankee", "zulu"};
  std::string out = absl::StrCat("item ", i);
  uint64_t x = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull + 1;
  while (static_cast<int>(out.size()) < n) {
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    out += ' ';
    out += kWords[x % 26];
  }
  return out;
}

// Writes the JSONL input; returns its size in bytes.
absl::StatusOr<int64_t> WriteInput(const std::string& path,
                                   const std::string& kind, int64_t lines,
                                   int boxes) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return absl::InternalError("cannot write " + path);
  std::string line;
  for (int64_t i = 0; i < lines; ++i) {
    json j;
    if (kind == "classify") {
      j = {{"data", {{"text", Words(i, 120)}, {"source", "bench"}}}};
    } else if (kind == "pairwise") {
      j = {{"prompt", Words(i, 60)},
           {"responses", {Words(i * 3 + 1, 50), Words(i * 3 + 2, 50)}}};
    } else {  // bbox with gold
      json b = json::array();
      for (int k = 0; k < boxes; ++k) {
        b.push_back({{"label", k % 2 == 0 ? "person" : "car"},
                     {"x", 10 + 50 * k},
                     {"y", 20 + 30 * k},
                     {"w", 40},
                     {"h", 25 + k}});
      }
      j = {{"data",
            {{"image", absl::StrFormat("images/%09d.jpg", i)},
             {"width", 640},
             {"height", 480}}},
           {"gold", {{"boxes", std::move(b)}}}};
    }
    line = j.dump();
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), f);
  }
  if (std::fclose(f) != 0) return absl::InternalError("write failed " + path);
  return static_cast<int64_t>(std::filesystem::file_size(path));
}

struct Setup {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<service::Service> service;
  service::Principal requester;
  PoolId pool;
};

absl::StatusOr<Setup> Open(const std::string& db, const std::string& durability,
                           const Clock& clock, const std::string& type) {
  Setup s;
  TS_ASSIGN_OR_RETURN(
      s.store, OpenBenchStore(absl::StrCat("sqlite://", db), durability));
  s.service = std::make_unique<service::Service>(*s.store, clock);
  TS_ASSIGN_OR_RETURN(auto req, SeedUsers(*s.store, clock, "req",
                                          domain::Role::kRequester, 1, false));
  s.requester = req[0].principal;
  TS_ASSIGN_OR_RETURN(
      json project,
      s.service->CreateProject(s.requester,
                               {{"name", "bench"},
                                {"budget",
                                 {{"amount_minor", int64_t{1'000'000'000'000}},
                                  {"currency", "CNY"}}}}));
  json config = json::object();
  if (type == "classify") config = {{"labels", {"a", "b"}}};
  if (type == "bbox") config = {{"labels", {"person", "car"}}};
  TS_ASSIGN_OR_RETURN(
      json pool, s.service->CreatePool(
                     s.requester, ProjectId(project["id"].get<int64_t>()),
                     {{"name", "bench " + type},
                      {"task_type", type},
                      {"config", config},
                      {"price", {{"amount_minor", 1}, {"currency", "CNY"}}},
                      {"overlap", 1},
                      {"lease_seconds", 600}}));
  s.pool = PoolId(pool["id"].get<int64_t>());
  return s;
}

struct Timed {
  double seconds = 0;
  double cpu_seconds = 0;
  int64_t created = 0;
  int64_t rss_before_kib = 0;
  int64_t peak_kib = 0;
};

absl::StatusOr<Timed> Import(Setup& s, const std::string& input, bool dedupe) {
  transfer::ImportRequest request;
  request.format = "auto";
  request.input = input;
  TS_ASSIGN_OR_RETURN(auto source, transfer::MakeImportSource(request));
  service::ImportOptions options;
  options.dedupe = dedupe;
  Timed t;
  ResetPeakRss();
  t.rss_before_kib = StatusKib("VmRSS");
  double start = Now(), cpu = Cpu();
  TS_ASSIGN_OR_RETURN(json report, s.service->ImportTasks(s.requester, s.pool,
                                                          *source, options));
  t.seconds = Now() - start;
  t.cpu_seconds = Cpu() - cpu;
  t.peak_kib = StatusKib("VmHWM");
  t.created = report["created"].get<int64_t>();
  return t;
}

// Counts what a multi-file export writes, keeping nothing.
class CountingTree final : public formats::FileTreeSink {
 public:
  absl::Status WriteFile(absl::string_view,
                         absl::string_view contents) override {
    ++files;
    bytes += static_cast<int64_t>(contents.size());
    return absl::OkStatus();
  }
  int64_t files = 0;
  int64_t bytes = 0;
};

int Run(const std::string& mode, const std::string& kind, int64_t lines,
        int boxes, const std::string& durability, bool dedupe,
        const std::string& dir) {
  std::string base =
      absl::StrCat(dir, "/tessera-xbench-", getpid(), "-", mode, "-", kind);
  std::string input = base + ".jsonl";
  std::string db = base + ".db";
  std::string coco = base + ".coco.json";
  auto cleanup = [&] {
    for (const std::string& p :
         {input, db, db + "-wal", db + "-shm", db + "-journal", coco}) {
      std::error_code ec;
      std::filesystem::remove(p, ec);
    }
  };
  auto fail = [&](const absl::Status& s) {
    std::cerr << "transfer-bench: " << s << "\n";
    cleanup();
    return 1;
  };
  RealClock clock;
  std::string type = mode == "export" ? "bbox" : kind;
  std::string file_kind = mode == "export" ? "bbox" : kind;
  double gen_start = Now();
  auto size = WriteInput(input, file_kind, lines, boxes);
  if (!size.ok()) return fail(size.status());
  double gen_seconds = Now() - gen_start;
  auto setup = Open(db, durability, clock, type);
  if (!setup.ok()) return fail(setup.status());
  auto imported = Import(*setup, input, dedupe);
  if (!imported.ok()) return fail(imported.status());
  const Timed& im = *imported;
  if (im.created != lines) {
    return fail(absl::InternalError(
        absl::StrCat("created ", im.created, " tasks, expected ", lines)));
  }
  if (mode == "import") {
    // | kind | lines | file MiB | durability | dedupe | s | CPU s | tasks/s |
    // tasks per CPU s | RSS before | peak RSS | peak - before |
    std::cout << absl::StrFormat(
        "| import %s | %d | %.1f | %s | %s | %.2f | %.2f | %.0f | %.0f | %.1f "
        "| %.1f | %.1f |\n",
        kind, lines, Mib(*size), durability, dedupe ? "yes" : "no", im.seconds,
        im.cpu_seconds, static_cast<double>(lines) / im.seconds,
        static_cast<double>(lines) / im.cpu_seconds,
        KibToMib(im.rss_before_kib), KibToMib(im.peak_kib),
        KibToMib(im.peak_kib - im.rss_before_kib));
    std::cerr << absl::StrFormat("(input written in %.1f s)\n", gen_seconds);
    cleanup();
    return 0;
  }
  Setup& s = *setup;
  // COCO, gold mode, to a file.
  auto spec = transfer::ParseExportSpec("coco", "gold", false);
  if (!spec.ok()) return fail(spec.status());
  auto out = formats::FileByteSink::Open(coco);
  if (!out.ok()) return fail(out.status());
  ResetPeakRss();
  int64_t before = StatusKib("VmRSS");
  double start = Now(), cpu = Cpu();
  auto summary = transfer::ExportPool(*s.service, s.requester, s.pool, *spec,
                                      (*out)->sink(), nullptr);
  if (!summary.ok()) return fail(summary.status());
  if (absl::Status c = (*out)->Close(); !c.ok()) return fail(c);
  double coco_seconds = Now() - start, coco_cpu = Cpu() - cpu;
  int64_t coco_peak = StatusKib("VmHWM");
  int64_t coco_bytes = static_cast<int64_t>(std::filesystem::file_size(coco));
  // YOLO, gold mode, to a sink that only counts.
  auto yspec = transfer::ParseExportSpec("yolo", "gold", false);
  if (!yspec.ok()) return fail(yspec.status());
  CountingTree tree;
  ResetPeakRss();
  int64_t ybefore = StatusKib("VmRSS");
  start = Now();
  cpu = Cpu();
  auto ysummary = transfer::ExportPool(
      *s.service, s.requester, s.pool, *yspec,
      [](absl::string_view) { return absl::OkStatus(); }, &tree);
  if (!ysummary.ok()) return fail(ysummary.status());
  double yolo_seconds = Now() - start, yolo_cpu = Cpu() - cpu;
  int64_t yolo_peak = StatusKib("VmHWM");
  // | what | images | boxes | MiB | s | CPU s | RSS before | peak RSS |
  std::cout << absl::StrFormat(
      "| import bbox+gold | %d | %d | %.1f (input) | %.2f | %.2f | %.1f | "
      "%.1f |\n",
      lines, lines * boxes, Mib(*size), im.seconds, im.cpu_seconds,
      KibToMib(im.rss_before_kib), KibToMib(im.peak_kib));
  std::cout << absl::StrFormat(
      "| export COCO gold (file) | %d | %d | %.1f | %.2f | %.2f | %.1f | %.1f "
      "|\n",
      summary->tasks, lines * boxes, Mib(coco_bytes), coco_seconds, coco_cpu,
      KibToMib(before), KibToMib(coco_peak));
  std::cout << absl::StrFormat(
      "| export YOLO gold (%d files, discarded) | %d | %d | %.1f | %.2f | "
      "%.2f | %.1f | %.1f |\n",
      tree.files, ysummary->tasks, lines * boxes, Mib(tree.bytes), yolo_seconds,
      yolo_cpu, KibToMib(ybefore), KibToMib(yolo_peak));
  cleanup();
  return 0;
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  CLI::App app{"Tessera import/export benchmark"};
  std::string mode = "import", kind = "classify", durability = "normal";
  std::string dir = "/tmp";
  int64_t lines = 100'000;
  int boxes = 10;
  bool dedupe = false;
  app.add_option("--mode", mode, "import or export")
      ->check(CLI::IsMember({"import", "export"}));
  app.add_option("--kind", kind, "import: classify or pairwise")
      ->check(CLI::IsMember({"classify", "pairwise"}));
  app.add_option("--lines,--images", lines, "JSONL lines (export: images)");
  app.add_option("--boxes", boxes, "export: gold boxes per image");
  app.add_option("--durability", durability, "full or normal")
      ->check(CLI::IsMember({"full", "normal"}));
  app.add_flag("--dedupe", dedupe, "import with dedupe");
  app.add_option("--dir", dir, "where temporary files go");
  CLI11_PARSE(app, argc, argv);
  return tessera::bench::Run(mode, kind, lines, boxes, durability, dedupe, dir);
}
