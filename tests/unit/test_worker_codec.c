/* The state value codec: exact round trips and corrupt input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "worker/codec.h"

static void
roundtrip(const weir_value *v)
{
    weir_buf buf;
    weir_arena arena;
    weir_buf_init(&buf);
    weir_arena_init(&arena, 0);
    assert_int_equal(weir_codec_encode(v, &buf), WEIR_OK);
    weir_value out;
    assert_int_equal(
        weir_codec_decode(buf.data, buf.len, &arena, &out), WEIR_OK);
    assert_int_equal(out.type, v->type);
    assert_true(weir_value_equal(&out, v));
    weir_buf_fini(&buf);
    weir_arena_fini(&arena);
}

static void
test_scalars(void **state)
{
    weir_value vs[] = {
        weir_value_null(),
        weir_value_bool(true),
        weir_value_bool(false),
        weir_value_int(0),
        weir_value_int(-1),
        weir_value_int(INT64_MAX),
        weir_value_int(INT64_MIN),
        weir_value_float(2.5),
        weir_value_float(-0.1),
        weir_value_time(1640995200000),
        weir_value_string("hello", 5),
        weir_value_string("", 0),
        weir_value_bytes("\0\1\2", 3),
    };
    for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++)
        roundtrip(&vs[i]);
    (void)state;
}

static void
test_json(void **state)
{
    weir_arena arena;
    weir_arena_init(&arena, 0);
    weir_value v;
    const char *doc = "{\"a\":[1,2,\"x\"],\"b\":{\"c\":true}}";
    assert_int_equal(
        weir_json_parse(doc, strlen(doc), &arena, &v, NULL, 0), WEIR_OK);
    roundtrip(&v);
    roundtrip(&v.u.obj.members[0].value); /* a list */
    weir_arena_fini(&arena);
    (void)state;
}

static void
test_corrupt(void **state)
{
    weir_arena arena;
    weir_arena_init(&arena, 0);
    weir_value v;
    const char *bad[] = {"", "i123", "b", "q", "j{", "l{}", "n1"};
    size_t lens[] = {0, 4, 1, 1, 2, 3, 2};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(
            weir_codec_decode(bad[i], lens[i], &arena, &v), WEIR_ECORRUPT);
    weir_arena_fini(&arena);
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
