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

namespace {

absl::Status RefusedBeforeRun() {
  return absl::UnavailableError("injected fault: write refused before it ran");
}

// kUnavailable, not kAborted: the backend must not retry, only roll back.
absl::Status DiedBeforeCommit(absl::Status fn_status) {
  if (!fn_status.ok()) return fn_status;
  return absl::UnavailableError("injected fault: died before commit");
}

}  // namespace

std::optional<WriteFault> FaultInjectingStore::NextWrite() {
  absl::MutexLock lock(&mu_);
  const int64_t number = ++writes_;
  auto it = armed_.find(number);
  if (it == armed_.end()) return std::nullopt;
  WriteFault fault = it->second;
  armed_.erase(it);
  ++injected_;
  return fault;
}

absl::Status FaultInjectingStore::Run(TxMode mode,
                                      absl::FunctionRef<absl::Status(Tx&)> fn) {
  if (mode != TxMode::kWrite) return base_.Run(mode, fn);
  std::optional<WriteFault> fault = NextWrite();
  if (!fault) return base_.Run(mode, fn);
  if (*fault == WriteFault::kFailBeforeRun) return RefusedBeforeRun();
  return base_.Run(mode, [&](Tx& tx) { return DiedBeforeCommit(fn(tx)); });
}

bool FaultInjectingStore::RunWriteAsync(
    std::function<absl::Status(Tx&)> fn,
    std::function<void(absl::Status)> done) {
  if (!base_.async_writes()) return false;
  std::optional<WriteFault> fault = NextWrite();
  if (fault == WriteFault::kFailBeforeRun) {
    done(RefusedBeforeRun());
    return true;
  }
  if (fault == WriteFault::kFailBeforeCommit) {
    fn = [fn = std::move(fn)](Tx& tx) { return DiedBeforeCommit(fn(tx)); };
  }
  return base_.RunWriteAsync(std::move(fn), std::move(done));
}

}  // namespace tessera::store
