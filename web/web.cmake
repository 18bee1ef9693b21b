# The web app (web/): `vite build` into ${CMAKE_BINARY_DIR}/web, which
# `tessera serve` serves by default (the folder `web` beside the binary).
# Type checking, unit tests (vitest) and browser tests (Playwright driving
# Debian's chromium against a real `tessera serve`) are CTest tests.
find_program(NPM_PROGRAM npm REQUIRED)
find_program(NODE_PROGRAM node REQUIRED)
set(TESSERA_WEB_DIR ${CMAKE_SOURCE_DIR}/web)
set(TESSERA_WEB_OUT ${CMAKE_BINARY_DIR}/web)
file(GLOB_RECURSE TESSERA_WEB_SOURCES CONFIGURE_DEPENDS
  ${TESSERA_WEB_DIR}/src/*.ts ${TESSERA_WEB_DIR}/src/*.tsx ${TESSERA_WEB_DIR}/src/*.css)
add_custom_command(
  OUTPUT ${TESSERA_WEB_OUT}/index.html
  COMMAND ${CMAKE_COMMAND} -E env TESSERA_WEB_OUT=${TESSERA_WEB_OUT}
          ${NPM_PROGRAM} run --silent vite-build
  WORKING_DIRECTORY ${TESSERA_WEB_DIR}
  DEPENDS ${TESSERA_WEB_SOURCES} ${TESSERA_WEB_DIR}/index.html
          ${TESSERA_WEB_DIR}/vite.config.ts ${TESSERA_WEB_DIR}/package-lock.json
  COMMENT "Building the web app (vite) into ${TESSERA_WEB_OUT}"
  VERBATIM)
add_custom_target(web ALL DEPENDS ${TESSERA_WEB_OUT}/index.html)
# `make run` builds only the server binary: it brings the web app along.
add_dependencies(tessera web)

add_test(NAME web_typecheck COMMAND ${NPM_PROGRAM} run --silent typecheck
  WORKING_DIRECTORY ${TESSERA_WEB_DIR})
add_test(NAME web_unit COMMAND ${NPM_PROGRAM} run --silent test
  WORKING_DIRECTORY ${TESSERA_WEB_DIR})
set_tests_properties(web_typecheck web_unit PROPERTIES LABELS web)

# One CTest test per browser test file, so ctest -j runs them side by side.
file(GLOB TESSERA_E2E_FILES CONFIGURE_DEPENDS ${TESSERA_WEB_DIR}/e2e/*.test.mjs)
foreach(file ${TESSERA_E2E_FILES})
  get_filename_component(name ${file} NAME_WE)
  add_test(NAME web_e2e_${name}
    COMMAND ${NODE_PROGRAM} --test --test-reporter=spec ${file}
    WORKING_DIRECTORY ${TESSERA_WEB_DIR})
  set_tests_properties(web_e2e_${name} PROPERTIES LABELS "web;e2e" TIMEOUT 300
    ENVIRONMENT "TESSERA_BIN=$<TARGET_FILE:tessera>;TESSERA_WEB=${TESSERA_WEB_OUT};TESSERA_E2E_OUT=${CMAKE_BINARY_DIR}/e2e;TESSERA_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endforeach()
