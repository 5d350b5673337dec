/*
 * Heartbeat throughput: starts weir-coordinator, then W simulated workers
 * (one thread and one REQ socket each) that say Hello and heartbeat back
 * to back for a few seconds, each heartbeat carrying T task statuses.
 * Prints heartbeats/s and the reply latency percentiles; exits 1 below
 * 10,000 heartbeats/s.
 *
 *   bench_heartbeats PATH/TO/weir-coordinator [workers] [seconds]
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
#include "common/proc.h"
#include "common/wire.h"

#define TARGET_PER_S 10000
#define TASKS_PER_HB 8
#define MAX_SAMPLES 200000

static char url[64];
static atomic_bool go, done;
static atomic_uint_fast64_t total, failures;
static uint32_t samples_us[MAX_SAMPLES];
static atomic_uint_fast64_t n_samples;

static void *
sim_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    nng_socket s;
    if (nng_req0_open(&s) != 0 || nng_dial(s, url, NULL, 0) != 0) {
        atomic_fetch_add(&failures, 1);
        return NULL;
    }
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
    char wid[32], err[256];
    snprintf(wid, sizeof(wid), "sim-%d", id);
    Weir__Cluster__Hello h = WEIR__CLUSTER__HELLO__INIT;
    h.worker_id = wid;
    h.capacity = 1;
    weir_wire_msg reply;
    if (weir_wire_call(s, WEIR__CLUSTER__MSG_TYPE__MSG_HELLO, "", &h.base,
            &reply, err, sizeof(err)) != WEIR_OK) {
        fprintf(stderr, "hello: %s\n", err);
        atomic_fetch_add(&failures, 1);
        nng_close(s);
        return NULL;
    }
    uint64_t epoch = ((Weir__Cluster__Welcome *)reply.body)->member_epoch;
    weir_wire_msg_fini(&reply);
    Weir__Cluster__TaskStatus st[TASKS_PER_HB];
    Weir__Cluster__TaskStatus *pst[TASKS_PER_HB];
    Weir__Cluster__TaskId tid[TASKS_PER_HB];
    uint64_t buckets[11] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    for (int i = 0; i < TASKS_PER_HB; i++) {
        weir__cluster__task_status__init(&st[i]);
        weir__cluster__task_id__init(&tid[i]);
        tid[i].job = "bench";
        tid[i].partition = (uint32_t)i;
        st[i].task = &tid[i];
        st[i].state = WEIR__CLUSTER__TASK_STATE__TASK_RUNNING;
        st[i].n_commit_latency_buckets = 11;
        st[i].commit_latency_buckets = buckets;
        pst[i] = &st[i];
    }
    Weir__Cluster__Heartbeat hb = WEIR__CLUSTER__HEARTBEAT__INIT;
    hb.worker_id = wid;
    hb.member_epoch = epoch;
    hb.n_tasks = TASKS_PER_HB;
    hb.tasks = pst;
    while (!atomic_load(&go))
        weir_clock_sleep_ms(1);
    while (!atomic_load(&done)) {
        hb.sent_at_ms = (uint64_t)weir_clock_wall_ms();
        uint64_t t0 = weir_clock_mono_us();
        int rv = weir_wire_call(s, WEIR__CLUSTER__MSG_TYPE__MSG_HEARTBEAT, "",
            &hb.base, &reply, err, sizeof(err));
        uint64_t us = weir_clock_mono_us() - t0;
        if (rv != WEIR_OK) {
            atomic_fetch_add(&failures, 1);
            continue;
        }
        Weir__Cluster__HeartbeatReply *r =
            (Weir__Cluster__HeartbeatReply *)reply.body;
        hb.known_generation = r->generation;
        weir_wire_msg_fini(&reply);
        atomic_fetch_add(&total, 1);
        uint64_t k = atomic_fetch_add(&n_samples, 1);
        if (k < MAX_SAMPLES)
            samples_us[k] = (uint32_t)us;
    }
    nng_close(s);
    return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s WEIR_COORDINATOR [workers] [seconds]\n",
            argv[0]);
        return 2;
    }
    int nworkers = argc > 2 ? atoi(argv[2]) : 64;
    int seconds = argc > 3 ? atoi(argv[3]) : 5;
    if (nworkers < 1 || nworkers > 4096 || seconds < 1)
        return 2;
    int port = weir_port_pick(), http = weir_port_pick();
    char dir[] = "/tmp/weir-bench-hb-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char listen[64], httpaddr[64], logp[128];
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
    snprintf(listen, sizeof(listen), "%s", url);
    snprintf(httpaddr, sizeof(httpaddr), "127.0.0.1:%d", http);
    snprintf(logp, sizeof(logp), "%s/coordinator.log", dir);
    /* no job is submitted, so Kafka is never contacted */
    char *const args[] = {argv[1], "--listen", listen, "--http", httpaddr,
        "--data-dir", dir, "--bootstrap", "127.0.0.1:1", "--session-timeout-ms",
        "60000", "--log-level", "warn", NULL};
    weir_proc *proc;
    if (weir_proc_start(&proc, args, NULL, logp) != WEIR_OK ||
        weir_proc_wait_port("127.0.0.1", port, 10000) != WEIR_OK) {
        fprintf(stderr, "coordinator did not start (log %s)\n", logp);
        return 1;
    }
    pthread_t *th = calloc((size_t)nworkers, sizeof(*th));
    for (int i = 0; i < nworkers; i++)
        pthread_create(&th[i], NULL, sim_worker, (void *)(intptr_t)i);
    weir_clock_sleep_ms(500); /* hellos, join rebalance */
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
    double rate = (double)n * 1000.0 / (double)ms;
    size_t ns = atomic_load(&n_samples);
    if (ns > MAX_SAMPLES)
        ns = MAX_SAMPLES;
    qsort(samples_us, ns, sizeof(samples_us[0]), cmp_u32);
    printf("heartbeats: %d simulated workers, %d task statuses each, %d s\n",
        nworkers, TASKS_PER_HB, seconds);
    printf("  %.0f heartbeats/s (target >= %d), failures %llu\n", rate,
        TARGET_PER_S, (unsigned long long)atomic_load(&failures));
    if (ns > 0)
        printf("  reply latency p50 %.2f ms, p99 %.2f ms\n",
            samples_us[ns / 2] / 1000.0, samples_us[ns * 99 / 100] / 1000.0);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rate >= TARGET_PER_S ? 0 : 1;
}
