// HttpClient: blocking Beast over one TCP socket, reconnecting on demand.
#include "tessera/http/client.h"

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace tessera::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Only blocking operations are used, which never run the io_context, so all
// clients can share one (saving each client its epoll and eventfd fds).
net::io_context& SharedContext() {
  static auto* ioc = new net::io_context(1);
  return *ioc;
}

}  // namespace

std::optional<std::string> ClientResponse::Header(
    absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

class HttpClient::Impl {
 public:
  Impl(std::string host, uint16_t port)
      : host_(std::move(host)), port_(port), socket_(SharedContext()) {}

  absl::StatusOr<ClientResponse> Send(
      absl::string_view method, absl::string_view target,
      absl::string_view body,
      std::vector<std::pair<std::string, std::string>>& headers) {
    bhttp::request<bhttp::string_body> req;
    req.method_string(beast::string_view(method.data(), method.size()));
    req.target(beast::string_view(target.data(), target.size()));
    req.version(11);
    req.set(bhttp::field::host, absl::StrCat(host_, ":", port_));
    req.set(bhttp::field::user_agent, "tessera-client");
    bool has_content_type = false;
    for (const auto& [k, v] : headers) {
      if (absl::EqualsIgnoreCase(k, "content-type")) has_content_type = true;
      req.insert(k, v);
    }
    if (!body.empty() && !has_content_type) {
      req.set(bhttp::field::content_type, "application/json");
    }
    req.body().assign(body.data(), body.size());
    if (!body.empty() || method == "POST" || method == "PUT" ||
        method == "PATCH") {
      req.content_length(body.size());
    }

    const bool reused = socket_.is_open();
    auto result = Exchange(req);
    if (!result.ok() && reused && !response_started_) {
      Close();  // the server closed the idle connection: retry once
      result = Exchange(req);
    }
    if (!result.ok()) Close();
    return result;
  }

  void Close() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    buffer_.clear();
  }

  int connections_opened() const { return connections_opened_; }

 private:
  absl::Status Connect() {
    beast::error_code ec;
    tcp::resolver resolver(SharedContext());
    auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("resolve ", host_, ": ", ec.message()));
    }
    net::connect(socket_, endpoints, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("connect ", host_, ":", port_, ": ", ec.message()));
    }
    socket_.set_option(tcp::no_delay(true), ec);
    buffer_.clear();
    ++connections_opened_;
    return absl::OkStatus();
  }

  absl::StatusOr<ClientResponse> Exchange(
      bhttp::request<bhttp::string_body>& req) {
    response_started_ = false;
    if (!socket_.is_open()) {
      if (absl::Status s = Connect(); !s.ok()) return s;
    }
    beast::error_code ec;
    bhttp::write(socket_, req, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("write: ", ec.message()));
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    bhttp::read_header(socket_, buffer_, parser, ec);
    if (!ec) {
      response_started_ = true;
      bhttp::read(socket_, buffer_, parser, ec);
    } else if (ec != bhttp::error::end_of_stream &&
               ec != net::error::connection_reset && ec != net::error::eof) {
      response_started_ = true;  // not a stale-connection symptom
    }
    if (ec) {
      return absl::UnavailableError(absl::StrCat("read: ", ec.message()));
    }
    auto msg = parser.release();
    ClientResponse out;
    out.status = static_cast<int>(msg.result_int());
    for (const auto& field : msg) {
      out.headers.emplace_back(
          std::string(field.name_string().data(), field.name_string().size()),
          std::string(field.value().data(), field.value().size()));
    }
    out.body = std::move(msg.body());
    if (!msg.keep_alive()) Close();
    return out;
  }

  std::string host_;
  uint16_t port_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  bool response_started_ = false;
  int connections_opened_ = 0;
};

HttpClient::HttpClient(std::string host, uint16_t port)
    : impl_(std::make_unique<Impl>(std::move(host), port)) {}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

absl::StatusOr<ClientResponse> HttpClient::Send(
    absl::string_view method, absl::string_view target, absl::string_view body,
    std::vector<std::pair<std::string, std::string>> headers) {
  return impl_->Send(method, target, body, headers);
}

int HttpClient::connections_opened() const {
  return impl_->connections_opened();
}

void HttpClient::Close() { impl_->Close(); }

}  // namespace tessera::http
