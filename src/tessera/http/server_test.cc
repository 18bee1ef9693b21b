// Server over real loopback sockets: round trips, keep-alive, limits,
// malformed input, concurrency, graceful stop, timeouts and metrics.
#include "tessera/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tessera/http/client.h"
#include "tessera/http/router.h"

namespace tessera::http {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A blocking POSIX socket for sending raw (possibly malformed) bytes.
class RawConn {
 public:
  explicit RawConn(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConn() { close(fd_); }
  bool connected() const { return connected_; }

  void Send(absl::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(n);
    }
  }

  struct Read {
    std::string data;
    bool closed = false;  // the peer closed (EOF or reset)
  };
  // Reads until the peer closes or `timeout` passes.
  Read ReadUntilClose(absl::Duration timeout) {
    Read out;
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      int ms =
          static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now())) +
          1;
      if (poll(&p, 1, ms) <= 0) break;
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        out.closed = true;
        break;
      }
      out.data.append(buf, n);
    }
    return out;
  }
  // Reads one response with a Content-Length (or until close).
  std::string ReadResponse(absl::Duration timeout = absl::Seconds(5)) {
    std::string data;
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      size_t header_end = data.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        size_t length = 0;
        std::string lower = data.substr(0, header_end);
        for (char& c : lower) c = static_cast<char>(std::tolower(c));
        size_t cl = lower.find("content-length: ");
        if (cl != std::string::npos) {
          size_t end = lower.find("\r\n", cl);
          (void)absl::SimpleAtoi(lower.substr(cl + 16, end - cl - 16), &length);
        }
        if (data.size() >= header_end + 4 + length) return data;
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      data.append(buf, n);
    }
    return data;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::unique_ptr<Server> MustStart(ServerOptions options, Handler handler,
                                  Metrics* metrics = nullptr,
                                  InlineDispatch inline_dispatch = nullptr) {
  options.port = 0;
  auto server = Server::Start(std::move(options), std::move(handler), metrics,
                              std::move(inline_dispatch));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

Router& TestRouter() {
  static Router* router = [] {
    auto* r = new Router;
    r->Add("GET", "/hello/{name}", [](Request& req) {
      return Response::Json(200, {{"name", *req.Param("name")},
                                  {"q", req.Query("q").value_or("")},
                                  {"path", req.path}});
    });
    r->Add("POST", "/echo", [](Request& req) {
      Response resp = Response::Text(
          201, req.body, req.Header("content-type").value_or("none"));
      resp.headers.emplace_back("X-Method", req.method);
      return resp;
    });
    r->Add("GET", "/peer",
           [](Request& req) { return Response::Text(200, req.remote_addr); });
    r->Add("DELETE", "/thing", [](Request&) { return Response::NoContent(); });
    // 3 MB from an unlinked temp file, streamed by the server.
    r->Add("GET", "/file", [](Request&) {
      char path[] = "/tmp/tessera-server-test-XXXXXX";
      int fd = mkstemp(path);
      if (fd < 0) return Response::Text(500, "mkstemp");
      unlink(path);
      std::string chunk;
      for (int i = 0; i < 1000; ++i) chunk += absl::StrCat(i % 10);
      for (int i = 0; i < 3000; ++i) {
        if (write(fd, chunk.data(), chunk.size()) !=
            static_cast<ssize_t>(chunk.size())) {
          close(fd);
          return Response::Text(500, "write");
        }
      }
      Response resp;
      resp.content_type = "application/octet-stream";
      resp.file = std::make_shared<BodyFile>(fd);
      return resp;
    });
    return r;
  }();
  return *router;
}

Handler RouterHandler() {
  return [](Request& req) { return TestRouter().Dispatch(req); };
}

ServerOptions SmallOptions() {
  ServerOptions o;
  o.io_threads = 2;
  o.worker_threads = 4;
  return o;
}

TEST(HttpServerTest, RoundTripGetAndPost) {
  auto server = MustStart(SmallOptions(), RouterHandler());
  ASSERT_NE(server, nullptr);
  ASSERT_NE(server->port(), 0);
  HttpClient client("127.0.0.1", server->port());

  auto get = client.Send("GET", "/hello/w%C3%B6rld?q=a+b%26c");
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->Header("server"), "tessera");
  EXPECT_EQ(get->Header("Content-Type"), "application/json");
  EXPECT_EQ(get->Header("content-length"), absl::StrCat(get->body.size()));
  auto body = nlohmann::json::parse(get->body);
  EXPECT_EQ(body["name"], "w\xC3\xB6rld");
  EXPECT_EQ(body["q"], "a b&c");
  EXPECT_EQ(body["path"], "/hello/w\xC3\xB6rld");

  std::string payload(100000, 'x');
  auto post = client.Send("POST", "/echo", payload);
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->status, 201);
  EXPECT_EQ(post->body, payload);
  EXPECT_EQ(post->Header("content-type"), "application/json");
  EXPECT_EQ(post->Header("x-method"), "POST");

  auto typed = client.Send("POST", "/echo", "hi", {{"Content-Type", "text/x"}});
  ASSERT_TRUE(typed.ok());
  EXPECT_EQ(typed->Header("content-type"), "text/x");

  auto del = client.Send("DELETE", "/thing");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->status, 204);
  EXPECT_EQ(del->body, "");

  auto missing = client.Send("GET", "/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing->body)["error"]["code"], "not_found");

  auto wrong = client.Send("PUT", "/echo", "{}");
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->Header("allow"), "POST");
  EXPECT_EQ(client.connections_opened(), 1);
}

TEST(HttpServerTest, HeadHasLengthButNoBody) {
  auto server = MustStart(SmallOptions(), RouterHandler());
  ASSERT_NE(server, nullptr);
  HttpClient client("127.0.0.1", server->port());
  auto get = client.Send("GET", "/hello/x");
  ASSERT_TRUE(get.ok());
  RawConn conn(server->port());
  conn.Send("HEAD /hello/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  RawConn::Read r = conn.ReadUntilClose(absl::Seconds(5));
  EXPECT_TRUE(r.closed);
  EXPECT_THAT(r.data, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r.data, HasSubstr(absl::StrCat(
                          "Content-Length: ", get->body.size(), "\r\n")));
  EXPECT_TRUE(absl::EndsWith(r.data, "\r\n\r\n")) << r.data;
}

TEST(HttpServerTest, FileBodiesStreamWholeAndKeepTheConnection) {
  auto server = MustStart(SmallOptions(), RouterHandler());
  ASSERT_NE(server, nullptr);
  HttpClient client("127.0.0.1", server->port());
  for (int round = 0; round < 2; ++round) {
    auto r = client.Send("GET", "/file");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->Header("content-type"), "application/octet-stream");
    ASSERT_EQ(r->body.size(), 3'000'000u);
    EXPECT_EQ(r->body.substr(0, 12), "012345678901");
    EXPECT_EQ(r->body.substr(r->body.size() - 3), "789");
  }
  auto after = client.Send("GET", "/hello/x");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(client.connections_opened(), 1);

  RawConn conn(server->port());
  conn.Send("HEAD /file HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  RawConn::Read head = conn.ReadUntilClose(absl::Seconds(5));
  EXPECT_THAT(head.data, HasSubstr("Content-Length: 3000000\r\n"));
  EXPECT_TRUE(absl::EndsWith(head.data, "\r\n\r\n")) << head.data;
}

TEST(HttpServerTest, KeepAliveReusesOneConnection) {
  auto server = MustStart(SmallOptions(), RouterHandler());
  ASSERT_NE(server, nullptr);
  HttpClient client("127.0.0.1", server->port());
  std::set<std::string> peers;
  for (int i = 0; i < 100; ++i) {
    auto r = client.Send("GET", "/peer");
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->status, 200);
    peers.insert(r->body);
  }
  EXPECT_EQ(client.connections_opened(), 1);
  EXPECT_EQ(peers.size(), 1u);
}

TEST(HttpServerTest, Http10AndConnectionCloseCloseAfterResponse) {
  auto server = MustStart(SmallOptions(), RouterHandler());
  ASSERT_NE(server, nullptr);
  {
    RawConn conn(server->port());
    conn.Send("GET /hello/a HTTP/1.0\r\n\r\n");
    RawConn::Read r = conn.ReadUntilClose(absl::Seconds(5));
    EXPECT_TRUE(r.closed);
    EXPECT_THAT(r.data, StartsWith("HTTP/1.0 200 OK\r\n"));
  }
  {
    RawConn conn(server->port());
    conn.Send("GET /hello/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    RawConn::Read r = conn.ReadUntilClose(absl::Seconds(5));
    EXPECT_TRUE(r.closed);
    EXPECT_THAT(r.data, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_THAT(r.data, HasSubstr("Connection: close\r\n"));
  }
  {
    // HTTP/1.0 with keep-alive stays open for a second request.
    RawConn conn(server->port());
    conn.Send("GET /hello/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_THAT(conn.ReadResponse(), StartsWith("HTTP/1.0 200 OK\r\n"));
    conn.Send("GET /hello/b HTTP/1.0\r\n\r\n");
    RawConn::Read r = conn.ReadUntilClose(absl::Seconds(5));
    EXPECT_THAT(r.data, HasSubstr("\"name\":\"b\""));
    EXPECT_TRUE(r.closed);
  }
}

TEST(HttpServerTest, OversizeBodyGets413AndClose) {
  ServerOptions options = SmallOptions();
  options.body_limit = 1024;
  auto server = MustStart(options, RouterHandler());
  ASSERT_NE(server, nullptr);
  HttpClient client("127.0.0.1", server->port());
  auto ok = client.Send("POST", "/echo", std::string(1024, 'a'));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 201);
  auto big = client.Send("POST", "/echo", std::string(4096, 'a'));
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(big->Header("connection"), "close");
  EXPECT_EQ(nlohmann::json::parse(big->body)["error"]["code"],
            "payload_too_large");
  // The client reconnects for the next request.
  auto after = client.Send("GET", "/hello/x");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(client.connections_opened(), 2);
}

TEST(HttpServerTest, MalformedRequestsGet400AndClose) {
  auto server = MustStart(SmallOptions(), RouterHandler());
  ASSERT_NE(server, nullptr);
  for (const char* raw : {
           "GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
           "GARBAGE\r\n\r\n",
           "GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n",
           "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
       }) {
    SCOPED_TRACE(raw);
    RawConn conn(server->port());
    conn.Send(raw);
    RawConn::Read r = conn.ReadUntilClose(absl::Seconds(5));
    EXPECT_TRUE(r.closed);
    EXPECT_THAT(r.data, StartsWith("HTTP/1.1 400 Bad Request\r\n"));
    EXPECT_THAT(r.data, HasSubstr("\"code\":\"bad_request\""));
  }
}

TEST(HttpServerTest, ExpectContinueIsAnswered) {
  auto server = MustStart(SmallOptions(), RouterHandler());
  ASSERT_NE(server, nullptr);
  RawConn conn(server->port());
  conn.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
      "Expect: 100-continue\r\nContent-Type: text/plain\r\n\r\n");
  RawConn::Read interim = conn.ReadUntilClose(absl::Milliseconds(500));
  EXPECT_EQ(interim.data, "HTTP/1.1 100 Continue\r\n\r\n");
  conn.Send("hello");
  std::string resp = conn.ReadResponse();
  EXPECT_THAT(resp, StartsWith("HTTP/1.1 201 Created\r\n"));
  EXPECT_TRUE(absl::EndsWith(resp, "\r\n\r\nhello"));
}

TEST(HttpServerTest, HandlerExceptionWithoutRouterIs500) {
  auto server = MustStart(SmallOptions(), [](Request&) -> Response {
    throw std::runtime_error("boom");
  });
  ASSERT_NE(server, nullptr);
  HttpClient client("127.0.0.1", server->port());
  auto r = client.Send("GET", "/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  // The connection survives.
  auto r2 = client.Send("GET", "/");
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(client.connections_opened(), 1);
}

TEST(HttpServerTest, FiveHundredConcurrentConnections) {
  constexpr int kThreads = 10;
  constexpr int kPerThread = 50;
  Metrics metrics;
  ServerOptions options;
  options.io_threads = 2;
  options.worker_threads = 8;
  auto server = MustStart(options, RouterHandler(), &metrics);
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();

  std::barrier sync(kThreads + 1);
  std::atomic<int> ok{0};
  std::atomic<int> reused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<HttpClient> clients;
      for (int i = 0; i < kPerThread; ++i)
        clients.emplace_back("127.0.0.1", port);
      for (int i = 0; i < kPerThread; ++i) {
        auto r = clients[i].Send("GET", absl::StrCat("/hello/c", t, "_", i));
        if (r.ok() && r->status == 200 &&
            absl::StrContains(r->body, absl::StrCat("c", t, "_", i))) {
          ++ok;
        }
      }
      sync.arrive_and_wait();  // all 500 connections are open
      sync.arrive_and_wait();  // the main thread has checked the gauge
      for (auto& client : clients) {
        auto r = client.Send("POST", "/echo", "{}");
        if (r.ok() && r->status == 201 && client.connections_opened() == 1) {
          ++reused;
        }
      }
    });
  }
  sync.arrive_and_wait();
  EXPECT_THAT(metrics.Render(), HasSubstr("tessera_http_connections 500\n"));
  sync.arrive_and_wait();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(reused.load(), kThreads * kPerThread);
}

TEST(HttpServerTest, StopDeliversInFlightResponseAndClosesIdleConnections) {
  absl::Notification started;
  auto server = MustStart(SmallOptions(), [&](Request& req) {
    if (req.path == "/slow") {
      started.Notify();
      absl::SleepFor(absl::Milliseconds(400));
      return Response::Text(200, "slow done");
    }
    return Response::Text(200, "fast");
  });
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();

  RawConn idle(port);  // keep-alive connection between requests
  idle.Send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_THAT(idle.ReadResponse(), HasSubstr("fast"));

  absl::StatusOr<ClientResponse> slow;
  std::thread client([&] {
    HttpClient c("127.0.0.1", port);
    slow = c.Send("GET", "/slow");
  });
  started.WaitForNotification();
  absl::Time before = absl::Now();
  server->Stop();
  absl::Duration took = absl::Now() - before;
  client.join();
  ASSERT_TRUE(slow.ok()) << slow.status();
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ(slow->body, "slow done");
  EXPECT_EQ(slow->Header("connection"), "close");
  EXPECT_LT(took, absl::Seconds(5));
  EXPECT_TRUE(idle.ReadUntilClose(absl::Seconds(2)).closed);
  RawConn late(port);
  EXPECT_FALSE(late.connected());
  server->Stop();  // idempotent
}

TEST(HttpServerTest, IdleAndHeaderTimeoutsCloseConnections) {
  ServerOptions options = SmallOptions();
  options.idle_timeout = absl::Milliseconds(200);
  options.header_timeout = absl::Milliseconds(300);
  auto server = MustStart(options, RouterHandler());
  ASSERT_NE(server, nullptr);

  RawConn idle(server->port());
  idle.Send("GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(idle.ReadResponse(), StartsWith("HTTP/1.1 200 OK"));
  absl::Time start = absl::Now();
  EXPECT_TRUE(idle.ReadUntilClose(absl::Seconds(3)).closed);
  absl::Duration waited = absl::Now() - start;
  EXPECT_GE(waited, absl::Milliseconds(150));
  EXPECT_LT(waited, absl::Seconds(2));

  RawConn never(server->port());  // connects but sends nothing
  EXPECT_TRUE(never.ReadUntilClose(absl::Seconds(3)).closed);

  RawConn partial(server->port());
  partial.Send("GET /hello/a HTTP/1.1\r\nHost");  // never finishes
  start = absl::Now();
  RawConn::Read r = partial.ReadUntilClose(absl::Seconds(3));
  EXPECT_TRUE(r.closed);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(HttpServerTest, RecordsMetrics) {
  Metrics metrics;
  auto server = MustStart(SmallOptions(), RouterHandler(), &metrics);
  ASSERT_NE(server, nullptr);
  HttpClient client("127.0.0.1", server->port());
  ASSERT_TRUE(client.Send("GET", "/hello/a").ok());
  ASSERT_TRUE(client.Send("GET", "/hello/b").ok());
  ASSERT_TRUE(client.Send("GET", "/missing").ok());
  // Metrics are recorded before the response is written.
  std::string out = metrics.Render();
  EXPECT_THAT(out, HasSubstr("# TYPE tessera_http_requests_total counter\n"));
  EXPECT_THAT(out, HasSubstr("tessera_http_requests_total{method=\"GET\","
                             "route=\"/hello/{name}\",status=\"200\"} 2\n"));
  EXPECT_THAT(out, HasSubstr("tessera_http_requests_total{method=\"GET\","
                             "route=\"unmatched\",status=\"404\"} 1\n"));
  EXPECT_THAT(out, HasSubstr("tessera_http_request_duration_seconds_count{"
                             "route=\"/hello/{name}\"} 2\n"));
  EXPECT_THAT(out, HasSubstr("tessera_http_request_duration_seconds_bucket{"
                             "route=\"/hello/{name}\",le=\"+Inf\"} 2\n"));
  EXPECT_THAT(out, HasSubstr("tessera_http_connections 1\n"));
  client.Close();
  server->Stop();
  EXPECT_THAT(metrics.Render(), HasSubstr("tessera_http_connections 0\n"));
}

// The name of the calling thread ("http-io", "http-worker", ...).
std::string ThreadName() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof(name));
  return name;
}

// Routes with asynchronous forms: the server offers a request to the
// inline handler on its I/O thread, then (declined) on a worker, then runs
// the route's handler; an answer may come later from any thread.
TEST(HttpServerTest, InlineHandlersAnswerFromAnyThreadOrDecline) {
  absl::Mutex mu;
  std::vector<std::thread> later;  // threads answering /later
  Router router;
  router.Add(
      "POST", "/later/{n}",
      [](Request&) { return Response::Text(500, "handler ran"); },
      [&](Request& req, const std::shared_ptr<Responder>& respond,
          bool may_block) {
        EXPECT_FALSE(may_block);
        EXPECT_EQ(respond->route, "/later/{n}");
        const std::string n = *req.Param("n");
        const std::string body = req.body;
        const std::string io_thread = ThreadName();
        absl::MutexLock lock(&mu);
        later.emplace_back([respond, n, body, io_thread] {
          absl::SleepFor(absl::Milliseconds(20));
          respond->Post([respond, n, body, io_thread] {
            respond->Send(Response::Json(201, {{"n", n},
                                               {"body", body},
                                               {"taken_on", io_thread},
                                               {"made_on", ThreadName()}}));
          });
        });
        return true;
      });
  router.Add(
      "POST", "/reads",
      [](Request&) { return Response::Text(500, "handler ran"); },
      [](Request&, const std::shared_ptr<Responder>& respond, bool may_block) {
        if (!may_block) return false;  // would read: not on the I/O thread
        respond->Send(Response::Text(200, ThreadName()));
        return true;
      });
  router.Add(
      "POST", "/declines",
      [](Request&) { return Response::Text(200, "handler ran"); },
      [](Request&, const std::shared_ptr<Responder>&, bool) { return false; });
  router.Add("GET", "/plain",
             [](Request&) { return Response::Text(200, ThreadName()); });
  Metrics metrics;
  auto server = MustStart(
      SmallOptions(), [&](Request& req) { return router.Dispatch(req); },
      &metrics,
      [&](Request& req, const std::shared_ptr<Responder>& respond,
          bool may_block) {
        return router.DispatchInline(req, respond, may_block);
      });
  ASSERT_NE(server, nullptr);
  HttpClient client("127.0.0.1", server->port());  // one keep-alive connection
  for (int i = 0; i < 3; ++i) {
    auto r = client.Send("POST", absl::StrCat("/later/", i), "payload");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 201);
    auto j = nlohmann::json::parse(r->body);
    EXPECT_EQ(j["n"], absl::StrCat(i));
    EXPECT_EQ(j["body"], "payload");
    EXPECT_EQ(j["taken_on"], "http-io");
    EXPECT_EQ(j["made_on"], "http-io");
  }
  auto reads = client.Send("POST", "/reads");
  ASSERT_TRUE(reads.ok()) << reads.status();
  EXPECT_EQ(reads->status, 200);
  EXPECT_EQ(reads->body, "http-worker");
  auto declines = client.Send("POST", "/declines");
  ASSERT_TRUE(declines.ok()) << declines.status();
  EXPECT_EQ(declines->body, "handler ran");
  auto plain = client.Send("GET", "/plain");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->body, "http-worker");
  auto missing = client.Send("GET", "/missing");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->status, 404);
  EXPECT_THAT(metrics.Render(),
              HasSubstr("tessera_http_requests_total{method=\"POST\","
                        "route=\"/later/{n}\",status=\"201\"} 3\n"));
  client.Close();
  server->Stop();
  absl::MutexLock lock(&mu);
  for (std::thread& t : later) t.join();
}

// A request an inline handler took always gets one answer: 500 when the
// handler throws or drops its responder unsent; a second Send is ignored.
TEST(HttpServerTest, InlineHandlerFailuresAnswer500Once) {
  Router router;
  auto never = [](Request&) { return Response::Text(200, "handler ran"); };
  router.Add("POST", "/drops", never,
             [](Request&, const std::shared_ptr<Responder>&, bool) {
               return true;  // took it, never answers
             });
  router.Add("POST", "/throws", never,
             [](Request&, const std::shared_ptr<Responder>&, bool) -> bool {
               throw std::runtime_error("boom");
             });
  router.Add("POST", "/twice", never,
             [](Request&, const std::shared_ptr<Responder>& respond, bool) {
               respond->Send(Response::Text(202, "first"));
               respond->Send(Response::Text(200, "second"));
               return true;
             });
  auto server = MustStart(
      SmallOptions(), [&](Request& req) { return router.Dispatch(req); },
      nullptr,
      [&](Request& req, const std::shared_ptr<Responder>& respond,
          bool may_block) {
        return router.DispatchInline(req, respond, may_block);
      });
  ASSERT_NE(server, nullptr);
  HttpClient client("127.0.0.1", server->port());
  for (const char* path : {"/drops", "/throws"}) {
    auto r = client.Send("POST", path);
    ASSERT_TRUE(r.ok()) << path << ": " << r.status();
    EXPECT_EQ(r->status, 500) << path;
    EXPECT_THAT(r->body, HasSubstr("internal")) << path;
  }
  auto twice = client.Send("POST", "/twice");
  ASSERT_TRUE(twice.ok()) << twice.status();
  EXPECT_EQ(twice->status, 202);
  EXPECT_EQ(twice->body, "first");
  // The connection is still in step: one response per request.
  auto after = client.Send("POST", "/twice");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->body, "first");
}

// Stop() waits for the answer of a request an inline handler took, and
// delivers it, before it stops the I/O threads.
TEST(HttpServerTest, StopWaitsForATakenRequestsAnswer) {
  absl::Mutex mu;
  std::shared_ptr<Responder> held;  // guarded by mu
  auto server = MustStart(
      SmallOptions(), [](Request&) { return Response::Text(200, "handler"); },
      nullptr,
      [&](Request&, const std::shared_ptr<Responder>& respond, bool) {
        absl::MutexLock lock(&mu);
        held = respond;
        return Inline::kTaken;
      });
  ASSERT_NE(server, nullptr);
  absl::StatusOr<ClientResponse> answer;
  std::thread client([&] {
    HttpClient c("127.0.0.1", server->port());
    answer = c.Send("POST", "/anything");
  });
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](std::shared_ptr<Responder>* r) { return *r != nullptr; }, &held));
  }
  absl::Notification stopped;
  std::thread stopper([&] {
    server->Stop();
    stopped.Notify();
  });
  EXPECT_FALSE(stopped.WaitForNotificationWithTimeout(absl::Milliseconds(300)));
  {
    absl::MutexLock lock(&mu);
    held->Send(Response::Text(200, "late answer"));
    held.reset();
  }
  stopper.join();
  client.join();
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, "late answer");
  EXPECT_EQ(answer->Header("connection"), "close");
}

TEST(HttpServerTest, RunUntilSignalReturnsWhenStoppedElsewhere) {
  auto server = MustStart(SmallOptions(), RouterHandler());
  ASSERT_NE(server, nullptr);
  std::atomic<bool> returned{false};
  std::thread runner([&] {
    server->RunUntilSignal();
    returned = true;
  });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(returned.load());
  server->Stop();
  runner.join();
  EXPECT_TRUE(returned.load());
}

TEST(HttpServerTest, BindFailureIsAnError) {
  auto first = MustStart(SmallOptions(), RouterHandler());
  ASSERT_NE(first, nullptr);
  ServerOptions options = SmallOptions();
  options.port = first->port();
  auto second = Server::Start(options, RouterHandler(), nullptr);
  EXPECT_FALSE(second.ok());
}

}  // namespace
}  // namespace tessera::http
