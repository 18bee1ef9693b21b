// The one table mapping absl::Status to HTTP responses, and transport-level
// JSON errors. Bodies are always {"error":{"code","message","field"}}.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tessera/http/types.h"

namespace tessera::http {

// HTTP status for a status code: kInvalidArgument/kOutOfRange 400,
// kUnauthenticated 401, kPermissionDenied 403, kNotFound 404,
// kAlreadyExists/kFailedPrecondition/kAborted 409, kResourceExhausted 429,
// kUnavailable 503, anything else 500.
int HttpStatusFor(absl::StatusCode code);

// snake_case name of a code, e.g. "invalid_argument", "not_found".
std::string CodeName(absl::StatusCode code);

// JSON error response for a non-OK `s`. "code" is CodeName(s.code()),
// "field" is FieldOf(s) or null. For 500s the message is replaced by
// "internal error" and the real one is written to stderr. An OK status is a
// caller bug and yields a 500. Thread-safe.
Response ErrorResponse(const absl::Status& s);

// JSON error response for transport-level errors (e.g. 404 "not_found",
// 405 "method_not_allowed", 413 "payload_too_large", 400 "bad_request").
// The message is used as given. Thread-safe.
Response ErrorResponse(int http_status, absl::string_view code,
                       absl::string_view message,
                       std::optional<std::string> field = std::nullopt);

}  // namespace tessera::http
