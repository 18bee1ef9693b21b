# Unit tests of the file-based commands (aggregate, agreement) and their CSV
# readers, run in-process on small files; included by CMakeLists.txt here.
tessera_test(cli_quality_test
  SOURCES csv_inputs_test.cc aggregate_test.cc agreement_test.cc
  DEPS tessera_cli)
