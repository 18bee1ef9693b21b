# End-to-end tests of `tessera aggregate` and `tessera agreement`: the built
# binary run as a child process on the golden data (included by
# tests/CMakeLists.txt after golden/golden.cmake, which unpacks the data).
if(NOT DEFINED TESSERA_GOLDEN_DATA)
  message(FATAL_ERROR "cli/cli.cmake needs golden/golden.cmake included first")
endif()

tessera_test(cli_e2e_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/cli_e2e_test.cc
  DEPS nlohmann_json::nlohmann_json)
target_compile_definitions(cli_e2e_test PRIVATE
  TESSERA_BINARY="$<TARGET_FILE:tessera>"
  TESSERA_CROWD_LABELS_DIR="${TESSERA_GOLDEN_DATA}/crowd-labels"
  TESSERA_PEDESTRIANS_DIR="${CMAKE_CURRENT_LIST_DIR}/../golden/data/pedestrians")
target_include_directories(cli_e2e_test PRIVATE ${CMAKE_SOURCE_DIR})
# The binary under test is built before the test.
add_dependencies(cli_e2e_test tessera)

# `tessera import` / `export` end to end on coco128, oasst1 and hh-rlhf
# (tests/data), with pools created by a server from the integration fixture.
find_package(ZLIB REQUIRED)
tessera_test(transfer_e2e_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/transfer_e2e_test.cc
  DEPS tessera_integration_fixture tessera_formats_llm PkgConfig::SQLITE3
       ZLIB::ZLIB)
target_compile_definitions(transfer_e2e_test PRIVATE
  TESSERA_BINARY="$<TARGET_FILE:tessera>")
add_dependencies(transfer_e2e_test tessera)

# ---- Workforce: appeals, floor, flags, records (issue 6)
# `tessera verify-record` end to end on records signed in the test.
tessera_test(verify_record_e2e_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/verify_record_e2e_test.cc
  DEPS tessera_service nlohmann_json::nlohmann_json)
target_compile_definitions(verify_record_e2e_test PRIVATE
  TESSERA_BINARY="$<TARGET_FILE:tessera>")
target_include_directories(verify_record_e2e_test PRIVATE ${CMAKE_SOURCE_DIR})
add_dependencies(verify_record_e2e_test tessera)

# ---- Workforce: dynamic overlap and simulation (issue 6)
# `tessera simulate` end to end on a small crowd.
tessera_test(simulate_e2e_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/simulate_e2e_test.cc
  DEPS nlohmann_json::nlohmann_json)
target_compile_definitions(simulate_e2e_test PRIVATE
  TESSERA_BINARY="$<TARGET_FILE:tessera>")
target_include_directories(simulate_e2e_test PRIVATE ${CMAKE_SOURCE_DIR})
add_dependencies(simulate_e2e_test tessera)
