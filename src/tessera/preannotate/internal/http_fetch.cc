// HttpExchange: Beast async operations on a private io_context, so one
// tcp_stream deadline bounds resolve, connect, write and read together.
#include "tessera/preannotate/internal/http_fetch.h"

#include <chrono>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace tessera::preannotate::internal {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

}  // namespace

absl::StatusOr<HttpUrl> ParseHttpUrl(absl::string_view url) {
  constexpr absl::string_view kScheme = "http://";
  if (!absl::StartsWithIgnoreCase(url, kScheme)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported URL '", url, "': only http:// is supported"));
  }
  absl::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  HttpUrl out;
  if (slash != absl::string_view::npos) {
    out.path = std::string(rest.substr(slash));
    while (!out.path.empty() && out.path.back() == '/') out.path.pop_back();
  }
  if (authority.find('@') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("URL '", url, "': credentials are not supported"));
  }
  size_t colon = authority.rfind(':');
  if (colon != absl::string_view::npos) {
    uint32_t port = 0;
    if (!absl::SimpleAtoi(authority.substr(colon + 1), &port) || port == 0 ||
        port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("URL '", url, "': bad port"));
    }
    out.port = static_cast<uint16_t>(port);
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("URL '", url, "': no host"));
  }
  out.host = std::string(authority);
  return out;
}

absl::StatusOr<FetchResponse> HttpExchange(
    const std::string& host, uint16_t port, absl::string_view method,
    absl::string_view target, absl::string_view body, absl::Duration timeout,
    size_t max_body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  net::io_context ioc(1);
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  bhttp::request<bhttp::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(beast::string_view(target.data(), target.size()));
  req.version(11);
  req.set(bhttp::field::host, absl::StrCat(host, ":", port));
  req.set(bhttp::field::user_agent, "tessera-preannotate");
  req.keep_alive(false);
  for (const auto& [name, value] : headers) req.set(name, value);
  if (!body.empty() || method == "POST") {
    req.set(bhttp::field::content_type, "application/json");
    req.body().assign(body.data(), body.size());
    req.prepare_payload();
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_body);

  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  beast::error_code result;
  const char* stage = "resolve";
  auto fail = [&](const char* what, beast::error_code ec) {
    stage = what;
    result = ec;
  };
  net::steady_timer resolve_timer(ioc, deadline);
  resolve_timer.async_wait([&](beast::error_code ec) {
    if (!ec) resolver.cancel();
  });
  resolver.async_resolve(
      host, std::to_string(port),
      [&](beast::error_code ec, tcp::resolver::results_type endpoints) {
        resolve_timer.cancel();
        if (ec) return fail("resolve", ec);
        stream.expires_at(deadline);
        stream.async_connect(endpoints, [&](beast::error_code ec,
                                            const tcp::endpoint&) {
          if (ec) return fail("connect", ec);
          bhttp::async_write(stream, req, [&](beast::error_code ec, size_t) {
            if (ec) return fail("write", ec);
            bhttp::async_read(stream, buffer, parser,
                              [&](beast::error_code ec, size_t) {
                                if (ec) return fail("read", ec);
                              });
          });
        });
      });
  ioc.run();
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);

  const std::string where = absl::StrCat("http://", host, ":", port, target);
  if (result == beast::error::timeout ||
      (result == net::error::operation_aborted &&
       std::chrono::steady_clock::now() >= deadline)) {
    return absl::DeadlineExceededError(
        absl::StrCat(method, " ", where, ": no response within ",
                     absl::FormatDuration(timeout), " (", stage, ")"));
  }
  if (result == bhttp::error::body_limit) {
    return absl::ResourceExhaustedError(absl::StrCat(
        method, " ", where, ": response body exceeds ", max_body, " bytes"));
  }
  if (result) {
    return absl::UnavailableError(
        absl::StrCat(method, " ", where, ": ", stage, ": ", result.message()));
  }
  auto msg = parser.release();
  FetchResponse out;
  out.status = static_cast<int>(msg.result_int());
  out.content_type = std::string(msg[bhttp::field::content_type]);
  out.body = std::move(msg.body());
  return out;
}

}  // namespace tessera::preannotate::internal
