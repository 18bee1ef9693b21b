# Golden tests: algorithms on real public data against published results.
# The data are packed in golden/data/*.tar.gz and unpacked into the build
# tree at configure time (no zlib dependency in the code).

set(TESSERA_GOLDEN_DATA ${CMAKE_CURRENT_BINARY_DIR}/golden_data)
set(_tessera_crowd_labels ${CMAKE_CURRENT_SOURCE_DIR}/golden/data/crowd-labels.tar.gz)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_tessera_crowd_labels})
if(NOT EXISTS ${TESSERA_GOLDEN_DATA}/crowd-labels.stamp
   OR ${_tessera_crowd_labels} IS_NEWER_THAN ${TESSERA_GOLDEN_DATA}/crowd-labels.stamp)
  file(REMOVE_RECURSE ${TESSERA_GOLDEN_DATA}/crowd-labels)
  file(ARCHIVE_EXTRACT INPUT ${_tessera_crowd_labels} DESTINATION ${TESSERA_GOLDEN_DATA})
  file(TOUCH ${TESSERA_GOLDEN_DATA}/crowd-labels.stamp)
endif()

tessera_test(categorical_golden_test
  SOURCES golden/categorical_golden_test.cc
  DEPS tessera_algo)
target_compile_definitions(categorical_golden_test PRIVATE
  TESSERA_GOLDEN_DATA_DIR="${TESSERA_GOLDEN_DATA}")
