# weir-verify: exactly-once checker for word-count jobs (tools/verify.c).
add_executable(weir-verify ${CMAKE_CURRENT_SOURCE_DIR}/verify.c)
target_link_libraries(weir-verify PRIVATE weir_common PkgConfig::RDKAFKA)
