// Runs the store conformance suite on PostgreSQL: a fresh database per test on
// the server scripts/with-postgres starts (TESSERA_TEST_PG_URL).
#include "tessera/store/store_conformance.h"

namespace tessera::store {
namespace {

INSTANTIATE_TEST_SUITE_P(conformance, StoreConformanceTest,
                         ::testing::Values(PostgresStoreFactory()),
                         StoreFactoryName);

}  // namespace
}  // namespace tessera::store
