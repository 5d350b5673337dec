/* common/conf.c: defaults < environment < flags; bad values rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/conf.h"
#include "common/err.h"

typedef struct cfg {
    char *listen;
    int64_t partitions;
    bool auto_create;
} cfg;

static const weir_conf_entry entries[] = {
    WEIR_CONF_STR(cfg, "listen", listen, "127.0.0.1:9092", "address"),
    WEIR_CONF_INT(cfg, "default-partitions", partitions, "1", 1, 1000, "n"),
    WEIR_CONF_BOOL(cfg, "auto-create-topics", auto_create, "true", "auto"),
};
static const weir_conf_spec spec = {"test", "a test", "[OPTIONS] ARGS", entries,
    sizeof(entries) / sizeof(entries[0])};

static void
test_defaults(void **state)
{
    (void)state;
    cfg c = {0};
    char *argv[] = {"test", NULL};
    assert_int_equal(weir_conf_load(&spec, &c, 1, argv, NULL, NULL), WEIR_OK);
    assert_string_equal(c.listen, "127.0.0.1:9092");
    assert_int_equal(c.partitions, 1);
    assert_true(c.auto_create);
    weir_conf_free(&spec, &c, NULL);
}

static void
test_env_then_flags(void **state)
{
    (void)state;
    cfg c = {0};
    setenv("WEIR_LISTEN", "0.0.0.0:1", 1);
    setenv("WEIR_DEFAULT_PARTITIONS", "4", 1);
    char *argv[] = {"test", "--default-partitions=8", "pos1",
        "--auto-create-topics", "false", "pos2", NULL};
    int nargs;
    char **args;
    assert_int_equal(
        weir_conf_load(&spec, &c, 6, argv, &nargs, &args), WEIR_OK);
    assert_string_equal(c.listen, "0.0.0.0:1");
    assert_int_equal(c.partitions, 8);
    assert_false(c.auto_create);
    assert_int_equal(nargs, 2);
    assert_string_equal(args[0], "pos1");
    assert_string_equal(args[1], "pos2");
    weir_conf_free(&spec, &c, args);
    unsetenv("WEIR_LISTEN");
    unsetenv("WEIR_DEFAULT_PARTITIONS");
}

static void
test_bad_values(void **state)
{
    (void)state;
    cfg c = {0};
    char *a1[] = {"test", "--default-partitions", "0", NULL};
    assert_int_equal(weir_conf_load(&spec, &c, 3, a1, NULL, NULL), WEIR_EINVAL);
    weir_conf_free(&spec, &c, NULL);
    char *a2[] = {"test", "--nope", NULL};
    assert_int_equal(weir_conf_load(&spec, &c, 2, a2, NULL, NULL), WEIR_EINVAL);
    weir_conf_free(&spec, &c, NULL);
    char *a3[] = {"test", "--listen", NULL};
    assert_int_equal(weir_conf_load(&spec, &c, 2, a3, NULL, NULL), WEIR_EINVAL);
    weir_conf_free(&spec, &c, NULL);
    char *a4[] = {"test", "--log-level", "loud", NULL};
    assert_int_equal(weir_conf_load(&spec, &c, 3, a4, NULL, NULL), WEIR_EINVAL);
    weir_conf_free(&spec, &c, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_env_then_flags),
        cmocka_unit_test(test_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
