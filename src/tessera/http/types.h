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
