# Truth inference for categorical and numeric labels, and the crowd-label CSV
# readers (included from CMakeLists.txt in this folder).
target_sources(tessera_algo PRIVATE
  internal/grouping.cc
  internal/memory.cc
  majority.cc
  dawid_skene.cc
  glad.cc
  mace.cc
  numeric.cc
  labels_csv.cc)

tessera_test(algo_categorical_test
  SOURCES categorical_test.cc numeric_test.cc labels_csv_test.cc dense_test.cc
    internal/grouping_test.cc
  DEPS tessera_algo)

# Timing on synthetic data (DISABLED_ by default; see the test file).
tessera_test(algo_categorical_timing_test
  SOURCES categorical_timing_test.cc
  DEPS tessera_algo)
