// Route table: (method, path pattern) → Handler, with `{name}` path parameters,
// 404/405 JSON errors, a fallback for unmatched paths, and exception safety.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tessera/http/types.h"

namespace tessera::http {

// Build with Add/SetFallback (single-threaded setup), then call Dispatch from
// any number of threads concurrently; the table must not change afterwards.
class Router {
 public:
  Router() = default;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;
  Router(Router&&) = default;
  Router& operator=(Router&&) = default;

  // Registers `h` for `method` (exact, upper-case, e.g. "GET") on `pattern`,
  // a path such as "/api/v1/pools/{id}/claims" where a `{name}` segment
  // captures one non-empty path segment. When several patterns match a path,
  // the one with a literal segment at the first differing position wins.
  // A GET route also answers HEAD unless a HEAD route exists. `fast`, when
  // set, is the route's non-blocking form, tried first by DispatchInline.
  void Add(std::string method, std::string pattern, Handler h,
           InlineHandler fast = nullptr);

  // Handler for any path no route matches (whatever the method), e.g. static
  // web assets. req.route stays "".
  void SetFallback(Handler h);

  // Routes `req` by req.method and req.path: sets req.route and req.params
  // and runs the handler. No matching path (and no fallback): 404 JSON
  // error; path matched but not the method: 405 JSON error with an `Allow`
  // header. A handler exception becomes a 500 JSON error (logged to stderr).
  Response Dispatch(Request& req) const;

  // When `req` matches a route with a `fast` form, sets req.route,
  // req.params and respond->route and runs it (see InlineHandler): kTaken
  // or kDeclined. kNone (nothing run) for every other request: then call
  // Dispatch. An exception from `fast` is logged and answered 500.
  Inline DispatchInline(Request& req, const std::shared_ptr<Responder>& respond,
                        bool may_block) const;

  // (method, pattern) of every route, in registration order.
  std::vector<std::pair<std::string, std::string>> Routes() const;

 private:
  struct Segment {
    std::string text;  // literal text, or the parameter name
    bool is_param = false;
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
    InlineHandler fast;
  };

  // The route serving req.method on `parts`, or null; `allowed` (if set)
  // collects the methods of every route matching the path.
  const Route* Find(const Request& req, const std::vector<std::string>& parts,
                    std::vector<std::string>* allowed) const;
  // Sets req.route and req.params for `route`.
  static void Bind(const Route& route, const std::vector<std::string>& parts,
                   Request& req);

  // Whether `route` matches `parts`.
  static bool Matches(const Route& route,
                      const std::vector<std::string>& parts);
  // True when `a` is more specific than `b` (both matching the same path).
  static bool MoreSpecific(const Route& a, const Route& b);

  std::vector<Route> routes_;
  std::vector<std::string> inline_methods_;  // of the routes with a fast form
  Handler fallback_;
};

}  // namespace tessera::http
