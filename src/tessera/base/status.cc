// Status helpers.
#include "tessera/base/status.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace tessera {

absl::Status InvalidField(absl::string_view field, absl::string_view message) {
  return WithField(absl::InvalidArgumentError(message), field);
}

absl::Status WithField(absl::Status status, absl::string_view field) {
  status.SetPayload(kFieldPayload, absl::Cord(field));
  return status;
}

std::optional<std::string> FieldOf(const absl::Status& status) {
  auto payload = status.GetPayload(kFieldPayload);
  if (!payload) return std::nullopt;
  return std::string(*payload);
}

absl::Status NotFound(absl::string_view what) {
  return absl::NotFoundError(absl::StrCat(what, " not found"));
}
absl::Status PermissionDenied(absl::string_view message) {
  return absl::PermissionDeniedError(message);
}
absl::Status Unauthenticated(absl::string_view message) {
  return absl::UnauthenticatedError(message);
}
absl::Status FailedPrecondition(absl::string_view message) {
  return absl::FailedPreconditionError(message);
}
absl::Status Conflict(absl::string_view message) {
  return absl::AlreadyExistsError(message);
}

}  // namespace tessera
