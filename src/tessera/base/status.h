// Status helpers: error constructors that name the offending field, and the
// RETURN_IF_ERROR / ASSIGN_OR_RETURN macros used across Tessera.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tessera {

// Payload URL under which an error records the request field it concerns.
inline constexpr absl::string_view kFieldPayload = "tessera.dev/field";

// kInvalidArgument naming `field` (a JSON path such as "tasks[3].data.width").
absl::Status InvalidField(absl::string_view field, absl::string_view message);
// Any status with a field attached.
absl::Status WithField(absl::Status status, absl::string_view field);
// The field attached to `status`, if any.
std::optional<std::string> FieldOf(const absl::Status& status);

absl::Status NotFound(absl::string_view what);
absl::Status PermissionDenied(absl::string_view message);
absl::Status Unauthenticated(absl::string_view message);
absl::Status FailedPrecondition(absl::string_view message);
absl::Status Conflict(absl::string_view message);  // kAlreadyExists

}  // namespace tessera

#define TS_CONCAT_INNER_(a, b) a##b
#define TS_CONCAT_(a, b) TS_CONCAT_INNER_(a, b)

#define TS_RETURN_IF_ERROR(expr)                              \
  do {                                                        \
    if (absl::Status ts_status_ = (expr); !ts_status_.ok()) { \
      return ts_status_;                                      \
    }                                                         \
  } while (0)

#define TS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return std::move(tmp).status();  \
  lhs = std::move(*tmp)

#define TS_ASSIGN_OR_RETURN(lhs, expr) \
  TS_ASSIGN_OR_RETURN_IMPL_(TS_CONCAT_(ts_statusor_, __LINE__), lhs, expr)
