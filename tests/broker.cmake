# weir-broker: protocol server and transaction coordinator tests.
set(WEIR_BROKER_PY /usr/bin/python3)
function(weir_broker_py_test name label file timeout)
  weir_script_test(NAME ${name} LABEL ${label}
    COMMAND ${WEIR_BROKER_PY} ${PROJECT_SOURCE_DIR}/tests/${file}
    TIMEOUT ${timeout})
endfunction()

weir_unit_test(NAME broker.codec SOURCES unit/test_broker_codec.c
  LIBS weir_broker_lib)
weir_unit_test(NAME broker.part SOURCES unit/test_broker_part.c
  LIBS weir_broker_lib)
weir_unit_test(NAME broker.coordinator SOURCES unit/test_broker_txn.c
  LIBS weir_broker_lib)
weir_unit_test(NAME broker.group SOURCES unit/test_broker_group.c
  LIBS weir_broker_lib)

weir_broker_py_test(broker.txn integration integration/broker_txn.py 180)
weir_broker_py_test(broker.restart integration integration/broker_restart.py 180)
weir_broker_py_test(broker.txn_timeout integration integration/broker_timeout.py 120)
weir_broker_py_test(broker.groups integration integration/broker_groups.py 120)
weir_broker_py_test(broker.compact integration integration/broker_compact.py 120)
weir_broker_py_test(broker.malformed integration integration/broker_malformed.py 60)
weir_broker_py_test(broker.faults fault fault/broker_faults.py 240)
weir_broker_py_test(broker.crash_txn fault fault/broker_crash_txn.py 180)
weir_broker_py_test(broker.chaos fault fault/broker_chaos.py 240)

if(WEIR_FUZZ)
  weir_fuzz_test(NAME broker.fuzz_request TARGET fuzz_broker_request
    SOURCE fuzz/fuzz_broker_request.c LIBS weir_broker_lib
    RUNS 250000 MAX_LEN 8192)
endif()
