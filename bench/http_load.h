// The HTTP load generator: many keep-alive connections on one Boost.Asio
// io_context, each running annotator cycles (claim → submit) or reviewer
// cycles (review-claim → review) against a server on 127.0.0.1, bounded in
// time and in cycle count.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "stats.h"

namespace tessera::bench {

enum class CycleKind {
  kAnnotate,  // POST /pools/{id}/claims, then POST /claims/{id}/submit
  kReview,    // POST /pools/{id}/review-claims, then /submissions/{id}/review
  // The web app's loop: POST /claims/{id}/submit?next=1 submits and claims
  // the next task in one request (two transactions), so a cycle is one
  // request; POST /pools/{id}/claims only when no next claim came back.
  kAnnotateNext,
};

struct HttpLoadOptions {
  uint16_t port = 0;  // on 127.0.0.1, always
  CycleKind kind = CycleKind::kAnnotate;
  int64_t pool_id = 0;
  // One bearer token per connection (the number of connections).
  std::vector<std::string> tokens;
  double seconds = 10;              // measured window, after all connected
  int64_t max_cycles = 10'000'000;  // stop starting cycles after this many
  int threads = 1;                  // threads running the io_context
  // Mean pause after each completed cycle (an annotator's "think time"); 0 =
  // the next cycle starts at once (closed loop, saturating). Pauses are drawn
  // from an exponential distribution with this mean (seeded per connection),
  // and each connection's first cycle starts after one such pause, so the
  // connections do not move in lock-step; a fixed pause would keep all of
  // them in phase and send 1,000 claims at the same instant, every cycle.
  double think_ms = 0;
  double grace_seconds = 20;  // after the window, cut what is still open
};

// Per request kind: latency of successful responses, and every status seen.
struct RequestStats {
  Latencies latency;
  std::map<int, int64_t> statuses;  // 0 = I/O error or timeout
};

struct HttpLoadResult {
  int connections = 0;
  int connected = 0;           // connections that opened
  double connect_seconds = 0;  // to open them all
  double window_seconds = 0;   // measured window
  int64_t cycles = 0;          // completed inside the window
  double cycles_per_second = 0;
  RequestStats first;   // claim / review-claim
  RequestStats second;  // submit / review
  Latencies cycle;      // whole cycle (first request to second answer)
  int64_t empty = 0;    // 204: nothing to claim
  std::map<int, int64_t> errors;  // unexpected statuses, both requests
  std::string sample_error;       // one unexpected response, for the report
};

// Runs the load. Fails only when no connection could be opened.
absl::StatusOr<HttpLoadResult> RunHttpLoad(const HttpLoadOptions& options);

}  // namespace tessera::bench
