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

void AppendJsonString(absl::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the pending unescaped run
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char ch = static_cast<unsigned char>(s[i]);
    if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (ch) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        out.append("\\u00");
        out.push_back(kHex[ch >> 4]);
        out.push_back(kHex[ch & 0xf]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void AppendJson(const nlohmann::json& j, std::string& out) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, value] : j.items()) {
        if (!first) out.push_back(',');
        first = false;
        AppendJsonString(key, out);
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
      AppendJsonString(j.get_ref<const std::string&>(), out);
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
