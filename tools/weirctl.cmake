# weirctl: the cluster's command-line client (the job compiler gives it
# `weirctl topology`).
add_executable(weirctl
  ${CMAKE_CURRENT_LIST_DIR}/weirctl.c
  ${CMAKE_CURRENT_LIST_DIR}/weirctl_json.c
  ${CMAKE_CURRENT_LIST_DIR}/weirctl_table.c
  ${CMAKE_CURRENT_LIST_DIR}/weirctl_http.c
  ${CMAKE_CURRENT_LIST_DIR}/weirctl_sql.c)
target_link_libraries(weirctl PRIVATE weir_common weir_job m edit)
