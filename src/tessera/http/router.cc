// Router: linear match over a small route table (tens of routes), most
// specific pattern first; converts handler exceptions into 500 responses.
#include "tessera/http/router.h"

#include <algorithm>
#include <exception>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tessera/http/error_mapping.h"

namespace tessera::http {
namespace {

// Path "/a/b/" → {"a", "b", ""}; "/" → {""}.
std::vector<std::string> SplitPath(absl::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return absl::StrSplit(path, '/');
}

Response RunHandler(const Handler& h, Request& req) {
  try {
    return h(req);
  } catch (const std::exception& e) {
    std::cerr << absl::StrCat("tessera http: handler for ", req.method, " ",
                              req.path, " threw: ", e.what(), "\n");
  } catch (...) {
    std::cerr << absl::StrCat("tessera http: handler for ", req.method, " ",
                              req.path, " threw a non-std exception\n");
  }
  return ErrorResponse(500, "internal", "internal error");
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler h) {
  Route route;
  for (std::string& part : SplitPath(pattern)) {
    Segment seg;
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      seg.is_param = true;
      seg.text = part.substr(1, part.size() - 2);
    } else {
      seg.text = std::move(part);
    }
    route.segments.push_back(std::move(seg));
  }
  route.method = std::move(method);
  route.pattern = std::move(pattern);
  route.handler = std::move(h);
  routes_.push_back(std::move(route));
}

void Router::SetFallback(Handler h) { fallback_ = std::move(h); }

bool Router::Matches(const Route& route,
                     const std::vector<std::string>& parts) {
  if (route.segments.size() != parts.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Segment& seg = route.segments[i];
    if (seg.is_param ? parts[i].empty() : seg.text != parts[i]) return false;
  }
  return true;
}

bool Router::MoreSpecific(const Route& a, const Route& b) {
  for (size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    if (a.segments[i].is_param != b.segments[i].is_param) {
      return !a.segments[i].is_param;
    }
  }
  return false;
}

Response Router::Dispatch(Request& req) const {
  req.route.clear();
  req.params.clear();
  const std::vector<std::string> parts = SplitPath(req.path);

  const Route* best = nullptr;      // most specific route with this method
  const Route* best_get = nullptr;  // same, for GET (serves HEAD)
  bool has_head_route = false;
  std::vector<std::string> allowed;  // methods of routes matching the path
  for (const Route& route : routes_) {
    if (!Matches(route, parts)) continue;
    if (std::find(allowed.begin(), allowed.end(), route.method) ==
        allowed.end()) {
      allowed.push_back(route.method);
    }
    if (route.method == req.method) {
      if (best == nullptr || MoreSpecific(route, *best)) best = &route;
      if (route.method == "HEAD") has_head_route = true;
    }
    if (route.method == "GET" &&
        (best_get == nullptr || MoreSpecific(route, *best_get))) {
      best_get = &route;
    }
  }
  if (best == nullptr && req.method == "HEAD" && !has_head_route) {
    best = best_get;
  }

  if (best == nullptr) {
    if (allowed.empty()) {
      if (fallback_) return RunHandler(fallback_, req);
      return ErrorResponse(404, "not_found",
                           absl::StrCat("no route for ", req.path));
    }
    Response resp = ErrorResponse(
        405, "method_not_allowed",
        absl::StrCat("method ", req.method, " not allowed for ", req.path));
    resp.headers.emplace_back("Allow", absl::StrJoin(allowed, ", "));
    return resp;
  }

  req.route = best->pattern;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (best->segments[i].is_param) {
      req.params.emplace_back(best->segments[i].text, parts[i]);
    }
  }
  return RunHandler(best->handler, req);
}

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(routes_.size());
  for (const Route& r : routes_) out.emplace_back(r.method, r.pattern);
  return out;
}

}  // namespace tessera::http
