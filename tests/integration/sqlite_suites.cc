// Runs every integration case against SQLite (a temp database file).
#include "tests/integration/server_fixture.h"

namespace tessera::integration {

INSTANTIATE_TEST_SUITE_P(integration_sqlite, IntegrationTest,
                         ::testing::Values(Backend::kSqlite), BackendName);

}  // namespace tessera::integration
