/*
 * The coordinator's request handler must answer anything, never crash:
 * every input is decoded, dispatched against a live cluster state and
 * answered with a reply or an Error envelope.
 *
 * Built two ways: with WEIR_FUZZ as a libFuzzer target
 * (coordinator.fuzz_handle), and always as a unit test
 * (coordinator.handle_garbage) that feeds thousands of seeded mutations
 * of valid requests, truncations and random bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/wire.h"
#include "coordinator/server_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static weir_coord *co;

static void
setup(void)
{
    weir_log_set_level(WEIR_LOG_ERROR);
    co = calloc(1, sizeof(*co));
    co->opts.token = "";
    weir_cluster_opts o = {.heartbeat_interval_ms = 500,
        .session_timeout_ms = 3000,
        .join_window_ms = 0,
        .bootstrap = "127.0.0.1:1"};
    co->cl = weir_cluster_new(&o);
    /* Kafka is never reachable here: a submit that compiles fails fast */
    weir_kafka_admin_opts ko = {
        .bootstrap = "127.0.0.1:1", .default_partitions = 1, .timeout_ms = 50};
    char err[256];
    if (!co->cl || weir_kafka_admin_new(&co->ka, &ko, err, sizeof(err)) != 0)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!co)
        setup();
    uint8_t *out = NULL;
    size_t outlen = 0;
    weir__plan_job *deferred = NULL;
    int rv = weir__coord_handle(co, data, size, &out, &outlen, &deferred);
    /* a submit that compiled waits for the Kafka thread, not started here */
    if (rv == WEIR_EAGAIN && !deferred)
        abort();
    weir__plan_job_free(deferred);
    if (rv == WEIR_OK) {
        /* every reply is a well-formed envelope */
        weir_wire_msg m;
        if (weir_wire_decode(out, outlen, &m, NULL, 0) != WEIR_OK)
            abort();
        weir_wire_msg_fini(&m);
    }
    free(out);
    weir_cluster_tick(co->cl, (uint64_t)size * 37);
    return 0;
}

#ifndef WEIR_FUZZ_MAIN_DISABLED
static uint64_t rng = 88172645463325252ull;

static uint32_t
rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* Valid requests of every type, as seeds for mutation. */
static size_t
seeds(uint8_t **bufs, size_t *lens)
{
    size_t n = 0;
    Weir__Cluster__Hello h = WEIR__CLUSTER__HELLO__INIT;
    h.worker_id = "w1";
    h.capacity = 2;
    Weir__Cluster__TaskCheckpoint cp = WEIR__CLUSTER__TASK_CHECKPOINT__INIT;
    Weir__Cluster__TaskCheckpoint *pcp = &cp;
    Weir__Cluster__TaskId id = WEIR__CLUSTER__TASK_ID__INIT;
    id.job = "j";
    cp.task = &id;
    h.n_local_state = 1;
    h.local_state = &pcp;
    Weir__Cluster__Heartbeat hb = WEIR__CLUSTER__HEARTBEAT__INIT;
    hb.worker_id = "w1";
    hb.member_epoch = 1;
    Weir__Cluster__TaskStatus st = WEIR__CLUSTER__TASK_STATUS__INIT;
    Weir__Cluster__TaskStatus *pst = &st;
    st.task = &id;
    uint64_t buckets[3] = {1, 2, 3};
    st.n_commit_latency_buckets = 3;
    st.commit_latency_buckets = buckets;
    hb.n_tasks = 1;
    hb.tasks = &pst;
    Weir__Cluster__Leave lv = WEIR__CLUSTER__LEAVE__INIT;
    lv.worker_id = "w1";
    lv.member_epoch = 1;
    Weir__Cluster__JobDescribe jd = WEIR__CLUSTER__JOB_DESCRIBE__INIT;
    jd.job = "j";
    Weir__Cluster__JobCancel jc = WEIR__CLUSTER__JOB_CANCEL__INIT;
    jc.job = "j";
    Weir__Cluster__WorkerDrain wd = WEIR__CLUSTER__WORKER_DRAIN__INIT;
    wd.worker_id = "w1";
    Weir__Cluster__JobList jl = WEIR__CLUSTER__JOB_LIST__INIT;
    Weir__Cluster__WorkerList wl = WEIR__CLUSTER__WORKER_LIST__INIT;
    Weir__Cluster__Status ss = WEIR__CLUSTER__STATUS__INIT;
    Weir__Cluster__JobSubmit js = WEIR__CLUSTER__JOB_SUBMIT__INIT;
    js.yaml = "job: j\nsources:\n  s: { topic: t }\npipeline:\n  - from: s\n";
    const struct {
        weir_msg_type type;
        const ProtobufCMessage *m;
    } reqs[] = {
        {WEIR__CLUSTER__MSG_TYPE__MSG_HELLO, &h.base},
        {WEIR__CLUSTER__MSG_TYPE__MSG_HEARTBEAT, &hb.base},
        {WEIR__CLUSTER__MSG_TYPE__MSG_LEAVE, &lv.base},
        {WEIR__CLUSTER__MSG_TYPE__MSG_JOB_DESCRIBE, &jd.base},
        {WEIR__CLUSTER__MSG_TYPE__MSG_JOB_CANCEL, &jc.base},
        {WEIR__CLUSTER__MSG_TYPE__MSG_WORKER_DRAIN, &wd.base},
        {WEIR__CLUSTER__MSG_TYPE__MSG_JOB_LIST, &jl.base},
        {WEIR__CLUSTER__MSG_TYPE__MSG_WORKER_LIST, &wl.base},
        {WEIR__CLUSTER__MSG_TYPE__MSG_STATUS, &ss.base},
        {WEIR__CLUSTER__MSG_TYPE__MSG_JOB_SUBMIT, &js.base},
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
        if (weir_wire_encode(reqs[i].type, i + 1, "", reqs[i].m, &bufs[n],
                &lens[n]) == WEIR_OK)
            n++;
    return n;
}

int
main(int argc, char **argv)
{
    uint8_t *bufs[16];
    size_t lens[16];
    size_t n = seeds(bufs, lens);
    int iters = argc > 1 ? atoi(argv[1]) : 20000;
    uint8_t scratch[4096];
    for (int it = 0; it < iters; it++) {
        size_t k = rnd((uint32_t)n);
        size_t len = lens[k] < sizeof(scratch) ? lens[k] : sizeof(scratch);
        memcpy(scratch, bufs[k], len);
        switch (rnd(4)) {
        case 0: /* as is: drives the state machine */
            break;
        case 1: /* flip bytes */
            for (int f = 0; f < 1 + (int)rnd(4); f++)
                scratch[rnd((uint32_t)len)] ^= (uint8_t)(1 + rnd(255));
            break;
        case 2: /* truncate */
            len = rnd((uint32_t)len + 1);
            break;
        default: /* random bytes */
            len = rnd(256);
            for (size_t i = 0; i < len; i++)
                scratch[i] = (uint8_t)rnd(256);
            break;
        }
        LLVMFuzzerTestOneInput(scratch, len);
    }
    for (size_t i = 0; i < n; i++)
        free(bufs[i]);
    weir_kafka_admin_free(co->ka);
    weir_cluster_free(co->cl);
    free(co);
    printf("handled %d requests\n", iters);
    return 0;
}
#endif
