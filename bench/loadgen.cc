// tessera-loadgen: seeds a database, starts `tessera serve` on 127.0.0.1,
// drives annotator and reviewer cycles over many keep-alive connections, and
// measures the in-process limit of the same use cases; writes Markdown rows.
//
//   tessera-loadgen matrix --backend sqlite-full|sqlite-normal|postgres ...
//   tessera-loadgen growth --sizes 10000,1000000 ...
// See bench/run.sh for the full matrix and docs/benchmarks.md for results.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "fixture.h"
#include "http_load.h"
#include "inproc.h"
#include "server_process.h"
#include "stats.h"
#include "tessera/base/clock.h"
#include "tessera/base/status.h"
#include "tessera/service/auth.h"
#include "tessera/store/postgres/pg_test_util.h"

namespace tessera::bench {
namespace {

namespace fs = std::filesystem;

struct Options {
  std::string backend = "sqlite-full";
  std::string tessera = "build/tessera";
  std::string workdir = "/tmp/tessera-bench";
  std::string report_dir;  // Markdown rows are appended to files here
  std::vector<int> connections = {64, 1000};
  double seconds = 10;
  double review_seconds = 5;
  int64_t tasks = 200'000;
  int client_threads = 1;
  // Extra paced runs at the largest level, one per mean think time (ms);
  // from --paced-think-ms (default 1000,500,250).
  std::vector<int64_t> paced_think_ms;
  int inproc_threads = 32;
  double inproc_seconds = 5;
  int64_t inproc_claim_only = 60'000;  // annotators for the claim-only run
  // growth
  std::vector<int64_t> sizes = {10'000, 1'000'000};
  int64_t growth_cycles = 4'000;
  int growth_threads = 8;
  int growth_connections = 64;
  std::string durability = "full";
  // Passed to `tessera serve --config` (e.g. [server] worker_threads).
  std::string server_config;
  // Row label instead of the backend name (e.g. "sqlite-normal, 128 workers").
  std::string label;
  // Matrix without the in-process limit (no ratio rows).
  bool skip_inproc = false;
};

void Log(const std::string& s) { std::cerr << "[loadgen] " << s << std::endl; }

double Mib(int64_t kib) { return kib / 1024.0; }

void Append(const Options& o, const std::string& file, const std::string& row) {
  std::cout << row << std::endl;
  if (o.report_dir.empty()) return;
  std::ofstream out(fs::path(o.report_dir) / file, std::ios::app);
  out << row << "\n";
}

std::string P(Latencies& l) {
  return absl::StrCat(Fmt(l.PercentileMs(0.5), 2), " / ",
                      Fmt(l.PercentileMs(0.99), 2), " / ", Fmt(l.MaxMs(), 1));
}

std::string ErrorsText(const std::map<std::string, int64_t>& e) {
  if (e.empty()) return "none";
  std::vector<std::string> parts;
  for (const auto& [k, v] : e) parts.push_back(absl::StrCat(k, ":", v));
  return absl::StrJoin(parts, ", ");
}

// A fresh database for `backend`: a new SQLite file or a new PostgreSQL
// database on TESSERA_TEST_PG_URL's server.
struct Db {
  std::string url;
  std::string durability;
  bool postgres = false;
  ~Db() {
    if (postgres) store::postgres::DropTestDatabase(url);
  }
};

absl::StatusOr<std::unique_ptr<Db>> FreshDb(const Options& o,
                                            const std::string& backend,
                                            const std::string& name) {
  auto db = std::make_unique<Db>();
  if (backend == "postgres") {
    auto url =
        store::postgres::CreateTestDatabase(absl::StrCat("bench_", name));
    if (!url.ok()) return url.status();
    db->url = *url;
    db->postgres = true;
    db->durability = "full";
    return db;
  }
  if (backend != "sqlite-full" && backend != "sqlite-normal") {
    return absl::InvalidArgumentError(
        "--backend must be sqlite-full, sqlite-normal or postgres");
  }
  db->durability = backend == "sqlite-full" ? "full" : "normal";
  fs::path path = fs::path(o.workdir) / absl::StrCat(name, ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    fs::remove(path.string() + suffix, ec);
  }
  db->url = absl::StrCat("sqlite://", path.string());
  return db;
}

std::vector<std::string> ServerArgs(const Options& o, const Db& db) {
  std::vector<std::string> args = {"--db", db.url, "--media", o.workdir};
  if (!o.server_config.empty()) {
    args.push_back("--config");
    args.push_back(o.server_config);
  }
  if (!db.postgres) {
    args.push_back("--durability");
    args.push_back(db.durability);
  }
  return args;
}

std::vector<Worker> Slice(const std::vector<Worker>& v, size_t n) {
  return std::vector<Worker>(v.begin(), v.begin() + std::min(n, v.size()));
}

constexpr const char* kNextCycle = "submit?next=1";

// The in-process rates the HTTP rows are compared with.
struct InprocLimit {
  double claims = 0;       // claim-only, per second
  double cycles = 0;       // Claim then Submit, per second
  double submit_next = 0;  // SubmitAndClaimNext calls (tasks), per second
};

// In-process limit on a fresh database: claim-only, claim+submit,
// claim+submit with an Authenticate per call, and SubmitAndClaimNext.
absl::StatusOr<InprocLimit> MeasureInproc(const Options& o) {
  TS_ASSIGN_OR_RETURN(auto db, FreshDb(o, o.backend, "inproc"));
  TS_ASSIGN_OR_RETURN(auto store, OpenBenchStore(db->url, db->durability));
  RealClock clock;
  service::Service service(*store, clock);
  SeedOptions seed;
  seed.annotators = o.inproc_threads * 3;
  seed.reviewers = 1;
  seed.tasks = o.tasks;
  Log(absl::StrCat("in-process: seeding ", seed.tasks, " tasks and ",
                   o.inproc_claim_only, " one-shot annotators (", o.backend,
                   ")"));
  TS_ASSIGN_OR_RETURN(Fixture f, Seed(*store, service, clock, seed));
  TS_ASSIGN_OR_RETURN(auto one_shot,
                      SeedUsers(*store, clock, "once", domain::Role::kAnnotator,
                                static_cast<int>(o.inproc_claim_only), false));
  Log(absl::StrCat("in-process: seeded (tasks ", Fmt(f.tasks_seconds, 1),
                   " s)"));
  auto row = [&](const std::string& mode, InprocResult& r) {
    Append(o, "inproc.md",
           absl::StrCat("| ", o.backend, " | ", mode, " | ", o.inproc_threads,
                        " | ", Fmt(r.per_second, 0), " | ", P(r.claim), " | ",
                        r.submit.count() ? P(r.submit) : std::string("–"),
                        " | ", ErrorsText(r.errors), " |"));
  };
  auto claims =
      RunInproc(service, f.pool, one_shot, InprocMode::kClaimOnly,
                o.inproc_threads, o.inproc_seconds, o.inproc_claim_only);
  row("claim", claims);
  std::vector<Worker> cyclers = Slice(f.annotators, o.inproc_threads);
  auto cycles = RunInproc(service, f.pool, cyclers, InprocMode::kCycle,
                          o.inproc_threads, o.inproc_seconds, INT64_MAX);
  row("claim+submit", cycles);
  std::vector<Worker> auth_cyclers(f.annotators.begin() + o.inproc_threads,
                                   f.annotators.end());
  auto auth = RunInproc(service, f.pool, auth_cyclers, InprocMode::kAuthCycle,
                        o.inproc_threads, o.inproc_seconds, INT64_MAX);
  row("auth+claim+auth+submit", auth);
  std::vector<Worker> next_cyclers(f.annotators.begin() + 2 * o.inproc_threads,
                                   f.annotators.end());
  auto next = RunInproc(service, f.pool, next_cyclers, InprocMode::kSubmitNext,
                        o.inproc_threads, o.inproc_seconds, INT64_MAX);
  row("submit+next (1 transaction)", next);
  store->Close();
  return InprocLimit{claims.per_second, cycles.per_second, next.per_second};
}

// User + system CPU seconds of this process (all threads).
double ProcessCpuSeconds() {
  rusage u;
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  auto sec = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

// Busy CPU seconds of the whole machine (all cores), from /proc/stat.
double MachineBusySeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  int64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0,
          softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >>
      steal;
  return static_cast<double>(user + nice + system + irq + softirq + steal) /
         sysconf(_SC_CLK_TCK);
}

struct PhaseRow {
  double cycles_per_second = 0;
  double first_p99_ms = 0;
  double second_p99_ms = 0;
};

absl::StatusOr<PhaseRow> RunPhase(const Options& o, ServerProcess& server,
                                  CycleKind kind, int64_t pool,
                                  const std::vector<Worker>& workers,
                                  double seconds, int64_t max_cycles,
                                  double think_ms, const std::string& file,
                                  const std::string& label) {
  HttpLoadOptions lo;
  lo.port = server.port();
  lo.kind = kind;
  lo.pool_id = pool;
  for (const auto& w : workers) lo.tokens.push_back(w.token);
  lo.seconds = seconds;
  lo.max_cycles = max_cycles;
  lo.threads = o.client_threads;
  lo.think_ms = think_ms;
  auto before = ScrapeMetrics(server.port());
  double server_cpu0 = server.CpuSeconds();
  double client_cpu0 = ProcessCpuSeconds();
  double machine_cpu0 = MachineBusySeconds();
  Log(absl::StrCat(label, ": ", workers.size(), " connections, ",
                   kind == CycleKind::kReview ? "review" : "annotate", " for ",
                   seconds, " s"));
  TS_ASSIGN_OR_RETURN(HttpLoadResult r, RunHttpLoad(lo));
  if (!server.Alive()) {
    return absl::InternalError(absl::StrCat("tessera serve died during ", label,
                                            " (", server.exit_description(),
                                            "); see its log"));
  }
  double server_cores = (server.CpuSeconds() - server_cpu0) / r.window_seconds;
  double client_cores = (ProcessCpuSeconds() - client_cpu0) / r.window_seconds;
  double machine_cores =
      (MachineBusySeconds() - machine_cpu0) / r.window_seconds;
  auto after = ScrapeMetrics(server.port());
  ServerProcess::Memory mem = server.ReadMemory();
  const bool review = kind == CycleKind::kReview;
  std::string first_route =
      review ? "/api/v1/pools/{id}/review-claims" : "/api/v1/pools/{id}/claims";
  std::string second_route =
      review ? "/api/v1/submissions/{id}/review" : "/api/v1/claims/{id}/submit";
  std::string split = "–";
  if (before.ok() && after.ok()) {
    auto h1 =
        Delta(*before, *after,
              absl::StrCat("tessera_http_request_duration_seconds{route=\"",
                           first_route, "\"}"));
    auto h2 =
        Delta(*before, *after,
              absl::StrCat("tessera_http_request_duration_seconds{route=\"",
                           second_route, "\"}"));
    auto w =
        Delta(*before, *after,
              "tessera_store_transaction_seconds{mode=\"write\",ok=\"true\"}");
    auto rd =
        Delta(*before, *after,
              "tessera_store_transaction_seconds{mode=\"read\",ok=\"true\"}");
    split = absl::StrCat(Fmt(h1.mean_seconds * 1e3, 2), " / ",
                         Fmt(h2.mean_seconds * 1e3, 2), " / ",
                         Fmt(w.mean_seconds * 1e3, 2), " / ",
                         Fmt(rd.mean_seconds * 1e3, 2));
  }
  std::string errors = FormatCounts(r.errors);
  if (r.empty > 0) errors = absl::StrCat(errors, "; 204:", r.empty);
  if (r.connected < r.connections) {
    errors =
        absl::StrCat(errors, "; connected ", r.connected, "/", r.connections);
  }
  Append(
      o, file,
      absl::StrCat(
          "| ", label, " | ", r.connections, " | ",
          kind == CycleKind::kAnnotate ? "claim→submit"
          : kind == CycleKind::kReview ? "review-claim→review"
                                       : "submit?next=1 (1 request)",
          think_ms > 0 ? absl::StrCat(" (think ", think_ms, " ms exp.)")
                       : std::string(),
          " | ", Fmt(r.cycles_per_second, 0), " | ", P(r.first.latency), " | ",
          P(r.second.latency), " | ", Fmt(r.cycle.PercentileMs(0.99), 1), " | ",
          split, " | ", errors, " | ", Fmt(server_cores, 2), " / ",
          Fmt(client_cores, 2), " / ", Fmt(machine_cores, 2), " | ",
          Fmt(Mib(mem.rss_kib), 0), " / ", Fmt(Mib(mem.anon_kib), 0), " |"));
  if (!r.sample_error.empty())
    Log(absl::StrCat("sample error: ", r.sample_error));
  Log(absl::StrCat(label, ": ", Fmt(r.cycles_per_second, 0), " cycles/s, ",
                   r.cycles, " cycles, connect ", Fmt(r.connect_seconds, 2),
                   " s"));
  PhaseRow row;
  row.cycles_per_second = r.cycles_per_second;
  row.first_p99_ms = r.first.latency.PercentileMs(0.99);
  row.second_p99_ms = r.second.latency.PercentileMs(0.99);
  return row;
}

absl::Status Matrix(const Options& o) {
  // 1. The storage limit, in process.
  InprocLimit limit;
  if (!o.skip_inproc) {
    TS_ASSIGN_OR_RETURN(limit, MeasureInproc(o));
  }
  const std::string label = o.label.empty() ? o.backend : o.label;

  // 2. Over HTTP, on another fresh database.
  TS_ASSIGN_OR_RETURN(auto db, FreshDb(o, o.backend, "http"));
  int max_conns = 0;
  for (int c : o.connections) max_conns = std::max(max_conns, c);
  Fixture f;
  {
    TS_ASSIGN_OR_RETURN(auto store, OpenBenchStore(db->url, db->durability));
    RealClock clock;
    service::Service service(*store, clock);
    SeedOptions seed;
    seed.annotators = max_conns;
    seed.reviewers = max_conns;
    seed.tasks = o.tasks;
    Log(absl::StrCat("http: seeding ", seed.tasks, " tasks, ", max_conns,
                     " annotators and reviewers with sessions (", o.backend,
                     ")"));
    TS_ASSIGN_OR_RETURN(f, Seed(*store, service, clock, seed));
    Log(absl::StrCat("http: seeded (users ", Fmt(f.users_seconds, 1),
                     " s, tasks ", Fmt(f.tasks_seconds, 1), " s)"));
    store->Close();
  }
  std::string log_path =
      (fs::path(o.workdir) / absl::StrCat("server-", o.backend, ".log"))
          .string();
  TS_ASSIGN_OR_RETURN(
      auto server, ServerProcess::Start(o.tessera, ServerArgs(o, *db), log_path,
                                        absl::Seconds(60)));
  Log(absl::StrCat("server pid ", server->pid(),
                   " on 127.0.0.1:", server->port(), ", log ", log_path));
  // (connections, cycle, row) for the ratio table.
  std::vector<std::tuple<int, std::string, PhaseRow>> annotate;
  for (int c : o.connections) {
    TS_ASSIGN_OR_RETURN(
        PhaseRow a, RunPhase(o, *server, CycleKind::kAnnotate, f.pool.value,
                             Slice(f.annotators, c), o.seconds, INT64_MAX, 0,
                             "http.md", label));
    annotate.emplace_back(c, "claim→submit", a);
    TS_ASSIGN_OR_RETURN(
        PhaseRow n, RunPhase(o, *server, CycleKind::kAnnotateNext, f.pool.value,
                             Slice(f.annotators, c), o.seconds, INT64_MAX, 0,
                             "http.md", label));
    annotate.emplace_back(c, kNextCycle, n);
    TS_RETURN_IF_ERROR(RunPhase(o, *server, CycleKind::kReview, f.pool.value,
                                Slice(f.reviewers, c), o.review_seconds,
                                INT64_MAX, 0, "http.md", label)
                           .status());
  }
  // Annotators who think between tasks: the largest level again, paced
  // below saturation, shows the latency of a loaded but not overloaded
  // server with that many open connections.
  for (int64_t think_ms : o.paced_think_ms) {
    if (think_ms <= 0 || max_conns == 0) continue;
    TS_RETURN_IF_ERROR(RunPhase(o, *server, CycleKind::kAnnotate, f.pool.value,
                                Slice(f.annotators, max_conns), o.seconds,
                                INT64_MAX, static_cast<double>(think_ms),
                                "http.md", label)
                           .status());
  }
  ServerProcess::Memory mem = server->ReadMemory();
  server->Stop();
  Log(absl::StrCat("server stopped (", server->exit_description(), "), VmHWM ",
                   Fmt(Mib(mem.hwm_kib), 0), " MiB"));

  // 3. The ratio against the in-process limit.
  if (o.skip_inproc) return absl::OkStatus();
  for (auto& [c, cycle, a] : annotate) {
    // Each HTTP cycle against the in-process run of the same calls.
    const double same = cycle == kNextCycle ? limit.submit_next : limit.cycles;
    Append(o, "ratio.md",
           absl::StrCat(
               "| ", label, " | ", c, " | ", cycle, " | ",
               Fmt(a.cycles_per_second, 0), " | ", Fmt(limit.claims, 0), " | ",
               Fmt(a.cycles_per_second / limit.claims * 100, 0), "% | ",
               Fmt(same, 0), " | ", Fmt(a.cycles_per_second / same * 100, 0),
               "% | ", Fmt(a.first_p99_ms, 1), " / ", Fmt(a.second_p99_ms, 1),
               " | ", Fmt(Mib(mem.rss_kib), 0), " / ", Fmt(Mib(mem.hwm_kib), 0),
               " |"));
  }
  return absl::OkStatus();
}

absl::Status Growth(const Options& o) {
  for (int64_t size : o.sizes) {
    Options so = o;
    so.backend = o.durability == "full" ? "sqlite-full" : "sqlite-normal";
    TS_ASSIGN_OR_RETURN(auto db,
                        FreshDb(so, so.backend, absl::StrCat("growth", size)));
    Fixture f;
    InprocResult inproc;
    {
      TS_ASSIGN_OR_RETURN(auto store, OpenBenchStore(db->url, db->durability));
      RealClock clock;
      service::Service service(*store, clock);
      SeedOptions seed;
      seed.annotators = std::max(o.growth_threads, o.growth_connections);
      seed.reviewers = 1;
      seed.tasks = size;
      Log(absl::StrCat("growth: seeding ", size, " tasks"));
      TS_ASSIGN_OR_RETURN(f, Seed(*store, service, clock, seed));
      Log(absl::StrCat("growth: ", size, " tasks inserted in ",
                       Fmt(f.tasks_seconds, 1), " s"));
      inproc = RunInproc(service, f.pool, Slice(f.annotators, o.growth_threads),
                         InprocMode::kCycle, o.growth_threads, o.inproc_seconds,
                         o.growth_cycles);
      store->Close();
    }
    std::string log_path =
        (fs::path(o.workdir) / absl::StrCat("server-growth", size, ".log"))
            .string();
    TS_ASSIGN_OR_RETURN(auto server,
                        ServerProcess::Start(o.tessera, ServerArgs(so, *db),
                                             log_path, absl::Seconds(60)));
    HttpLoadOptions lo;
    lo.port = server->port();
    lo.kind = CycleKind::kAnnotate;
    lo.pool_id = f.pool.value;
    for (const auto& w : Slice(f.annotators, o.growth_connections)) {
      lo.tokens.push_back(w.token);
    }
    lo.seconds = o.inproc_seconds;
    lo.max_cycles = o.growth_cycles;
    lo.threads = o.client_threads;
    TS_ASSIGN_OR_RETURN(HttpLoadResult r, RunHttpLoad(lo));
    bool alive = server->Alive();
    server->Stop();
    if (!alive) return absl::InternalError("tessera serve died during growth");
    Append(
        o, "growth.md",
        absl::StrCat(
            "| ", so.backend, " | ", size, " | ", Fmt(f.tasks_seconds, 1), " (",
            Fmt(size / std::max(f.tasks_seconds, 1e-9), 0), "/s) | ",
            o.growth_threads, " thr: ", Fmt(inproc.claim.PercentileMs(0.5), 2),
            " / ", Fmt(inproc.claim.PercentileMs(0.99), 2), " | ",
            o.growth_connections,
            " conns: ", Fmt(r.first.latency.PercentileMs(0.5), 2), " / ",
            Fmt(r.first.latency.PercentileMs(0.99), 2), " | ",
            Fmt(r.cycles_per_second, 0), " | ", FormatCounts(r.errors), " |"));
  }
  return absl::OkStatus();
}

std::vector<int64_t> ParseList(const std::string& s) {
  std::vector<int64_t> out;
  for (absl::string_view part : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    int64_t v = 0;
    if (absl::SimpleAtoi(part, &v)) out.push_back(v);
  }
  return out;
}

int Main(int argc, char** argv) {
  if (absl::Status s = service::InitCrypto(); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  // 1,000 client sockets need more than the usual 1,024 descriptors.
  rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  Options o;
  std::string connections = "64,1000", sizes = "10000,1000000";
  // As in `tessera`: no Abseil deadlock detector (docs/benchmarks.md).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"Tessera load generator (127.0.0.1 only)"};
  app.require_subcommand(1);
  auto common = [&](CLI::App* c) {
    c->add_option("--tessera", o.tessera, "path of the tessera binary");
    c->add_option("--workdir", o.workdir, "directory for databases and logs");
    c->add_option("--report-dir", o.report_dir,
                  "append Markdown rows to files here");
    c->add_option("--client-threads", o.client_threads,
                  "threads running the client io_context");
    c->add_option("--inproc-seconds", o.inproc_seconds,
                  "seconds per in-process run");
    c->add_option("--server-config", o.server_config,
                  "TOML file passed to `tessera serve --config`");
  };
  CLI::App* matrix =
      app.add_subcommand("matrix", "HTTP load + in-process limit");
  common(matrix);
  matrix->add_option("--backend", o.backend,
                     "sqlite-full, sqlite-normal or postgres");
  matrix->add_option("--connections", connections, "e.g. 64,1000");
  matrix->add_option("--seconds", o.seconds, "annotate window per level");
  matrix->add_option("--review-seconds", o.review_seconds,
                     "review window per level");
  matrix->add_option("--tasks", o.tasks, "tasks in the pool");
  std::string paced = "1000,500,250";
  matrix->add_option("--paced-think-ms", paced,
                     "mean think times of the extra paced runs, e.g. "
                     "1000,500,250 (0: none)");
  matrix->add_option("--inproc-threads", o.inproc_threads, "threads");
  matrix->add_option("--inproc-claim-only", o.inproc_claim_only,
                     "one-shot annotators (claims) for the claim-only run");
  matrix->add_option("--label", o.label,
                     "row label instead of the backend name");
  matrix->add_flag("--skip-inproc", o.skip_inproc,
                   "skip the in-process limit (and the ratio rows)");
  CLI::App* growth = app.add_subcommand("growth", "claim latency vs pool size");
  common(growth);
  growth->add_option("--sizes", sizes, "pool sizes, e.g. 10000,1000000");
  growth->add_option("--cycles", o.growth_cycles, "cycles per measurement");
  growth->add_option("--threads", o.growth_threads, "in-process threads");
  growth->add_option("--connections", o.growth_connections, "HTTP connections");
  growth->add_option("--durability", o.durability, "full or normal");
  CLI11_PARSE(app, argc, argv);
  o.connections.clear();
  for (int64_t c : ParseList(connections)) o.connections.push_back(int(c));
  o.sizes = ParseList(sizes);
  o.paced_think_ms = ParseList(paced);
  std::error_code ec;
  fs::create_directories(o.workdir, ec);
  if (!o.report_dir.empty()) fs::create_directories(o.report_dir, ec);
  absl::Status s = matrix->parsed() ? Matrix(o) : Growth(o);
  if (!s.ok()) {
    std::cerr << "tessera-loadgen: " << s << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) { return tessera::bench::Main(argc, argv); }
