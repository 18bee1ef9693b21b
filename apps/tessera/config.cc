// Config file and environment parsing.
#include "config.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tessera::app {
namespace {

template <typename T>
absl::Status Take(const toml::table& t, const std::string& section,
                  const std::string& key, T& out, const std::string& path) {
  auto node = t[section][key];
  if (!node) return absl::OkStatus();
  if constexpr (std::is_same_v<T, std::string>) {
    if (auto v = node.value<std::string>()) {
      out = *v;
      return absl::OkStatus();
    }
  } else {
    if (auto v = node.value<int64_t>()) {
      out = static_cast<T>(*v);
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": [", section, "] ", key, " has the wrong type"));
}

}  // namespace

absl::Status ApplyConfigFile(const std::string& path, Config& c) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ":", e.source().begin.line, ": ", std::string(e.description())));
  }
  const std::map<std::string, std::vector<std::string>> known = {
      {"server",
       {"listen", "io_threads", "worker_threads", "body_limit_bytes",
        "header_timeout_seconds", "idle_timeout_seconds"}},
      {"database", {"url", "durability", "pool_size"}},
      {"media", {"root"}},
      {"web", {"root"}},
      {"jobs", {"lease_sweep_seconds", "aggregate_interval_seconds"}},
      {"auth", {"token_ttl_hours"}},
      {"log", {"level"}},
  };
  for (const auto& [section, node] : t) {
    auto it = known.find(std::string(section.str()));
    if (it == known.end() || !node.is_table()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": unknown section [", std::string(section.str()), "]"));
    }
    for (const auto& [key, value] : *node.as_table()) {
      if (std::find(it->second.begin(), it->second.end(),
                    std::string(key.str())) == it->second.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": unknown key ", std::string(key.str()),
                         " in [", std::string(section.str()), "]"));
      }
    }
  }
  absl::Status s;
  for (absl::Status step : {
           Take(t, "server", "listen", c.listen, path),
           Take(t, "server", "io_threads", c.io_threads, path),
           Take(t, "server", "worker_threads", c.worker_threads, path),
           Take(t, "server", "body_limit_bytes", c.body_limit_bytes, path),
           Take(t, "server", "header_timeout_seconds", c.header_timeout_seconds,
                path),
           Take(t, "server", "idle_timeout_seconds", c.idle_timeout_seconds,
                path),
           Take(t, "database", "url", c.db_url, path),
           Take(t, "database", "durability", c.durability, path),
           Take(t, "database", "pool_size", c.pg_pool_size, path),
           Take(t, "media", "root", c.media_root, path),
           Take(t, "web", "root", c.web_root, path),
           Take(t, "jobs", "lease_sweep_seconds", c.lease_sweep_seconds, path),
           Take(t, "jobs", "aggregate_interval_seconds",
                c.aggregate_interval_seconds, path),
           Take(t, "auth", "token_ttl_hours", c.token_ttl_hours, path),
           Take(t, "log", "level", c.log_level, path),
       }) {
    if (!step.ok()) return step;
  }
  if (c.aggregate_interval_seconds < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": [jobs] aggregate_interval_seconds must be 0 (off) or more"));
  }
  return absl::OkStatus();
}

absl::Status ApplyEnvironment(Config& c) {
  auto env = [](const char* name) -> const char* { return std::getenv(name); };
  if (auto v = env("TESSERA_DB")) c.db_url = v;
  if (auto v = env("TESSERA_LISTEN")) c.listen = v;
  if (auto v = env("TESSERA_MEDIA")) c.media_root = v;
  if (auto v = env("TESSERA_WEB")) c.web_root = v;
  if (auto v = env("TESSERA_DURABILITY")) c.durability = v;
  if (auto v = env("TESSERA_LOG_LEVEL")) c.log_level = v;
  if (auto v = env("TESSERA_LEASE_SWEEP_SECONDS")) {
    if (!absl::SimpleAtoi(v, &c.lease_sweep_seconds) ||
        c.lease_sweep_seconds < 1) {
      return absl::InvalidArgumentError(
          "TESSERA_LEASE_SWEEP_SECONDS must be a positive integer");
    }
  }
  if (auto v = env("TESSERA_AGGREGATE_INTERVAL_SECONDS")) {
    if (!absl::SimpleAtoi(v, &c.aggregate_interval_seconds) ||
        c.aggregate_interval_seconds < 0) {
      return absl::InvalidArgumentError(
          "TESSERA_AGGREGATE_INTERVAL_SECONDS must be 0 (off) or a positive "
          "integer");
    }
  }
  return absl::OkStatus();
}

std::string DefaultWebRoot(const std::string& exe_dir) {
  if (exe_dir.empty()) return "";
  std::error_code ec;
  const std::filesystem::path web = std::filesystem::path(exe_dir) / "web";
  if (!std::filesystem::is_regular_file(web / "index.html", ec)) return "";
  return web.string();
}

std::string ExecutableDir() {
  std::error_code ec;
  std::filesystem::path exe =
      std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  return exe.parent_path().string();
}

absl::StatusOr<std::pair<std::string, uint16_t>> ParseListen(
    const std::string& listen) {
  auto colon = listen.rfind(':');
  int p = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &p) || p < 0 || p > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen must be HOST:PORT, got '", listen, "'"));
  }
  return std::make_pair(listen.substr(0, colon), static_cast<uint16_t>(p));
}

}  // namespace tessera::app
