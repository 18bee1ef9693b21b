// Threads calling Service::Claim / Submit directly (the in-process limit).
#include "inproc.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"

namespace tessera::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t MicrosSince(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             SteadyClock::now() - t)
      .count();
}

struct ThreadStats {
  int64_t ops = 0;
  int64_t empty = 0;
  Latencies claim, submit;
  std::map<std::string, int64_t> errors;
};

// kSubmitNext: one Claim, then SubmitAndClaimNext on the claim each call
// returns. Each call is one op, timed into `submit`.
void SubmitNextLoop(service::Service& service, PoolId pool, const Worker& w,
                    const nlohmann::json& body,
                    SteadyClock::time_point deadline,
                    std::atomic<int64_t>& budget, std::atomic<bool>& stop,
                    ThreadStats& st) {
  auto t0 = SteadyClock::now();
  auto first = service.Claim(w.principal, pool);
  if (!first.ok()) {
    st.errors[absl::StatusCodeToString(first.status().code())]++;
    return;
  }
  if (!first->has_value()) {
    ++st.empty;
    return;
  }
  st.claim.Add(MicrosSince(t0));
  ClaimId held((**first).body["claim"]["id"].get<int64_t>());
  while (!stop && SteadyClock::now() < deadline && budget.fetch_sub(1) > 0) {
    auto t1 = SteadyClock::now();
    auto out = service.SubmitAndClaimNext(w.principal, held, body,
                                          absl::StrCat("inproc-", held.value));
    if (!out.ok()) {
      st.errors[absl::StatusCodeToString(out.status().code())]++;
      return;  // the claim is spent either way
    }
    st.submit.Add(MicrosSince(t1));
    ++st.ops;
    const nlohmann::json& next = (*out)["next"];
    if (!next.is_object()) {
      ++st.empty;
      stop = true;
      return;
    }
    held = ClaimId(next["claim"]["id"].get<int64_t>());
  }
}

}  // namespace

InprocResult RunInproc(service::Service& service, PoolId pool,
                       const std::vector<Worker>& workers, InprocMode mode,
                       int threads, double seconds, int64_t max_ops) {
  const nlohmann::json body = {{"result", {{"label", "a"}}},
                               {"active_seconds", 3}};
  std::atomic<int64_t> budget{max_ops};
  std::atomic<size_t> next_worker{0};
  std::atomic<bool> stop{false};
  std::vector<ThreadStats> stats(threads);
  auto start = SteadyClock::now();
  auto deadline = start + std::chrono::duration_cast<SteadyClock::duration>(
                              std::chrono::duration<double>(seconds));

  auto run = [&](int t) {
    ThreadStats& st = stats[t];
    if (mode == InprocMode::kSubmitNext) {
      SubmitNextLoop(service, pool, workers[t], body, deadline, budget, stop,
                     st);
      return;
    }
    while (!stop && SteadyClock::now() < deadline && budget.fetch_sub(1) > 0) {
      const Worker* w = nullptr;
      if (mode == InprocMode::kClaimOnly) {
        size_t i = next_worker.fetch_add(1);
        if (i >= workers.size()) break;
        w = &workers[i];
      } else {
        w = &workers[t];
      }
      service::Principal p = w->principal;
      auto t0 = SteadyClock::now();
      if (mode == InprocMode::kAuthCycle) {
        auto auth = service.Authenticate(w->token);
        if (!auth.ok()) {
          st.errors[absl::StatusCodeToString(auth.status().code())]++;
          continue;
        }
        p = *auth;
      }
      auto claim = service.Claim(p, pool);
      if (!claim.ok()) {
        st.errors[absl::StatusCodeToString(claim.status().code())]++;
        continue;
      }
      if (!claim->has_value()) {
        ++st.empty;
        stop = true;
        break;
      }
      st.claim.Add(MicrosSince(t0));
      if (mode == InprocMode::kClaimOnly) {
        ++st.ops;
        continue;
      }
      ClaimId id((**claim).body["claim"]["id"].get<int64_t>());
      auto t1 = SteadyClock::now();
      if (mode == InprocMode::kAuthCycle) {
        auto auth = service.Authenticate(w->token);
        if (!auth.ok()) {
          st.errors[absl::StatusCodeToString(auth.status().code())]++;
          continue;
        }
      }
      auto submitted =
          service.Submit(p, id, body, absl::StrCat("inproc-", id.value));
      if (!submitted.ok()) {
        st.errors[absl::StatusCodeToString(submitted.status().code())]++;
        continue;
      }
      st.submit.Add(MicrosSince(t1));
      ++st.ops;
    }
  };
  std::vector<std::thread> pool_threads;
  for (int t = 0; t < threads; ++t) pool_threads.emplace_back(run, t);
  for (auto& th : pool_threads) th.join();

  InprocResult r;
  r.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  for (auto& st : stats) {
    r.ops += st.ops;
    r.empty += st.empty;
    r.claim.Merge(st.claim);
    r.submit.Merge(st.submit);
    for (auto& [k, v] : st.errors) r.errors[k] += v;
  }
  r.per_second = r.seconds > 0 ? r.ops / r.seconds : 0;
  return r;
}

}  // namespace tessera::bench
