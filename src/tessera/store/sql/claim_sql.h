// The search behind every claim, built per dialect; in a header of its own so
// that the query-plan tests check the statement the store runs.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tessera/base/ids.h"
#include "tessera/store/sql/sql_conn.h"

namespace tessera::store {

// The first task, in id order, of a pool that matches `condition` (SQL over
// `t`, e.g. "t.open_slots > 0") and that an annotator has not claimed yet;
// bind UnclaimedTaskParams. Append " FOR UPDATE OF t ..." to lock it.
std::string UnclaimedTaskSql(const Dialect& dialect,
                             absl::string_view condition);
std::vector<SqlValue> UnclaimedTaskParams(const Dialect& dialect, PoolId pool,
                                          UserId annotator);

}  // namespace tessera::store
