// Runs the store conformance suite on SQLite database files in a temporary
// directory, in both durability modes.
#include "tessera/store/store_conformance.h"

namespace tessera::store {
namespace {

INSTANTIATE_TEST_SUITE_P(
    conformance, StoreConformanceTest,
    ::testing::Values(SqliteStoreFactory(sqlite::Durability::kFull),
                      SqliteStoreFactory(sqlite::Durability::kNormal)),
    StoreFactoryName);

}  // namespace
}  // namespace tessera::store
