// Request/Response helpers and request-target decoding.
#include "tessera/http/types.h"

#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace tessera::http {
namespace {

std::optional<std::string> FindIn(
    const std::vector<std::pair<std::string, std::string>>& kv,
    absl::string_view name) {
  for (const auto& [k, v] : kv) {
    if (k == name) return v;
  }
  return std::nullopt;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

BodyFile::~BodyFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> Request::Header(absl::string_view lower_name) const {
  return FindIn(headers, lower_name);
}
std::optional<std::string> Request::Query(absl::string_view name) const {
  return FindIn(query, name);
}
std::optional<std::string> Request::Param(absl::string_view name) const {
  return FindIn(params, name);
}

Response Response::Json(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response Response::Text(int status, std::string body,
                        std::string content_type) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

Response Response::NoContent() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

absl::StatusOr<std::string> PercentDecode(absl::string_view in,
                                          bool plus_as_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) {
        return absl::InvalidArgumentError("truncated percent escape");
      }
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError("malformed percent escape");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<ParsedTarget> ParseTarget(absl::string_view target) {
  if (target.empty() || target.front() != '/') {
    return absl::InvalidArgumentError("request target must start with '/'");
  }
  ParsedTarget parsed;
  absl::string_view raw_path = target;
  absl::string_view raw_query;
  if (size_t q = target.find('?'); q != absl::string_view::npos) {
    raw_path = target.substr(0, q);
    raw_query = target.substr(q + 1);
  }
  if (size_t h = raw_query.find('#'); h != absl::string_view::npos) {
    raw_query = raw_query.substr(0, h);
  }
  auto path = PercentDecode(raw_path, /*plus_as_space=*/false);
  if (!path.ok()) return path.status();
  if (path->find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("path contains NUL");
  }
  parsed.path = *std::move(path);
  if (!raw_query.empty()) {
    for (absl::string_view part : absl::StrSplit(raw_query, '&')) {
      if (part.empty()) continue;
      absl::string_view key = part;
      absl::string_view value;
      if (size_t eq = part.find('='); eq != absl::string_view::npos) {
        key = part.substr(0, eq);
        value = part.substr(eq + 1);
      }
      auto k = PercentDecode(key, /*plus_as_space=*/true);
      if (!k.ok()) return k.status();
      auto v = PercentDecode(value, /*plus_as_space=*/true);
      if (!v.ok()) return v.status();
      parsed.query.emplace_back(*std::move(k), *std::move(v));
    }
  }
  return parsed;
}

}  // namespace tessera::http
