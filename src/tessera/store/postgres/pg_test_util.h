// Helpers for tests that need PostgreSQL: a fresh, uniquely named database on
// the server that scripts/with-postgres starts (TESSERA_TEST_PG_URL).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tessera::store::postgres {

// True when TESSERA_SKIP_PG=1: PostgreSQL tests should GTEST_SKIP. Otherwise
// they must run, and fail when no server is configured.
bool ShouldSkipPgTests();

// Creates an empty database named from `prefix` (lower-cased, other than
// [a-z0-9_] replaced by '_'), the process id, a per-process counter and a
// random suffix, on the server at TESSERA_TEST_PG_URL, and returns its URL.
// Fails with kFailedPrecondition when TESSERA_TEST_PG_URL is unset (run the
// test under scripts/with-postgres), kUnavailable when the server cannot be
// reached. Thread-safe.
absl::StatusOr<std::string> CreateTestDatabase(absl::string_view prefix);

// Drops the database `url` names (as returned by CreateTestDatabase),
// disconnecting its sessions. Best effort: errors are ignored.
void DropTestDatabase(const std::string& url);

}  // namespace tessera::store::postgres
