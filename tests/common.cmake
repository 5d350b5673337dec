weir_unit_test(NAME common.wire SOURCES unit/test_wire.c LIBS weir_common)
weir_unit_test(NAME common.conf SOURCES unit/test_conf.c LIBS weir_common)
weir_unit_test(NAME common.proc SOURCES unit/test_proc.c LIBS weir_common)

if(WEIR_FUZZ)
  add_executable(fuzz_wire fuzz/fuzz_wire.c)
  target_compile_options(fuzz_wire PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_wire PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_wire PRIVATE weir_common)
  add_test(NAME common.fuzz_wire
    COMMAND fuzz_wire -max_total_time=20 -max_len=4096 -print_final_stats=1)
  set_tests_properties(common.fuzz_wire PROPERTIES LABELS fuzz TIMEOUT 120)
endif()
