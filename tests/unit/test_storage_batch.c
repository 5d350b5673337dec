/* broker/batch.c: parse real bytes, reject bad ones, build, filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/storage/batch.h"
#include "broker/storage/crc32c.h"
#include "common/err.h"

static void
put(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/*
 * A batch as librdkafka sends it, encoded by hand: base offset 0, one
 * record (key "k", value "v"), idempotent producer 1000 epoch 3 seq 7.
 */
static size_t
hand_batch(uint8_t *b)
{
    static const uint8_t rec[] = {
        0x10,      /* record length 8 (zigzag) */
        0x00,      /* attributes */
        0x00,      /* timestamp delta 0 */
        0x00,      /* offset delta 0 */
        0x02, 'k', /* key length 1, key */
        0x02, 'v', /* value length 1, value */
        0x00,      /* headers 0 */
    };
    memset(b, 0, 61);
    put(b + 0, 0, 8);                     /* base offset */
    put(b + 8, 61 - 12 + sizeof(rec), 4); /* batch length */
    put(b + 12, 0xffffffff, 4);           /* leader epoch -1 */
    b[16] = 2;                            /* magic */
    put(b + 21, 0, 2);                    /* attributes */
    put(b + 23, 0, 4);                    /* last offset delta */
    put(b + 27, 1700000000000ull, 8);     /* first timestamp */
    put(b + 35, 1700000000000ull, 8);     /* max timestamp */
    put(b + 43, 1000, 8);                 /* producer id */
    put(b + 51, 3, 2);                    /* producer epoch */
    put(b + 53, 7, 4);                    /* base sequence */
    put(b + 57, 1, 4);                    /* records count */
    memcpy(b + 61, rec, sizeof(rec));
    put(b + 17, weir_crc32c(0, b + 21, 61 - 21 + sizeof(rec)), 4);
    return 61 + sizeof(rec);
}

static void
test_parse_hand_batch(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = hand_batch(b), blen;
    weir_batch_hdr h;
    weir_record_iter it;
    weir_record rec;
    bool more;

    assert_int_equal(weir_batch_parse(b, n, &h, &blen), WEIR_OK);
    assert_int_equal(blen, n);
    assert_int_equal(h.base_offset, 0);
    assert_int_equal(h.batch_length, n - 12);
    assert_int_equal(h.leader_epoch, -1);
    assert_int_equal(h.magic, 2);
    assert_int_equal(h.last_offset_delta, 0);
    assert_int_equal(h.first_timestamp, 1700000000000ll);
    assert_int_equal(h.producer_id, 1000);
    assert_int_equal(h.producer_epoch, 3);
    assert_int_equal(h.base_sequence, 7);
    assert_int_equal(h.records_count, 1);
    assert_false(weir_batch_is_transactional(&h));
    assert_false(weir_batch_is_control(&h));
    assert_int_equal(weir_batch_compression(&h), 0);

    assert_int_equal(weir_record_iter_init(&it, b, n, &h), WEIR_OK);
    assert_int_equal(weir_record_iter_next(&it, &rec, &more), WEIR_OK);
    assert_true(more);
    assert_int_equal(rec.key_len, 1);
    assert_memory_equal(rec.key, "k", 1);
    assert_int_equal(rec.value_len, 1);
    assert_memory_equal(rec.value, "v", 1);
    assert_int_equal(rec.headers_count, 0);
    assert_int_equal(weir_record_iter_next(&it, &rec, &more), WEIR_OK);
    assert_false(more);

    /* Base offset and leader epoch are outside the CRC. */
    weir_batch_set_base_offset(b, 1234567890123ll);
    weir_batch_set_leader_epoch(b, 5);
    assert_int_equal(weir_batch_parse(b, n, &h, NULL), WEIR_OK);
    assert_int_equal(h.base_offset, 1234567890123ll);
    assert_int_equal(h.leader_epoch, 5);
    assert_int_equal(weir_batch_last_offset(&h), 1234567890123ll);
}

static void
test_builder_matches_hand(void **state)
{
    (void)state;
    uint8_t a[128], b[128];
    size_t n = hand_batch(a);
    weir_batch_opts o = {1000, 3, 7, false, false};
    weir_record_in r = {"k", 1, "v", 1, 1700000000000ll};
    assert_int_equal(weir_batch_build(b, sizeof(b), &o, &r, 1), n);
    put(b + 12, 0xffffffff, 4);
    assert_memory_equal(a, b, n);
    assert_int_equal(weir_batch_build(b, n - 1, &o, &r, 1), 0);
    assert_int_equal(weir_batch_build(b, sizeof(b), &o, &r, 0), 0);
}

static void
test_reject_bad(void **state)
{
    (void)state;
    uint8_t b[128], c[128];
    size_t n = hand_batch(b);
    weir_batch_hdr h;

    /* Every truncation is malformed. */
    for (size_t len = 0; len < n; len++)
        assert_int_equal(weir_batch_parse(b, len, &h, NULL), WEIR_EPROTO);
    /* Every flipped bit inside the CRC's coverage is caught. */
    for (size_t i = 21; i < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(c, b, n);
            c[i] ^= (uint8_t)(1 << bit);
            assert_int_equal(weir_batch_parse(c, n, &h, NULL), WEIR_ECORRUPT);
        }
    }
    /* A wrong CRC. */
    memcpy(c, b, n);
    c[17] ^= 1;
    assert_int_equal(weir_batch_parse(c, n, &h, NULL), WEIR_ECORRUPT);
    /* Old magic. */
    memcpy(c, b, n);
    c[16] = 1;
    assert_int_equal(weir_batch_parse(c, n, &h, NULL), WEIR_EUNSUPPORTED);
    /* Lengths that lie, with a CRC that matches what is there. */
    memcpy(c, b, n);
    put(c + 8, 10, 4);
    assert_int_equal(weir_batch_parse(c, n, &h, NULL), WEIR_EPROTO);
    memcpy(c, b, n);
    put(c + 8, 0x7fffffff, 4);
    assert_int_equal(weir_batch_parse(c, n, &h, NULL), WEIR_EPROTO);
    /* Record count that disagrees with the records. */
    memcpy(c, b, n);
    put(c + 57, 2, 4);
    put(c + 23, 1, 4);
    put(c + 17, weir_crc32c(0, c + 21, n - 21), 4);
    assert_int_equal(weir_batch_parse(c, n, &h, NULL), WEIR_EPROTO);
    memcpy(c, b, n);
    put(c + 57, 0, 4);
    put(c + 17, weir_crc32c(0, c + 21, n - 21), 4);
    assert_int_equal(weir_batch_parse(c, n, &h, NULL), WEIR_EPROTO);
    memcpy(c, b, n);
    put(c + 57, 0xffffffff, 4);
    put(c + 17, weir_crc32c(0, c + 21, n - 21), 4);
    assert_int_equal(weir_batch_parse(c, n, &h, NULL), WEIR_EPROTO);
    /* A key length running past the end. */
    memcpy(c, b, n);
    c[61 + 4] = 0x7e;
    put(c + 17, weir_crc32c(0, c + 21, n - 21), 4);
    assert_int_equal(weir_batch_parse(c, n, &h, NULL), WEIR_EPROTO);
}

/* Random bytes and random mutations with fixed-up CRCs never crash. */
static void
test_garbage_never_crashes(void **state)
{
    (void)state;
    uint8_t b[128], c[128];
    size_t n = hand_batch(b), blen;
    weir_batch_hdr h;
    srand(7);
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)rand() % (n + 1);
        memcpy(c, b, n);
        for (int k = 0; k < 1 + rand() % 4; k++)
            c[rand() % n] = (uint8_t)rand();
        if (round % 2)
            put(c + 17, weir_crc32c(0, c + 21, n - 21), 4);
        int rv = weir_batch_parse(c, len, &h, &blen);
        if (rv == WEIR_OK) {
            weir_record_iter it;
            weir_record rec;
            bool more;
            assert_true(blen <= len);
            if (weir_record_iter_init(&it, c, blen, &h) == WEIR_OK)
                while (
                    weir_record_iter_next(&it, &rec, &more) == WEIR_OK && more)
                    assert_true(rec.raw + rec.raw_len <= c + blen);
        } else {
            assert_true(rv == WEIR_EPROTO || rv == WEIR_ECORRUPT ||
                        rv == WEIR_EUNSUPPORTED);
        }
    }
    for (int round = 0; round < 20000; round++) {
        for (size_t i = 0; i < sizeof(c); i++)
            c[i] = (uint8_t)rand();
        c[16] = 2;
        assert_int_not_equal(
            weir_batch_parse(c, (size_t)rand() % sizeof(c), &h, NULL), WEIR_OK);
    }
}

static void
test_control_batch(void **state)
{
    (void)state;
    uint8_t b[256];
    weir_batch_hdr h;
    weir_record_iter it;
    weir_record rec;
    bool more;
    size_t n = weir_batch_build_control(b, sizeof(b), 42, 9, true, 5000);

    assert_true(n > 0);
    assert_int_equal(weir_batch_build_control(b, 10, 42, 9, true, 5000), 0);
    assert_int_equal(weir_batch_parse(b, n, &h, NULL), WEIR_OK);
    assert_true(weir_batch_is_control(&h));
    assert_true(weir_batch_is_transactional(&h));
    assert_int_equal(h.producer_id, 42);
    assert_int_equal(h.producer_epoch, 9);
    assert_int_equal(h.base_sequence, -1);
    assert_int_equal(h.records_count, 1);
    assert_int_equal(weir_record_iter_init(&it, b, n, &h), WEIR_OK);
    assert_int_equal(weir_record_iter_next(&it, &rec, &more), WEIR_OK);
    assert_true(more);
    assert_int_equal(rec.key_len, 4);
    assert_memory_equal(rec.key, "\0\0\0\1", 4);
    assert_int_equal(rec.value_len, 6);
    assert_memory_equal(rec.value, "\0\0\0\0\0\0", 6);
    n = weir_batch_build_control(b, sizeof(b), 42, 9, false, 5000);
    assert_int_equal(weir_batch_parse(b, n, &h, NULL), WEIR_OK);
    assert_int_equal(weir_record_iter_init(&it, b, n, &h), WEIR_OK);
    assert_int_equal(weir_record_iter_next(&it, &rec, &more), WEIR_OK);
    assert_memory_equal(rec.key, "\0\0\0\0", 4);
}

static void
test_filter_keeps_offsets(void **state)
{
    (void)state;
    uint8_t b[1024], out[1024];
    weir_record_in r[5];
    char keys[5][4];
    bool keep[5] = {false, true, false, true, false};
    weir_batch_hdr h, nh;
    weir_record_iter it;
    weir_record rec;
    bool more;
    int32_t want[] = {1, 3};

    for (int i = 0; i < 5; i++) {
        keys[i][0] = 'a' + (char)i;
        r[i] = (weir_record_in){
            keys[i], 1, i == 3 ? NULL : "val", 3, 100 + i * 10};
    }
    size_t n = weir_batch_build(b, sizeof(b), NULL, r, 5);
    assert_int_equal(weir_batch_parse(b, n, &h, NULL), WEIR_OK);
    weir_batch_set_base_offset(b, 1000);
    h.base_offset = 1000;
    size_t m = weir_batch_filter(b, n, &h, keep, out);
    assert_true(m > 0 && m < n);
    assert_int_equal(weir_batch_parse(out, m, &nh, NULL), WEIR_OK);
    assert_int_equal(nh.base_offset, 1000);
    assert_int_equal(nh.last_offset_delta, 4);
    assert_int_equal(nh.records_count, 2);
    assert_int_equal(nh.first_timestamp, 100);
    assert_int_equal(nh.max_timestamp, 140);
    assert_int_equal(weir_record_iter_init(&it, out, m, &nh), WEIR_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(weir_record_iter_next(&it, &rec, &more), WEIR_OK);
        assert_true(more);
        assert_int_equal(rec.offset_delta, want[i]);
        assert_int_equal(rec.key[0], 'a' + want[i]);
        assert_int_equal(rec.timestamp_delta, want[i] * 10);
    }
    assert_int_equal(rec.value_len, -1); /* the tombstone survived */
    bool none[5] = {false};
    assert_int_equal(weir_batch_filter(b, n, &h, none, out), 0);
    /* In place works too. */
    m = weir_batch_filter(b, n, &h, keep, b);
    assert_int_equal(weir_batch_parse(b, m, &nh, NULL), WEIR_OK);
    assert_int_equal(nh.records_count, 2);
}

static void
test_varint(void **state)
{
    (void)state;
    uint8_t buf[10];
    int64_t vals[] = {0, 1, -1, 63, -64, 64, 300, -300, INT32_MAX, INT32_MIN,
        INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        int64_t v;
        size_t n = weir_varint_put(buf, vals[i]);
        assert_int_equal(weir_varint_get(buf, n, &v), n);
        assert_true(v == vals[i]);
        assert_int_equal(weir_varint_get(buf, n - 1, &v), 0);
    }
    memset(buf, 0xff, sizeof(buf));
    int64_t v;
    assert_int_equal(weir_varint_get(buf, sizeof(buf), &v), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_hand_batch),
        cmocka_unit_test(test_builder_matches_hand),
        cmocka_unit_test(test_reject_bad),
        cmocka_unit_test(test_garbage_never_crashes),
        cmocka_unit_test(test_control_batch),
        cmocka_unit_test(test_filter_keeps_offsets),
        cmocka_unit_test(test_varint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
