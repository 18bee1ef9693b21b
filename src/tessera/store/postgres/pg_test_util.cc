// Creates and drops throwaway test databases on the server named by
// TESSERA_TEST_PG_URL.
#include "tessera/store/postgres/pg_test_util.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tessera::store::postgres {
namespace {

constexpr char kUrlVariable[] = "TESSERA_TEST_PG_URL";

struct ConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using Conn = std::unique_ptr<PGconn, ConnDeleter>;

struct UrlParts {
  std::string before_db;  // scheme, authority and the '/'
  std::string db;
  std::string after_db;  // '?query', if any
};

// Splits a postgresql:// URI around its database name.
absl::StatusOr<UrlParts> SplitUrl(absl::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a postgresql:// URL, got: ", url));
  }
  UrlParts parts;
  const size_t query = url.find('?', scheme + 3);
  const absl::string_view base = url.substr(0, query);
  parts.after_db =
      std::string(query == absl::string_view::npos ? "" : url.substr(query));
  const size_t slash = base.find('/', scheme + 3);
  if (slash == absl::string_view::npos) {
    parts.before_db = absl::StrCat(base, "/");
  } else {
    parts.before_db = std::string(base.substr(0, slash + 1));
    parts.db = std::string(base.substr(slash + 1));
  }
  return parts;
}

absl::StatusOr<Conn> ConnectAdmin() {
  const char* url = std::getenv(kUrlVariable);
  if (url == nullptr || *url == '\0') {
    return absl::FailedPreconditionError(absl::StrCat(
        kUrlVariable,
        " is unset: run PostgreSQL tests under scripts/with-postgres (or set "
        "TESSERA_SKIP_PG=1 to skip them)"));
  }
  Conn conn(PQconnectdb(url));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(absl::StrCat(
        "cannot connect to ", url, ": ",
        conn == nullptr ? "out of memory" : PQerrorMessage(conn.get())));
  }
  return conn;
}

absl::Status RunAdmin(PGconn* conn, const std::string& sql) {
  std::unique_ptr<PGresult, void (*)(PGresult*)> result(
      PQexec(conn, sql.c_str()), &PQclear);
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return absl::InternalError(
        absl::StrCat(sql, ": ", PQresultErrorMessage(result.get())));
  }
  return absl::OkStatus();
}

}  // namespace

bool ShouldSkipPgTests() {
  const char* skip = std::getenv("TESSERA_SKIP_PG");
  return skip != nullptr && std::string(skip) == "1";
}

absl::StatusOr<std::string> CreateTestDatabase(absl::string_view prefix) {
  static std::atomic<int64_t> counter{0};
  absl::StatusOr<Conn> admin = ConnectAdmin();
  if (!admin.ok()) return admin.status();
  absl::StatusOr<UrlParts> parts = SplitUrl(std::getenv(kUrlVariable));
  if (!parts.ok()) return parts.status();

  std::string clean = absl::AsciiStrToLower(prefix.substr(0, 30));
  for (char& c : clean) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  absl::BitGen gen;
  const std::string name =
      absl::StrCat("t_", clean, "_", getpid(), "_", counter.fetch_add(1), "_",
                   absl::Hex(absl::Uniform<uint32_t>(gen), absl::kZeroPad8));
  absl::Status created =
      RunAdmin(admin->get(), absl::StrCat("CREATE DATABASE \"", name, "\""));
  if (!created.ok()) return created;
  return absl::StrCat(parts->before_db, name, parts->after_db);
}

void DropTestDatabase(const std::string& url) {
  absl::StatusOr<UrlParts> parts = SplitUrl(url);
  if (!parts.ok() || parts->db.empty()) return;
  for (char c : parts->db) {
    if (c == '"') return;  // never a name CreateTestDatabase made
  }
  absl::StatusOr<Conn> admin = ConnectAdmin();
  if (!admin.ok()) return;
  (void)RunAdmin(admin->get(), absl::StrCat("DROP DATABASE IF EXISTS \"",
                                            parts->db, "\" WITH (FORCE)"));
}

}  // namespace tessera::store::postgres
