# Broker storage engine sources (owned by the storage engineer). Included by
# broker/CMakeLists.txt (added to weir_broker_lib) and by
# tests/broker_storage.cmake; paths are relative to this file.
list(APPEND WEIR_BROKER_STORAGE_SRCS
  ${CMAKE_CURRENT_LIST_DIR}/crc32c.c
  ${CMAKE_CURRENT_LIST_DIR}/batch.c
  ${CMAKE_CURRENT_LIST_DIR}/store_io.c
  ${CMAKE_CURRENT_LIST_DIR}/store_sync.c
  ${CMAKE_CURRENT_LIST_DIR}/index.c
  ${CMAKE_CURRENT_LIST_DIR}/segment.c
  ${CMAKE_CURRENT_LIST_DIR}/log.c
  ${CMAKE_CURRENT_LIST_DIR}/log_files.c
  ${CMAKE_CURRENT_LIST_DIR}/log_read.c
  ${CMAKE_CURRENT_LIST_DIR}/compact.c
  ${CMAKE_CURRENT_LIST_DIR}/journal.c)
