/* broker/compact.c: latest record per key, offsets kept, stable offset
 * respected, aborted transactions removed, markers kept, tombstones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/storage/batch.h"
#include "broker/storage/plog.h"
#include "common/clock.h"
#include "common/err.h"
#include "test_storage_util.h"

static int
setup(void **state)
{
    *state = tmpdir_new();
    return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    tmpdir_rm(*state);
    free(*state);
    return 0;
}

typedef struct seen {
    int64_t offset;
    char key[16];
    char value[32]; /* "" for a tombstone */
    bool control;
} seen;

/* Reads the whole log into recs (at most cap). */
static int
read_all(weir_plog *log, seen *recs, int cap)
{
    int64_t next = weir_plog_start_offset(log), end = weir_plog_end_offset(log);
    int n = 0;
    while (next < end) {
        uint8_t *out;
        size_t len, pos = 0;
        assert_int_equal(
            weir_plog_read(log, next, end, 1 << 20, &out, &len), WEIR_OK);
        if (len == 0)
            break;
        while (pos < len) {
            weir_batch_hdr h;
            size_t blen;
            weir_record_iter it;
            weir_record rec;
            bool more;
            assert_int_equal(
                weir_batch_parse(out + pos, len - pos, &h, &blen), WEIR_OK);
            assert_int_equal(
                weir_record_iter_init(&it, out + pos, blen, &h), WEIR_OK);
            while (weir_record_iter_next(&it, &rec, &more) == WEIR_OK && more) {
                seen *s = &recs[n++];
                assert_true(n <= cap);
                memset(s, 0, sizeof(*s));
                s->offset = h.base_offset + rec.offset_delta;
                assert_true(s->offset >= next);
                s->control = weir_batch_is_control(&h);
                if (rec.key_len > 0 && !s->control)
                    memcpy(s->key, rec.key, (size_t)rec.key_len);
                if (rec.value_len > 0 && !s->control)
                    memcpy(s->value, rec.value, (size_t)rec.value_len);
            }
            next = weir_batch_last_offset(&h) + 1;
            pos += blen;
        }
        free(out);
    }
    return n;
}

static int64_t
put_kv(weir_plog *log, int key, long val, int64_t ts)
{
    uint8_t b[256];
    int64_t base;
    size_t n = batch_kv(b, sizeof(b), key, val, ts);
    assert_int_equal(weir_plog_append(log, b, n, &base), WEIR_OK);
    return base;
}

/* Appends a multi-record batch: keys k<key0>..; values v<offset>. */
static int64_t
put_multi(weir_plog *log, int nrec, int key0, const weir_batch_opts *o)
{
    uint8_t b[2048];
    weir_record_in r[8];
    char k[8][16], v[8][32];
    int64_t off = weir_plog_end_offset(log), base;
    for (int j = 0; j < nrec; j++) {
        int kl = snprintf(k[j], 16, "k%d", key0 + j);
        int vl = snprintf(v[j], 32, "v%lld", (long long)(off + j));
        r[j] = (weir_record_in){k[j], (size_t)kl, v[j], (size_t)vl, 1000};
    }
    size_t n = weir_batch_build(b, sizeof(b), o, r, (size_t)nrec);
    assert_int_equal(weir_plog_append(log, b, n, &base), WEIR_OK);
    return base;
}

static void
put_marker(weir_plog *log, int64_t pid, bool commit)
{
    uint8_t b[256];
    int64_t base;
    size_t n = weir_batch_build_control(b, sizeof(b), pid, 0, commit, 1000);
    assert_int_equal(weir_plog_append(log, b, n, &base), WEIR_OK);
}

static void
test_latest_per_key(void **state)
{
    weir_plog *log;
    weir_plog_opts o = {.segment_bytes = 2048, .compact = true};
    static seen before[3000], after[3000];
    int64_t latest[10];

    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    for (int i = 0; i < 1000; i++)
        put_kv(log, i % 10, i, 1000 + i); /* offset i: k<i%10>, v<i> */
    int segs = weir_plog_segment_count(log);
    int nb = read_all(log, before, 3000);
    assert_int_equal(nb, 1000);
    uint64_t size_before = weir_plog_size_bytes(log);
    assert_int_equal(weir_plog_maintain(log, 5000, 1000), WEIR_OK);
    assert_true(weir_plog_size_bytes(log) < size_before / 2);
    assert_int_equal(weir_plog_segment_count(log), segs);
    assert_int_equal(weir_plog_start_offset(log), 0);
    assert_int_equal(weir_plog_end_offset(log), 1000);
    int na = read_all(log, after, 3000);
    assert_true(na < 200);

    /* Every surviving record is the original one at its original offset. */
    for (int i = 0; i < 10; i++)
        latest[i] = -1;
    for (int i = 0; i < na; i++) {
        char v[32];
        snprintf(v, sizeof(v), "v%lld", (long long)after[i].offset);
        assert_string_equal(after[i].value, v);
        assert_int_equal(after[i].key[1] - '0', after[i].offset % 10);
        latest[after[i].offset % 10] = after[i].offset;
    }
    /* The final value of every key is still there. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(latest[i], 990 + i);
    /* In the closed segments (all below 900 here: the active one holds
     * under 30 records) each key appears once at most. */
    int per_key[10] = {0};
    for (int i = 0; i < na; i++)
        if (after[i].offset < 900)
            per_key[after[i].offset % 10]++;
    for (int i = 0; i < 10; i++)
        assert_true(per_key[i] <= 1);
    weir_plog_close(log);

    /* Reopen: the compacted segments and their indexes are what is read. */
    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    assert_int_equal(read_all(log, before, 3000), na);
    assert_memory_equal(before, after, (size_t)na * sizeof(seen));
    /* Reads at any offset, including ones compacted away, work. */
    for (int64_t off = 0; off < 1000; off += 13) {
        uint8_t *out;
        size_t len;
        weir_batch_hdr h;
        assert_int_equal(
            weir_plog_read(log, off, 1000, 100, &out, &len), WEIR_OK);
        assert_true(len > 0);
        assert_int_equal(weir_batch_parse(out, len, &h, NULL), WEIR_OK);
        assert_true(weir_batch_last_offset(&h) >= off);
        free(out);
    }
    /* A second pass changes nothing. */
    uint64_t size = weir_plog_size_bytes(log);
    assert_int_equal(weir_plog_compact(log, 5000, 1000), WEIR_OK);
    assert_int_equal(weir_plog_size_bytes(log), size);
    weir_plog_close(log);
}

static void
test_stable_offset_respected(void **state)
{
    weir_plog *log;
    weir_plog_opts o = {.segment_bytes = 2048, .compact = true};
    static seen recs[3000];

    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    for (int i = 0; i < 600; i++)
        put_kv(log, i % 5, i, 1000 + i);
    /* Nothing at or above 300 may be touched. */
    assert_int_equal(weir_plog_compact(log, 5000, 300), WEIR_OK);
    int n = read_all(log, recs, 3000);
    int above = 0;
    for (int i = 0; i < n; i++)
        if (recs[i].offset >= 300)
            above++;
    assert_int_equal(above, 300);
    assert_true(n < 600);
    /* Below 300 each key's latest record before 300 survives. */
    for (int k = 0; k < 5; k++) {
        bool found = false;
        for (int i = 0; i < n; i++)
            if (recs[i].offset == 295 + k)
                found = true;
        assert_true(found);
    }
    /* With stable offset 0 nothing changes. */
    uint64_t size = weir_plog_size_bytes(log);
    assert_int_equal(weir_plog_compact(log, 5000, 0), WEIR_OK);
    assert_int_equal(weir_plog_size_bytes(log), size);
    weir_plog_close(log);
}

static void
test_transactions(void **state)
{
    weir_plog *log;
    weir_plog_opts o = {.segment_bytes = 1024, .compact = true};
    weir_batch_opts t7 = {7, 0, 0, true, false};
    weir_batch_opts t8 = {8, 0, 0, true, false};
    weir_batch_opts t9 = {9, 0, 0, true, false};
    static seen recs[3000];

    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    int64_t committed = put_multi(log, 2, 100, &t7); /* k100, k101 */
    int64_t aborted = put_multi(log, 2, 100, &t8);   /* k100, k101 later */
    put_marker(log, 8, false);                       /* abort pid 8 */
    put_marker(log, 7, true);                        /* commit pid 7 */
    int64_t open9 = put_multi(log, 1, 200, &t9);     /* no marker */
    for (int i = 0; i < 100; i++)
        put_kv(log, 300 + i % 3, i, 1000);
    assert_true(weir_plog_segment_count(log) > 2);
    assert_int_equal(
        weir_plog_compact(log, 5000, weir_plog_end_offset(log)), WEIR_OK);
    int n = read_all(log, recs, 3000);
    int markers = 0;
    bool saw_committed = false, saw_open = false;
    for (int i = 0; i < n; i++) {
        if (recs[i].control) {
            markers++;
            continue;
        }
        /* Nothing of the aborted transaction survives. */
        assert_true(recs[i].offset < aborted || recs[i].offset > aborted + 1);
        if (recs[i].offset == committed)
            saw_committed = true;
        if (recs[i].offset == open9)
            saw_open = true;
    }
    assert_int_equal(markers, 2);
    /* k100's latest committed value is the committed one, even though an
     * aborted record for k100 came later. */
    assert_true(saw_committed);
    /* A transaction without an outcome in the log is left alone. */
    assert_true(saw_open);
    weir_plog_close(log);
}

static void
test_tombstones(void **state)
{
    weir_plog *log;
    char dir[1100];
    static seen recs[3000];

    for (int old = 0; old < 2; old++) {
        weir_plog_opts o = {.segment_bytes = 1024,
            .compact = true,
            .delete_retention_ms = 1000};
        snprintf(dir, sizeof(dir), "%s/t%d", (char *)*state, old);
        assert_int_equal(weir_plog_open(&log, dir, &o), WEIR_OK);
        put_kv(log, 1, 0, 1000);
        /* A tombstone for k1 (null value) at timestamp 2000. */
        uint8_t b[256];
        int64_t tomb;
        weir_record_in r = {"k1", 2, NULL, 0, 2000};
        size_t len = weir_batch_build(b, sizeof(b), NULL, &r, 1);
        assert_int_equal(weir_plog_append(log, b, len, &tomb), WEIR_OK);
        for (int i = 0; i < 60; i++)
            put_kv(log, 2, i, 2000);
        /* now - delete_retention: 2500 keeps it, 5000 drops it. */
        assert_int_equal(weir_plog_compact(
                             log, old ? 5000 : 2500, weir_plog_end_offset(log)),
            WEIR_OK);
        int n = read_all(log, recs, 3000);
        bool saw_tomb = false;
        for (int i = 0; i < n; i++) {
            assert_int_not_equal(recs[i].offset, 0); /* k1's value is gone */
            if (recs[i].offset == tomb) {
                saw_tomb = true;
                assert_string_equal(recs[i].value, "");
            }
        }
        assert_true(saw_tomb == !old);
        weir_plog_close(log);
    }
}

/* segment_ms closes a quiet active segment, so compaction gets to it. */
static void
test_segment_ms_roll(void **state)
{
    weir_plog *log;
    weir_plog_opts o = {.compact = true, .segment_ms = 1000};
    static seen recs[100];

    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    for (int i = 0; i < 10; i++)
        put_kv(log, 1, i, 1000 + i);
    int64_t now = weir_clock_wall_ms();
    assert_int_equal(weir_plog_maintain(log, now, 10), WEIR_OK);
    assert_int_equal(weir_plog_segment_count(log), 1);
    assert_int_equal(weir_plog_maintain(log, now + 5000, 10), WEIR_OK);
    assert_int_equal(weir_plog_segment_count(log), 2);
    int n = read_all(log, recs, 100);
    assert_int_equal(n, 1);
    assert_int_equal(recs[0].offset, 9);
    assert_string_equal(recs[0].value, "v9");
    /* An empty active segment is not rolled again. */
    assert_int_equal(weir_plog_maintain(log, now + 10000, 10), WEIR_OK);
    assert_int_equal(weir_plog_segment_count(log), 2);
    assert_int_equal(put_kv(log, 1, 10, 2000), 10);
    weir_plog_close(log);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_latest_per_key, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_stable_offset_respected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tombstones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_ms_roll, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
