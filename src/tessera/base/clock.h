// Clock: the injected source of "now". Domain code takes `now` as a parameter;
// services and jobs read it from a Clock so tests can move time on purpose.
#pragma once

#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tessera {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// Wall-clock time. Thread-safe.
class RealClock final : public Clock {
 public:
  absl::Time Now() const override;
};

// A clock that only moves when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000));
  absl::Time Now() const override;
  void Advance(absl::Duration d);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

// RFC 3339 UTC with seconds, e.g. "2026-11-29T08:00:00Z".
std::string Rfc3339(absl::Time t);
// Parses RFC 3339 (any offset); nullopt on malformed input.
std::optional<absl::Time> ParseRfc3339(absl::string_view s);

}  // namespace tessera
