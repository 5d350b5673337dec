# Cross-client tests of weir-broker: unmodified kcat, kafka-python,
# confluent_kafka (librdkafka) and kafkajs against a real weir-broker process.
# Each script holds named cases; every case is its own CTest test so that a
# case is registered only once it passes reliably against the broker.
set(_clients_py /usr/bin/python3)
set(_clients_dir ${PROJECT_SOURCE_DIR}/tests/integration)

function(weir_clients_case script case timeout)
  weir_script_test(NAME clients.${script}.${case} LABEL integration
    COMMAND ${_clients_py} ${_clients_dir}/broker_clients_${script}.py ${case}
    TIMEOUT ${timeout})
endfunction()

foreach(case metadata produce_consume idempotent query_offsets headers_large
        group compression query_time compaction group_crash)
  weir_clients_case(kcat ${case} 120)
endforeach()

foreach(case admin produce_consume commit_offsets group mixed_group
        group_protocol retention retention_active offsets_for_times
        simple_commit_active_group)
  weir_clients_case(kafka_python ${case} 120)
endforeach()

foreach(case txn_ctp read_committed fencing txn_offsets group_faults
        group_restart revoke_commit)
  weir_clients_case(confluent ${case} 120)
endforeach()

# kafkajs comes from the npm registry: the fixture installs it (npm ci from
# tests/integration/js/package-lock.json) into the build tree first.
add_test(NAME clients.kafkajs.deps
  COMMAND ${PROJECT_SOURCE_DIR}/scripts/install-deps-js ${PROJECT_BINARY_DIR}/js)
set_tests_properties(clients.kafkajs.deps PROPERTIES LABELS integration
  TIMEOUT 300 FIXTURES_SETUP clients_kafkajs)
foreach(case txn fencing consume faults restart group txn_timeout eos
        admin)
  weir_clients_case(kafkajs ${case} 150)
  set_tests_properties(clients.kafkajs.${case} PROPERTIES
    FIXTURES_REQUIRED clients_kafkajs)
endforeach()

# Cases mixing three clients (librdkafka, kafkajs, kafka-python): need
# kafkajs too.
foreach(case interleaved mixed_load)
  weir_clients_case(confluent ${case} 150)
  set_tests_properties(clients.confluent.${case} PROPERTIES
    FIXTURES_REQUIRED clients_kafkajs)
endforeach()
