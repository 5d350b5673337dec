/* Unit tests of the pure assignor (coordinator/assignor.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "coordinator/assignor.h"

#define MAXW 16
#define MAXT 256

typedef struct fixture {
    weir_assignor_worker workers[MAXW];
    weir_assignor_task tasks[MAXT];
    weir_assignor_state state[MAXT];
    weir_assignor_result out[MAXT];
    size_t nw, nt, ns;
} fixture;

static void
setup(fixture *f, size_t nw, size_t nt, uint32_t standbys)
{
    memset(f, 0, sizeof(*f));
    f->nw = nw;
    f->nt = nt;
    for (size_t w = 0; w < nw; w++)
        f->workers[w] = (weir_assignor_worker){.capacity = 1, .eligible = true};
    for (size_t t = 0; t < nt; t++)
        f->tasks[t] =
            (weir_assignor_task){.owner = -1, .standby_replicas = standbys};
}

static void
run(fixture *f)
{
    weir_assignor_input in = {.workers = f->workers,
        .n_workers = f->nw,
        .tasks = f->tasks,
        .n_tasks = f->nt,
        .state = f->state,
        .n_state = f->ns};
    assert_int_equal(weir_assignor_run(&in, f->out), WEIR_OK);
}

/* The result becomes the current assignment (as after a rebalance). */
static void
adopt(fixture *f)
{
    for (size_t t = 0; t < f->nt; t++) {
        f->tasks[t].owner = f->out[t].active;
        f->tasks[t].n_standbys = f->out[t].n_standbys;
        memcpy(f->tasks[t].standbys, f->out[t].standbys,
            sizeof(f->tasks[t].standbys));
    }
}

static size_t
load(const fixture *f, int32_t w)
{
    size_t n = 0;
    for (size_t t = 0; t < f->nt; t++)
        n += f->out[t].active == w;
    return n;
}

static size_t
moved(const fixture *f)
{
    size_t n = 0;
    for (size_t t = 0; t < f->nt; t++)
        n += f->tasks[t].owner >= 0 && f->out[t].active != f->tasks[t].owner;
    return n;
}

static void
test_balance_equal(void **st)
{
    fixture f;
    setup(&f, 3, 10, 0);
    run(&f);
    for (int32_t w = 0; w < 3; w++) {
        assert_true(load(&f, w) >= 3);
        assert_true(load(&f, w) <= 4);
    }
    for (size_t t = 0; t < f.nt; t++)
        assert_int_equal(f.out[t].n_standbys, 0);
}

static void
test_balance_by_capacity(void **st)
{
    fixture f;
    setup(&f, 3, 12, 0);
    f.workers[0].capacity = 1;
    f.workers[1].capacity = 2;
    f.workers[2].capacity = 3;
    run(&f);
    assert_int_equal(load(&f, 0), 2);
    assert_int_equal(load(&f, 1), 4);
    assert_int_equal(load(&f, 2), 6);
}

static void
test_no_eligible_worker(void **st)
{
    fixture f;
    setup(&f, 2, 4, 1);
    f.workers[0].eligible = false;
    f.workers[1].eligible = false;
    run(&f);
    for (size_t t = 0; t < f.nt; t++) {
        assert_int_equal(f.out[t].active, -1);
        assert_int_equal(f.out[t].n_standbys, 0);
    }
}

static void
test_sticky_rerun(void **st)
{
    fixture f;
    setup(&f, 4, 37, 1);
    run(&f);
    adopt(&f);
    run(&f);
    assert_int_equal(moved(&f), 0);
    for (size_t t = 0; t < f.nt; t++) {
        assert_int_equal(f.out[t].n_standbys, 1);
        assert_int_equal(f.out[t].standbys[0], f.tasks[t].standbys[0]);
    }
}

/* Uneven current loads within the remainder: nothing moves needlessly. */
static void
test_sticky_remainder(void **st)
{
    fixture f;
    setup(&f, 3, 4, 0);
    int32_t owners[] = {0, 1, 2, 2};
    for (size_t t = 0; t < 4; t++)
        f.tasks[t].owner = owners[t];
    run(&f);
    assert_int_equal(moved(&f), 0);
}

/* A worker joins: only the tasks needed for balance move, all to it. */
static void
test_join_moves_minimum(void **st)
{
    fixture f;
    setup(&f, 2, 12, 0);
    run(&f);
    adopt(&f);
    f.nw = 3;
    f.workers[2] = (weir_assignor_worker){.capacity = 1, .eligible = true};
    run(&f);
    assert_int_equal(moved(&f), 4);
    for (size_t t = 0; t < f.nt; t++)
        if (f.out[t].active != f.tasks[t].owner)
            assert_int_equal(f.out[t].active, 2);
    for (int32_t w = 0; w < 3; w++)
        assert_int_equal(load(&f, w), 4);
}

/* A worker dies (or drains): its tasks go elsewhere, others stay. */
static void
test_leave_moves_only_its_tasks(void **st)
{
    fixture f;
    setup(&f, 3, 12, 0);
    run(&f);
    adopt(&f);
    f.workers[1].eligible = false;
    run(&f);
    for (size_t t = 0; t < f.nt; t++) {
        assert_int_not_equal(f.out[t].active, 1);
        if (f.tasks[t].owner != 1)
            assert_int_equal(f.out[t].active, f.tasks[t].owner);
    }
    assert_int_equal(load(&f, 0), 6);
    assert_int_equal(load(&f, 2), 6);
}

/* The worker with the freshest local state gets the task. */
static void
test_state_preference(void **st)
{
    fixture f;
    setup(&f, 3, 3, 0);
    /* task 0's state on worker 2 (newer) and worker 1 (older) */
    f.state[f.ns++] =
        (weir_assignor_state){.task = 0, .worker = 1, .offset = 5};
    f.state[f.ns++] =
        (weir_assignor_state){.task = 0, .worker = 2, .offset = 9};
    f.state[f.ns++] =
        (weir_assignor_state){.task = 1, .worker = 0, .offset = 1};
    run(&f);
    assert_int_equal(f.out[0].active, 2);
    assert_int_equal(f.out[1].active, 0);
    assert_int_equal(f.out[2].active, 1);
}

/* An owner over its share gives up the tasks a worker with room holds
 * state for, not simply the last ones. */
static void
test_overflow_prefers_warm(void **st)
{
    fixture f;
    setup(&f, 2, 4, 0);
    for (size_t t = 0; t < 4; t++)
        f.tasks[t].owner = 0;
    f.state[f.ns++] =
        (weir_assignor_state){.task = 0, .worker = 1, .offset = 5};
    f.state[f.ns++] =
        (weir_assignor_state){.task = 1, .worker = 1, .offset = 5};
    run(&f);
    assert_int_equal(f.out[0].active, 1);
    assert_int_equal(f.out[1].active, 1);
    assert_int_equal(f.out[2].active, 0);
    assert_int_equal(f.out[3].active, 0);
    /* within its share, an owner keeps everything, warm copies or not */
    setup(&f, 2, 4, 0);
    f.tasks[0].owner = f.tasks[1].owner = 0;
    f.tasks[2].owner = f.tasks[3].owner = 1;
    f.state[f.ns++] =
        (weir_assignor_state){.task = 0, .worker = 1, .offset = 9};
    run(&f);
    assert_int_equal(moved(&f), 0);
}

/* State preference never beats balance. */
static void
test_state_within_quota(void **st)
{
    fixture f;
    setup(&f, 2, 4, 0);
    for (uint32_t t = 0; t < 4; t++)
        f.state[f.ns++] =
            (weir_assignor_state){.task = t, .worker = 0, .offset = 3};
    run(&f);
    assert_int_equal(load(&f, 0), 2);
    assert_int_equal(load(&f, 1), 2);
}

/* A dead worker's tasks go to their standbys. */
static void
test_failover_to_standby(void **st)
{
    fixture f;
    setup(&f, 3, 9, 1);
    run(&f);
    adopt(&f);
    int32_t standby_of[MAXT];
    for (size_t t = 0; t < f.nt; t++) {
        standby_of[t] = f.out[t].standbys[0];
        /* standbys report their checkpoints */
        f.state[f.ns++] = (weir_assignor_state){.task = (uint32_t)t,
            .worker = (uint32_t)standby_of[t],
            .offset = 7};
    }
    f.workers[0].eligible = false;
    run(&f);
    size_t orphans = 0, to_standby = 0;
    size_t room[3] = {0, 5, 4}; /* quotas of 9 tasks on workers 1 and 2 */
    for (size_t t = 0; t < f.nt; t++) {
        if (f.tasks[t].owner == 0) {
            orphans++;
            to_standby += f.out[t].active == standby_of[t];
        } else {
            room[f.tasks[t].owner]--;
        }
    }
    /* every orphan whose standby has room goes to its standby */
    size_t want = 0, per[3] = {0};
    for (size_t t = 0; t < f.nt; t++)
        if (f.tasks[t].owner == 0)
            per[standby_of[t]]++;
    for (int w = 1; w < 3; w++)
        want += per[w] < room[w] ? per[w] : room[w];
    assert_int_equal(orphans, 3);
    assert_true(want >= 2);
    assert_int_equal(to_standby, want);
}

static void
test_standby_on_other_workers(void **st)
{
    fixture f;
    setup(&f, 4, 40, 2);
    run(&f);
    size_t sb[4] = {0};
    for (size_t t = 0; t < f.nt; t++) {
        assert_int_equal(f.out[t].n_standbys, 2);
        assert_int_not_equal(f.out[t].standbys[0], f.out[t].active);
        assert_int_not_equal(f.out[t].standbys[1], f.out[t].active);
        assert_int_not_equal(f.out[t].standbys[0], f.out[t].standbys[1]);
        sb[f.out[t].standbys[0]]++;
        sb[f.out[t].standbys[1]]++;
    }
    for (int w = 0; w < 4; w++)
        assert_int_equal(sb[w], 20);
}

/* Fewer workers than replicas + 1: as many standbys as fit, none on the
 * active worker; a single worker gets no standbys. */
static void
test_standby_capped_by_workers(void **st)
{
    fixture f;
    setup(&f, 2, 6, 3);
    run(&f);
    for (size_t t = 0; t < f.nt; t++) {
        assert_int_equal(f.out[t].n_standbys, 1);
        assert_int_not_equal(f.out[t].standbys[0], f.out[t].active);
    }
    setup(&f, 1, 6, 1);
    run(&f);
    for (size_t t = 0; t < f.nt; t++) {
        assert_int_equal(f.out[t].active, 0);
        assert_int_equal(f.out[t].n_standbys, 0);
    }
}

/* A worker that doubles its capacity takes a larger share. */
static void
test_capacity_change(void **st)
{
    fixture f;
    setup(&f, 2, 12, 0);
    run(&f);
    adopt(&f);
    assert_int_equal(load(&f, 0), 6);
    f.workers[1].capacity = 2;
    run(&f);
    assert_int_equal(load(&f, 0), 4);
    assert_int_equal(load(&f, 1), 8);
    assert_int_equal(moved(&f), 2);
}

static void
test_two_phase(void **st)
{
    /* unchanged owner, or nobody running it: runs on the target now */
    assert_int_equal(weir_assignor_phase(2, 2), 2);
    assert_int_equal(weir_assignor_phase(-1, 3), 3);
    /* a move: revoked from 1 first, 0 waits for the confirmation */
    assert_int_equal(weir_assignor_phase(1, 0), -1);
    /* no eligible target: nobody */
    assert_int_equal(weir_assignor_phase(-1, -1), -1);
    assert_int_equal(weir_assignor_phase(1, -1), -1);
}

static void
test_bad_input(void **st)
{
    fixture f;
    setup(&f, 2, 2, 0);
    f.state[f.ns++] = (weir_assignor_state){.task = 5, .worker = 0};
    weir_assignor_input in = {.workers = f.workers,
        .n_workers = f.nw,
        .tasks = f.tasks,
        .n_tasks = f.nt,
        .state = f.state,
        .n_state = f.ns};
    assert_int_equal(weir_assignor_run(&in, f.out), WEIR_EINVAL);
    f.state[0] = (weir_assignor_state){.task = 0, .worker = 9};
    assert_int_equal(weir_assignor_run(&in, f.out), WEIR_EINVAL);
    /* an owner index out of range is just not eligible */
    f.ns = 0;
    f.tasks[0].owner = 42;
    in.n_state = 0;
    assert_int_equal(weir_assignor_run(&in, f.out), WEIR_OK);
    assert_true(f.out[0].active == 0 || f.out[0].active == 1);
}

static void
test_deterministic(void **st)
{
    fixture a, b;
    setup(&a, 5, 100, 1);
    setup(&b, 5, 100, 1);
    a.workers[3].capacity = b.workers[3].capacity = 3;
    run(&a);
    run(&b);
    assert_memory_equal(a.out, b.out, sizeof(a.out[0]) * a.nt);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balance_equal),
        cmocka_unit_test(test_balance_by_capacity),
        cmocka_unit_test(test_no_eligible_worker),
        cmocka_unit_test(test_sticky_rerun),
        cmocka_unit_test(test_sticky_remainder),
        cmocka_unit_test(test_join_moves_minimum),
        cmocka_unit_test(test_leave_moves_only_its_tasks),
        cmocka_unit_test(test_state_preference),
        cmocka_unit_test(test_state_within_quota),
        cmocka_unit_test(test_overflow_prefers_warm),
        cmocka_unit_test(test_failover_to_standby),
        cmocka_unit_test(test_standby_on_other_workers),
        cmocka_unit_test(test_standby_capped_by_workers),
        cmocka_unit_test(test_capacity_change),
        cmocka_unit_test(test_two_phase),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
