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

void Router::Add(std::string method, std::string pattern, Handler h,
                 InlineHandler fast) {
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
  if (fast && std::find(inline_methods_.begin(), inline_methods_.end(),
                        route.method) == inline_methods_.end()) {
    inline_methods_.push_back(route.method);
  }
  route.fast = std::move(fast);
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

const Router::Route* Router::Find(const Request& req,
                                  const std::vector<std::string>& parts,
                                  std::vector<std::string>* allowed) const {
  const Route* best = nullptr;      // most specific route with this method
  const Route* best_get = nullptr;  // same, for GET (serves HEAD)
  bool has_head_route = false;
  for (const Route& route : routes_) {
    if (!Matches(route, parts)) continue;
    if (allowed != nullptr && std::find(allowed->begin(), allowed->end(),
                                        route.method) == allowed->end()) {
      allowed->push_back(route.method);
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
  return best;
}

void Router::Bind(const Route& route, const std::vector<std::string>& parts,
                  Request& req) {
  req.route = route.pattern;
  req.params.clear();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (route.segments[i].is_param) {
      req.params.emplace_back(route.segments[i].text, parts[i]);
    }
  }
}

Response Router::Dispatch(Request& req) const {
  req.route.clear();
  req.params.clear();
  const std::vector<std::string> parts = SplitPath(req.path);
  std::vector<std::string> allowed;  // methods of routes matching the path
  const Route* best = Find(req, parts, &allowed);
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
  Bind(*best, parts, req);
  return RunHandler(best->handler, req);
}

Inline Router::DispatchInline(Request& req,
                              const std::shared_ptr<Responder>& respond,
                              bool may_block) const {
  // Most requests (every GET) cannot have a fast form: no path split for
  // them.
  if (std::find(inline_methods_.begin(), inline_methods_.end(), req.method) ==
      inline_methods_.end()) {
    return Inline::kNone;
  }
  const std::vector<std::string> parts = SplitPath(req.path);
  const Route* route = Find(req, parts, nullptr);
  if (route == nullptr || !route->fast) return Inline::kNone;
  Bind(*route, parts, req);
  respond->route = route->pattern;
  try {
    return route->fast(req, respond, may_block) ? Inline::kTaken
                                                : Inline::kDeclined;
  } catch (const std::exception& e) {
    std::cerr << absl::StrCat("tessera http: inline handler for ", req.method,
                              " ", req.path, " threw: ", e.what(), "\n");
  } catch (...) {
    std::cerr << absl::StrCat("tessera http: inline handler for ", req.method,
                              " ", req.path, " threw a non-std exception\n");
  }
  respond->Send(ErrorResponse(500, "internal", "internal error"));
  return Inline::kTaken;
}

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(routes_.size());
  for (const Route& r : routes_) out.emplace_back(r.method, r.pattern);
  return out;
}

}  // namespace tessera::http
