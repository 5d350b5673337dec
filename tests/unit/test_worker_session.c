/*
 * Session merging (worker/session.h) against a brute-force model: records
 * in random order folded one by one into a key's sessions must end as the
 * clusters of their sorted times (neighbours at most gap apart), and the
 * lateness rule must leave closed sessions as they were.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "worker/session.h"

#define MAX_RECORDS 200

typedef struct model {
    weir_session s[MAX_RECORDS];
    int64_t count[MAX_RECORDS];
    size_t n;
} model;

/* Folds ts into m as the worker does; false when it is late. */
static bool
fold(model *m, int64_t ts, int64_t gap, int64_t grace, int64_t st)
{
    if (weir_session_closed((weir_session){ts, ts}, gap, grace, st))
        return false;
    size_t open = 0, first, n;
    while (open < m->n && weir_session_closed(m->s[open], gap, grace, st))
        open++;
    weir_session merged =
        weir_session_merge(m->s + open, m->n - open, ts, gap, &first, &n);
    first += open;
    int64_t c = 1;
    for (size_t k = first; k < first + n; k++)
        c += m->count[k];
    size_t tail = m->n - first - n;
    memmove(m->s + first + 1, m->s + first + n, tail * sizeof(*m->s));
    memmove(
        m->count + first + 1, m->count + first + n, tail * sizeof(*m->count));
    m->n = m->n + 1 - n;
    m->s[first] = merged;
    m->count[first] = c;
    return true;
}

static int
cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The sessions of sorted times ts: runs whose neighbours are <= gap apart. */
static void
brute_force(const int64_t *ts, size_t n, int64_t gap, model *out)
{
    out->n = 0;
    for (size_t i = 0; i < n; i++) {
        if (out->n && ts[i] - out->s[out->n - 1].end <= gap) {
            out->s[out->n - 1].end = ts[i];
            out->count[out->n - 1]++;
            continue;
        }
        out->s[out->n] = (weir_session){ts[i], ts[i]};
        out->count[out->n++] = 1;
    }
}

static void
test_merge_matches_brute_force(void **state)
{
    srand(42);
    for (int round = 0; round < 2000; round++) {
        size_t n = 1 + (size_t)(rand() % MAX_RECORDS);
        int64_t gap = 1 + rand() % 50;
        int64_t ts[MAX_RECORDS], sorted[MAX_RECORDS];
        for (size_t i = 0; i < n; i++)
            ts[i] = rand() % 5000 - 1000;
        model m = {.n = 0};
        for (size_t i = 0; i < n; i++) /* grace past every time: none late */
            assert_true(fold(&m, ts[i], gap, INT64_MAX / 4, ts[i]));
        memcpy(sorted, ts, n * sizeof(*ts));
        qsort(sorted, n, sizeof(*sorted), cmp64);
        model want;
        brute_force(sorted, n, gap, &want);
        assert_int_equal(m.n, want.n);
        for (size_t k = 0; k < m.n; k++) {
            assert_int_equal(m.s[k].start, want.s[k].start);
            assert_int_equal(m.s[k].end, want.s[k].end);
            assert_int_equal(m.count[k], want.count[k]);
        }
    }
    (void)state;
}

/* With a stream time: a record is late exactly when its own session
 * would be closed; no record joins a closed session; the sessions stay
 * sorted and apart, the open ones more than gap apart. */
static void
test_lateness(void **state)
{
    srand(7);
    for (int round = 0; round < 2000; round++) {
        int64_t gap = 1 + rand() % 20, grace = rand() % 20, st = INT64_MIN;
        model m = {.n = 0};
        for (int i = 0; i < 100; i++) {
            int64_t ts = i * 3 + rand() % 60 - 30;
            if (ts > st)
                st = ts;
            model before = m;
            bool late = ts + gap + grace < st;
            assert_int_equal(fold(&m, ts, gap, grace, st), !late);
            for (size_t k = 0; k < before.n; k++)
                if (weir_session_closed(before.s[k], gap, grace, st))
                    assert_memory_equal(&m.s[k], &before.s[k], sizeof(m.s[k]));
            for (size_t k = 1; k < m.n; k++) {
                assert_true(m.s[k].start > m.s[k - 1].end);
                if (!weir_session_closed(m.s[k - 1], gap, grace, st))
                    assert_true(m.s[k].start - m.s[k - 1].end > gap);
            }
        }
    }
    (void)state;
}

static void
test_bounds(void **state)
{
    weir_session s = {100, 200};
    assert_true(weir_session_joins(s, 90, 10));
    assert_false(weir_session_joins(s, 89, 10));
    assert_true(weir_session_joins(s, 210, 10));
    assert_false(weir_session_joins(s, 211, 10));
    assert_false(weir_session_closed(s, 10, 5, 215));
    assert_true(weir_session_closed(s, 10, 5, 216));
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_merge_matches_brute_force),
        cmocka_unit_test(test_lateness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
