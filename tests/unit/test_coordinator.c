/* Unit tests of the coordinator's cluster state machine (no sockets). */
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
#include "coordinator/cluster.h"

#define HB 500
#define SESSION 3000

static weir_cluster *
cluster_new(void)
{
    weir_cluster_opts o = {.heartbeat_interval_ms = HB,
        .session_timeout_ms = SESSION,
        .join_window_ms = 200,
        .bootstrap = "127.0.0.1:9092"};
    weir_cluster *cl = weir_cluster_new(&o);
    assert_non_null(cl);
    return cl;
}

static uint64_t
hello_kafka(weir_cluster *cl, const char *id, uint32_t capacity, uint64_t now,
    Weir__Cluster__KafkaState kafka)
{
    Weir__Cluster__Hello h = WEIR__CLUSTER__HELLO__INIT;
    h.worker_id = (char *)id;
    h.capacity = capacity;
    h.kafka = kafka;
    Weir__Cluster__Welcome w = WEIR__CLUSTER__WELCOME__INIT;
    assert_int_equal(weir_cluster_hello(cl, &h, now, &w), WEIR_OK);
    assert_int_equal(w.heartbeat_interval_ms, HB);
    assert_int_equal(w.session_timeout_ms, SESSION);
    assert_string_equal(w.bootstrap, "127.0.0.1:9092");
    return w.member_epoch;
}

static uint64_t
hello(weir_cluster *cl, const char *id, uint32_t capacity, uint64_t now)
{
    return hello_kafka(
        cl, id, capacity, now, WEIR__CLUSTER__KAFKA_STATE__KAFKA_UNKNOWN);
}

static void
submit(weir_cluster *cl, const char *job, uint32_t parts, uint64_t now)
{
    Weir__Topology__Topology topo = WEIR__TOPOLOGY__TOPOLOGY__INIT;
    Weir__Topology__Subtopology sub[2] = {
        WEIR__TOPOLOGY__SUBTOPOLOGY__INIT, WEIR__TOPOLOGY__SUBTOPOLOGY__INIT};
    Weir__Topology__Subtopology *psub[2] = {&sub[0], &sub[1]};
    sub[1].id = 1;
    topo.job = (char *)job;
    topo.standby_replicas = 1;
    topo.n_subtopologies = 2;
    topo.subtopologies = psub;
    uint32_t counts[2] = {parts, parts};
    assert_int_equal(
        weir_cluster_submit(cl, &topo, counts, 2, 1000, now), WEIR_OK);
    assert_int_equal(
        weir_cluster_submit(cl, &topo, counts, 2, 1000, now), WEIR_EEXIST);
}

/* A worker's view: what it runs after its last heartbeat. */
typedef struct worker {
    const char *id;
    uint64_t epoch;
    uint64_t generation;
    size_t n_active, n_standby;
    char active[64][32];
    uint64_t fences[64]; /* > 0: report that task FENCED with this count */
    bool drain;
    /* reported in heartbeats; a worker that holds tasks while UNKNOWN
     * keeps them, and one that joins UNKNOWN waits for REACHABLE */
    Weir__Cluster__KafkaState kafka;
} worker;

static int
heartbeat(weir_cluster *cl, worker *w, uint64_t now)
{
    Weir__Cluster__Heartbeat hb = WEIR__CLUSTER__HEARTBEAT__INIT;
    hb.worker_id = (char *)w->id;
    hb.member_epoch = w->epoch;
    hb.known_generation = w->generation;
    hb.kafka = w->kafka;
    /* report every active task as running */
    Weir__Cluster__TaskStatus st[64];
    Weir__Cluster__TaskStatus *pst[64];
    Weir__Cluster__TaskId ids[64];
    char jobs[64][32];
    for (size_t i = 0; i < w->n_active; i++) {
        unsigned sub, part;
        weir__cluster__task_status__init(&st[i]);
        weir__cluster__task_id__init(&ids[i]);
        assert_int_equal(
            sscanf(w->active[i], "%31[^/]/%u/%u", jobs[i], &sub, &part), 3);
        ids[i].job = jobs[i];
        ids[i].subtopology = sub;
        ids[i].partition = part;
        st[i].task = &ids[i];
        st[i].state = w->fences[i] ? WEIR__CLUSTER__TASK_STATE__TASK_FENCED
                                   : WEIR__CLUSTER__TASK_STATE__TASK_RUNNING;
        st[i].fences = w->fences[i];
        st[i].commits = now / 100;
        pst[i] = &st[i];
    }
    hb.n_tasks = w->n_active;
    hb.tasks = pst;
    Weir__Cluster__HeartbeatReply r = WEIR__CLUSTER__HEARTBEAT_REPLY__INIT;
    int rv = weir_cluster_heartbeat(cl, &hb, now, 0, &r);
    if (rv != WEIR_OK)
        return rv;
    w->drain = r.drain;
    if (r.assignment_changed) {
        assert_non_null(r.assignment);
        w->generation = r.assignment->generation;
        w->n_active = r.assignment->n_active;
        w->n_standby = r.assignment->n_standby;
        for (size_t i = 0; i < r.assignment->n_active; i++) {
            const Weir__Cluster__TaskId *id = r.assignment->active[i];
            snprintf(w->active[i], sizeof(w->active[i]), "%s/%u/%u", id->job,
                id->subtopology, id->partition);
        }
        if (r.assignment->n_active + r.assignment->n_standby > 0)
            assert_true(r.n_topologies >= 1);
    }
    weir_cluster_reply_fini(&r);
    return WEIR_OK;
}

static bool
runs(const worker *w, const char *task)
{
    for (size_t i = 0; i < w->n_active; i++)
        if (strcmp(w->active[i], task) == 0)
            return true;
    return false;
}

/* Steps time by one heartbeat interval for every worker in ws. */
static uint64_t
round_all(weir_cluster *cl, worker *ws, size_t n, uint64_t now)
{
    now += HB;
    for (size_t i = 0; i < n; i++)
        if (ws[i].epoch)
            assert_int_equal(heartbeat(cl, &ws[i], now), WEIR_OK);
    weir_cluster_tick(cl, now);
    return now;
}

/* No task is ever active on two workers at once. */
static void
assert_exclusive(const worker *ws, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < ws[i].n_active; a++)
            for (size_t j = i + 1; j < n; j++)
                assert_false(runs(&ws[j], ws[i].active[a]));
}

static size_t
total_active(const worker *ws, size_t n)
{
    size_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += ws[i].n_active;
    return t;
}

static void
test_join_submit_assign(void **state)
{
    weir_cluster *cl = cluster_new();
    worker ws[2] = {{.id = "w1"}, {.id = "w2"}};
    uint64_t now = 1000;
    ws[0].epoch = hello(cl, "w1", 1, now);
    ws[1].epoch = hello(cl, "w2", 1, now);
    assert_true(ws[1].epoch > ws[0].epoch);
    submit(cl, "wc", 4, now);
    for (int i = 0; i < 4; i++)
        now = round_all(cl, ws, 2, now);
    assert_int_equal(ws[0].n_active, 4);
    assert_int_equal(ws[1].n_active, 4);
    assert_int_equal(ws[0].n_standby, 4);
    assert_exclusive(ws, 2);
    Weir__Cluster__StatusReply st;
    weir_cluster_status(cl, 5, &st);
    assert_int_equal(st.tasks, 8);
    assert_int_equal(st.unassigned_tasks, 0);
    assert_int_equal(st.workers, 2);
    weir_cluster_free(cl);
}

/* Scale out 1 -> 3: moves are revoked first, never run twice. */
static void
test_two_phase_scale_out(void **state)
{
    weir_cluster *cl = cluster_new();
    worker ws[3] = {
        {.id = "a", .kafka = WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE},
        {.id = "b", .kafka = WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE},
        {.id = "c", .kafka = WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE}};
    uint64_t now = 1000;
    ws[0].epoch = hello(cl, "a", 1, now);
    submit(cl, "wc", 6, now);
    for (int i = 0; i < 3; i++)
        now = round_all(cl, ws, 3, now);
    assert_int_equal(ws[0].n_active, 12);
    ws[1].epoch = hello(cl, "b", 1, now);
    ws[2].epoch = hello(cl, "c", 1, now);
    for (int i = 0; i < 8; i++) {
        now = round_all(cl, ws, 3, now);
        assert_exclusive(ws, 3);
    }
    assert_int_equal(ws[0].n_active, 4);
    assert_int_equal(ws[1].n_active, 4);
    assert_int_equal(ws[2].n_active, 4);
    weir_cluster_free(cl);
}

/* A revoke waits for the old owner: while it has not applied the new
 * generation, the target does not get the task. */
static void
test_revoke_waits_for_owner(void **state)
{
    weir_cluster *cl = cluster_new();
    worker ws[2] = {
        {.id = "a", .kafka = WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE},
        {.id = "b", .kafka = WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE}};
    uint64_t now = 1000;
    ws[0].epoch = hello(cl, "a", 1, now);
    submit(cl, "j", 2, now);
    for (int i = 0; i < 3; i++)
        now = round_all(cl, ws, 2, now);
    ws[1].epoch = hello(cl, "b", 1, now);
    /* only b heartbeats: a never confirms */
    for (int i = 0; i < 4; i++) {
        now += HB;
        assert_int_equal(heartbeat(cl, &ws[1], now), WEIR_OK);
        weir_cluster_tick(cl, now);
        if (i < 2)
            assert_int_equal(ws[1].n_active, 0);
    }
    assert_int_equal(ws[1].n_active, 0);
    assert_true(ws[1].n_standby > 0); /* warming up */
    /* a's session expires: then b gets the tasks */
    for (int i = 0; i < SESSION / HB; i++)
        now = round_all(cl, &ws[1], 1, now);
    now = round_all(cl, &ws[1], 1, now);
    assert_int_equal(ws[1].n_active, 4);
    /* a, back from a pause, is stale and must say hello again */
    assert_int_equal(heartbeat(cl, &ws[0], now), WEIR_ESTATE);
    weir_cluster_free(cl);
}

static void
test_death_failover(void **state)
{
    weir_cluster *cl = cluster_new();
    worker ws[3] = {{.id = "a"}, {.id = "b"}, {.id = "c"}};
    uint64_t now = 1000;
    for (int i = 0; i < 3; i++)
        ws[i].epoch = hello(cl, ws[i].id, 1, now);
    submit(cl, "j", 3, now);
    for (int i = 0; i < 3; i++)
        now = round_all(cl, ws, 3, now);
    assert_int_equal(total_active(ws, 3), 6);
    /* c goes silent */
    ws[2].epoch = 0;
    for (int i = 0; i < 2 + SESSION / HB; i++)
        now = round_all(cl, ws, 3, now);
    assert_int_equal(ws[0].n_active + ws[1].n_active, 6);
    assert_int_equal(ws[0].n_active, 3);
    assert_exclusive(ws, 2);
    weir_cluster_free(cl);
}

static void
test_drain_and_leave(void **state)
{
    weir_cluster *cl = cluster_new();
    worker ws[2] = {{.id = "a"}, {.id = "b"}};
    uint64_t now = 1000;
    for (int i = 0; i < 2; i++)
        ws[i].epoch = hello(cl, ws[i].id, 1, now);
    submit(cl, "j", 2, now);
    for (int i = 0; i < 3; i++)
        now = round_all(cl, ws, 2, now);
    assert_int_equal(weir_cluster_drain(cl, "nobody", now), WEIR_ENOTFOUND);
    assert_int_equal(weir_cluster_drain(cl, "a", now), WEIR_OK);
    for (int i = 0; i < 4; i++) {
        now = round_all(cl, ws, 2, now);
        assert_exclusive(ws, 2);
    }
    assert_true(ws[0].drain);
    assert_int_equal(ws[0].n_active, 0);
    assert_int_equal(ws[1].n_active, 4);
    Weir__Cluster__WorkerListReply wl;
    weir_cluster_worker_list(cl, now, &wl);
    assert_int_equal(wl.n_workers, 2);
    assert_true(wl.workers[0]->draining);
    assert_int_equal(wl.workers[0]->active_tasks, 0);
    weir_cluster_view_free(&wl.base);
    /* leave with a wrong epoch is stale, with the right one accepted */
    Weir__Cluster__Leave lv = WEIR__CLUSTER__LEAVE__INIT;
    lv.worker_id = "a";
    lv.member_epoch = ws[0].epoch + 100;
    assert_int_equal(weir_cluster_leave(cl, &lv, now), WEIR_ESTATE);
    lv.member_epoch = ws[0].epoch;
    assert_int_equal(weir_cluster_leave(cl, &lv, now), WEIR_OK);
    assert_int_equal(heartbeat(cl, &ws[0], now), WEIR_ESTATE);
    weir_cluster_free(cl);
}

/* A drained worker that restarts (its probe answered before its Hello, so
 * its Kafka state does not change) joins again and gets its share back. */
static void
test_restart_after_drain(void **state)
{
    weir_cluster *cl = cluster_new();
    worker ws[2] = {
        {.id = "a", .kafka = WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE},
        {.id = "b", .kafka = WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE}};
    uint64_t now = 1000;
    for (int i = 0; i < 2; i++)
        ws[i].epoch = hello_kafka(cl, ws[i].id, 1, now, ws[i].kafka);
    submit(cl, "j", 2, now);
    for (int i = 0; i < 5; i++)
        now = round_all(cl, ws, 2, now);
    assert_int_equal(ws[0].n_active, 2);
    assert_int_equal(weir_cluster_drain(cl, "a", now), WEIR_OK);
    for (int i = 0; i < 4; i++)
        now = round_all(cl, ws, 2, now);
    assert_int_equal(ws[0].n_active, 0);
    assert_int_equal(ws[1].n_active, 4);
    /* a exits and starts again */
    ws[0] = (worker){
        .id = "a", .kafka = WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE};
    ws[0].epoch = hello_kafka(cl, "a", 1, now, ws[0].kafka);
    for (int i = 0; i < 8; i++) {
        now = round_all(cl, ws, 2, now);
        assert_exclusive(ws, 2);
    }
    assert_false(ws[0].drain);
    assert_int_equal(ws[0].n_active, 2);
    assert_int_equal(ws[1].n_active, 2);
    weir_cluster_free(cl);
}

/* The member state machine: a second drain is a no-op, a Hello from a
 * draining member undrains it (through DEAD), a dead member cannot be
 * drained. */
static void
test_member_transitions(void **state)
{
    weir_cluster *cl = cluster_new();
    worker ws[1] = {{.id = "a"}};
    uint64_t now = 1000;
    ws[0].epoch = hello(cl, "a", 1, now);
    assert_int_equal(weir_cluster_drain(cl, "a", now), WEIR_OK);
    assert_int_equal(weir_cluster_drain(cl, "a", now), WEIR_OK);
    Weir__Cluster__WorkerListReply wl;
    weir_cluster_worker_list(cl, now, &wl);
    assert_true(wl.workers[0]->draining);
    weir_cluster_view_free(&wl.base);
    uint64_t epoch = hello(cl, "a", 1, now);
    assert_true(epoch > ws[0].epoch);
    ws[0].epoch = epoch;
    weir_cluster_worker_list(cl, now, &wl);
    assert_false(wl.workers[0]->draining);
    weir_cluster_view_free(&wl.base);
    Weir__Cluster__Leave lv = WEIR__CLUSTER__LEAVE__INIT;
    lv.worker_id = "a";
    lv.member_epoch = ws[0].epoch;
    assert_int_equal(weir_cluster_leave(cl, &lv, now), WEIR_OK);
    assert_int_equal(weir_cluster_drain(cl, "a", now), WEIR_ENOTFOUND);
    weir_cluster_free(cl);
}

static void
test_cancel(void **state)
{
    weir_cluster *cl = cluster_new();
    worker ws[1] = {{.id = "a"}};
    uint64_t now = 1000;
    ws[0].epoch = hello(cl, "a", 1, now);
    submit(cl, "j", 2, now);
    submit(cl, "k", 1, now);
    for (int i = 0; i < 3; i++)
        now = round_all(cl, ws, 1, now);
    assert_int_equal(ws[0].n_active, 6);
    assert_int_equal(weir_cluster_cancel(cl, "zz", now), WEIR_ENOTFOUND);
    assert_int_equal(weir_cluster_cancel(cl, "j", now), WEIR_OK);
    assert_int_equal(weir_cluster_cancel(cl, "j", now), WEIR_ESTATE);
    now = round_all(cl, ws, 1, now);
    assert_int_equal(ws[0].n_active, 2);
    assert_true(runs(&ws[0], "k/0/0"));
    Weir__Cluster__JobListReply jl;
    weir_cluster_job_list(cl, &jl);
    assert_int_equal(jl.n_jobs, 2);
    assert_int_equal(
        jl.jobs[0]->state, WEIR__CLUSTER__JOB_STATE__JOB_CANCELLED);
    assert_int_equal(jl.jobs[1]->state, WEIR__CLUSTER__JOB_STATE__JOB_RUNNING);
    weir_cluster_view_free(&jl.base);
    Weir__Cluster__JobDescribeReply d;
    assert_int_equal(weir_cluster_job_describe(cl, "k", now, &d), WEIR_OK);
    assert_int_equal(d.n_tasks, 2);
    assert_string_equal(d.tasks[0]->owner, "a");
    weir_cluster_view_free(&d.base);
    char *m = weir_cluster_metrics(cl, now);
    assert_non_null(strstr(m, "weir_tasks{state=\"RUNNING\"} 2"));
    free(m);
    char *js = weir_cluster_json_tasks(cl, now);
    assert_non_null(strstr(js, "\"owner\":\"a\""));
    free(js);
    weir_cluster_free(cl);
}

/* A path for a saved state in a new temporary folder (dir). */
static void
state_path(char *dir, char *path, size_t size)
{
    assert_non_null(mkdtemp(dir));
    snprintf(path, size, "%s/state.pb", dir);
}

/* Save, load into a new coordinator: same generation and owners; the
 * workers keep their epochs and nothing moves. */
static void
test_persist_restart(void **state)
{
    char dir[] = "/tmp/weir-test-coord-XXXXXX", path[256];
    state_path(dir, path, sizeof(path));
    weir_cluster *cl = cluster_new();
    worker ws[2] = {{.id = "a"}, {.id = "b"}};
    uint64_t now = 1000;
    for (int i = 0; i < 2; i++)
        ws[i].epoch = hello(cl, ws[i].id, 1, now);
    submit(cl, "j", 3, now);
    for (int i = 0; i < 3; i++)
        now = round_all(cl, ws, 2, now);
    uint64_t gen = weir_cluster_generation(cl);
    assert_true(weir_cluster_dirty(cl));
    assert_int_equal(weir_cluster_save(cl, path), WEIR_OK);
    weir_cluster_free(cl);

    cl = cluster_new();
    assert_int_equal(weir_cluster_load(cl, path, now), WEIR_OK);
    assert_int_equal(weir_cluster_generation(cl), gen);
    worker before[2];
    memcpy(before, ws, sizeof(ws));
    for (int i = 0; i < 2 + SESSION / HB; i++)
        now = round_all(cl, ws, 2, now);
    assert_int_equal(weir_cluster_generation(cl), gen);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ws[i].n_active, before[i].n_active);
        for (size_t t = 0; t < ws[i].n_active; t++)
            assert_true(runs(&before[i], ws[i].active[t]));
    }
    /* new epochs never collide with the stored ones */
    assert_true(hello(cl, "c", 1, now) > ws[1].epoch);
    weir_cluster_free(cl);

    /* garbage is refused, a missing file is reported as such */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("\x0a\xff\xff garbage", f);
    fclose(f);
    cl = cluster_new();
    assert_int_equal(weir_cluster_load(cl, path, now), WEIR_ECORRUPT);
    weir_cluster_free(cl);
    unlink(path);
    cl = cluster_new();
    assert_int_equal(weir_cluster_load(cl, path, now), WEIR_ENOTFOUND);
    weir_cluster_free(cl);
    rmdir(dir);
}

/* A failover goes to the worker that reported the task's state. */
static void
test_failover_prefers_state(void **state)
{
    weir_cluster *cl = cluster_new();
    worker ws[3] = {{.id = "a"}, {.id = "b"}, {.id = "c"}};
    uint64_t now = 1000;
    ws[0].epoch = hello(cl, "a", 1, now);
    submit(cl, "j", 1, now); /* 2 tasks */
    for (int i = 0; i < 3; i++)
        now = round_all(cl, ws, 1, now);
    assert_int_equal(ws[0].n_active, 2);
    /* a goes silent; just before its session ends b joins, and c joins
     * with local state for j/1/0 from an earlier life */
    uint64_t silent = now;
    now = silent + SESSION - 100;
    ws[1].epoch = hello(cl, "b", 1, now);
    Weir__Cluster__Hello h = WEIR__CLUSTER__HELLO__INIT;
    Weir__Cluster__TaskCheckpoint cp = WEIR__CLUSTER__TASK_CHECKPOINT__INIT;
    Weir__Cluster__TaskCheckpoint *pcp = &cp;
    Weir__Cluster__TaskId id = WEIR__CLUSTER__TASK_ID__INIT;
    Weir__Cluster__StoreOffset so = WEIR__CLUSTER__STORE_OFFSET__INIT;
    Weir__Cluster__StoreOffset *pso = &so;
    id.job = "j";
    id.subtopology = 1;
    so.store = "counts";
    so.offset = 42;
    cp.task = &id;
    cp.n_stores = 1;
    cp.stores = &pso;
    h.worker_id = "c";
    h.capacity = 1;
    h.n_local_state = 1;
    h.local_state = &pcp;
    Weir__Cluster__Welcome wel = WEIR__CLUSTER__WELCOME__INIT;
    assert_int_equal(weir_cluster_hello(cl, &h, now, &wel), WEIR_OK);
    ws[2].epoch = wel.member_epoch;
    /* one rebalance: a dead, b and c joined */
    now = silent + SESSION + 200;
    weir_cluster_tick(cl, now);
    ws[0].epoch = 0;
    for (int i = 0; i < 3; i++)
        now = round_all(cl, ws, 3, now);
    assert_true(runs(&ws[2], "j/1/0"));
    assert_true(runs(&ws[1], "j/0/0"));
    weir_cluster_free(cl);
}

/* Joins within the join window make one rebalance; a later one another. */
static void
test_join_batching(void **state)
{
    weir_cluster *cl = cluster_new();
    uint64_t now = 1000;
    submit(cl, "j", 4, now);
    weir_cluster_tick(cl, now);
    uint64_t before = weir_cluster_stats_get(cl)->rebalances;
    hello(cl, "a", 1, now);
    weir_cluster_tick(cl, now + 50);
    hello(cl, "b", 1, now + 100);
    weir_cluster_tick(cl, now + 150);
    hello(cl, "c", 1, now + 180);
    assert_int_equal(weir_cluster_stats_get(cl)->rebalances, before);
    weir_cluster_tick(cl, now + 200); /* the window of the first join */
    assert_int_equal(weir_cluster_stats_get(cl)->rebalances, before + 1);
    weir_cluster_tick(cl, now + 300);
    assert_int_equal(weir_cluster_stats_get(cl)->rebalances, before + 1);
    hello(cl, "d", 1, now + 1000);
    weir_cluster_tick(cl, now + 1200);
    assert_int_equal(weir_cluster_stats_get(cl)->rebalances, before + 2);
    weir_cluster_free(cl);
}

/* A task fenced on the worker that owns it: the coordinator answers the
 * fence once with a new generation naming the task again (the worker's cue
 * to restart it), and marks it stuck while it does not run. */
static void
test_fenced_owner_confirmed(void **state)
{
    weir_cluster *cl = cluster_new();
    worker w = {.id = "w1"};
    uint64_t now = 1000;
    w.epoch = hello(cl, "w1", 1, now);
    submit(cl, "wc", 2, now);
    for (int i = 0; i < 4; i++)
        now = round_all(cl, &w, 1, now);
    assert_int_equal(w.n_active, 4);
    uint64_t gen = weir_cluster_generation(cl);

    w.fences[0] = 1; /* fenced */
    now = round_all(cl, &w, 1, now);
    assert_int_equal(weir_cluster_generation(cl), gen + 1);
    assert_int_equal(w.generation, gen + 1);
    assert_true(runs(&w, w.active[0])); /* named again: restart it */
    now = round_all(cl, &w, 1, now);    /* the same fence: answered already */
    assert_int_equal(weir_cluster_generation(cl), gen + 1);

    /* Stuck once it has not run for --stuck-task-ms (15 s). */
    Weir__Cluster__JobListReply jl;
    for (int i = 0; i < 15000 / HB; i++)
        now = round_all(cl, &w, 1, now);
    weir_cluster_job_list(cl, &jl);
    assert_int_equal(jl.jobs[0]->stuck_tasks, 1);
    assert_true(jl.jobs[0]->degraded);
    weir_cluster_view_free(&jl.base);

    w.fences[0] = 0; /* running again */
    now = round_all(cl, &w, 1, now);
    assert_int_equal(weir_cluster_generation(cl), gen + 1);
    weir_cluster_job_list(cl, &jl);
    assert_false(jl.jobs[0]->degraded);
    weir_cluster_view_free(&jl.base);

    /* A new fence, even with a count seen before (a new task instance
     * counts from 0), is answered again. */
    w.fences[0] = 1;
    now = round_all(cl, &w, 1, now);
    assert_int_equal(weir_cluster_generation(cl), gen + 2);
    weir_cluster_free(cl);
}

static void
test_bad_input(void **state)
{
    weir_cluster *cl = cluster_new();
    Weir__Cluster__Hello h = WEIR__CLUSTER__HELLO__INIT;
    Weir__Cluster__Welcome w = WEIR__CLUSTER__WELCOME__INIT;
    assert_int_equal(weir_cluster_hello(cl, &h, 1, &w), WEIR_EINVAL);
    h.worker_id = "";
    assert_int_equal(weir_cluster_hello(cl, &h, 1, &w), WEIR_EINVAL);
    worker x = {.id = "ghost", .epoch = 7};
    assert_int_equal(heartbeat(cl, &x, 1), WEIR_ESTATE);
    Weir__Cluster__Heartbeat hb = WEIR__CLUSTER__HEARTBEAT__INIT;
    Weir__Cluster__HeartbeatReply r = WEIR__CLUSTER__HEARTBEAT_REPLY__INIT;
    assert_int_equal(weir_cluster_heartbeat(cl, &hb, 1, 0, &r), WEIR_ESTATE);
    Weir__Topology__Topology topo = WEIR__TOPOLOGY__TOPOLOGY__INIT;
    uint32_t c = 1;
    assert_int_equal(weir_cluster_submit(cl, &topo, &c, 1, 0, 1), WEIR_EINVAL);
    Weir__Cluster__JobDescribeReply d;
    assert_int_equal(
        weir_cluster_job_describe(cl, "none", 1, &d), WEIR_ENOTFOUND);
    weir_cluster_free(cl);
}

/* A second process with a live member's id is refused, also by a
 * coordinator restarted from the saved state; the member keeps its place;
 * once its session has expired a new process may take the id. */
static void
test_duplicate_id_refused(void **state)
{
    (void)state;
    char dir[] = "/tmp/weir-test-coord-XXXXXX", path[256];
    state_path(dir, path, sizeof(path));
    weir_cluster *cl = cluster_new();
    Weir__Cluster__Hello h = WEIR__CLUSTER__HELLO__INIT;
    Weir__Cluster__Welcome w = WEIR__CLUSTER__WELCOME__INIT;
    h.worker_id = "w1";
    h.instance = "first";
    assert_int_equal(weir_cluster_hello(cl, &h, 1000, &w), WEIR_OK);
    uint64_t epoch = w.member_epoch;
    assert_int_equal(weir_cluster_save(cl, path), WEIR_OK);
    weir_cluster_free(cl);
    cl = cluster_new();
    assert_int_equal(weir_cluster_load(cl, path, 1100), WEIR_OK);
    unlink(path);
    rmdir(dir);
    /* the live process goes on with its epoch; another one is refused */
    h.instance = "second";
    assert_int_equal(weir_cluster_hello(cl, &h, 1100, &w), WEIR_EEXIST);
    h.instance = "first";
    assert_int_equal(weir_cluster_hello(cl, &h, 1100, &w), WEIR_OK);
    assert_true(w.member_epoch > epoch);
    epoch = w.member_epoch; /* the same process again: accepted */
    h.instance = "second";
    assert_int_equal(weir_cluster_hello(cl, &h, 1200, &w), WEIR_EEXIST);
    assert_int_equal(
        weir_cluster_hello(cl, &h, 1100 + SESSION - 1, &w), WEIR_EEXIST);
    weir_cluster_tick(cl, 1100 + SESSION + 1); /* the first one is dead */
    assert_int_equal(
        weir_cluster_hello(cl, &h, 1100 + SESSION + 2, &w), WEIR_OK);
    assert_true(w.member_epoch > epoch);
    weir_cluster_free(cl);
}

/* A worker that reports Kafka unreachable gets no tasks, unless no worker
 * reaches Kafka. */
static void
test_kafka_unreachable_worker(void **state)
{
    (void)state;
    weir_cluster *cl = cluster_new();
    worker ws[2] = {{.id = "w1"}, {.id = "w2"}};
    uint64_t now = 1000;
    ws[0].epoch = hello(cl, "w1", 1, now);
    Weir__Cluster__Hello h = WEIR__CLUSTER__HELLO__INIT;
    Weir__Cluster__Welcome w = WEIR__CLUSTER__WELCOME__INIT;
    h.worker_id = "w2";
    h.kafka = WEIR__CLUSTER__KAFKA_STATE__KAFKA_UNREACHABLE;
    h.kafka_error = "Local: Broker transport failure";
    assert_int_equal(weir_cluster_hello(cl, &h, now, &w), WEIR_OK);
    ws[1].epoch = w.member_epoch;
    submit(cl, "wc", 4, now);
    for (int i = 0; i < 4; i++)
        now = round_all(cl, ws, 2, now);
    assert_int_equal(ws[0].n_active, 8);
    assert_int_equal(ws[1].n_active, 0);
    assert_exclusive(ws, 2);
    weir_cluster_free(cl);
}

/* A worker whose Kafka probe has not answered yet gets no tasks while
 * another worker is known to reach Kafka; once its probe answers it takes
 * its share at once (no join window), and a later restart that reports
 * UNKNOWN again does not take its tasks away. */
static void
test_kafka_unknown_worker(void **state)
{
    (void)state;
    weir_cluster *cl = cluster_new();
    worker ws[2] = {
        {.id = "w1", .kafka = WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE},
        {.id = "w2"}};
    uint64_t now = 1000;
    ws[0].epoch = hello(cl, "w1", 1, now);
    ws[1].epoch = hello(cl, "w2", 1, now);
    submit(cl, "wc", 4, now);
    for (int i = 0; i < 6; i++)
        now = round_all(cl, ws, 2, now);
    assert_int_equal(ws[0].n_active, 8);
    assert_int_equal(ws[1].n_active, 0);
    ws[1].kafka = WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE;
    for (int i = 0; i < 4; i++)
        now = round_all(cl, ws, 2, now);
    assert_int_equal(ws[0].n_active, 4);
    assert_int_equal(ws[1].n_active, 4);
    assert_exclusive(ws, 2);
    /* w2 restarts: its hello reports UNKNOWN; it keeps its tasks */
    uint64_t gen = ws[1].generation;
    ws[1].epoch = hello(cl, "w2", 1, now);
    ws[1].kafka = WEIR__CLUSTER__KAFKA_STATE__KAFKA_UNKNOWN;
    for (int i = 0; i < 2; i++)
        now = round_all(cl, ws, 2, now);
    assert_int_equal(ws[1].n_active, 4);
    assert_int_equal(ws[1].generation, gen);
    weir_cluster_free(cl);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_submit_assign),
        cmocka_unit_test(test_two_phase_scale_out),
        cmocka_unit_test(test_revoke_waits_for_owner),
        cmocka_unit_test(test_death_failover),
        cmocka_unit_test(test_drain_and_leave),
        cmocka_unit_test(test_restart_after_drain),
        cmocka_unit_test(test_member_transitions),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_persist_restart),
        cmocka_unit_test(test_failover_prefers_state),
        cmocka_unit_test(test_join_batching),
        cmocka_unit_test(test_fenced_owner_confirmed),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_duplicate_id_refused),
        cmocka_unit_test(test_kafka_unreachable_worker),
        cmocka_unit_test(test_kafka_unknown_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
