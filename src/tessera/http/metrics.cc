// Prometheus registry implementation: one mutex, series keyed by their
// rendered label string so Render() needs no re-escaping.
#include "tessera/http/metrics.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"

namespace tessera::http {
namespace {

void AppendEscaped(std::string& out, absl::string_view v, bool quote_too) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '"':
        if (quote_too) {
          out += "\\\"";
        } else {
          out += c;
        }
        break;
      default:
        out += c;
    }
  }
}

// Rendered label set without braces: a="x",b="y".
std::string LabelKey(const Labels& labels) {
  std::string key;
  for (const auto& [name, value] : labels) {
    if (!key.empty()) key += ',';
    key += name;
    key += "=\"";
    AppendEscaped(key, value, /*quote_too=*/true);
    key += '"';
  }
  return key;
}

// Integers exactly, everything else with round-trip precision.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

const char* TypeName(int type) {
  switch (type) {
    case 0:
      return "counter";
    case 1:
      return "gauge";
    default:
      return "histogram";
  }
}

void AppendSample(std::string& out, absl::string_view name,
                  absl::string_view suffix, absl::string_view key,
                  absl::string_view extra_label, const std::string& value) {
  absl::StrAppend(&out, name, suffix);
  if (!key.empty() || !extra_label.empty()) {
    absl::StrAppend(&out, "{", key,
                    (!key.empty() && !extra_label.empty()) ? "," : "",
                    extra_label, "}");
  }
  absl::StrAppend(&out, " ", value, "\n");
}

}  // namespace

void Metrics::Describe(std::string name, std::string type, std::string help) {
  Type t = type == "gauge"       ? Type::kGauge
           : type == "histogram" ? Type::kHistogram
                                 : Type::kCounter;
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = families_.try_emplace(std::move(name));
  if (inserted) it->second.type = t;
  it->second.help = std::move(help);
}

Metrics::Series* Metrics::FindOrCreate(absl::string_view name,
                                       const Labels& labels, Type type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.try_emplace(std::string(name)).first;
    it->second.type = type;
  }
  Family& family = it->second;
  // A gauge may be Inc'ed (e.g. +1/-1 on open connections).
  bool ok = family.type == type ||
            (family.type == Type::kGauge && type == Type::kCounter);
  if (!ok) {
    if (!family.warned) {
      family.warned = true;
      std::cerr << absl::StrCat("tessera metrics: ", name,
                                " used with the wrong type\n");
    }
    return nullptr;
  }
  return &family.series[LabelKey(labels)];
}

void Metrics::Inc(absl::string_view name, const Labels& labels, double v) {
  absl::MutexLock lock(&mu_);
  if (Series* s = FindOrCreate(name, labels, Type::kCounter)) s->value += v;
}

void Metrics::Set(absl::string_view name, const Labels& labels, double v) {
  absl::MutexLock lock(&mu_);
  if (Series* s = FindOrCreate(name, labels, Type::kGauge)) s->value = v;
}

void Metrics::Observe(absl::string_view name, const Labels& labels,
                      double seconds) {
  size_t bucket = std::lower_bound(kLatencyBuckets.begin(),
                                   kLatencyBuckets.end(), seconds) -
                  kLatencyBuckets.begin();
  absl::MutexLock lock(&mu_);
  Series* s = FindOrCreate(name, labels, Type::kHistogram);
  if (s == nullptr) return;
  if (bucket < s->buckets.size()) ++s->buckets[bucket];
  ++s->count;
  s->sum += seconds;
}

std::string Metrics::Render() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, family] : families_) {
    if (!family.help.empty()) {
      absl::StrAppend(&out, "# HELP ", name, " ");
      AppendEscaped(out, family.help, /*quote_too=*/false);
      out += '\n';
    }
    absl::StrAppend(&out, "# TYPE ", name, " ",
                    TypeName(static_cast<int>(family.type)), "\n");
    std::vector<const std::pair<const std::string, Series>*> sorted;
    sorted.reserve(family.series.size());
    for (const auto& entry : family.series) sorted.push_back(&entry);
    std::sort(sorted.begin(), sorted.end(),
              [](const auto* a, const auto* b) { return a->first < b->first; });
    for (const auto* entry : sorted) {
      const std::string& key = entry->first;
      const Series& s = entry->second;
      if (family.type != Type::kHistogram) {
        AppendSample(out, name, "", key, "", FormatValue(s.value));
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
        cumulative += s.buckets[i];
        AppendSample(out, name, "_bucket", key,
                     absl::StrCat("le=\"", kLatencyBuckets[i], "\""),
                     absl::StrCat(cumulative));
      }
      AppendSample(out, name, "_bucket", key, "le=\"+Inf\"",
                   absl::StrCat(s.count));
      AppendSample(out, name, "_sum", key, "", FormatValue(s.sum));
      AppendSample(out, name, "_count", key, "", absl::StrCat(s.count));
    }
  }
  return out;
}

}  // namespace tessera::http
