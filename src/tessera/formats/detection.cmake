# Detection codecs (YOLO, COCO, Pascal VOC, Label Studio) and offline
# conversion between them; included by formats/CMakeLists.txt.
find_package(OpenCV REQUIRED COMPONENTS core imgcodecs)

add_library(tessera_formats_detection
  detection.cc
  image_info.cc
  yolo.cc
  coco.cc
  voc.cc
  labelstudio.cc
  convert.cc
)
target_include_directories(tessera_formats_detection SYSTEM PRIVATE
  ${OpenCV_INCLUDE_DIRS})
target_link_libraries(tessera_formats_detection
  PUBLIC
    tessera_base
    absl::status
    absl::statusor
    absl::strings
    absl::flat_hash_map
    absl::flat_hash_set
  PRIVATE
    simdjson::simdjson
    nlohmann_json::nlohmann_json
    opencv_core
    opencv_imgcodecs
)

tessera_test(formats_detection_test
  SOURCES
    detection_test.cc
    image_info_test.cc
    yolo_test.cc
    coco_test.cc
    voc_test.cc
    labelstudio_test.cc
    convert_test.cc
  DEPS tessera_formats_detection simdjson::simdjson
)
target_compile_definitions(formats_detection_test PRIVATE
  TESSERA_TEST_DATA_DIR="${CMAKE_SOURCE_DIR}/tests/data")
