# docs/openapi.yaml against the server: http_openapi_test compares it with the
# route table RegisterApi builds; openapi_lint runs Redocly's linter on it.
# Included from this folder's CMakeLists.txt. Both match `ctest -R openapi`.
add_executable(http_openapi_test openapi_test.cc)
target_link_libraries(http_openapi_test PRIVATE
  tessera_http tessera_sqlite GTest::gtest GTest::gtest_main)
target_compile_definitions(http_openapi_test PRIVATE
  TESSERA_OPENAPI_PATH="${CMAKE_SOURCE_DIR}/docs/openapi.yaml")
gtest_discover_tests(http_openapi_test TEST_PREFIX "openapi."
  DISCOVERY_TIMEOUT 60)

add_test(NAME openapi_lint
  COMMAND ${CMAKE_SOURCE_DIR}/scripts/lint-openapi
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(openapi_lint PROPERTIES LABELS lint)
