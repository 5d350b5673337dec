/* common/expr/expr_parse.c: syntax and type errors with exact columns,
 * result types, and no crash on garbage. */
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

static weir_expr_env env;

static int
setup(void **state)
{
    memset(&env, 0, sizeof(env));
    env.key.type = WEIR_TYPE_STRING;
    env.value.type = WEIR_TYPE_STRING;
    return 0;
}

static weir_stype
type_of(const char *text)
{
    weir_expr *e = NULL;
    weir_expr_error err;
    int rv = weir_expr_parse(text, strlen(text), &env, &e, &err);
    if (rv != WEIR_OK) {
        fail_msg("%s: %s (column %u)", text, err.msg, err.column);
    }
    weir_stype t = weir_expr_type(e);
    assert_string_equal(weir_expr_text(e), text);
    weir_expr_free(e);
    return t;
}

static void
expect_error(const char *text, int code, unsigned column, const char *fragment)
{
    weir_expr *e = NULL;
    weir_expr_error err;
    int rv = weir_expr_parse(text, strlen(text), &env, &e, &err);
    if (rv == WEIR_OK) {
        weir_expr_free(e);
        fail_msg("%s parsed, expected '%s'", text, fragment);
    }
    assert_null(e);
    if (rv != code || err.column != column ||
        strstr(err.msg, fragment) == NULL) {
        fail_msg("%s: got rv %d column %u '%s', expected rv %d column %u '%s'",
            text, rv, err.column, err.msg, code, column, fragment);
    }
}

static void
test_objects_and_right(void **state)
{
    assert_int_equal(type_of("{a: 1, 'b c': value}").type, WEIR_TYPE_JSON);
    assert_int_equal(type_of("{}").type, WEIR_TYPE_JSON);
    expect_error("{a: 1, a: 2}", WEIR_EINVAL, 8, "member 'a' appears twice");
    expect_error("{a 1}", WEIR_EPARSE, 4, "expected ':'");
    expect_error("{a: 1 b: 2}", WEIR_EPARSE, 7, "expected ',' or '}'");
    expect_error("{1: 2}", WEIR_EPARSE, 2, "expected a member name");
    expect_error("{a: 1", WEIR_EPARSE, 6, "expected ',' or '}'");
    expect_error("right", WEIR_EPARSE, 1, "'right' is only defined in a join");
}

static void
test_types(void **state)
{
    assert_int_equal(type_of("1").type, WEIR_TYPE_INT);
    assert_int_equal(type_of("1.5").type, WEIR_TYPE_FLOAT);
    assert_int_equal(type_of("1 + 1.5").type, WEIR_TYPE_FLOAT);
    assert_int_equal(type_of("'a'").type, WEIR_TYPE_STRING);
    assert_int_equal(type_of("value + key").type, WEIR_TYPE_STRING);
    assert_int_equal(type_of("value != ''").type, WEIR_TYPE_BOOL);
    assert_int_equal(type_of("timestamp").type, WEIR_TYPE_TIME);
    assert_int_equal(type_of("timestamp + 1000").type, WEIR_TYPE_TIME);
    assert_int_equal(type_of("timestamp - timestamp").type, WEIR_TYPE_INT);
    assert_int_equal(type_of("timestamp % 60000").type, WEIR_TYPE_INT);
    assert_int_equal(type_of("headers['a']").type, WEIR_TYPE_STRING);
    assert_int_equal(type_of("null").type, WEIR_TYPE_NULL);
    weir_stype t = type_of("split(lower(value), '[^a-z0-9]+')");
    assert_int_equal(t.type, WEIR_TYPE_LIST);
    assert_int_equal(t.elem, WEIR_TYPE_STRING);
    assert_int_equal(type_of("split(value, ',')[0]").type, WEIR_TYPE_STRING);
    assert_int_equal(type_of("len(value)").type, WEIR_TYPE_INT);
    assert_int_equal(type_of("parse_time(value)").type, WEIR_TYPE_TIME);
    assert_int_equal(type_of("format_time(timestamp)").type, WEIR_TYPE_STRING);
    assert_int_equal(type_of("if(true, 1, 2)").type, WEIR_TYPE_INT);
    assert_int_equal(type_of("if(true, 1, 2.0)").type, WEIR_TYPE_FLOAT);
    assert_int_equal(type_of("if(true, null, 'x')").type, WEIR_TYPE_STRING);
    assert_int_equal(
        type_of("coalesce(headers['a'], 'x')").type, WEIR_TYPE_STRING);
    assert_int_equal(type_of("to_int(value)").type, WEIR_TYPE_INT);
    assert_int_equal(type_of("to_float(value)").type, WEIR_TYPE_FLOAT);
    assert_int_equal(type_of("to_time(5)").type, WEIR_TYPE_TIME);
    assert_int_equal(type_of("parse_json(value)").type, WEIR_TYPE_JSON);
    assert_int_equal(type_of("parse_json(value).a.b").type, WEIR_TYPE_JSON);
    assert_int_equal(type_of("parse_json(value).a + 1").type, WEIR_TYPE_ANY);
    assert_int_equal(type_of("  value  ").type, WEIR_TYPE_STRING);
    t = type_of("[1, 2.5]");
    assert_int_equal(t.type, WEIR_TYPE_LIST);
    assert_int_equal(t.elem, WEIR_TYPE_FLOAT);
    assert_int_equal(type_of("[]").elem, WEIR_TYPE_ANY);
    assert_int_equal(type_of("['a', null][0]").type, WEIR_TYPE_STRING);
    assert_int_equal(type_of("value in ['a', 'b']").type, WEIR_TYPE_BOOL);
    /* JSON values type-check anywhere: they are checked at run time. */
    env.value.type = WEIR_TYPE_JSON;
    assert_int_equal(type_of("value.user.id").type, WEIR_TYPE_JSON);
    assert_int_equal(type_of("lower(value.name)").type, WEIR_TYPE_STRING);
    assert_int_equal(type_of("value.n * 2 > 3").type, WEIR_TYPE_BOOL);
    assert_int_equal(type_of("value['a b'][0]").type, WEIR_TYPE_JSON);
}

static void
test_syntax_errors(void **state)
{
    expect_error("", WEIR_EPARSE, 1, "empty expression");
    expect_error("   ", WEIR_EPARSE, 4, "empty expression");
    expect_error("1 +", WEIR_EPARSE, 4, "expected a value");
    expect_error("(1 + 2", WEIR_EPARSE, 7, "expected ')', found the end");
    expect_error("1 2", WEIR_EPARSE, 3, "expected an operator or the end");
    expect_error("value ==", WEIR_EPARSE, 9, "expected a value");
    expect_error("'abc", WEIR_EPARSE, 1, "unterminated string");
    expect_error("lower(value", WEIR_EPARSE, 12, "expected ',' or ')'");
    expect_error("lower(value,)", WEIR_EPARSE, 13, "expected a value");
    expect_error("12abc", WEIR_EPARSE, 1, "malformed number");
    expect_error("99999999999999999999", WEIR_EPARSE, 1, "out of range");
    expect_error("value # 1", WEIR_EPARSE, 7, "unexpected '#'");
    expect_error("value = 1", WEIR_EPARSE, 7, "unexpected '='");
    expect_error("value & 1", WEIR_EPARSE, 7, "unexpected '&'");
    expect_error("a.b", WEIR_EPARSE, 1, "unknown name 'a'");
    expect_error("valu", WEIR_EPARSE, 1, "unknown name 'valu'");
    expect_error("lowr(value)", WEIR_EPARSE, 1, "unknown function 'lowr'");
    expect_error("headers.x", WEIR_EPARSE, 8, "expected '['");
    expect_error("agg + 1", WEIR_EPARSE, 1, "'agg' is only defined in reduce");
    expect_error("window_start", WEIR_EPARSE, 1,
        "only defined after a windowed aggregation");
    expect_error("1 == 2 == 3", WEIR_EPARSE, 8, "expected an operator");
    expect_error(
        "split(value, '[')", WEIR_EPARSE, 14, "bad regular expression");
    /* Patterns that would make regcomp or regexec blow up are refused. */
    expect_error("regex_match(value, 'at_ti+++m')", WEIR_EPARSE, 20,
        "regular expression stacks quantifiers");
    expect_error("regex_match(value, 'x?*')", WEIR_EPARSE, 20,
        "regular expression stacks quantifiers");
    expect_error(
        "regex_match(value, '(((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+')",
        WEIR_EPARSE, 20, "regular expression too complex");
    expect_error("regex_match(value, '((a{100}){100}){100}')", WEIR_EPARSE, 20,
        "regular expression too complex");
    expect_error("regex_match(value, '(a)\\1')", WEIR_EPARSE, 20,
        "back-references are not supported");
    expect_error("split(value, 'x{2000}')", WEIR_EPARSE, 14,
        "a repetition count above 1000");
    static const char *fine[] = {"[^a-z0-9]+", "\\[([^]]+)\\]", "(a|b){3,5}",
        "[[:alpha:]]+", "^x{2,}$", "(ab+c?)*d", "[]a]{10}[^]]"};
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "regex_match(value, '%s')", fine[i]);
        assert_int_equal(type_of(text).type, WEIR_TYPE_BOOL);
    }
    expect_error("\xff", WEIR_EPARSE, 1, "unexpected byte 0xff");
    expect_error("[1, 2", WEIR_EPARSE, 6, "expected ',' or ']', found the end");
    expect_error("in", WEIR_EPARSE, 1, "unknown name 'in'");
    expect_error("1 in", WEIR_EPARSE, 5, "expected a value");
    char nul[] = {'1', '+', '\0', '2'};
    weir_expr *e = NULL;
    weir_expr_error err;
    assert_int_equal(
        weir_expr_parse(nul, sizeof(nul), &env, &e, &err), WEIR_EPARSE);
    assert_int_equal(err.column, 3);
}

static void
test_type_errors(void **state)
{
    expect_error("value + 1", WEIR_EINVAL, 7, "cannot compute string + int");
    expect_error("value < 1", WEIR_EINVAL, 7, "cannot compare string < int");
    expect_error("1 < null", WEIR_EINVAL, 3, "cannot compare int < null");
    expect_error("!value", WEIR_EINVAL, 2, "'!' needs a bool, not string");
    expect_error("-value", WEIR_EINVAL, 2, "'-' needs a number");
    expect_error("value && true", WEIR_EINVAL, 1, "'&&' needs bools");
    expect_error("true || 1", WEIR_EINVAL, 9, "'||' needs bools");
    expect_error("value.x", WEIR_EINVAL, 6, "field access on a string");
    expect_error("value[0]", WEIR_EINVAL, 6, "cannot index a string");
    expect_error(
        "split(value, ',')['a']", WEIR_EINVAL, 19, "list index must be an int");
    expect_error("lower(1)", WEIR_EINVAL, 7, "lower: argument 1 is int");
    expect_error("lower()", WEIR_EINVAL, 1, "lower takes 1 argument, not 0");
    expect_error("substr(value)", WEIR_EINVAL, 1, "substr takes 2 to 3");
    expect_error("substr(value, 1.5)", WEIR_EINVAL, 15, "argument 2 is float");
    expect_error(
        "split(value, key)", WEIR_EINVAL, 14, "must be a string literal");
    expect_error("regex_extract(value, '(a)', 2)", WEIR_EINVAL, 29,
        "has 1 group, not 2");
    expect_error("regex_extract(value, '(a)', key)", WEIR_EINVAL, 29,
        "must be an int literal");
    expect_error(
        "parse_time(value, key)", WEIR_EINVAL, 19, "must be a string literal");
    expect_error(
        "format_time(value)", WEIR_EINVAL, 13, "expected a time or int");
    expect_error("if(1, 2, 3)", WEIR_EINVAL, 4, "if: argument 1 is int");
    expect_error("if(true, 'a', 2)", WEIR_EINVAL, 15,
        "argument 3 is int, expected string");
    expect_error("len(1)", WEIR_EINVAL, 5, "len: argument 1 is int");
    expect_error(
        "to_int(split(value, ','))", WEIR_EINVAL, 8, "cannot convert a list");
    expect_error(
        "timestamp + 1.5", WEIR_EINVAL, 11, "cannot compute time + float");
    expect_error("1 - timestamp", WEIR_EINVAL, 3, "cannot compute int - time");
    expect_error("abs('x')", WEIR_EINVAL, 5, "abs: argument 1 is string");
    expect_error("headers[1]", WEIR_EINVAL, 9, "header name must be a string");
    expect_error(
        "floor_time(timestamp, 1.5)", WEIR_EINVAL, 23, "argument 2 is float");
    expect_error("[1, 'a']", WEIR_EINVAL, 5,
        "list item 2 is string, expected int like the items before");
    expect_error("'a' in [1, 2]", WEIR_EINVAL, 5,
        "cannot look for a string in a list of int");
    expect_error("1 in 2", WEIR_EINVAL, 6, "'in' needs a list, not int");
}

static void
test_limits(void **state)
{
    /* Deep nesting and long chains are rejected, never a stack overflow. */
    char buf[4096];
    size_t n = 0;
    for (int i = 0; i < 1000; i++) {
        buf[n++] = '(';
    }
    buf[n++] = '1';
    for (int i = 0; i < 1000; i++) {
        buf[n++] = ')';
    }
    weir_expr *e = NULL;
    weir_expr_error err;
    assert_int_equal(weir_expr_parse(buf, n, &env, &e, &err), WEIR_EPARSE);
    assert_non_null(strstr(err.msg, "nested too deeply"));
    n = 0;
    for (int i = 0; i < 1000; i++) {
        buf[n++] = '!';
    }
    memcpy(buf + n, "true", 4);
    n += 4;
    assert_int_equal(weir_expr_parse(buf, n, &env, &e, &err), WEIR_EPARSE);
    n = 0;
    buf[n++] = '1';
    for (int i = 0; i < 1000; i++) {
        buf[n++] = '+';
        buf[n++] = '1';
    }
    assert_int_equal(weir_expr_parse(buf, n, &env, &e, &err), WEIR_EPARSE);
    assert_non_null(strstr(err.msg, "too long"));
    /* 200 terms are fine. */
    assert_int_equal(weir_expr_parse(buf, 401, &env, &e, &err), WEIR_OK);
    weir_expr_free(e);
}

/* Garbage from a fixed PRNG over the language's alphabet: every input
 * either parses or fails with a message; none crashes or leaks. */
static void
test_garbage(void **state)
{
    static const char *atoms[] = {"value", "key", "(", ")", "[", "]", "'a'",
        "\"b", "1", "2.5", "+", "-", "*", "/", "%", "==", "!", "&&", "||", "<",
        ".", ",", "lower(", "split(", "'[a-z]+'", "headers[", "null", "true",
        "if(", "concat(", "regex_extract(", "parse_time(", " ", "\\",
        "timestamp", "to_int(", "format_time(", "agg", "window_start", " in ",
        "[1, 2]"};
    uint64_t x = 88172645463325252ULL;
    weir_arena arena;
    weir_arena_init(&arena, 1 << 20);
    weir_value key = weir_value_string("k", 1),
               value = weir_value_string("v", 1);
    weir_expr_ctx ctx = {.key = &key, .value = &value, .arena = &arena};
    int parsed = 0;
    for (int round = 0; round < 20000; round++) {
        char text[256];
        size_t n = 0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int len = 1 + (int)(x % 12);
        for (int i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            const char *a = atoms[x % (sizeof(atoms) / sizeof(atoms[0]))];
            size_t al = strlen(a);
            if (n + al >= sizeof(text)) {
                break;
            }
            memcpy(text + n, a, al);
            n += al;
        }
        weir_expr *e = NULL;
        weir_expr_error err;
        int rv = weir_expr_parse(text, n, &env, &e, &err);
        if (rv == WEIR_OK) {
            parsed++;
            weir_value out;
            (void)weir_expr_eval(e, &ctx, &out, &err);
            weir_arena_reset(&arena);
            weir_expr_free(e);
        } else {
            assert_true(err.msg[0] != '\0');
            assert_true(err.column >= 1 && err.column <= n + 1);
        }
    }
    assert_true(parsed > 100);
    weir_arena_fini(&arena);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_types, setup),
        cmocka_unit_test_setup(test_objects_and_right, setup),
        cmocka_unit_test_setup(test_syntax_errors, setup),
        cmocka_unit_test_setup(test_type_errors, setup),
        cmocka_unit_test_setup(test_limits, setup),
        cmocka_unit_test_setup(test_garbage, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
