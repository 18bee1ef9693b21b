// Signed portable work records: the canonical bytes of a record and Ed25519
// signatures over them (libsodium), shared by the server and
// `tessera verify-record`.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace tessera::service {

inline constexpr absl::string_view kRecordAlgorithm = "Ed25519";

// A fresh Ed25519 key pair, both halves base64 (standard alphabet, padded).
struct RecordKeyPair {
  std::string public_key;
  std::string secret_key;
};
RecordKeyPair NewRecordKeyPair();

// "ed25519:" and the first 16 hex digits of BLAKE2b-256 over the raw public
// key: names the key without revealing anything.
std::string RecordKeyId(absl::string_view public_key_b64);

// The bytes a signature covers: nlohmann's dump() of `record` (object keys
// sorted by byte value, no whitespace, UTF-8 as is, numbers in their
// shortest round-trip form). Parsing and dumping again yields the same bytes,
// so a record can be verified after any reformatting of its file.
std::string CanonicalRecordBytes(const nlohmann::json& record);

// Base64 detached signature of CanonicalRecordBytes(record).
absl::StatusOr<std::string> SignRecord(const nlohmann::json& record,
                                       absl::string_view secret_key_b64);

// OK when `signature_b64` is a valid signature of `record` under
// `public_key_b64`; kInvalidArgument (field "key") for a key that is not a
// base64 Ed25519 public key; kUnauthenticated for a signature that does not
// verify (including one that is not base64 or has the wrong length).
absl::Status VerifyRecord(const nlohmann::json& record,
                          absl::string_view signature_b64,
                          absl::string_view public_key_b64);

// Standard base64 with padding, and its inverse (nullopt-like error on bad
// input).
std::string ToBase64(absl::string_view bytes);
absl::StatusOr<std::string> FromBase64(absl::string_view text);

}  // namespace tessera::service
