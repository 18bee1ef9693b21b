# Store test support (the conformance suite, the fault-injecting wrapper) and
# the tests that run them; included from this folder's CMakeLists.txt.
add_library(tessera_store_fault_injection fault_injection.cc)
target_link_libraries(tessera_store_fault_injection
  PUBLIC tessera_store absl::synchronization absl::flat_hash_map)

# The suite and the backend factories, as an object library so that its test
# registrations are always linked into the binaries that instantiate it.
add_library(tessera_store_conformance OBJECT store_conformance.cc)
target_link_libraries(tessera_store_conformance
  PUBLIC tessera_store tessera_sqlite tessera_postgres tessera_pg_test_util
         GTest::gtest GTest::gmock)

tessera_test(store_conformance_test
  SOURCES store_conformance_test.cc
  DEPS tessera_store_conformance)

tessera_test(store_conformance_pgtest
  SOURCES store_conformance_pgtest.cc
  DEPS tessera_store_conformance
  LABELS postgres)

tessera_test(fault_injection_test
  SOURCES fault_injection_test.cc
  DEPS tessera_store_fault_injection tessera_store_conformance)

tessera_test(postgres_plan_pgtest
  SOURCES postgres_plan_pgtest.cc
  DEPS tessera_store tessera_postgres tessera_pg_test_util
  LABELS postgres)
