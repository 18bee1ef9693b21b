// One HTTP/1.1 exchange with an overall deadline, for the model-backend
// client and image fetching (tessera::http::HttpClient has no timeouts).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tessera::preannotate::internal {

// An http:// URL split up. Only plain http is supported.
struct HttpUrl {
  std::string host;
  uint16_t port = 80;
  std::string path;  // target prefix without a trailing '/', may be ""
};

// Parses "http://host[:port][/path]". kInvalidArgument for other schemes,
// userinfo, a bad port or an empty host.
absl::StatusOr<HttpUrl> ParseHttpUrl(absl::string_view url);

struct FetchResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Sends `method target` to host:port (a new connection, closed afterwards)
// and reads the whole response, all within `timeout`. A body is sent as
// application/json; `headers` are added as given. Fails with kDeadlineExceeded
// on timeout, kUnavailable on connection errors, kResourceExhausted when the
// body exceeds `max_body`.
absl::StatusOr<FetchResponse> HttpExchange(
    const std::string& host, uint16_t port, absl::string_view method,
    absl::string_view target, absl::string_view body, absl::Duration timeout,
    size_t max_body = 64 << 20,
    const std::vector<std::pair<std::string, std::string>>& headers = {});

}  // namespace tessera::preannotate::internal
