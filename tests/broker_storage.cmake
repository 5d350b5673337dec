# Broker storage engine unit tests (crc32c, batch, log, compaction, journal,
# I/O failure sweep, crashes). They build the storage sources into their own
# library so they do not depend on the rest of the broker.
include(${PROJECT_SOURCE_DIR}/broker/STORAGE_SOURCES.cmake)
set(weir_storage_srcs ${WEIR_BROKER_STORAGE_SRCS})
set(WEIR_BROKER_STORAGE_SRCS)
add_library(weir_broker_storage_test STATIC ${weir_storage_srcs})
target_link_libraries(weir_broker_storage_test PUBLIC weir_common)

foreach(t crc32c batch log compact journal io crash)
  # The I/O sweep reopens logs thousands of times: slow under ASan.
  set(timeout 60)
  if(t STREQUAL "io")
    set(timeout 240)
  endif()
  weir_unit_test(NAME broker.storage_${t} TIMEOUT ${timeout}
    SOURCES unit/test_storage_${t}.c LIBS weir_broker_storage_test)
endforeach()
