// The composition root: config → store (sqlite|postgres) → service → the HTTP
// server, background jobs and CLI commands.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "config.h"
#include "nlohmann/json.hpp"
#include "tessera/base/clock.h"
#include "tessera/base/status.h"
#include "tessera/cli/aggregate.h"
#include "tessera/cli/agreement.h"
#include "tessera/cli/demo.h"
#include "tessera/cli/simulate.h"  // Workforce: dynamic overlap and simulation
#include "tessera/cli/transfer.h"
#include "tessera/cli/verify_record.h"
#include "tessera/http/api.h"
#include "tessera/http/metrics.h"
#include "tessera/http/router.h"
#include "tessera/http/server.h"
#include "tessera/jobs/preannotator.h"
#include "tessera/jobs/runner.h"
#include "tessera/preannotate/ml_backend_server.h"
#include "tessera/service/auth.h"
#include "tessera/service/service.h"
#include "tessera/store/postgres/pg_database.h"
#include "tessera/store/sqlite/sqlite_database.h"
#include "tessera/store/store.h"

namespace tessera::app {
namespace {

// Exit codes of every command.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int Fail(const absl::Status& s) {
  std::cerr << "tessera: " << s.message();
  // Codec errors already name their field in the message.
  if (auto field = FieldOf(s);
      field &&
      !absl::StrContains(s.message(), absl::StrCat("(field ", *field, ")"))) {
    std::cerr << " (field " << *field << ")";
  }
  std::cerr << "\n";
  return s.code() == absl::StatusCode::kInvalidArgument ||
                 s.code() == absl::StatusCode::kAlreadyExists ||
                 s.code() == absl::StatusCode::kFailedPrecondition
             ? kExitUsage
             : kExitFailure;
}

// Times every store transaction into tessera_store_transaction_seconds.
class TimedStore final : public store::Store {
 public:
  TimedStore(std::unique_ptr<store::Store> inner, http::Metrics& metrics)
      : inner_(std::move(inner)), metrics_(metrics) {
    metrics_.Describe("tessera_store_transaction_seconds", "histogram",
                      "Store transaction latency, queueing included.");
  }
  absl::Status Run(store::TxMode mode,
                   absl::FunctionRef<absl::Status(store::Tx&)> fn) override {
    absl::Time start = absl::Now();
    absl::Status s = inner_->Run(mode, fn);
    Observe(mode, s, start);
    return s;
  }
  bool RunWriteAsync(std::function<absl::Status(store::Tx&)> fn,
                     std::function<void(absl::Status)> done) override {
    const absl::Time start = absl::Now();
    return inner_->RunWriteAsync(
        std::move(fn), [this, start, done = std::move(done)](absl::Status s) {
          Observe(store::TxMode::kWrite, s, start);
          done(std::move(s));
        });
  }
  bool async_writes() const override { return inner_->async_writes(); }
  absl::Status Migrate() override { return inner_->Migrate(); }
  int LatestVersion() const override { return inner_->LatestVersion(); }
  absl::StatusOr<int> CurrentVersion() override {
    return inner_->CurrentVersion();
  }
  absl::string_view backend() const override { return inner_->backend(); }
  void Close() override { inner_->Close(); }

 private:
  void Observe(store::TxMode mode, const absl::Status& s, absl::Time start) {
    metrics_.Observe("tessera_store_transaction_seconds",
                     {{"mode", mode == store::TxMode::kRead ? "read" : "write"},
                      {"ok", s.ok() ? "true" : "false"}},
                     absl::ToDoubleSeconds(absl::Now() - start));
  }
  std::unique_ptr<store::Store> inner_;
  http::Metrics& metrics_;
};

// Opens the database named by `config.db_url` and migrates it.
absl::StatusOr<std::unique_ptr<store::Store>> OpenStore(const Config& config) {
  std::unique_ptr<store::SqlDatabase> db;
  const std::string& url = config.db_url;
  if (absl::StartsWith(url, "sqlite://")) {
    store::sqlite::SqliteOptions o;
    o.path = url.substr(strlen("sqlite://"));
    if (o.path.empty()) {
      return InvalidField("db",
                          "sqlite:// needs a file path, e.g. "
                          "sqlite://./tessera.db");
    }
    if (config.durability == "full") {
      o.durability = store::sqlite::Durability::kFull;
    } else if (config.durability == "normal") {
      o.durability = store::sqlite::Durability::kNormal;
    } else {
      return InvalidField("durability", "must be full or normal");
    }
    TS_ASSIGN_OR_RETURN(db, store::sqlite::OpenSqlite(o));
  } else if (absl::StartsWith(url, "postgresql://") ||
             absl::StartsWith(url, "postgres://")) {
    store::postgres::PgOptions o;
    o.url = url;
    o.pool_size = config.pg_pool_size;
    TS_ASSIGN_OR_RETURN(db, store::postgres::OpenPostgres(o));
  } else {
    return InvalidField("db", "must start with sqlite:// or postgresql://");
  }
  auto s = store::MakeSqlStore(std::move(db));
  TS_RETURN_IF_ERROR(s->Migrate());
  return s;
}

// The service's options and settings from the configuration.
service::ServiceOptions ServiceOptionsFrom(const Config& config) {
  service::ServiceOptions o;
  o.token_ttl = absl::Hours(config.token_ttl_hours);
  o.record_issuer = config.record_issuer;
  o.keep_quality_snapshots = config.keep_quality_snapshots;
  return o;
}

void SetLogLevel(const std::string& level) {
  spdlog::set_level(spdlog::level::from_str(level));
}

int Serve(const Config& config, bool demo, const std::string& demo_dir_hint,
          const std::string& argv0) {
  SetLogLevel(config.log_level);
  auto listen = ParseListen(config.listen);
  if (!listen.ok()) return Fail(listen.status());
  http::Metrics metrics;
  auto opened = OpenStore(config);
  if (!opened.ok()) return Fail(opened.status());
  TimedStore store(std::move(*opened), metrics);
  RealClock clock;
  service::Service service(store, clock, ServiceOptionsFrom(config));
  service.SetStandingPolicy(config.standing);

  std::string media_root = config.media_root;
  if (demo) {
    auto users = 0;
    absl::Status s = store.Run(store::TxMode::kRead, [&](store::Tx& tx) {
      auto n = tx.CountUsers();
      if (!n.ok()) return n.status();
      users = static_cast<int>(*n);
      return absl::OkStatus();
    });
    if (!s.ok()) return Fail(s);
    std::string dir = cli::FindDemoDir(demo_dir_hint, argv0);
    if (users == 0) {
      if (dir.empty()) {
        return Fail(absl::NotFoundError(
            "--demo: no demo/ folder found (run from the repository root)"));
      }
      s = cli::SeedDemo(service, dir, std::cout);
      if (!s.ok()) return Fail(s);
    } else {
      std::cout << "Database already has users; reusing it (demo accounts: "
                   "admin, lin, wang, zhou, sun; see README).\n";
    }
    if (media_root.empty() && !dir.empty()) media_root = dir + "/media";
  }

  http::Router router;
  http::ApiOptions api_options;
  api_options.media_root = media_root;
  api_options.web_root = config.web_root;
  // Unconfigured: the web app installed beside the executable, if any.
  if (api_options.web_root.empty() && std::getenv("TESSERA_WEB") == nullptr) {
    api_options.web_root = DefaultWebRoot(ExecutableDir());
  }
  if (!api_options.web_root.empty()) {
    spdlog::info("serving the web app from {}", api_options.web_root);
  }
  api_options.ready_check = [&store]() {
    return store.Run(store::TxMode::kRead,
                     [](store::Tx& tx) { return tx.CountUsers().status(); });
  };
  http::RegisterApi(router, service, metrics, api_options);

  http::ServerOptions server_options;
  server_options.host = listen->first;
  server_options.port = listen->second;
  server_options.io_threads = config.io_threads;
  server_options.worker_threads = config.worker_threads;
  server_options.body_limit = static_cast<size_t>(config.body_limit_bytes);
  server_options.header_timeout = absl::Seconds(config.header_timeout_seconds);
  server_options.idle_timeout = absl::Seconds(config.idle_timeout_seconds);
  auto server = http::Server::Start(
      server_options,
      [&router](http::Request& req) { return router.Dispatch(req); }, &metrics,
      [&router](http::Request& req,
                const std::shared_ptr<http::Responder>& respond,
                bool may_block) {
        return router.DispatchInline(req, respond, may_block);
      });
  if (!server.ok()) return Fail(server.status());

  jobs::RunnerOptions job_options;
  job_options.sweep_interval = absl::Seconds(config.lease_sweep_seconds);
  job_options.aggregate_interval =
      absl::Seconds(config.aggregate_interval_seconds);
  job_options.floor_interval = absl::Seconds(config.floor_interval_seconds);
  jobs::Runner runner(service, job_options, [](const absl::Status& s) {
    spdlog::warn("background job failed: {}", std::string(s.message()));
  });
  runner.Start();
  jobs::PreannotatorOptions draft_options;
  draft_options.media_root = config.media_root;
  jobs::Preannotator drafter(service, draft_options, [](const absl::Status& s) {
    spdlog::warn("pre-annotation: {}", std::string(s.message()));
  });
  drafter.Start();

  std::cout << "tessera: serving on http://" << listen->first << ":"
            << (*server)->port() << " (" << store.backend() << ")" << std::endl;
  (*server)->RunUntilSignal();
  drafter.Stop();
  runner.Stop();
  store.Close();
  std::cout << "tessera: stopped" << std::endl;
  return kExitOk;
}

int UserAdd(const Config& config, const std::string& username,
            const std::vector<std::string>& roles, bool password_stdin) {
  if (!password_stdin) {
    return Fail(InvalidField("password-stdin",
                             "pass the password on standard input with "
                             "--password-stdin"));
  }
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  auto opened = OpenStore(config);
  if (!opened.ok()) return Fail(opened.status());
  RealClock clock;
  service::Service service(**opened, clock, ServiceOptionsFrom(config));
  auto user = service.CreateUser(
      std::nullopt,
      {{"username", username}, {"password", password}, {"roles", roles}});
  if (!user.ok()) return Fail(user.status());
  std::cout << user->dump() << std::endl;
  return kExitOk;
}

int Migrate(const Config& config) {
  auto opened = OpenStore(config);
  if (!opened.ok()) return Fail(opened.status());
  auto v = (*opened)->CurrentVersion();
  if (!v.ok()) return Fail(v.status());
  std::cout << "schema at version " << *v << " (" << (*opened)->backend() << ")"
            << std::endl;
  return kExitOk;
}

int Demo(const Config& config, const std::string& demo_dir_hint,
         const std::string& argv0) {
  std::string dir = cli::FindDemoDir(demo_dir_hint, argv0);
  if (dir.empty()) {
    return Fail(InvalidField("demo-dir", "no demo/ folder found"));
  }
  auto opened = OpenStore(config);
  if (!opened.ok()) return Fail(opened.status());
  RealClock clock;
  service::Service service(**opened, clock, ServiceOptionsFrom(config));
  service.SetStandingPolicy(config.standing);
  absl::Status s = cli::SeedDemo(service, dir, std::cout);
  if (!s.ok()) return Fail(s);
  return kExitOk;
}

// Runs `fn` with a Service over the configured store.
template <typename Fn>
int WithService(const Config& config, Fn fn) {
  auto opened = OpenStore(config);
  if (!opened.ok()) return Fail(opened.status());
  RealClock clock;
  service::Service service(**opened, clock, ServiceOptionsFrom(config));
  service.SetStandingPolicy(config.standing);
  int rc = fn(service);
  (*opened)->Close();
  return rc;
}

int Main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, which turns on its deadlock
  // detector: a global lock taken on every Mutex::Lock. The tests keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (absl::Status s = service::InitCrypto(); !s.ok()) return Fail(s);
  CLI::App app{"Tessera: human annotation for AI training data"};
  app.require_subcommand(1);
  Config config;
  std::string config_file, db, listen, media, durability, demo_dir;
  bool demo = false;

  auto add_db = [&](CLI::App* cmd) {
    cmd->add_option("--db", db,
                    "database URL: sqlite://PATH or "
                    "postgresql://user@host:port/db (default "
                    "sqlite://./tessera.db)");
    cmd->add_option("--config", config_file, "TOML config file")
        ->check(CLI::ExistingFile);
    cmd->add_option(
        "--durability", durability,
        "SQLite commit durability: full (fsync, default) or normal");
  };

  CLI::App* serve = app.add_subcommand("serve", "run the HTTP server and jobs");
  add_db(serve);
  serve->add_option("--listen", listen, "HOST:PORT (default 127.0.0.1:8080)");
  serve->add_option("--media", media, "media root for task images");
  serve->add_flag("--demo", demo, "seed the demo into an empty database");
  serve->add_option("--demo-dir", demo_dir,
                    "demo data folder (default ./demo)");

  CLI::App* user = app.add_subcommand("user", "manage users");
  user->require_subcommand(1);
  CLI::App* user_add = user->add_subcommand("add", "create a user");
  add_db(user_add);
  std::string username;
  std::vector<std::string> roles;
  bool password_stdin = false;
  user_add->add_option("--username", username, "login name")->required();
  user_add
      ->add_option("--role", roles,
                   "admin, requester, reviewer or annotator (repeatable)")
      ->required();
  user_add->add_flag("--password-stdin", password_stdin,
                     "read the password from the first line of stdin");

  CLI::App* migrate =
      app.add_subcommand("migrate", "create or upgrade the schema");
  add_db(migrate);
  CLI::App* demo_cmd = app.add_subcommand("demo", "seed the demo data");
  add_db(demo_cmd);
  demo_cmd->add_option("--demo-dir", demo_dir,
                       "demo data folder (default ./demo)");

  CLI::App* aggregate = app.add_subcommand(
      "aggregate",
      "infer true labels, scores or boxes from crowd labels (docs/cli.md)");
  cli::AggregateOptions aggregate_options;
  aggregate
      ->add_option("--labels", aggregate_options.labels_path,
                   "answers CSV: item,worker,label (pairwise: "
                   "worker,left,right,winner; boxes: "
                   "image,worker,[label,]x1,y1,x2,y2)")
      ->required();
  aggregate->add_option("--kind", aggregate_options.kind,
                        "categorical (default), numeric, pairwise or boxes");
  aggregate->add_option(
      "--method", aggregate_options.method,
      "categorical: best (default), mv, wawa, ds, ocds, glad, mace; numeric: "
      "mean (default), median, bias; pairwise: crowdbt (default), bt; boxes: "
      "weighted (default), unweighted, single");
  aggregate->add_option("--truth", aggregate_options.truth_path,
                        "truth CSV: item,label (boxes: image,[label,]x1,y1,"
                        "x2,y2) to report accuracy, MAE/RMSE or F1");
  aggregate->add_option("--out", aggregate_options.out_path,
                        "write the per-item result CSV here (atomically)");
  aggregate->add_flag("--json", aggregate_options.json,
                      "print one JSON object instead of a summary");
  aggregate->add_flag("--keep-repeats", aggregate_options.keep_repeats,
                      "keep every row when a worker answers an item more "
                      "than once (default: conflicting repeats are an error)");
  aggregate->add_option("--threads", aggregate_options.threads,
                        "worker threads (default 0 = all cores)");

  CLI::App* agreement = app.add_subcommand(
      "agreement", "inter-annotator agreement of crowd labels (docs/cli.md)");
  cli::AgreementOptions agreement_options;
  agreement
      ->add_option("--labels", agreement_options.labels_path,
                   "answers CSV: item,worker,label (iou: boxes CSV)")
      ->required();
  agreement
      ->add_option("--metric", agreement_options.metric,
                   "alpha, fleiss, cohen, percent or iou")
      ->required();
  agreement->add_option("--level", agreement_options.level,
                        "alpha only: nominal (default), ordinal, interval or "
                        "ratio (the last three need numeric labels)");
  agreement->add_flag("--json", agreement_options.json,
                      "print one JSON object instead of a summary");
  agreement->add_flag("--keep-repeats", agreement_options.keep_repeats,
                      "keep every row when a worker labels an item more "
                      "than once");

  CLI::App* import_cmd = app.add_subcommand(
      "import", "import tasks into a pool from files (docs/cli.md)");
  add_db(import_cmd);
  cli::ImportCommand import;
  import_cmd->add_option("--pool", import.pool, "pool id")->required();
  import_cmd
      ->add_option("input", import.request.input,
                   "JSONL file; images: a folder; yolo: the labels folder; "
                   "coco, ls: a JSON file; voc: a folder of XML")
      ->required();
  import_cmd->add_option(
      "--format", import.request.format,
      "auto (default: JSONL of tasks, LLM records or OpenAssistant trees), "
      "tasks, llm, oasst, images, yolo, coco, voc or ls");
  import_cmd->add_option("--media", media,
                         "media root the images must lie in (data.image is "
                         "stored relative to it; default .)");
  import_cmd->add_option("--images", import.request.detection.images_dir,
                         "image folder (coco, voc; yolo default: the labels "
                         "folder's sibling images/)");
  import_cmd->add_option("--classes", import.request.detection.classes_file,
                         "classes.txt or data.yaml");
  import_cmd->add_option("--labels-as", import.labels_as,
                         "existing boxes become gold (default) or "
                         "preannotation");
  import_cmd->add_option("--model", import.request.detection.model,
                         "model name recorded with imported pre-annotations");
  import_cmd->add_flag(
      "--only-pool-labels", import.request.detection.only_pool_labels,
      "drop boxes whose class is not one of the pool's labels");
  import_cmd->add_option("--pairs", import.pairs,
                         "pairwise pools, N responses: all (default) or "
                         "adjacent pairs");
  import_cmd->add_flag("--skip-invalid", import.skip_invalid,
                       "import everything valid and report what was skipped");
  import_cmd->add_flag("--dedupe", import.dedupe,
                       "skip tasks whose data is already in the pool");

  CLI::App* export_cmd = app.add_subcommand(
      "export", "export a pool's work in a training format (docs/cli.md)");
  add_db(export_cmd);
  cli::ExportCommand export_options;
  export_cmd->add_option("--pool", export_options.pool, "pool id")->required();
  export_cmd->add_option("--format", export_options.format,
                         "jsonl (default), coco, yolo, voc, ls, dpo, sft, "
                         "ratings-jsonl or ratings-csv");
  export_cmd->add_option("--mode", export_options.mode,
                         "raw (default), aggregated, gold or preannotations");
  export_cmd->add_flag("--preannotations", export_options.preannotations,
                       "also include pre-annotations where the format can");
  export_cmd->add_option("--out", export_options.out_path,
                         "output file (default - = stdout); a folder for "
                         "yolo and voc");

  CLI::App* convert = app.add_subcommand(
      "convert", "convert detection labels between formats, offline");
  cli::ConvertCommand convert_options;
  convert->add_option("--from", convert_options.from, "yolo, coco, voc or ls")
      ->required();
  convert->add_option("--to", convert_options.to, "yolo, coco, voc or ls")
      ->required();
  convert->add_option("in", convert_options.input, "input file or folder")
      ->required();
  convert->add_option("out", convert_options.output, "output file or folder")
      ->required();
  convert->add_option("--classes", convert_options.classes_file,
                      "classes.txt or data.yaml");
  convert->add_option("--images", convert_options.images_dir,
                      "image folder (sizes for YOLO input)");
  convert->add_flag("--skip-invalid", convert_options.skip_invalid,
                    "skip invalid images or label files with a warning");

  CLI::App* ml_backend = app.add_subcommand(
      "ml-backend",
      "serve the built-in detector over the Label Studio ML-backend "
      "protocol (GET /health, POST /setup, POST /predict)");
  std::string ml_listen = "127.0.0.1:9090";
  preannotate::MlBackendOptions ml_options;
  ml_backend->add_option("--listen", ml_listen,
                         "HOST:PORT (default 127.0.0.1:9090; port 0 = any)");
  ml_backend
      ->add_option("--media", ml_options.media_root,
                   "media root task images are resolved in")
      ->required();
  ml_backend->add_option("--model", ml_options.model,
                         "hog (default, OpenCV's people detector) or "
                         "onnx:PATH (a YOLO-style ONNX detector)");

  // ---- Workforce: appeals, floor, flags, records (issue 6): verify-record
  CLI::App* verify_record = app.add_subcommand(
      "verify-record",
      "check a signed work record (GET /api/v1/me/record) offline");
  cli::VerifyRecordOptions verify_options;
  verify_record->add_option("FILE", verify_options.file, "the record's JSON")
      ->required();
  verify_record->add_option(
      "--key", verify_options.key,
      "the issuer's public key: base64, or a file with GET "
      "/api/v1/record-key's JSON");
  // ---- end Workforce: appeals, floor, flags, records

  // ---- Workforce: dynamic overlap and simulation (issue 6)
  CLI::App* simulate = app.add_subcommand(
      "simulate",
      "simulate a crowd working through a classify pool via the service "
      "layer, under the uniform or the tessera policy (docs/cli.md)");
  cli::SimulateOptions simulate_options;
  simulate->add_option("--workers", simulate_options.workers,
                       "simulated annotators (default 300; 20% arrive "
                       "over time)");
  simulate->add_option("--tasks", simulate_options.tasks,
                       "tasks with a hidden true class (default 20000)");
  simulate->add_option("--classes", simulate_options.classes,
                       "classes (default 4)");
  simulate->add_option("--budget", simulate_options.budget,
                       "annotations the requester pays for (default 3 x "
                       "tasks)");
  simulate->add_option("--policy", simulate_options.policy,
                       "uniform (fixed overlap budget/tasks) or tessera "
                       "(default: gold checks, standing, dynamic overlap)");
  simulate->add_option("--seed", simulate_options.seed, "seed (default 1)");
  simulate->add_option("--confidence", simulate_options.confidence,
                       "tessera: posterior confidence a task's label must "
                       "reach (default 0.9)");
  simulate->add_option("--max-overlap", simulate_options.max_overlap,
                       "tessera: most annotators per task (default 5)");
  simulate->add_flag("--json", simulate_options.json,
                     "print one JSON object instead of a summary");
  std::string simulate_config;
  simulate
      ->add_option("--config", simulate_config,
                   "TOML config file: its [standing] and [allocation] "
                   "settings apply (the rest is ignored)")
      ->check(CLI::ExistingFile);
  // Runs during parse (before the other commands' dispatch): the simulation
  // needs no database, only a fresh SQLite file per run.
  std::optional<int> simulate_rc;
  simulate->callback([&] {
    if (!simulate_config.empty()) {
      Config sim_config;
      if (absl::Status s = ApplyConfigFile(simulate_config, sim_config);
          !s.ok()) {
        simulate_rc = Fail(s);
        return;
      }
      simulate_options.standing = sim_config.standing;
    }
    simulate_rc = cli::RunSimulate(
        simulate_options,
        [](const std::string& path)
            -> absl::StatusOr<std::unique_ptr<store::Store>> {
          store::sqlite::SqliteOptions o;
          o.path = path;
          o.durability = store::sqlite::Durability::kNormal;
          TS_ASSIGN_OR_RETURN(auto db, store::sqlite::OpenSqlite(o));
          auto s = store::MakeSqlStore(std::move(db));
          TS_RETURN_IF_ERROR(s->Migrate());
          return s;
        },
        std::cout, std::cerr);
  });
  // ---- end Workforce: dynamic overlap and simulation

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  // ---- Workforce: dynamic overlap and simulation (issue 6): ran in parse
  if (simulate_rc) return *simulate_rc;

  // ---- Workforce: appeals, floor, flags, records (issue 6): verify-record
  if (verify_record->parsed()) {
    return cli::RunVerifyRecord(verify_options, std::cout, std::cerr);
  }
  // ---- end Workforce: appeals, floor, flags, records

  if (!config_file.empty()) {
    if (absl::Status s = ApplyConfigFile(config_file, config); !s.ok()) {
      return Fail(s);
    }
  }
  if (absl::Status s = ApplyEnvironment(config); !s.ok()) return Fail(s);
  if (!db.empty()) config.db_url = db;
  if (!listen.empty()) config.listen = listen;
  if (!media.empty()) config.media_root = media;
  if (!durability.empty()) config.durability = durability;

  if (aggregate->parsed()) {
    return cli::RunAggregate(aggregate_options, std::cout, std::cerr);
  }
  if (agreement->parsed()) {
    return cli::RunAgreement(agreement_options, std::cout, std::cerr);
  }
  if (ml_backend->parsed()) {
    auto hp = ParseListen(ml_listen);
    if (!hp.ok()) return Fail(hp.status());
    ml_options.host = hp->first;
    ml_options.port = hp->second;
    return preannotate::RunMlBackend(ml_options);
  }
  if (convert->parsed()) {
    return cli::RunConvert(convert_options, std::cout, std::cerr);
  }
  if (import_cmd->parsed()) {
    import.request.detection.media_root =
        config.media_root.empty() ? "." : config.media_root;
    return WithService(config, [&](service::Service& svc) {
      return cli::RunImport(svc, import, std::cout, std::cerr);
    });
  }
  if (export_cmd->parsed()) {
    return WithService(config, [&](service::Service& svc) {
      return cli::RunExport(svc, export_options, std::cout, std::cerr);
    });
  }
  if (serve->parsed()) return Serve(config, demo, demo_dir, argv[0]);
  if (user_add->parsed()) {
    return UserAdd(config, username, roles, password_stdin);
  }
  if (migrate->parsed()) return Migrate(config);
  if (demo_cmd->parsed()) return Demo(config, demo_dir, argv[0]);
  return kExitUsage;
}

}  // namespace
}  // namespace tessera::app

int main(int argc, char** argv) { return tessera::app::Main(argc, argv); }
