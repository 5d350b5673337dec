/*
 * The runtime API the coordinator link uses (worker/runtime.h), against a
 * real weir-broker: two runtimes in one process, A active for every task of
 * the word count job, B standby for the stateful ones. B's standbys tail the
 * changelogs up to A's checkpoints; then the tasks move (A's assignment
 * emptied, B's made active) and B's reports show them running, its local
 * checkpoints listed, and little left to restore.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/job/job.h"
#include "tests/lib/proc.h"
#include "worker/kafka.h"
#include "worker/runtime.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);       \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

static const char job_yaml[] =
    "job: rtapi\n"
    "sources:\n"
    "  lines: { topic: rt-lines, key: string, value: string }\n"
    "pipeline:\n"
    "  - from: lines\n"
    "  - flat_map_values: \"split(lower(value), '[^a-z0-9]+')\"\n"
    "  - filter: \"value != ''\"\n"
    "  - group_by: value\n"
    "  - count: { store: counts }\n"
    "  - to: { topic: rt-counts, value: string }\n";

typedef struct sums {
    uint64_t out; /* records out of the counting subtopology (1) */
    uint64_t restored;
    size_t running, standby;
    int64_t ckpt[16]; /* per partition of sub 1 */
} sums;

static void
report(weir_runtime *rt, sums *s, size_t *n_local)
{
    Weir__Cluster__TaskStatus **ts = NULL;
    Weir__Cluster__TaskCheckpoint **lc = NULL;
    size_t n = 0, nl = 0;
    CHECK(weir_runtime_report(rt, &ts, &n, &lc, &nl) == WEIR_OK);
    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < n; i++) {
        if (ts[i]->task->subtopology == 1)
            s->out += ts[i]->records_out;
        s->restored += ts[i]->restored_records;
        if (ts[i]->state == WEIR__CLUSTER__TASK_STATE__TASK_RUNNING)
            s->running++;
        if (ts[i]->state == WEIR__CLUSTER__TASK_STATE__TASK_STANDBY)
            s->standby++;
        if (ts[i]->task->subtopology == 1 && ts[i]->n_checkpoints == 1 &&
            ts[i]->task->partition < 16)
            s->ckpt[ts[i]->task->partition] = ts[i]->checkpoints[0]->offset;
    }
    if (n_local)
        *n_local = nl;
    weir_runtime_report_free(ts, n, lc, nl);
}

static void
assign(weir_runtime *rt, Weir__Topology__Topology *topo, int active_sub0,
    int active_sub1, int standby_sub1, unsigned parts)
{
    Weir__Cluster__TaskId ids[64], *act[32], *sb[32];
    size_t na = 0, ns = 0, k = 0;
    for (unsigned sub = 0; sub < 2; sub++) {
        for (unsigned p = 0; p < parts; p++) {
            weir__cluster__task_id__init(&ids[k]);
            ids[k].job = topo->job;
            ids[k].subtopology = sub;
            ids[k].partition = p;
            if ((sub == 0 && active_sub0) || (sub == 1 && active_sub1))
                act[na++] = &ids[k];
            else if (sub == 1 && standby_sub1)
                sb[ns++] = &ids[k];
            k++;
        }
    }
    Weir__Cluster__Assignment as;
    weir__cluster__assignment__init(&as);
    as.n_active = na;
    as.active = act;
    as.n_standby = ns;
    as.standby = sb;
    CHECK(weir_runtime_assign(rt, &as, &topo, 1) == WEIR_OK);
}

static void
produce(const char *bs, int from, int n)
{
    weir_kafka_producer *p;
    CHECK(weir_kafka_producer_new(&p, bs, "rt-test", NULL, 0) == WEIR_OK);
    for (int i = from; i < from + n; i++) {
        char key[32], line[128];
        snprintf(key, sizeof(key), "%d", i);
        snprintf(line, sizeof(line), "alpha beta w%d gamma w%d", i % 50, i % 7);
        CHECK(weir_kafka_producer_send(p, "rt-lines", -1, key, strlen(key),
                  line, strlen(line), 0, NULL, 0, NULL) == WEIR_OK);
    }
    CHECK(weir_kafka_producer_flush(p, 30000) == WEIR_OK);
    weir_kafka_producer_free(p);
}

int
main(void)
{
    const char *bin = getenv("WEIR_BIN_DIR");
    CHECK(bin);
    char dir[] = "/tmp/weir-test-rtapi-XXXXXX";
    CHECK(mkdtemp(dir));
    char broker_bin[512], bdata[300], listen[64], bs[64], log[300];
    int port = weir_port_pick();
    snprintf(broker_bin, sizeof(broker_bin), "%s/weir-broker", bin);
    snprintf(bdata, sizeof(bdata), "%s/broker", dir);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    snprintf(bs, sizeof(bs), "127.0.0.1:%d", port);
    snprintf(log, sizeof(log), "%s/broker.log", dir);
    char *argv[] = {broker_bin, "--listen", listen, "--data-dir", bdata, NULL};
    weir_proc *broker;
    CHECK(weir_proc_start(&broker, argv, NULL, log) == WEIR_OK);
    CHECK(weir_proc_wait_line(broker, "ready listen=", 20000, NULL, 0) ==
          WEIR_OK);

    Weir__Topology__Topology *topo = NULL;
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    CHECK(weir_job_compile(job_yaml, strlen(job_yaml), "rtapi.yaml", &topo,
              &errs) == WEIR_OK);
    weir_job_errors_fini(&errs);
    weir_kafka_topic_spec in = {"rt-lines", 2, false};
    CHECK(weir_kafka_topics_ensure(bs, &in, 1, 10000, NULL, 0) == WEIR_OK);

    char da[300], db[300];
    snprintf(da, sizeof(da), "%s/a", dir);
    snprintf(db, sizeof(db), "%s/b", dir);
    weir_runtime_opts oa = {.bootstrap = bs,
        .data_dir = da,
        .worker_id = "a",
        .threads = 2,
        .memory_limit_bytes = 32 << 20};
    weir_runtime_opts ob = oa;
    ob.data_dir = db;
    ob.worker_id = "b";
    weir_runtime *a, *b;
    CHECK(weir_runtime_new(&a, &oa) == WEIR_OK);
    CHECK(weir_runtime_new(&b, &ob) == WEIR_OK);
    CHECK(weir_runtime_start(a) == WEIR_OK);
    CHECK(weir_runtime_start(b) == WEIR_OK);
    assign(a, topo, 1, 1, 0, 2);
    assign(b, topo, 0, 0, 1, 2);
    produce(bs, 0, 500);

    /* 500 lines x 5 words: 2500 count updates out of A. */
    sums sa, sb;
    uint64_t deadline = weir_clock_mono_ms() + 60000;
    do {
        weir_clock_sleep_ms(100);
        report(a, &sa, NULL);
    } while (sa.out < 2500 && weir_clock_mono_ms() < deadline);
    CHECK(sa.out == 2500);
    CHECK(sa.running == 4);

    /* B's standbys reach A's checkpoints, and stay there for longer than
     * a commit interval (A's last transaction is committed by then). */
    int equal = 0;
    do {
        weir_clock_sleep_ms(equal ? 500 : 100);
        report(a, &sa, NULL);
        report(b, &sb, NULL);
        bool same = sb.ckpt[0] == sa.ckpt[0] && sb.ckpt[1] == sa.ckpt[1] &&
                    sa.ckpt[0] > 0;
        equal = same ? equal + 1 : 0;
    } while (equal < 2 && weir_clock_mono_ms() < deadline);
    printf("standby checkpoints %lld %lld, active %lld %lld, standby tasks "
           "%zu, restored %llu\n",
        (long long)sb.ckpt[0], (long long)sb.ckpt[1], (long long)sa.ckpt[0],
        (long long)sa.ckpt[1], sb.standby, (unsigned long long)sb.restored);
    CHECK(sb.standby == 2);
    CHECK(sb.ckpt[0] == sa.ckpt[0] && sb.ckpt[1] == sa.ckpt[1]);
    CHECK(sb.restored > 0);

    /* Move everything to B: revoke on A first (two-phase), then assign. */
    assign(a, topo, 0, 0, 0, 2);
    do {
        weir_clock_sleep_ms(50);
        report(a, &sa, NULL);
    } while (sa.running > 0 && weir_clock_mono_ms() < deadline);
    CHECK(sa.running == 0);
    assign(b, topo, 1, 1, 0, 2);
    produce(bs, 500, 100);
    size_t n_local = 0;
    do {
        weir_clock_sleep_ms(100);
        report(b, &sb, &n_local);
    } while (
        (sb.running < 4 || sb.out < 500) && weir_clock_mono_ms() < deadline);
    printf("after the move: running %zu, out %llu, restored %llu, local "
           "checkpoints %zu\n",
        sb.running, (unsigned long long)sb.out, (unsigned long long)sb.restored,
        n_local);
    CHECK(sb.running == 4);
    CHECK(sb.out == 500);    /* only the new lines' updates */
    CHECK(sb.restored == 0); /* the standby had it all */
    CHECK(n_local == 2);     /* the two stateful tasks */
    CHECK(!weir_runtime_failed(a) && !weir_runtime_failed(b));

    weir_runtime_free(a);
    weir_runtime_free(b);
    weir_job_free(topo);
    int status;
    weir_proc_stop(broker, 10000, &status);
    weir_proc_free(broker);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    printf("ok\n");
    return 0;
}
