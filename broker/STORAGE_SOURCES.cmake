# Broker storage engine sources (broker/storage/: segments, index, partition
# logs, compaction, journal). Included by broker/CMakeLists.txt (added to
# weir_broker_lib) and by tests/broker_storage.cmake; paths are relative to
# this file.
list(APPEND WEIR_BROKER_STORAGE_SRCS
  ${CMAKE_CURRENT_LIST_DIR}/storage/crc32c.c
  ${CMAKE_CURRENT_LIST_DIR}/storage/batch.c
  ${CMAKE_CURRENT_LIST_DIR}/storage/store_io.c
  ${CMAKE_CURRENT_LIST_DIR}/storage/store_sync.c
  ${CMAKE_CURRENT_LIST_DIR}/storage/index.c
  ${CMAKE_CURRENT_LIST_DIR}/storage/segment.c
  ${CMAKE_CURRENT_LIST_DIR}/storage/plog.c
  ${CMAKE_CURRENT_LIST_DIR}/storage/plog_files.c
  ${CMAKE_CURRENT_LIST_DIR}/storage/plog_read.c
  ${CMAKE_CURRENT_LIST_DIR}/storage/compact.c
  ${CMAKE_CURRENT_LIST_DIR}/storage/journal.c)
