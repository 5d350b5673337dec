# The cluster: assignor, coordinator, weirctl, worker link.
weir_unit_test(NAME coordinator.assignor SOURCES unit/test_assignor.c
  LIBS weir_coordinator_lib)
weir_unit_test(NAME coordinator.cluster SOURCES unit/test_coordinator.c
  LIBS weir_coordinator_lib)
weir_unit_test(NAME coordinator.random SOURCES unit/test_coordinator_random.c
  LIBS weir_coordinator_lib)
# Coordinator and worker ownership rules together: safety and liveness
# over random schedules of heartbeats, faults and fencing.
weir_unit_test(NAME cluster.liveness SOURCES unit/test_cluster_liveness.c
  LIBS weir_coordinator_lib weir_worker_lib)

# Process tests: broker, coordinator, workers and weirctl as processes.
foreach(t weirctl scale_out capacity drain security degraded bad_settings failed_job kafka_down bad_workers kafka_unknown low_disk
    worker_metrics)
  weir_script_test(NAME cluster.${t} LABEL integration
    COMMAND /usr/bin/python3
      ${PROJECT_SOURCE_DIR}/tests/integration/cluster_${t}.py
    TIMEOUT 150)
endforeach()
foreach(t kill_worker zombie coordinator_restart mixed_bad joins)
  weir_script_test(NAME cluster.${t} LABEL fault
    COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/fault/cluster_${t}.py
    TIMEOUT 150)
endforeach()
# The same faults with `count: {emit: latest}` (and pre-aggregation).
foreach(t kill_worker zombie)
  weir_script_test(NAME cluster.${t}_latest LABEL fault
    COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/fault/cluster_${t}.py
      latest
    TIMEOUT 150)
endforeach()
# A fenced owner recovers: a zombie returning during a coordinator outage,
# and fencing errors injected by the broker (docs/exactly-once.md).
foreach(s zombie-outage zombie-outage-timed broker-fence)
  weir_script_test(NAME cluster.fenced_owner.${s} LABEL fault
    COMMAND /usr/bin/python3
      ${PROJECT_SOURCE_DIR}/tests/fault/cluster_fenced_owner.py ${s}
    TIMEOUT 180)
endforeach()

# docker/: the compose files must stay valid (no Docker engine needed):
# the 3-node Kafka one and the single-node one for a laptop. Without
# docker-compose (scripts/install-deps installs it) they fail and say so.
add_test(NAME cluster.docker_compose_config
  COMMAND ${CMAKE_COMMAND} -DFILE=${PROJECT_SOURCE_DIR}/docker/docker-compose.yml
    -P ${PROJECT_SOURCE_DIR}/tests/lib/compose_config.cmake)
add_test(NAME cluster.docker_compose_single_config
  COMMAND ${CMAKE_COMMAND}
    -DFILE=${PROJECT_SOURCE_DIR}/docker/docker-compose.single.yml
    -P ${PROJECT_SOURCE_DIR}/tests/lib/compose_config.cmake)
set_tests_properties(cluster.docker_compose_config
  cluster.docker_compose_single_config PROPERTIES
  LABELS integration TIMEOUT 60)

# The request handler answers garbage and never crashes: seeded mutations
# always, libFuzzer with WEIR_FUZZ.
weir_unit_test(NAME coordinator.handle_garbage
  SOURCES unit/test_coordinator_fuzz.c LIBS weir_coordinator_lib)
if(WEIR_FUZZ)
  weir_fuzz_test(NAME coordinator.fuzz_handle TARGET fuzz_coordinator_handle
    SOURCE unit/test_coordinator_fuzz.c LIBS weir_coordinator_lib
    DEFINES WEIR_FUZZ_MAIN_DISABLED=1 RUNS 2000000 MAX_LEN 4096)
endif()
# Pull-query paths: parsed or refused (400), and fuzzed with WEIR_FUZZ.
weir_unit_test(NAME coordinator.query_parse
  SOURCES unit/test_query_parse.c LIBS weir_coordinator_lib)
if(WEIR_FUZZ)
  weir_fuzz_test(NAME coordinator.fuzz_query_path TARGET fuzz_query_path
    SOURCE fuzz/fuzz_query_path.c LIBS weir_coordinator_lib
    RUNS 500000 MAX_LEN 512)
endif()
# Pull queries through the coordinator's HTTP API.
weir_script_test(NAME cluster.query LABEL integration
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/integration/cluster_query.py
  TIMEOUT 180)
