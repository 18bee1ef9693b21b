// The storage limit: the same claim (and submit) use cases as the HTTP
// routes, called on service::Service directly from many threads, no HTTP.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fixture.h"
#include "stats.h"
#include "tessera/service/service.h"

namespace tessera::bench {

enum class InprocMode {
  kClaimOnly,   // Claim only, each by an annotator never used before
  kCycle,       // Claim then Submit, one annotator per thread
  kAuthCycle,   // as kCycle, each call preceded by Authenticate(token) the
                // way every HTTP request is
  kSubmitNext,  // SubmitAndClaimNext (the web app's loop: one transaction
                // per task) after one first Claim, one annotator per thread
};

struct InprocResult {
  double seconds = 0;
  int64_t ops = 0;  // claims (kClaimOnly) or completed cycles
  double per_second = 0;
  Latencies claim, submit;
  std::map<std::string, int64_t> errors;  // by status code name
  int64_t empty = 0;                      // the pool had nothing to claim
};

// Runs `threads` threads for `seconds` or until `max_ops`. kCycle,
// kAuthCycle and kSubmitNext use workers[i] on thread i (needs workers.size()
// >= threads); kClaimOnly hands out workers in order and stops when they run
// out.
InprocResult RunInproc(service::Service& service, PoolId pool,
                       const std::vector<Worker>& workers, InprocMode mode,
                       int threads, double seconds, int64_t max_ops);

}  // namespace tessera::bench
