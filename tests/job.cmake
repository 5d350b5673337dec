# Values (common/value/), expressions (common/expr/) and the job compiler
# (common/job/).
weir_unit_test(NAME job.expr_eval SOURCES unit/test_expr_eval.c LIBS weir_job)
weir_unit_test(NAME job.expr_parse SOURCES unit/test_expr_parse.c LIBS weir_job)
weir_unit_test(NAME job.value SOURCES unit/test_job_value.c LIBS weir_job)
weir_unit_test(NAME job.compile SOURCES unit/test_job_compile.c LIBS weir_job)
weir_unit_test(NAME job.plan SOURCES unit/test_job_plan.c LIBS weir_job)
weir_unit_test(NAME job.sql SOURCES unit/test_sql_compile.c LIBS weir_job)
target_compile_definitions(test_job_compile PRIVATE
  WEIR_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
# The topology graph behind `weirctl topology --dot` and the dashboard.
weir_unit_test(NAME job.graph SOURCES unit/test_job_graph.c LIBS weir_job)
target_compile_definitions(test_job_graph PRIVATE
  WEIR_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

# libFuzzer targets (WEIR_FUZZ=ON, clang): repeatable smoke runs labelled fuzz.
# Seeds are copied into the build tree, where libFuzzer may add to them.
if(WEIR_FUZZ)
  set(job_seed_expr ${CMAKE_CURRENT_BINARY_DIR}/fuzz_expr_corpus)
  set(job_seed_job ${CMAKE_CURRENT_BINARY_DIR}/fuzz_job_corpus)
  file(MAKE_DIRECTORY ${job_seed_expr} ${job_seed_job})
  file(GLOB job_examples ${PROJECT_SOURCE_DIR}/examples/*.yaml)
  file(COPY ${job_examples} DESTINATION ${job_seed_job})
  # The first byte of an expression seed picks the types (see fuzz_expr.c):
  # A = string value, H = json value, Q = int value with agg.
  set(job_seed_i 0)
  foreach(seed
      "Asplit(lower(value), '[^a-z0-9]+')"
      "Avalue != '' && len(value) > 3"
      "H(value.a.b[1] + 1) * 2 > 3 || !value.c"
      "Aparse_time(regex_extract(value, '\\[([^]]+)\\]'), '%d/%b/%Y:%H:%M:%S %z')"
      "Aconcat(key, ':', to_string(timestamp), headers['h'])"
      "Aif(contains(value, 'x'), substr(value, 1, 2), replace(trim(upper(value)), 'A', 'b'))"
      "Aformat_time(floor_time(window_start + 1, 60000))"
      "Qagg + value % 3"
      "H{page: value.page, n: [1, 2], o: {x: key, y: null}}")
    file(WRITE ${job_seed_expr}/seed${job_seed_i} "${seed}")
    math(EXPR job_seed_i "${job_seed_i} + 1")
  endforeach()
  # Joins (table, and stream within a window) and session windows beside
  # the examples: the syntax the compiler learned with them.
  file(WRITE ${job_seed_job}/joins-sessions.yaml
"job: j
sources:
  a: { topic: a, key: string, value: json }
  b: { topic: b, key: string, value: json }
  t: { topic: t, key: string, value: json, table: true }
max_task_idle_ms: 100
pipeline:
  - from: a
  - join: { with: t, type: left, value: \"{x: value.x, y: right.y}\" }
  - join: { with: b, within: 10m, grace: 1m, type: outer, value: \"{l: value, r: right}\" }
  - group_by: value.l.x
  - window: { type: session, gap: 30m, grace: 0s, emit: latest }
  - aggregate: { function: max, value: \"to_int(value.r.n)\" }
  - map_values: \"{start: window_start, end: window_end, max: value}\"
  - to: out
")
  weir_fuzz_test(NAME job.fuzz_expr TARGET fuzz_expr SOURCE fuzz/fuzz_expr.c
    LIBS weir_job RUNS 1000000 MAX_LEN 512 CORPUS ${job_seed_expr})
  weir_fuzz_test(NAME job.fuzz_job TARGET fuzz_job SOURCE fuzz/fuzz_job.c
    LIBS weir_job RUNS 250000 MAX_LEN 4096 CORPUS ${job_seed_job})
  set(job_seed_sql ${CMAKE_CURRENT_BINARY_DIR}/fuzz_sql_corpus)
  file(MAKE_DIRECTORY ${job_seed_sql})
  file(GLOB sql_examples ${PROJECT_SOURCE_DIR}/examples/*.sql)
  file(COPY ${sql_examples} DESTINATION ${job_seed_sql})
  file(WRITE ${job_seed_sql}/joins.sql
"CREATE STREAM s (k VARCHAR KEY, a VARCHAR, b INT) WITH (KAFKA_TOPIC='in', VALUE_FORMAT='JSON');
CREATE TABLE u (id VARCHAR PRIMARY KEY, c VARCHAR) WITH (KAFKA_TOPIC='u', VALUE_FORMAT='JSON');
CREATE STREAM e AS SELECT s.k, CASE WHEN b > 1 THEN u.c ELSE 'x' END AS c FROM s LEFT JOIN u ON s.k = u.id WHERE a IS NOT NULL AND b IN (1, 2);
CREATE TABLE t WITH (KAFKA_TOPIC='out') AS SELECT c, MAX(b) AS m FROM e WINDOW SESSION (5 MINUTES, GRACE PERIOD 1 SECOND) GROUP BY c PARTITION BY CONCAT(c, FORMAT_TIMESTAMP(WINDOWSTART, 'HH:mm')) EMIT FINAL;
")
  weir_fuzz_test(NAME job.fuzz_sql TARGET fuzz_sql SOURCE fuzz/fuzz_sql.c
    LIBS weir_job RUNS 250000 MAX_LEN 4096 CORPUS ${job_seed_sql})
  weir_fuzz_test(NAME job.fuzz_value TARGET fuzz_job_value
    SOURCE fuzz/fuzz_job_value.c LIBS weir_job RUNS 700000 MAX_LEN 4096)
endif()

# Allocation-failure sweep: the library's allocation calls go through the
# test's wrappers. Not under libFuzzer builds (their runtime allocates too).
if(NOT WEIR_FUZZ)
  weir_unit_test(NAME job.oom SOURCES unit/test_job_oom.c LIBS weir_job
    TIMEOUT 120)
  target_link_options(test_job_oom PRIVATE
    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup
    -Wl,--wrap=strndup,--wrap=vasprintf,--wrap=asprintf)
endif()

# User-defined functions: a plugin built as a shared object the way a user
# would build one (headers only), loaded by the test.
add_library(weir_test_udf MODULE unit/test_job_udf_plugin.c)
target_include_directories(weir_test_udf PRIVATE ${PROJECT_SOURCE_DIR}
  ${PROJECT_BINARY_DIR}/proto/gen)
target_link_libraries(weir_test_udf PRIVATE PkgConfig::PROTOBUFC)
add_dependencies(weir_test_udf weir_proto)
weir_unit_test(NAME job.udf SOURCES unit/test_job_udf.c LIBS weir_job)
target_compile_definitions(test_job_udf PRIVATE
  WEIR_TEST_UDF_PLUGIN="$<TARGET_FILE:weir_test_udf>")
add_dependencies(test_job_udf weir_test_udf)

weir_script_test(NAME sql.cluster LABEL integration
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/integration/cluster_sql.py
  TIMEOUT 180)
# The SQL examples against their YAML twins: the same records out.
foreach(ex wordcount access-per-minute page-latency)
  weir_script_test(NAME sql.${ex} LABEL integration
    COMMAND /usr/bin/python3
      ${PROJECT_SOURCE_DIR}/tests/integration/sql_examples.py ${ex}
    TIMEOUT 180)
endforeach()
