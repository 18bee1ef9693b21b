# LLM-feedback codecs: streaming JSONL reader, task JSONL / hh-rlhf / chat and
# OpenAssistant tree importers, DPO / SFT / rating exporters.
add_library(tessera_formats_llm jsonl.cc llm.cc oasst.cc)
target_link_libraries(tessera_formats_llm
  PUBLIC tessera_base tessera_domain absl::status absl::statusor absl::strings
         nlohmann_json::nlohmann_json
  PRIVATE simdjson::simdjson)

tessera_test(formats_llm_test
  SOURCES jsonl_test.cc llm_test.cc oasst_test.cc
  DEPS tessera_formats_llm tessera_domain)
target_compile_definitions(formats_llm_test PRIVATE
  TESSERA_TEST_DATA_DIR="${CMAKE_SOURCE_DIR}/tests/data")
find_package(ZLIB)
if(ZLIB_FOUND)
  target_link_libraries(formats_llm_test PRIVATE ZLIB::ZLIB)
  target_compile_definitions(formats_llm_test PRIVATE TESSERA_HAVE_ZLIB=1)
endif()
