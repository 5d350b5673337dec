# weirctl: the cluster's command-line client (needs the job compiler for
# `weirctl topology`; built once common/job defines it).
if(WEIR_HAVE_JOB_COMPILER)
  add_executable(weirctl
    ${CMAKE_CURRENT_LIST_DIR}/weirctl.c
    ${CMAKE_CURRENT_LIST_DIR}/weirctl_json.c
    ${CMAKE_CURRENT_LIST_DIR}/weirctl_table.c)
  target_link_libraries(weirctl PRIVATE weir_common weir_job m)
endif()
