// Clocks and time formatting.
#include "tessera/base/clock.h"

#include <string>

namespace tessera {

absl::Time RealClock::Now() const { return absl::Now(); }

FakeClock::FakeClock(absl::Time start) : now_(start) {}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void FakeClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::optional<absl::Time> ParseRfc3339(absl::string_view s) {
  std::string err;
  absl::Time t;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(s), &t, &err)) {
    return std::nullopt;
  }
  return t;
}

}  // namespace tessera
