/* Pull-query paths and parameters (coordinator/query_parse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "coordinator/query.h"

static weir_query *
parse(const char *uri, int want)
{
    weir_query *q = NULL;
    char why[300];
    assert_int_equal(weir_query_parse(uri, &q, why, sizeof(why)), want);
    return q;
}

static void
test_key(void **state)
{
    weir_query *q = parse("/api/jobs/wordcount/stores/counts/keys/kafka", 1);
    assert_string_equal(q->job, "wordcount");
    assert_string_equal(q->store, "counts");
    assert_string_equal(q->key, "kafka");
    assert_false(q->scan);
    assert_false(q->has_range);
    weir_query_free(q);
    q = parse("/api/jobs/j/stores/s/keys/a%20b%2Fc?from=10&to=20", 1);
    assert_string_equal(q->key, "a b/c");
    assert_true(q->has_range);
    assert_int_equal(q->from_ms, 10);
    assert_int_equal(q->to_ms, 20);
    weir_query_free(q);
    (void)state;
}

static void
test_scan(void **state)
{
    weir_query *q = parse("/api/jobs/j/stores/s?prefix=ab&limit=5", 1);
    assert_true(q->scan);
    assert_null(q->key);
    assert_string_equal(q->prefix, "ab");
    assert_int_equal(q->limit, 5);
    weir_query_free(q);
    q = parse("/api/jobs/j/stores/s", 1);
    assert_string_equal(q->prefix, "");
    assert_int_equal(q->limit, WEIR_QUERY_LIMIT_MAX);
    weir_query_free(q);
    (void)state;
}

static void
test_not_queries_and_malformed(void **state)
{
    assert_null(parse("/api/jobs", 0));
    assert_null(parse("/metrics", 0));
    assert_null(parse("/api/jobs/j/tasks", 0));
    assert_null(parse("/api/jobs//stores/s/keys/k", -1));
    assert_null(parse("/api/jobs/j/stores//keys/k", -1));
    assert_null(parse("/api/jobs/j/stores/s/keys/", -1));
    assert_null(parse("/api/jobs/j/stores/s/keys/a/b", -1));
    assert_null(parse("/api/jobs/j/stores/s/keys/%zz", -1));
    assert_null(parse("/api/jobs/j/stores/s/keys/k%4", -1));
    assert_null(parse("/api/jobs/j/stores/s/keys/k?from=x", -1));
    assert_null(parse("/api/jobs/j/stores/s?limit=0", -1));
    assert_null(parse("/api/jobs/j/stores/s?limit=1001", -1));
    assert_null(parse("/api/jobs/j/stores/s?limit=5x", -1));
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_not_queries_and_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
