// `tessera verify-record FILE --key KEY`: checks a signed work record (the
// JSON of GET /api/v1/me/record) offline against the issuer's public key.
#pragma once

#include <ostream>
#include <string>

namespace tessera::cli {

struct VerifyRecordOptions {
  std::string file;
  // A base64 Ed25519 public key, or a file holding GET /api/v1/record-key's
  // JSON ({key_id, public_key, algorithm}) or the bare base64 key; empty
  // when not given.
  std::string key;
};

// Returns 0 and prints "valid: <username> <issued_at>" when the signature
// verifies; 1 and "invalid signature" (with why) when the file's record or
// signature was altered or is not a signed record at all; 2 on bad usage: no
// --key (says what it needs), an unusable key, or an unreadable file (named).
int RunVerifyRecord(const VerifyRecordOptions& options, std::ostream& out,
                    std::ostream& err);

}  // namespace tessera::cli
