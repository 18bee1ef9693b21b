// `tessera verify-record`: offline verification of signed work records.
#include "tessera/cli/verify_record.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "nlohmann/json.hpp"
#include "tessera/service/record_signing.h"

namespace tessera::cli {
namespace {

using nlohmann::json;

std::optional<std::string> ReadWhole(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

// The base64 public key named by --key: the key itself, or a file with the
// record-key JSON or the bare key.
std::optional<std::string> ResolveKey(const std::string& key,
                                      std::string& why) {
  std::string text = key;
  if (auto content = ReadWhole(key)) {
    text = std::string(absl::StripAsciiWhitespace(*content));
    json j = json::parse(text, nullptr, false);
    if (j.is_object()) {
      if (!j.contains("public_key") || !j["public_key"].is_string()) {
        why = "the key file has no \"public_key\"";
        return std::nullopt;
      }
      text = j["public_key"].get<std::string>();
    }
  }
  return std::string(absl::StripAsciiWhitespace(text));
}

}  // namespace

int RunVerifyRecord(const VerifyRecordOptions& options, std::ostream& out,
                    std::ostream& err) {
  auto content = ReadWhole(options.file);
  if (!content) {
    err << "tessera: " << options.file << ": cannot read the file\n";
    return 2;
  }
  json doc = json::parse(*content, nullptr, false);
  std::string named_key;
  if (doc.is_object() && doc.contains("key_id") && doc["key_id"].is_string()) {
    named_key = doc["key_id"].get<std::string>();
  }
  if (options.key.empty()) {
    err << "tessera: verify-record needs the issuer's public key: --key "
           "BASE64, or --key FILE holding the JSON of GET /api/v1/record-key "
           "from the server that issued the record";
    if (!named_key.empty())
      err << " (the record names key " << named_key << ")";
    err << "\n";
    return 2;
  }
  std::string why;
  auto key = ResolveKey(options.key, why);
  if (!key) {
    err << "tessera: --key " << options.key << ": " << why << "\n";
    return 2;
  }
  if (!doc.is_object() || !doc.contains("record") ||
      !doc["record"].is_object() || !doc.contains("signature") ||
      !doc["signature"].is_string()) {
    out << "invalid signature\n";
    err << "tessera: " << options.file
        << ": not a signed work record ({record, signature})\n";
    return 1;
  }
  const json& record = doc["record"];
  absl::Status s =
      service::VerifyRecord(record, doc["signature"].get<std::string>(), *key);
  if (s.code() == absl::StatusCode::kInvalidArgument) {
    err << "tessera: --key: " << s.message() << "\n";
    return 2;
  }
  if (!s.ok()) {
    out << "invalid signature\n";
    const std::string key_id = service::RecordKeyId(*key);
    if (!named_key.empty() && named_key != key_id) {
      err << "tessera: the record names key " << named_key << " but --key is "
          << key_id << "\n";
    }
    return 1;
  }
  const json& subject = record.value("subject", json::object());
  out << "valid: "
      << (subject.is_object() ? subject.value("username", std::string("?"))
                              : std::string("?"))
      << " " << record.value("issued_at", std::string("?")) << "\n";
  return 0;
}

}  // namespace tessera::cli
