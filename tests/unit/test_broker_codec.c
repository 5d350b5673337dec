/* broker/kcodec.c and broker/kschema.c: primitives round-trip, every read is
 * bounds-checked with a sticky error, and request schemas accept exactly
 * the well-formed bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/protocol/kcodec.h"
#include "broker/protocol/kschema.h"

static void
test_roundtrip(void **state)
{
    (void)state;
    weir_kw w;
    weir_kw_init(&w);
    weir_kw_i8(&w, -5);
    weir_kw_i16(&w, -300);
    weir_kw_i32(&w, 123456789);
    weir_kw_i64(&w, -1234567890123LL);
    weir_kw_bool(&w, true);
    const uint32_t uv[] = {0, 127, 128, 16383, 16384, UINT32_MAX};
    for (size_t i = 0; i < 6; i++)
        weir_kw_uvarint(&w, uv[i]);
    weir_kw_str(&w, false, "hello");
    weir_kw_str(&w, true, "compact");
    weir_kw_str(&w, false, NULL);
    weir_kw_str(&w, true, NULL);
    weir_kw_bytes(&w, false, "abc", 3);
    weir_kw_bytes(&w, true, "de", 2);
    weir_kw_array(&w, true, 2);
    weir_kw_i32(&w, 7);
    weir_kw_i32(&w, 8);
    weir_kw_tags(&w, true);
    assert_false(w.err);

    weir_kr r;
    weir_kr_init(&r, w.buf, w.len);
    assert_int_equal(weir_kr_i8(&r), -5);
    assert_int_equal(weir_kr_i16(&r), -300);
    assert_int_equal(weir_kr_i32(&r), 123456789);
    assert_true(weir_kr_i64(&r) == -1234567890123LL);
    assert_true(weir_kr_bool(&r));
    for (size_t i = 0; i < 6; i++)
        assert_true(weir_kr_uvarint(&r) == uv[i]);
    assert_true(weir_kstr_eq(weir_kr_str(&r, false, false), "hello"));
    assert_true(weir_kstr_eq(weir_kr_str(&r, true, false), "compact"));
    assert_int_equal(weir_kr_str(&r, false, true).len, -1);
    assert_int_equal(weir_kr_str(&r, true, true).len, -1);
    weir_kstr b = weir_kr_bytes(&r, false, false);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.ptr, "abc", 3);
    assert_int_equal(weir_kr_bytes(&r, true, false).len, 2);
    assert_int_equal(weir_kr_array(&r, true, false, 4), 2);
    assert_int_equal(weir_kr_i32(&r), 7);
    assert_int_equal(weir_kr_i32(&r), 8);
    weir_kr_tags(&r, true);
    assert_true(weir_kr_ok(&r));
    assert_int_equal(weir_kr_remaining(&r), 0);
    weir_kw_fini(&w);
}

static void
test_attach(void **state)
{
    (void)state;
    weir_kw w;
    weir_kw_init(&w);
    weir_kw_i32(&w, 1);
    uint8_t *a = malloc(100);
    memset(a, 'a', 100);
    weir_kw_attach(&w, a, 100);
    weir_kw_i16(&w, 2);
    weir_kw_attach(&w, NULL, 0); /* empty: nothing recorded */
    uint8_t *b = malloc(10);
    weir_kw_attach(&w, b, 10);
    assert_int_equal(w.len, 6);
    assert_int_equal(w.n_atts, 2);
    assert_int_equal(w.atts[0].at, 4);
    assert_int_equal(w.atts[1].at, 6);
    assert_int_equal(weir_kw_total(&w), 116);
    weir_kw_fini(&w); /* frees the attachments (LeakSanitizer checks) */
}

static void
test_bounds(void **state)
{
    (void)state;
    /* Truncated int, then everything after fails. */
    const uint8_t short_buf[] = {0, 1, 2};
    weir_kr r;
    weir_kr_init(&r, short_buf, sizeof(short_buf));
    assert_int_equal(weir_kr_i32(&r), 0);
    assert_false(weir_kr_ok(&r));
    assert_int_equal(weir_kr_i8(&r), 0);
    assert_false(weir_kr_ok(&r));

    /* A string longer than the buffer. */
    const uint8_t str[] = {0, 10, 'a', 'b'};
    weir_kr_init(&r, str, sizeof(str));
    assert_int_equal(weir_kr_str(&r, false, false).len, -1);
    assert_false(weir_kr_ok(&r));

    /* Null where not nullable, and -2 where nullable. */
    const uint8_t null_str[] = {0xff, 0xff};
    weir_kr_init(&r, null_str, sizeof(null_str));
    (void)weir_kr_str(&r, false, false);
    assert_false(weir_kr_ok(&r));
    const uint8_t neg2[] = {0xff, 0xfe};
    weir_kr_init(&r, neg2, sizeof(neg2));
    (void)weir_kr_str(&r, false, true);
    assert_false(weir_kr_ok(&r));

    /* An array claiming more elements than bytes left. */
    const uint8_t arr[] = {0, 0, 1, 0, 1, 2, 3, 4};
    weir_kr_init(&r, arr, sizeof(arr));
    (void)weir_kr_array(&r, false, false, 4);
    assert_false(weir_kr_ok(&r));

    /* Overlong varint (more than 32 bits). */
    const uint8_t vi[] = {0xff, 0xff, 0xff, 0xff, 0x7f};
    weir_kr_init(&r, vi, sizeof(vi));
    (void)weir_kr_uvarint(&r);
    assert_false(weir_kr_ok(&r));

    /* Tagged field whose size runs past the end. */
    const uint8_t tags[] = {1, 0, 9, 1};
    weir_kr_init(&r, tags, sizeof(tags));
    weir_kr_tags(&r, true);
    assert_false(weir_kr_ok(&r));
}

static void
build_produce_v3(weir_kw *w)
{
    weir_kw_str(w, false, NULL); /* transactional_id */
    weir_kw_i16(w, -1);
    weir_kw_i32(w, 30000);
    weir_kw_array(w, false, 1);
    weir_kw_str(w, false, "topic");
    weir_kw_array(w, false, 2);
    weir_kw_i32(w, 0);
    weir_kw_bytes(w, false, "records", 7);
    weir_kw_i32(w, 1);
    weir_kw_bytes(w, false, NULL, -1);
}

static void
test_schema_produce(void **state)
{
    (void)state;
    const weir_kapi *api = weir_kapi_find(WEIR_API_PRODUCE);
    assert_non_null(api);
    weir_kw w;
    weir_kw_init(&w);
    build_produce_v3(&w);
    assert_true(weir_kschema_check(api, 3, w.buf, w.len));
    assert_true(weir_kschema_check(api, 7, w.buf, w.len));
    /* Every truncation is rejected. */
    for (size_t cut = 0; cut < w.len; cut++)
        assert_false(weir_kschema_check(api, 3, w.buf, cut));
    /* Unsupported versions are rejected. */
    assert_false(weir_kschema_check(api, 2, w.buf, w.len));
    assert_false(weir_kschema_check(api, 8, w.buf, w.len));
    weir_kw_fini(&w);
}

static void
test_schema_flexible(void **state)
{
    (void)state;
    /* InitProducerId v4 is flexible: compact nullable string, tags. */
    const weir_kapi *api = weir_kapi_find(WEIR_API_INIT_PRODUCER_ID);
    weir_kw w;
    weir_kw_init(&w);
    weir_kw_str(&w, true, "txn-1");
    weir_kw_i32(&w, 60000);
    weir_kw_i64(&w, -1);
    weir_kw_i16(&w, -1);
    weir_kw_tags(&w, true);
    assert_true(weir_kschema_check(api, 4, w.buf, w.len));
    for (size_t cut = 0; cut < w.len; cut++)
        assert_false(weir_kschema_check(api, 4, w.buf, cut));
    /* The same bytes are not a valid v1 (non-flexible) request. */
    assert_false(weir_kschema_check(api, 1, w.buf, w.len));
    weir_kw_fini(&w);

    /* OffsetFetch v7: compact arrays with per-struct tags. */
    api = weir_kapi_find(WEIR_API_OFFSET_FETCH);
    weir_kw_init(&w);
    weir_kw_str(&w, true, "group");
    weir_kw_array(&w, true, 1);
    weir_kw_str(&w, true, "t");
    weir_kw_array(&w, true, 2);
    weir_kw_i32(&w, 0);
    weir_kw_i32(&w, 1);
    weir_kw_tags(&w, true);
    weir_kw_bool(&w, true);
    weir_kw_tags(&w, true);
    assert_true(weir_kschema_check(api, 7, w.buf, w.len));
    assert_false(weir_kschema_check(api, 7, w.buf, w.len - 1));
    weir_kw_fini(&w);
}

/* ListTransactions v1: compact arrays of strings and of int64. */
static void
test_schema_list_transactions(void **state)
{
    (void)state;
    const weir_kapi *api = weir_kapi_find(WEIR_API_LIST_TRANSACTIONS);
    assert_non_null(api);
    weir_kw w;
    weir_kw_init(&w);
    weir_kw_array(&w, true, 1);
    weir_kw_str(&w, true, "Ongoing");
    weir_kw_array(&w, true, 2);
    weir_kw_i64(&w, 1000);
    weir_kw_i64(&w, 1001);
    weir_kw_i64(&w, 60000); /* DurationFilter */
    weir_kw_tags(&w, true);
    assert_true(weir_kschema_check(api, 1, w.buf, w.len));
    assert_false(weir_kschema_check(api, 1, w.buf, w.len - 1));
    weir_kw_fini(&w);
}

static void
test_api_table(void **state)
{
    (void)state;
    size_t n;
    const weir_kapi *apis = weir_kapi_list(&n);
    assert_true(n >= 19);
    for (size_t i = 0; i < n; i++) {
        assert_true(apis[i].min_version <= apis[i].max_version);
        assert_ptr_equal(weir_kapi_find(apis[i].key), &apis[i]);
        if (i > 0)
            assert_true(apis[i - 1].key < apis[i].key);
    }
    assert_null(weir_kapi_find(17)); /* SaslHandshake */
    assert_string_equal(weir_kapi_name(WEIR_API_END_TXN), "EndTxn");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_attach),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_schema_produce),
        cmocka_unit_test(test_schema_flexible),
        cmocka_unit_test(test_schema_list_transactions),
        cmocka_unit_test(test_api_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
