# Golden tests of pairwise/box aggregation and agreement metrics against
# published worked examples and the pedestrian boxes in golden/data/.
tessera_test(structured_golden_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/structured_golden_test.cc
  DEPS tessera_algo)
target_compile_definitions(structured_golden_test PRIVATE
  TESSERA_PEDESTRIANS_DIR="${CMAKE_CURRENT_LIST_DIR}/data/pedestrians")
