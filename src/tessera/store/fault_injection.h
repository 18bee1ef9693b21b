// A Store wrapper for tests that fails chosen write transactions, either before
// they run or after their function ran but before they commit, to prove that
// nothing acknowledged is lost and nothing rejected is kept.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "tessera/store/store.h"

namespace tessera::store {

enum class WriteFault {
  // The transaction is refused with kUnavailable before its function runs.
  kFailBeforeRun,
  // The function runs; if it succeeds the transaction is rolled back anyway
  // and the caller gets kUnavailable, as if the process died before COMMIT.
  kFailBeforeCommit,
};

// Implements Store over `base`, which it does not own and which must outlive
// it. Write transactions (TxMode::kWrite) are numbered 1, 2, ... in the order
// Run is called; a fault armed for a number hits that call once (a backend
// retry of the same call sees the same fault). Reads pass through untouched.
// Thread-safe.
class FaultInjectingStore final : public Store {
 public:
  explicit FaultInjectingStore(Store& base);

  // Arms `fault` for the `n`-th write transaction from now (n = 1: the next
  // one). Several faults may be armed at once. Requires n >= 1.
  void FailWrite(int n, WriteFault fault);
  // Disarms every fault not yet hit.
  void Clear();
  // Write transactions started through this store so far.
  int64_t writes() const;
  // Faults that have hit a transaction so far.
  int64_t injected() const;

  absl::Status Run(TxMode mode,
                   absl::FunctionRef<absl::Status(Tx&)> fn) override;
  // Numbered and failed like Run's writes (kFailBeforeRun: `done` gets the
  // error at once, on the calling thread).
  bool RunWriteAsync(std::function<absl::Status(Tx&)> fn,
                     std::function<void(absl::Status)> done) override;
  bool async_writes() const override { return base_.async_writes(); }
  absl::Status Migrate() override { return base_.Migrate(); }
  int LatestVersion() const override { return base_.LatestVersion(); }
  absl::StatusOr<int> CurrentVersion() override {
    return base_.CurrentVersion();
  }
  absl::string_view backend() const override { return base_.backend(); }
  void Close() override { base_.Close(); }

 private:
  // Numbers the next write; the fault armed for it, if any (disarmed).
  std::optional<WriteFault> NextWrite();

  Store& base_;
  mutable absl::Mutex mu_;
  int64_t writes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t injected_ ABSL_GUARDED_BY(mu_) = 0;
  // Absolute write number → fault.
  absl::flat_hash_map<int64_t, WriteFault> armed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera::store
