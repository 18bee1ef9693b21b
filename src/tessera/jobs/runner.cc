// Background job loop.
#include "tessera/jobs/runner.h"

namespace tessera::jobs {

Runner::Runner(service::Service& service, RunnerOptions options,
               std::function<void(const absl::Status&)> on_error)
    : service_(service), options_(options), on_error_(std::move(on_error)) {}

Runner::~Runner() { Stop(); }

void Runner::Start() { thread_ = std::thread([this] { Loop(); }); }

void Runner::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

int Runner::RunOnce() {
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
  return changed;
}

void Runner::Loop() {
  while (true) {
    RunOnce();
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.sweep_interval);
    if (stopping_) return;
  }
}

}  // namespace tessera::jobs
