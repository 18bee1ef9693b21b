// A `tessera serve` child process for the benchmarks: started on a free
// 127.0.0.1 port, its memory read from /proc, always stopped (SIGTERM, then
// SIGKILL) when the object goes away.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tessera::bench {

class ServerProcess {
 public:
  // Runs `binary serve --listen 127.0.0.1:0 <args>` with stdout and stderr
  // appended to `log_path`, and waits (up to `timeout`) for its "serving on"
  // line to learn the port. The child gets SIGKILL if this process dies.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const std::string& binary, const std::vector<std::string>& args,
      const std::string& log_path, absl::Duration timeout);

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess();  // Stop()

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // False once the process has exited (reaps it).
  bool Alive();
  // Exit description once stopped, e.g. "exit 0" or "signal 9".
  const std::string& exit_description() const { return exit_; }

  // VmRSS, VmHWM and RssAnon of the process in KiB (0 when unreadable).
  // RssAnon leaves out the mapped libraries (OpenCV and what it links pull
  // in ~40 MiB of shared, clean pages at start-up).
  struct Memory {
    int64_t rss_kib = 0;
    int64_t hwm_kib = 0;
    int64_t anon_kib = 0;
  };
  Memory ReadMemory() const;
  // User + system CPU seconds the process has used so far.
  double CpuSeconds() const;

  // SIGTERM, wait up to 15 s, then SIGKILL. Idempotent.
  void Stop();

 private:
  ServerProcess(pid_t pid, std::string log_path)
      : pid_(pid), log_path_(std::move(log_path)) {}
  pid_t pid_;
  std::string log_path_;
  uint16_t port_ = 0;
  bool reaped_ = false;
  std::string exit_;
};

// Histogram sums and counts scraped from the server's /metrics, keyed by
// "name{labels}" (labels as rendered, without "le").
struct MetricsSnapshot {
  std::map<std::string, double> sum;
  std::map<std::string, double> count;
};
absl::StatusOr<MetricsSnapshot> ScrapeMetrics(uint16_t port);
// Mean seconds of `key` between two snapshots, and how many observations.
struct MeanDelta {
  double mean_seconds = 0;
  double count = 0;
};
MeanDelta Delta(const MetricsSnapshot& before, const MetricsSnapshot& after,
                const std::string& key);

}  // namespace tessera::bench
