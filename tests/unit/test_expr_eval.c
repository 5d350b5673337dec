/* common/expr/expr_*.c: evaluation of every operator and function, null and
 * runtime-type errors, JSON field access, headers, windows. */
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

typedef struct fixture {
    weir_arena arena;
    weir_value key, value, agg;
    weir_expr_ctx ctx;
    weir_expr_env env;
    char text[256]; /* last result as text */
} fixture;

static fixture fx;

static bool
headers(void *opaque, const char *name, const void **value, size_t *len)
{
    (void)opaque;
    if (strcmp(name, "trace") == 0) {
        *value = "abc";
        *len = 3;
        return true;
    }
    return false;
}

static int
setup(void **state)
{
    memset(&fx, 0, sizeof(fx));
    weir_arena_init(&fx.arena, 0);
    fx.key = weir_value_string("k1", 2);
    fx.value = weir_value_string("Hello World", 11);
    fx.ctx.key = &fx.key;
    fx.ctx.value = &fx.value;
    fx.ctx.timestamp_ms = 1641038400000LL; /* 2022-01-01 12:00:00 UTC */
    fx.ctx.header = headers;
    fx.ctx.arena = &fx.arena;
    fx.ctx.window_start_ms = 1641038460000LL;
    fx.ctx.window_end_ms = 1641038520000LL;
    fx.env.key.type = WEIR_TYPE_STRING;
    fx.env.value.type = WEIR_TYPE_STRING;
    fx.env.windowed = true;
    *state = &fx;
    return 0;
}

static int
teardown(void **state)
{
    weir_arena_fini(&fx.arena);
    return 0;
}

/* Evaluates text; returns the error code, result in *out (valid while
 * *expr lives: results may point at the expression's literals). */
static int
eval_rv(
    const char *text, weir_expr **expr, weir_value *out, weir_expr_error *err)
{
    int rv = weir_expr_parse(text, strlen(text), &fx.env, expr, err);
    if (rv != WEIR_OK) {
        fail_msg(
            "parse of %s failed: %s (column %u)", text, err->msg, err->column);
    }
    return weir_expr_eval(*expr, &fx.ctx, out, err);
}

/* The result rendered as JSON text, for compact assertions. */
static const char *
eval_json(const char *text)
{
    weir_value v;
    weir_expr_error err;
    weir_expr *e = NULL;
    int rv = eval_rv(text, &e, &v, &err);
    if (rv != WEIR_OK) {
        weir_expr_free(e);
        fail_msg("eval of %s failed: %s", text, err.msg);
    }
    weir_buf buf;
    weir_buf_init(&buf);
    assert_int_equal(weir_value_to_json(&v, &buf), WEIR_OK);
    snprintf(fx.text, sizeof(fx.text), "%s", buf.data);
    weir_buf_fini(&buf);
    weir_expr_free(e);
    return fx.text;
}

static void
expect_eval_error(const char *text, const char *fragment)
{
    weir_value v;
    weir_expr_error err;
    weir_expr *e = NULL;
    int rv = eval_rv(text, &e, &v, &err);
    weir_expr_free(e);
    if (rv == WEIR_OK) {
        fail_msg("%s evaluated, expected an error with '%s'", text, fragment);
    }
    assert_int_equal(rv, WEIR_EINVAL);
    if (strstr(err.msg, fragment) == NULL) {
        fail_msg("%s: error '%s' lacks '%s'", text, err.msg, fragment);
    }
}

static void
test_literals_and_arithmetic(void **state)
{
    assert_string_equal(eval_json("1 + 2 * 3"), "7");
    assert_string_equal(eval_json("(1 + 2) * 3"), "9");
    assert_string_equal(eval_json("7 / 2"), "3");
    assert_string_equal(eval_json("7 % 3"), "1");
    assert_string_equal(eval_json("-7 / 2"), "-3");
    assert_string_equal(eval_json("7.0 / 2"), "3.5");
    assert_string_equal(eval_json("1 + 0.5"), "1.5");
    assert_string_equal(eval_json("2e3"), "2000.0");
    assert_string_equal(eval_json("-(3)"), "-3");
    assert_string_equal(eval_json("'a' + \"b\""), "\"ab\"");
    assert_string_equal(eval_json("'it\\'s'"), "\"it's\"");
    assert_string_equal(eval_json("'tab\\there'"), "\"tab\\there\"");
    assert_string_equal(eval_json("null"), "null");
    assert_string_equal(eval_json("true && !false"), "true");
    assert_string_equal(eval_json("false || 1 < 2"), "true");
    assert_string_equal(
        eval_json("9223372036854775807"), "9223372036854775807");
    expect_eval_error("9223372036854775807 + 1", "overflow");
    expect_eval_error("-9223372036854775807 - 2", "overflow");
    expect_eval_error("1 / 0", "division by zero");
    expect_eval_error("1 % 0", "division by zero");
    expect_eval_error("1.5 / 0", "division by zero");
    expect_eval_error("3037000500 * 3037000500", "overflow");
}

static void
test_comparison(void **state)
{
    assert_string_equal(eval_json("1 == 1.0"), "true");
    assert_string_equal(eval_json("'a' < 'b'"), "true");
    assert_string_equal(eval_json("'ab' < 'a'"), "false");
    assert_string_equal(eval_json("2 >= 2"), "true");
    assert_string_equal(eval_json("2 > 2"), "false");
    assert_string_equal(eval_json("2 <= 1"), "false");
    assert_string_equal(eval_json("value != ''"), "true");
    assert_string_equal(eval_json("key == 'k1'"), "true");
    assert_string_equal(eval_json("null == null"), "true");
    assert_string_equal(eval_json("key == null"), "false");
    assert_string_equal(eval_json("true == true"), "true");
    /* && and || short-circuit: the right side is not evaluated. */
    assert_string_equal(eval_json("false && 1 / 0 == 1"), "false");
    assert_string_equal(eval_json("true || 1 / 0 == 1"), "true");
}

static void
test_record_fields(void **state)
{
    assert_string_equal(eval_json("key"), "\"k1\"");
    assert_string_equal(eval_json("value"), "\"Hello World\"");
    assert_string_equal(eval_json("timestamp"), "1641038400000");
    assert_string_equal(eval_json("timestamp()"), "1641038400000");
    assert_string_equal(eval_json("headers['trace']"), "\"abc\"");
    assert_string_equal(eval_json("headers['missing']"), "null");
    assert_string_equal(eval_json("headers['tr' + 'ace']"), "\"abc\"");
    assert_string_equal(eval_json("window_start"), "1641038460000");
    assert_string_equal(eval_json("window_end - window_start"), "60000");
    /* A record without a key reads as null. */
    fx.ctx.key = NULL;
    assert_string_equal(eval_json("key"), "null");
    assert_string_equal(eval_json("is_null(key)"), "true");
}

static void
test_json_fields(void **state)
{
    const char *doc =
        "{\"user\":{\"id\":42,\"name\":\"Ann\",\"tags\":[\"a\",\"b\"]},"
        "\"n\":1.5,\"ok\":true}";
    assert_int_equal(
        weir_json_parse(doc, strlen(doc), &fx.arena, &fx.value, NULL, 0),
        WEIR_OK);
    fx.env.value.type = WEIR_TYPE_JSON;
    assert_string_equal(eval_json("value.user.id"), "42");
    assert_string_equal(eval_json("value.user.id + 1"), "43");
    assert_string_equal(eval_json("value['user']['name']"), "\"Ann\"");
    assert_string_equal(eval_json("value.user.tags[1]"), "\"b\"");
    assert_string_equal(eval_json("value.user.tags[-1]"), "\"b\"");
    assert_string_equal(eval_json("value.user.tags[5]"), "null");
    assert_string_equal(eval_json("value.missing.deeper"), "null");
    assert_string_equal(eval_json("value.n * 2"), "3.0");
    assert_string_equal(eval_json("value.ok && true"), "true");
    assert_string_equal(eval_json("upper(value.user.name)"), "\"ANN\"");
    assert_string_equal(eval_json("len(value.user)"), "3");
    assert_string_equal(eval_json("value.user.id == 42"), "true");
    assert_string_equal(eval_json("value.user.id == 'x'"), "false");
    assert_string_equal(
        eval_json("to_json(value.user.tags)"), "\"[\\\"a\\\",\\\"b\\\"]\"");
    expect_eval_error("value.user.name.first", "field 'first' of a string");
    expect_eval_error("lower(value.user.id)", "expected a string");
    expect_eval_error("value.user.id + 'x'", "cannot compute int + string");
    expect_eval_error("value.ok < 1", "cannot compare");
    expect_eval_error("value.n && true", "expected a bool");
    expect_eval_error("value.missing < 3", "cannot compare null");
}

static void
test_string_functions(void **state)
{
    assert_string_equal(eval_json("lower(value)"), "\"hello world\"");
    assert_string_equal(eval_json("upper(value)"), "\"HELLO WORLD\"");
    assert_string_equal(eval_json("trim('  a b \\t')"), "\"a b\"");
    assert_string_equal(eval_json("trim('   ')"), "\"\"");
    assert_string_equal(eval_json("len(value)"), "11");
    assert_string_equal(eval_json("len('')"), "0");
    assert_string_equal(eval_json("substr(value, 6)"), "\"World\"");
    assert_string_equal(eval_json("substr(value, 0, 5)"), "\"Hello\"");
    assert_string_equal(eval_json("substr(value, -5, 3)"), "\"Wor\"");
    assert_string_equal(eval_json("substr(value, 100)"), "\"\"");
    assert_string_equal(eval_json("substr(value, 3, 100)"), "\"lo World\"");
    expect_eval_error("substr(value, 1, -1)", "negative length");
    assert_string_equal(
        eval_json("concat('a', 1, 2.5, true, null, key)"), "\"a12.5truek1\"");
    assert_string_equal(eval_json("contains(value, 'lo W')"), "true");
    assert_string_equal(eval_json("contains(value, 'xyz')"), "false");
    assert_string_equal(eval_json("starts_with(value, 'Hell')"), "true");
    assert_string_equal(eval_json("ends_with(value, 'World')"), "true");
    assert_string_equal(eval_json("ends_with('d', 'World')"), "false");
    assert_string_equal(
        eval_json("replace(value, 'o', '00')"), "\"Hell00 W00rld\"");
    assert_string_equal(eval_json("replace(value, 'World', '')"), "\"Hello \"");
    assert_string_equal(
        eval_json("replace(value, '', 'x')"), "\"Hello World\"");
    expect_eval_error("lower(headers['missing'])", "argument 1 is null");
}

static void
test_regex_functions(void **state)
{
    assert_string_equal(eval_json("split(lower(value), '[^a-z0-9]+')"),
        "[\"hello\",\"world\"]");
    assert_string_equal(eval_json("split('The  cat, the hat!', '[^a-z0-9]+')"),
        "[\"\",\"he\",\"cat\",\"the\",\"hat\",\"\"]");
    assert_string_equal(eval_json("split('', ',')"), "[\"\"]");
    assert_string_equal(
        eval_json("split('a,b,,c', ',')"), "[\"a\",\"b\",\"\",\"c\"]");
    /* A pattern that matches empty strings never loops. */
    assert_string_equal(eval_json("split('abc', 'x*')"), "[\"abc\"]");
    assert_string_equal(
        eval_json("len(split('a b c d e f g h i j k l m n o p q r "
                  "s t u', ' '))"),
        "21");
    assert_string_equal(eval_json("split('a1b2', '[0-9]')[1]"), "\"b\"");
    assert_string_equal(
        eval_json("regex_extract('id=42;', 'id=([0-9]+)')"), "\"42\"");
    assert_string_equal(
        eval_json("regex_extract('id=42;', 'id=([0-9]+)', 0)"), "\"id=42\"");
    assert_string_equal(eval_json("regex_extract('abc', '[0-9]+')"), "null");
    assert_string_equal(
        eval_json("regex_extract('x [01/Jan/2022:12:00:00 +0000] y', "
                  "'\\[([^]]+)\\]')"),
        "\"01/Jan/2022:12:00:00 +0000\"");
    assert_string_equal(eval_json("regex_match(value, '^Hello')"), "true");
    assert_string_equal(eval_json("regex_match(value, '^World')"), "false");
}

static void
test_conversions(void **state)
{
    assert_string_equal(eval_json("to_int('42')"), "42");
    assert_string_equal(eval_json("to_int('-7')"), "-7");
    assert_string_equal(eval_json("to_int(3.9)"), "3");
    assert_string_equal(eval_json("to_int(true)"), "1");
    assert_string_equal(eval_json("to_int(timestamp)"), "1641038400000");
    expect_eval_error("to_int('4x')", "cannot convert '4x'");
    expect_eval_error("to_int('')", "cannot convert");
    expect_eval_error("to_int('99999999999999999999')", "cannot convert");
    expect_eval_error("to_int(1e300)", "cannot convert");
    assert_string_equal(eval_json("to_float('2.5')"), "2.5");
    assert_string_equal(eval_json("to_float(2)"), "2.0");
    expect_eval_error("to_float('abc')", "cannot convert");
    assert_string_equal(eval_json("to_string(42)"), "\"42\"");
    assert_string_equal(eval_json("to_string(0.1)"), "\"0.1\"");
    assert_string_equal(eval_json("to_string(false)"), "\"false\"");
    assert_string_equal(eval_json("to_string(null)"), "\"null\"");
    assert_string_equal(
        eval_json("to_string(split('a b', ' '))"), "\"[\\\"a\\\",\\\"b\\\"]\"");
    assert_string_equal(eval_json("parse_json('{\"a\": [1, 2]}').a[1]"), "2");
    expect_eval_error("parse_json('{')", "parse_json: json:");
    assert_string_equal(eval_json("abs(-3)"), "3");
    assert_string_equal(eval_json("abs(-2.5)"), "2.5");
    assert_string_equal(
        eval_json("if(len(value) > 3, 'long', 'short')"), "\"long\"");
    assert_string_equal(eval_json("if(false, 1, 2.5)"), "2.5");
    assert_string_equal(eval_json("if(true, 1, 2.5)"), "1.0");
    /* Only the taken branch is evaluated. */
    assert_string_equal(eval_json("if(true, 1, 1 / 0)"), "1");
    assert_string_equal(
        eval_json("coalesce(headers['x'], headers['trace'], 'd')"), "\"abc\"");
    assert_string_equal(eval_json("coalesce(null, null)"), "null");
    assert_string_equal(eval_json("is_null(regex_extract('a', 'b'))"), "true");
}

static void
test_time_functions(void **state)
{
    assert_string_equal(
        eval_json("parse_time('2022-01-01T12:00:00Z')"), "1641038400000");
    assert_string_equal(
        eval_json("parse_time('2022-01-01 12:00:00.250')"), "1641038400250");
    assert_string_equal(
        eval_json("parse_time('2022-01-01T13:00:00+01:00')"), "1641038400000");
    assert_string_equal(eval_json("parse_time('2022-01-01')"), "1640995200000");
    assert_string_equal(eval_json("parse_time('01/Jan/2022:12:00:03 +0000', "
                                  "'%d/%b/%Y:%H:%M:%S %z')"),
        "1641038403000");
    assert_string_equal(eval_json("parse_time('01/Jan/2022:14:00:03 +0200', "
                                  "'%d/%b/%Y:%H:%M:%S %z')"),
        "1641038403000");
    assert_string_equal(
        eval_json("parse_time('1969-12-31T23:59:59Z')"), "-1000");
    expect_eval_error("parse_time('yesterday')", "cannot parse 'yesterday'");
    expect_eval_error("parse_time('2022-13-01')", "cannot parse");
    expect_eval_error(
        "parse_time('01/Foo/2022:12:00:03 +0000', '%d/%b/%Y:%H:%M:%S %z')",
        "cannot parse");
    expect_eval_error("parse_time(regex_extract('no time', '\\[(.*)\\]'))",
        "argument 1 is null");
    assert_string_equal(
        eval_json("format_time(timestamp)"), "\"2022-01-01 12:00:00\"");
    assert_string_equal(eval_json("format_time(window_start, '%Y-%m-%d "
                                  "%H:%M:%S')"),
        "\"2022-01-01 12:01:00\"");
    assert_string_equal(eval_json("format_time(-1, '%Y-%m-%dT%H:%M:%S')"),
        "\"1969-12-31T23:59:59\"");
    assert_string_equal(eval_json("format_time(0, '')"), "\"\"");
    assert_string_equal(
        eval_json("len(format_time(0, '%c%c%c%c%c%c%c%c'))"), "192");
    expect_eval_error("format_time(9223372036854775807)", "out of range");
    assert_string_equal(
        eval_json("floor_time(timestamp + 59999, 60000)"), "1641038400000");
    assert_string_equal(eval_json("floor_time(-1, 60000)"), "-60000");
    expect_eval_error("floor_time(timestamp, 0)", "must be positive");
    assert_string_equal(eval_json("timestamp + 1000 - timestamp"), "1000");
    assert_string_equal(eval_json("to_time(5)"), "5");
    assert_string_equal(
        eval_json("to_time('2022-01-01T12:00:00Z')"), "1641038400000");
    assert_string_equal(eval_json("timestamp > to_time(0)"), "true");
}

static void
test_arena_is_bounded(void **state)
{
    /* A tiny arena makes allocation fail cleanly, never crash. */
    weir_arena small;
    weir_arena_init(&small, 64);
    fx.ctx.arena = &small;
    weir_value v;
    weir_expr_error err;
    weir_expr *e = NULL;
    const char *t = "concat(value, value, value, value, value, value, value)";
    assert_int_equal(weir_expr_parse(t, strlen(t), &fx.env, &e, &err), WEIR_OK);
    assert_int_equal(weir_expr_eval(e, &fx.ctx, &v, &err), WEIR_ENOMEM);
    weir_arena_reset(&small);
    assert_int_equal(weir_arena_alloc(&small, 65) == NULL, 1);
    assert_non_null(weir_arena_alloc(&small, 64));
    weir_expr_free(e);
    weir_arena_fini(&small);
    fx.ctx.arena = &fx.arena;
}

static void
test_reduce_agg(void **state)
{
    fx.env.has_agg = true;
    fx.env.agg.type = WEIR_TYPE_INT;
    fx.env.value.type = WEIR_TYPE_INT;
    fx.agg = weir_value_int(40);
    fx.value = weir_value_int(2);
    fx.ctx.agg = &fx.agg;
    assert_string_equal(eval_json("agg + value"), "42");
    assert_string_equal(eval_json("if(value > agg, value, agg)"), "40");
}

/* Joins: `right` is the other side's value; object literals build JSON. */
static void
test_right_and_objects(void **state)
{
    const char *doc = "{\"country\":\"NZ\",\"age\":7}";
    assert_int_equal(
        weir_json_parse(doc, strlen(doc), &fx.arena, &fx.agg, NULL, 0),
        WEIR_OK);
    fx.env.has_right = true;
    fx.env.right.type = WEIR_TYPE_JSON;
    fx.ctx.right = &fx.agg;
    assert_string_equal(eval_json("{page: value, country: right.country}"),
        "{\"page\":\"Hello World\",\"country\":\"NZ\"}");
    assert_string_equal(eval_json("{'a b': right.age + 1, n: null, l: [1]}"),
        "{\"a b\":8,\"n\":null,\"l\":[1]}");
    assert_string_equal(eval_json("{}"), "{}");
    assert_string_equal(eval_json("{o: {k: key}}.o.k"), "\"k1\"");
    assert_string_equal(eval_json("len({a: 1, b: 2})"), "2");
    fx.ctx.right = NULL; /* a left join without a match */
    assert_string_equal(eval_json("{c: right.country}"), "{\"c\":null}");
    assert_string_equal(eval_json("is_null(right)"), "true");
}

static void
test_lists_and_in(void **state)
{
    assert_string_equal(eval_json("[1, 2.5]"), "[1.0,2.5]");
    assert_string_equal(eval_json("[]"), "[]");
    assert_string_equal(eval_json("[key, value][1]"), "\"Hello World\"");
    assert_string_equal(eval_json("len([1, 2, 3])"), "3");
    assert_string_equal(eval_json("2 in [1, 2, 3]"), "true");
    assert_string_equal(eval_json("2.0 in [1, 2, 3]"), "true");
    assert_string_equal(eval_json("'x' in ['a', 'b']"), "false");
    assert_string_equal(eval_json("key in [value, 'k1']"), "true");
    assert_string_equal(eval_json("null in [null]"), "true");
    assert_string_equal(eval_json("'a' in split('a,b', ',')"), "true");
    assert_string_equal(eval_json("!('c' in split('a,b', ','))"), "true");
    assert_string_equal(eval_json("1 in []"), "false");
    const char *doc = "{\"status\": 503, \"tags\": [\"x\", 1]}";
    assert_int_equal(
        weir_json_parse(doc, strlen(doc), &fx.arena, &fx.value, NULL, 0),
        WEIR_OK);
    fx.env.value.type = WEIR_TYPE_JSON;
    assert_string_equal(eval_json("value.status in [500, 502, 503]"), "true");
    assert_string_equal(eval_json("1 in value.tags"), "true");
    assert_string_equal(eval_json("1 in value.missing"), "false");
    expect_eval_error("1 in value.status", "'in' needs a list, not int");
}

/* split's byte-set fast path agrees with regexec on the same patterns
 * written so that only regexec can run them. */
static void
test_split_fast_path(void **state)
{
    static const char *pairs[][2] = {{"[^a-z0-9]+", "([^a-z0-9])+"},
        {",", "(,)"}, {"[,;]", "(,|;)"}, {"[]a-]+", "(]|a|-)+"}, {"[ ]", "( )"},
        {"[^ab]", "([^ab])"}, {"x+", "(x)+"}};
    static const char alphabet[] = "ab ,;x-]Z9\t";
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
        for (int round = 0; round < 300; round++) {
            char text[40], fast[256], slow[256];
            int len = (int)(x % 12);
            for (int i = 0; i < len; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                text[i] = alphabet[x % (sizeof(alphabet) - 1)];
            }
            text[len] = '\0';
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char e[128];
            snprintf(e, sizeof(e), "split('%s', '%s')", text, pairs[p][0]);
            snprintf(fast, sizeof(fast), "%s", eval_json(e));
            snprintf(e, sizeof(e), "split('%s', '%s')", text, pairs[p][1]);
            snprintf(slow, sizeof(slow), "%s", eval_json(e));
            if (strcmp(fast, slow) != 0) {
                fail_msg("'%s' by %s: %s, by %s: %s", text, pairs[p][0], fast,
                    pairs[p][1], slow);
            }
        }
    }
    /* '^' anchors at the start of the string only. */
    assert_string_equal(eval_json("split('aXaX', '^a')"), "[\"\",\"XaX\"]");
}

/* Regexes read only the value's bytes: a value that is not NUL-terminated
 * (a record's payload) is never read past its end (ASan checks). */
static void
test_regex_on_unterminated_value(void **state)
{
    char *payload = malloc(5);
    assert_non_null(payload);
    memcpy(payload, "a1b2c", 5);
    fx.value = weir_value_string(payload, 5);
    assert_string_equal(
        eval_json("split(value, '([0-9])')"), "[\"a\",\"b\",\"c\"]");
    assert_string_equal(eval_json("regex_extract(value, 'b(.)')"), "\"2\"");
    assert_string_equal(eval_json("regex_match(value, '2c$')"), "true");
    free(payload);
}

/*
 * split's byte-set fast path ("[...]" or one character, optionally "+")
 * and the regex path agree on every byte, NUL included: the same pattern
 * inside a group takes the regex path. Seeded random inputs.
 */
static void
split_both_ways(const char *fast, const char *slow, const char *in, size_t n)
{
    weir_expr *e1 = NULL, *e2 = NULL;
    weir_expr_error err;
    weir_value r1, r2;
    fx.value = weir_value_bytes(in, n);
    fx.env.value.type = WEIR_TYPE_STRING;
    char t1[64], t2[64];
    snprintf(t1, sizeof(t1), "split(value, '%s')", fast);
    snprintf(t2, sizeof(t2), "split(value, '%s')", slow);
    assert_int_equal(eval_rv(t1, &e1, &r1, &err), WEIR_OK);
    assert_int_equal(eval_rv(t2, &e2, &r2, &err), WEIR_OK);
    if (!weir_value_equal(&r1, &r2)) {
        fail_msg("%s and %s differ on %zu bytes", fast, slow, n);
    }
    for (size_t i = 0; i < r1.u.list.len; i++) {
        const weir_value *w = &r1.u.list.items[i];
        if (fast[0] == '[' && fast[1] == '^' && w->u.s.len > 0 &&
            memchr(w->u.s.ptr, '\0', w->u.s.len) != NULL) {
            fail_msg("%s kept a NUL inside a piece", fast);
        }
    }
    weir_expr_free(e1);
    weir_expr_free(e2);
    weir_arena_reset(&fx.arena);
}

static void
test_split_fast_path_matches_regex(void **state)
{
    (void)state;
    static const char *pairs[][2] = {
        {"[^a-z0-9]+", "([^a-z0-9])+"},
        {"[^a-z0-9]", "([^a-z0-9])"},
        {"[,;]", "([,;])"},
        {"[ -/]+", "([ -/])+"},
        {"x", "(x)"},
        {"x+", "(x)+"},
    };
    const char zero[] = "\0\0zero bytes\0inside";
    split_both_ways(pairs[0][0], pairs[0][1], zero, sizeof(zero) - 1);
    uint64_t seed = 0x5eed;
    char in[64];
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(round % 40);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            /* Mostly letters, digits and separators, some bytes of any
             * value (NUL, high bytes). */
            unsigned r = (unsigned)(seed >> 33);
            static const char common[] = "abxz09 ,;-/";
            in[i] = (r & 7) == 0 ? (char)(r >> 8)
                                 : common[(r >> 8) % (sizeof(common) - 1)];
        }
        for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++)
            split_both_ways(pairs[p][0], pairs[p][1], in, n);
    }
    fx.value = weir_value_string("Hello World", 11);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_literals_and_arithmetic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comparison, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regex_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_fast_path, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_regex_on_unterminated_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists_and_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conversions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arena_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reduce_agg, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_right_and_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_split_fast_path_matches_regex, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
