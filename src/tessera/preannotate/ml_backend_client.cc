// MlBackendClient: one bounded HTTP exchange per call, protocol errors mapped
// to Status codes that say whether retrying can help.
#include "tessera/preannotate/ml_backend_client.h"

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tessera/base/json_util.h"
#include "tessera/base/status.h"
#include "tessera/preannotate/internal/http_fetch.h"

namespace tessera::preannotate {
namespace {

using nlohmann::json;

constexpr size_t kMaxQuotedBody = 300;

// A short excerpt of a body for error messages.
std::string Excerpt(absl::string_view body) {
  if (body.size() <= kMaxQuotedBody) return std::string(body);
  return absl::StrCat(body.substr(0, kMaxQuotedBody), "...");
}

// The message of a {"error": {"message"}} body (ours), a {"detail"} or
// {"error": "..."} body, else the body itself.
std::string ErrorMessage(absl::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    if (auto e = j.find("error"); e != j.end()) {
      if (e->is_string()) return e->get<std::string>();
      if (e->is_object() && e->contains("message") &&
          (*e)["message"].is_string()) {
        return (*e)["message"].get<std::string>();
      }
    }
    if (auto d = j.find("detail"); d != j.end() && d->is_string()) {
      return d->get<std::string>();
    }
  }
  return Excerpt(body);
}

// Turns a decoding error of the backend's answer into kInternal.
absl::Status BadResponse(absl::string_view what, const absl::Status& s) {
  absl::Status out = absl::InternalError(
      absl::StrCat("model backend ", what, " response: ", s.message()));
  if (auto field = FieldOf(s)) out = WithField(out, *field);
  return out;
}

}  // namespace

MlBackendClient::MlBackendClient(std::string url,
                                 MlBackendClientOptions options)
    : url_(std::move(url)), options_(options) {}

absl::StatusOr<json> MlBackendClient::Call(absl::string_view method,
                                           absl::string_view path,
                                           absl::string_view body,
                                           std::string* raw_body) const {
  TS_ASSIGN_OR_RETURN(internal::HttpUrl url, internal::ParseHttpUrl(url_));
  const std::string target = absl::StrCat(url.path, path);
  TS_ASSIGN_OR_RETURN(
      internal::FetchResponse resp,
      internal::HttpExchange(url.host, url.port, method, target, body,
                             options_.timeout, options_.max_response_bytes));
  const std::string where = absl::StrCat(method, " ", url_, path);
  if (resp.status >= 500) {
    return absl::UnavailableError(absl::StrCat(where, ": HTTP ", resp.status,
                                               ": ", ErrorMessage(resp.body)));
  }
  if (resp.status >= 400) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": HTTP ", resp.status, ": ", ErrorMessage(resp.body)));
  }
  if (resp.status != 200 && resp.status != 201) {
    return absl::InternalError(
        absl::StrCat(where, ": unexpected HTTP ", resp.status));
  }
  if (raw_body != nullptr) *raw_body = resp.body;
  json parsed = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return absl::InternalError(
        absl::StrCat(where, ": response is not JSON: ", Excerpt(resp.body)));
  }
  return parsed;
}

absl::StatusOr<json> MlBackendClient::Health() const {
  TS_ASSIGN_OR_RETURN(json j, Call("GET", "/health", "", nullptr));
  if (!j.is_object() || j.value("status", "") != "UP") {
    return absl::InternalError(absl::StrCat(
        "model backend health response: want {\"status\": \"UP\"}, got ",
        Excerpt(j.dump())));
  }
  return j;
}

absl::StatusOr<std::string> MlBackendClient::Setup(const json& request) const {
  TS_ASSIGN_OR_RETURN(json j, Call("POST", "/setup", request.dump(), nullptr));
  if (!j.is_object()) {
    return BadResponse("setup", InvalidField("body", "must be an object"));
  }
  auto v = j.find("model_version");
  if (v == j.end() || !(v->is_string() || v->is_number())) {
    return BadResponse("setup",
                       InvalidField("model_version", "must be a string"));
  }
  return v->is_string() ? v->get<std::string>() : v->dump();
}

absl::StatusOr<std::vector<TaskPrediction>> MlBackendClient::Predict(
    const std::vector<json>& tasks, absl::string_view label_config) const {
  std::vector<std::optional<ImageSize>> sizes;
  sizes.reserve(tasks.size());
  for (const json& t : tasks) {
    std::optional<ImageSize> size;
    if (t.is_object() && t.contains("data") && t["data"].is_object()) {
      const json& d = t["data"];
      if (d.contains("width") && d["width"].is_number_integer() &&
          d.contains("height") && d["height"].is_number_integer()) {
        size = ImageSize{d["width"].get<int>(), d["height"].get<int>()};
      }
    }
    sizes.push_back(size);
  }
  std::string raw;
  TS_ASSIGN_OR_RETURN(
      json unused,
      Call("POST", "/predict", EncodePredictRequest(tasks, label_config).dump(),
           &raw));
  auto predictions = ParsePredictResponse(raw, tasks.size(), sizes);
  if (!predictions.ok()) return BadResponse("predict", predictions.status());
  return predictions;
}

}  // namespace tessera::preannotate
