/*
 * Stream-stream join buffering and expiry (worker/join_window.h) against
 * a brute-force model: records of two sides in random order, buffered and
 * forgotten once closed at random moments (as commits happen), must give
 * exactly the pairs of the brute force (every two records of different
 * sides, neither late, at most within apart), and the records emitted
 * unmatched when forgotten must be exactly those that match nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "worker/join_window.h"

#define N 300

typedef struct rec {
    int64_t ts;
    int side, key;
    bool late, matched, forgotten, emitted_unmatched;
} rec;

static void
test_join_matches_brute_force(void **state)
{
    srand(1234);
    for (int round = 0; round < 500; round++) {
        int64_t within = 1 + rand() % 30, grace = rand() % 15;
        rec r[N];
        int64_t st = INT64_MIN;
        static bool pair[N][N];
        memset(pair, 0, sizeof(pair));
        int buf[N], nbuf = 0;
        for (int i = 0; i < N; i++) {
            r[i] = (rec){.ts = i / 2 + rand() % 40 - 20,
                .side = rand() % 2,
                .key = rand() % 4};
            if (r[i].ts > st)
                st = r[i].ts;
            r[i].late = weir_join_late(r[i].ts, grace, st);
            if (!r[i].late) {
                for (int b = 0; b < nbuf; b++) {
                    rec *o = &r[buf[b]];
                    if (o->side != r[i].side && o->key == r[i].key &&
                        weir_join_matches(o->ts, r[i].ts, within)) {
                        pair[buf[b]][i] = pair[i][buf[b]] = true;
                        o->matched = r[i].matched = true;
                    }
                }
                buf[nbuf++] = i;
            }
            if (rand() % 8 == 0) { /* a commit forgets what closed */
                int keep = 0;
                for (int b = 0; b < nbuf; b++) {
                    rec *o = &r[buf[b]];
                    if (!weir_join_closed(o->ts, within, grace, st)) {
                        buf[keep++] = buf[b];
                        continue;
                    }
                    o->forgotten = true;
                    o->emitted_unmatched = !o->matched;
                }
                nbuf = keep;
            }
        }
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                bool want = !r[i].late && !r[j].late &&
                            r[i].side != r[j].side && r[i].key == r[j].key &&
                            weir_join_matches(r[i].ts, r[j].ts, within);
                assert_int_equal(pair[i][j], want);
            }
            if (r[i].forgotten) { /* unmatched when forgotten: for ever */
                bool any = false;
                for (int j = 0; j < N; j++)
                    any |= pair[i][j];
                assert_int_equal(r[i].emitted_unmatched, !any);
            }
        }
    }
    (void)state;
}

static void
test_bounds(void **state)
{
    assert_true(weir_join_matches(100, 110, 10));
    assert_true(weir_join_matches(110, 100, 10));
    assert_false(weir_join_matches(100, 111, 10));
    assert_false(weir_join_late(100, 5, 105));
    assert_true(weir_join_late(100, 5, 106));
    assert_false(weir_join_closed(100, 10, 5, 115));
    assert_true(weir_join_closed(100, 10, 5, 116));
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_join_matches_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
