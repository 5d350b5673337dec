/*
 * weir-broker benchmark: the same librdkafka client code against a
 * weir-broker process, librdkafka's in-process mock cluster and a one-node
 * Apache Kafka (scripts/kafka; skipped with --no-kafka or when it cannot
 * start). No per-message fsync on either broker (Kafka's default).
 *
 *   produce throughput (acks=all, idempotent; 100 B and 1 KiB values)
 *   consume throughput (read_committed, from the beginning)
 *   commit_transaction latency, 10 records over 3 partitions (weir only:
 *     the mock does not implement transactions faithfully)
 *   broker RSS with 100 partitions and 10 open transactions (weir and
 *     Kafka: weir-broker's target is 1/10 of Kafka's)
 *
 * Throughput rounds alternate between the two targets; each line shows the
 * median round (and the range) of both and their ratio against the target,
 * and exits 1 when a target is missed (0 with --report-only).
 * weir-broker is found in $WEIR_BIN_DIR (CTest sets it) or --bin-dir.
 */
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "tests/lib/proc.h"

typedef struct target {
    const char *name;
    char bootstrap[256];
    rd_kafka_t *mock_rk; /* hosts the mock cluster */
    rd_kafka_mock_cluster_t *mock;
    weir_proc *proc;
    char kafka_dir[1100]; /* scripts/kafka's data dir, "" for others */
} target;

static int scale_pct = 100; /* --scale: percentage of the default counts */
static bool failed;
static target *live[3];        /* stopped by die() too */
static const char *source_dir; /* for scripts/kafka */
static char work[] = "/tmp/weir-bench-broker-XXXXXX";
static char *broker_args[16]; /* --broker-arg: extra weir-broker flags */
static int n_broker_args;

static void stop_target(target *t);

static void
cleanup(void)
{
    char cmd[256];
    for (int i = 0; i < 3; i++)
        if (live[i] != NULL)
            stop_target(live[i]);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_broker: could not remove %s\n", work);
}

static void
die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_broker: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    cleanup();
    exit(2);
}

static rd_kafka_conf_t *
conf_new(const target *t)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", t->bootstrap, err,
            sizeof(err)) != RD_KAFKA_CONF_OK)
        die("conf: %s", err);
    return conf;
}

static void
conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[512];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
        die("conf %s=%s: %s", k, v, err);
}

static rd_kafka_t *
client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (rk == NULL)
        die("rd_kafka_new: %s", err);
    return rk;
}

/* The mock keeps at most 5 MB per partition, dropping its oldest batches
 * (rdkafka_mock.c: max_size); a capped topic gives weir-broker the same
 * log, retention.bytes of 5 MB in 1 MB segments, so that the produce
 * rounds compare brokers that keep the same amount of data. */
#define CAPPED_RETENTION_BYTES "5242880"
#define CAPPED_SEGMENT_BYTES "1048576"

static void
topic_create_capped(target *t, const char *topic, int partitions, bool capped)
{
    if (t->mock != NULL) {
        rd_kafka_resp_err_t e =
            rd_kafka_mock_topic_create(t->mock, topic, partitions, 1);
        if (e)
            die("mock topic %s: %s", topic, rd_kafka_err2str(e));
        return;
    }
    rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, conf_new(t));
    char err[512];
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof(err));
    if (capped && (rd_kafka_NewTopic_set_config(
                       nt, "retention.bytes", CAPPED_RETENTION_BYTES) ||
                      rd_kafka_NewTopic_set_config(
                          nt, "segment.bytes", CAPPED_SEGMENT_BYTES)))
        die("topic %s: cannot set its configs", topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    if (ev == NULL)
        die("CreateTopics %s timed out", topic);
    const rd_kafka_CreateTopics_result_t *res =
        rd_kafka_event_CreateTopics_result(ev);
    size_t n;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_CreateTopics_result_topics(res, &n);
    if (rd_kafka_event_error(ev) ||
        (n == 1 && rd_kafka_topic_result_error(tr[0]) &&
            rd_kafka_topic_result_error(tr[0]) !=
                RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS))
        die("CreateTopics %s: %s", topic,
            rd_kafka_event_error(ev)
                ? rd_kafka_event_error_string(ev)
                : rd_kafka_topic_result_error_string(tr[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

static void
topic_create(target *t, const char *topic, int partitions)
{
    topic_create_capped(t, topic, partitions, false);
}

/* ------------------------------------------------------------ produce */

typedef struct dr_state {
    long ok, err;
    rd_kafka_resp_err_t first_err;
} dr_state;

static void
on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    dr_state *s = opaque;
    (void)rk;
    if (m->err) {
        if (s->err++ == 0)
            s->first_err = m->err;
    } else {
        s->ok++;
    }
}

/* Messages per second; every message must be acknowledged. */
static double
bench_produce(target *t, const char *topic, size_t value_size, long count)
{
    rd_kafka_conf_t *conf = conf_new(t);
    dr_state s = {0};
    char *value = malloc(value_size);
    for (size_t i = 0; i < value_size; i++)
        value[i] = (char)('a' + i % 26);
    conf_set(conf, "acks", "all");
    conf_set(conf, "enable.idempotence", "true");
    conf_set(conf, "linger.ms", "5");
    conf_set(conf, "queue.buffering.max.messages", "1000000");
    conf_set(conf, "queue.buffering.max.kbytes", "1048576");
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
    rd_kafka_conf_set_opaque(conf, &s);
    rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, conf);

    uint64_t t0 = weir_clock_mono_us();
    for (long i = 0; i < count;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
            RD_KAFKA_V_VALUE(value, value_size),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 5);
            continue;
        }
        if (e)
            die("produce: %s", rd_kafka_err2str(e));
        i++;
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        die("%s: flush timed out", t->name);
    uint64_t us = weir_clock_mono_us() - t0;
    if (s.err || s.ok != count)
        die("%s: %ld delivered, %ld failed (%s)", t->name, s.ok, s.err,
            rd_kafka_err2str(s.first_err));
    rd_kafka_destroy(rk);
    free(value);
    return (double)count * 1e6 / (double)us;
}

/* ------------------------------------------------------------ consume */

/* Untimed: per_part messages of value_size into each partition. */
static void
fill_topic(target *t, const char *topic, int partitions, long per_part,
    size_t value_size)
{
    rd_kafka_conf_t *conf = conf_new(t);
    dr_state s = {0};
    char *value = malloc(value_size);
    memset(value, 'c', value_size);
    conf_set(conf, "acks", "all");
    conf_set(conf, "enable.idempotence", "true");
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
    rd_kafka_conf_set_opaque(conf, &s);
    rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, conf);
    for (long i = 0; i < per_part * partitions;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
            RD_KAFKA_V_PARTITION((int32_t)(i % partitions)),
            RD_KAFKA_V_VALUE(value, value_size),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 5);
            continue;
        }
        if (e)
            die("fill: %s", rd_kafka_err2str(e));
        i++;
    }
    rd_kafka_flush(rk, 120000);
    if (s.err || s.ok != per_part * partitions)
        die("%s: fill %s: %ld delivered, %ld failed", t->name, topic, s.ok,
            s.err);
    rd_kafka_destroy(rk);
    free(value);
}

/*
 * Reads the whole topic (count messages) from the beginning with one
 * consumer; messages per second from the first message to the last, so
 * connection and metadata set-up are not counted. The topic stays under
 * the mock's 5 MB per-partition retention so both targets serve the same
 * data.
 */
static double
bench_consume(target *t, const char *topic, int partitions, long count)
{
    rd_kafka_conf_t *conf = conf_new(t);
    conf_set(conf, "group.id", "weir-bench");
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "enable.partition.eof", "false");
    conf_set(conf, "isolation.level", "read_committed");
    /* librdkafka 2.0 pauses a partition's fetching for a whole second once
     * queued.min.messages are queued: a broker that answers fast hits that
     * and the in-process mock never does. Lift it on both sides so the
     * ratio measures the brokers, not that pause. */
    conf_set(conf, "queued.min.messages", "10000000");
    conf_set(conf, "queued.max.messages.kbytes", "1048576");
    rd_kafka_t *rk = client_new(RD_KAFKA_CONSUMER, conf);
    rd_kafka_topic_partition_list_t *parts =
        rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    uint64_t t0 = 0, deadline = weir_clock_mono_us() + 300000000;
    if (rd_kafka_assign(rk, parts))
        die("assign failed");
    long got = 0;
    while (got < count) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (weir_clock_mono_us() > deadline)
            die("%s: consumed %ld of %ld before timeout", t->name, got, count);
        if (m == NULL)
            continue;
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
            die("%s: consume: %s", t->name, rd_kafka_message_errstr(m));
        if (got++ == 0)
            t0 = weir_clock_mono_us();
        rd_kafka_message_destroy(m);
    }
    uint64_t us = weir_clock_mono_us() - t0;
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return (double)(count - 1) * 1e6 / (double)(us ? us : 1);
}

/* ------------------------------------------------------------ txn */

static void
on_dr_ignore(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)m;
    (void)opaque;
}

static rd_kafka_t *
txn_producer(target *t, const char *txn_id)
{
    rd_kafka_conf_t *conf = conf_new(t);
    conf_set(conf, "transactional.id", txn_id);
    conf_set(conf, "linger.ms", "0");
    /* Without a delivery callback rd_kafka_flush() (inside
     * commit_transaction) sleeps in 10 ms polls that nothing wakes. */
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr_ignore);
    rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, conf);
    rd_kafka_error_t *e = rd_kafka_init_transactions(rk, 30000);
    if (e)
        die("init_transactions: %s", rd_kafka_error_string(e));
    return rk;
}

static void
txn_produce(rd_kafka_t *rk, const char *topic, int n, int partitions)
{
    for (int i = 0; i < n; i++) {
        char v[32];
        int vl = snprintf(v, sizeof(v), "txn-%d", i);
        rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
            RD_KAFKA_V_PARTITION(i % partitions), RD_KAFKA_V_VALUE(v, vl),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e)
            die("txn produce: %s", rd_kafka_err2str(e));
    }
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* commit_transaction latencies in microseconds: p50 and p99. */
static void
bench_txn(
    target *t, const char *topic, int rounds, double *p50_ms, double *p99_ms)
{
    rd_kafka_t *rk = txn_producer(t, "weir-bench-txn");
    uint64_t *lat = calloc((size_t)rounds, sizeof(*lat));
    rd_kafka_error_t *e;
    for (int r = -10; r < rounds; r++) { /* 10 rounds of warm-up */
        if ((e = rd_kafka_begin_transaction(rk)))
            die("begin_transaction: %s", rd_kafka_error_string(e));
        txn_produce(rk, topic, 10, 3);
        uint64_t t0 = weir_clock_mono_us();
        if ((e = rd_kafka_commit_transaction(rk, 30000)))
            die("commit_transaction: %s", rd_kafka_error_string(e));
        if (r >= 0)
            lat[r] = weir_clock_mono_us() - t0;
    }
    qsort(lat, (size_t)rounds, sizeof(*lat), cmp_u64);
    *p50_ms = (double)lat[rounds / 2] / 1000.0;
    *p99_ms = (double)lat[(rounds * 99) / 100] / 1000.0;
    free(lat);
    rd_kafka_destroy(rk);
}

static long
rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* The broker's process: weir-broker's, or the Kafka node's JVM; -1 for
 * the in-process mock. */
static pid_t
target_pid(const target *t)
{
    if (t->proc != NULL)
        return weir_proc_pid(t->proc);
    if (!t->kafka_dir[0])
        return -1;
    char path[1200];
    snprintf(path, sizeof(path), "%s/node1/pid", t->kafka_dir);
    FILE *f = fopen(path, "r");
    long pid = -1;
    if (f != NULL) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = -1;
        fclose(f);
    }
    return (pid_t)pid;
}

/* RSS with 100 partitions holding some data and 10 open transactions. */
static long
bench_rss(target *t)
{
    rd_kafka_t *open_txn[10];
    topic_create(t, "bench-rss", 100);
    /* Some data in every partition. */
    rd_kafka_conf_t *conf = conf_new(t);
    conf_set(conf, "acks", "all");
    rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, conf);
    char value[1024];
    memset(value, 'r', sizeof(value));
    for (int i = 0; i < 20000; i++) {
        rd_kafka_resp_err_t e = rd_kafka_producev(rk,
            RD_KAFKA_V_TOPIC("bench-rss"), RD_KAFKA_V_PARTITION(i % 100),
            RD_KAFKA_V_VALUE(value, sizeof(value)),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 5);
            i--;
        } else if (e) {
            die("rss produce: %s", rd_kafka_err2str(e));
        }
    }
    rd_kafka_flush(rk, 60000);
    rd_kafka_destroy(rk);
    for (int i = 0; i < 10; i++) {
        char id[64];
        rd_kafka_error_t *e;
        snprintf(id, sizeof(id), "weir-bench-open-%d", i);
        open_txn[i] = txn_producer(t, id);
        if ((e = rd_kafka_begin_transaction(open_txn[i])))
            die("begin_transaction: %s", rd_kafka_error_string(e));
        txn_produce(open_txn[i], "bench-rss", 10, 100);
        rd_kafka_flush(open_txn[i], 30000);
    }
    long kb = rss_kb(target_pid(t));
    for (int i = 0; i < 10; i++) {
        rd_kafka_error_t *e = rd_kafka_abort_transaction(open_txn[i], 30000);
        if (e)
            rd_kafka_error_destroy(e);
        rd_kafka_destroy(open_txn[i]);
    }
    return kb;
}

/* ------------------------------------------------------------ targets */

static void
start_weir(target *t, const char *bin_dir, const char *work)
{
    char bin[1024], listen[64], data[1100], logp[1100], line[512];
    int port = weir_port_pick();
    if (port < 0)
        die("no free port");
    snprintf(bin, sizeof(bin), "%s/weir-broker", bin_dir);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    snprintf(data, sizeof(data), "%s/data", work);
    snprintf(logp, sizeof(logp), "%s/broker.log", work);
    /* Default log level: the "ready" line is an info line. */
    /* No fsync: the mock keeps its logs in memory (--broker-arg --fsync
     * --broker-arg interval measures the default; the last flag wins). */
    char *argv[8 + 16] = {
        bin, "--listen", listen, "--data-dir", data, "--fsync", "never", NULL};
    for (int i = 0; i < n_broker_args; i++)
        argv[7 + i] = broker_args[i];
    t->name = "weir";
    live[0] = t;
    if (weir_proc_start(&t->proc, argv, NULL, logp) != 0)
        die("cannot start %s", bin);
    if (weir_proc_wait_line(
            t->proc, "ready listen=", 20000, line, sizeof(line)) != 0)
        die("weir-broker did not become ready (see %s)", logp);
    snprintf(t->bootstrap, sizeof(t->bootstrap), "%s", listen);
}

static void
start_mock(target *t)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    t->name = "mock";
    live[1] = t;
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    t->mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (t->mock_rk == NULL)
        die("mock handle: %s", err);
    t->mock = rd_kafka_mock_cluster_new(t->mock_rk, 1);
    if (t->mock == NULL)
        die("mock cluster failed");
    snprintf(t->bootstrap, sizeof(t->bootstrap), "%s",
        rd_kafka_mock_cluster_bootstraps(t->mock));
}

/* A one-node Apache Kafka from scripts/kafka; false when it cannot start
 * (no JDK or Maven: the comparison is then skipped). */
static bool
start_kafka(target *t, const char *work)
{
    char cmd[3000], line[512] = "";
    snprintf(t->kafka_dir, sizeof(t->kafka_dir), "%s/kafka", work);
    snprintf(cmd, sizeof(cmd),
        "'%s/scripts/kafka' start --brokers 1 --data-dir '%s' "
        "2>'%s/kafka-start.log'",
        source_dir, t->kafka_dir, work);
    t->name = "kafka";
    live[2] = t;
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return false;
    char buf[512];
    while (fgets(buf, sizeof(buf), p) != NULL)
        snprintf(line, sizeof(line), "%s", buf); /* the last line */
    if (pclose(p) != 0 || !line[0]) {
        fprintf(stderr,
            "bench_broker: Apache Kafka did not start (see "
            "%s/kafka-start.log); comparing without it\n",
            work);
        live[2] = NULL;
        t->kafka_dir[0] = '\0';
        return false;
    }
    line[strcspn(line, "\n")] = '\0';
    snprintf(t->bootstrap, sizeof(t->bootstrap), "%s", line);
    return true;
}

static void
stop_target(target *t)
{
    for (int i = 0; i < 3; i++)
        if (live[i] == t)
            live[i] = NULL;
    if (t->kafka_dir[0]) {
        char cmd[2400];
        snprintf(cmd, sizeof(cmd),
            "'%s/scripts/kafka' stop --data-dir '%s' >/dev/null 2>&1",
            source_dir, t->kafka_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_broker: scripts/kafka stop failed\n");
    }
    if (t->proc != NULL) {
        int status;
        weir_proc_stop(t->proc, 15000, &status);
        weir_proc_free(t->proc);
    }
    if (t->mock != NULL)
        rd_kafka_mock_cluster_destroy(t->mock);
    if (t->mock_rk != NULL)
        rd_kafka_destroy(t->mock_rk);
    memset(t, 0, sizeof(*t));
}

typedef struct tp_result {
    double produce_small, produce_large, consume_small, consume_large;
} tp_result;

/* Which throughput measurements run (--only): all by default. */
static bool run_produce = true, run_consume = true;

#define MAX_ROUNDS 32

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of one field over n rounds (the mean of the middle two when
 * n is even); min and max too. */
static double
median_of(const tp_result *r, int n, size_t field, double *lo, double *hi)
{
    double v[MAX_ROUNDS];
    for (int i = 0; i < n; i++)
        memcpy(&v[i], (const char *)&r[i] + field, sizeof(double));
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    *lo = v[0];
    *hi = v[n - 1];
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Medians of both targets' rounds, their ranges and the median ratio. */
static void
report_ratio(const char *what, const char *other, const tp_result *w,
    const tp_result *m, int rounds, size_t field)
{
    double wlo, whi, mlo, mhi;
    double weir = median_of(w, rounds, field, &wlo, &whi);
    double base = median_of(m, rounds, field, &mlo, &mhi);
    double ratio = base > 0 ? weir / base : 0;
    bool ok = ratio >= 1.0;
    printf("%-13s weir %8.0f (%.0f-%.0f)  %-5s %8.0f (%.0f-%.0f) msg/s  "
           "ratio %4.2f  target >= 1.00  %s\n",
        what, weir, wlo, whi, other, base, mlo, mhi, ratio,
        ok ? "ok" : "MISSED");
    failed |= !ok;
}

/* Every throughput ratio of weir-broker against one baseline. */
static void
report_all(
    const char *other, const tp_result *w, const tp_result *m, int rounds)
{
    if (run_produce) {
        report_ratio("produce 100B", other, w, m, rounds,
            offsetof(tp_result, produce_small));
        report_ratio("produce 1KiB", other, w, m, rounds,
            offsetof(tp_result, produce_large));
    }
    if (run_consume) {
        report_ratio("consume 100B", other, w, m, rounds,
            offsetof(tp_result, consume_small));
        report_ratio("consume 1KiB", other, w, m, rounds,
            offsetof(tp_result, consume_large));
    }
}

/* Below the mock's retention: 30000 x 100 B, 4000 x 1 KiB a partition. */
#define C_SMALL 30000
#define C_LARGE 4000
#define C_PARTS 32

static void
throughput_setup(target *t)
{
    topic_create_capped(t, "bench-100b", 3, true);
    topic_create_capped(t, "bench-1k", 3, true);
    topic_create(t, "bench-c100b", C_PARTS);
    topic_create(t, "bench-c1k", C_PARTS);
    if (!run_consume)
        return;
    fill_topic(t, "bench-c100b", C_PARTS, C_SMALL, 100);
    fill_topic(t, "bench-c1k", C_PARTS, C_LARGE, 1024);
}

/* One round's numbers appended to r[round]. */
static void
throughput_round(target *t, tp_result *r, long n_small, long n_large)
{
    tp_result x = {0};
    if (run_produce) {
        x.produce_small = bench_produce(t, "bench-100b", 100, n_small);
        x.produce_large = bench_produce(t, "bench-1k", 1024, n_large);
    }
    if (run_consume) {
        x.consume_small =
            bench_consume(t, "bench-c100b", C_PARTS, C_PARTS * C_SMALL);
        x.consume_large =
            bench_consume(t, "bench-c1k", C_PARTS, C_PARTS * C_LARGE);
    }
    printf("%s: produce 100B %.0f msg/s, 1KiB %.0f msg/s (%.1f MB/s); "
           "consume 100B %.0f msg/s, 1KiB %.0f msg/s\n",
        t->name, x.produce_small, x.produce_large, x.produce_large * 1024 / 1e6,
        x.consume_small, x.consume_large);
    fflush(stdout);
    *r = x;
}

int
main(int argc, char **argv)
{
    const char *bin_dir = getenv("WEIR_BIN_DIR");
    bool report_only = false, txn_only = false, with_kafka = true;
    source_dir = getenv("WEIR_SOURCE_DIR");
    const char *external = NULL; /* --weir-bootstrap: a running broker */
    int rounds = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bin-dir") == 0 && i + 1 < argc)
            bin_dir = argv[++i];
        else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
            scale_pct = atoi(argv[++i]);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--report-only") == 0)
            report_only = true;
        else if (strcmp(argv[i], "--weir-bootstrap") == 0 && i + 1 < argc)
            external = argv[++i];
        else if (strcmp(argv[i], "--txn-only") == 0)
            txn_only = true;
        else if (strcmp(argv[i], "--no-kafka") == 0)
            with_kafka = false;
        else if (strcmp(argv[i], "--source-dir") == 0 && i + 1 < argc)
            source_dir = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            const char *o = argv[++i];
            run_produce = strcmp(o, "produce") == 0;
            run_consume = strcmp(o, "consume") == 0;
            if (!run_produce && !run_consume)
                die("--only wants produce or consume");
        } else if (strcmp(argv[i], "--broker-arg") == 0 && i + 1 < argc &&
                   n_broker_args < 16)
            broker_args[n_broker_args++] = argv[++i];
        else
            die("usage: %s [--bin-dir DIR] [--scale PERCENT] [--rounds N] "
                "[--report-only] [--txn-only] [--only produce|consume] "
                "[--broker-arg FLAG]... [--weir-bootstrap HOST:PORT] "
                "[--no-kafka] [--source-dir DIR]",
                argv[0]);
    }
    if (bin_dir == NULL && external == NULL)
        die("set WEIR_BIN_DIR or --bin-dir");
    if (scale_pct <= 0)
        scale_pct = 100;
    if (rounds <= 0)
        rounds = 1;
    if (rounds > MAX_ROUNDS)
        rounds = MAX_ROUNDS;
    long n_small = 400000L * scale_pct / 100;
    long n_large = 100000L * scale_pct / 100;

    if (mkdtemp(work) == NULL)
        die("mkdtemp: %s", strerror(errno));

    target weir = {0}, mock = {0}, kafka = {0};
    tp_result rw[MAX_ROUNDS], rm[MAX_ROUNDS], rk[MAX_ROUNDS];
    double p50, p99;
    long rss, kafka_rss = -1;
    with_kafka = with_kafka && source_dir != NULL;

    if (external != NULL) {
        weir.name = "weir";
        snprintf(weir.bootstrap, sizeof(weir.bootstrap), "%s", external);
    } else {
        start_weir(&weir, bin_dir, work);
    }
    topic_create(&weir, "bench-txn", 3);
    bench_txn(&weir, "bench-txn", 300, &p50, &p99);
    if (txn_only) {
        printf("commit_transaction p50 %.2f ms p99 %.2f ms\n", p50, p99);
        cleanup();
        return 0;
    }
    /* Rounds alternate between the two so that a busy moment on a shared
     * machine does not favour one; each reports its median round. */
    start_mock(&mock);
    with_kafka = with_kafka && start_kafka(&kafka, work);
    throughput_setup(&weir);
    throughput_setup(&mock);
    if (with_kafka)
        throughput_setup(&kafka);
    for (int round = 0; round < rounds; round++) {
        throughput_round(&weir, &rw[round], n_small, n_large);
        throughput_round(&mock, &rm[round], n_small, n_large);
        if (with_kafka)
            throughput_round(&kafka, &rk[round], n_small, n_large);
    }
    stop_target(&mock);
    if (with_kafka) {
        kafka_rss = bench_rss(&kafka);
        stop_target(&kafka);
    }
    rss = bench_rss(&weir);
    stop_target(&weir);

    printf("\nweir-broker vs librdkafka mock cluster%s, median (range) of "
           "%d rounds (produce %ld x 100 B, %ld x 1 KiB, acks=all, "
           "idempotent; consume %d x 100 B, %d x 1 KiB, read_committed)\n",
        with_kafka ? " and Apache Kafka (one node)" : "", rounds, n_small,
        n_large, C_PARTS * C_SMALL, C_PARTS * C_LARGE);
    report_all("mock", rw, rm, rounds);
    if (with_kafka)
        report_all("kafka", rw, rk, rounds);
    printf("%-16s p50 %.2f ms (target <= 5)  p99 %.2f ms (target <= 20)  "
           "%s\n",
        "commit_txn", p50, p99, p50 <= 5 && p99 <= 20 ? "ok" : "MISSED");
    failed |= !(p50 <= 5 && p99 <= 20);
    printf("%-16s %.1f MB with 100 partitions, 10 open transactions "
           "(target <= 64)  %s\n",
        "broker RSS", rss / 1024.0, rss > 0 && rss <= 65536 ? "ok" : "MISSED");
    failed |= !(rss > 0 && rss <= 65536);
    if (with_kafka) {
        bool small = rss > 0 && kafka_rss > 0 && rss * 10 <= kafka_rss;
        printf("%-16s weir %.1f MB, Apache Kafka %.1f MB: %.3f of Kafka's "
               "(target <= 0.100)  %s\n",
            "RSS vs Kafka", rss / 1024.0, kafka_rss / 1024.0,
            kafka_rss > 0 ? (double)rss / (double)kafka_rss : 0,
            small ? "ok" : "MISSED");
        failed |= !small;
    }

    cleanup();
    return failed && !report_only ? 1 : 0;
}
