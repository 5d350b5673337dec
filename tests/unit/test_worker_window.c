/* Window assignment and lateness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "worker/window.h"

static void
test_tumbling(void **state)
{
    int64_t s[4];
    assert_int_equal(weir_window_starts(0, 60000, 60000, s, 4), 1);
    assert_int_equal(s[0], 0);
    assert_int_equal(weir_window_starts(59999, 60000, 60000, s, 4), 1);
    assert_int_equal(s[0], 0);
    assert_int_equal(weir_window_starts(60000, 60000, 60000, s, 4), 1);
    assert_int_equal(s[0], 60000);
    /* 2022-01-01 12:00:03 UTC */
    assert_int_equal(weir_window_starts(1641038403000, 60000, 60000, s, 4), 1);
    assert_int_equal(s[0], 1641038400000);
    /* before the epoch: floor, not truncation */
    assert_int_equal(weir_window_starts(-1, 60000, 60000, s, 4), 1);
    assert_int_equal(s[0], -60000);
    (void)state;
}

static void
test_hopping(void **state)
{
    int64_t s[8];
    /* size 10, advance 5: 12 is in [5,15) and [10,20) */
    assert_int_equal(weir_window_starts(12, 10, 5, s, 8), 2);
    assert_int_equal(s[0], 5);
    assert_int_equal(s[1], 10);
    /* size 10, advance 3: 12 is in [3,13), [6,16), [9,19), [12,22) */
    assert_int_equal(weir_window_starts(12, 10, 3, s, 8), 4);
    assert_int_equal(s[0], 3);
    assert_int_equal(s[3], 12);
    /* only max written, the count still says how many */
    assert_int_equal(weir_window_starts(12, 10, 3, s, 2), 4);
    /* advance > size leaves gaps: 7 is in no window of [0,5),[10,15) */
    assert_int_equal(weir_window_starts(7, 5, 10, s, 8), 0);
    assert_int_equal(weir_window_starts(3, 5, 10, s, 8), 1);
    /* nonsense sizes */
    assert_int_equal(weir_window_starts(3, 0, 10, s, 8), 0);
    assert_int_equal(weir_window_starts(3, 10, 0, s, 8), 0);
    (void)state;
}

static void
test_late(void **state)
{
    /* [0, 60000) with 30 s grace closes at stream time 90000 */
    assert_false(weir_window_closed(0, 60000, 30000, 0));
    assert_false(weir_window_closed(0, 60000, 30000, 89999));
    assert_true(weir_window_closed(0, 60000, 30000, 90000));
    assert_true(weir_window_closed(0, 60000, 0, 60000));
    assert_false(weir_window_closed(60000, 60000, 30000, 90000));
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tumbling),
        cmocka_unit_test(test_hopping),
        cmocka_unit_test(test_late),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
