/* The RocksDB store adapter: overlay reads, atomic checkpoints, reopen,
 * abort, wipe, iteration and the checkpoint listing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "worker/store.h"

static char dir[256];

static int
setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/weir-test-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    (void)state;
    return 0;
}

static int
teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    (void)state;
    return 0;
}

static void
check_value(weir_store *s, size_t idx, const char *key, const char *want)
{
    const char *v = NULL;
    size_t vl = 0;
    bool found = false;
    assert_int_equal(
        weir_store_get(s, idx, key, strlen(key), &v, &vl, &found), WEIR_OK);
    if (!want) {
        assert_false(found);
    } else {
        assert_true(found);
        assert_int_equal(vl, strlen(want));
        assert_memory_equal(v, want, vl);
    }
}

static void
test_overlay_commit_reopen(void **state)
{
    weir_store_env *env;
    weir_store *s;
    const char *names[] = {"counts", "sums"};
    assert_int_equal(weir_store_env_open(&env, dir, 8 << 20), WEIR_OK);
    assert_int_equal(weir_store_open(&s, env, "job/0_1", names, 2), WEIR_OK);
    assert_int_equal(weir_store_checkpoint(s, 0), -1);
    assert_int_equal(weir_store_checkpoint(s, 1), -1);

    /* Uncommitted writes are visible to reads, per column family. */
    assert_int_equal(weir_store_put(s, 0, "a", 1, "1", 1), WEIR_OK);
    assert_int_equal(weir_store_put(s, 1, "a", 1, "x", 1), WEIR_OK);
    check_value(s, 0, "a", "1");
    check_value(s, 1, "a", "x");
    assert_int_equal(weir_store_pending(s), 2);
    /* Only the latest value of a key is kept. */
    assert_int_equal(weir_store_put(s, 0, "a", 1, "3", 1), WEIR_OK);
    check_value(s, 0, "a", "3");
    assert_int_equal(weir_store_pending(s), 2);

    /* Abort drops them. */
    weir_store_abort(s);
    check_value(s, 0, "a", NULL);
    assert_int_equal(weir_store_pending(s), 0);

    /* Commit applies batch and checkpoints together. */
    assert_int_equal(weir_store_put(s, 0, "a", 1, "2", 1), WEIR_OK);
    assert_int_equal(weir_store_put(s, 0, "b", 1, "7", 1), WEIR_OK);
    int64_t offs[2] = {42, -1};
    assert_int_equal(weir_store_commit(s, offs), WEIR_OK);
    assert_int_equal(weir_store_checkpoint(s, 0), 42);
    assert_int_equal(weir_store_checkpoint(s, 1), -1);

    /* A delete in the batch hides the committed value. */
    assert_int_equal(weir_store_put(s, 0, "b", 1, NULL, 0), WEIR_OK);
    check_value(s, 0, "b", NULL);
    weir_store_close(s); /* uncommitted delete is lost */
    weir_store_env_close(env);

    assert_int_equal(weir_store_env_open(&env, dir, 8 << 20), WEIR_OK);
    assert_int_equal(weir_store_open(&s, env, "job/0_1", names, 2), WEIR_OK);
    assert_int_equal(weir_store_checkpoint(s, 0), 42);
    check_value(s, 0, "a", "2");
    check_value(s, 0, "b", "7");
    check_value(s, 1, "a", NULL);

    weir_store_ckpt *ck = NULL;
    size_t n = 0;
    assert_int_equal(weir_store_env_checkpoints(env, &ck, &n), WEIR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ck[0].task, "job/0_1");
    assert_string_equal(ck[0].store, "counts");
    assert_int_equal(ck[0].offset, 42);
    free(ck);

    /* Wipe forgets data and checkpoint. */
    assert_int_equal(weir_store_wipe(s, 0), WEIR_OK);
    assert_int_equal(weir_store_checkpoint(s, 0), -1);
    check_value(s, 0, "a", NULL);
    weir_store_close(s);
    weir_store_env_close(env);
    (void)state;
}

static void
test_iterator_merges_batch(void **state)
{
    weir_store_env *env;
    weir_store *s;
    const char *names[] = {"w"};
    assert_int_equal(weir_store_env_open(&env, dir, 0), WEIR_OK);
    assert_int_equal(weir_store_open(&s, env, "job/1_0", names, 1), WEIR_OK);
    assert_int_equal(weir_store_put(s, 0, "k1", 2, "a", 1), WEIR_OK);
    assert_int_equal(weir_store_put(s, 0, "k3", 2, "c", 1), WEIR_OK);
    int64_t off = 5;
    assert_int_equal(weir_store_commit(s, &off), WEIR_OK);
    assert_int_equal(weir_store_put(s, 0, "k2", 2, "b", 1), WEIR_OK);
    assert_int_equal(weir_store_put(s, 0, "k3", 2, NULL, 0), WEIR_OK);

    weir_store_iter *it;
    assert_int_equal(weir_store_iter_new(&it, s, 0, NULL, 0), WEIR_OK);
    const char *want[] = {"k1", "k2"};
    size_t i = 0;
    for (; weir_store_iter_valid(it); weir_store_iter_next(it), i++) {
        size_t kl;
        const char *k = weir_store_iter_key(it, &kl);
        assert_true(i < 2);
        assert_int_equal(kl, 2);
        assert_memory_equal(k, want[i], 2);
    }
    assert_int_equal(i, 2);
    weir_store_iter_free(it);

    assert_int_equal(weir_store_iter_new(&it, s, 0, "k2", 2), WEIR_OK);
    assert_true(weir_store_iter_valid(it));
    size_t vl;
    assert_memory_equal(weir_store_iter_value(it, &vl), "b", 1);
    weir_store_iter_free(it);

    weir_store_close(s);
    weir_store_env_close(env);
    (void)state;
}

static void
test_locked_dir_is_an_error(void **state)
{
    weir_store_env *env, *env2 = NULL;
    assert_int_equal(weir_store_env_open(&env, dir, 0), WEIR_OK);
    assert_int_equal(weir_store_env_open(&env2, dir, 0), WEIR_ESTORE);
    assert_null(env2);
    weir_store_env_close(env);
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_overlay_commit_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_iterator_merges_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_locked_dir_is_an_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
