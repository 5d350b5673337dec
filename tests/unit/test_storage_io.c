/*
 * I/O failure sweep (libuv test-loop-oom style): the n-th system call of
 * the storage engine fails (a write fails after writing half its bytes),
 * for every n until an operation sequence completes without reaching it.
 * After each, the files are reopened without failures and must hold every
 * acknowledged record, in order, as valid batches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/storage/batch.h"
#include "broker/storage/journal.h"
#include "broker/storage/plog.h"
#include "broker/storage/store_io.h"
#include "common/err.h"
#include "test_storage_util.h"

#define ATTEMPTS 40

typedef struct acked {
    int64_t offset[4 * ATTEMPTS];
    long value[4 * ATTEMPTS];
    int n;
} acked;

/* Appends ATTEMPTS one-record batches (value v<1000+i>), rolling often. */
static void
write_some(weir_plog *log, acked *a, int64_t now)
{
    for (int i = 0; i < ATTEMPTS; i++) {
        uint8_t b[256];
        int64_t base;
        size_t n = batch_kv(b, sizeof(b), i % 4, 1000 + i, now + i);
        if (weir_plog_append(log, b, n, &base) == WEIR_OK) {
            a->offset[a->n] = base;
            a->value[a->n++] = 1000 + i;
        }
        if (i % 10 == 9)
            (void)weir_plog_maintain(log, now + i, weir_plog_end_offset(log));
    }
}

/* Every batch parses with its CRC, offsets grow; acked records present. */
static void
verify(weir_plog *log, const acked *a)
{
    int64_t next = weir_plog_start_offset(log), end = weir_plog_end_offset(log);
    int found = 0;
    while (next < end) {
        uint8_t *out;
        size_t len, pos = 0;
        assert_int_equal(
            weir_plog_read(log, next, end, 1 << 20, &out, &len), WEIR_OK);
        assert_true(len > 0);
        while (pos < len) {
            weir_batch_hdr h;
            size_t blen;
            weir_record_iter it;
            weir_record rec;
            bool more;
            assert_int_equal(
                weir_batch_parse(out + pos, len - pos, &h, &blen), WEIR_OK);
            assert_true(h.base_offset >= next);
            assert_int_equal(
                weir_record_iter_init(&it, out + pos, blen, &h), WEIR_OK);
            while (weir_record_iter_next(&it, &rec, &more) == WEIR_OK && more) {
                int64_t off = h.base_offset + rec.offset_delta;
                for (int i = 0; i < a->n; i++) {
                    if (a->offset[i] != off)
                        continue;
                    char v[32];
                    int vl = snprintf(v, sizeof(v), "v%ld", a->value[i]);
                    assert_int_equal(rec.value_len, vl);
                    assert_memory_equal(rec.value, v, (size_t)vl);
                    found++;
                }
            }
            next = weir_batch_last_offset(&h) + 1;
            pos += blen;
        }
        free(out);
    }
    assert_int_equal(found, a->n);
}

static void
test_log_sweep(void **state)
{
    (void)state;
    for (int sticky = 0; sticky < 2; sticky++) {
        for (int64_t n = 0;; n++) {
            char *dir = tmpdir_new();
            weir_plog *log;
            weir_plog_opts o = {.segment_bytes = 1024,
                .fsync = sticky ? WEIR_FSYNC_ALWAYS : WEIR_FSYNC_INTERVAL,
                .fsync_interval_ms = 1};
            acked a = {.n = 0};
            bool reached;

            assert_int_equal(weir_plog_open(&log, dir, &o), WEIR_OK);
            write_some(log, &a, 1000); /* some history, no failures */
            weir_store_io_fail_after(n, sticky);
            write_some(log, &a, 2000);
            weir_plog_close(log);
            reached = weir_store_io_calls() > n;
            weir_store_io_fail_after(-1, false);

            assert_int_equal(weir_plog_open(&log, dir, &o), WEIR_OK);
            assert_true(a.n >= ATTEMPTS);
            verify(log, &a);
            weir_plog_close(log);
            tmpdir_rm(dir);
            free(dir);
            if (!reached)
                break;
            assert_true(n < 10000);
        }
    }
}

static void
test_open_sweep(void **state)
{
    (void)state;
    char *dir = tmpdir_new();
    weir_plog *log;
    weir_plog_opts o = {.segment_bytes = 1024};
    acked a = {.n = 0};
    char path[2048];

    assert_int_equal(weir_plog_open(&log, dir, &o), WEIR_OK);
    write_some(log, &a, 1000);
    weir_plog_close(log);
    /* A torn tail for recovery to deal with. */
    snprintf(path, sizeof(path), "%s/00000000000000000000.index", dir);
    unlink(path);
    for (int64_t n = 0;; n++) {
        weir_store_io_fail_after(n, false);
        int rv = weir_plog_open(&log, dir, &o);
        bool reached = weir_store_io_calls() > n;
        weir_store_io_fail_after(-1, false);
        if (rv == WEIR_OK)
            weir_plog_close(log);
        else
            assert_true(rv == WEIR_EIO);
        assert_int_equal(weir_plog_open(&log, dir, &o), WEIR_OK);
        verify(log, &a);
        weir_plog_close(log);
        if (!reached)
            break;
    }
    tmpdir_rm(dir);
    free(dir);
}

static void
test_compaction_sweep(void **state)
{
    (void)state;
    for (int64_t n = 0;; n++) {
        char *dir = tmpdir_new();
        weir_plog *log;
        weir_plog_opts o = {.segment_bytes = 1024, .compact = true};
        acked a = {.n = 0};
        assert_int_equal(weir_plog_open(&log, dir, &o), WEIR_OK);
        write_some(log, &a, 1000);
        write_some(log, &a, 2000);
        weir_store_io_fail_after(n, false);
        int rv = weir_plog_compact(log, 5000, weir_plog_end_offset(log));
        weir_plog_close(log);
        bool reached = weir_store_io_calls() > n;
        weir_store_io_fail_after(-1, false);
        assert_true(rv == WEIR_OK || rv == WEIR_EIO);

        /* The newest of each key (the last 4 acked) must survive. */
        acked last = {.n = 0};
        for (int i = a.n - 4; i < a.n; i++) {
            last.offset[last.n] = a.offset[i];
            last.value[last.n++] = a.value[i];
        }
        assert_int_equal(weir_plog_open(&log, dir, &o), WEIR_OK);
        verify(log, &last);
        assert_int_equal(weir_plog_end_offset(log), 2 * ATTEMPTS);
        weir_plog_close(log);
        tmpdir_rm(dir);
        free(dir);
        if (!reached)
            break;
    }
}

/* Journal: records carry their id in the first 4 bytes. */
typedef struct ids {
    int v[200];
    int n;
} ids;

static int
collect(void *arg, const uint8_t *rec, size_t len)
{
    ids *s = arg;
    if (len != 64 || s->n == 200)
        return WEIR_ECORRUPT;
    memcpy(&s->v[s->n++], rec, sizeof(int));
    return WEIR_OK;
}

static int
jput(weir_journal *j, int id, bool sync)
{
    uint8_t rec[64];
    memset(rec, id & 0xff, sizeof(rec));
    memcpy(rec, &id, sizeof(id));
    return weir_journal_append(j, rec, sizeof(rec), sync);
}

static int
snap_acked(void *arg, weir_journal *out)
{
    const ids *s = arg;
    for (int i = 0; i < s->n; i++) {
        int rv = jput(out, s->v[i], false);
        if (rv != WEIR_OK)
            return rv;
    }
    return WEIR_OK;
}

static void
test_journal_sweep(void **state)
{
    (void)state;
    for (int sticky = 0; sticky < 2; sticky++) {
        for (int64_t n = 0;; n++) {
            char *dir = tmpdir_new();
            char path[2048];
            weir_journal *j;
            ids acked = {.n = 0}, got = {.n = 0};
            snprintf(path, sizeof(path), "%s/journal", dir);
            assert_int_equal(weir_journal_open(&j, path, NULL, NULL), WEIR_OK);
            for (int i = 0; i < 20; i++) {
                assert_int_equal(jput(j, i, false), WEIR_OK);
                acked.v[acked.n++] = i;
            }
            weir_store_io_fail_after(n, sticky);
            for (int i = 20; i < 40; i++)
                if (jput(j, i, i % 3 == 0) == WEIR_OK)
                    acked.v[acked.n++] = i;
            /* Rewrite keeping only the acknowledged records. */
            (void)weir_journal_rewrite(j, snap_acked, &acked);
            for (int i = 40; i < 60; i++)
                if (jput(j, i, i % 3 == 0) == WEIR_OK)
                    acked.v[acked.n++] = i;
            weir_journal_close(j);
            bool reached = weir_store_io_calls() > n;
            weir_store_io_fail_after(-1, false);

            assert_int_equal(
                weir_journal_open(&j, path, collect, &got), WEIR_OK);
            weir_journal_close(j);
            /* Replayed ids grow; every acknowledged id is among them. */
            for (int i = 1; i < got.n; i++)
                assert_true(got.v[i] > got.v[i - 1]);
            for (int i = 0, k = 0; i < acked.n; i++) {
                while (k < got.n && got.v[k] < acked.v[i])
                    k++;
                assert_true(k < got.n);
                assert_int_equal(got.v[k], acked.v[i]);
            }
            tmpdir_rm(dir);
            free(dir);
            if (!reached)
                break;
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_sweep),
        cmocka_unit_test(test_open_sweep),
        cmocka_unit_test(test_compaction_sweep),
        cmocka_unit_test(test_journal_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
