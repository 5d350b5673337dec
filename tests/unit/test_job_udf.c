/* common/job/udf.c: functions registered in-process and from a plugin
 * shared object are typed, called, and refused when they misbehave. */
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
#include "common/expr/udf.h"

static weir_expr_env env;
static weir_arena arena;

static int
setup(void **state)
{
    memset(&env, 0, sizeof(env));
    env.key.type = WEIR_TYPE_STRING;
    env.value.type = WEIR_TYPE_STRING;
    weir_arena_init(&arena, 0);
    return 0;
}

static int
teardown(void **state)
{
    weir_arena_fini(&arena);
    weir_udf_clear();
    return 0;
}

/* Parses and evaluates text on value "abc"; returns rv, *out as text. */
static int
run(const char *text, char *out, size_t outlen, weir_expr_error *err)
{
    weir_expr *e = NULL;
    int rv = weir_expr_parse(text, strlen(text), &env, &e, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    weir_value value = weir_value_string("abc", 3), v;
    weir_expr_ctx ctx = {.value = &value, .arena = &arena};
    rv = weir_expr_eval(e, &ctx, &v, err);
    if (rv == WEIR_OK) {
        weir_buf buf;
        weir_buf_init(&buf);
        assert_int_equal(weir_value_to_json(&v, &buf), WEIR_OK);
        snprintf(out, outlen, "%s", buf.data);
        weir_buf_fini(&buf);
    }
    weir_expr_free(e);
    weir_arena_reset(&arena);
    return rv;
}

static int
twice(const weir_udf_ctx *ctx, const weir_value *args, size_t nargs,
    weir_value *out)
{
    if (args[0].type != WEIR_TYPE_FLOAT && args[0].type != WEIR_TYPE_INT) {
        snprintf(ctx->err, ctx->errlen, "not a number");
        return -1;
    }
    double x =
        args[0].type == WEIR_TYPE_FLOAT ? args[0].u.f : (double)args[0].u.i;
    *out = weir_value_float(2 * x);
    return 0;
}

static void
test_register(void **state)
{
    weir_udf u = {.name = "twice",
        .min_args = 1,
        .max_args = 1,
        .args = {WEIR_TYPE_FLOAT},
        .result = WEIR_TYPE_FLOAT,
        .fn = twice};
    assert_int_equal(weir_udf_register(&u), WEIR_OK);
    assert_int_equal(weir_udf_register(&u), WEIR_EEXIST);
    weir_udf bad = u;
    bad.name = "lower";
    assert_int_equal(weir_udf_register(&bad), WEIR_EEXIST);
    bad.name = "Bad-Name";
    assert_int_equal(weir_udf_register(&bad), WEIR_EINVAL);
    bad.name = "many";
    bad.max_args = WEIR_UDF_MAX_ARGS + 1;
    assert_int_equal(weir_udf_register(&bad), WEIR_EINVAL);
    bad.max_args = 1;
    bad.fn = NULL;
    assert_int_equal(weir_udf_register(&bad), WEIR_EINVAL);

    char out[128];
    weir_expr_error err;
    assert_int_equal(run("twice(21)", out, sizeof(out), &err), WEIR_OK);
    assert_string_equal(out, "42.0");
    assert_int_equal(run("twice(1) + 1", out, sizeof(out), &err), WEIR_OK);
    assert_string_equal(out, "3.0");
    /* Typed like built-ins: argument types and count are checked. */
    assert_int_equal(run("twice(value)", out, sizeof(out), &err), WEIR_EINVAL);
    assert_string_equal(err.msg, "twice: argument 1 is string, expected float");
    assert_int_equal(err.column, 7);
    assert_int_equal(run("twice()", out, sizeof(out), &err), WEIR_EINVAL);
    assert_string_equal(err.msg, "twice takes 1 argument, not 0");
    /* A failing call is a per-record error with the function's message. */
    assert_int_equal(
        run("twice(parse_json('\"x\"'))", out, sizeof(out), &err), WEIR_EINVAL);
    assert_string_equal(err.msg, "twice: not a number");
}

static void
test_plugin(void **state)
{
    char msg[512];
    assert_int_equal(
        weir_udf_load(WEIR_TEST_UDF_PLUGIN, msg, sizeof(msg)), WEIR_OK);
    char out[128];
    weir_expr_error err;
    assert_int_equal(run("reverse(value)", out, sizeof(out), &err), WEIR_OK);
    assert_string_equal(out, "\"cba\"");
    assert_int_equal(
        run("checked_add(1, 2, len(value))", out, sizeof(out), &err), WEIR_OK);
    assert_string_equal(out, "6");
    assert_int_equal(
        run("checked_add(1, -2)", out, sizeof(out), &err), WEIR_EINVAL);
    assert_string_equal(err.msg, "checked_add: negative or null argument");
    assert_int_equal(run("liar()", out, sizeof(out), &err), WEIR_EINVAL);
    assert_string_equal(err.msg, "liar: returned a bool, declared string");
    assert_int_equal(run("reverse(1)", out, sizeof(out), &err), WEIR_EINVAL);

    /* The compiler types jobs with them too. */
    const char *yaml = "job: j\n"
                       "sources: {s: {topic: in}}\n"
                       "pipeline:\n"
                       "  - from: s\n"
                       "  - map_values: \"reverse(value)\"\n"
                       "  - filter: \"checked_add(len(value), 1) > 2\"\n"
                       "  - to: out\n";
    Weir__Topology__Topology *t = NULL;
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    assert_int_equal(
        weir_job_compile(yaml, strlen(yaml), "udf.yaml", &t, &errs), WEIR_OK);
    assert_int_equal(t->subtopologies[0]->operators[1]->value->type,
        WEIR__TOPOLOGY__VALUE_TYPE__TYPE_STRING);
    weir_job_free(t);
    weir_job_errors_fini(&errs);

    /* Loading it again registers the same names: refused. */
    assert_int_equal(
        weir_udf_load(WEIR_TEST_UDF_PLUGIN, msg, sizeof(msg)), WEIR_EINVAL);
    assert_non_null(strstr(msg, "weir_plugin_init refused"));
}

static void
test_load_errors(void **state)
{
    char msg[512];
    assert_int_equal(weir_udf_load("/nonexistent/plugin.so", msg, sizeof(msg)),
        WEIR_ENOTFOUND);
    assert_non_null(strstr(msg, "/nonexistent/plugin.so"));
    /* A shared object that is not a plugin. */
    assert_int_equal(
        weir_udf_load("libm.so.6", msg, sizeof(msg)), WEIR_ENOTFOUND);
    assert_non_null(strstr(msg, "no weir_plugin_init"));
    weir_expr_error err;
    char out[16];
    assert_int_equal(
        run("reverse(value)", out, sizeof(out), &err), WEIR_EPARSE);
    assert_non_null(strstr(err.msg, "unknown function 'reverse'"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
