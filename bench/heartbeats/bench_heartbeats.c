/*
 * Heartbeat throughput: starts weir-coordinator (and, when given, a
 * weir-broker with the word count job submitted: 2 x 64 tasks), then W
 * simulated workers (one thread and one REQ socket each) that say Hello
 * and heartbeat back to back for a few seconds. Each heartbeat reports
 * every task the coordinator assigned to that worker (so statuses,
 * assignments and two-phase confirmations are exercised), or 8 unknown
 * tasks without a job. Prints heartbeats/s and reply latency percentiles;
 * exits 1 below 10,000 heartbeats/s.
 *
 *   bench_heartbeats COORDINATOR_BIN [BROKER_BIN [workers [seconds]]]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "common/clock.h"
#include "common/err.h"
#include "tests/lib/proc.h"
#include "common/wire.h"

#define TARGET_PER_S 10000
#define MAX_TASKS 256
#define MAX_SAMPLES 200000

static const char job_yaml[] =
    "job: bench\n"
    "commit_interval_ms: 100\n"
    "sources:\n"
    "  lines: { topic: bench-lines, key: string, value: string,"
    " partitions: 64 }\n"
    "pipeline:\n"
    "  - from: lines\n"
    "  - flat_map_values: \"split(lower(value), '[^a-z0-9]+')\"\n"
    "  - group_by: value\n"
    "  - count: { store: counts }\n"
    "  - to: { topic: bench-counts, value: string }\n";

static char url[64];
static atomic_bool go, done;
static atomic_uint_fast64_t total, failures, assignments;
static uint32_t samples_us[MAX_SAMPLES];
static atomic_uint_fast64_t n_samples;

/* The tasks one simulated worker runs, as the coordinator told it. */
typedef struct sim {
    Weir__Cluster__TaskId ids[MAX_TASKS];
    char jobs[MAX_TASKS][16];
    Weir__Cluster__TaskStatus st[MAX_TASKS];
    Weir__Cluster__TaskStatus *pst[MAX_TASKS];
    size_t n;
} sim;

static void
sim_set(sim *s, const Weir__Cluster__Assignment *a)
{
    s->n = 0;
    for (size_t i = 0; i < a->n_active + a->n_standby && s->n < MAX_TASKS;
         i++) {
        bool standby = i >= a->n_active;
        const Weir__Cluster__TaskId *t =
            standby ? a->standby[i - a->n_active] : a->active[i];
        size_t k = s->n++;
        snprintf(s->jobs[k], sizeof(s->jobs[k]), "%s", t->job);
        weir__cluster__task_id__init(&s->ids[k]);
        s->ids[k].job = s->jobs[k];
        s->ids[k].subtopology = t->subtopology;
        s->ids[k].partition = t->partition;
        weir__cluster__task_status__init(&s->st[k]);
        s->st[k].task = &s->ids[k];
        s->st[k].standby = standby;
        s->st[k].state = standby ? WEIR__CLUSTER__TASK_STATE__TASK_STANDBY
                                 : WEIR__CLUSTER__TASK_STATE__TASK_RUNNING;
        s->pst[k] = &s->st[k];
    }
}

static void *
sim_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    sim *s = calloc(1, sizeof(*s));
    nng_socket sock;
    if (!s || nng_req0_open(&sock) != 0 || nng_dial(sock, url, NULL, 0) != 0) {
        atomic_fetch_add(&failures, 1);
        free(s);
        return NULL;
    }
    nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 5000);
    char wid[32], err[256];
    snprintf(wid, sizeof(wid), "sim-%d", id);
    Weir__Cluster__Hello h = WEIR__CLUSTER__HELLO__INIT;
    h.worker_id = wid;
    h.capacity = 1;
    weir_wire_msg reply;
    if (weir_wire_call(sock, WEIR__CLUSTER__MSG_TYPE__MSG_HELLO, "", &h.base,
            &reply, err, sizeof(err)) != WEIR_OK) {
        fprintf(stderr, "hello: %s\n", err);
        atomic_fetch_add(&failures, 1);
        nng_close(sock);
        free(s);
        return NULL;
    }
    uint64_t epoch = ((Weir__Cluster__Welcome *)reply.body)->member_epoch;
    weir_wire_msg_fini(&reply);
    /* without a job: 8 statuses of tasks the coordinator does not know */
    Weir__Cluster__Assignment fake = WEIR__CLUSTER__ASSIGNMENT__INIT;
    Weir__Cluster__TaskId fids[8], *pf[8];
    for (int i = 0; i < 8; i++) {
        weir__cluster__task_id__init(&fids[i]);
        fids[i].job = "none";
        fids[i].partition = (uint32_t)i;
        pf[i] = &fids[i];
    }
    fake.n_active = 8;
    fake.active = pf;
    sim_set(s, &fake);
    Weir__Cluster__Heartbeat hb = WEIR__CLUSTER__HEARTBEAT__INIT;
    hb.worker_id = wid;
    hb.member_epoch = epoch;
    while (!atomic_load(&go))
        weir_clock_sleep_ms(1);
    uint64_t commits = 0;
    while (!atomic_load(&done)) {
        for (size_t i = 0; i < s->n; i++)
            s->st[i].commits = ++commits;
        hb.n_tasks = s->n;
        hb.tasks = s->pst;
        hb.sent_at_ms = (uint64_t)weir_clock_wall_ms();
        uint64_t t0 = weir_clock_mono_us();
        int rv = weir_wire_call(sock, WEIR__CLUSTER__MSG_TYPE__MSG_HEARTBEAT,
            "", &hb.base, &reply, err, sizeof(err));
        uint64_t us = weir_clock_mono_us() - t0;
        if (rv != WEIR_OK) {
            atomic_fetch_add(&failures, 1);
            continue;
        }
        Weir__Cluster__HeartbeatReply *r =
            (Weir__Cluster__HeartbeatReply *)reply.body;
        if (r->assignment_changed && r->assignment) {
            sim_set(s, r->assignment);
            hb.known_generation = r->assignment->generation;
            atomic_fetch_add(&assignments, 1);
        }
        weir_wire_msg_fini(&reply);
        atomic_fetch_add(&total, 1);
        uint64_t k = atomic_fetch_add(&n_samples, 1);
        if (k < MAX_SAMPLES)
            samples_us[k] = (uint32_t)us;
    }
    nng_close(sock);
    free(s);
    return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int
submit_job(void)
{
    nng_socket sock;
    if (nng_req0_open(&sock) != 0 || nng_dial(sock, url, NULL, 0) != 0)
        return WEIR_EIO;
    nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 30000);
    Weir__Cluster__JobSubmit js = WEIR__CLUSTER__JOB_SUBMIT__INIT;
    js.yaml = (char *)job_yaml;
    weir_wire_msg reply;
    char err[512];
    int rv = weir_wire_call(sock, WEIR__CLUSTER__MSG_TYPE__MSG_JOB_SUBMIT, "",
        &js.base, &reply, err, sizeof(err));
    if (rv == WEIR_OK) {
        printf("  job submitted: %u tasks\n",
            ((Weir__Cluster__JobSubmitReply *)reply.body)->tasks);
        weir_wire_msg_fini(&reply);
    } else {
        fprintf(stderr, "submit: %s\n", err);
    }
    nng_close(sock);
    return rv;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr,
            "usage: %s COORDINATOR_BIN [BROKER_BIN [workers [seconds]]]\n",
            argv[0]);
        return 2;
    }
    const char *broker_bin = argc > 2 && argv[2][0] ? argv[2] : NULL;
    int nworkers = argc > 3 ? atoi(argv[3]) : 64;
    int seconds = argc > 4 ? atoi(argv[4]) : 5;
    if (nworkers < 1 || nworkers > 4096 || seconds < 1)
        return 2;
    char dir[] = "/tmp/weir-bench-hb-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char bootstrap[64] = "127.0.0.1:1", listen[64], httpaddr[64], logp[160];
    char bdata[128], blog[160], cdata[128];
    weir_proc *broker = NULL, *proc = NULL;
    if (broker_bin) {
        int bport = weir_port_pick();
        snprintf(bootstrap, sizeof(bootstrap), "127.0.0.1:%d", bport);
        snprintf(bdata, sizeof(bdata), "%s/broker", dir);
        snprintf(blog, sizeof(blog), "%s/broker.log", dir);
        char *const bargs[] = {(char *)broker_bin, "--listen", bootstrap,
            "--data-dir", bdata, NULL};
        if (weir_proc_start(&broker, bargs, NULL, blog) != WEIR_OK ||
            weir_proc_wait_line(broker, "ready", 10000, NULL, 0) != WEIR_OK) {
            fprintf(stderr, "broker did not start (log %s)\n", blog);
            return 1;
        }
    }
    int port = weir_port_pick(), http = weir_port_pick();
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
    snprintf(listen, sizeof(listen), "%s", url);
    snprintf(httpaddr, sizeof(httpaddr), "127.0.0.1:%d", http);
    snprintf(cdata, sizeof(cdata), "%s/coordinator", dir);
    snprintf(logp, sizeof(logp), "%s/coordinator.log", dir);
    char *const args[] = {argv[1], "--listen", listen, "--http", httpaddr,
        "--data-dir", cdata, "--bootstrap", bootstrap, "--default-partitions",
        "64", "--session-timeout-ms", "60000", "--log-level", "warn", NULL};
    if (weir_proc_start(&proc, args, NULL, logp) != WEIR_OK ||
        weir_proc_wait_port("127.0.0.1", port, 10000) != WEIR_OK) {
        fprintf(stderr, "coordinator did not start (log %s)\n", logp);
        return 1;
    }
    printf("heartbeats: %d simulated workers, %d s, %s\n", nworkers, seconds,
        broker_bin ? "word count job (statuses of assigned tasks)"
                   : "no job (8 unknown task statuses each)");
    if (broker_bin && submit_job() != WEIR_OK)
        return 1;
    pthread_t *th = calloc((size_t)nworkers, sizeof(*th));
    for (int i = 0; i < nworkers; i++)
        pthread_create(&th[i], NULL, sim_worker, (void *)(intptr_t)i);
    weir_clock_sleep_ms(1000); /* hellos, the join rebalance */
    uint64_t t0 = weir_clock_mono_ms();
    atomic_store(&go, true);
    weir_clock_sleep_ms((uint64_t)seconds * 1000);
    uint64_t n = atomic_load(&total);
    uint64_t ms = weir_clock_mono_ms() - t0;
    atomic_store(&done, true);
    for (int i = 0; i < nworkers; i++)
        pthread_join(th[i], NULL);
    free(th);
    int status;
    weir_proc_stop(proc, 5000, &status);
    weir_proc_free(proc);
    if (broker) {
        weir_proc_stop(broker, 5000, &status);
        weir_proc_free(broker);
    }
    double rate = (double)n * 1000.0 / (double)ms;
    size_t ns = atomic_load(&n_samples);
    if (ns > MAX_SAMPLES)
        ns = MAX_SAMPLES;
    qsort(samples_us, ns, sizeof(samples_us[0]), cmp_u32);
    printf("  %.0f heartbeats/s (target >= %d), %llu assignments received, "
           "failures %llu\n",
        rate, TARGET_PER_S, (unsigned long long)atomic_load(&assignments),
        (unsigned long long)atomic_load(&failures));
    if (ns > 0)
        printf("  reply latency p50 %.2f ms, p99 %.2f ms\n",
            samples_us[ns / 2] / 1000.0, samples_us[ns * 99 / 100] / 1000.0);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rate >= TARGET_PER_S ? 0 : 1;
}
