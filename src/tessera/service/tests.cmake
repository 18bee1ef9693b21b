# Service tests: the lifecycle through service::Service on a real store with a
# fake clock, on SQLite and (service_pgtest) on PostgreSQL; included from this
# folder's CMakeLists.txt after the store's tests.cmake.
tessera_test(service_test
  SOURCES service_test.cc
  DEPS tessera_service tessera_store_fault_injection tessera_store_conformance)

tessera_test(service_pgtest
  SOURCES service_test.cc
  DEPS tessera_service tessera_store_fault_injection tessera_store_conformance
  LABELS postgres)
target_compile_definitions(service_pgtest PRIVATE TESSERA_SERVICE_TEST_POSTGRES)

# Quality snapshots (truth inference, versions, the stale-pool job), on
# SQLite and (service_quality_pgtest) on PostgreSQL.
tessera_test(service_quality_test
  SOURCES quality_test.cc
  DEPS tessera_service tessera_store_conformance)

tessera_test(service_quality_pgtest
  SOURCES quality_test.cc
  DEPS tessera_service tessera_store_conformance
  LABELS postgres)
target_compile_definitions(service_quality_pgtest
  PRIVATE TESSERA_SERVICE_TEST_POSTGRES)
