// Credentials: argon2id password hashes and opaque bearer tokens (256 random
// bits, stored only as a BLAKE2b hash). Thin wrappers over libsodium.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tessera::service {

// Initialises libsodium; safe to call more than once, from any thread.
absl::Status InitCrypto();
// argon2id hash string (includes salt and parameters).
absl::StatusOr<std::string> HashPassword(absl::string_view password);
// Constant-time check of `password` against a HashPassword() string.
bool VerifyPassword(absl::string_view hash, absl::string_view password);
// A fresh token: 64 hex characters (32 random bytes).
std::string NewToken();
// Hex BLAKE2b-256 of a token, as stored in the sessions table.
std::string HashToken(absl::string_view token);

}  // namespace tessera::service
