/* common/value/, common/arena.c, common/buf.c: topic formats, JSON,
 * comparisons, arena, buffers, durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/value/time_fmt.h"
#include "common/value/value.h"

#define F_STRING WEIR__TOPOLOGY__FORMAT__FORMAT_STRING
#define F_BYTES WEIR__TOPOLOGY__FORMAT__FORMAT_BYTES
#define F_INT64 WEIR__TOPOLOGY__FORMAT__FORMAT_INT64
#define F_JSON WEIR__TOPOLOGY__FORMAT__FORMAT_JSON

static weir_arena arena;
static weir_buf buf;

static int
setup(void **state)
{
    weir_arena_init(&arena, 0);
    weir_buf_init(&buf);
    return 0;
}

static int
teardown(void **state)
{
    weir_arena_fini(&arena);
    weir_buf_fini(&buf);
    return 0;
}

static const char *
encode(const weir_value *v, weir_format fmt)
{
    char err[128];
    weir_buf_clear(&buf);
    assert_int_equal(
        weir_value_encode(v, fmt, &buf, err, sizeof(err)), WEIR_OK);
    assert_int_equal(weir_buf_append(&buf, "", 0), WEIR_OK); /* NUL */
    return buf.data;
}

static void
test_string_and_bytes(void **state)
{
    weir_value v;
    char err[128];
    assert_int_equal(weir_value_decode(F_STRING, WEIR_TYPE_STRING, "hi", 2,
                         &arena, &v, err, sizeof(err)),
        WEIR_OK);
    assert_int_equal(v.type, WEIR_TYPE_STRING);
    assert_int_equal(v.u.s.len, 2);
    assert_string_equal(encode(&v, F_STRING), "hi");
    assert_int_equal(weir_value_decode(F_BYTES, WEIR_TYPE_BYTES, "\0\1", 2,
                         &arena, &v, err, sizeof(err)),
        WEIR_OK);
    assert_int_equal(v.type, WEIR_TYPE_BYTES);
    /* A Kafka null decodes to null in every format. */
    assert_int_equal(weir_value_decode(F_JSON, WEIR_TYPE_JSON, NULL, 0, &arena,
                         &v, err, sizeof(err)),
        WEIR_OK);
    assert_int_equal(v.type, WEIR_TYPE_NULL);
    assert_true(weir_value_is_kafka_null(&v));
    /* Numbers as strings: decimal, shortest round-trip floats. */
    v = weir_value_int(-42);
    assert_string_equal(encode(&v, F_STRING), "-42");
    v = weir_value_float(0.1);
    assert_string_equal(encode(&v, F_STRING), "0.1");
    v = weir_value_float(2);
    assert_string_equal(encode(&v, F_STRING), "2.0");
    v = weir_value_bool(true);
    assert_string_equal(encode(&v, F_STRING), "true");
    v = weir_value_time(1000);
    assert_string_equal(encode(&v, F_STRING), "1000");
}

static void
test_int64(void **state)
{
    weir_value v = weir_value_int(0x0102030405060708LL);
    char err[128];
    weir_buf_clear(&buf);
    assert_int_equal(
        weir_value_encode(&v, F_INT64, &buf, err, sizeof(err)), WEIR_OK);
    assert_int_equal(buf.len, 8);
    assert_memory_equal(buf.data, "\1\2\3\4\5\6\7\10", 8);
    weir_value back;
    assert_int_equal(weir_value_decode(F_INT64, WEIR_TYPE_INT, buf.data, 8,
                         &arena, &back, err, sizeof(err)),
        WEIR_OK);
    assert_int_equal(back.u.i, 0x0102030405060708LL);
    v = weir_value_int(-1);
    weir_buf_clear(&buf);
    assert_int_equal(
        weir_value_encode(&v, F_INT64, &buf, err, sizeof(err)), WEIR_OK);
    assert_memory_equal(buf.data, "\377\377\377\377\377\377\377\377", 8);
    assert_int_equal(weir_value_decode(F_INT64, WEIR_TYPE_TIME, buf.data, 8,
                         &arena, &back, err, sizeof(err)),
        WEIR_OK);
    assert_int_equal(back.type, WEIR_TYPE_TIME);
    assert_int_equal(back.u.i, -1);
    assert_int_equal(weir_value_decode(F_INT64, WEIR_TYPE_INT, "abc", 3, &arena,
                         &back, err, sizeof(err)),
        WEIR_EPARSE);
    assert_non_null(strstr(err, "8 bytes"));
    v = weir_value_string("x", 1);
    assert_int_equal(
        weir_value_encode(&v, F_INT64, &buf, err, sizeof(err)), WEIR_EINVAL);
    v = weir_value_float(3.0);
    weir_buf_clear(&buf);
    assert_int_equal(
        weir_value_encode(&v, F_INT64, &buf, err, sizeof(err)), WEIR_OK);
    v = weir_value_float(3.5);
    assert_int_equal(
        weir_value_encode(&v, F_INT64, &buf, err, sizeof(err)), WEIR_EINVAL);
}

static const char *
json_round_trip(const char *text)
{
    weir_value v;
    char err[128];
    int rv = weir_json_parse(text, strlen(text), &arena, &v, err, sizeof(err));
    if (rv != WEIR_OK) {
        fail_msg("%s: %s", text, err);
    }
    return encode(&v, F_JSON);
}

static void
test_json(void **state)
{
    assert_string_equal(
        json_round_trip(" {\"a\" : [1, -2.5, true, null, \"x\"]} "),
        "{\"a\":[1,-2.5,true,null,\"x\"]}");
    assert_string_equal(json_round_trip("\"tab\\t\\u00e9\\ud83d\\ude00\\\"\""),
        "\"tab\\t\xc3\xa9\xf0\x9f\x98\x80\\\"\"");
    assert_string_equal(json_round_trip("[]"), "[]");
    assert_string_equal(json_round_trip("{}"), "{}");
    assert_string_equal(json_round_trip("1e2"), "100.0");
    assert_string_equal(
        json_round_trip("12345678901234567890"), "1.2345678901234567e+19");
    assert_string_equal(json_round_trip("\"\\u0001\""), "\"\\u0001\"");
    /* Bytes that are not UTF-8 come out escaped: the text stays JSON. */
    weir_value raw = weir_value_bytes("a\xff\xc3\xa9\xed\xa0\x80\xe2\x82", 9);
    assert_string_equal(encode(&raw, F_JSON),
        "\"a\\u00ff\xc3\xa9\\u00ed\\u00a0\\u0080\\u00e2\\u0082\"");
    static const char *bad[] = {"", "{", "[1,", "{\"a\"}", "{\"a\":}", "[1 2]",
        "tru", "\"abc", "\"\\x\"", "01x", "-", "{\"a\":1,}", "\"\\u12\"",
        "[1] 2", "\"a\nb\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        weir_value v;
        char err[128] = "";
        if (weir_json_parse(bad[i], strlen(bad[i]), &arena, &v, err,
                sizeof(err)) != WEIR_EPARSE) {
            fail_msg("'%s' parsed", bad[i]);
        }
        assert_non_null(strstr(err, "json: "));
    }
    /* Nesting is bounded. */
    char deep[200];
    memset(deep, '[', sizeof(deep));
    weir_value v;
    assert_int_equal(
        weir_json_parse(deep, sizeof(deep), &arena, &v, NULL, 0), WEIR_EPARSE);
    /* Typed decoding checks the document against the expected type. */
    char err[128];
    assert_int_equal(weir_value_decode(F_JSON, WEIR_TYPE_FLOAT, "3", 1, &arena,
                         &v, err, sizeof(err)),
        WEIR_OK);
    assert_int_equal(v.type, WEIR_TYPE_FLOAT);
    assert_int_equal(weir_value_decode(F_JSON, WEIR_TYPE_LIST, "{}", 2, &arena,
                         &v, err, sizeof(err)),
        WEIR_EPARSE);
    assert_non_null(strstr(err, "expected a list, got a json"));
    assert_int_equal(weir_value_decode(F_JSON, WEIR_TYPE_JSON, "{\"a\":", 5,
                         &arena, &v, err, sizeof(err)),
        WEIR_EPARSE);
}

static void
test_compare(void **state)
{
    weir_value a = weir_value_int(1), b = weir_value_float(1.0);
    assert_true(weir_value_equal(&a, &b));
    b = weir_value_float(1.5);
    assert_true(weir_value_compare(&a, &b) < 0);
    weir_value s1 = weir_value_string("ab", 2),
               s2 = weir_value_string("abc", 3);
    assert_true(weir_value_compare(&s1, &s2) < 0);
    assert_false(weir_value_equal(&s1, &s2));
    weir_value n = weir_value_null();
    assert_false(weir_value_equal(&n, &a));
    weir_value x, y;
    assert_int_equal(
        weir_json_parse("{\"a\":[1,2]}", 11, &arena, &x, NULL, 0), WEIR_OK);
    assert_int_equal(
        weir_json_parse("{\"a\":[1,2.0]}", 13, &arena, &y, NULL, 0), WEIR_OK);
    assert_true(weir_value_equal(&x, &y));
}

static void
test_arena_and_buf(void **state)
{
    /* Reset keeps the memory: the second round allocates nothing new. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 1000; i++) {
            char *p = weir_arena_alloc(&arena, 100);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % 8, 0);
            memset(p, 'x', 100);
        }
        assert_true(arena.used_bytes >= 100000);
        weir_arena_reset(&arena);
    }
    size_t steady = weir_arena_retained_bytes(&arena);
    assert_true(steady >= 100000 && steady <= (4 << 20));
    assert_non_null(weir_arena_alloc(&arena, 5 << 20)); /* big ones too */
    for (int i = 0; i < 100; i++) {
        assert_non_null(weir_arena_alloc(&arena, 100000));
    }
    assert_true(weir_arena_retained_bytes(&arena) > (15 << 20));
    weir_arena_reset(&arena); /* a spike is given back */
    assert_true(weir_arena_retained_bytes(&arena) <= (4 << 20));
    assert_true(weir_arena_retained_bytes(&arena) >= steady);
    assert_null(weir_arena_alloc(&arena, SIZE_MAX - 3));
    assert_string_equal(weir_arena_strdup(&arena, "abc", 2), "ab");
    weir_buf_clear(&buf);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(weir_buf_printf(&buf, "%d,", i), WEIR_OK);
    }
    assert_int_equal(strncmp(buf.data, "0,1,2,", 6), 0);
    assert_int_equal(buf.data[buf.len], '\0');
}

static void
test_formats_and_durations(void **state)
{
    weir_format f;
    assert_int_equal(weir_format_parse("int64", &f), WEIR_OK);
    assert_int_equal(f, F_INT64);
    assert_string_equal(weir_format_name(F_JSON), "json");
    assert_int_equal(weir_format_parse("avro", &f), WEIR_EINVAL);
    uint64_t ms;
    assert_int_equal(weir_duration_parse("1m", &ms), WEIR_OK);
    assert_int_equal(ms, 60000);
    assert_int_equal(weir_duration_parse("30s", &ms), WEIR_OK);
    assert_int_equal(ms, 30000);
    assert_int_equal(weir_duration_parse("250ms", &ms), WEIR_OK);
    assert_int_equal(ms, 250);
    assert_int_equal(weir_duration_parse("1.5h", &ms), WEIR_OK);
    assert_int_equal(ms, 5400000);
    assert_int_equal(weir_duration_parse("2d", &ms), WEIR_OK);
    assert_int_equal(ms, 172800000);
    assert_int_equal(weir_duration_parse("1500", &ms), WEIR_OK);
    assert_int_equal(ms, 1500);
    assert_int_equal(weir_duration_parse("1 m", &ms), WEIR_EPARSE);
    assert_int_equal(weir_duration_parse("m", &ms), WEIR_EPARSE);
    assert_int_equal(weir_duration_parse("", &ms), WEIR_EPARSE);
    assert_int_equal(weir_duration_parse("1.5ms", &ms), WEIR_EPARSE);
    assert_int_equal(weir_duration_parse("-1s", &ms), WEIR_EINVAL);
    assert_int_equal(weir_duration_parse("1e30d", &ms), WEIR_EINVAL);
    assert_int_equal(weir_duration_parse("nan", &ms), WEIR_EPARSE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_string_and_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compare, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arena_and_buf, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_formats_and_durations, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
