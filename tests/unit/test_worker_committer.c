/* The committer thread: one call at a time, its result, waiting, freeing. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/err.h"
#include "worker/committer.h"

/* A call that blocks until released, so "still running" can be seen. */
typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
    int calls;
    int result;
} gate;

static int
gated_call(void *arg)
{
    gate *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    g->calls++;
    int rv = g->result;
    pthread_mutex_unlock(&g->mu);
    return rv;
}

static void
gate_open(gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void
test_idle_is_done(void **state)
{
    weir_committer *c = NULL;
    assert_int_equal(weir_committer_new(&c), WEIR_OK);
    int rv = -1;
    assert_true(weir_committer_done(c, 0, &rv));
    assert_int_equal(rv, WEIR_OK);
    assert_int_equal(weir_committer_wait(c), WEIR_OK);
    weir_committer_free(c);
    weir_committer_free(NULL);
    (void)state;
}

static void
test_runs_in_background(void **state)
{
    gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0,
        WEIR_EABORTED};
    weir_committer *c = NULL;
    assert_int_equal(weir_committer_new(&c), WEIR_OK);
    weir_committer_start(c, gated_call, &g);
    int rv = 0;
    /* Blocked on the gate: not done, neither at once nor after waiting. */
    assert_false(weir_committer_done(c, 0, &rv));
    assert_false(weir_committer_done(c, 20, &rv));
    gate_open(&g);
    assert_int_equal(weir_committer_wait(c), WEIR_EABORTED);
    assert_true(weir_committer_done(c, 0, &rv));
    assert_int_equal(rv, WEIR_EABORTED);
    assert_int_equal(g.calls, 1);

    /* The next call's result replaces the last one's. */
    g.result = WEIR_OK;
    weir_committer_start(c, gated_call, &g);
    assert_true(weir_committer_done(c, 5000, &rv));
    assert_int_equal(rv, WEIR_OK);
    assert_int_equal(g.calls, 2);
    weir_committer_free(c);
    (void)state;
}

static void
test_free_finishes_the_call(void **state)
{
    gate g = {
        PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, true, 0, WEIR_OK};
    weir_committer *c = NULL;
    assert_int_equal(weir_committer_new(&c), WEIR_OK);
    weir_committer_start(c, gated_call, &g);
    weir_committer_free(c); /* joins after the call in flight */
    assert_int_equal(g.calls, 1);
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_is_done),
        cmocka_unit_test(test_runs_in_background),
        cmocka_unit_test(test_free_finishes_the_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
