/*
 * Allocation-failure sweep (libuv's test-loop-oom idea): the job compiler
 * and the expression language are run with the n-th allocation failing,
 * for every n until a run needs no failure. Each run must fail cleanly
 * with WEIR_ENOMEM (or succeed with the same result), never crash, never
 * report success with a partial topology, and never leak (LeakSanitizer
 * checks at exit under the sanitizer build).
 *
 * Allocation calls of the code under test are redirected here by the
 * linker (--wrap, see tests/job.cmake).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/expr/expr.h"
#include "common/job/job.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **out, const char *fmt, va_list ap);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap);
int __wrap_asprintf(char **out, const char *fmt, ...);

static long countdown = -1; /* allocations left before one fails; -1 off */
static long failures;

static long allocations; /* every allocation call, failed or not */

static bool
fail_now(void)
{
    allocations++;
    if (countdown < 0) {
        return false;
    }
    if (countdown-- == 0) {
        failures++;
        return true;
    }
    return false;
}

void *
__wrap_malloc(size_t size)
{
    return fail_now() ? NULL : __real_malloc(size);
}

void *
__wrap_calloc(size_t n, size_t size)
{
    return fail_now() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t size)
{
    return fail_now() ? NULL : __real_realloc(p, size);
}

char *
__wrap_strdup(const char *s)
{
    return fail_now() ? NULL : __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
    return fail_now() ? NULL : __real_strndup(s, n);
}

int
__wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
    if (fail_now()) {
        *out = NULL;
        return -1;
    }
    return __real_vasprintf(out, fmt, ap);
}

int
__wrap_asprintf(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rv = __wrap_vasprintf(out, fmt, ap);
    va_end(ap);
    return rv;
}

static const char *good_job =
    "job: shop\n"
    "sources:\n"
    "  orders: {topic: orders, value: json, partitions: 2}\n"
    "pipeline:\n"
    "  - from: orders\n"
    "  - filter: \"value.amount > 0 && len(split(lower(value.user), "
    "'[^a-z]+')) > 0\"\n"
    "  - map: {key: \"to_string(value.user)\", value: \"value.amount\"}\n"
    "  - group_by: key\n"
    "  - window: {type: hopping, size: 10m, advance: 1m, grace: 1s, time: "
    "\"parse_time(regex_extract(to_string(value), '([0-9-]+)'))\"}\n"
    "  - aggregate: {function: sum, store: spend}\n"
    "  - select_key: \"format_time(window_start, '%H:%M')\"\n"
    "  - to: {topic: spend, value: json}\n"
    "  - group_by: \"concat(key, '!')\"\n"
    "  - count:\n"
    "  - to: totals\n";

static const char *bad_job = "job: j\n"
                             "sources: {s: {topic: in}, t: {topic: x}}\n"
                             "pipeline:\n"
                             "  - from: s\n"
                             "  - filter: \"value +\"\n"
                             "  - map_values: \"lower(1)\"\n"
                             "  - bogus: 1\n"
                             "  - count: {store: 'a b'}\n";

/* The packed form, to compare successful runs with the reference. */
static uint8_t *
pack(const Weir__Topology__Topology *t, size_t *len)
{
    *len = weir__topology__topology__get_packed_size(t);
    uint8_t *buf = __real_malloc(*len + 1);
    weir__topology__topology__pack(t, buf);
    return buf;
}

static void
test_compile_sweep(void **state)
{
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    Weir__Topology__Topology *ref = NULL;
    assert_int_equal(
        weir_job_compile(good_job, strlen(good_job), "oom.yaml", &ref, &errs),
        WEIR_OK);
    size_t ref_len;
    uint8_t *ref_buf = pack(ref, &ref_len);
    weir_job_free(ref);
    long n;
    for (n = 0;; n++) {
        Weir__Topology__Topology *t = NULL;
        long before = failures;
        countdown = n;
        int rv =
            weir_job_compile(good_job, strlen(good_job), "oom.yaml", &t, &errs);
        countdown = -1;
        if (failures == before) {
            assert_int_equal(rv, WEIR_OK); /* no failure injected: done */
            weir_job_free(t);
            break;
        }
        if (rv == WEIR_OK) {
            /* A failure that was absorbed must not change the result. */
            size_t len;
            uint8_t *buf = pack(t, &len);
            assert_int_equal(len, ref_len);
            assert_memory_equal(buf, ref_buf, len);
            free(buf);
            weir_job_free(t);
        } else {
            assert_int_equal(rv, WEIR_ENOMEM);
            assert_null(t);
        }
    }
    assert_true(n > 100);
    free(ref_buf);

    /* A bad file never compiles, whatever fails. */
    for (n = 0;; n++) {
        Weir__Topology__Topology *t = NULL;
        long before = failures;
        countdown = n;
        int rv =
            weir_job_compile(bad_job, strlen(bad_job), "bad.yaml", &t, &errs);
        countdown = -1;
        assert_null(t);
        assert_true(rv == WEIR_EPARSE || rv == WEIR_ENOMEM);
        if (failures == before) {
            assert_int_equal(rv, WEIR_EPARSE);
            assert_int_equal(errs.count, 7);
            break;
        }
    }
    weir_job_errors_fini(&errs);
}

static void
test_expr_sweep(void **state)
{
    static const char e1[] =
        "concat(upper(value), '-', to_string(len(split(value, '[ ,]+'))))";
    static const char e2[] =
        "regex_extract(value, '(o+)') + replace(value, 'o', '00')";
    static const char e3[] =
        "if(contains(value, 'x'), parse_json('[1, {\"a\": 2}]'), null)";
    static const char e4[] = "format_time(parse_time('2022-01-01T00:00:00Z'), "
                             "'%Y') + to_json(split(value, 'o'))";
    static const char *exprs[] = {e1, e2, e3, e4};
    weir_expr_env env;
    memset(&env, 0, sizeof(env));
    env.value.type = WEIR_TYPE_STRING;
    weir_value value = weir_value_string("foo, boo xoo", 12);
    for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
        for (long n = 0;; n++) {
            weir_expr *e = NULL;
            weir_expr_error err;
            weir_arena arena;
            long before = failures;
            countdown = n;
            int rv =
                weir_expr_parse(exprs[i], strlen(exprs[i]), &env, &e, &err);
            if (rv == WEIR_OK) {
                weir_arena_init(&arena, 0);
                weir_expr_ctx ctx = {.value = &value, .arena = &arena};
                weir_value out;
                rv = weir_expr_eval(e, &ctx, &out, &err);
                weir_arena_fini(&arena);
                weir_expr_free(e);
            } else {
                assert_null(e);
            }
            countdown = -1;
            if (failures == before) {
                assert_int_equal(rv, WEIR_OK);
                break;
            }
            if (rv != WEIR_OK) {
                assert_int_equal(rv, WEIR_ENOMEM);
            }
        }
    }
}

/* Once its arena has grown, evaluating the examples' expressions makes no
 * heap allocation of ours (the C library's regexec may make its own; the
 * byte-set split does not call it). */
static void
test_eval_allocates_nothing(void **state)
{
    static const char access[] =
        "format_time(parse_time(regex_extract(value, '\\[([^]]+)\\]'), "
        "'%d/%b/%Y:%H:%M:%S %z'), '%Y-%m-%d %H:%M:%S')";
    static const char *exprs[] = {"split(lower(value), '[^a-z0-9]+')",
        "value != ''", "concat(key, ':', to_string(len(value)), to_json([1]))",
        access};
    weir_expr_env env;
    memset(&env, 0, sizeof(env));
    env.key.type = env.value.type = WEIR_TYPE_STRING;
    const char *line = "1.2.3.4 - - [01/Jan/2022:12:00:03 +0000] \"GET / "
                       "HTTP/1.1\" 200 42";
    weir_value key = weir_value_string("k", 1);
    weir_value value = weir_value_string(line, strlen(line));
    weir_arena arena;
    weir_arena_init(&arena, 0);
    weir_expr_ctx ctx = {.key = &key, .value = &value, .arena = &arena};
    for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
        weir_expr *e = NULL;
        weir_expr_error err;
        weir_value out;
        assert_int_equal(
            weir_expr_parse(exprs[i], strlen(exprs[i]), &env, &e, &err),
            WEIR_OK);
        assert_int_equal(weir_expr_eval(e, &ctx, &out, &err), WEIR_OK);
        weir_arena_reset(&arena);
        long before = allocations;
        for (int k = 0; k < 100; k++) {
            assert_int_equal(weir_expr_eval(e, &ctx, &out, &err), WEIR_OK);
            weir_arena_reset(&arena);
        }
        if (allocations != before) {
            fail_msg("%s: %ld heap allocations in 100 evaluations", exprs[i],
                allocations - before);
        }
        weir_expr_free(e);
    }
    weir_arena_fini(&arena);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_sweep),
        cmocka_unit_test(test_expr_sweep),
        cmocka_unit_test(test_eval_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
