// Integration-test harness: runs the real `tessera serve` binary as a child
// process on loopback (SQLite or PostgreSQL) and talks to it over HTTP.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tessera/http/client.h"

namespace tessera::integration {

using nlohmann::json;

enum class Backend { kSqlite, kPostgres };

std::string BackendName(const ::testing::TestParamInfo<Backend>& info);
void PrintTo(Backend backend, std::ostream* os);

// Every server the fixture starts gets this request body limit (through a
// --config file), small enough that oversize requests are cheap to send.
inline constexpr int64_t kBodyLimitBytes = 256 * 1024;

// The test image written into every server's media root, and its size.
inline constexpr char kImagePath[] = "img/street.png";
inline constexpr int kImageWidth = 64;
inline constexpr int kImageHeight = 48;

// A valid grayscale PNG of `width` x `height` (uncompressed deflate blocks).
std::string MakePng(int width, int height);

// One `tessera serve` child process. Its stdout and stderr go to a log file.
// The destructor stops it (SIGTERM, then SIGKILL after a few seconds).
class ServerProcess {
 public:
  struct Options {
    std::string binary;  // path of the tessera executable
    std::string db_url;
    std::string media_dir;
    std::string config_file;  // --config, may be empty
    std::string log_file;
    std::vector<std::pair<std::string, std::string>> env;  // added to ours
  };

  // Starts the server on a free 127.0.0.1 port and waits (up to ~15 s) until
  // GET /healthz answers 200. Retries with another port if the chosen one was
  // taken in the meantime. On failure the process is gone and the error
  // message includes its log.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(Options options);

  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  const std::string& log_file() const { return options_.log_file; }

  // SIGTERM, wait up to 5 s, then SIGKILL; reaps the child. Idempotent.
  void Stop();
  // SIGKILL now (a crash, as far as the database can tell); reaps the child.
  void Kill();
  // The captured stdout and stderr so far.
  std::string Log() const;

 private:
  explicit ServerProcess(Options options) : options_(std::move(options)) {}
  absl::Status Launch(uint16_t port);
  // Polls /healthz; fails when the child exits or the deadline passes.
  absl::Status WaitHealthy();
  // Non-blocking: true (and reaps) when the child has exited.
  bool Exited();

  Options options_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// Runs `argv` (argv[0] is the executable path) to completion with `stdin_data`
// on its standard input. Returns its exit code; `output` receives its stdout
// and stderr.
int RunProcess(const std::vector<std::string>& argv,
               const std::string& stdin_data, std::string& output);

// A response with its body parsed as JSON when it is JSON (else null).
struct ApiResponse {
  int status = 0;  // 0 when the request failed at the transport level
  std::string raw;
  json body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> Header(const std::string& name) const;
  // "HTTP 404 {...}", for assertion messages.
  std::string Describe() const;
};

// An HTTP client for one user (or anonymous), on one server. Not thread-safe:
// give each thread its own.
class ApiClient {
 public:
  ApiClient(uint16_t port, std::string token = "");

  ApiResponse Send(
      const std::string& method, const std::string& target,
      const std::string& body = "",
      std::vector<std::pair<std::string, std::string>> headers = {});
  ApiResponse Get(const std::string& target) { return Send("GET", target); }
  ApiResponse Post(
      const std::string& target, const json& body,
      std::vector<std::pair<std::string, std::string>> headers = {}) {
    return Send("POST", target, body.dump(), std::move(headers));
  }
  ApiResponse Delete(const std::string& target) {
    return Send("DELETE", target);
  }

  const std::string& token() const { return token_; }
  void set_token(std::string token) { token_ = std::move(token); }
  uint16_t port() const { return port_; }

 private:
  uint16_t port_;
  std::string token_;
  http::HttpClient client_;
};

// True when `r` is an error with the API's error shape
// {"error":{"code":string,"message":string,"field":string|null}}.
::testing::AssertionResult IsApiError(const ApiResponse& r);
// IsApiError, with HTTP `status` and error field `field` (nullopt: null).
::testing::AssertionResult IsApiError(const ApiResponse& r, int status,
                                      std::optional<std::string> field);

// The fixture: a temp dir, a fresh database (SQLite file or a new PostgreSQL
// database), a first admin created with `tessera user add`, and one running
// server. Every server started is stopped in TearDown; its log is printed
// when the test failed.
class ServerFixture : public ::testing::Test {
 protected:
  virtual Backend backend() const = 0;

  void SetUp() override;
  void TearDown() override;

  // Starts another `tessera serve` on the same database.
  ServerProcess* StartServer();
  ServerProcess& server(size_t i = 0) { return *servers_.at(i); }

  ApiClient Anonymous(size_t server_index = 0) {
    return ApiClient(server(server_index).port());
  }
  // Logs in; fails the test (and returns an anonymous client) on error.
  ApiClient Login(const std::string& username, const std::string& password,
                  size_t server_index = 0);
  // Creates a user through POST /api/v1/users (as admin) and logs it in.
  ApiClient CreateUser(const std::string& username,
                       const std::vector<std::string>& roles);
  ApiClient& admin() { return *admin_; }

  // Workflow helpers. Each fails the test on an unexpected status and then
  // returns 0 / null, so callers ASSERT on the result.
  int64_t CreateProject(ApiClient& requester, int64_t budget_minor);
  // `pool` is the pool body; missing name/price are filled in.
  int64_t CreatePool(ApiClient& requester, int64_t project, json pool);
  int64_t CreateBboxPool(ApiClient& requester, int64_t project,
                         int64_t price_minor, int overlap = 1,
                         int lease_seconds = 600);
  // `tasks` are {data, gold?} objects (a vector, so that one task is not
  // mistaken for the list by brace initialisation).
  bool AddTasks(ApiClient& requester, int64_t pool,
                const std::vector<json>& tasks);
  bool OpenPool(ApiClient& requester, int64_t pool);
  json PoolStats(ApiClient& requester, int64_t pool);
  // Task data of an image task pointing at the test image.
  static json ImageTask(const std::string& note = "");
  // A valid bbox result for the test image.
  static json BoxResult(const std::string& label = "person", int x = 1);

  static constexpr char kPassword[] = "correct-horse-battery";

  std::string tmp_dir_;
  std::string media_dir_;
  std::string db_url_;
  std::string config_file_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
  std::unique_ptr<ApiClient> admin_;

 private:
  bool pg_created_ = false;
};

// The parameterised form: one suite per backend.
class IntegrationTest : public ServerFixture,
                        public ::testing::WithParamInterface<Backend> {
 protected:
  Backend backend() const override { return GetParam(); }
};

}  // namespace tessera::integration
