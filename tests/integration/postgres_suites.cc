// Runs every integration case against PostgreSQL (a fresh database per test
// on the server scripts/with-postgres starts).
#include "tests/integration/server_fixture.h"

namespace tessera::integration {

INSTANTIATE_TEST_SUITE_P(integration_pg, IntegrationTest,
                         ::testing::Values(Backend::kPostgres), BackendName);

}  // namespace tessera::integration
