// Async Beast client: one Conn per keep-alive connection, all on one
// io_context (one strand each), driving annotator or reviewer cycles.
#include "http_load.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tessera::bench {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr auto kRequestTimeout = std::chrono::seconds(30);
constexpr auto kRetryDelay = std::chrono::milliseconds(10);

int64_t Micros(SteadyClock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// The id of the object under `key` in a response body, e.g. the claim's id in
// {"claim":{"annotator_id":..,"id":42,..},"task":{..}}. The server renders
// object keys in sorted order, so the first "id" after `key` is that object's.
std::optional<int64_t> ExtractId(const std::string& body,
                                 absl::string_view key) {
  size_t k = body.find(key.data(), 0, key.size());
  if (k == std::string::npos) return std::nullopt;
  size_t p = body.find("\"id\":", k);
  if (p == std::string::npos) return std::nullopt;
  p += 5;
  while (p < body.size() && body[p] == ' ') ++p;
  size_t e = p;
  while (e < body.size() && absl::ascii_isdigit(body[e])) ++e;
  int64_t id = 0;
  if (!absl::SimpleAtoi(absl::string_view(body).substr(p, e - p), &id)) {
    return std::nullopt;
  }
  return id;
}

// State shared by every connection of one run.
struct Run {
  explicit Run(const HttpLoadOptions& o)
      : options(o),
        endpoint(net::ip::make_address_v4("127.0.0.1"), o.port),
        budget(o.max_cycles) {}
  const HttpLoadOptions& options;
  net::io_context ioc;
  const tcp::endpoint endpoint;   // loopback only, by construction
  std::atomic<bool> stop{false};  // no new cycles
  std::atomic<bool> cut{false};   // abandon what is in flight
  std::atomic<int64_t> budget;    // cycles that may still start
  SteadyClock::time_point deadline;
  std::atomic<int> connect_done{0};
  std::atomic<int> connected{0};
  std::atomic<int> finished{0};
};

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(Run& run, std::string token, uint64_t seed)
      : run_(run),
        token_(std::move(token)),
        rng_(seed),
        stream_(net::make_strand(run.ioc)),
        timer_(stream_.get_executor()) {}

  // Opens the connection; counts into run_.connect_done either way.
  void Connect() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->stream_.expires_after(kConnectTimeout);
      self->stream_.async_connect(
          self->run_.endpoint, [self](beast::error_code ec) {
            if (ec) {
              self->open_failed_ = true;
              self->first_.statuses[0]++;
            } else {
              self->stream_.socket().set_option(tcp::no_delay(true), ec);
              self->run_.connected++;
            }
            self->run_.connect_done++;
          });
    });
  }

  void Begin() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->open_failed_) return self->Finish();
      if (self->run_.options.think_ms > 0) return self->Pause(self->Think());
      self->BeginCycle();
    });
  }

  // Abandons the connection (after the grace period).
  void Cut() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->timer_.cancel();
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.close();
    });
  }

  // Read only after the io_context has stopped.
  RequestStats first_, second_;
  Latencies cycle_;
  int64_t cycles_ = 0;
  int64_t empty_ = 0;
  std::map<int, int64_t> errors_;
  std::string sample_error_;

 private:
  bool annotate() const { return run_.options.kind != CycleKind::kReview; }
  bool with_next() const {
    return run_.options.kind == CycleKind::kAnnotateNext;
  }

  void BeginCycle() {
    if (run_.stop || run_.cut) return Finish();
    if (run_.budget.fetch_sub(1) <= 0) return Finish();
    step_ = 0;
    cycle_start_ = SteadyClock::now();
    if (next_claim_) {
      int64_t id = *next_claim_;
      next_claim_.reset();
      return SendSecond(id);
    }
    std::string pool = absl::StrCat(run_.options.pool_id);
    Send(annotate() ? absl::StrCat("/api/v1/pools/", pool, "/claims")
                    : absl::StrCat("/api/v1/pools/", pool, "/review-claims"),
         "", "");
  }

  void SendSecond(int64_t id) {
    step_ = 1;
    if (annotate()) {
      Send(absl::StrCat("/api/v1/claims/", id, "/submit",
                        with_next() ? "?next=1" : ""),
           R"({"result":{"label":"a"},"active_seconds":3})",
           absl::StrCat("bench-", id));
    } else {
      Send(absl::StrCat("/api/v1/submissions/", id, "/review"),
           R"({"verdict":"accept"})", "");
    }
  }

  void Send(std::string target, std::string body, std::string key) {
    req_ = {};
    req_.method(bhttp::verb::post);
    req_.target(target);
    req_.version(11);
    req_.set(bhttp::field::host, "127.0.0.1");
    req_.set(bhttp::field::authorization, absl::StrCat("Bearer ", token_));
    req_.set(bhttp::field::content_type, "application/json");
    if (!key.empty()) req_.set("Idempotency-Key", key);
    req_.body() = std::move(body);
    req_.keep_alive(true);
    req_.prepare_payload();
    if (!need_connect_) return Write();
    need_connect_ = false;
    beast::error_code ignored;
    stream_.socket().close(ignored);
    buffer_.clear();
    stream_.expires_after(kConnectTimeout);
    stream_.async_connect(
        run_.endpoint, [self = shared_from_this()](beast::error_code ec) {
          if (ec) return self->OnIoError();
          self->stream_.socket().set_option(tcp::no_delay(true), ec);
          self->Write();
        });
  }

  void Write() {
    sent_ = SteadyClock::now();
    stream_.expires_after(kRequestTimeout);
    bhttp::async_write(
        stream_, req_,
        [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) return self->OnIoError();
          self->res_ = {};
          bhttp::async_read(self->stream_, self->buffer_, self->res_,
                            [self](beast::error_code ec, size_t) {
                              if (ec) return self->OnIoError();
                              self->OnResponse();
                            });
        });
  }

  // One think time: exponential with mean options.think_ms.
  SteadyClock::duration Think() {
    std::exponential_distribution<double> pause(1.0 / run_.options.think_ms);
    return std::chrono::microseconds(static_cast<int64_t>(pause(rng_) * 1000));
  }

  RequestStats& Current() { return step_ == 0 ? first_ : second_; }

  void OnIoError() {
    Current().statuses[0]++;
    errors_[0]++;
    need_connect_ = true;
    if (run_.cut) return Finish();
    RetryLater();
  }

  void Unexpected(int status) {
    errors_[status]++;
    if (sample_error_.empty()) {
      sample_error_ = absl::StrCat(step_ == 0 ? "first" : "second", " request ",
                                   std::string(req_.target()), " -> ", status,
                                   " ", res_.body().substr(0, 300));
    }
    RetryLater();
  }

  void RetryLater() { Pause(kRetryDelay); }

  void Pause(SteadyClock::duration d) {
    timer_.expires_after(d);
    timer_.async_wait(
        [self = shared_from_this()](beast::error_code) { self->BeginCycle(); });
  }

  void OnResponse() {
    auto now = SteadyClock::now();
    int status = res_.result_int();
    if (!res_.keep_alive()) need_connect_ = true;
    RequestStats& st = Current();
    st.statuses[status]++;
    if (step_ == 0) {
      if (status == 204) {
        ++empty_;
        return RetryLater();
      }
      if (status != 200 && status != 201) return Unexpected(status);
      st.latency.Add(Micros(now - sent_));
      auto id =
          ExtractId(res_.body(), annotate() ? "\"claim\":" : "\"submission\":");
      if (!id) return Unexpected(-1);
      return SendSecond(*id);
    }
    if (status != 200 && status != 201) return Unexpected(status);
    st.latency.Add(Micros(now - sent_));
    // The next claim, when the server leased one in the same request
    // (`"next":null` when the pool had nothing left for this annotator).
    if (with_next())
      next_claim_ = ExtractId(res_.body(), "\"next\":{\"claim\":");
    if (now <= run_.deadline) {
      ++cycles_;
      cycle_.Add(Micros(now - cycle_start_));
    }
    if (run_.options.think_ms > 0) return Pause(Think());
    BeginCycle();
  }

  void Finish() {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    run_.finished++;
  }

  Run& run_;
  const std::string token_;
  std::mt19937_64 rng_;
  beast::tcp_stream stream_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> req_;
  bhttp::response<bhttp::string_body> res_;
  int step_ = 0;
  std::optional<int64_t>
      next_claim_;  // kAnnotateNext: leased by the last submit
  bool need_connect_ = false;
  bool open_failed_ = false;
  bool finished_ = false;
  SteadyClock::time_point sent_, cycle_start_;
};

// Sleeps in short steps until `done()` or `until`.
template <typename F>
bool WaitFor(F done, SteadyClock::time_point until) {
  while (!done()) {
    if (SteadyClock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace

absl::StatusOr<HttpLoadResult> RunHttpLoad(const HttpLoadOptions& options) {
  Run run(options);
  const int n = static_cast<int>(options.tokens.size());
  std::vector<std::shared_ptr<Conn>> conns;
  conns.reserve(n);
  for (size_t i = 0; i < options.tokens.size(); ++i) {
    conns.push_back(std::make_shared<Conn>(run, options.tokens[i], i + 1));
  }
  auto guard = net::make_work_guard(run.ioc);
  std::vector<std::thread> threads;
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    threads.emplace_back([&run] { run.ioc.run(); });
  }
  auto stop_threads = [&] {
    guard.reset();
    run.ioc.stop();
    for (auto& t : threads) t.join();
  };

  HttpLoadResult r;
  r.connections = n;
  auto connect_start = SteadyClock::now();
  for (auto& c : conns) c->Connect();
  WaitFor([&] { return run.connect_done.load() == n; },
          connect_start + std::chrono::seconds(30));
  r.connected = run.connected.load();
  r.connect_seconds =
      std::chrono::duration<double>(SteadyClock::now() - connect_start).count();
  if (r.connected == 0) {
    stop_threads();
    return absl::UnavailableError(
        "no connection to the server could be opened");
  }

  auto window = std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double>(options.seconds));
  auto t0 = SteadyClock::now();
  run.deadline = t0 + window;
  for (auto& c : conns) c->Begin();
  // Ends early when the cycle budget is spent and every connection is done.
  bool all_done =
      WaitFor([&] { return run.finished.load() == n; }, run.deadline);
  auto window_end = all_done ? SteadyClock::now() : run.deadline;
  run.stop = true;
  auto grace = std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double>(options.grace_seconds));
  if (!WaitFor([&] { return run.finished.load() == n; },
               run.deadline + grace)) {
    run.cut = true;
    for (auto& c : conns) c->Cut();
    WaitFor([&] { return run.finished.load() == n; },
            SteadyClock::now() + std::chrono::seconds(5));
  }
  stop_threads();

  r.window_seconds = std::chrono::duration<double>(window_end - t0).count();
  for (auto& c : conns) {
    r.cycles += c->cycles_;
    r.empty += c->empty_;
    r.first.latency.Merge(c->first_.latency);
    r.second.latency.Merge(c->second_.latency);
    r.cycle.Merge(c->cycle_);
    for (auto [s, k] : c->first_.statuses) r.first.statuses[s] += k;
    for (auto [s, k] : c->second_.statuses) r.second.statuses[s] += k;
    for (auto [s, k] : c->errors_) r.errors[s] += k;
    if (r.sample_error.empty()) r.sample_error = c->sample_error_;
  }
  r.cycles_per_second = r.window_seconds > 0 ? r.cycles / r.window_seconds : 0;
  return r;
}

}  // namespace tessera::bench
