# Helpers shared by every module's CMakeLists.txt.

# Warnings as errors for kiln's own code (generated protos are built without them).
function(kiln_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter)
endfunction()

# kiln_library(NAME SOURCES ... DEPS ...): one module = one static library.
function(kiln_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  kiln_warnings(${name})
endfunction()

# kiln_test(NAME SOURCES ... DEPS ...): a GoogleTest binary registered with CTest.
function(kiln_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  kiln_warnings(${name})
  # gtest_discover_tests flattens list-valued PROPERTIES, so each property gets one value:
  # the label is LABELS (default "unit"), and tests find sources through compile definitions.
  set(label unit)
  if(ARG_LABELS)
    set(label ${ARG_LABELS})
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS ${label} TIMEOUT 300)
endfunction()
