// FaultInjectingStore: numbered write transactions, some made to fail.
#include "tessera/store/fault_injection.h"

#include <cstdlib>
#include <optional>

namespace tessera::store {

FaultInjectingStore::FaultInjectingStore(Store& base) : base_(base) {}

void FaultInjectingStore::FailWrite(int n, WriteFault fault) {
  if (n < 1) std::abort();  // a bug in the test, not an expected failure
  absl::MutexLock lock(&mu_);
  armed_[writes_ + n] = fault;
}

void FaultInjectingStore::Clear() {
  absl::MutexLock lock(&mu_);
  armed_.clear();
}

int64_t FaultInjectingStore::writes() const {
  absl::MutexLock lock(&mu_);
  return writes_;
}

int64_t FaultInjectingStore::injected() const {
  absl::MutexLock lock(&mu_);
  return injected_;
}

absl::Status FaultInjectingStore::Run(TxMode mode,
                                      absl::FunctionRef<absl::Status(Tx&)> fn) {
  if (mode != TxMode::kWrite) return base_.Run(mode, fn);
  std::optional<WriteFault> fault;
  {
    absl::MutexLock lock(&mu_);
    const int64_t number = ++writes_;
    if (auto it = armed_.find(number); it != armed_.end()) {
      fault = it->second;
      armed_.erase(it);
      ++injected_;
    }
  }
  if (!fault) return base_.Run(mode, fn);
  if (*fault == WriteFault::kFailBeforeRun) {
    return absl::UnavailableError(
        "injected fault: write refused before it ran");
  }
  // kUnavailable, not kAborted: the backend must not retry, only roll back.
  return base_.Run(mode, [&](Tx& tx) -> absl::Status {
    absl::Status status = fn(tx);
    if (!status.ok()) return status;
    return absl::UnavailableError("injected fault: died before commit");
  });
}

}  // namespace tessera::store
