# The cluster: assignor, coordinator, weirctl, worker link (issue 6).
weir_unit_test(NAME coordinator.assignor SOURCES unit/test_assignor.c
  LIBS weir_coordinator_lib)
weir_unit_test(NAME coordinator.cluster SOURCES unit/test_coordinator.c
  LIBS weir_coordinator_lib)
