# The job compiler and expression language (common/job/).
weir_unit_test(NAME job.expr_eval SOURCES unit/test_expr_eval.c LIBS weir_job)
