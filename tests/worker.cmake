# Worker runtime tests (issue 5).
weir_unit_test(NAME worker.store SOURCES unit/test_store.c LIBS weir_worker_lib)
weir_unit_test(NAME worker.codec SOURCES unit/test_worker_codec.c
  LIBS weir_worker_lib)
