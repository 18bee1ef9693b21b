// Background job loop.
#include "tessera/jobs/runner.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

namespace tessera::jobs {
namespace {
constexpr int kJobNice = 10;
}  // namespace

Runner::Runner(service::Service& service, RunnerOptions options,
               std::function<void(const absl::Status&)> on_error)
    : service_(service), options_(options), on_error_(std::move(on_error)) {}

Runner::~Runner() { Stop(); }

void Runner::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Runner::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

int Runner::RunOnce() {
  return Pass(/*aggregate=*/true,
              /*settle_floor=*/options_.floor_interval > absl::ZeroDuration());
}

int Runner::Pass(bool aggregate, bool settle_floor) {
  int changed = 0;
  // Expire in batches until none are left.
  while (true) {
    auto n = service_.ExpireLeases(500);
    if (!n.ok()) {
      if (on_error_) on_error_(n.status());
      break;
    }
    changed += *n;
    if (*n < 500) break;
  }
  auto opened = service_.OpenDuePools();
  if (!opened.ok()) {
    if (on_error_) on_error_(opened.status());
  } else {
    changed += *opened;
  }
  if (aggregate && options_.aggregate_interval > absl::ZeroDuration()) {
    constexpr int kPoolsPerCall = 100;
    while (true) {
      auto n = service_.AggregateStalePools(kPoolsPerCall);
      if (!n.ok()) {
        if (on_error_) on_error_(n.status());
        break;
      }
      changed += *n;
      if (*n < kPoolsPerCall) break;
    }
  }
  if (settle_floor) {
    auto n = service_.SettleEndedFloorWeeks();
    if (!n.ok()) {
      if (on_error_) on_error_(n.status());
    } else {
      changed += *n;
    }
  }
  return changed;
}

void Runner::Loop() {
  // Background work yields the CPU to requests: truth inference over a large
  // pool takes seconds of CPU, which on two cores otherwise shows up in
  // every request's latency while it runs. (Linux: a thread id given to
  // setpriority sets that thread's nice value only.)
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kJobNice);
  const bool aggregating = options_.aggregate_interval > absl::ZeroDuration();
  absl::Time next_aggregate = absl::Now();  // once at start, then per interval
  const bool settling = options_.floor_interval > absl::ZeroDuration();
  absl::Time next_settle = absl::Now();
  while (true) {
    absl::Time now = absl::Now();
    bool aggregate = aggregating && now >= next_aggregate;
    if (aggregate) next_aggregate = now + options_.aggregate_interval;
    bool settle = settling && now >= next_settle;
    if (settle) next_settle = now + options_.floor_interval;
    Pass(aggregate, settle);
    absl::Duration wait = options_.sweep_interval;
    if (aggregating) {
      wait = std::min(
          wait, std::max(absl::ZeroDuration(), next_aggregate - absl::Now()));
    }
    if (settling) {
      wait = std::min(
          wait, std::max(absl::ZeroDuration(), next_settle - absl::Now()));
    }
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait);
    if (stopping_) return;
  }
}

}  // namespace tessera::jobs
