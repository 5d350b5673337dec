/*
 * Randomized interleavings of the coordinator's state machine (the real
 * weir_cluster) and workers that follow the real ownership rules
 * (worker/ownership.h), over a model of the broker's transactional-id
 * epochs. Workers heartbeat, start tasks (checking the lease, then calling
 * init_transactions a step later, so a pause can fall in between, as in a
 * real process), commit (fenced when the broker's epoch moved on), hit
 * retriable errors, pause, crash and restart; the coordinator crashes and
 * comes back from its saved state; the broker fences owners on its own
 * (the injected INVALID_PRODUCER_EPOCH). For many seeds:
 *   - safety, after every step: no task is held unfenced by two workers
 *     that both hold a current membership;
 *   - liveness: once faults stop, every task runs on one worker, with the
 *     broker's current epoch, within a bound.
 * WEIR_RANDOM_SEEDS=N runs more seeds; WEIR_RANDOM_SEED=S one seed.
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
#include "worker/ownership.h"

#define NW 4
#define NP 6 /* partitions of the one job: tasks 0_0 .. 0_5 */
#define HB 100
#define SESSION 600
#define STEPS 2500
/* Once faults stop: a dead member expires (SESSION), then a rebalance, a
 * revoke and a start take a few heartbeats. */
#define BOUND_MS (SESSION + 12 * HB)

#include "cluster_sim.h"

typedef enum { DOWN, UP, PAUSED } wstate;

typedef struct wtask {
    uint32_t part;
    weir_task_state st; /* CREATED, RUNNING or FENCED */
    bool starting;      /* lease checked, init_transactions next */
    uint64_t prod_epoch;
    uint64_t fences;
} wtask;

typedef struct sim {
    char id[8];
    wstate st;
    uint64_t epoch; /* 0: must say hello */
    uint64_t generation;
    uint64_t lease_until_ms;
    uint64_t next_hb;
    wtask tasks[NP];
    size_t n;
} sim;

typedef struct world {
    weir_cluster *cl; /* NULL while the coordinator is down */
    const char *path;
    sim ws[NW];
    uint64_t txn_epoch[NP]; /* the broker's epoch per transactional id */
    uint64_t now;
} world;

static void
submit(world *wd)
{
    Weir__Topology__Topology topo = WEIR__TOPOLOGY__TOPOLOGY__INIT;
    Weir__Topology__Subtopology sub = WEIR__TOPOLOGY__SUBTOPOLOGY__INIT;
    Weir__Topology__Subtopology *psub = &sub;
    topo.job = "j";
    topo.n_subtopologies = 1;
    topo.subtopologies = &psub;
    uint32_t parts = NP;
    assert_int_equal(
        weir_cluster_submit(wd->cl, &topo, &parts, 1, 0, wd->now), WEIR_OK);
}

static void
hello(world *wd, sim *w)
{
    Weir__Cluster__Hello h = WEIR__CLUSTER__HELLO__INIT;
    h.worker_id = w->id;
    h.capacity = 1;
    Weir__Cluster__Welcome wel = WEIR__CLUSTER__WELCOME__INIT;
    assert_int_equal(weir_cluster_hello(wd->cl, &h, wd->now, &wel), WEIR_OK);
    w->epoch = wel.member_epoch;
    w->generation = 0;
    w->lease_until_ms = weir_ownership_lease(wd->now, wel.session_timeout_ms);
}

static wtask *
held(sim *w, uint32_t part)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->tasks[i].part == part)
            return &w->tasks[i];
    return NULL;
}

static void
drop_all(sim *w)
{
    w->n = 0;
    w->epoch = 0;
    w->generation = 0;
    w->lease_until_ms = 0;
}

/* control.c's apply + runtime_thread.c's sync_tasks, by the same rules. */
static void
apply(sim *w, const Weir__Cluster__Assignment *a)
{
    bool named[NP] = {false};
    for (size_t i = 0; i < a->n_active; i++) {
        assert_true(a->active[i]->partition < NP);
        named[a->active[i]->partition] = true;
    }
    size_t n = 0;
    for (size_t i = 0; i < w->n; i++) {
        wtask *t = &w->tasks[i];
        switch (weir_ownership_on_assignment(t->st, named[t->part])) {
        case WEIR_OWNERSHIP_RETIRE:
            continue;
        case WEIR_OWNERSHIP_RESTART:
            t->st = WEIR_TASK_CREATED;
            t->starting = false;
            break;
        case WEIR_OWNERSHIP_KEEP:
            break;
        }
        w->tasks[n++] = *t;
    }
    w->n = n;
    for (uint32_t p = 0; p < NP; p++)
        if (named[p] && !held(w, p))
            w->tasks[w->n++] = (wtask){.part = p, .st = WEIR_TASK_CREATED};
    w->generation = a->generation;
}

static Weir__Cluster__TaskState
report_state(const wtask *t)
{
    switch (t->st) {
    case WEIR_TASK_RUNNING:
        return WEIR__CLUSTER__TASK_STATE__TASK_RUNNING;
    case WEIR_TASK_FENCED:
        return WEIR__CLUSTER__TASK_STATE__TASK_FENCED;
    default:
        return WEIR__CLUSTER__TASK_STATE__TASK_CREATED;
    }
}

static void
heartbeat(world *wd, sim *w)
{
    if (!wd->cl)
        return; /* the coordinator is down: no reply, no lease */
    if (w->epoch == 0) {
        hello(wd, w);
        return;
    }
    Weir__Cluster__Heartbeat hb = WEIR__CLUSTER__HEARTBEAT__INIT;
    Weir__Cluster__TaskStatus st[NP], *pst[NP];
    Weir__Cluster__TaskId id[NP];
    for (size_t i = 0; i < w->n; i++) {
        weir__cluster__task_status__init(&st[i]);
        weir__cluster__task_id__init(&id[i]);
        id[i].job = "j";
        id[i].partition = w->tasks[i].part;
        st[i].task = &id[i];
        st[i].state = report_state(&w->tasks[i]);
        st[i].fences = w->tasks[i].fences;
        pst[i] = &st[i];
    }
    hb.worker_id = w->id;
    hb.member_epoch = w->epoch;
    hb.known_generation = w->generation;
    hb.n_tasks = w->n;
    hb.tasks = pst;
    Weir__Cluster__HeartbeatReply r = WEIR__CLUSTER__HEARTBEAT_REPLY__INIT;
    int rv = weir_cluster_heartbeat(wd->cl, &hb, wd->now, 0, &r);
    if (rv == WEIR_ESTATE) {
        drop_all(w);
        return;
    }
    assert_int_equal(rv, WEIR_OK);
    w->lease_until_ms = weir_ownership_lease(wd->now, SESSION);
    if (r.assignment_changed)
        apply(w, r.assignment);
    weir_cluster_reply_fini(&r);
}

/* One turn of a worker's stream threads over its tasks. */
static void
step(world *wd, sim *w, bool faults)
{
    for (size_t i = 0; i < w->n; i++) {
        wtask *t = &w->tasks[i];
        switch (t->st) {
        case WEIR_TASK_CREATED:
            if (t->starting) { /* init_transactions fences the holder */
                t->prod_epoch = ++wd->txn_epoch[t->part];
                t->st = WEIR_TASK_RUNNING;
                t->starting = false;
            } else if (weir_ownership_may_start(wd->now, w->lease_until_ms)) {
                t->starting = true;
            }
            break;
        case WEIR_TASK_RUNNING: /* a commit */
            if (t->prod_epoch != wd->txn_epoch[t->part]) {
                t->st = WEIR_TASK_FENCED;
                t->fences++;
            } else if (faults && rnd(40) == 0) {
                t->st = WEIR_TASK_CREATED; /* a retriable error */
            }
            break;
        default:
            break;
        }
    }
}

static bool
current(const world *wd, const sim *w)
{
    if (!wd->cl || w->st == DOWN || w->epoch == 0)
        return false;
    int m = weir__cluster_member_find(wd->cl, w->id);
    return m >= 0 && wd->cl->members[m].state != WEIR__MEMBER_DEAD &&
           wd->cl->members[m].epoch == w->epoch;
}

/* Safety: two current members never both hold a task unfenced. */
static void
check_exclusive(const world *wd)
{
    for (uint32_t p = 0; p < NP; p++) {
        int holders = 0;
        for (int i = 0; i < NW; i++) {
            const sim *w = &wd->ws[i];
            const wtask *t = held((sim *)w, p);
            holders += current(wd, w) && t && t->st != WEIR_TASK_FENCED;
        }
        if (holders > 1)
            fail_msg("seed %llu: task 0_%u held by %d current members",
                (unsigned long long)cur_seed, p, holders);
    }
}

/* Every task runs on one worker, with the broker's current epoch. */
static bool
all_running(const world *wd)
{
    for (uint32_t p = 0; p < NP; p++) {
        int n = 0;
        for (int i = 0; i < NW; i++) {
            const wtask *t = held((sim *)&wd->ws[i], p);
            n += wd->ws[i].st == UP && t && t->st == WEIR_TASK_RUNNING &&
                 t->prod_epoch == wd->txn_epoch[p];
        }
        if (n != 1)
            return false;
    }
    return true;
}

static void
coordinator_crash(world *wd)
{
    assert_int_equal(weir_cluster_save(wd->cl, wd->path), WEIR_OK);
    weir_cluster_free(wd->cl);
    wd->cl = NULL;
}

static void
coordinator_start(world *wd)
{
    wd->cl = cl_new();
    assert_int_equal(weir_cluster_load(wd->cl, wd->path, wd->now), WEIR_OK);
    weir_cluster_touch_all(wd->cl, wd->now); /* as server.c does */
}

/* Time passes: workers heartbeat when due, the coordinator ticks. */
static void
advance(world *wd, uint64_t ms, bool faults)
{
    wd->now += ms;
    for (int i = 0; i < NW; i++) {
        sim *w = &wd->ws[i];
        if (w->st != UP)
            continue;
        if (wd->now >= w->next_hb) {
            w->next_hb = wd->now + HB;
            heartbeat(wd, w);
        }
        step(wd, w, faults);
    }
    if (wd->cl)
        weir_cluster_tick(wd->cl, wd->now);
}

static void
fault(world *wd)
{
    sim *w = &wd->ws[rnd(NW)];
    switch (rnd(24)) {
    case 0: /* pause / resume */
        if (w->st != DOWN)
            w->st = w->st == PAUSED ? UP : PAUSED;
        break;
    case 1: /* SIGKILL */
        w->st = DOWN;
        drop_all(w);
        break;
    case 2: /* start again */
        if (w->st == DOWN)
            w->st = UP;
        break;
    case 3: /* the coordinator dies, or comes back */
        if (wd->cl && rnd(3) == 0)
            coordinator_crash(wd);
        else if (!wd->cl)
            coordinator_start(wd);
        break;
    case 4: /* the broker fences whoever holds a transactional id */
        wd->txn_epoch[rnd(NP)]++;
        break;
    case 5: /* one worker runs a turn alone (others are slow) */
        if (w->st == UP)
            step(wd, w, true);
        break;
    default:
        advance(wd, rnd(HB), true);
        break;
    }
}

/* What a failed seed looked like, to reproduce it with WEIR_RANDOM_SEED. */
static void
dump(const world *wd)
{
    for (uint32_t p = 0; p < NP; p++) {
        int k = weir__cluster_task_find(wd->cl, "j", 0, p);
        const weir__task *ct = &wd->cl->tasks[k];
        print_message("task 0_%u: broker epoch %llu, target %d, running %d, "
                      "reported %s\n",
            p, (unsigned long long)wd->txn_epoch[p], ct->target, ct->running,
            weir__cluster_task_state_name(ct));
    }
    for (int i = 0; i < NW; i++) {
        const sim *w = &wd->ws[i];
        print_message(
            "%s: %s epoch %llu current %d gen %llu/%llu lease %lld:", w->id,
            w->st == UP     ? "up"
            : w->st == DOWN ? "down"
                            : "paused",
            (unsigned long long)w->epoch, current(wd, w),
            (unsigned long long)w->generation,
            (unsigned long long)wd->cl->generation,
            (long long)w->lease_until_ms - (long long)wd->now);
        for (size_t j = 0; j < w->n; j++)
            print_message(" 0_%u=%s%s/e%llu", w->tasks[j].part,
                weir_task_state_name(w->tasks[j].st),
                w->tasks[j].starting ? "+" : "",
                (unsigned long long)w->tasks[j].prod_epoch);
        print_message("\n");
    }
}

/* Faults stop: paused workers resume, the coordinator is up, and one
 * worker at least runs. Returns how long until every task ran. */
static uint64_t
settle(world *wd)
{
    for (int i = 0; i < NW; i++)
        if (wd->ws[i].st == PAUSED)
            wd->ws[i].st = UP;
    if (!wd->cl)
        coordinator_start(wd);
    bool any = false;
    for (int i = 0; i < NW; i++)
        any = any || wd->ws[i].st == UP;
    if (!any)
        wd->ws[0].st = UP;
    uint64_t t0 = wd->now;
    while (!all_running(wd)) {
        if (wd->now - t0 > BOUND_MS) {
            dump(wd);
            fail_msg("seed %llu: tasks not all running %llu ms after the "
                     "last fault",
                (unsigned long long)cur_seed,
                (unsigned long long)(wd->now - t0));
        }
        advance(wd, HB / 4, false);
        check_exclusive(wd);
    }
    return wd->now - t0;
}

static uint64_t
run_seed(uint64_t seed, const char *path)
{
    rng = seed * 2654435761u + 1;
    cur_seed = seed;
    world wd;
    memset(&wd, 0, sizeof(wd));
    wd.path = path;
    wd.now = 1000;
    wd.cl = cl_new();
    submit(&wd);
    for (int i = 0; i < NW; i++) {
        snprintf(wd.ws[i].id, sizeof(wd.ws[i].id), "w%d", i);
        wd.ws[i].st = UP;
    }
    for (int s = 0; s < STEPS; s++) {
        fault(&wd);
        check_exclusive(&wd);
    }
    uint64_t took = settle(&wd);
    weir_cluster_free(wd.cl);
    return took;
}

static void
test_liveness(void **state)
{
    (void)state;
    char dir[] = "/tmp/weir-test-liveness-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/state", dir);
    uint64_t seeds = sim_seeds(200), worst = 0, sum = 0, n = 0;
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        if (sim_seed_skipped(seed))
            continue;
        uint64_t took = run_seed(seed, path);
        worst = took > worst ? took : worst;
        sum += took;
        n++;
    }
    print_message("%llu schedules of %d steps: every task running %llu ms "
                  "(mean) / %llu ms (worst) after the last fault; bound "
                  "%d ms\n",
        (unsigned long long)n, STEPS, (unsigned long long)(n ? sum / n : 0),
        (unsigned long long)worst, BOUND_MS);
    unlink(path);
    rmdir(dir);
}

int
main(void)
{
    weir_log_set_level(WEIR_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_liveness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
