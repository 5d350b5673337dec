/*
 * weir-worker: runs tasks with exactly-once results.
 *
 *   weir-worker --check JOB.yaml
 *   weir-worker --standalone JOB.yaml --bootstrap HOST:PORT --data-dir DIR
 *   weir-worker --coordinator URL --id NAME [--capacity N] [--token SECRET]
 *               [--http HOST:PORT]
 */
#include <ctype.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/conf.h"
#include "common/disk_space.h"
#include "common/err.h"
#include "common/job/job.h"
#include "common/expr/udf.h"
#include "common/log.h"
#include "common/signals.h"
#include "worker/control.h"
#include "worker/http.h"
#include "worker/query_server.h"
#include "worker/runtime.h"
#include "worker/standalone.h"

typedef struct worker_conf {
    char *check;
    char *standalone;
    char *bootstrap;
    char *data_dir;
    int64_t threads;
    char *memory_limit;
    int64_t progress_ms;
    int64_t queue_kb;
    char *coordinator;
    char *id;
    int64_t capacity;
    char *token;
    char *address;
    char *tls_ca;
    char *plugins;
    char *query_listen;
    char *http;
    int64_t min_free_disk_mb;
} worker_conf;

/* Exit status of a worker that left the cluster for lack of disk space (a
 * restart waits for room: EX_TEMPFAIL). */
#define EXIT_LOW_DISK 75
#define DISK_CHECK_MS 1000

#define C worker_conf
#define DEFAULT_BOOTSTRAP "127.0.0.1:9092"
static const weir_conf_entry entries[] = {
    WEIR_CONF_STR(C, "check", check, NULL,
        "validate JOB.yaml, print its compiled topology and exit"),
    WEIR_CONF_STR(C, "standalone", standalone, NULL,
        "run every task of JOB.yaml in this process (no coordinator)"),
    WEIR_CONF_STR(C, "bootstrap", bootstrap, NULL,
        "Kafka bootstrap servers (standalone: default " DEFAULT_BOOTSTRAP
        "; cluster mode: overrides the coordinator's)"),
    WEIR_CONF_STR(C, "data-dir", data_dir, "./weir-worker-data",
        "local state directory (RocksDB)"),
    WEIR_CONF_INT(C, "threads", threads, "0", 0, 1024,
        "stream threads; 0 = the number of cores"),
    WEIR_CONF_STR(C, "memory-limit", memory_limit, "256MB",
        "RocksDB block cache + write buffers (bytes, or with KB/MB/GB)"),
    WEIR_CONF_INT(C, "progress-interval-ms", progress_ms, "5000", 0, 3600000,
        "log a progress line this often (0 = never)"),
    WEIR_CONF_INT(C, "min-free-disk-mb", min_free_disk_mb, "64", 0, 1048576,
        "free space the data dir's file system keeps: below it the worker "
        "does not start (it waits), and a running one leaves the cluster "
        "(exit 75) so that its tasks move (0 = no check)"),
    WEIR_CONF_INT(C, "consumer-queue-kb", queue_kb, "512", 64, 1048576,
        "per-partition prefetch of each task's consumer: more catches up "
        "faster from a backlog, at the cost of memory"),
    WEIR_CONF_STR(C, "plugins", plugins, NULL,
        "comma-separated plugin shared objects (user-defined functions) to "
        "load before compiling jobs"),
    WEIR_CONF_STR(C, "coordinator", coordinator, NULL,
        "coordinator URL (tcp://HOST:PORT): cluster mode"),
    WEIR_CONF_STR(C, "id", id, NULL,
        "worker id, unique in the cluster (default: hostname-pid)"),
    WEIR_CONF_INT(C, "capacity", capacity, "1", 1, 1000000,
        "relative task capacity of this worker"),
    WEIR_CONF_STR(C, "token", token, NULL, "coordinator shared secret"),
    WEIR_CONF_STR(
        C, "address", address, NULL, "advertised address (informational)"),
    WEIR_CONF_STR(C, "tls-ca", tls_ca, NULL, "CA file for tls+tcp:// URLs"),
    WEIR_CONF_STR(C, "query-listen", query_listen, "tcp://127.0.0.1:0",
        "cluster mode: where to answer pull queries routed by the "
        "coordinator (port 0: any free one; none: do not answer)"),
    WEIR_CONF_STR(C, "http", http, NULL,
        "cluster mode: serve /metrics (Prometheus text) and /healthz over "
        "HTTP at HOST:PORT (port 0: any free one, named in the ready log "
        "line as http=); empty: off"),
};
#undef C

static const weir_conf_spec spec = {
    "weir-worker",
    "runs a job's tasks with exactly-once results",
    "[--check JOB.yaml | --standalone JOB.yaml | --coordinator URL] "
    "[OPTIONS]",
    entries,
    sizeof(entries) / sizeof(entries[0]),
};

static int
parse_size(const char *s, int64_t *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return WEIR_EINVAL;
    while (*end && isspace((unsigned char)*end))
        end++;
    double mul = 1;
    switch (toupper((unsigned char)*end)) {
    case 'K':
        mul = 1024.0;
        break;
    case 'M':
        mul = 1024.0 * 1024;
        break;
    case 'G':
        mul = 1024.0 * 1024 * 1024;
        break;
    case '\0':
    case 'B':
        break;
    default:
        return WEIR_EINVAL;
    }
    *out = (int64_t)(v * mul);
    return *out > 0 ? WEIR_OK : WEIR_EINVAL;
}

static int
compile(const char *path, Weir__Topology__Topology **topo)
{
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    int rv = weir_job_compile_file(path, topo, &errs);
    if (rv != WEIR_OK)
        weir_job_errors_print(&errs, stderr);
    weir_job_errors_fini(&errs);
    return rv;
}

static int
run_cluster(const worker_conf *cf, weir_runtime *rt, bool bootstrap_set)
{
    char idbuf[128];
    const char *id = cf->id;
    if (!id) {
        char host[64] = "worker";
        FILE *f = fopen("/proc/sys/kernel/hostname", "r");
        if (f) {
            if (fgets(host, sizeof(host), f))
                host[strcspn(host, "\n")] = '\0';
            fclose(f);
        }
        snprintf(idbuf, sizeof(idbuf), "%s-%ld", host, (long)getpid());
        id = idbuf;
    }
    char query_url[256] = "";
    weir_query_server *qs = NULL;
    if (strcmp(cf->query_listen, "none") != 0) {
        char err[256];
        if (weir_query_server_start(&qs, rt, cf->query_listen, query_url,
                sizeof(query_url), err, sizeof(err)) != WEIR_OK) {
            weir_log_error("worker", "pull queries: %s", err);
            return 1;
        }
    }
    weir_control_opts o = {.coordinator = cf->coordinator,
        .worker_id = id,
        .address = cf->address,
        .query_address = query_url,
        .capacity = (uint32_t)cf->capacity,
        .token = cf->token,
        .bootstrap = bootstrap_set ? cf->bootstrap : NULL,
        .tls_ca = cf->tls_ca};
    if (weir_runtime_start(rt) != WEIR_OK)
        return 1;
    weir_control *ctl = NULL;
    if (weir_control_start(&ctl, rt, &o) != WEIR_OK) {
        weir_runtime_stop(rt);
        return 1;
    }
    char http_addr[128] = "";
    weir_worker_http *http = NULL;
    if (cf->http && cf->http[0]) {
        char err[256];
        if (weir_worker_http_start(&http, cf->http, rt, ctl, http_addr,
                sizeof(http_addr), err, sizeof(err)) != WEIR_OK) {
            weir_log_error(
                "worker", "cannot serve --http %s: %s", cf->http, err);
            weir_runtime_stop(rt);
            weir_control_free(ctl);
            weir_query_server_stop(qs);
            return 1;
        }
    }
    weir_log_info("worker",
        "ready cluster id=%s coordinator=%s queries=%s http=%s", id,
        cf->coordinator, query_url[0] ? query_url : "none",
        http_addr[0] ? http_addr : "none");
    int code = 0;
    uint64_t checked_ms = 0;
    while (!weir_signal_wait(200)) {
        uint64_t now = weir_clock_mono_ms();
        if (now - checked_ms < DISK_CHECK_MS)
            continue;
        checked_ms = now;
        if (!weir_disk_has_room(cf->data_dir, cf->min_free_disk_mb << 20)) {
            weir_log_error("worker",
                "data dir low on space: leaving the cluster dir=%s "
                "free_mb=%lld min_free_disk_mb=%lld",
                cf->data_dir,
                (long long)(weir_disk_free_bytes(cf->data_dir) >> 20),
                (long long)cf->min_free_disk_mb);
            code = EXIT_LOW_DISK;
            break;
        }
    }
    /* Stop the tasks (committing their last cycle) before Leave lets the
     * coordinator hand them to new owners that would fence them. */
    weir_worker_http_stop(http);
    weir_runtime_stop(rt);
    weir_control_stop(ctl);
    weir_control_free(ctl);
    weir_query_server_stop(qs);
    return code;
}

int
main(int argc, char **argv)
{
    worker_conf cf;
    memset(&cf, 0, sizeof(cf));
    int rv = weir_conf_load(&spec, &cf, argc, argv, NULL, NULL);
    if (rv != WEIR_OK) {
        weir_conf_free(&spec, &cf, NULL);
        return rv == WEIR_ESTOPPED ? 0 : 2;
    }
    char err[512];
    if (weir_udf_load_list(cf.plugins, err, sizeof(err)) != WEIR_OK) {
        fprintf(stderr, "weir-worker: %s\n", err);
        weir_conf_free(&spec, &cf, NULL);
        return 2;
    }
    int code = 0;
    if (cf.check) {
        Weir__Topology__Topology *topo = NULL;
        code = compile(cf.check, &topo) == WEIR_OK ? 0 : 1;
        if (topo)
            weir_job_print(topo, stdout);
        weir_job_free(topo);
        weir_conf_free(&spec, &cf, NULL);
        return code;
    }
    if (cf.standalone && cf.http && cf.http[0]) {
        fprintf(stderr, "weir-worker: --http is for cluster mode "
                        "(--coordinator)\n");
        weir_conf_free(&spec, &cf, NULL);
        return 2;
    }
    if (!cf.standalone == !cf.coordinator) {
        fprintf(stderr, "weir-worker: give one of --check, --standalone or "
                        "--coordinator (see --help)\n");
        weir_conf_free(&spec, &cf, NULL);
        return 2;
    }
    int64_t limit = 0;
    if (parse_size(cf.memory_limit, &limit) != WEIR_OK) {
        fprintf(stderr, "weir-worker: --memory-limit: not a size: %s\n",
            cf.memory_limit);
        weir_conf_free(&spec, &cf, NULL);
        return 2;
    }
    /* A bad job file: every error printed, nothing started. */
    Weir__Topology__Topology *topo = NULL;
    if (cf.standalone && compile(cf.standalone, &topo) != WEIR_OK) {
        weir_conf_free(&spec, &cf, NULL);
        return 2;
    }
    (void)weir_signal_init();
#ifndef WEIR_JEMALLOC
    /* Dozens of client threads: a few malloc arenas keep RSS near what is
     * in use instead of one arena per thread. */
    (void)mallopt(M_ARENA_MAX, 2);
#endif
    bool bootstrap_set = cf.bootstrap != NULL;
    if (!bootstrap_set && !(cf.bootstrap = strdup(DEFAULT_BOOTSTRAP))) {
        weir_job_free(topo);
        weir_conf_free(&spec, &cf, NULL);
        return 1;
    }
    /* RocksDB aborts on a full disk: start only with the reserve free. */
    if (!weir_disk_wait_for_room(
            cf.data_dir, cf.min_free_disk_mb << 20, "worker")) {
        weir_job_free(topo);
        weir_conf_free(&spec, &cf, NULL);
        return 0;
    }
    weir_runtime_opts ro = {.bootstrap = cf.bootstrap,
        .data_dir = cf.data_dir,
        .worker_id = cf.id ? cf.id : "standalone",
        .threads = (int)cf.threads,
        .memory_limit_bytes = limit,
        .progress_interval_ms = (int)cf.progress_ms,
        .consumer_queue_kb = (int)cf.queue_kb};
    weir_runtime *rt = NULL;
    if ((rv = weir_runtime_new(&rt, &ro)) != WEIR_OK) {
        weir_log_error("worker", "cannot start err=\"%s\" data_dir=%s",
            weir_strerror(rv), cf.data_dir);
        weir_job_free(topo);
        weir_conf_free(&spec, &cf, NULL);
        return 1;
    }
    code = cf.standalone
               ? weir_standalone_run(rt, cf.bootstrap, topo, cf.progress_ms)
               : run_cluster(&cf, rt, bootstrap_set);
    weir_runtime_free(rt);
    weir_conf_free(&spec, &cf, NULL);
    return code;
}
