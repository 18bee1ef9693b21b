// Child-process management and HTTP helpers for the integration tests.
#include "tests/integration/server_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tessera/store/postgres/pg_test_util.h"

extern char** environ;

namespace tessera::integration {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kStartTimeout = std::chrono::seconds(15);
constexpr auto kStopGrace = std::chrono::seconds(5);

// A port that was free a moment ago: bind 127.0.0.1:0 and read it back.
absl::StatusOr<uint16_t> FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    return absl::InternalError(absl::StrCat("bind: ", std::strerror(err)));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

// argv/envp arrays built before fork(), so the child only calls
// async-signal-safe functions.
struct ExecArgs {
  std::vector<std::string> storage;
  std::vector<char*> argv;
  std::vector<std::string> env_storage;
  std::vector<char*> envp;

  ExecArgs(const std::vector<std::string>& args,
           const std::vector<std::pair<std::string, std::string>>& extra_env)
      : storage(args) {
    for (auto& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry = *e;
      bool overridden = false;
      for (const auto& [k, v] : extra_env) {
        overridden = overridden || absl::StartsWith(entry, k + "=");
      }
      if (!overridden) env_storage.push_back(entry);
    }
    for (const auto& [k, v] : extra_env) env_storage.push_back(k + "=" + v);
    for (auto& s : env_storage) envp.push_back(s.data());
    envp.push_back(nullptr);
  }
};

uint32_t Crc32(const std::string& data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void PutBe32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
  }
}

void PngChunk(std::string& out, const char* type, const std::string& data) {
  PutBe32(out, static_cast<uint32_t>(data.size()));
  std::string body = std::string(type, 4) + data;
  out += body;
  PutBe32(out, Crc32(body));
}

}  // namespace

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

void PrintTo(Backend backend, std::ostream* os) {
  *os << (backend == Backend::kSqlite ? "sqlite" : "postgres");
}

std::string MakePng(int width, int height) {
  // Raw scanlines (filter byte 0, then a gradient), stored in a zlib stream
  // of uncompressed deflate blocks.
  std::string raw;
  for (int y = 0; y < height; ++y) {
    raw.push_back('\0');
    for (int x = 0; x < width; ++x) {
      raw.push_back(static_cast<char>((x * 4 + y * 2) & 0xFF));
    }
  }
  std::string z = "\x78\x01";
  for (size_t pos = 0; pos < raw.size() || pos == 0;) {
    size_t n = std::min<size_t>(raw.size() - pos, 65535);
    bool last = pos + n >= raw.size();
    z.push_back(last ? '\x01' : '\x00');
    z.push_back(static_cast<char>(n & 0xFF));
    z.push_back(static_cast<char>(n >> 8));
    z.push_back(static_cast<char>(~n & 0xFF));
    z.push_back(static_cast<char>((~n >> 8) & 0xFF));
    z.append(raw, pos, n);
    pos += n;
    if (last) break;
  }
  uint32_t a = 1, b = 0;
  for (unsigned char c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  PutBe32(z, (b << 16) | a);

  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  PutBe32(ihdr, width);
  PutBe32(ihdr, height);
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // 8-bit gray, no interlace
  PngChunk(png, "IHDR", ihdr);
  PngChunk(png, "IDAT", z);
  PngChunk(png, "IEND", "");
  return png;
}

// ------------------------------------------------------------ ServerProcess

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    Options options) {
  std::unique_ptr<ServerProcess> server(new ServerProcess(std::move(options)));
  absl::Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto port = FreePort();
    if (!port.ok()) return port.status();
    last = server->Launch(*port);
    if (last.ok()) last = server->WaitHealthy();
    if (last.ok()) return server;
    server->Stop();
  }
  return absl::UnavailableError(absl::StrCat(
      "tessera serve did not become healthy: ", last.message(), "\n--- log ",
      server->options_.log_file, " ---\n", server->Log()));
}

ServerProcess::~ServerProcess() { Stop(); }

absl::Status ServerProcess::Launch(uint16_t port) {
  port_ = port;
  std::vector<std::string> args = {
      options_.binary, "serve",           "--db",
      options_.db_url, "--listen",        absl::StrCat("127.0.0.1:", port),
      "--media",       options_.media_dir};
  if (!options_.config_file.empty()) {
    args.push_back("--config");
    args.push_back(options_.config_file);
  }
  ExecArgs exec(args, options_.env);
  int log = ::open(options_.log_file.c_str(),
                   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    return absl::InternalError(
        absl::StrCat("open ", options_.log_file, ": ", std::strerror(errno)));
  }
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // Die with the test process, whatever happens to it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execve(exec.argv[0], exec.argv.data(), exec.envp.data());
    ::_exit(127);
  }
  ::close(log);
  pid_ = pid;
  return absl::OkStatus();
}

bool ServerProcess::Exited() {
  if (pid_ <= 0) return true;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    pid_ = -1;
    return true;
  }
  return false;
}

absl::Status ServerProcess::WaitHealthy() {
  const auto deadline = Clock::now() + kStartTimeout;
  while (Clock::now() < deadline) {
    if (Exited()) return absl::UnavailableError("the server exited");
    http::HttpClient client("127.0.0.1", port_);
    auto r = client.Send("GET", "/healthz");
    if (r.ok() && r->status == 200) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError("no healthy /healthz within 15 s");
}

void ServerProcess::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + kStopGrace;
  while (Clock::now() < deadline) {
    if (Exited()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill();
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string ServerProcess::Log() const { return ReadFile(options_.log_file); }

int RunProcess(const std::vector<std::string>& argv,
               const std::string& stdin_data, std::string& output) {
  ExecArgs exec(argv, {});
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return -1;
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return -1;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::execve(exec.argv[0], exec.argv.data(), exec.envp.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  if (pid < 0) {
    ::close(in[1]);
    ::close(out[0]);
    return -1;
  }
  // The input is one short line: it fits the pipe buffer, so writing it all
  // before reading cannot deadlock.
  size_t written = 0;
  while (written < stdin_data.size()) {
    ssize_t n = ::write(in[1], stdin_data.data() + written,
                        stdin_data.size() - written);
    if (n <= 0 && errno != EINTR) break;
    if (n > 0) written += static_cast<size_t>(n);
  }
  ::close(in[1]);
  char buf[4096];
  while (true) {
    ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n > 0) {
      output.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// -------------------------------------------------------------- ApiClient

std::optional<std::string> ApiResponse::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

std::string ApiResponse::Describe() const {
  std::string shown = raw.size() > 600 ? raw.substr(0, 600) + "..." : raw;
  return absl::StrCat("HTTP ", status, " ", shown);
}

ApiClient::ApiClient(uint16_t port, std::string token)
    : port_(port), token_(std::move(token)), client_("127.0.0.1", port) {}

ApiResponse ApiClient::Send(
    const std::string& method, const std::string& target,
    const std::string& body,
    std::vector<std::pair<std::string, std::string>> headers) {
  if (!token_.empty()) {
    headers.emplace_back("Authorization", absl::StrCat("Bearer ", token_));
  }
  ApiResponse out;
  auto r = client_.Send(method, target, body, std::move(headers));
  if (!r.ok()) {
    out.raw = std::string(r.status().message());
    return out;
  }
  out.status = r->status;
  out.raw = std::move(r->body);
  out.headers = std::move(r->headers);
  out.body = json::parse(out.raw, nullptr, /*allow_exceptions=*/false);
  if (out.body.is_discarded()) out.body = nullptr;
  return out;
}

::testing::AssertionResult IsApiError(const ApiResponse& r) {
  if (r.status < 400) {
    return ::testing::AssertionFailure() << "not an error: " << r.Describe();
  }
  const json& b = r.body;
  if (!b.is_object() || !b.contains("error") || !b["error"].is_object()) {
    return ::testing::AssertionFailure()
           << "no {\"error\":{...}} body: " << r.Describe();
  }
  const json& e = b["error"];
  if (!e.contains("code") || !e["code"].is_string() ||
      e["code"].get<std::string>().empty() || !e.contains("message") ||
      !e["message"].is_string() || !e.contains("field") ||
      !(e["field"].is_string() || e["field"].is_null())) {
    return ::testing::AssertionFailure()
           << "error body lacks code/message/field: " << r.Describe();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsApiError(const ApiResponse& r, int status,
                                      std::optional<std::string> field) {
  if (r.status != status) {
    return ::testing::AssertionFailure()
           << "want HTTP " << status << ", got " << r.Describe();
  }
  auto shape = IsApiError(r);
  if (!shape) return shape;
  const json& f = r.body["error"]["field"];
  if (!field) {
    if (!f.is_null()) {
      return ::testing::AssertionFailure()
             << "want field null, got " << r.Describe();
    }
  } else if (!f.is_string() || f.get<std::string>() != *field) {
    return ::testing::AssertionFailure()
           << "want field \"" << *field << "\", got " << r.Describe();
  }
  return ::testing::AssertionSuccess();
}

// ------------------------------------------------------------ ServerFixture

void ServerFixture::SetUp() {
  if (backend() == Backend::kPostgres && store::postgres::ShouldSkipPgTests()) {
    GTEST_SKIP() << "TESSERA_SKIP_PG=1";
  }
  char tmpl[] = "/tmp/tessera-integration.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr) << std::strerror(errno);
  tmp_dir_ = tmpl;
  media_dir_ = tmp_dir_ + "/media";
  WriteFile(absl::StrCat(media_dir_, "/", kImagePath),
            MakePng(kImageWidth, kImageHeight));
  config_file_ = tmp_dir_ + "/tessera.toml";
  WriteFile(
      config_file_,
      absl::StrCat("[server]\nbody_limit_bytes = ", kBodyLimitBytes, "\n"));

  if (backend() == Backend::kSqlite) {
    db_url_ = absl::StrCat("sqlite://", tmp_dir_, "/tessera.db");
  } else {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    auto url = store::postgres::CreateTestDatabase(
        absl::StrCat("integ_", info->name()).substr(0, 30));
    ASSERT_TRUE(url.ok()) << url.status();
    db_url_ = *url;
    pg_created_ = true;
  }

  std::string output;
  int code =
      RunProcess({TESSERA_BINARY, "user", "add", "--db", db_url_, "--username",
                  "admin", "--role", "admin", "--password-stdin"},
                 absl::StrCat(kPassword, "\n"), output);
  ASSERT_EQ(code, 0) << "tessera user add failed:\n" << output;

  ASSERT_NE(StartServer(), nullptr);
  admin_ = std::make_unique<ApiClient>(Login("admin", kPassword));
  ASSERT_FALSE(admin_->token().empty());
}

void ServerFixture::TearDown() {
  for (auto it = servers_.rbegin(); it != servers_.rend(); ++it) (*it)->Stop();
  if (HasFailure()) {
    for (size_t i = 0; i < servers_.size(); ++i) {
      std::cerr << "--- tessera serve #" << i << " log ("
                << servers_[i]->log_file() << ") ---\n"
                << servers_[i]->Log() << "--- end of log ---\n";
    }
  }
  servers_.clear();
  if (pg_created_) store::postgres::DropTestDatabase(db_url_);
  if (!tmp_dir_.empty() && !HasFailure()) {
    std::error_code ec;
    fs::remove_all(tmp_dir_, ec);
  } else if (!tmp_dir_.empty()) {
    std::cerr << "kept " << tmp_dir_ << " for inspection\n";
  }
}

ServerProcess* ServerFixture::StartServer() {
  ServerProcess::Options o;
  o.binary = TESSERA_BINARY;
  o.db_url = db_url_;
  o.media_dir = media_dir_;
  o.config_file = config_file_;
  o.log_file = absl::StrCat(tmp_dir_, "/server-", servers_.size(), ".log");
  o.env = {{"TESSERA_LEASE_SWEEP_SECONDS", "1"}};
  auto server = ServerProcess::Start(o);
  if (!server.ok()) {
    ADD_FAILURE() << server.status().message();
    return nullptr;
  }
  servers_.push_back(std::move(*server));
  return servers_.back().get();
}

ApiClient ServerFixture::Login(const std::string& username,
                               const std::string& password,
                               size_t server_index) {
  ApiClient anon = Anonymous(server_index);
  auto r = anon.Post("/api/v1/auth/login",
                     {{"username", username}, {"password", password}});
  if (r.status != 200 || !r.body.contains("token")) {
    ADD_FAILURE() << "login " << username << ": " << r.Describe();
    return anon;
  }
  return ApiClient(server(server_index).port(),
                   r.body["token"].get<std::string>());
}

ApiClient ServerFixture::CreateUser(const std::string& username,
                                    const std::vector<std::string>& roles) {
  auto r = admin().Post(
      "/api/v1/users",
      {{"username", username}, {"password", kPassword}, {"roles", roles}});
  if (r.status != 201) {
    ADD_FAILURE() << "create user " << username << ": " << r.Describe();
  }
  return Login(username, kPassword);
}

int64_t ServerFixture::CreateProject(ApiClient& requester,
                                     int64_t budget_minor) {
  auto r = requester.Post(
      "/api/v1/projects",
      {{"name", "Street scenes"},
       {"description", "integration test project"},
       {"guidelines", "Box every person and car."},
       {"budget", {{"amount_minor", budget_minor}, {"currency", "CNY"}}}});
  if (r.status != 201 || !r.body.contains("id")) {
    ADD_FAILURE() << "create project: " << r.Describe();
    return 0;
  }
  return r.body["id"].get<int64_t>();
}

int64_t ServerFixture::CreatePool(ApiClient& requester, int64_t project,
                                  json pool) {
  if (!pool.contains("name")) pool["name"] = "pool";
  if (!pool.contains("price")) {
    pool["price"] = {{"amount_minor", 100}, {"currency", "CNY"}};
  }
  auto r = requester.Post(absl::StrCat("/api/v1/projects/", project, "/pools"),
                          pool);
  if (r.status != 201 || !r.body.contains("id")) {
    ADD_FAILURE() << "create pool: " << r.Describe();
    return 0;
  }
  return r.body["id"].get<int64_t>();
}

int64_t ServerFixture::CreateBboxPool(ApiClient& requester, int64_t project,
                                      int64_t price_minor, int overlap,
                                      int lease_seconds) {
  return CreatePool(
      requester, project,
      {{"name", "boxes"},
       {"task_type", "bbox"},
       {"config", {{"labels", {"person", "car"}}}},
       {"price", {{"amount_minor", price_minor}, {"currency", "CNY"}}},
       {"overlap", overlap},
       {"lease_seconds", lease_seconds},
       {"max_rounds", 3}});
}

bool ServerFixture::AddTasks(ApiClient& requester, int64_t pool,
                             const std::vector<json>& tasks) {
  auto r = requester.Post(absl::StrCat("/api/v1/pools/", pool, "/tasks"),
                          {{"tasks", json(tasks)}});
  if (r.status != 201) {
    ADD_FAILURE() << "add tasks: " << r.Describe();
    return false;
  }
  return true;
}

bool ServerFixture::OpenPool(ApiClient& requester, int64_t pool) {
  auto r = requester.Post(absl::StrCat("/api/v1/pools/", pool, "/open"),
                          json::object());
  if (r.status != 200 || r.body.value("state", "") != "open") {
    ADD_FAILURE() << "open pool: " << r.Describe();
    return false;
  }
  return true;
}

json ServerFixture::PoolStats(ApiClient& requester, int64_t pool) {
  auto r = requester.Get(absl::StrCat("/api/v1/pools/", pool, "/stats"));
  if (r.status != 200) {
    ADD_FAILURE() << "pool stats: " << r.Describe();
    return nullptr;
  }
  return r.body;
}

json ServerFixture::ImageTask(const std::string& note) {
  json data = {
      {"image", kImagePath}, {"width", kImageWidth}, {"height", kImageHeight}};
  if (!note.empty()) data["note"] = note;
  return {{"data", data}};
}

json ServerFixture::BoxResult(const std::string& label, int x) {
  return {{"boxes",
           {{{"label", label}, {"x", x}, {"y", 2}, {"w", 10}, {"h", 20}}}}};
}

}  // namespace tessera::integration
