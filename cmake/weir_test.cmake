# weir_unit_test(NAME <component.what> SOURCES ... LIBS ... [TIMEOUT s])
# Builds a cmocka test executable and registers it with label "unit".
function(weir_unit_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 60)
  endif()
  string(REPLACE "." "_" exe "test_${T_NAME}")
  add_executable(${exe} ${T_SOURCES})
  target_link_libraries(${exe} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  add_test(NAME ${T_NAME} COMMAND ${exe})
  set_tests_properties(${T_NAME} PROPERTIES LABELS unit TIMEOUT ${T_TIMEOUT})
endfunction()

# weir_script_test(NAME <component.what> LABEL <label> COMMAND ... [TIMEOUT s]
#                  [ENV VAR=value ...])
# Registers a test that runs real processes; the environment tells it where
# the binaries are (WEIR_BIN_DIR) and where the sources are (WEIR_SOURCE_DIR).
function(weir_script_test)
  cmake_parse_arguments(T "" "NAME;LABEL;TIMEOUT" "COMMAND;ENV" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  set(env "WEIR_BIN_DIR=${PROJECT_BINARY_DIR}/bin"
    "WEIR_SOURCE_DIR=${PROJECT_SOURCE_DIR}" "PYTHONDONTWRITEBYTECODE=1"
    ${T_ENV})
  set_tests_properties(${T_NAME} PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "${env}")
endfunction()

# weir_fuzz_test(NAME <component.what> TARGET exe SOURCE file LIBS ...
#                RUNS n MAX_LEN bytes [CORPUS dir] [DEFINES ...])
# Builds a libFuzzer target (WEIR_FUZZ builds only) and registers a smoke run
# labelled "fuzz": a fixed seed and a fixed number of inputs, so a run is
# repeatable; the time cap only guards a very slow machine. Long campaigns run
# the same binary by hand (docs/development.md).
function(weir_fuzz_test)
  cmake_parse_arguments(T "" "NAME;TARGET;SOURCE;RUNS;MAX_LEN;CORPUS"
    "LIBS;DEFINES" ${ARGN})
  add_executable(${T_TARGET} ${T_SOURCE})
  target_compile_definitions(${T_TARGET} PRIVATE ${T_DEFINES})
  target_compile_options(${T_TARGET} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${T_TARGET} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${T_TARGET} PRIVATE ${T_LIBS})
  add_test(NAME ${T_NAME} COMMAND ${T_TARGET} -seed=1 -runs=${T_RUNS}
    -max_total_time=90 -timeout=10 -max_len=${T_MAX_LEN} -print_final_stats=1
    ${T_CORPUS})
  set_tests_properties(${T_NAME} PROPERTIES LABELS fuzz TIMEOUT 150)
endfunction()
