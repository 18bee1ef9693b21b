// Server implementation: an Asio acceptor and one strand per connection doing
// Beast HTTP/1.1 I/O; requests run on a fixed worker pool; graceful Stop().
#include "tessera/http/server.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <deque>
#include <exception>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "tessera/http/error_mapping.h"

namespace tessera::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr int kListenBacklog = 65535;  // the kernel caps it at somaxconn
constexpr size_t kHeaderLimit = 32 << 10;
constexpr size_t kFirstReadSize = 2048;
constexpr std::chrono::seconds kWriteTimeout{30};
constexpr std::chrono::milliseconds kLingerTimeout{500};
constexpr size_t kLingerMaxBytes = 1 << 20;
constexpr absl::Duration kStopGrace = absl::Seconds(10);

constexpr char kRequestsTotal[] = "tessera_http_requests_total";
constexpr char kRequestDuration[] = "tessera_http_request_duration_seconds";
constexpr char kConnections[] = "tessera_http_connections";

std::string ToStd(beast::string_view sv) {
  return std::string(sv.data(), sv.size());
}

// Bounded label values for arbitrary client-sent methods.
std::string MethodLabel(absl::string_view method) {
  static constexpr absl::string_view kKnown[] = {
      "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
  for (absl::string_view m : kKnown) {
    if (m == method) return std::string(m);
  }
  return "OTHER";
}

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

void RaiseFdLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max) {
    return;
  }
  lim.rlim_cur = lim.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    std::cerr << "tessera http: could not raise RLIMIT_NOFILE\n";
  }
}

// A fixed set of threads draining a FIFO queue of tasks.
class WorkerPool {
 public:
  explicit WorkerPool(int threads) {
    threads_.reserve(std::max(threads, 1));
    for (int i = 0; i < std::max(threads, 1); ++i) {
      threads_.emplace_back([this] {
        pthread_setname_np(pthread_self(), "http-worker");
        Loop();
      });
    }
  }
  ~WorkerPool() { Stop(); }

  // Queues `task`; false (task dropped) once Stop() has begun.
  bool Submit(std::function<void()> task) {
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(task));
    return true;
  }

  // Runs the queued tasks, then joins the threads. Idempotent.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void Loop() {
    while (true) {
      std::function<void()> task;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &WorkerPool::Ready));
        if (queue_.empty()) return;  // stopping and drained
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !queue_.empty();
  }

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace

namespace server_internal {
class Connection;
}  // namespace server_internal
using server_internal::Connection;

class Server::Impl {
 public:
  Impl(ServerOptions options, Handler handler, InlineDispatch inline_dispatch,
       Metrics* metrics)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        inline_dispatch_(std::move(inline_dispatch)),
        metrics_(metrics) {
    ioc_.emplace(std::max(options_.io_threads, 1));
  }
  ~Impl() { Stop(); }

  absl::Status Listen();
  void Run();
  void Stop();
  void RunUntilSignal();
  uint16_t port() const { return port_; }

  // Used by Connection.
  const ServerOptions& options() const { return options_; }
  bool stopping() const { return stopping_.load(); }
  bool SubmitWork(std::function<void()> task) {
    return workers_->Submit(std::move(task));
  }
  // Runs the user handler; never throws.
  Response CallHandler(Request& req) const {
    try {
      return handler_(req);
    } catch (const std::exception& e) {
      std::cerr << absl::StrCat("tessera http: handler threw: ", e.what(),
                                "\n");
    } catch (...) {
      std::cerr << "tessera http: handler threw a non-std exception\n";
    }
    return ErrorResponse(500, "internal", "internal error");
  }
  bool has_inline_dispatch() const { return inline_dispatch_ != nullptr; }
  // Runs the inline dispatcher. Counts a request it took as in flight until
  // `respond` sends (EndInline); Stop() waits for that before stopping the
  // I/O threads.
  Inline CallInline(Request& req, const std::shared_ptr<Responder>& respond,
                    bool may_block) {
    inline_pending_.fetch_add(1);
    Inline outcome = Inline::kNone;
    try {
      outcome = inline_dispatch_(req, respond, may_block);
    } catch (...) {
      // It may have started work that answers: answer now (a responder
      // answers once) rather than run the request a second time.
      std::cerr << "tessera http: inline dispatch threw\n";
      respond->Send(ErrorResponse(500, "internal", "internal error"));
      return Inline::kTaken;
    }
    if (outcome != Inline::kTaken) EndInline();
    return outcome;
  }
  void EndInline() {
    if (inline_pending_.fetch_sub(1) == 1 && stopping_.load()) {
      absl::MutexLock lock(&inline_mu_);  // its release wakes Stop()
    }
  }
  void RecordRequest(absl::string_view method, absl::string_view route,
                     int status, std::chrono::steady_clock::duration elapsed) {
    if (metrics_ == nullptr) return;
    std::string route_label = route.empty() ? "unmatched" : std::string(route);
    metrics_->Inc(kRequestsTotal, {{"method", MethodLabel(method)},
                                   {"route", route_label},
                                   {"status", absl::StrCat(status)}});
    metrics_->Observe(kRequestDuration, {{"route", std::move(route_label)}},
                      std::chrono::duration<double>(elapsed).count());
  }
  void Register(const std::shared_ptr<Connection>& conn);
  void Unregister(Connection* conn);

 private:
  void DoAccept();

  const ServerOptions options_;
  const Handler handler_;
  const InlineDispatch inline_dispatch_;
  Metrics* const metrics_;
  std::atomic<bool> stopping_{false};
  uint16_t port_ = 0;

  // Requests taken by the inline dispatcher and not answered yet; Stop()
  // waits on inline_mu_ for none.
  std::atomic<int64_t> inline_pending_{0};
  absl::Mutex inline_mu_;

  absl::Mutex conn_mu_;
  absl::flat_hash_map<Connection*, std::weak_ptr<Connection>> conns_
      ABSL_GUARDED_BY(conn_mu_);

  // Wakes RunUntilSignal when Stop() is called elsewhere.
  absl::Mutex signal_mu_;
  bool stop_requested_ ABSL_GUARDED_BY(signal_mu_) = false;
  net::io_context* signal_ioc_ ABSL_GUARDED_BY(signal_mu_) = nullptr;

  // Serializes Stop(); held for its whole duration.
  absl::Mutex stop_mu_;
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;

  std::optional<WorkerPool> workers_;
  // Optional so that Stop() can destroy them (and any connections their
  // pending handlers own) in order while this object is still whole.
  std::optional<net::io_context> ioc_;
  std::optional<tcp::acceptor> acceptor_;                  // on its own strand
  std::optional<net::steady_timer> accept_retry_;          // same strand
  std::chrono::steady_clock::time_point last_accept_log_;  // same strand
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> io_threads_;
};

namespace server_internal {

// One client connection. Its members are touched only on its strand; worker
// threads post completed responses to it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server::Impl* server, tcp::socket socket)
      : server_(server),
        strand_(socket.get_executor()),
        stream_(std::move(socket)) {}

  ~Connection() { server_->Unregister(this); }

  // Registers with the server and starts reading. Called once, right after
  // construction, from the acceptor's strand.
  void Start() {
    server_->Register(shared_from_this());
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = absl::StrCat(ep.address().to_string(), ":", ep.port());
    stream_.socket().set_option(tcp::no_delay(true), ec);
    net::dispatch(strand_, [self = shared_from_this()] {
      if (self->server_->stopping()) {
        self->Close();
      } else {
        self->WaitForRequest();
      }
    });
  }

  // Graceful stop: closes the connection now if it is between requests or
  // reading one; otherwise the current response is its last.
  void Shutdown() {
    net::post(strand_, [self = shared_from_this()] {
      self->closing_ = true;
      if (self->state_ == State::kIdle || self->state_ == State::kReading) {
        self->Close();
      }
    });
  }

 private:
  enum class State {
    kIdle,
    kReading,
    kHandling,
    kWriting,
    kLingering,
    kClosed
  };

  // Waits (up to idle_timeout) for the first byte of the next request.
  void WaitForRequest() {
    state_ = State::kIdle;
    if (buffer_.size() > 0) {  // a pipelined request is already buffered
      ReadHeader();
      return;
    }
    stream_.expires_after(ToChrono(server_->options().idle_timeout));
    stream_.async_read_some(
        buffer_.prepare(kFirstReadSize),
        [self = shared_from_this()](beast::error_code ec, size_t n) {
          if (ec || self->state_ == State::kClosed) {
            self->Close();
            return;
          }
          self->buffer_.commit(n);
          self->ReadHeader();
        });
  }

  void ReadHeader() {
    state_ = State::kReading;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(server_->options().body_limit);
    stream_.expires_after(ToChrono(server_->options().header_timeout));
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) {
          self->OnHeader(ec);
        });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      OnReadError(ec);
      return;
    }
    if (parser_->is_done()) {
      OnRequest();
      return;
    }
    const auto& header = parser_->get();
    auto expect = header[bhttp::field::expect];
    if (header.version() >= 11 &&
        beast::iequals(expect, beast::string_view("100-continue"))) {
      // Larger uploads (curl) wait for this before sending the body.
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(
          stream_, net::buffer(kContinue, sizeof(kContinue) - 1),
          [self = shared_from_this()](beast::error_code ec, size_t) {
            if (ec) {
              self->Close();
              return;
            }
            self->ReadBody();
          });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) {
            self->OnReadError(ec);
          } else {
            self->OnRequest();
          }
        });
  }

  void OnReadError(beast::error_code ec) {
    if (state_ == State::kClosed || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == bhttp::error::end_of_stream ||
        ec == bhttp::error::partial_message) {
      Close();
      return;
    }
    unsigned version =
        parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
    std::string method = parser_ && parser_->is_header_done()
                             ? ToStd(parser_->get().method_string())
                             : "";
    if (ec == bhttp::error::body_limit) {
      RespondTransportError(
          ErrorResponse(413, "payload_too_large",
                        absl::StrCat("request body exceeds ",
                                     server_->options().body_limit, " bytes")),
          method, version);
    } else if (ec == bhttp::error::header_limit) {
      RespondTransportError(
          ErrorResponse(431, "header_too_large", "request header too large"),
          method, version);
    } else if (ec.category() ==
               bhttp::make_error_code(bhttp::error::bad_method).category()) {
      RespondTransportError(
          ErrorResponse(400, "bad_request",
                        absl::StrCat("malformed HTTP request: ", ec.message())),
          method, version);
    } else {
      Close();  // socket errors: connection reset etc.
    }
  }

  void RespondTransportError(Response resp, const std::string& method,
                             unsigned version) {
    server_->RecordRequest(method, "", resp.status,
                           std::chrono::steady_clock::duration::zero());
    Respond(std::move(resp), version, /*keep_alive=*/false,
            /*head=*/method == "HEAD");
  }

  // A complete request is in parser_: hand it to the worker pool.
  void OnRequest() {
    state_ = State::kHandling;
    bhttp::request<bhttp::string_body> msg = parser_->release();
    parser_.reset();
    if (buffer_.size() == 0 && buffer_.capacity() > 4 * kFirstReadSize) {
      buffer_.shrink_to_fit();  // keep idle connections small
    }
    const unsigned version = msg.version();
    const bool keep_alive = msg.keep_alive();

    Request req;
    req.method = ToStd(msg.method_string());
    req.target = ToStd(msg.target());
    auto target = ParseTarget(req.target);
    if (!target.ok()) {
      RespondTransportError(
          ErrorResponse(
              400, "bad_request",
              absl::StrCat("bad request target: ", target.status().message())),
          req.method, version);
      return;
    }
    req.path = std::move(target->path);
    req.query = std::move(target->query);
    req.headers.reserve(std::distance(msg.begin(), msg.end()));
    for (const auto& field : msg) {
      req.headers.emplace_back(
          absl::AsciiStrToLower(absl::string_view(field.name_string().data(),
                                                  field.name_string().size())),
          ToStd(field.value()));
    }
    req.body = std::move(msg.body());
    req.remote_addr = remote_;

    const auto start = std::chrono::steady_clock::now();
    const bool head = req.method == "HEAD";
    std::shared_ptr<InlineResponder> respond;
    if (server_->has_inline_dispatch()) {
      respond = std::make_shared<InlineResponder>(
          shared_from_this(), req.method, version, keep_alive, head, start);
      switch (server_->CallInline(req, respond, /*may_block=*/false)) {
        case Inline::kTaken:
          respond->Taken();
          return;
        case Inline::kDeclined:
          break;  // offered again on the worker
        case Inline::kNone:
          respond.reset();
          break;
      }
    }
    auto task = [self = shared_from_this(), req = std::move(req), version,
                 keep_alive, head, start,
                 respond = std::move(respond)]() mutable {
      if (respond &&
          self->server_->CallInline(req, respond,
                                    /*may_block=*/true) == Inline::kTaken) {
        respond->Taken();
        return;
      }
      respond.reset();
      Response resp = self->server_->CallHandler(req);
      self->server_->RecordRequest(req.method, req.route, resp.status,
                                   std::chrono::steady_clock::now() - start);
      net::post(self->strand_, [self, resp = std::move(resp), version,
                                keep_alive, head]() mutable {
        self->Respond(std::move(resp), version, keep_alive, head);
      });
    };
    if (!server_->SubmitWork(std::move(task))) {
      Respond(ErrorResponse(503, "unavailable", "server is stopping"), version,
              /*keep_alive=*/false, head);
    }
  }

  // Writes `resp`; then reads the next request or closes.
  void Respond(Response resp, unsigned version, bool keep_alive, bool head) {
    if (state_ == State::kClosed) return;
    state_ = State::kWriting;
    const bool keep = keep_alive && !closing_ && !server_->stopping();
    res_ = {};
    res_.version(version);
    res_.result(static_cast<unsigned>(resp.status));
    res_.set(bhttp::field::server, "tessera");
    const bool no_body = resp.status == 204 || resp.status == 304 ||
                         (resp.status >= 100 && resp.status < 200);
    if (!no_body && !resp.content_type.empty()) {
      res_.set(bhttp::field::content_type, resp.content_type);
    }
    for (auto& [name, value] : resp.headers) res_.insert(name, value);
    res_.keep_alive(keep);
    if (!no_body && resp.file && !head) {
      RespondWithFile(std::move(resp), keep);
      return;
    }
    if (!no_body && resp.file) {
      // HEAD: the Content-Length a GET would send, no body.
      struct stat st {};
      res_.content_length(::fstat(resp.file->fd(), &st) == 0
                              ? static_cast<uint64_t>(st.st_size)
                              : 0);
    } else if (!no_body) {
      res_.content_length(resp.body.size());
      if (!head) res_.body() = std::move(resp.body);
    }
    stream_.expires_after(kWriteTimeout);
    bhttp::async_write(
        stream_, res_,
        [self = shared_from_this(), keep](beast::error_code ec, size_t) {
          self->res_ = {};
          self->AfterWrite(ec, keep);
        });
  }

  void AfterWrite(beast::error_code ec, bool keep) {
    if (ec) {
      Close();
    } else if (!keep || closing_) {
      LingeringClose();
    } else {
      WaitForRequest();
    }
  }

  // Streams resp.file (headers already in res_). Each write of a chunk gets
  // its own timeout, so a long download is bounded per chunk, not in total.
  void RespondWithFile(Response resp, bool keep) {
    beast::error_code ec;
    beast::file file;
    int fd = ::dup(resp.file->fd());
    if (fd >= 0) {
      file.native_handle(fd);
      file.seek(0, ec);
    }
    file_res_.emplace();
    file_res_->base() = res_.base();
    if (fd >= 0 && !ec) file_res_->body().reset(std::move(file), ec);
    if (fd < 0 || ec) {
      file_res_.reset();
      Respond(ErrorResponse(500, "internal", "could not read the response"),
              res_.version(), /*keep_alive=*/false, /*head=*/false);
      return;
    }
    file_res_->prepare_payload();
    file_sr_.emplace(*file_res_);
    WriteFileChunk(keep);
  }

  void WriteFileChunk(bool keep) {
    stream_.expires_after(kWriteTimeout);
    bhttp::async_write_some(
        stream_, *file_sr_,
        [self = shared_from_this(), keep](beast::error_code ec, size_t) {
          if (!ec && !self->file_sr_->is_done()) {
            self->WriteFileChunk(keep);
            return;
          }
          self->file_sr_.reset();
          self->file_res_.reset();
          self->AfterWrite(ec, keep);
        });
  }

  // Half-closes, then discards what the peer still sends (briefly) so that the
  // response is not lost to a TCP reset over unread request data.
  void LingeringClose() {
    state_ = State::kLingering;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      Close();
      return;
    }
    buffer_.clear();
    stream_.expires_after(kLingerTimeout);
    Linger();
  }

  void Linger() {
    stream_.async_read_some(
        buffer_.prepare(kFirstReadSize),
        [self = shared_from_this()](beast::error_code ec, size_t n) {
          self->lingered_ += n;
          if (ec || self->lingered_ > kLingerMaxBytes) {
            self->Close();
          } else {
            self->buffer_.clear();
            self->Linger();
          }
        });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  // Answers a request the inline dispatcher took, on the connection's
  // strand.
  class InlineResponder final : public Responder {
   public:
    InlineResponder(std::shared_ptr<Connection> conn, std::string method,
                    unsigned version, bool keep_alive, bool head,
                    std::chrono::steady_clock::time_point start)
        : conn_(std::move(conn)),
          method_(std::move(method)),
          version_(version),
          keep_alive_(keep_alive),
          head_(head),
          start_(start) {}
    // A taken request always gets an answer.
    ~InlineResponder() override {
      if (taken_ && !sent_.load()) {
        std::cerr << absl::StrCat("tessera http: no response for ", method_,
                                  " ", route, "\n");
        Send(ErrorResponse(500, "internal", "internal error"));
      }
    }
    // The inline dispatcher took the request (kTaken).
    void Taken() { taken_ = true; }

    void Post(std::function<void()> fn) override {
      net::post(conn_->strand_, std::move(fn));
    }
    void Send(Response resp) override {
      if (sent_.exchange(true)) {
        std::cerr << absl::StrCat("tessera http: second response for ", method_,
                                  " ", route, " dropped\n");
        return;
      }
      Server::Impl* server = conn_->server_;
      net::dispatch(conn_->strand_, [conn = conn_, resp = std::move(resp),
                                     method = method_, route = route,
                                     version = version_,
                                     keep_alive = keep_alive_, head = head_,
                                     start = start_]() mutable {
        conn->server_->RecordRequest(method, route, resp.status,
                                     std::chrono::steady_clock::now() - start);
        conn->Respond(std::move(resp), version, keep_alive, head);
      });
      server->EndInline();
    }

   private:
    const std::shared_ptr<Connection> conn_;
    const std::string method_;
    const unsigned version_;
    const bool keep_alive_;
    const bool head_;
    const std::chrono::steady_clock::time_point start_;
    // Set by the thread that offered the request, while it still holds a
    // reference (so before the destructor can run).
    bool taken_ = false;
    std::atomic<bool> sent_{false};
  };

  Server::Impl* const server_;
  const net::any_io_executor strand_;  // the socket's strand
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> res_;
  std::optional<bhttp::response<bhttp::file_body>> file_res_;
  std::optional<bhttp::response_serializer<bhttp::file_body>> file_sr_;
  State state_ = State::kIdle;
  bool closing_ = false;  // no further requests on this connection
  size_t lingered_ = 0;
  std::string remote_;
};

}  // namespace server_internal

void Server::Impl::Register(const std::shared_ptr<Connection>& conn) {
  absl::MutexLock lock(&conn_mu_);
  conns_.emplace(conn.get(), conn);
  if (metrics_ != nullptr) {
    metrics_->Set(kConnections, {}, static_cast<double>(conns_.size()));
  }
}

void Server::Impl::Unregister(Connection* conn) {
  absl::MutexLock lock(&conn_mu_);
  conns_.erase(conn);
  if (metrics_ != nullptr) {
    metrics_->Set(kConnections, {}, static_cast<double>(conns_.size()));
  }
}

absl::Status Server::Impl::Listen() {
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(options_.host, ec);
  if (ec) {
    tcp::resolver resolver(*ioc_);
    auto results = resolver.resolve(options_.host, "", ec);
    if (ec || results.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot resolve host '", options_.host, "': ", ec.message()));
    }
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(address, options_.port);
  acceptor_.emplace(net::make_strand(*ioc_));
  accept_retry_.emplace(acceptor_->get_executor());
  auto fail = [&](absl::string_view what) {
    return absl::UnavailableError(absl::StrCat(
        what, " ", options_.host, ":", options_.port, ": ", ec.message()));
  };
  acceptor_->open(endpoint.protocol(), ec);
  if (ec) return fail("cannot open socket for");
  acceptor_->set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return fail("cannot set SO_REUSEADDR on");
  acceptor_->bind(endpoint, ec);
  if (ec) return fail("cannot bind");
  acceptor_->listen(kListenBacklog, ec);
  if (ec) return fail("cannot listen on");
  port_ = acceptor_->local_endpoint(ec).port();
  if (ec) return fail("cannot read the bound port of");
  return absl::OkStatus();
}

void Server::Impl::Run() {
  if (metrics_ != nullptr) {
    metrics_->Describe(kRequestsTotal, "counter",
                       "HTTP requests by method, route and status.");
    metrics_->Describe(kRequestDuration, "histogram",
                       "Time from a request being read to its response "
                       "being ready, by route.");
    metrics_->Describe(kConnections, "gauge", "Open HTTP connections.");
    metrics_->Set(kConnections, {}, 0);
  }
  workers_.emplace(options_.worker_threads);
  work_.emplace(ioc_->get_executor());
  net::dispatch(acceptor_->get_executor(), [this] { DoAccept(); });
  for (int i = 0; i < std::max(options_.io_threads, 1); ++i) {
    io_threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "http-io");
      ioc_->run();
    });
  }
}

void Server::Impl::DoAccept() {
  acceptor_->async_accept(
      net::make_strand(*ioc_), [this](beast::error_code ec, tcp::socket sock) {
        if (stopping_.load() || !acceptor_->is_open()) return;
        if (ec) {
          // Typically EMFILE: back off instead of spinning; log at most
          // once a second.
          auto now = std::chrono::steady_clock::now();
          if (now - last_accept_log_ >= std::chrono::seconds(1)) {
            last_accept_log_ = now;
            std::cerr << absl::StrCat(
                "tessera http: accept failed: ", ec.message(), "\n");
          }
          accept_retry_->expires_after(std::chrono::milliseconds(50));
          accept_retry_->async_wait([this](beast::error_code ec) {
            if (!ec && !stopping_.load()) DoAccept();
          });
          return;
        }
        std::make_shared<Connection>(this, std::move(sock))->Start();
        DoAccept();
      });
}

void Server::Impl::Stop() {
  {
    absl::MutexLock lock(&signal_mu_);
    stop_requested_ = true;
    if (signal_ioc_ != nullptr) signal_ioc_->stop();
  }
  absl::MutexLock stop_lock(&stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  if (io_threads_.empty()) {  // never started
    acceptor_.reset();
    accept_retry_.reset();
    ioc_.reset();
    return;
  }
  net::post(acceptor_->get_executor(), [this] {
    beast::error_code ec;
    acceptor_->close(ec);
    accept_retry_->cancel();
  });
  std::vector<std::shared_ptr<Connection>> live;
  {
    absl::MutexLock lock(&conn_mu_);
    for (auto& [ptr, weak] : conns_) {
      if (auto conn = weak.lock()) live.push_back(std::move(conn));
    }
  }
  for (auto& conn : live) conn->Shutdown();
  live.clear();
  {
    absl::MutexLock lock(&conn_mu_);
    conn_mu_.AwaitWithTimeout(
        absl::Condition(
            +[](decltype(conns_)* c) { return c->empty(); }, &conns_),
        kStopGrace);
  }
  workers_->Stop();  // waits for handlers still running
  {
    // Requests the inline dispatcher took: their answers are posted to the
    // I/O threads, which must still run.
    absl::MutexLock lock(&inline_mu_);
    inline_mu_.Await(absl::Condition(
        +[](std::atomic<int64_t>* n) { return n->load() == 0; },
        &inline_pending_));
  }
  work_.reset();
  ioc_->stop();
  for (std::thread& t : io_threads_) t.join();
  // Destroys pending handlers, and with them any connections left.
  accept_retry_.reset();
  acceptor_.reset();
  ioc_.reset();
}

void Server::Impl::RunUntilSignal() {
  {
    net::io_context signal_ioc;
    net::signal_set signals(signal_ioc, SIGINT, SIGTERM);
    signals.async_wait([](beast::error_code, int) {});
    bool wait = false;
    {
      absl::MutexLock lock(&signal_mu_);
      if (!stop_requested_) {
        signal_ioc_ = &signal_ioc;
        wait = true;
      }
    }
    if (wait) {
      signal_ioc.run();  // returns on a signal or when Stop() stops it
      absl::MutexLock lock(&signal_mu_);
      signal_ioc_ = nullptr;
    }
  }
  Stop();
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    ServerOptions options, Handler handler, Metrics* metrics,
    InlineDispatch inline_dispatch) {
  if (!handler) return absl::InvalidArgumentError("server needs a handler");
  RaiseFdLimit();
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler),
                                     std::move(inline_dispatch), metrics);
  if (absl::Status s = impl->Listen(); !s.ok()) return s;
  impl->Run();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const { return impl_->port(); }

void Server::Stop() { impl_->Stop(); }

void Server::RunUntilSignal() { impl_->RunUntilSignal(); }

}  // namespace tessera::http
