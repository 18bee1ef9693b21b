// Options of the tessera binary: defaults, then config file, then environment,
// then flags. Parsed only here and passed down as plain structs.
#pragma once

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tessera/domain/standing.h"

namespace tessera::app {

struct Config {
  // [server]
  std::string listen = "127.0.0.1:8080";
  int io_threads = 2;
  int worker_threads = 32;
  int64_t body_limit_bytes = 16 << 20;
  int header_timeout_seconds = 10;
  int idle_timeout_seconds = 75;
  // [database]
  std::string db_url = "sqlite://./tessera.db";
  std::string durability = "full";  // full | normal (SQLite synchronous)
  int pg_pool_size = 16;
  // [media], [web]
  std::string media_root;
  std::string web_root;
  // [jobs]
  int lease_sweep_seconds = 5;
  int aggregate_interval_seconds = 60;  // 0 disables quality aggregation
  int floor_interval_seconds = 600;     // 0 disables hourly-floor settlement
  int keep_quality_snapshots = 5;       // per pool; 0 keeps every version
  // [standing] (score, tiers) and [allocation] (comeback limit, scarcity):
  // one domain::StandingPolicy, validated by domain::ValidateStandingPolicy.
  domain::StandingPolicy standing;
  // [records]
  std::string record_issuer = "tessera";
  // [auth]
  int token_ttl_hours = 24;
  // [log]
  std::string log_level = "info";
};

// Applies the TOML file at `path` over `config`. Unknown keys, values of the
// wrong type and values out of range are errors that name the file, section
// and key; on error `config` may be partly changed.
absl::Status ApplyConfigFile(const std::string& path, Config& config);
// Applies TESSERA_* environment variables (TESSERA_DB, TESSERA_LISTEN,
// TESSERA_MEDIA, TESSERA_WEB, TESSERA_DURABILITY, TESSERA_LOG_LEVEL,
// TESSERA_LEASE_SWEEP_SECONDS, TESSERA_AGGREGATE_INTERVAL_SECONDS,
// TESSERA_FLOOR_INTERVAL_SECONDS).
absl::Status ApplyEnvironment(Config& config);
// The web app folder to serve when none is configured: `<exe_dir>/web` when
// it holds an index.html, else "" (the built-in landing page).
std::string DefaultWebRoot(const std::string& exe_dir);
// The folder of the running executable (from /proc/self/exe), or "".
std::string ExecutableDir();
// Splits "host:port".
absl::StatusOr<std::pair<std::string, uint16_t>> ParseListen(
    const std::string& listen);

}  // namespace tessera::app
