# weir-chaos: the chaos tool (Python, tools/chaos/), copied next to the
# binaries it drives so that build/bin/weir-chaos finds them.
file(GLOB weir_chaos_package ${CMAKE_CURRENT_LIST_DIR}/chaos/weir_chaos/*.py)
set(weir_chaos_out ${CMAKE_RUNTIME_OUTPUT_DIRECTORY}/weir-chaos)
add_custom_command(OUTPUT ${weir_chaos_out}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_RUNTIME_OUTPUT_DIRECTORY}/weir_chaos
  COMMAND ${CMAKE_COMMAND} -E copy ${weir_chaos_package} ${CMAKE_RUNTIME_OUTPUT_DIRECTORY}/weir_chaos/
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_CURRENT_LIST_DIR}/chaos/weir-chaos ${weir_chaos_out}
  DEPENDS ${CMAKE_CURRENT_LIST_DIR}/chaos/weir-chaos ${weir_chaos_package}
  COMMENT "weir-chaos")
add_custom_target(weir-chaos ALL DEPENDS ${weir_chaos_out})
# The source tree, for examples/ and scripts/kafka (--kafka).
file(WRITE ${CMAKE_RUNTIME_OUTPUT_DIRECTORY}/weir_chaos/source_dir.txt "${PROJECT_SOURCE_DIR}\n")
