# The cluster: assignor, coordinator, weirctl, worker link (issue 6).
weir_unit_test(NAME coordinator.assignor SOURCES unit/test_assignor.c
  LIBS weir_coordinator_lib)
