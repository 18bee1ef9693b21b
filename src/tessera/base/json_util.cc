// JSON request helpers.
#include "tessera/base/json_util.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"

namespace tessera {

absl::StatusOr<nlohmann::json> ParseJson(absl::string_view text) {
  try {
    return nlohmann::json::parse(text.data(), text.data() + text.size());
  } catch (const nlohmann::json::exception& e) {  // parse_error, out_of_range
    return InvalidField("body", absl::StrCat("malformed JSON: ", e.what()));
  }
}

std::string JoinField(absl::string_view prefix, absl::string_view key) {
  if (prefix.empty()) return std::string(key);
  if (!key.empty() && key.front() == '[') return absl::StrCat(prefix, key);
  return absl::StrCat(prefix, ".", key);
}

absl::Status RequireObject(const nlohmann::json& j, absl::string_view field) {
  if (!j.is_object()) {
    return InvalidField(field.empty() ? "body" : field, "must be an object");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> OptionalString(
    const nlohmann::json& obj, absl::string_view key,
    absl::string_view prefix) {
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    return InvalidField(JoinField(prefix, key), "must be a string");
  }
  return it->get<std::string>();
}

absl::StatusOr<std::string> RequiredString(const nlohmann::json& obj,
                                           absl::string_view key,
                                           absl::string_view prefix) {
  TS_ASSIGN_OR_RETURN(auto v, OptionalString(obj, key, prefix));
  if (!v) return InvalidField(JoinField(prefix, key), "is required");
  return *v;
}

absl::StatusOr<std::optional<int64_t>> OptionalInt(const nlohmann::json& obj,
                                                   absl::string_view key,
                                                   absl::string_view prefix) {
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) {
    return InvalidField(JoinField(prefix, key), "must be an integer");
  }
  return it->get<int64_t>();
}

absl::StatusOr<int64_t> RequiredInt(const nlohmann::json& obj,
                                    absl::string_view key,
                                    absl::string_view prefix) {
  TS_ASSIGN_OR_RETURN(auto v, OptionalInt(obj, key, prefix));
  if (!v) return InvalidField(JoinField(prefix, key), "is required");
  return *v;
}

namespace {

// True when nlohmann would write `s` between quotes unchanged.
bool NeedsNoEscape(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == '"' || c == '\\') return false;
  }
  return true;
}

void AppendString(const std::string& s, std::string& out) {
  if (NeedsNoEscape(s)) {
    out.push_back('"');
    out.append(s);
    out.push_back('"');
  } else {
    out.append(nlohmann::json(s).dump());
  }
}

}  // namespace

void AppendJson(const nlohmann::json& j, std::string& out) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, value] : j.items()) {
        if (!first) out.push_back(',');
        first = false;
        AppendString(key, out);
        out.push_back(':');
        AppendJson(value, out);
      }
      out.push_back('}');
      return;
    }
    case nlohmann::json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& value : j) {
        if (!first) out.push_back(',');
        first = false;
        AppendJson(value, out);
      }
      out.push_back(']');
      return;
    }
    case nlohmann::json::value_t::string:
      AppendString(j.get_ref<const std::string&>(), out);
      return;
    case nlohmann::json::value_t::number_integer:
      absl::StrAppend(&out, j.get<int64_t>());
      return;
    case nlohmann::json::value_t::number_unsigned:
      absl::StrAppend(&out, j.get<uint64_t>());
      return;
    case nlohmann::json::value_t::boolean:
      out.append(j.get<bool>() ? "true" : "false");
      return;
    case nlohmann::json::value_t::null:
      out.append("null");
      return;
    default:  // doubles, binary, discarded: nlohmann's own formatting
      out.append(j.dump());
      return;
  }
}

}  // namespace tessera
