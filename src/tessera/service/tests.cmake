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

# ---- Workforce: trials and background (issue 6)
tessera_test(service_trials_test
  SOURCES trials_test.cc
  DEPS tessera_service tessera_store_conformance)

tessera_test(service_trials_pgtest
  SOURCES trials_test.cc
  DEPS tessera_service tessera_store_conformance
  LABELS postgres)
target_compile_definitions(service_trials_pgtest
  PRIVATE TESSERA_SERVICE_TEST_POSTGRES)

# ---- Workforce: dynamic overlap and simulation (issue 6)
# Dynamic overlap's slots and posterior, on SQLite and PostgreSQL.
tessera_test(service_dynamic_overlap_test
  SOURCES dynamic_overlap_test.cc
  DEPS tessera_service tessera_store_conformance)

tessera_test(service_dynamic_overlap_pgtest
  SOURCES dynamic_overlap_test.cc
  DEPS tessera_service tessera_store_conformance
  LABELS postgres)
target_compile_definitions(service_dynamic_overlap_pgtest
  PRIVATE TESSERA_SERVICE_TEST_POSTGRES)

# Standing and allocation (issue 6), on SQLite and PostgreSQL.
tessera_test(service_standing_test
  SOURCES standing_test.cc
  DEPS tessera_service tessera_store_conformance)

tessera_test(service_standing_pgtest
  SOURCES standing_test.cc
  DEPS tessera_service tessera_store_conformance
  LABELS postgres)
target_compile_definitions(service_standing_pgtest
  PRIVATE TESSERA_SERVICE_TEST_POSTGRES)
