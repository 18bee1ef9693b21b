// Config file and environment parsing.
#include "config.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <filesystem>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tessera/base/status.h"

namespace tessera::app {
namespace {

absl::Status WrongType(const std::string& path, const std::string& section,
                       const std::string& key, absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": [", section, "] ", key, " has the wrong type (", want, ")"));
}

// Sets `out` from t[section][key] when present: strings from strings,
// integers from integers (in range of T), doubles from any number.
template <typename T>
absl::Status Take(const toml::table& t, const std::string& section,
                  const std::string& key, T& out, const std::string& path) {
  auto node = t[section][key];
  if (!node) return absl::OkStatus();
  if constexpr (std::is_same_v<T, std::string>) {
    if (auto v = node.value_exact<std::string>()) {
      out = *v;
      return absl::OkStatus();
    }
    return WrongType(path, section, key, "a string");
  } else if constexpr (std::is_floating_point_v<T>) {
    if (node.is_number()) {
      out = static_cast<T>(*node.value<double>());
      return absl::OkStatus();
    }
    return WrongType(path, section, key, "a number");
  } else {
    if (auto v = node.value_exact<int64_t>()) {
      if (*v < std::numeric_limits<T>::min() ||
          *v > std::numeric_limits<T>::max()) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": [", section, "] ", key, " is out of range: ", *v));
      }
      out = static_cast<T>(*v);
      return absl::OkStatus();
    }
    return WrongType(path, section, key, "an integer");
  }
}

// A duration given in (possibly fractional) days.
absl::Status TakeDays(const toml::table& t, const std::string& section,
                      const std::string& key, absl::Duration& out,
                      const std::string& path) {
  if (!t[section][key]) return absl::OkStatus();
  double days = 0;
  TS_RETURN_IF_ERROR(Take(t, section, key, days, path));
  if (!(days > 0 && days <= 36500)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": [", section, "] ", key,
        " must be more than 0 and at most 36500 days, got ", days));
  }
  out = absl::Seconds(days * 86400);
  return absl::OkStatus();
}

// A Beta prior given as [alpha, beta] (ranges are checked with the policy).
absl::Status TakePrior(const toml::table& t, const std::string& section,
                       const std::string& key, domain::BetaPrior& out,
                       const std::string& path) {
  auto node = t[section][key];
  if (!node) return absl::OkStatus();
  const toml::array* a = node.as_array();
  if (a == nullptr || a->size() != 2 || !(*a)[0].is_number() ||
      !(*a)[1].is_number()) {
    return WrongType(path, section, key, "[alpha, beta], two numbers");
  }
  out.alpha = *(*a)[0].value<double>();
  out.beta = *(*a)[1].value<double>();
  return absl::OkStatus();
}

// The section of each standing-policy setting outside [standing], and the
// config key of settings whose key differs from the policy's field name.
std::pair<std::string, std::string> PolicyKey(const std::string& field) {
  if (field == "half_life") return {"standing", "half_life_days"};
  if (field == "comeback_window") return {"allocation", "comeback_window_days"};
  if (absl::StartsWith(field, "comeback_") ||
      absl::StartsWith(field, "scarce_")) {
    return {"allocation", field};
  }
  return {"standing", field};
}

// The issuer is shown in every signed record: a readable, short name.
absl::Status CheckRecordIssuer(const std::string& issuer) {
  if (absl::StripAsciiWhitespace(issuer).empty()) {
    return absl::InvalidArgumentError("must not be blank");
  }
  if (issuer.size() > 200) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be at most 200 bytes, got ", issuer.size()));
  }
  for (unsigned char ch : issuer) {
    if (ch < 0x20 || ch == 0x7f) {
      return absl::InvalidArgumentError("must not hold control characters");
    }
  }
  return absl::OkStatus();
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
      {"jobs",
       {"lease_sweep_seconds", "aggregate_interval_seconds",
        "floor_interval_seconds", "keep_quality_snapshots"}},
      {"standing", {"half_life_days",
                    "gold_prior",
                    "first_pass_prior",
                    "rounds_prior_mean",
                    "rounds_prior_weight",
                    "rejection_prior",
                    "agreement_prior",
                    "volume_scale",
                    "gold_weight",
                    "first_pass_weight",
                    "rounds_weight",
                    "rejection_weight",
                    "agreement_weight",
                    "volume_weight",
                    "contributor_min_reviewed",
                    "quality_min_score",
                    "quality_min_reviewed",
                    "quality_min_gold_accuracy",
                    "quality_gold_checks",
                    "gold_bound_z",
                    "reviewer_min_score",
                    "reviewer_min_reviewed"}},
      {"allocation",
       {"comeback_share", "comeback_min_reviewed", "comeback_window_days",
        "scarce_open_share", "scarce_price_minor"}},
      {"records", {"issuer"}},
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
           Take(t, "jobs", "floor_interval_seconds", c.floor_interval_seconds,
                path),
           Take(t, "jobs", "keep_quality_snapshots", c.keep_quality_snapshots,
                path),
           TakeDays(t, "standing", "half_life_days", c.standing.half_life,
                    path),
           TakePrior(t, "standing", "gold_prior", c.standing.gold_prior, path),
           TakePrior(t, "standing", "first_pass_prior",
                     c.standing.first_pass_prior, path),
           Take(t, "standing", "rounds_prior_mean",
                c.standing.rounds_prior_mean, path),
           Take(t, "standing", "rounds_prior_weight",
                c.standing.rounds_prior_weight, path),
           TakePrior(t, "standing", "rejection_prior",
                     c.standing.rejection_prior, path),
           TakePrior(t, "standing", "agreement_prior",
                     c.standing.agreement_prior, path),
           Take(t, "standing", "volume_scale", c.standing.volume_scale, path),
           Take(t, "standing", "gold_weight", c.standing.gold_weight, path),
           Take(t, "standing", "first_pass_weight",
                c.standing.first_pass_weight, path),
           Take(t, "standing", "rounds_weight", c.standing.rounds_weight, path),
           Take(t, "standing", "rejection_weight", c.standing.rejection_weight,
                path),
           Take(t, "standing", "agreement_weight", c.standing.agreement_weight,
                path),
           Take(t, "standing", "volume_weight", c.standing.volume_weight, path),
           Take(t, "standing", "contributor_min_reviewed",
                c.standing.contributor_min_reviewed, path),
           Take(t, "standing", "quality_min_score",
                c.standing.quality_min_score, path),
           Take(t, "standing", "quality_min_reviewed",
                c.standing.quality_min_reviewed, path),
           Take(t, "standing", "quality_min_gold_accuracy",
                c.standing.quality_min_gold_accuracy, path),
           Take(t, "standing", "quality_gold_checks",
                c.standing.quality_gold_checks, path),
           Take(t, "standing", "gold_bound_z", c.standing.gold_bound_z, path),
           Take(t, "standing", "reviewer_min_score",
                c.standing.reviewer_min_score, path),
           Take(t, "standing", "reviewer_min_reviewed",
                c.standing.reviewer_min_reviewed, path),
           Take(t, "allocation", "comeback_share", c.standing.comeback_share,
                path),
           Take(t, "allocation", "comeback_min_reviewed",
                c.standing.comeback_min_reviewed, path),
           TakeDays(t, "allocation", "comeback_window_days",
                    c.standing.comeback_window, path),
           Take(t, "allocation", "scarce_open_share",
                c.standing.scarce_open_share, path),
           Take(t, "allocation", "scarce_price_minor",
                c.standing.scarce_price_minor, path),
           Take(t, "records", "issuer", c.record_issuer, path),
           Take(t, "auth", "token_ttl_hours", c.token_ttl_hours, path),
           Take(t, "log", "level", c.log_level, path),
       }) {
    if (!step.ok()) return step;
  }
  if (c.aggregate_interval_seconds < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": [jobs] aggregate_interval_seconds must be 0 (off) or more"));
  }
  if (c.floor_interval_seconds < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": [jobs] floor_interval_seconds must be 0 (off) or more"));
  }
  if (c.keep_quality_snapshots < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": [jobs] keep_quality_snapshots must be 0 (keep all) or more"));
  }
  if (absl::Status s = domain::ValidateStandingPolicy(c.standing); !s.ok()) {
    auto [section, key] = PolicyKey(FieldOf(s).value_or(""));
    // The weights' sum names all six keys in its message.
    return absl::InvalidArgumentError(
        key == "weights"
            ? absl::StrCat(path, ": [", section, "] ", s.message())
            : absl::StrCat(path, ": [", section, "] ", key, " ", s.message()));
  }
  if (absl::Status s = CheckRecordIssuer(c.record_issuer); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": [records] issuer ", s.message()));
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
  if (auto v = env("TESSERA_FLOOR_INTERVAL_SECONDS")) {
    if (!absl::SimpleAtoi(v, &c.floor_interval_seconds) ||
        c.floor_interval_seconds < 0) {
      return absl::InvalidArgumentError(
          "TESSERA_FLOOR_INTERVAL_SECONDS must be 0 (off) or a positive "
          "integer");
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
