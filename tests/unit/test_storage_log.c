/* broker/storage/plog.c: append/read across rolls, reopen, torn tails, index
 * lookups, LSO-limited reads, time lookups, retention. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "broker/storage/batch.h"
#include "broker/storage/plog.h"
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

/* Appends n batches of `per` records each; record i has key k<i%10>,
 * value v<offset>, timestamp 1000 + offset. */
static void
fill(weir_plog *log, int n, int per)
{
    for (int i = 0; i < n; i++) {
        uint8_t buf[4096];
        weir_record_in r[16];
        char k[16][16], v[16][32];
        int64_t off = weir_plog_end_offset(log), base;
        for (int j = 0; j < per; j++) {
            int kl = snprintf(k[j], 16, "k%lld", (long long)((off + j) % 10));
            int vl = snprintf(v[j], 32, "v%lld", (long long)(off + j));
            r[j] = (weir_record_in){
                k[j], (size_t)kl, v[j], (size_t)vl, 1000 + off + j};
        }
        size_t len = weir_batch_build(buf, sizeof(buf), NULL, r, (size_t)per);
        assert_true(len > 0);
        assert_int_equal(weir_plog_append(log, buf, len, &base), WEIR_OK);
        assert_int_equal(base, off);
    }
}

/*
 * Reads everything from `from` in chunks of max_bytes and checks each
 * record: offsets consecutive from `from` (gaps allowed when gaps is true),
 * value "v<offset>". Returns the number of records seen.
 */
static int64_t
check_all(weir_plog *log, int64_t from, size_t max_bytes, bool gaps)
{
    int64_t next = from, seen = 0, end = weir_plog_end_offset(log);
    while (next < end) {
        uint8_t *out;
        size_t len, pos = 0;
        assert_int_equal(
            weir_plog_read(log, next, end, max_bytes, &out, &len), WEIR_OK);
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
                int64_t off = h.base_offset + rec.offset_delta;
                char v[32];
                int vl = snprintf(v, sizeof(v), "v%lld", (long long)off);
                if (off < next)
                    continue; /* the part of the first batch before `from` */
                if (!gaps)
                    assert_int_equal(off, next);
                assert_true(off >= next);
                assert_int_equal(rec.value_len, vl);
                assert_memory_equal(rec.value, v, (size_t)vl);
                next = off + 1;
                seen++;
            }
            next = weir_batch_last_offset(&h) + 1;
            pos += blen;
        }
        free(out);
    }
    return seen;
}

static void
test_append_read_rolls(void **state)
{
    weir_plog *log;
    weir_plog_opts o = {.segment_bytes = 2048, .index_interval_bytes = 256};
    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    assert_int_equal(weir_plog_start_offset(log), 0);
    assert_int_equal(weir_plog_end_offset(log), 0);
    fill(log, 300, 3);
    assert_int_equal(weir_plog_end_offset(log), 900);
    assert_true(weir_plog_segment_count(log) > 10);
    assert_int_equal(check_all(log, 0, 1 << 20, false), 900);
    assert_int_equal(check_all(log, 0, 1, false), 900);
    assert_int_equal(check_all(log, 0, 700, false), 900);
    /* Six readers at different places, interleaved (more than the log's
     * cache of reader positions), each sees every offset once in order. */
    int64_t cur[6] = {0, 0, 100, 301, 599, 897};
    bool moved = true;
    while (moved) {
        moved = false;
        for (int r = 0; r < 6; r++) {
            uint8_t *out;
            size_t len, pos = 0;
            if (cur[r] >= 900)
                continue;
            assert_int_equal(
                weir_plog_read(log, cur[r], 900, 150 + 50 * r, &out, &len),
                WEIR_OK);
            assert_true(len > 0);
            while (pos < len) {
                weir_batch_hdr h;
                size_t blen;
                assert_int_equal(
                    weir_batch_parse(out + pos, len - pos, &h, &blen), WEIR_OK);
                assert_true(h.base_offset <= cur[r] || pos > 0);
                assert_true(weir_batch_last_offset(&h) >= cur[r]);
                assert_true(pos == 0 || h.base_offset == cur[r]);
                cur[r] = weir_batch_last_offset(&h) + 1;
                pos += blen;
            }
            free(out);
            moved = true;
        }
    }
    /* Every single offset: the first batch returned contains it. */
    for (int64_t off = 0; off < 900; off++) {
        uint8_t *out;
        size_t len;
        weir_batch_hdr h;
        assert_int_equal(weir_plog_read(log, off, 900, 1, &out, &len), WEIR_OK);
        assert_int_equal(weir_batch_parse(out, len, &h, NULL), WEIR_OK);
        assert_true(h.base_offset <= off && weir_batch_last_offset(&h) >= off);
        assert_int_equal(h.base_offset, off / 3 * 3);
        free(out);
    }
    weir_plog_close(log);
}

static void
test_reopen_keeps_data(void **state)
{
    weir_plog *log;
    weir_plog_opts o = {.segment_bytes = 4096, .fsync = WEIR_FSYNC_ALWAYS};
    char path[2048];
    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    fill(log, 200, 2);
    weir_plog_close(log);
    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    assert_int_equal(weir_plog_end_offset(log), 400);
    assert_int_equal(check_all(log, 0, 1000, false), 400);
    fill(log, 10, 2);
    weir_plog_close(log);
    /* Without any index file, everything is rebuilt from the segments. */
    DIR *d = opendir(*state);
    struct dirent *de;
    int removed = 0;
    while ((de = readdir(d)) != NULL) {
        if (strstr(de->d_name, ".index") != NULL) {
            if (snprintf(path, sizeof(path), "%s/%s", (char *)*state,
                    de->d_name) < (int)sizeof(path))
                unlink(path);
            removed++;
        }
    }
    closedir(d);
    assert_true(removed > 1);
    /* A stale index (wrong size) is ignored too. */
    snprintf(
        path, sizeof(path), "%s/00000000000000000000.index", (char *)*state);
    assert_int_equal(append_bytes(path, "", 0), -1); /* absent now */
    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    assert_int_equal(weir_plog_end_offset(log), 420);
    assert_int_equal(check_all(log, 0, 100000, false), 420);
    /* Indexes of closed segments not in memory are reloaded from their
     * files, or rebuilt from the data when the files are gone. */
    d = opendir(*state);
    while ((de = readdir(d)) != NULL) {
        if (strstr(de->d_name, ".index") != NULL &&
            snprintf(path, sizeof(path), "%s/%s", (char *)*state, de->d_name) <
                (int)sizeof(path))
            unlink(path);
    }
    closedir(d);
    for (int64_t off = 0; off < 420; off += 7) {
        uint8_t *out;
        size_t len;
        weir_batch_hdr h;
        assert_int_equal(weir_plog_read(log, off, 420, 1, &out, &len), WEIR_OK);
        assert_int_equal(weir_batch_parse(out, len, &h, NULL), WEIR_OK);
        assert_int_equal(h.base_offset, off / 2 * 2);
        free(out);
    }
    weir_plog_close(log);
}

/* The path of the newest segment file. */
static void
last_segment(const char *dir, char *path, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char best[64] = "";
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l == 24 && strcmp(de->d_name + 20, ".log") == 0 &&
            strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof(best), "%s", de->d_name);
    }
    closedir(d);
    snprintf(path, cap, "%s/%s", dir, best);
}

static void
test_torn_tail_truncated(void **state)
{
    weir_plog *log;
    weir_plog_opts o = {.segment_bytes = 8192};
    char path[2048];
    uint8_t b[256];
    size_t n;
    long good;
    int64_t base;

    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    fill(log, 100, 1);
    weir_plog_close(log);
    last_segment(*state, path, sizeof(path));
    good = file_size(path);

    /* 1: half a batch at the end (crash mid-write). */
    n = batch_kv(b, sizeof(b), 1, 100, 5);
    weir_batch_set_base_offset(b, 100);
    assert_int_equal(append_bytes(path, b, n / 2), 0);
    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    assert_int_equal(weir_plog_end_offset(log), 100);
    assert_int_equal(file_size(path), good);
    assert_int_equal(check_all(log, 0, 1 << 20, false), 100);
    weir_plog_close(log);

    /* 2: a whole batch with a bad CRC, then garbage. */
    b[n - 1] ^= 0x55;
    assert_int_equal(append_bytes(path, b, n), 0);
    assert_int_equal(append_bytes(path, "garbage!garbage!", 16), 0);
    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    assert_int_equal(weir_plog_end_offset(log), 100);
    assert_int_equal(file_size(path), good);
    weir_plog_close(log);

    /* 3: only garbage; then appends continue where the valid data ends. */
    uint8_t junk[1000];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(append_bytes(path, junk, sizeof(junk)), 0);
    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    assert_int_equal(weir_plog_end_offset(log), 100);
    n = batch_kv(b, sizeof(b), 1, 100, 5);
    assert_int_equal(weir_plog_append(log, b, n, &base), WEIR_OK);
    assert_int_equal(base, 100);
    assert_int_equal(check_all(log, 0, 1 << 20, false), 101);
    weir_plog_close(log);

    /* 4: a valid batch whose offsets go backwards is not trusted either. */
    n = batch_kv(b, sizeof(b), 1, 3, 5);
    weir_batch_set_base_offset(b, 3);
    assert_int_equal(append_bytes(path, b, n), 0);
    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    assert_int_equal(weir_plog_end_offset(log), 101);
    assert_int_equal(check_all(log, 0, 1 << 20, false), 101);
    weir_plog_close(log);
}

/* A process killed mid-stream (no close, no index) loses nothing written. */
static void
test_killed_writer(void **state)
{
    weir_plog_opts o = {.segment_bytes = 4096};
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        weir_plog *log;
        if (weir_plog_open(&log, *state, &o) != WEIR_OK)
            _exit(2);
        for (int i = 0; i < 500; i++) {
            uint8_t b[256];
            int64_t base;
            size_t n = batch_kv(b, sizeof(b), i % 10, i, 1000 + i);
            if (weir_plog_append(log, b, n, &base) != WEIR_OK || base != i)
                _exit(3);
        }
        _exit(0); /* like SIGKILL: nothing flushed or closed */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    weir_plog *log;
    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    assert_int_equal(weir_plog_end_offset(log), 500);
    assert_int_equal(check_all(log, 0, 1 << 20, false), 500);
    weir_plog_close(log);
}

static void
test_read_limits(void **state)
{
    weir_plog *log;
    uint8_t *out;
    size_t len;
    weir_batch_hdr h;
    assert_int_equal(weir_plog_open(&log, *state, NULL), WEIR_OK);
    fill(log, 10, 2); /* batches at 0, 2, 4, ..., 18 */

    /* end_offset (the LSO) cuts at batch boundaries: batches starting
     * before it. */
    assert_int_equal(weir_plog_read(log, 0, 5, 1 << 20, &out, &len), WEIR_OK);
    size_t pos = 0;
    int batches = 0;
    while (pos < len) {
        size_t blen;
        assert_int_equal(
            weir_batch_parse(out + pos, len - pos, &h, &blen), WEIR_OK);
        assert_true(h.base_offset < 5);
        pos += blen;
        batches++;
    }
    assert_int_equal(batches, 3);
    free(out);
    assert_int_equal(weir_plog_read(log, 6, 6, 1 << 20, &out, &len), WEIR_OK);
    assert_int_equal(len, 0);
    assert_null(out);
    assert_int_equal(weir_plog_read(log, 3, 4, 1 << 20, &out, &len), WEIR_OK);
    assert_int_equal(weir_batch_parse(out, len, &h, NULL), WEIR_OK);
    assert_int_equal(h.base_offset, 2);
    free(out);
    /* The high watermark: empty; past it: out of range. */
    assert_int_equal(weir_plog_read(log, 20, 20, 100, &out, &len), WEIR_OK);
    assert_int_equal(len, 0);
    assert_int_equal(
        weir_plog_read(log, 21, 30, 100, &out, &len), WEIR_ENOTFOUND);
    assert_int_equal(
        weir_plog_read(log, -1, 30, 100, &out, &len), WEIR_ENOTFOUND);
    /* max_bytes 0 still returns the first batch whole. */
    assert_int_equal(weir_plog_read(log, 7, 20, 0, &out, &len), WEIR_OK);
    size_t blen;
    assert_int_equal(weir_batch_parse(out, len, &h, &blen), WEIR_OK);
    assert_int_equal(blen, len);
    assert_int_equal(h.base_offset, 6);
    free(out);
    /* Invalid appends are refused whole and write nothing. */
    uint8_t b[256];
    int64_t base;
    size_t n = batch_kv(b, sizeof(b), 1, 1, 1);
    memcpy(b + n, b, n);
    assert_int_equal(weir_plog_append(log, b, n + n / 2, &base), WEIR_EPROTO);
    assert_int_equal(weir_plog_append(log, b, 0, &base), WEIR_EPROTO);
    assert_int_equal(weir_plog_end_offset(log), 20);
    /* Several batches in one append get consecutive offsets. */
    assert_int_equal(weir_plog_append(log, b, 2 * n, &base), WEIR_OK);
    assert_int_equal(base, 20);
    assert_int_equal(weir_plog_end_offset(log), 22);
    weir_plog_close(log);
}

/* Batches claiming huge offset ranges roll segments rather than overflow
 * the index's 32-bit relative offsets. */
static void
test_huge_offset_deltas(void **state)
{
    weir_plog *log;
    uint8_t b[256], *out;
    size_t n, len;
    int64_t base;
    weir_batch_hdr h;
    const int64_t d = INT32_MAX;

    assert_int_equal(weir_plog_open(&log, *state, NULL), WEIR_OK);
    for (int i = 0; i < 3; i++) {
        n = batch_kv(b, sizeof(b), i, i, 1000);
        b[23] = 0x7f; /* last_offset_delta = INT32_MAX */
        b[24] = b[25] = b[26] = 0xff;
        assert_int_equal(weir_plog_append(log, b, n, &base), WEIR_OK);
        assert_int_equal(base, i * (d + 1));
    }
    assert_int_equal(weir_plog_end_offset(log), 3 * (d + 1));
    assert_int_equal(weir_plog_segment_count(log), 2);
    assert_int_equal(
        weir_plog_read(log, d + 5, 3 * (d + 1), 100, &out, &len), WEIR_OK);
    assert_int_equal(weir_batch_peek(out, len, &h, NULL), WEIR_OK);
    assert_int_equal(h.base_offset, d + 1);
    free(out);
    weir_plog_close(log);
    assert_int_equal(weir_plog_open(&log, *state, NULL), WEIR_OK);
    assert_int_equal(weir_plog_end_offset(log), 3 * (d + 1));
    assert_int_equal(
        weir_plog_read(log, 2 * d + 3, 3 * (d + 1), 100, &out, &len), WEIR_OK);
    assert_int_equal(weir_batch_peek(out, len, &h, NULL), WEIR_OK);
    assert_int_equal(h.base_offset, 2 * (d + 1));
    free(out);
    weir_plog_close(log);
}

static void
test_offset_for_time(void **state)
{
    weir_plog *log;
    weir_plog_opts o = {.segment_bytes = 2048, .index_interval_bytes = 128};
    int64_t off;
    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    fill(log, 200, 4); /* record at offset x has timestamp 1000 + x */
    for (int64_t ts = 990; ts < 1800; ts += 7) {
        int64_t want = ts <= 1000 ? 0 : ts - 1000;
        assert_int_equal(weir_plog_offset_for_time(log, ts, &off), WEIR_OK);
        assert_int_equal(off, want);
    }
    assert_int_equal(weir_plog_offset_for_time(log, 99999, &off), WEIR_OK);
    assert_int_equal(off, 800);
    /* With the found record's timestamp; not found past the last one. */
    int64_t found_ts;
    assert_int_equal(weir_plog_lookup_time(log, 0, &off, &found_ts), WEIR_OK);
    assert_int_equal(off, 0);
    assert_int_equal(found_ts, 1000);
    assert_int_equal(
        weir_plog_lookup_time(log, 1555, &off, &found_ts), WEIR_OK);
    assert_int_equal(off, 555);
    assert_int_equal(found_ts, 1555);
    assert_int_equal(
        weir_plog_lookup_time(log, 1799, &off, &found_ts), WEIR_OK);
    assert_int_equal(off, 799);
    assert_int_equal(
        weir_plog_lookup_time(log, 1800, &off, &found_ts), WEIR_ENOTFOUND);
    weir_plog_close(log);
    /* The same after reopening from saved indexes. */
    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    assert_int_equal(weir_plog_offset_for_time(log, 1555, &off), WEIR_OK);
    assert_int_equal(off, 555);
    weir_plog_close(log);
}

static void
test_retention(void **state)
{
    weir_plog *log;
    char dir[1100];
    weir_plog_opts o = {
        .segment_bytes = 2048, .retention_bytes = 8192, .retention_ms = -1};
    uint8_t *out;
    size_t len;

    snprintf(dir, sizeof(dir), "%s/bytes", (char *)*state);
    assert_int_equal(weir_plog_open(&log, dir, &o), WEIR_OK);
    fill(log, 400, 1);
    uint64_t before = weir_plog_size_bytes(log);
    assert_int_equal(weir_plog_maintain(log, 5000, 400), WEIR_OK);
    assert_true(weir_plog_size_bytes(log) < before);
    assert_true(weir_plog_size_bytes(log) <= 8192 + 2048);
    assert_true(weir_plog_size_bytes(log) >= 8192);
    int64_t start = weir_plog_start_offset(log);
    assert_true(start > 0);
    assert_int_equal(weir_plog_end_offset(log), 400);
    assert_int_equal(
        weir_plog_read(log, start - 1, 400, 100, &out, &len), WEIR_ENOTFOUND);
    assert_int_equal(check_all(log, start, 1 << 20, false), 400 - start);
    weir_plog_close(log);
    /* Deleted segments stay deleted; an index left behind by a deletion cut
     * short is removed. */
    char orphan[1200];
    snprintf(orphan, sizeof(orphan), "%s/00000000000000000000.index", dir);
    int ofd = open(orphan, O_WRONLY | O_CREAT, 0644);
    assert_true(ofd >= 0);
    close(ofd);
    assert_int_equal(weir_plog_open(&log, dir, &o), WEIR_OK);
    assert_int_equal(weir_plog_start_offset(log), start);
    assert_int_equal(file_size(orphan), -1);
    weir_plog_close(log);

    /* By time: segments whose newest record is older than retention go;
     * the active segment always stays. */
    weir_plog_opts t = {
        .segment_bytes = 2048, .retention_bytes = -1, .retention_ms = 100};
    snprintf(dir, sizeof(dir), "%s/time", (char *)*state);
    assert_int_equal(weir_plog_open(&log, dir, &t), WEIR_OK);
    fill(log, 200, 1); /* timestamps 1000..1199 */
    int segs = weir_plog_segment_count(log);
    assert_true(segs > 3);
    assert_int_equal(weir_plog_maintain(log, 1150, 200), WEIR_OK);
    assert_true(weir_plog_segment_count(log) < segs);
    assert_true(weir_plog_segment_count(log) > 1);
    assert_true(weir_plog_start_offset(log) > 0);
    assert_true(weir_plog_start_offset(log) <= 50);
    assert_int_equal(weir_plog_maintain(log, 100000, 200), WEIR_OK);
    assert_int_equal(weir_plog_segment_count(log), 1);
    assert_int_equal(weir_plog_end_offset(log), 200);
    int64_t base;
    uint8_t b[256];
    size_t n = batch_kv(b, sizeof(b), 1, 200, 100000);
    assert_int_equal(weir_plog_append(log, b, n, &base), WEIR_OK);
    assert_int_equal(base, 200);
    weir_plog_close(log);

    /* Compacted logs ignore retention (cleanup.policy=compact). */
    weir_plog_opts c = {.segment_bytes = 2048,
        .retention_bytes = 10,
        .retention_ms = 1,
        .compact = true};
    snprintf(dir, sizeof(dir), "%s/compact", (char *)*state);
    assert_int_equal(weir_plog_open(&log, dir, &c), WEIR_OK);
    fill(log, 100, 1);
    assert_int_equal(weir_plog_maintain(log, 100000, 0), WEIR_OK);
    assert_int_equal(weir_plog_start_offset(log), 0);
    weir_plog_close(log);
}

static int
open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* 100 partitions read in old segments: one descriptor per partition plus
 * a process-wide bounded set of cached readers. */
static void
test_fd_bound(void **state)
{
    static weir_plog *logs[100];
    weir_plog_opts o = {.segment_bytes = 1024};
    int base = open_fds();
    for (int p = 0; p < 100; p++) {
        char dir[1100];
        snprintf(dir, sizeof(dir), "%s/p%d", (char *)*state, p);
        assert_int_equal(weir_plog_open(&logs[p], dir, &o), WEIR_OK);
        fill(logs[p], 40, 1);
        assert_true(weir_plog_segment_count(logs[p]) > 2);
    }
    for (int round = 0; round < 2; round++)
        for (int p = 0; p < 100; p++)
            assert_int_equal(check_all(logs[p], 0, 100, false), 40);
    int n = open_fds() - base;
    assert_true(n >= 100);
    assert_true(n <= 100 + 64);
    for (int p = 0; p < 100; p++)
        weir_plog_close(logs[p]);
    assert_int_equal(open_fds(), base);
}

static void
test_fsync_modes_and_destroy(void **state)
{
    weir_plog *log;
    char dir[1100];
    weir_fsync_mode modes[] = {
        WEIR_FSYNC_NEVER, WEIR_FSYNC_INTERVAL, WEIR_FSYNC_ALWAYS};
    for (int m = 0; m < 3; m++) {
        weir_plog_opts o = {
            .segment_bytes = 1024, .fsync = modes[m], .fsync_interval_ms = 10};
        snprintf(dir, sizeof(dir), "%s/a/b/m%d", (char *)*state, m);
        assert_int_equal(weir_plog_open(&log, dir, &o), WEIR_OK);
        fill(log, 50, 1);
        assert_int_equal(weir_plog_maintain(log, INT64_MAX / 2, 0), WEIR_OK);
        assert_int_equal(weir_plog_flush(log), WEIR_OK);
        weir_plog_close(log);
        assert_int_equal(weir_plog_open(&log, dir, &o), WEIR_OK);
        assert_int_equal(weir_plog_end_offset(log), 50);
        assert_string_equal(weir_plog_dir(log), dir);
        assert_int_equal(weir_plog_destroy(log), WEIR_OK);
        assert_int_equal(file_size(dir), -1);
    }
    weir_plog_close(NULL);
    assert_int_equal(weir_plog_destroy(NULL), WEIR_OK);
}

/* The segment bases of a log directory, sorted (file names are bases). */
static int
segment_bases(const char *dir, int64_t *bases, int cap)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l == 24 && strcmp(de->d_name + 20, ".log") == 0 && n < cap)
            bases[n++] = strtoll(de->d_name, NULL, 10);
    }
    closedir(d);
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && bases[k - 1] > bases[k]; k--) {
            int64_t x = bases[k];
            bases[k] = bases[k - 1];
            bases[k - 1] = x;
        }
    return n;
}

static int
segment_of(const int64_t *bases, int n, int64_t offset)
{
    int s = 0;
    while (s + 1 < n && bases[s + 1] <= offset)
        s++;
    return s;
}

/*
 * weir_plog_read_ref against a model of what was appended, for random
 * reads: the range it locates is whole batches, starting with the batch
 * that holds the offset and staying in its segment, each starting before
 * end_offset, within max_bytes (the first batch always), and as long as
 * those limits allow; the copy, when there is one, is the same bytes.
 */
static void
test_read_ref_model(void **state)
{
    enum { N = 400 };
    static int64_t base[N], last[N];
    static size_t blen[N];
    int64_t segs[256];
    weir_plog *log;
    weir_plog_opts o = {.segment_bytes = 8192, .index_interval_bytes = 512};
    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    srand(7);
    for (int i = 0; i < N; i++) {
        uint8_t buf[8192];
        weir_record_in r[12];
        char v[12][300];
        int per = 1 + rand() % 12;
        for (int j = 0; j < per; j++) {
            int vl = 1 + rand() % 299;
            memset(v[j], 'a' + j, (size_t)vl);
            r[j] = (weir_record_in){"k", 1, v[j], (size_t)vl, 1000 + i};
        }
        blen[i] = weir_batch_build(buf, sizeof(buf), NULL, r, (size_t)per);
        assert_true(blen[i] > 0);
        assert_int_equal(
            weir_plog_append(log, buf, blen[i], &base[i]), WEIR_OK);
        last[i] = base[i] + per - 1;
    }
    int64_t end = weir_plog_end_offset(log);
    int nsegs = segment_bases(*state, segs, 256);
    assert_true(nsegs > 10);
    static const size_t limits[] = {0, 1, 100, 1000, 5000, 1 << 20};
    for (int seed = 1; seed <= 12; seed++) {
        srand((unsigned)seed);
        for (int q = 0; q < 200; q++) {
            int64_t off = rand() % end;
            int64_t stop = off + rand() % (end - off + 1);
            size_t max = limits[rand() % 6];
            int i0 = 0;
            while (last[i0] < off)
                i0++;
            /* The model's answer: batches i0..i1-1; nothing from end_offset
             * on (the LSO), even inside a batch that starts before it. */
            int i1 = off < stop ? i0 : N;
            size_t want = 0;
            int seg = segment_of(segs, nsegs, base[i0]);
            while (i1 < N && base[i1] < stop &&
                   segment_of(segs, nsegs, base[i1]) == seg &&
                   (i1 == i0 || want + blen[i1] <= max))
                want += blen[i1++];

            int fd = -1;
            uint64_t pos = 0;
            size_t len = 0;
            uint8_t *copy = NULL;
            assert_int_equal(
                weir_plog_read_ref(log, off, stop, max, &fd, &pos, &len, &copy),
                WEIR_OK);
            assert_int_equal(len, want);
            if (len == 0) {
                assert_null(copy);
                continue;
            }
            uint8_t *got = malloc(len);
            assert_int_equal(pread(fd, got, len, (off_t)pos), (ssize_t)len);
            size_t at = 0;
            for (int i = i0; i < i1; i++) {
                weir_batch_hdr h;
                size_t l;
                assert_int_equal(
                    weir_batch_parse(got + at, len - at, &h, &l), WEIR_OK);
                assert_int_equal(h.base_offset, base[i]);
                assert_int_equal(l, blen[i]);
                at += l;
            }
            if (copy != NULL)
                assert_memory_equal(copy, got, len);
            free(copy);
            free(got);
        }
    }
    weir_plog_close(log);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_append_read_rolls, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_reopen_keeps_data, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_torn_tail_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_ref_model, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_huge_offset_deltas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offset_for_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fd_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_fsync_modes_and_destroy, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
