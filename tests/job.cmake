# The job compiler and expression language (common/job/).
weir_unit_test(NAME job.expr_eval SOURCES unit/test_expr_eval.c LIBS weir_job)
weir_unit_test(NAME job.expr_parse SOURCES unit/test_expr_parse.c LIBS weir_job)
weir_unit_test(NAME job.value SOURCES unit/test_job_value.c LIBS weir_job)
weir_unit_test(NAME job.compile SOURCES unit/test_job_compile.c LIBS weir_job)
target_compile_definitions(test_job_compile PRIVATE
  WEIR_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
