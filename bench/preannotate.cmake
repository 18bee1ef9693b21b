# tessera-preannotate-bench: HOG drafts vs coco128 person boxes;
# bench/preannotate.sh runs it and docs/benchmarks.md records the numbers.
add_executable(tessera-preannotate-bench ${CMAKE_CURRENT_LIST_DIR}/preannotate.cc)
target_link_libraries(tessera-preannotate-bench PRIVATE
  tessera_preannotate
  CLI11::CLI11
  absl::str_format
)
