// Transport-level HTTP request/response values and the Handler signature shared
// by the router, the server and the API handlers. No domain knowledge.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json_fwd.hpp"

namespace tessera::http {

// One HTTP request as handed to a Handler. A plain value: not synchronized;
// each request is owned by the one thread running its handler.
struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target incl. query
  std::string path;    // percent-decoded path without query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<std::pair<std::string, std::string>>
      headers;  // names lower-cased
  std::string body;
  std::string remote_addr;  // "ip:port" of the peer
  // Filled by Router::Dispatch:
  std::string
      route;  // matched pattern, e.g. "/api/v1/pools/{id}/claims", or ""
  std::vector<std::pair<std::string, std::string>> params;  // path params

  // First header named `lower_name` (must be given lower-case), if any.
  std::optional<std::string> Header(absl::string_view lower_name) const;
  // First query parameter named `name` (exact match), if any.
  std::optional<std::string> Query(absl::string_view name) const;
  // Path parameter `name` captured by the matched route, if any.
  std::optional<std::string> Param(absl::string_view name) const;
};

// An open file to send as a response body (e.g. an export written to an
// unlinked temp file): the server streams it from offset 0 without reading it
// into memory. Owns the descriptor; closes it when the last reference goes.
class BodyFile {
 public:
  explicit BodyFile(int fd) : fd_(fd) {}
  ~BodyFile();
  BodyFile(const BodyFile&) = delete;
  BodyFile& operator=(const BodyFile&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// What a Handler returns. The server adds Content-Length, Content-Type and
// `Server: tessera`.
struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // When set, the body is this file's content instead of `body`.
  std::shared_ptr<BodyFile> file;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  // `body` serialized compactly; invalid UTF-8 in strings is replaced by
  // U+FFFD instead of throwing.
  static Response Json(int status, const nlohmann::json& body);
  static Response Text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
  // 204 with an empty body.
  static Response NoContent();
};

// Handles one request. Runs on a server worker thread; may block. `Request` is
// mutable so that a router/middleware can annotate it (route, params).
using Handler = std::function<Response(Request&)>;

// Completes a request that an InlineHandler took. Thread-safe.
class Responder {
 public:
  virtual ~Responder() = default;
  // Runs `fn` on the request's I/O thread, where it must not block: for the
  // work of making a response (formatting) that should not stay on the
  // thread that finished the request's work.
  virtual void Post(std::function<void()> fn) = 0;
  // Sends `resp` as the request's response. Call once, from any thread; a
  // responder dropped unsent answers 500.
  virtual void Send(Response resp) = 0;
  // The matched route pattern (set by the router), for the server's metrics.
  std::string route;
};

// The asynchronous form of a route: either declines (returns false, leaving
// `respond` unused) or takes the request (returns true, keeps a reference to
// `respond` as long as it needs one, and calls Send once, possibly later
// from another thread). The server offers each request to it first on the
// I/O thread that read it, with `may_block` false: it must not block then,
// and declines instead whenever it would have to wait (a database read).
// What it declines is offered again on a worker thread with `may_block`
// true (it may read there, and should still not wait for its writes); what
// it declines there too goes to the route's Handler.
using InlineHandler = std::function<bool(
    Request& req, const std::shared_ptr<Responder>& respond, bool may_block)>;

// What the server's inline dispatcher (a Router's DispatchInline) did with a
// request.
enum class Inline {
  kTaken,     // it will answer
  kDeclined,  // it would have to wait: offer it again where it may block
  kNone,      // its route has no asynchronous form: run the Handler
};
using InlineDispatch = std::function<Inline(
    Request& req, const std::shared_ptr<Responder>& respond, bool may_block)>;

// Percent-decodes `in` ("%2F" → "/"); with `plus_as_space` (query strings) '+'
// becomes ' '. Fails with kInvalidArgument on a malformed escape.
absl::StatusOr<std::string> PercentDecode(absl::string_view in,
                                          bool plus_as_space);

// A request target split into its decoded path and query parameters.
struct ParsedTarget {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
};
// Splits and decodes an origin-form target ("/a%20b?x=1&y"). Fails with
// kInvalidArgument when the target does not start with '/', has a malformed
// escape, or its decoded path contains NUL.
absl::StatusOr<ParsedTarget> ParseTarget(absl::string_view target);

}  // namespace tessera::http
