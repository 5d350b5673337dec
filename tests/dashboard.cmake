# The coordinator's dashboard (docs/operations.md, "Dashboard"): its numbers
# and routes as unit tests, and the page itself in a real browser (label ui).
weir_unit_test(NAME coordinator.dashboard
  SOURCES unit/test_coordinator_dashboard.c LIBS weir_coordinator_lib)

# The page in Debian's chromium, driven by playwright-core from npm: the
# fixture installs tests/ui/package-lock.json into the build tree first.
add_test(NAME ui.deps
  COMMAND ${PROJECT_SOURCE_DIR}/scripts/install-deps-js
    ${PROJECT_BINARY_DIR}/ui-npm ${PROJECT_SOURCE_DIR}/tests/ui)
set_tests_properties(ui.deps PROPERTIES LABELS ui TIMEOUT 300
  FIXTURES_SETUP ui_npm)
weir_script_test(NAME ui.dashboard LABEL ui
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/ui/dashboard_ui.py
  TIMEOUT 240
  ENV WEIR_UI_NPM=${PROJECT_BINARY_DIR}/ui-npm
      WEIR_UI_OUT=${PROJECT_BINARY_DIR}/ui)
set_tests_properties(ui.dashboard PROPERTIES FIXTURES_REQUIRED ui_npm)
