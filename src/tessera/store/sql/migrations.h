// Versioned schema migrations, written once in SQLite's spelling and adapted
// to PostgreSQL's types by dialect.
#pragma once

#include <string>
#include <vector>

#include "tessera/store/sql/sql_conn.h"

namespace tessera::store {

struct Migration {
  int version;
  std::string description;
  std::string sql;  // ;-separated statements
};

// Every migration for `dialect`, in version order.
std::vector<Migration> Migrations(const Dialect& dialect);

}  // namespace tessera::store
