/* SQL jobs (common/job/sql_*.c): every statement form compiles into the
 * expected operators; errors name the statement, line and column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/job/job.h"

#define OPK(x) WEIR__TOPOLOGY__OP_KIND__OP_##x

static Weir__Topology__Topology *
compile_ok(const char *sql)
{
    Weir__Topology__Topology *t = NULL;
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    int rv = weir_job_compile(sql, strlen(sql), "dir/my-job.sql", &t, &errs);
    if (rv != WEIR_OK) {
        weir_job_errors_print(&errs, stderr);
        weir_job_errors_fini(&errs);
        fail_msg("compile failed");
    }
    weir_job_errors_fini(&errs);
    return t;
}

static void
expect_errors(const char *sql, const char *expected)
{
    Weir__Topology__Topology *t = NULL;
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    int rv = weir_job_compile(sql, strlen(sql), "bad.sql", &t, &errs);
    assert_int_equal(rv, WEIR_EPARSE);
    assert_null(t);
    char *got = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&got, &len);
    weir_job_errors_print(&errs, fp);
    fclose(fp);
    weir_job_errors_fini(&errs);
    if (strcmp(got, expected) != 0) {
        fprintf(stderr, "--- expected\n%s--- got\n%s", expected, got);
        free(got);
        fail_msg("errors differ");
    }
    free(got);
}

/* The operators of subtopology sub, by kind, in order. */
static void
expect_ops(
    const Weir__Topology__Topology *t, size_t sub, const int *kinds, size_t n)
{
    assert_true(sub < t->n_subtopologies);
    const Weir__Topology__Subtopology *st = t->subtopologies[sub];
    assert_int_equal(st->n_operators, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(st->operators[i]->kind, kinds[i]);
}

static const Weir__Topology__Operator *
op(const Weir__Topology__Topology *t, size_t sub, size_t i)
{
    return t->subtopologies[sub]->operators[i];
}

#define SRC                                                                    \
    "CREATE STREAM s (k VARCHAR KEY, a VARCHAR, b INT, c DOUBLE) "             \
    "WITH (KAFKA_TOPIC='in', VALUE_FORMAT='JSON');\n"

static void
test_wordcount(void **state)
{
    Weir__Topology__Topology *t = compile_ok(
        "-- the seeds' word count\n"
        "CREATE STREAM lines (line VARCHAR) WITH (KAFKA_TOPIC='text-lines', "
        "VALUE_FORMAT='KAFKA', PARTITIONS=4);\n"
        "CREATE STREAM words AS SELECT EXPLODE(REGEXP_SPLIT_TO_ARRAY("
        "LCASE(line), '[^a-z0-9]+')) AS word FROM lines;\n"
        "CREATE TABLE wordcounts WITH (KAFKA_TOPIC='wordcounts', "
        "KEY_FORMAT='KAFKA', VALUE_FORMAT='DELIMITED') AS\n"
        "  SELECT word, COUNT(*) AS n FROM words WHERE word != '' GROUP BY "
        "word EMIT CHANGES;\n");
    assert_string_equal(t->job, "my-job");
    assert_string_equal(t->spec_path, "dir/my-job.sql");
    assert_non_null(strstr(t->spec_yaml, "CREATE TABLE wordcounts"));
    int up[] = {OPK(SOURCE), OPK(FLAT_MAP_VALUES), OPK(FILTER), OPK(SELECT_KEY),
        OPK(REPARTITION)};
    expect_ops(t, 0, up, 5);
    int down[] = {OPK(SOURCE), OPK(COUNT), OPK(SINK)};
    expect_ops(t, 1, down, 3);
    assert_string_equal(
        op(t, 0, 1)->value->text, "split(lower(value), '[^a-z0-9]+')");
    assert_string_equal(op(t, 0, 2)->predicate->text, "(value != '')");
    assert_string_equal(op(t, 1, 1)->store, "wordcounts");
    assert_string_equal(op(t, 1, 2)->topic, "wordcounts");
    assert_int_equal(
        op(t, 1, 2)->value_format, WEIR__TOPOLOGY__FORMAT__FORMAT_STRING);
    /* Operators point at the SQL: the count at COUNT(*) on line 5. */
    assert_int_equal(op(t, 1, 1)->line, 5);
    weir_job_free(t);
    (void)state;
}

static void
test_projection_and_functions(void **state)
{
    Weir__Topology__Topology *t = compile_ok(
        SRC "CREATE STREAM o WITH (KAFKA_TOPIC='out', VALUE_FORMAT='JSON') "
            "AS SELECT k, UCASE(a) AS big, SUBSTRING(a, 2, 3) AS mid,\n"
            "  CASE WHEN b > 1 THEN 'many' ELSE 'few' END AS n,\n"
            "  CAST(b AS VARCHAR) AS bs, COALESCE(a, 'x') AS a2,\n"
            "  EXTRACTJSONFIELD(a, '$.x.y[0]') AS j,\n"
            "  FORMAT_TIMESTAMP(ROWTIME, 'yyyy-MM-dd''T''HH:mm') AS at\n"
            "FROM s WHERE a IS NOT NULL AND b IN (1, 2) OR NOT c < 0.5;\n");
    int ops[] = {OPK(SOURCE), OPK(FILTER), OPK(MAP_VALUES), OPK(SINK)};
    expect_ops(t, 0, ops, 4);
    assert_string_equal(op(t, 0, 1)->predicate->text,
        "(((if(is_null(value.a), null, to_string(value.a)) != null) && "
        "(if(is_null(value.b), null, to_int(value.b)) in [1, 2])) || "
        "!((if(is_null(value.c), null, to_float(value.c)) < 0.5)))");
    const char *v = op(t, 0, 2)->value->text;
    assert_non_null(strstr(v, "big: upper("));
    assert_non_null(strstr(v, "mid: substr("));
    assert_non_null(strstr(v, " - 1, 3)"));
    assert_non_null(strstr(v, "n: if(("));
    assert_non_null(strstr(v, "'many', 'few')"));
    assert_non_null(strstr(v, "bs: to_string("));
    assert_non_null(strstr(v, "a2: coalesce("));
    assert_non_null(strstr(v, ")['x']['y'][0]"));
    assert_non_null(strstr(v, "at: format_time(timestamp, '%Y-%m-%dT%H:%M')"));
    assert_null(strstr(v, "k: ")); /* the key stays the key */
    weir_job_free(t);
    (void)state;
}

static void
test_delimited_and_partition_by(void **state)
{
    Weir__Topology__Topology *t = compile_ok(
        "CREATE STREAM s (id BIGINT KEY, name VARCHAR, score DOUBLE) WITH "
        "(KAFKA_TOPIC='in', VALUE_FORMAT='DELIMITED');\n"
        "CREATE STREAM o WITH (KAFKA_TOPIC='out', VALUE_FORMAT='DELIMITED') "
        "AS SELECT name, score FROM s PARTITION BY name;\n");
    int ops[] = {OPK(SOURCE), OPK(MAP), OPK(SINK)};
    expect_ops(t, 0, ops, 3);
    assert_int_equal(
        op(t, 0, 0)->key_format, WEIR__TOPOLOGY__FORMAT__FORMAT_INT64);
    assert_string_equal(op(t, 0, 1)->key->text, "split(value, ',')[0]");
    assert_string_equal(op(t, 0, 1)->value->text,
        "concat(split(value, ',')[0], ',', to_float(split(value, ',')[1]))");
    weir_job_free(t);
    (void)state;
}

static void
test_windows(void **state)
{
    Weir__Topology__Topology *t = compile_ok(
        SRC "CREATE TABLE w WITH (KAFKA_TOPIC='out') AS SELECT a, MAX(c) AS "
            "top FROM s\n"
            "  WINDOW SESSION (30 MINUTES, GRACE PERIOD 10 SECONDS)\n"
            "  GROUP BY a EMIT FINAL;\n");
    const Weir__Topology__Window *w = op(t, 1, 1)->window;
    assert_int_equal(w->kind, WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_SESSION);
    assert_int_equal(w->gap_ms, 1800000);
    assert_int_equal(w->grace_ms, 10000);
    assert_int_equal(w->emit, WEIR__TOPOLOGY__EMIT__EMIT_FINAL);
    assert_int_equal(op(t, 1, 1)->agg, WEIR__TOPOLOGY__AGG_FUNC__AGG_MAX);
    weir_job_free(t);
    t = compile_ok(SRC "CREATE STREAM h WITH (TIMESTAMP='b') AS SELECT a, b "
                       "FROM s;\n"
                       "CREATE TABLE w WITH (KAFKA_TOPIC='out') AS SELECT a, "
                       "AVG(b) AS m FROM h\n"
                       "  WINDOW HOPPING (SIZE 5 MINUTES, ADVANCE BY 1 "
                       "MINUTE) GROUP BY a\n"
                       "  PARTITION BY CONCAT(a, '@', "
                       "FORMAT_TIMESTAMP(WINDOWEND, 'HH:mm'));\n");
    const Weir__Topology__Operator *agg = op(t, 1, 1);
    assert_int_equal(agg->kind, OPK(AGGREGATE));
    assert_int_equal(agg->agg, WEIR__TOPOLOGY__AGG_FUNC__AGG_AVG);
    assert_int_equal(
        agg->window->kind, WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_HOPPING);
    assert_int_equal(agg->window->size_ms, 300000);
    assert_int_equal(agg->window->advance_ms, 60000);
    assert_non_null(agg->window->time);
    assert_string_equal(agg->window->time->text, "to_time(value.b)");
    assert_string_equal(op(t, 1, 2)->key->text,
        "concat(key, '@', format_time(window_end, '%H:%M'))");
    weir_job_free(t);
    (void)state;
}

static void
test_joins(void **state)
{
    Weir__Topology__Topology *t = compile_ok(
        SRC "CREATE TABLE u (id VARCHAR PRIMARY KEY, country VARCHAR) WITH "
            "(KAFKA_TOPIC='users', VALUE_FORMAT='JSON');\n"
            "CREATE STREAM e WITH (KAFKA_TOPIC='out') AS SELECT s.k, a, "
            "u.country FROM s LEFT JOIN u ON s.k = u.id;\n");
    const Weir__Topology__Operator *j = op(t, 0, 2);
    assert_int_equal(j->kind, OPK(STREAM_TABLE_JOIN));
    assert_int_equal(j->join_type, WEIR__TOPOLOGY__JOIN_TYPE__JOIN_LEFT);
    weir_job_free(t);
    t = compile_ok(
        SRC "CREATE STREAM c (k VARCHAR KEY, page VARCHAR) WITH "
            "(KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON');\n"
            "CREATE STREAM e WITH (KAFKA_TOPIC='out') AS SELECT x.a, y.page "
            "FROM s x FULL OUTER JOIN c y WITHIN 10 MINUTES GRACE PERIOD 1 "
            "MINUTE ON x.a = y.k;\n");
    int ops[] = {OPK(SOURCE), OPK(SELECT_KEY), OPK(REPARTITION)};
    expect_ops(t, 0, ops, 3); /* re-keyed by a for the join */
    j = op(t, 1, 2);
    assert_int_equal(j->kind, OPK(STREAM_STREAM_JOIN));
    assert_int_equal(j->join_type, WEIR__TOPOLOGY__JOIN_TYPE__JOIN_OUTER);
    assert_int_equal(j->join_window_ms, 600000);
    assert_int_equal(j->join_grace_ms, 60000);
    weir_job_free(t);
    (void)state;
}

static void
test_errors(void **state)
{
    expect_errors("CREATE STREAM s (a VARCHAR) WITH (KAFKA_TOPIC='in');\n"
                  "CREATE STREAM t AS SELECT a FROM s WHERE a + ;\n",
        "bad.sql:2:46: error: syntax error near ';'\n");
    expect_errors("CREATE STREAM s (a VARCHAR) WITH (KAFKA_TOPIC='in);\n",
        "bad.sql:1:47: error: unterminated string\n");
    expect_errors("CREATE STREAM s (a VARCHAR) WITH (KAFKA_TOPIC='in')",
        "bad.sql:1:52: error: syntax error: the statement ends too soon (a "
        "missing ';'?)\n");
    expect_errors(SRC "CREATE STREAM t AS SELECT a, nope FROM s;\n",
        "bad.sql:2:30: error: unknown column nope\n");
    expect_errors(SRC "CREATE STREAM t AS SELECT FOO(a) FROM s;\n",
        "bad.sql:2:27: error: unknown function FOO\n");
    expect_errors(SRC
        "CREATE STREAM t AS SELECT a FROM s\n  WHERE LEN(b) > 1;\n",
        "bad.sql:3:9: error: in CREATE STREAM t: WHERE: len: argument 1 is "
        "int, expected a string, bytes, list or json\n");
    expect_errors("CREATE STREAM s (a VARCHAR) WITH (VALUE_FORMAT='XML');\n",
        "bad.sql:1:48: error: VALUE_FORMAT: expected 'KAFKA', 'JSON' or "
        "'DELIMITED', found 'XML'\n");
    expect_errors("CREATE STREAM s (a VARCHAR) WITH (VALUE_FORMAT='JSON');\n",
        "bad.sql:1:1: error: CREATE STREAM s: WITH (KAFKA_TOPIC='...') is "
        "required\n");
    expect_errors("CREATE TABLE u (id VARCHAR) WITH (KAFKA_TOPIC='u');\n",
        "bad.sql:1:1: error: CREATE TABLE u: a table needs a PRIMARY KEY "
        "column\n");
    expect_errors(SRC "CREATE TABLE c AS SELECT a, COUNT(*) AS n, SUM(b) AS m "
                      "FROM s GROUP BY a;\n",
        "bad.sql:2:44: error: one aggregate per query (Weir aggregates once "
        "per GROUP BY)\n");
    expect_errors(SRC "CREATE TABLE c AS SELECT a, COUNT(*) FROM s GROUP BY a "
                      "EMIT FINAL;\n",
        "bad.sql:2:1: error: EMIT FINAL needs a WINDOW\n");
    expect_errors(SRC "CREATE STREAM t AS SELECT a FROM s;\n"
                      "CREATE STREAM u AS SELECT b FROM s;\n",
        "bad.sql:3:34: error: a job is one pipeline: this query must read t, "
        "which the query before it makes (or go in a .sql job of its own)\n");
    expect_errors(SRC
        "CREATE STREAM t AS SELECT a FROM s WINDOW TUMBLING (SIZE "
        "1 FORTNIGHT);\n",
        "bad.sql:2:60: error: unknown time unit 'FORTNIGHT' (expected "
        "MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS)\n");
    expect_errors(SRC, "bad.sql:1:1: error: no query: a job needs a CREATE "
                       "STREAM or TABLE ... AS SELECT\n");
    (void)state;
}

/* weirctl sql's view of statements: a table's key column, and the
 * column (with its position) a pull query's WHERE names. */
static void
test_statement_keys(void **state)
{
    static const char text[] =
        "CREATE TABLE users (id VARCHAR PRIMARY KEY, name VARCHAR)\n"
        "  WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON');\n"
        "CREATE STREAM lines (line VARCHAR) WITH (KAFKA_TOPIC='t');\n"
        "CREATE TABLE c WITH (KAFKA_TOPIC='c') AS SELECT line AS w, "
        "COUNT(*) AS n FROM lines GROUP BY line;\n"
        "CREATE TABLE d AS SELECT line, COUNT(*) FROM lines GROUP BY line;\n"
        "SELECT * FROM c\n  WHERE n = 3;\n";
    weir_sql_statement *st = NULL;
    size_t n = 0;
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    assert_int_equal(WEIR_OK,
        weir_sql_statements(text, strlen(text), "sql", &st, &n, &errs));
    assert_int_equal(5, n);
    assert_string_equal("id", st[0].key_column);
    assert_string_equal("", st[1].key_column);
    assert_string_equal("w", st[2].key_column);
    assert_string_equal("line", st[3].key_column);
    assert_int_equal(WEIR_SQL_PULL, st[4].kind);
    assert_string_equal("n", st[4].key_column);
    assert_string_equal("3", st[4].key);
    assert_int_equal(7, st[4].line);
    assert_int_equal(9, st[4].column);
    free(st);
    weir_job_errors_fini(&errs);
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wordcount),
        cmocka_unit_test(test_projection_and_functions),
        cmocka_unit_test(test_delimited_and_partition_by),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_joins),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_statement_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
