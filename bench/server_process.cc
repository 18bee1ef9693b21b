// Starting, watching and stopping `tessera serve` for the benchmarks.
#include "server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tessera/http/client.h"

namespace tessera::bench {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Describe(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("signal ", WTERMSIG(status));
  return absl::StrCat("status ", status);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const std::string& binary, const std::vector<std::string>& args,
    const std::string& log_path, absl::Duration timeout) {
  std::vector<std::string> argv_s = {binary, "serve", "--listen",
                                     "127.0.0.1:0"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  int log_fd =
      open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", log_path));
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    // The server must not outlive the load generator.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(log_fd);
  std::unique_ptr<ServerProcess> p(new ServerProcess(pid, log_path));
  auto until =
      std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(timeout);
  const std::string marker = "serving on http://127.0.0.1:";
  while (std::chrono::steady_clock::now() < until) {
    std::string log = ReadFile(log_path);
    size_t at = log.find(marker);
    if (at != std::string::npos) {
      size_t start = at + marker.size();
      size_t end = start;
      while (end < log.size() &&
             isdigit(static_cast<unsigned char>(log[end]))) {
        ++end;
      }
      int port = 0;
      if (absl::SimpleAtoi(log.substr(start, end - start), &port) && port > 0) {
        p->port_ = static_cast<uint16_t>(port);
        return p;
      }
    }
    if (!p->Alive()) {
      return absl::InternalError(absl::StrCat(
          "tessera serve exited (", p->exit_, ") before serving:\n", log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "tessera serve did not report its port; log:\n", ReadFile(log_path)));
}

ServerProcess::~ServerProcess() { Stop(); }

bool ServerProcess::Alive() {
  if (reaped_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    exit_ = Describe(status);
    return false;
  }
  return true;
}

ServerProcess::Memory ServerProcess::ReadMemory() const {
  Memory m;
  std::string status = ReadFile(absl::StrCat("/proc/", pid_, "/status"));
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    auto field = [&](absl::string_view name, int64_t& out) {
      if (absl::ConsumePrefix(&line, name)) {
        line = absl::StripAsciiWhitespace(line);
        absl::ConsumeSuffix(&line, "kB");
        (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &out);
      }
    };
    field("VmRSS:", m.rss_kib);
    field("VmHWM:", m.hwm_kib);
    field("RssAnon:", m.anon_kib);
  }
  return m;
}

double ServerProcess::CpuSeconds() const {
  std::string stat = ReadFile(absl::StrCat("/proc/", pid_, "/stat"));
  // Fields after the parenthesised command name; utime and stime are the
  // 14th and 15th fields of the whole line.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> f =
      absl::StrSplit(stat.substr(close + 2), ' ', absl::SkipEmpty());
  int64_t utime = 0, stime = 0;
  if (f.size() < 13 || !absl::SimpleAtoi(f[11], &utime) ||
      !absl::SimpleAtoi(f[12], &stime)) {
    return 0;
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

void ServerProcess::Stop() {
  if (!Alive()) return;
  kill(pid_, SIGTERM);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < until) {
    if (!Alive()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  reaped_ = true;
  exit_ = absl::StrCat(Describe(status), " (SIGKILL after SIGTERM timed out)");
}

absl::StatusOr<MetricsSnapshot> ScrapeMetrics(uint16_t port) {
  http::HttpClient client("127.0.0.1", port);
  auto resp = client.Send("GET", "/metrics");
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) {
    return absl::InternalError(
        absl::StrCat("/metrics answered ", resp->status));
  }
  MetricsSnapshot snap;
  for (absl::string_view line : absl::StrSplit(resp->body, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    if (space == absl::string_view::npos) continue;
    absl::string_view series = line.substr(0, space);
    double value = 0;
    if (!absl::SimpleAtod(line.substr(space + 1), &value)) continue;
    size_t brace = series.find('{');
    absl::string_view name = series.substr(0, brace);
    absl::string_view labels =
        brace == absl::string_view::npos ? "" : series.substr(brace);
    std::map<std::string, double>* target = nullptr;
    if (absl::ConsumeSuffix(&name, "_sum")) target = &snap.sum;
    if (absl::ConsumeSuffix(&name, "_count")) target = &snap.count;
    if (target == nullptr) continue;
    (*target)[absl::StrCat(name, labels)] = value;
  }
  return snap;
}

MeanDelta Delta(const MetricsSnapshot& before, const MetricsSnapshot& after,
                const std::string& key) {
  auto get = [&key](const std::map<std::string, double>& m) {
    auto it = m.find(key);
    return it == m.end() ? 0.0 : it->second;
  };
  MeanDelta d;
  d.count = get(after.count) - get(before.count);
  double sum = get(after.sum) - get(before.sum);
  d.mean_seconds = d.count > 0 ? sum / d.count : 0;
  return d;
}

}  // namespace tessera::bench
