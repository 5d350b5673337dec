/* Unit tests of what the coordinator's dashboard shows: per-task rates,
 * commit age and latency quantiles, standby states, the events ring, the
 * job graph route (coordinator/dashboard.h), and the same numbers in
 * /metrics. No sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "coordinator/cluster.h"
#include "coordinator/dashboard.h"

static weir_cluster *
cluster_new(void)
{
    weir_cluster_opts o = {.heartbeat_interval_ms = 500,
        .session_timeout_ms = 3000,
        .join_window_ms = 0,
        .bootstrap = "b:9092"};
    weir_cluster *cl = weir_cluster_new(&o);
    assert_non_null(cl);
    return cl;
}

static uint64_t
hello(weir_cluster *cl, const char *id, uint64_t now)
{
    Weir__Cluster__Hello h = WEIR__CLUSTER__HELLO__INIT;
    h.worker_id = (char *)id;
    h.capacity = 4;
    Weir__Cluster__Welcome w = WEIR__CLUSTER__WELCOME__INIT;
    assert_int_equal(weir_cluster_hello(cl, &h, now, &w), WEIR_OK);
    return w.member_epoch;
}

/* One subtopology of one partition with a standby: task j/0/0. */
static void
submit(weir_cluster *cl, uint64_t now)
{
    Weir__Topology__Topology topo = WEIR__TOPOLOGY__TOPOLOGY__INIT;
    Weir__Topology__Subtopology sub = WEIR__TOPOLOGY__SUBTOPOLOGY__INIT;
    Weir__Topology__Subtopology *psub[1] = {&sub};
    Weir__Topology__Operator op = WEIR__TOPOLOGY__OPERATOR__INIT;
    Weir__Topology__Operator *pop[1] = {&op};
    op.name = "from-1";
    op.topic = "in";
    sub.operators = pop;
    sub.n_operators = 1;
    Weir__Topology__Topic topic = WEIR__TOPOLOGY__TOPIC__INIT;
    Weir__Topology__Topic *ptopic[1] = {&topic};
    topic.name = "in";
    topic.partitions = 1;
    topo.topics = ptopic;
    topo.n_topics = 1;
    topo.job = "j";
    topo.standby_replicas = 1;
    topo.n_subtopologies = 1;
    topo.subtopologies = psub;
    uint32_t counts[1] = {1};
    assert_int_equal(
        weir_cluster_submit(cl, &topo, counts, 1, 1000, now), WEIR_OK);
}

typedef struct report {
    bool standby;
    uint64_t records_in, records_out, commits, dead_lettered;
    Weir__Cluster__TaskState state;
    uint64_t buckets[WEIR_CLUSTER_LAT_BUCKETS];
} report;

/* A heartbeat of worker id reporting task j/0/0; returns the generation
 * of the reply (the worker applies it at once). */
static uint64_t
heartbeat(weir_cluster *cl, const char *id, uint64_t epoch, uint64_t gen,
    const report *rep, uint64_t now)
{
    Weir__Cluster__Heartbeat hb = WEIR__CLUSTER__HEARTBEAT__INIT;
    hb.worker_id = (char *)id;
    hb.member_epoch = epoch;
    hb.known_generation = gen;
    Weir__Cluster__TaskId tid = WEIR__CLUSTER__TASK_ID__INIT;
    tid.job = "j";
    Weir__Cluster__TaskStatus st = WEIR__CLUSTER__TASK_STATUS__INIT;
    Weir__Cluster__TaskStatus *pst[1] = {&st};
    uint64_t buckets[WEIR_CLUSTER_LAT_BUCKETS];
    if (rep) {
        st.task = &tid;
        st.standby = rep->standby;
        st.state = rep->state;
        st.records_in = rep->records_in;
        st.records_out = rep->records_out;
        st.commits = rep->commits;
        st.dead_lettered = rep->dead_lettered;
        memcpy(buckets, rep->buckets, sizeof(buckets));
        st.commit_latency_buckets = buckets;
        st.n_commit_latency_buckets = WEIR_CLUSTER_LAT_BUCKETS;
        hb.tasks = pst;
        hb.n_tasks = 1;
    }
    Weir__Cluster__HeartbeatReply r = WEIR__CLUSTER__HEARTBEAT_REPLY__INIT;
    assert_int_equal(weir_cluster_heartbeat(cl, &hb, now, 0, &r), WEIR_OK);
    uint64_t g = r.generation;
    weir_cluster_reply_fini(&r);
    return g;
}

static void
test_lat_quantile(void **state)
{
    (void)state;
    uint64_t b[WEIR_CLUSTER_LAT_BUCKETS] = {0};
    assert_true(weir_cluster_lat_quantile(b, 0.5) < 0);
    /* bounds 1,2,5,10,...: 10 commits in (5,10] */
    b[3] = 10;
    double p50 = weir_cluster_lat_quantile(b, 0.5);
    assert_true(p50 > 5 && p50 <= 10);
    assert_true(weir_cluster_lat_quantile(b, 0.99) <= 10);
    /* one slow commit past the last bound: p99 says 1000 */
    b[3] = 0;
    b[0] = 99;
    b[WEIR_CLUSTER_LAT_BUCKETS - 1] = 1;
    assert_true(weir_cluster_lat_quantile(b, 0.5) <= 1);
    assert_true(weir_cluster_lat_quantile(b, 1.0) == 1000);
}

/* Two workers: the owner's counters give rates, the standby's report
 * gives its state; both show in /api/tasks and /metrics. */
static void
test_task_rows(void **state)
{
    (void)state;
    weir_cluster *cl = cluster_new();
    uint64_t now = 1000;
    uint64_t ea = hello(cl, "a", now), eb = hello(cl, "b", now);
    submit(cl, now);
    weir_cluster_tick(cl, now);
    uint64_t ga = heartbeat(cl, "a", ea, 0, NULL, now);
    uint64_t gb = heartbeat(cl, "b", eb, 0, NULL, now);
    /* whoever owns it: find out from the JSON */
    char *js = weir_cluster_json_tasks(cl, now);
    bool a_owns = strstr(js, "\"owner\":\"a\"") != NULL ||
                  strstr(js, "\"target\":\"a\"") != NULL;
    free(js);
    const char *owner = a_owns ? "a" : "b", *standby = a_owns ? "b" : "a";
    uint64_t eo = a_owns ? ea : eb, es = a_owns ? eb : ea;
    uint64_t go = a_owns ? ga : gb, gs = a_owns ? gb : ga;
    report r = {.state = WEIR__CLUSTER__TASK_STATE__TASK_RUNNING};
    r.buckets[2] = 10; /* (2,5] ms */
    for (int i = 0; i < 4; i++) {
        now += 500;
        r.records_in = 1000 * (uint64_t)i;
        r.records_out = 500 * (uint64_t)i;
        r.commits = 5 * (uint64_t)i;
        r.dead_lettered = i >= 2 ? 3 * (uint64_t)(i - 1) : 0;
        go = heartbeat(cl, owner, eo, go, &r, now);
        report s = {
            .standby = true, .state = WEIR__CLUSTER__TASK_STATE__TASK_STANDBY};
        gs = heartbeat(cl, standby, es, gs, &s, now);
    }
    js = weir_cluster_json_tasks(cl, now + 200);
    /* 1000 records per 500 ms */
    assert_non_null(strstr(js, "\"in_rate\":2000.000"));
    assert_non_null(strstr(js, "\"out_rate\":1000.000"));
    assert_non_null(strstr(js, "\"last_commit_age_ms\":200.000"));
    assert_non_null(strstr(js, "\"commit_latency_p50_ms\":3.500"));
    assert_non_null(strstr(js, "\"restore_progress\":1.000"));
    assert_non_null(strstr(js, "\"standby_status\":[{\"worker\":"));
    assert_non_null(strstr(js, "\"state\":\"STANDBY\""));
    assert_non_null(strstr(js, "\"standbys\":[")); /* the old field stays */
    free(js);
    char *m = weir_cluster_metrics(cl, now);
    assert_non_null(strstr(m, "weir_task_records_in_rate{job=\"j\","
                              "subtopology=\"0\",partition=\"0\"} 2000"));
    assert_non_null(strstr(m, "weir_task_commit_latency_p99_ms{"));
    assert_non_null(strstr(m, "weir_standby_tasks{state=\"STANDBY\"} 1"));
    assert_non_null(strstr(m, ",state=\"STANDBY\"} 1"));
    assert_non_null(strstr(m, "weir_worker_capacity{worker=\"a\"} 4"));
    assert_non_null(strstr(m, "weir_worker_heartbeat_age_seconds{"));
    assert_non_null(strstr(m, "weir_cluster_events_total{kind=\"dlq\"} 1"));
    free(m);

    /* events: joins, the submit, a rebalance and the dead-lettered
     * records of two heartbeats in one entry (3 + 3) */
    char *ev = weir_cluster_json_events(cl);
    assert_non_null(strstr(ev, "\"kind\":\"joined\""));
    assert_non_null(strstr(ev, "\"kind\":\"submit\""));
    assert_non_null(strstr(ev, "\"kind\":\"rebalance\""));
    assert_non_null(strstr(ev, "\"kind\":\"dlq\",\"count\":6"));
    /* newest first */
    assert_true(strstr(ev, "\"kind\":\"dlq\"") < strstr(ev, "\"submit\""));
    free(ev);

    /* the owner is silent past the session: a failover event */
    for (int i = 0; i < 8; i++) {
        now += 500;
        gs = heartbeat(cl, standby, es, gs, NULL, now);
        weir_cluster_tick(cl, now);
    }
    ev = weir_cluster_json_events(cl);
    assert_non_null(strstr(ev, "\"kind\":\"failover\""));
    assert_non_null(strstr(ev, "session expired worker="));
    free(ev);
    weir_cluster_free(cl);
}

/* The ring keeps the newest WEIR events only. */
static void
test_events_bounded(void **state)
{
    (void)state;
    weir_cluster *cl = cluster_new();
    uint64_t now = 1000;
    for (int i = 0; i < 300; i++) {
        char id[16];
        snprintf(id, sizeof(id), "w%d", i);
        hello(cl, id, now);
    }
    char *ev = weir_cluster_json_events(cl);
    assert_non_null(strstr(ev, "worker=w299 "));
    assert_null(strstr(ev, "worker=w99 "));
    size_t n = 0;
    for (const char *p = ev; (p = strstr(p, "\"seq\":")); p++)
        n++;
    assert_int_equal(n, 200);
    free(ev);
    weir_cluster_free(cl);
}

static void
test_graph_route(void **state)
{
    (void)state;
    char job[64];
    assert_int_equal(
        weir_dashboard_graph_path("/api/jobs/j-1.x/graph", job, sizeof(job)),
        1);
    assert_string_equal(job, "j-1.x");
    assert_int_equal(
        weir_dashboard_graph_path("/api/jobs", job, sizeof(job)), 0);
    assert_int_equal(
        weir_dashboard_graph_path("/api/jobs/j", job, sizeof(job)), 0);
    assert_int_equal(
        weir_dashboard_graph_path("/api/workers/graph", job, sizeof(job)), 0);
    const char *bad[] = {"/api/jobs//graph", "/api/jobs/a/b/graph",
        "/api/jobs/%2e%2e/graph", "/api/jobs/a b/graph",
        "/api/jobs/\xff/graph"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(
            weir_dashboard_graph_path(bad[i], job, sizeof(job)), -1);
    char big[400];
    snprintf(big, sizeof(big), "/api/jobs/%0300d/graph", 1);
    assert_int_equal(weir_dashboard_graph_path(big, job, sizeof(job)), -1);

    weir_cluster *cl = cluster_new();
    submit(cl, 1000);
    uint16_t status = 0;
    char *g = weir_dashboard_graph_json(cl, "j", &status);
    assert_int_equal(status, 200);
    assert_non_null(strstr(g, "\"id\":\"op_0_0\""));
    assert_non_null(strstr(g, "{\"from\":\"topic_0\",\"to\":\"op_0_0\""));
    free(g);
    g = weir_dashboard_graph_json(cl, "nope", &status);
    assert_int_equal(status, 404);
    free(g);
    weir_cluster_free(cl);

    /* the page and its scripts are embedded */
    const weir_dashboard_asset *a = weir_dashboard_asset_find("/");
    assert_non_null(a);
    assert_non_null(strstr(a->type, "text/html"));
    assert_true(a->size > 100);
    assert_non_null(weir_dashboard_asset_find("/dashboard/app.js"));
    assert_non_null(weir_dashboard_asset_find("/dashboard/graph.js"));
    assert_non_null(weir_dashboard_asset_find("/dashboard/style.css"));
    assert_null(weir_dashboard_asset_find("/dashboard/nope.js"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lat_quantile),
        cmocka_unit_test(test_task_rows),
        cmocka_unit_test(test_events_bounded),
        cmocka_unit_test(test_graph_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
