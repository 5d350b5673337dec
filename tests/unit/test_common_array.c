/* common/array.c: growth, appends and refusals that leave arrays intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/array.h"
#include "common/err.h"

static void
test_reserve_grows_and_keeps(void **state)
{
    (void)state;
    int *a = NULL;
    size_t cap = 0;
    assert_int_equal(weir_array_reserve(&a, &cap, 1, sizeof(*a)), WEIR_OK);
    assert_int_equal(cap, 8);
    for (int i = 0; i < 8; i++)
        a[i] = i;
    assert_int_equal(weir_array_reserve(&a, &cap, 9, sizeof(*a)), WEIR_OK);
    assert_int_equal(cap, 16);
    assert_int_equal(weir_array_reserve(&a, &cap, 100, sizeof(*a)), WEIR_OK);
    assert_int_equal(cap, 100);
    assert_int_equal(weir_array_reserve(&a, &cap, 50, sizeof(*a)), WEIR_OK);
    assert_int_equal(cap, 100);
    for (int i = 0; i < 8; i++)
        assert_int_equal(a[i], i);
    int *before = a;
    assert_int_equal(
        weir_array_reserve(&a, &cap, SIZE_MAX / 2, sizeof(*a)), WEIR_ENOMEM);
    assert_ptr_equal(a, before);
    assert_int_equal(cap, 100);
    free(a);
}

static void
test_append(void **state)
{
    (void)state;
    char **v = NULL;
    size_t n = 0;
    const char *words[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(
            weir_array_append(&v, &n, &words[i], sizeof(*v)), WEIR_OK);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "a");
    assert_string_equal(v[2], "c");
    free(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserve_grows_and_keeps),
        cmocka_unit_test(test_append),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
