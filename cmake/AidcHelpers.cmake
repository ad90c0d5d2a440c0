# SPDX-License-Identifier: Apache-2.0
# Helpers shared by every CMakeLists.txt in the tree.

# aidc_set_test_properties(name timeout labels extra_env)
# What every test gets: its timeout, where the tree is (plus extra_env, ";VAR=value..."),
# exit 77 as SKIP, and its labels (a list; empty for none).
function(aidc_set_test_properties name timeout labels extra_env)
  set_tests_properties(${name} PROPERTIES TIMEOUT ${timeout}
                       ENVIRONMENT "AIDC_SOURCE_DIR=${PROJECT_SOURCE_DIR};AIDC_BINARY_DIR=${PROJECT_BINARY_DIR}${extra_env}"
                       SKIP_RETURN_CODE 77)
  if(labels)
    set_tests_properties(${name} PROPERTIES LABELS "${labels}")
  endif()
endfunction()

# aidc_add_test(NAME name SOURCES a.c ... LIBS lib ... [TIMEOUT s] [LABELS l ...] [ARGS ...])
# One test binary registered with ctest. Every test has a timeout (default 120 s).
function(aidc_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS})
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  aidc_set_test_properties(${T_NAME} ${T_TIMEOUT} "${T_LABELS}" "")
endfunction()

# aidc_add_script_test(NAME name COMMAND cmd ... [TIMEOUT s] [LABELS ...])
# A test driven by a script (shell or /usr/bin/python3). Exit 77 means SKIP;
# the script must print why before it exits 77.
function(aidc_add_script_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "COMMAND;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_COMMAND} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  aidc_set_test_properties(${T_NAME} ${T_TIMEOUT} "${T_LABELS}" ";AIDC_BIN=$<TARGET_FILE:aidc>")
endfunction()
