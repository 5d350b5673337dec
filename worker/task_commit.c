/* The commit cycle and its failure paths (DESIGN.md "Exactly-once"). */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/crash.h"
#include "common/err.h"
#include "common/log.h"
#include "task_impl.h"

#define COMMIT_TIMEOUT_MS 60000

const double weir_task_latency_bounds_ms[WEIR_TASK_LATENCY_BUCKETS - 1] = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};

static void
record_latency(weir_task *t, double ms)
{
    size_t b = 0;
    while (b < WEIR_TASK_LATENCY_BUCKETS - 1 &&
           ms > weir_task_latency_bounds_ms[b])
        b++;
    t->stats.latency_buckets[b]++;
    t->stats.latency_sum_ms += ms;
}

static weir_kafka_tp *
positions(weir_task *t)
{
    weir_kafka_tp *tps = calloc(t->n_inputs ? t->n_inputs : 1, sizeof(*tps));
    for (size_t i = 0; tps && i < t->n_inputs; i++) {
        tps[i].topic = t->inputs[i].topic;
        tps[i].partition = (int32_t)t->partition;
        tps[i].offset = t->inputs[i].position;
    }
    return tps;
}

/* Serves delivery reports until every changelog offset is known. */
static int
drain_deliveries(weir_task *t)
{
    uint64_t deadline = weir_clock_mono_ms() + 30000;
    while (weir_kafka_producer_in_flight(t->prod) > 0) {
        int rv = weir_kafka_producer_poll(t->prod, 10);
        if (rv != WEIR_OK)
            return rv;
        if (weir_clock_mono_ms() > deadline)
            return WEIR_ETIMEDOUT;
    }
    return WEIR_OK;
}

/* Applies the batch with the changelog offsets it reached. */
static int
checkpoint(weir_task *t)
{
    int64_t *offs = calloc(t->n_stores ? t->n_stores : 1, sizeof(*offs));
    if (!offs)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < t->n_stores; i++)
        offs[i] = t->stores[i].source_table
                      ? t->commit_tps[t->stores[i].input].offset
                      : t->stores[i].next_offset;
    int rv = weir_store_commit(t->store, offs);
    free(offs);
    return rv;
}

static int
changelog_cb(size_t idx, const void *key, size_t klen, const void *val,
    size_t vlen, void *opaque)
{
    weir_task *t = opaque;
    weir_task_store *ts = &t->stores[idx];
    if (ts->source_table)
        return WEIR_OK; /* its changelog is the topic it was read from */
    for (;;) {
        int rv = weir_kafka_producer_send(t->prod, ts->changelog,
            (int32_t)t->partition, key, klen, val, val ? vlen : 0, 0, NULL, 0,
            &ts->next_offset);
        if (rv != WEIR_EAGAIN)
            return rv;
        (void)weir_kafka_producer_poll(t->prod, 10);
    }
}

/* Produces the latest value of every key written since the last commit
 * to its store's changelog partition (in the transaction under EOS). */
static int
produce_changelog(weir_task *t)
{
    if (!t->store || weir_store_pending(t->store) == 0)
        return WEIR_OK;
    return weir_store_each_pending(t->store, changelog_cb, t);
}

/* The first half of an exactly-once commit, on the stream thread: what
 * operators kept for the commit, then the changelog records, join the
 * transaction. */
static int
commit_eos_start(weir_task *t)
{
    int rv = weir__ops_flush(t); /* latest updates and partials */
    if (rv != WEIR_OK)
        return rv;
    rv = produce_changelog(t);
    if (rv != WEIR_OK)
        return rv == WEIR_EFENCED ? rv : WEIR_EABORTED;
    rv = weir_kafka_producer_poll(t->prod, 0);
    if (rv != WEIR_OK)
        return WEIR_EABORTED; /* a failed delivery dooms the transaction */
    return WEIR_OK;
}

/* The blocking half, on the task's committer thread while the stream
 * thread serves its other tasks: this task is left alone until it ends. */
static int
commit_eos_finish(void *arg)
{
    weir_task *t = arg;
    WEIR_CRASH_POINT("after-produce");
    int rv = weir_kafka_producer_send_offsets(
        t->prod, t->job, t->commit_tps, t->n_inputs, COMMIT_TIMEOUT_MS);
    if (rv != WEIR_OK)
        return rv;
    WEIR_CRASH_POINT("after-send-offsets");
    rv = weir_kafka_producer_commit(t->prod, COMMIT_TIMEOUT_MS);
    if (rv == WEIR_ETIMEDOUT) /* retriable: the same call may be repeated */
        rv = weir_kafka_producer_commit(t->prod, COMMIT_TIMEOUT_MS);
    if (rv != WEIR_OK)
        return rv;
    t->in_txn = false;
    WEIR_CRASH_POINT("after-commit-before-checkpoint");
    if ((rv = drain_deliveries(t)) != WEIR_OK)
        return rv == WEIR_ETIMEDOUT ? WEIR_EKAFKA : rv;
    return checkpoint(t);
}

static int
commit_alo(weir_task *t, weir_kafka_tp *tps)
{
    /* Outputs and changelog acknowledged first, then state, then offsets:
     * a crash in between replays input (at least once). */
    int rv = weir__ops_flush(t);
    if (rv == WEIR_OK)
        rv = produce_changelog(t);
    if (rv == WEIR_OK)
        rv = weir_kafka_producer_flush(t->prod, COMMIT_TIMEOUT_MS);
    if (rv == WEIR_OK)
        rv = drain_deliveries(t);
    if (rv != WEIR_OK)
        return rv == WEIR_ETIMEDOUT ? WEIR_EKAFKA : rv;
    if ((rv = checkpoint(t)) != WEIR_OK)
        return rv;
    return weir_kafka_consumer_commit(t->cons, tps, t->n_inputs);
}

/* Bookkeeping once a commit is over, on the stream thread. No record was
 * processed meanwhile, so the positions sent are the positions now. */
static int
commit_end(weir_task *t, int rv)
{
    t->committing = false;
    if (rv != WEIR_OK) {
        weir_log_warn("task", "commit failed task=%s err=%s detail=\"%s\"",
            t->name, weir_err_name(rv), weir_kafka_producer_errstr(t->prod));
        return rv;
    }
    for (size_t i = 0; i < t->n_inputs; i++)
        t->inputs[i].committed = t->commit_tps[i].offset;
    t->dirty = false;
    t->last_commit_ms = weir_clock_mono_ms();
    t->stats.commits++;
    record_latency(
        t, (double)(weir_clock_mono_us() - t->commit_t0_us) / 1000.0);
    return WEIR_OK;
}

int
weir__task_commit_begin(weir_task *t)
{
    t->commit_t0_us = weir_clock_mono_us();
    free(t->commit_tps);
    if (!(t->commit_tps = positions(t)))
        return WEIR_ENOMEM;
    if (!t->eos)
        return commit_end(t, commit_alo(t, t->commit_tps));
    int rv = commit_eos_start(t);
    if (rv == WEIR_OK && !t->committer)
        rv = weir_committer_new(&t->committer);
    if (rv != WEIR_OK)
        return commit_end(t, rv);
    t->committing = true;
    weir_committer_start(t->committer, commit_eos_finish, t);
    return WEIR_OK;
}

int
weir__task_commit_poll(weir_task *t, int wait_ms)
{
    if (!t->committing)
        return WEIR_OK;
    int rv;
    if (wait_ms < 0)
        rv = weir_committer_wait(t->committer);
    else if (!weir_committer_done(t->committer, wait_ms, &rv))
        return WEIR_EAGAIN;
    return commit_end(t, rv);
}

int
weir__task_commit(weir_task *t)
{
    int rv = weir__task_commit_poll(t, -1);
    if (rv != WEIR_OK || !t->dirty)
        return rv;
    rv = weir__task_commit_begin(t);
    return rv == WEIR_OK ? weir__task_commit_poll(t, -1) : rv;
}

int
weir__task_abort(weir_task *t, int why)
{
    weir_log_warn("task", "aborting transaction task=%s why=%s detail=\"%s\"",
        t->name, weir_err_name(why), weir_kafka_producer_errstr(t->prod));
    if (t->eos && t->in_txn) {
        /* A retriable abort failure may be retried as is; past a few
         * tries the caller restarts the task, whose init_transactions
         * aborts the transaction on the broker. */
        int rv = WEIR_OK;
        for (int attempt = 0; attempt < 5; attempt++) {
            rv = weir_kafka_producer_abort(t->prod, COMMIT_TIMEOUT_MS);
            if (rv != WEIR_EABORTED && rv != WEIR_ETIMEDOUT)
                break;
            weir_clock_sleep_ms(100u << attempt);
        }
        if (rv != WEIR_OK)
            return rv == WEIR_EFENCED ? rv : WEIR_EKAFKA;
    } else if (!t->eos) {
        return WEIR_EKAFKA; /* at-least-once: restart from the offsets */
    }
    t->in_txn = false;
    weir__ops_drop_pending(t);
    weir__task_drop_held(t); /* the consumer seeks back to before them */
    weir_store_abort(t->store);
    (void)drain_deliveries(t);
    weir_kafka_producer_clear_error(t->prod);
    weir_kafka_tp *tps = calloc(t->n_inputs ? t->n_inputs : 1, sizeof(*tps));
    if (!tps)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < t->n_inputs; i++) {
        t->inputs[i].position = t->inputs[i].committed;
        tps[i].topic = t->inputs[i].topic;
        tps[i].partition = (int32_t)t->partition;
        tps[i].offset = t->inputs[i].committed;
    }
    int rv = weir_kafka_consumer_assign(t->cons, tps, t->n_inputs);
    free(tps);
    if (rv != WEIR_OK)
        return rv;
    t->dirty = false;
    t->stats.aborts++;
    t->last_commit_ms = weir_clock_mono_ms();
    t->next_retry_ms = weir_clock_mono_ms() + 100;
    return WEIR_OK;
}
