# The same tests on Apache Kafka (label kafka): WEIR_TEST_BROKER=kafka makes
# the harness (tests/lib/weirtest.py) start a 3-node KRaft cluster with
# scripts/kafka instead of weir-broker. Not forks of the tests: the very
# scripts the other labels run, plus faults only a real cluster has.
set(kafka_env WEIR_TEST_BROKER=kafka)
set(int ${PROJECT_SOURCE_DIR}/tests/integration)
set(flt ${PROJECT_SOURCE_DIR}/tests/fault)
weir_script_test(NAME kafka.worker.wordcount LABEL kafka ENV ${kafka_env}
  COMMAND /usr/bin/python3 ${int}/worker_wordcount.py TIMEOUT 600)
weir_script_test(NAME kafka.worker.access_per_minute LABEL kafka
  ENV ${kafka_env} COMMAND /usr/bin/python3 ${int}/worker_access.py
  TIMEOUT 600)
weir_script_test(NAME kafka.worker.emit_latest LABEL kafka ENV ${kafka_env}
  COMMAND /usr/bin/python3 ${int}/worker_emit_latest.py TIMEOUT 600)
weir_script_test(NAME kafka.worker.join LABEL kafka ENV ${kafka_env}
  COMMAND /usr/bin/python3 ${int}/worker_join.py faults TIMEOUT 600)
weir_script_test(NAME kafka.worker.join_backlog LABEL kafka ENV ${kafka_env}
  COMMAND /usr/bin/python3 ${int}/worker_join.py backlog TIMEOUT 600)
weir_script_test(NAME kafka.worker.sessions LABEL kafka ENV ${kafka_env}
  COMMAND /usr/bin/python3 ${int}/worker_sessions.py update faults TIMEOUT 600)
weir_script_test(NAME kafka.worker.stream_join LABEL kafka ENV ${kafka_env}
  COMMAND /usr/bin/python3 ${int}/worker_stream_join.py outer faults
  TIMEOUT 600)
weir_script_test(NAME kafka.sql.wordcount LABEL kafka ENV ${kafka_env}
  COMMAND /usr/bin/python3 ${int}/sql_examples.py wordcount TIMEOUT 600)
weir_script_test(NAME kafka.worker.large_record LABEL kafka ENV ${kafka_env}
  COMMAND /usr/bin/python3 ${int}/worker_large_record.py TIMEOUT 600)
foreach(mode crash-points zombie)
  string(REPLACE "-" "_" m ${mode})
  weir_script_test(NAME kafka.worker.fault_${m} LABEL kafka ENV ${kafka_env}
    COMMAND /usr/bin/python3 ${flt}/worker_faults.py ${mode} TIMEOUT 900)
endforeach()
weir_script_test(NAME kafka.cluster.scale_out LABEL kafka ENV ${kafka_env}
  COMMAND /usr/bin/python3 ${int}/cluster_scale_out.py TIMEOUT 600)
foreach(t kill_worker coordinator_restart joins)
  weir_script_test(NAME kafka.cluster.${t} LABEL kafka ENV ${kafka_env}
    COMMAND /usr/bin/python3 ${flt}/cluster_${t}.py TIMEOUT 600)
endforeach()
weir_script_test(NAME kafka.cluster.fenced_owner.zombie-outage LABEL kafka
  ENV ${kafka_env}
  COMMAND /usr/bin/python3 ${flt}/cluster_fenced_owner.py zombie-outage
  TIMEOUT 600)
# Kafka Streams' own word count (exactly_once_v2) on both brokers.
weir_script_test(NAME kafka.streams.weir_broker LABEL kafka
  COMMAND /usr/bin/python3 ${int}/kafka_streams_wordcount.py TIMEOUT 600)
weir_script_test(NAME kafka.streams.kafka LABEL kafka ENV ${kafka_env}
  COMMAND /usr/bin/python3 ${int}/kafka_streams_wordcount.py TIMEOUT 600)
# Kafka's system-test tools: TransactionalMessageCopier killed and
# restarted, checked by VerifiableConsumer, on both brokers.
weir_script_test(NAME kafka.tools.copier.weir_broker LABEL kafka
  COMMAND /usr/bin/python3 ${int}/kafka_tools_copier.py TIMEOUT 600)
weir_script_test(NAME kafka.tools.copier.kafka LABEL kafka ENV ${kafka_env}
  COMMAND /usr/bin/python3 ${int}/kafka_tools_copier.py TIMEOUT 600)
# Kafka's command-line tools on both brokers, compared.
weir_script_test(NAME kafka.tools.admin LABEL kafka
  COMMAND /usr/bin/python3 ${int}/kafka_tools_admin.py TIMEOUT 600)
# Faults only a replicated Kafka has: the node leading the job's
# transaction coordinator dies mid-job; every node restarts in turn.
foreach(s coordinator-node rolling-restart)
  weir_script_test(NAME kafka.nodes.${s} LABEL kafka ENV ${kafka_env}
    COMMAND /usr/bin/python3 ${flt}/kafka_nodes.py ${s} TIMEOUT 900)
endforeach()
