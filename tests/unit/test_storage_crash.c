/*
 * Real process deaths around the storage engine: SIGKILL of a writer in
 * full flow, and the numbered crash points in the middle of a compaction
 * and between a write and its acknowledgement. After each, reopening keeps
 * every acknowledged record and a valid log.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Value of the record at offset `off` of a log read back, or -1. */
static long
value_at(weir_plog *log, int64_t off)
{
    uint8_t *out;
    size_t len, pos = 0;
    long v = -1;
    if (weir_plog_read(log, off, weir_plog_end_offset(log), 1, &out, &len) !=
            WEIR_OK ||
        len == 0)
        return -1;
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
        while (weir_record_iter_next(&it, &rec, &more) == WEIR_OK && more)
            if (h.base_offset + rec.offset_delta == off && rec.value_len > 1)
                v = strtol((const char *)rec.value + 1, NULL, 10);
        pos += blen;
    }
    free(out);
    return v;
}

static void
test_sigkill_writer(void **state)
{
    weir_plog_opts o = {.segment_bytes = 4096};
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        weir_plog *log;
        close(fds[0]);
        if (weir_plog_open(&log, *state, &o) != WEIR_OK)
            _exit(2);
        for (long i = 0;; i++) {
            uint8_t b[256];
            int64_t base;
            size_t n = batch_kv(b, sizeof(b), (int)(i % 10), i, 1000 + i);
            if (weir_plog_append(log, b, n, &base) != WEIR_OK || base != i)
                _exit(3);
            if (write(fds[1], &base, sizeof(base)) != sizeof(base))
                _exit(4);
        }
    }
    close(fds[1]);
    int64_t acked = -1, off;
    while (acked < 2000 && read(fds[0], &off, sizeof(off)) == sizeof(off))
        acked = off;
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    while (read(fds[0], &off, sizeof(off)) == sizeof(off))
        acked = off; /* acknowledged before the kill landed */
    close(fds[0]);

    weir_plog *log;
    assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
    assert_true(weir_plog_end_offset(log) >= acked + 1);
    for (int64_t i = 0; i <= acked; i += 3)
        assert_int_equal(value_at(log, i), i);
    weir_plog_close(log);
}

/* Batch end positions of a segment file, by a plain walk. */
static int
batch_ends(const char *path, long *ends, int cap)
{
    FILE *f = fopen(path, "rb");
    static uint8_t buf[1 << 20];
    size_t len = fread(buf, 1, sizeof(buf), f), pos = 0;
    int n = 0;
    fclose(f);
    while (pos < len && n < cap) {
        size_t blen;
        assert_int_equal(
            weir_batch_peek(buf + pos, len - pos, NULL, &blen), WEIR_OK);
        pos += blen;
        ends[n++] = (long)pos;
    }
    return n;
}

/* Random damage to the tail segment and its index (a crash mid-write, a
 * bad disk): reopening always works, keeps every batch before the damage,
 * and what remains reads back valid. */
static void
test_random_damage(void **state)
{
    char path[2048], ipath[2048];
    static long ends[4096];
    srand(99);
    for (int round = 0; round < 60; round++) {
        weir_plog *log;
        weir_plog_opts o = {.segment_bytes = 1 << 20};
        assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
        int64_t start_end = weir_plog_end_offset(log);
        for (int i = 0; i < 50; i++) {
            uint8_t b[256];
            int64_t base;
            long v = (long)(start_end + i);
            size_t n = batch_kv(b, sizeof(b), i % 5, v, 1000 + v);
            assert_int_equal(weir_plog_append(log, b, n, &base), WEIR_OK);
        }
        int64_t end = weir_plog_end_offset(log);
        weir_plog_close(log);
        snprintf(
            path, sizeof(path), "%s/00000000000000000000.log", (char *)*state);
        snprintf(ipath, sizeof(ipath), "%s/00000000000000000000.index",
            (char *)*state);
        int nb = batch_ends(path, ends, 4096);
        assert_int_equal(nb, end);
        long size = file_size(path), at = rand() % size;
        int fd = open(path, O_RDWR);
        if (round % 3 == 0) {
            assert_int_equal(ftruncate(fd, at), 0); /* torn */
        } else {
            for (int k = 0; k < 1 + rand() % 3; k++) {
                uint8_t c = (uint8_t)rand();
                long p = at + rand() % 16;
                if (p < size)
                    assert_int_equal(pwrite(fd, &c, 1, p), 1);
            }
        }
        close(fd);
        /* The index written at close describes a file of the old size;
         * after damage of the same size, a crash (no index written at
         * all) or a scribbled index make the open check the data. A
         * clean index of the same size is trusted, as Kafka trusts a
         * clean shutdown. */
        if (round % 3 != 0 && round % 2 == 0) {
            unlink(ipath);
        } else if (round % 3 != 0) {
            long isz = file_size(ipath);
            int ifd = open(ipath, O_RDWR);
            uint8_t c;
            long p = rand() % isz;
            assert_int_equal(pread(ifd, &c, 1, p), 1);
            c ^= 0x5a;
            assert_int_equal(pwrite(ifd, &c, 1, p), 1);
            close(ifd);
        }
        int intact = 0;
        while (intact < nb && ends[intact] <= at)
            intact++;
        assert_int_equal(weir_plog_open(&log, *state, &o), WEIR_OK);
        assert_true(weir_plog_end_offset(log) >= intact);
        assert_true(weir_plog_end_offset(log) <= end);
        for (int64_t i = 0; i < weir_plog_end_offset(log); i++)
            assert_int_equal(value_at(log, i), i);
        weir_plog_close(log);
    }
}

#ifdef WEIR_CRASH_POINTS
/* Runs fn in a child with WEIR_CRASH_AT=site; expects exit status 99. */
static void
crash_child(void **state, const char *site, void (*fn)(const char *dir))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("WEIR_CRASH_AT", site, 1);
        fn(*state);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 99);
}

static const weir_plog_opts compact_opts = {
    .segment_bytes = 1024, .compact = true};

static void
compact_now(const char *dir)
{
    weir_plog *log;
    if (weir_plog_open(&log, dir, &compact_opts) != WEIR_OK)
        _exit(2);
    weir_plog_compact(log, 5000, weir_plog_end_offset(log));
    _exit(0);
}

static void
test_crash_in_compaction(void **state)
{
    weir_plog *log;
    assert_int_equal(weir_plog_open(&log, *state, &compact_opts), WEIR_OK);
    for (long i = 0; i < 300; i++) {
        uint8_t b[256];
        int64_t base;
        size_t n = batch_kv(b, sizeof(b), (int)(i % 7), i, 1000 + i);
        assert_int_equal(weir_plog_append(log, b, n, &base), WEIR_OK);
    }
    uint64_t size = weir_plog_size_bytes(log);
    weir_plog_close(log);

    /* Dies with the first cleaned segment written but not renamed. */
    crash_child(state, "broker.compact.before_rename", compact_now);
    assert_int_equal(weir_plog_open(&log, *state, &compact_opts), WEIR_OK);
    assert_int_equal(weir_plog_size_bytes(log), size);
    assert_int_equal(weir_plog_end_offset(log), 300);
    for (int64_t i = 0; i < 300; i += 11)
        assert_int_equal(value_at(log, i), i);
    weir_plog_close(log);

    /* Dies after some segments were replaced: each is old or new. */
    crash_child(state, "broker.compact.before_rename:3", compact_now);
    assert_int_equal(weir_plog_open(&log, *state, &compact_opts), WEIR_OK);
    assert_true(weir_plog_size_bytes(log) < size);
    assert_int_equal(weir_plog_end_offset(log), 300);
    assert_int_equal(weir_plog_compact(log, 5000, 300), WEIR_OK);
    weir_plog_close(log);
    assert_int_equal(weir_plog_open(&log, *state, &compact_opts), WEIR_OK);
    /* The latest record of every key survived all of it. */
    for (int64_t i = 293; i < 300; i++)
        assert_int_equal(value_at(log, i), i);
    weir_plog_close(log);
}

static void
append_one(const char *dir)
{
    weir_plog *log;
    uint8_t b[256];
    int64_t base;
    if (weir_plog_open(&log, dir, NULL) != WEIR_OK)
        _exit(2);
    size_t n = batch_kv(b, sizeof(b), 1, 5, 1000);
    weir_plog_append(log, b, n, &base);
    _exit(0);
}

/* Written but never acknowledged: it is in the log after the restart (a
 * producer's retry is then deduplicated by the broker's sequence state). */
static void
test_crash_after_write(void **state)
{
    weir_plog *log;
    crash_child(state, "broker.log.append.after_write", append_one);
    assert_int_equal(weir_plog_open(&log, *state, NULL), WEIR_OK);
    assert_int_equal(weir_plog_end_offset(log), 1);
    assert_int_equal(value_at(log, 0), 5);
    weir_plog_close(log);
    crash_child(state, "broker.log.append.before_write", append_one);
    assert_int_equal(weir_plog_open(&log, *state, NULL), WEIR_OK);
    assert_int_equal(weir_plog_end_offset(log), 1);
    weir_plog_close(log);
}
#endif

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sigkill_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_damage, setup, teardown),
#ifdef WEIR_CRASH_POINTS
        cmocka_unit_test_setup_teardown(
            test_crash_in_compaction, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_crash_after_write, setup, teardown),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
