// A simple synchronous HTTP/1.1 keep-alive client for loopback use by
// integration tests and the load generator.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tessera::http {

struct ClientResponse {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  // First header named `name` (case-insensitive), if any.
  std::optional<std::string> Header(absl::string_view name) const;
};

// One keep-alive connection to host:port, opened lazily and reopened
// transparently when the server has closed it. Operations block without a
// timeout. Not thread-safe: use one client per thread (clients on different
// threads are independent).
class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  // Sends one request and reads the whole response. A body is sent with
  // Content-Type application/json unless `headers` names a Content-Type.
  // When a reused connection turns out to be closed, the request is retried
  // once on a new connection. Fails with kUnavailable on connection errors.
  absl::StatusOr<ClientResponse> Send(
      absl::string_view method, absl::string_view target,
      absl::string_view body = "",
      std::vector<std::pair<std::string, std::string>> headers = {});

  // Number of TCP connections opened so far (for keep-alive tests).
  int connections_opened() const;

  // Closes the connection (the next Send reconnects).
  void Close();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::http
