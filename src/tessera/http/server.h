// The HTTP/1.1 server: Boost.Beast async I/O on a few threads, handlers on a
// worker pool (or on the I/O threads, for routes with a non-blocking form),
// keep-alive, limits and timeouts, graceful stop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tessera/http/metrics.h"
#include "tessera/http/types.h"

namespace tessera::http {

struct ServerOptions {
  std::string host = "127.0.0.1";  // address (or name) to listen on
  uint16_t port = 8080;            // 0 = pick a free port
  int io_threads = 2;              // Asio threads doing socket I/O
  int worker_threads = 32;  // threads running handlers (may block on the DB)
  size_t body_limit = 16 << 20;  // larger bodies get a 413 JSON error
  // Time to receive a full request (header and body) once its first byte
  // has arrived.
  absl::Duration header_timeout = absl::Seconds(10);
  // How long a keep-alive connection may sit idle between requests.
  absl::Duration idle_timeout = absl::Seconds(75);
};

// A running server. All public methods are thread-safe.
class Server {
 public:
  // Binds and starts serving. `handler` (usually a Router's Dispatch) runs on
  // the worker pool, one call per request, concurrently. `metrics` may be null;
  // when set it must outlive the server, which records
  // tessera_http_requests_total{method,route,status},
  // tessera_http_request_duration_seconds{route} (route = req.route after the
  // handler, or "unmatched") and the gauge tessera_http_connections.
  // `inline_dispatch` (usually a Router's DispatchInline), when set, is
  // offered each request first, on the I/O thread that read it; what it
  // declines is offered again on a worker thread, and what it has no
  // asynchronous form for goes to `handler` (see InlineHandler). Stop()
  // waits for the requests it took to be answered.
  // Raises the RLIMIT_NOFILE soft limit to the hard limit.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      ServerOptions options, Handler handler, Metrics* metrics,
      InlineDispatch inline_dispatch = nullptr);

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  // Calls Stop().
  ~Server();

  // The bound port (the real one when options.port was 0).
  uint16_t port() const;

  // Graceful stop: stops accepting, closes idle keep-alive connections, lets
  // in-flight requests finish and their responses be written (waiting at
  // most 10 s for connections to close), then joins all threads. Waits for
  // running handlers to return, so it must not be called from a handler.
  // Idempotent; concurrent callers all return once the server is stopped.
  void Stop();

  // Blocks until SIGINT or SIGTERM arrives (or Stop() is called from another
  // thread), then calls Stop().
  void RunUntilSignal();

  class Impl;  // in server.cc; public only so internal classes can name it

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::http
