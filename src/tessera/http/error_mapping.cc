// Status → HTTP mapping: the single place that decides error status codes.
#include "tessera/http/error_mapping.h"

#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"

namespace tessera::http {

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string CodeName(absl::StatusCode code) {
  // StatusCodeToString gives "INVALID_ARGUMENT"; the wire form is lower case.
  std::string name = absl::StatusCodeToString(code);
  if (name.empty()) return "unknown";
  return absl::AsciiStrToLower(name);
}

Response ErrorResponse(int http_status, absl::string_view code,
                       absl::string_view message,
                       std::optional<std::string> field) {
  nlohmann::json error = {
      {"code", std::string(code)},
      {"message", std::string(message)},
      {"field", nullptr},
  };
  if (field) error["field"] = *std::move(field);
  return Response::Json(http_status, {{"error", std::move(error)}});
}

Response ErrorResponse(const absl::Status& s) {
  if (s.ok()) {
    std::cerr << "tessera http: ErrorResponse called with an OK status\n";
    return ErrorResponse(500, "internal", "internal error");
  }
  int http_status = HttpStatusFor(s.code());
  if (http_status == 500) {
    std::cerr << absl::StrCat("tessera http: internal error: ", s.ToString(),
                              "\n");
    return ErrorResponse(500, CodeName(s.code()), "internal error", FieldOf(s));
  }
  return ErrorResponse(http_status, CodeName(s.code()), s.message(),
                       FieldOf(s));
}

}  // namespace tessera::http
