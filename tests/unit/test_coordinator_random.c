/*
 * Randomized test of the coordinator's state machine: simulated workers
 * start, heartbeat, pause, crash, leave and get drained, jobs are submitted
 * and cancelled, time jumps, and the coordinator restarts from its saved
 * state, in random order for many seeds. After every step:
 *   - no task is active on two workers that both hold a current epoch
 *     (a worker told its epoch is stale drops its tasks, as control.c does);
 *   - after a quiet period with every live worker heartbeating, every task
 *     of every job runs on exactly one live worker and balance holds.
 */
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
#include "common/log.h"
#include "coordinator/cluster.h"
#include "coordinator/cluster_int.h"

#define NW 5
#define MAXT 64
#define HB 100
#define SESSION 600

#include "cluster_sim.h"

typedef enum { DOWN, UP, PAUSED } wstate;

typedef struct sim {
    char id[8];
    wstate st;
    uint64_t epoch; /* 0: must say hello */
    uint64_t generation;
    size_t n_active;
    Weir__Cluster__TaskId active[MAXT];
    char jobs[MAXT][16];
    uint64_t next_hb;
} sim;

static void
submit(weir_cluster *cl, const char *job, uint32_t parts, uint64_t now)
{
    Weir__Topology__Topology topo = WEIR__TOPOLOGY__TOPOLOGY__INIT;
    Weir__Topology__Subtopology sub = WEIR__TOPOLOGY__SUBTOPOLOGY__INIT;
    Weir__Topology__Subtopology *psub = &sub;
    topo.job = (char *)job;
    topo.standby_replicas = 1;
    topo.n_subtopologies = 1;
    topo.subtopologies = &psub;
    int rv = weir_cluster_submit(cl, &topo, &parts, 1, 0, now);
    assert_true(rv == WEIR_OK || rv == WEIR_EEXIST);
}

static void
hello(weir_cluster *cl, sim *w, uint64_t now)
{
    Weir__Cluster__Hello h = WEIR__CLUSTER__HELLO__INIT;
    h.worker_id = w->id;
    h.capacity = 1 + (uint32_t)(w->id[1] - '0') % 2;
    Weir__Cluster__Welcome wel = WEIR__CLUSTER__WELCOME__INIT;
    assert_int_equal(weir_cluster_hello(cl, &h, now, &wel), WEIR_OK);
    w->epoch = wel.member_epoch;
    w->generation = 0; /* as control.c: known generation after hello */
}

static void
heartbeat(weir_cluster *cl, sim *w, uint64_t now)
{
    Weir__Cluster__Heartbeat hb = WEIR__CLUSTER__HEARTBEAT__INIT;
    Weir__Cluster__TaskStatus st[MAXT], *pst[MAXT];
    for (size_t i = 0; i < w->n_active; i++) {
        weir__cluster__task_status__init(&st[i]);
        st[i].task = &w->active[i];
        st[i].state = WEIR__CLUSTER__TASK_STATE__TASK_RUNNING;
        pst[i] = &st[i];
    }
    hb.worker_id = w->id;
    hb.member_epoch = w->epoch;
    hb.known_generation = w->generation;
    hb.n_tasks = w->n_active;
    hb.tasks = pst;
    Weir__Cluster__HeartbeatReply r = WEIR__CLUSTER__HEARTBEAT_REPLY__INIT;
    int rv = weir_cluster_heartbeat(cl, &hb, now, 0, &r);
    if (rv == WEIR_ESTATE) {
        w->n_active = 0; /* drop everything, say hello again */
        w->epoch = 0;
        w->generation = 0;
        return;
    }
    assert_int_equal(rv, WEIR_OK);
    if (r.assignment_changed) {
        const Weir__Cluster__Assignment *a = r.assignment;
        assert_true(a->n_active <= MAXT);
        w->n_active = a->n_active;
        for (size_t i = 0; i < a->n_active; i++) {
            snprintf(w->jobs[i], sizeof(w->jobs[i]), "%s", a->active[i]->job);
            weir__cluster__task_id__init(&w->active[i]);
            w->active[i].job = w->jobs[i];
            w->active[i].subtopology = a->active[i]->subtopology;
            w->active[i].partition = a->active[i]->partition;
        }
        w->generation = a->generation;
    }
    weir_cluster_reply_fini(&r);
}

/* Is w a current member (alive, its epoch) in the coordinator's view? */
static bool
current(const weir_cluster *cl, const sim *w)
{
    int m = weir__cluster_member_find(cl, w->id);
    return w->st != DOWN && w->epoch != 0 && m >= 0 &&
           cl->members[m].state != WEIR__MEMBER_DEAD &&
           cl->members[m].epoch == w->epoch;
}

static void
check_exclusive(const weir_cluster *cl, const sim *ws)
{
    for (int a = 0; a < NW; a++) {
        if (!current(cl, &ws[a]))
            continue;
        for (size_t i = 0; i < ws[a].n_active; i++) {
            const Weir__Cluster__TaskId *t = &ws[a].active[i];
            for (int b = a + 1; b < NW; b++) {
                if (!current(cl, &ws[b]))
                    continue;
                for (size_t j = 0; j < ws[b].n_active; j++) {
                    const Weir__Cluster__TaskId *u = &ws[b].active[j];
                    if (strcmp(t->job, u->job) == 0 &&
                        t->subtopology == u->subtopology &&
                        t->partition == u->partition) {
                        int k = weir__cluster_task_find(
                            cl, t->job, t->subtopology, t->partition);
                        if (k >= 0)
                            print_message("running=%d target=%d orphan=%d "
                                          "gen=%llu genA=%llu genB=%llu\n",
                                cl->tasks[k].running, cl->tasks[k].target,
                                cl->tasks[k].orphan,
                                (unsigned long long)cl->generation,
                                (unsigned long long)ws[a].generation,
                                (unsigned long long)ws[b].generation);
                        fail_msg("seed %llu: task %s/%u/%u active on %s and "
                                 "%s",
                            (unsigned long long)cur_seed, t->job,
                            t->subtopology, t->partition, ws[a].id, ws[b].id);
                    }
                }
            }
        }
    }
}

/* Everybody up and heartbeating for a while: all tasks run, balanced. */
static void
check_converges(weir_cluster *cl, sim *ws, uint64_t *now)
{
    for (int i = 0; i < NW; i++)
        if (ws[i].st == PAUSED)
            ws[i].st = UP;
    for (int round = 0; round < 3 * SESSION / HB + 10; round++) {
        *now += HB;
        for (int i = 0; i < NW; i++) {
            if (ws[i].st != UP)
                continue;
            if (ws[i].epoch == 0)
                hello(cl, &ws[i], *now);
            else
                heartbeat(cl, &ws[i], *now);
        }
        weir_cluster_tick(cl, *now);
        check_exclusive(cl, ws);
    }
    size_t running = 0, live = 0;
    for (int i = 0; i < NW; i++) {
        if (!current(cl, &ws[i]))
            continue;
        int m = weir__cluster_member_find(cl, ws[i].id);
        if (cl->members[m].state == WEIR__MEMBER_ALIVE)
            live++;
        running += ws[i].n_active;
    }
    if (live > 0)
        assert_int_equal(running, cl->n_tasks);
    else
        assert_int_equal(running, 0);
}

static void
run_seed(uint64_t seed, const char *path)
{
    rng = seed * 2654435761u + 1;
    cur_seed = seed;
    weir_cluster *cl = cl_new();
    sim ws[NW];
    memset(ws, 0, sizeof(ws));
    for (int i = 0; i < NW; i++)
        snprintf(ws[i].id, sizeof(ws[i].id), "w%d", i);
    uint64_t now = 1000;
    for (int step = 0; step < 1500; step++) {
        sim *w = &ws[rnd(NW)];
        switch (rnd(20)) {
        case 0: /* start */
            if (w->st == DOWN) {
                w->st = UP;
                w->epoch = 0;
                w->n_active = 0;
            }
            break;
        case 1: /* crash */
            w->st = DOWN;
            w->n_active = 0;
            break;
        case 2: /* pause / resume */
            if (w->st != DOWN)
                w->st = w->st == PAUSED ? UP : PAUSED;
            break;
        case 3: { /* clean stop */
            if (w->st == UP && w->epoch) {
                Weir__Cluster__Leave lv = WEIR__CLUSTER__LEAVE__INIT;
                lv.worker_id = w->id;
                lv.member_epoch = w->epoch;
                (void)weir_cluster_leave(cl, &lv, now);
                w->st = DOWN;
                w->n_active = 0;
            }
            break;
        }
        case 4:
            (void)weir_cluster_drain(cl, w->id, now);
            break;
        case 5:
            submit(cl, rnd(2) ? "a" : "b", 1 + rnd(6), now);
            break;
        case 6:
            (void)weir_cluster_cancel(cl, rnd(2) ? "a" : "b", now);
            break;
        case 7: /* coordinator restart from its durable state */
            if (rnd(4) == 0) {
                assert_int_equal(weir_cluster_save(cl, path), WEIR_OK);
                weir_cluster_free(cl);
                cl = cl_new();
                assert_int_equal(weir_cluster_load(cl, path, now), WEIR_OK);
            }
            break;
        default: /* time passes; up workers heartbeat when due */
            now += rnd(HB);
            for (int i = 0; i < NW; i++) {
                sim *x = &ws[i];
                if (x->st != UP || now < x->next_hb)
                    continue;
                x->next_hb = now + HB;
                if (x->epoch == 0)
                    hello(cl, x, now);
                else
                    heartbeat(cl, x, now);
            }
            weir_cluster_tick(cl, now);
            break;
        }
        check_exclusive(cl, ws);
    }
    check_converges(cl, ws, &now);
    weir_cluster_free(cl);
}

static void
test_random(void **state)
{
    char dir[] = "/tmp/weir-test-coordrand-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/state", dir);
    uint64_t seeds = sim_seeds(40);
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        if (sim_seed_skipped(seed))
            continue;
        run_seed(seed, path);
    }
    unlink(path);
    rmdir(dir);
}

int
main(void)
{
    weir_log_set_level(WEIR_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
