weir_unit_test(NAME common.wire SOURCES unit/test_wire.c LIBS weir_common)
weir_unit_test(NAME common.conf SOURCES unit/test_conf.c LIBS weir_common)
weir_unit_test(NAME common.proc SOURCES unit/test_proc.c LIBS weir_test_proc)

if(WEIR_FUZZ)
  weir_fuzz_test(NAME common.fuzz_wire TARGET fuzz_wire
    SOURCE fuzz/fuzz_wire.c LIBS weir_common RUNS 10000000 MAX_LEN 4096)
endif()
weir_unit_test(NAME common.text SOURCES unit/test_common_text.c LIBS weir_common)
weir_unit_test(NAME common.array SOURCES unit/test_common_array.c LIBS weir_common)
