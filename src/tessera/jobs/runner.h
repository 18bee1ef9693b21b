// Background jobs of `tessera serve`: the lease sweep (expired claims go back
// to their pool), scheduled pool releases, per-pool quality aggregation and
// hourly-floor top-ups of ended weeks (idempotent: one row per pool,
// annotator and week).
// Safe to run in several server processes over one PostgreSQL: each pass is
// one transaction, expired claims are taken with SKIP LOCKED, and a quality
// snapshot another process has already written is skipped.
#pragma once

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tessera/service/service.h"

namespace tessera::jobs {

struct RunnerOptions {
  // Lease sweep and scheduled releases.
  absl::Duration sweep_interval = absl::Seconds(5);
  // How often pools whose submissions changed get a new quality snapshot
  // (Service::AggregateStalePools); zero or negative disables the job.
  absl::Duration aggregate_interval = absl::Seconds(60);
  // How often ended weeks of pools with an hourly floor are settled
  // (Service::SettleEndedFloorWeeks); zero or negative disables the job.
  absl::Duration floor_interval = absl::Minutes(10);
};

// Runs the jobs on one thread until Stop(). Thread-safe.
class Runner {
 public:
  // `service` must outlive the runner. `on_error` receives failed passes
  // (they are retried at the next interval).
  Runner(service::Service& service, RunnerOptions options,
         std::function<void(const absl::Status&)> on_error = nullptr);
  ~Runner();
  void Start();
  // Wakes the thread, waits for the pass in progress, joins. Idempotent.
  void Stop();
  // One pass of every job, on the caller's thread; returns rows changed.
  int RunOnce();

 private:
  void Loop();
  // One pass of the sweep and release jobs, plus aggregation and the
  // hourly-floor settlement when asked.
  int Pass(bool aggregate, bool settle_floor = false);

  service::Service& service_;
  RunnerOptions options_;
  std::function<void(const absl::Status&)> on_error_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tessera::jobs
