// Reading request JSON with errors that name the offending field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json_fwd.hpp"

namespace tessera {

// Parses `text`; malformed JSON or invalid UTF-8 is kInvalidArgument with
// field "body".
absl::StatusOr<nlohmann::json> ParseJson(absl::string_view text);

// "a.b" or "a[3]" style path joining for error fields.
std::string JoinField(absl::string_view prefix, absl::string_view key);

// Accessors on an object `obj` whose path is `prefix`. Required ones fail with
// kInvalidArgument naming prefix.key when absent or of the wrong type;
// optional ones return nullopt when absent or null.
absl::StatusOr<std::string> RequiredString(const nlohmann::json& obj,
                                           absl::string_view key,
                                           absl::string_view prefix = "");
absl::StatusOr<std::optional<std::string>> OptionalString(
    const nlohmann::json& obj, absl::string_view key,
    absl::string_view prefix = "");
absl::StatusOr<int64_t> RequiredInt(const nlohmann::json& obj,
                                    absl::string_view key,
                                    absl::string_view prefix = "");
absl::StatusOr<std::optional<int64_t>> OptionalInt(
    const nlohmann::json& obj, absl::string_view key,
    absl::string_view prefix = "");
// Fails unless `j` is an object; `field` names it.
absl::Status RequireObject(const nlohmann::json& j, absl::string_view field);

// Appends `s` as a JSON string literal the way nlohmann's dump() writes it:
// '"', '\\' and control characters escaped (\b \f \n \r \t, else
// \u00xx), other bytes (UTF-8) as they are.
void AppendJsonString(absl::string_view s, std::string& out);

// Appends exactly what j.dump() would (compact, keys in order), faster: plain
// strings are copied without nlohmann's per-character escaper. Strings must
// be valid UTF-8 (as parsed JSON is); ones that need escapes, and doubles,
// are written by nlohmann itself.
void AppendJson(const nlohmann::json& j, std::string& out);

}  // namespace tessera
