# weir-chaos (tools/chaos) as users run it: its command line, network
# partitions in namespaces (a worker cut off from the coordinator but not
# the broker, and the reverse), a full disk, a clock jump, and a short
# seeded mixed campaign. Long campaigns run by hand (docs/chaos.md).
weir_script_test(NAME chaos.cli LABEL integration
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/fault/chaos_run.py cli
  TIMEOUT 60)
weir_script_test(NAME chaos.scenarios LABEL fault
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/fault/chaos_run.py
    partition-coordinator,partition-broker,disk-full,clock-jump 60s 11
  TIMEOUT 600)
weir_script_test(NAME chaos.mixed LABEL fault
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/fault/chaos_run.py
    mixed 120s 1
  TIMEOUT 900)
# On Apache Kafka (3 nodes): a node, a worker and the coordinator killed.
weir_script_test(NAME kafka.chaos LABEL kafka ENV WEIR_TEST_BROKER=kafka
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/fault/chaos_run.py
    broker-kill,worker-kill,coordinator-kill 40s 5
  TIMEOUT 900)
# Against a cluster weir-chaos did not start (--bootstrap, --coordinator,
# --pid, --broker-admin).
weir_script_test(NAME chaos.external LABEL fault
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/fault/chaos_external.py
  TIMEOUT 600)
