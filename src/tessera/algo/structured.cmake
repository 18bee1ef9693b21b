# Structured aggregation (pairwise comparisons, bounding boxes) and agreement
# metrics; included by CMakeLists.txt of tessera_algo.
target_sources(tessera_algo PRIVATE pairwise.cc boxes.cc agreement.cc)

tessera_test(algo_structured_test
  SOURCES pairwise_test.cc boxes_test.cc agreement_test.cc
  DEPS tessera_algo)
