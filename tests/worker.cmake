# Worker runtime tests.
weir_unit_test(NAME worker.store SOURCES unit/test_store.c LIBS weir_worker_lib)
weir_unit_test(NAME worker.codec SOURCES unit/test_worker_codec.c
  LIBS weir_worker_lib)
weir_unit_test(NAME worker.window SOURCES unit/test_worker_window.c
  LIBS weir_worker_lib)
weir_unit_test(NAME worker.session SOURCES unit/test_worker_session.c
  LIBS weir_worker_lib)
weir_unit_test(NAME worker.join_window SOURCES unit/test_worker_join_window.c
  LIBS weir_worker_lib)
weir_unit_test(NAME worker.murmur2 SOURCES unit/test_murmur2.c
  LIBS weir_worker_lib)
weir_unit_test(NAME worker.committer SOURCES unit/test_worker_committer.c
  LIBS weir_worker_lib)

# Integration and fault tests: the real binaries against weir-broker.
weir_script_test(NAME worker.wordcount LABEL integration
  COMMAND /usr/bin/python3
    ${PROJECT_SOURCE_DIR}/tests/integration/worker_wordcount.py
  TIMEOUT 180)
weir_script_test(NAME worker.emit_latest LABEL integration
  COMMAND /usr/bin/python3
    ${PROJECT_SOURCE_DIR}/tests/integration/worker_emit_latest.py
  TIMEOUT 180)
weir_script_test(NAME worker.access_per_minute LABEL integration
  COMMAND /usr/bin/python3
    ${PROJECT_SOURCE_DIR}/tests/integration/worker_access.py
  TIMEOUT 120)
foreach(mode crash-points kill zombie broker broker-restart)
  string(REPLACE "-" "_" m ${mode})
  weir_script_test(NAME worker.fault_${m} LABEL fault
    COMMAND /usr/bin/python3
      ${PROJECT_SOURCE_DIR}/tests/fault/worker_faults.py ${mode}
    TIMEOUT 180)
endforeach()
foreach(mode crash-points kill zombie)
  string(REPLACE "-" "_" m ${mode})
  weir_script_test(NAME worker.fault_${m}_latest LABEL fault
    COMMAND /usr/bin/python3
      ${PROJECT_SOURCE_DIR}/tests/fault/worker_faults.py ${mode} latest
    TIMEOUT 180)
endforeach()
# examples/enrich-clicks.yaml (a stream-table join) against a reference
# computed from its input; and through every crash site and a SIGKILL.
weir_script_test(NAME worker.join LABEL integration
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/integration/worker_join.py
  TIMEOUT 180)
weir_script_test(NAME worker.join_backlog LABEL integration
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/integration/worker_join.py
    backlog
  TIMEOUT 180)
weir_script_test(NAME worker.fault_join LABEL fault
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/integration/worker_join.py
    faults
  TIMEOUT 300)
weir_script_test(NAME worker.large_record LABEL integration
  COMMAND /usr/bin/python3
    ${PROJECT_SOURCE_DIR}/tests/integration/worker_large_record.py
  TIMEOUT 120)
weir_script_test(NAME worker.modes LABEL integration
  COMMAND /usr/bin/python3
    ${PROJECT_SOURCE_DIR}/tests/integration/worker_modes.py
  TIMEOUT 180)
# The runtime API the coordinator link uses, in C against weir-broker.
add_executable(test_worker_runtime_api integration/worker_runtime_api.c)
target_link_libraries(test_worker_runtime_api PRIVATE weir_worker_lib weir_test_proc)
weir_script_test(NAME worker.runtime_api LABEL integration
  COMMAND $<TARGET_FILE:test_worker_runtime_api> TIMEOUT 120)
weir_script_test(NAME worker.plugins LABEL integration
  COMMAND /usr/bin/python3
    ${PROJECT_SOURCE_DIR}/tests/integration/worker_plugins.py
  TIMEOUT 120)
set_property(TEST worker.plugins APPEND PROPERTY ENVIRONMENT
  "WEIR_TEST_UDF_PLUGIN=$<TARGET_FILE:weir_test_udf>")
# Session windows (examples/user-sessions.yaml with emit: final; merges and
# tombstones under emit: update and latest) against a reference computed
# from the input; and through every crash site and a SIGKILL.
foreach(emit final update latest)
  weir_script_test(NAME worker.sessions_${emit} LABEL integration
    COMMAND /usr/bin/python3
      ${PROJECT_SOURCE_DIR}/tests/integration/worker_sessions.py ${emit}
    TIMEOUT 180)
  weir_script_test(NAME worker.fault_sessions_${emit} LABEL fault
    COMMAND /usr/bin/python3
      ${PROJECT_SOURCE_DIR}/tests/integration/worker_sessions.py ${emit} faults
    TIMEOUT 300)
endforeach()
# Stream-stream joins (examples/ad-attribution.yaml as inner, left and
# outer) against a reference computed from the input; and through every
# crash site and a SIGKILL.
foreach(type inner left outer)
  weir_script_test(NAME worker.stream_join_${type} LABEL integration
    COMMAND /usr/bin/python3
      ${PROJECT_SOURCE_DIR}/tests/integration/worker_stream_join.py ${type}
    TIMEOUT 180)
  weir_script_test(NAME worker.fault_stream_join_${type} LABEL fault
    COMMAND /usr/bin/python3
      ${PROJECT_SOURCE_DIR}/tests/integration/worker_stream_join.py ${type}
      faults
    TIMEOUT 300)
endforeach()
