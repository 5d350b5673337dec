/* broker/journal.c: replay, torn and corrupt tails, atomic rewrite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/storage/journal.h"
#include "common/err.h"
#include "test_storage_util.h"

typedef struct got {
    int n;
    size_t lens[2000];
    uint8_t first[2000];
    int fail_at; /* replay returns an error at this record, or -1 */
} got;

static int
on_rec(void *arg, const uint8_t *rec, size_t len)
{
    got *g = arg;
    if (g->n == g->fail_at)
        return WEIR_ESTATE;
    g->lens[g->n] = len;
    g->first[g->n] = len ? rec[0] : 0;
    /* Every record's bytes are (first + i) & 0xff: check them all. */
    for (size_t i = 0; i < len; i++)
        if (rec[i] != (uint8_t)(rec[0] + i))
            return WEIR_ECORRUPT;
    g->n++;
    return WEIR_OK;
}

static uint8_t buf[200000];

static size_t
rec_len(int i)
{
    return i % 17 == 0 ? (size_t)(i * 97 % 100000) : (size_t)(i % 50);
}

static void
fill_rec(int i, size_t len)
{
    for (size_t k = 0; k < len; k++)
        buf[k] = (uint8_t)(i + k);
}

static void
append_n(weir_journal *j, int from, int to)
{
    for (int i = from; i < to; i++) {
        size_t len = rec_len(i);
        fill_rec(i, len);
        assert_int_equal(
            weir_journal_append(j, buf, len, i % 10 == 0), WEIR_OK);
    }
}

static void
check(got *g, int n)
{
    assert_int_equal(g->n, n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(g->lens[i], rec_len(i));
        if (rec_len(i))
            assert_int_equal(g->first[i], (uint8_t)i);
    }
}

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

static void
test_replay(void **state)
{
    char path[1100];
    weir_journal *j;
    static got g;
    snprintf(path, sizeof(path), "%s/journal", (char *)*state);
    g = (got){.fail_at = -1};
    assert_int_equal(weir_journal_open(&j, path, on_rec, &g), WEIR_OK);
    assert_int_equal(g.n, 0);
    assert_int_equal(weir_journal_size(j), 0);
    append_n(j, 0, 500);
    assert_int_equal(weir_journal_size(j), (uint64_t)file_size(path));
    assert_int_equal(weir_journal_sync(j), WEIR_OK);
    assert_int_equal(
        weir_journal_append(j, buf, WEIR_JOURNAL_MAX_RECORD + 1, false),
        WEIR_EINVAL);
    weir_journal_close(j);
    g = (got){.fail_at = -1};
    assert_int_equal(weir_journal_open(&j, path, on_rec, &g), WEIR_OK);
    check(&g, 500);
    append_n(j, 500, 600);
    weir_journal_close(j);
    g = (got){.fail_at = -1};
    assert_int_equal(weir_journal_open(&j, path, on_rec, &g), WEIR_OK);
    check(&g, 600);
    weir_journal_close(j);
    /* A replay error fails the open and leaves the file alone. */
    long size = file_size(path);
    g = (got){.fail_at = 300};
    assert_int_equal(weir_journal_open(&j, path, on_rec, &g), WEIR_ESTATE);
    assert_int_equal(file_size(path), size);
    /* NULL replay is allowed. */
    assert_int_equal(weir_journal_open(&j, path, NULL, NULL), WEIR_OK);
    assert_int_equal(weir_journal_size(j), (uint64_t)size);
    weir_journal_close(j);
    weir_journal_close(NULL);
}

static void
test_torn_and_corrupt_tail(void **state)
{
    char path[1100];
    weir_journal *j;
    static got g;
    snprintf(path, sizeof(path), "%s/journal", (char *)*state);
    g = (got){.fail_at = -1};
    assert_int_equal(weir_journal_open(&j, path, on_rec, &g), WEIR_OK);
    append_n(j, 0, 100);
    weir_journal_close(j);
    long good = file_size(path);

    /* Every possible torn frame: a prefix of the next record. */
    size_t len = rec_len(100);
    uint8_t frame[8 + 64];
    assert_true(len <= 64);
    fill_rec(100, len);
    frame[0] = frame[1] = 0;
    frame[2] = (uint8_t)(len >> 8);
    frame[3] = (uint8_t)len;
    memset(frame + 4, 0xab, 4); /* wrong CRC: also garbage */
    memcpy(frame + 8, buf, len);
    for (size_t cut = 1; cut <= 8 + len; cut++) {
        assert_int_equal(append_bytes(path, frame, cut), 0);
        g = (got){.fail_at = -1};
        assert_int_equal(weir_journal_open(&j, path, on_rec, &g), WEIR_OK);
        check(&g, 100);
        assert_int_equal(file_size(path), good);
        weir_journal_close(j);
    }
    /* A huge length is garbage, not an allocation. */
    uint8_t huge[8] = {0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0};
    assert_int_equal(append_bytes(path, huge, sizeof(huge)), 0);
    g = (got){.fail_at = -1};
    assert_int_equal(weir_journal_open(&j, path, on_rec, &g), WEIR_OK);
    check(&g, 100);
    /* Appends continue after the truncated tail. */
    append_n(j, 100, 120);
    weir_journal_close(j);
    g = (got){.fail_at = -1};
    assert_int_equal(weir_journal_open(&j, path, on_rec, &g), WEIR_OK);
    check(&g, 120);
    weir_journal_close(j);

    /* A flipped byte in the middle: replay stops before that record and the
     * rest is cut (it cannot be trusted to be in order). */
    int fd = open(path, O_RDWR);
    uint8_t c;
    assert_int_equal(pread(fd, &c, 1, good / 2), 1);
    c ^= 0x40;
    assert_int_equal(pwrite(fd, &c, 1, good / 2), 1);
    close(fd);
    g = (got){.fail_at = -1};
    assert_int_equal(weir_journal_open(&j, path, on_rec, &g), WEIR_OK);
    assert_true(g.n < 100 && g.n > 0);
    check(&g, g.n);
    assert_true(file_size(path) < good / 2 + 1);
    weir_journal_close(j);
}

typedef struct snap {
    int from, to;
    int fail;
} snap;

static int
snapshot(void *arg, weir_journal *out)
{
    snap *s = arg;
    for (int i = s->from; i < s->to; i++) {
        size_t len = rec_len(i);
        int rv;
        if (i == s->fail)
            return WEIR_ENOMEM;
        fill_rec(i, len);
        if ((rv = weir_journal_append(out, buf, len, false)) != WEIR_OK)
            return rv;
    }
    return WEIR_OK;
}

static void
test_rewrite(void **state)
{
    char path[1100];
    weir_journal *j;
    static got g;
    snprintf(path, sizeof(path), "%s/journal", (char *)*state);
    g = (got){.fail_at = -1};
    assert_int_equal(weir_journal_open(&j, path, on_rec, &g), WEIR_OK);
    append_n(j, 0, 300);
    uint64_t big = weir_journal_size(j);
    /* Compact to the first 20 records, then keep appending. */
    snap s = {0, 20, -1};
    assert_int_equal(weir_journal_rewrite(j, snapshot, &s), WEIR_OK);
    assert_true(weir_journal_size(j) < big);
    assert_int_equal(weir_journal_size(j), (uint64_t)file_size(path));
    append_n(j, 20, 40);
    /* A failing snapshot leaves the journal as it was, still usable. */
    uint64_t size = weir_journal_size(j);
    snap bad = {0, 10, 5};
    assert_int_equal(weir_journal_rewrite(j, snapshot, &bad), WEIR_ENOMEM);
    assert_int_equal(weir_journal_size(j), size);
    append_n(j, 40, 50);
    weir_journal_close(j);
    g = (got){.fail_at = -1};
    assert_int_equal(weir_journal_open(&j, path, on_rec, &g), WEIR_OK);
    check(&g, 50);
    weir_journal_close(j);
    /* No temp file is left behind. */
    char tmp[1200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    assert_int_equal(file_size(tmp), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_torn_and_corrupt_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewrite, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
