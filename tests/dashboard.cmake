# The coordinator's dashboard (docs/operations.md, "Dashboard"): its numbers
# and routes as unit tests, and the page itself in a real browser (label ui).
weir_unit_test(NAME coordinator.dashboard
  SOURCES unit/test_coordinator_dashboard.c LIBS weir_coordinator_lib)
