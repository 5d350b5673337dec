/* Restore: replay each store's changelog from its checkpoint to its end;
 * standby tasks keep tailing it. A table's changelog is its own topic:
 * it is replayed up to the task's committed offset (what comes after is
 * input still to process), and standbys leave it alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/crash.h"
#include "common/err.h"
#include "common/log.h"
#include "task_impl.h"

#define RESTORE_BATCH 2000
#define RESTORE_STALL_MS 30000

static int
store_of(weir_task *t, const char *topic)
{
    for (size_t i = 0; i < t->n_stores; i++)
        if (strcmp(t->stores[i].changelog, topic) == 0)
            return (int)i;
    return -1;
}

/* Assigns the consumer to the changelogs not done (a standby: every one
 * but tables') at their checkpoints. */
static int
assign_changelogs(weir_task *t, const bool *done, bool standby)
{
    weir_kafka_tp *tps = calloc(t->n_stores, sizeof(*tps));
    if (!tps)
        return WEIR_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < t->n_stores; i++) {
        if (standby ? t->stores[i].source_table : done[i])
            continue;
        int64_t ck = weir_store_checkpoint(t->store, i);
        tps[n].topic = t->stores[i].changelog;
        tps[n].partition = (int32_t)t->partition;
        tps[n].offset = ck >= 0 ? ck : 0;
        n++;
    }
    int rv = weir_kafka_consumer_assign(t->cons, tps, n);
    free(tps);
    return rv;
}

/* Where store i's replay ends: its changelog's end, or for a table the
 * task's committed offset of the table's topic. */
static int
replay_end(weir_task *t, size_t i, int64_t *end)
{
    const weir_task_store *ts = &t->stores[i];
    int64_t lo = 0;
    if (!ts->source_table)
        return weir_kafka_consumer_watermarks(
            t->cons, ts->changelog, (int32_t)t->partition, &lo, end, 10000);
    weir_kafka_tp tp = {
        .topic = ts->changelog, .partition = (int32_t)t->partition};
    int rv = weir_kafka_consumer_committed(t->cons, &tp, 1, 10000);
    *end = tp.offset > 0 ? tp.offset : 0;
    return rv;
}

static int
apply(weir_task *t, const weir_kafka_msg *m, int idx)
{
    t->stats.restored++;
    WEIR_CRASH_POINT("during-restore");
    return weir_store_put(
        t->store, (size_t)idx, m->key, m->key_len, m->value, m->value_len);
}

int
weir__task_restore(weir_task *t)
{
    if (t->n_stores == 0)
        return WEIR_OK;
    size_t n = t->n_stores;
    t->stats.restored = 0;
    int64_t *high = calloc(n, sizeof(*high));
    int64_t *next = calloc(n, sizeof(*next));
    bool *done = calloc(n, sizeof(*done));
    int rv = high && next && done ? WEIR_OK : WEIR_ENOMEM;
    size_t left = 0;
    for (size_t i = 0; rv == WEIR_OK && i < n; i++) {
        if (t->standby && t->stores[i].source_table) {
            done[i] = true; /* restored when the task becomes active */
            continue;
        }
        if ((rv = replay_end(t, i, &high[i])) != WEIR_OK)
            break;
        int64_t ck = weir_store_checkpoint(t->store, i);
        if (ck > high[i]) {
            /* The changelog is shorter than what we applied: it was
             * recreated. Local state cannot be trusted. */
            weir_log_warn("task",
                "checkpoint past changelog end, full restore task=%s "
                "store=%s checkpoint=%lld end=%lld",
                t->name, t->stores[i].name, (long long)ck, (long long)high[i]);
            if ((rv = weir_store_wipe(t->store, i)) != WEIR_OK)
                break;
            ck = -1;
        }
        next[i] = ck >= 0 ? ck : 0;
        done[i] = next[i] >= high[i] || t->standby;
        if (!done[i])
            left++;
    }
    /* An active task restores with a bulk consumer of its own (large
     * fetches), freed afterwards; a standby keeps tailing with the task's. */
    weir_kafka_consumer *task_cons = t->cons;
    if (rv == WEIR_OK && left > 0 && !t->standby) {
        char cid[300];
        snprintf(cid, sizeof(cid), "%s-%s-restore", t->worker_id, t->name);
        rv = weir_kafka_consumer_new_bulk(&t->cons, t->bootstrap, cid, t->job);
        if (rv != WEIR_OK)
            t->cons = task_cons;
    }
    if (rv == WEIR_OK && (left > 0 || t->standby))
        rv = assign_changelogs(t, done, t->standby);
    uint64_t t0 = weir_clock_mono_ms(), last_progress = t0;
    size_t batch = 0;
    while (rv == WEIR_OK && left > 0) {
        if (t->stopping && atomic_load(t->stopping)) {
            rv = WEIR_ESTOPPED;
            break;
        }
        weir_kafka_msg m;
        int prv = weir_kafka_consumer_poll(t->cons, 100, &m);
        if (prv == WEIR_EAGAIN || prv == WEIR_EKAFKA) {
            if (weir_clock_mono_ms() - last_progress > RESTORE_STALL_MS)
                rv = WEIR_ETIMEDOUT;
            continue;
        }
        last_progress = weir_clock_mono_ms();
        int idx = store_of(t, m.topic);
        if (idx < 0) {
            if (prv == WEIR_OK)
                weir_kafka_msg_release(&m);
            continue;
        }
        bool table = t->stores[idx].source_table;
        if (prv == WEIR_OK && table && m.offset >= high[idx]) {
            weir_kafka_msg_release(&m); /* input still to process */
            next[idx] = high[idx];
        } else if (prv == WEIR_OK) {
            if (m.key || !table) /* a table drops rows without a key */
                rv = apply(t, &m, idx);
            next[idx] = m.offset + 1;
            weir_kafka_msg_release(&m);
            batch++;
        } else if (m.offset > next[idx]) { /* end of partition */
            next[idx] = table && m.offset > high[idx] ? high[idx] : m.offset;
        }
        if (!done[idx] && (next[idx] >= high[idx] || prv == WEIR_ECLOSED)) {
            done[idx] = true;
            left--;
        }
        if (rv == WEIR_OK && (batch >= RESTORE_BATCH || left == 0)) {
            rv = weir_store_commit(t->store, next);
            batch = 0;
        }
    }
    if (rv == WEIR_OK && weir_store_pending(t->store) > 0)
        rv = weir_store_commit(t->store, next);
    if (rv == WEIR_OK && t->stats.restored > 0)
        weir_log_info("task", "restored task=%s records=%llu ms=%llu", t->name,
            (unsigned long long)t->stats.restored,
            (unsigned long long)(weir_clock_mono_ms() - t0));
    if (rv == WEIR_ESTOPPED && weir_store_pending(t->store) > 0 &&
        weir_store_commit(t->store, next) == WEIR_OK)
        weir_log_info("task", "restore interrupted task=%s records=%llu",
            t->name, (unsigned long long)t->stats.restored);
    if (rv != WEIR_OK)
        weir_store_abort(t->store);
    if (t->cons != task_cons) {
        weir_kafka_consumer_free(t->cons);
        t->cons = task_cons;
    }
    free(high);
    free(next);
    free(done);
    return rv;
}

int
weir__task_standby_step(weir_task *t, int poll_ms, bool *busy)
{
    if (t->n_stores == 0) {
        weir_clock_sleep_ms((uint64_t)poll_ms);
        return WEIR_OK;
    }
    int64_t *next = calloc(t->n_stores, sizeof(*next));
    if (!next)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < t->n_stores; i++)
        next[i] = -1;
    int rv = WEIR_OK;
    for (int k = 0; rv == WEIR_OK && k < RESTORE_BATCH; k++) {
        weir_kafka_msg m;
        int prv = weir_kafka_consumer_poll(t->cons, k == 0 ? poll_ms : 0, &m);
        if (prv != WEIR_OK && prv != WEIR_ECLOSED)
            break;
        if (prv == WEIR_ECLOSED)
            continue;
        int idx = store_of(t, m.topic);
        if (idx >= 0) {
            rv = apply(t, &m, idx);
            next[idx] = m.offset + 1;
            *busy = true;
        }
        weir_kafka_msg_release(&m);
    }
    if (rv == WEIR_OK && weir_store_pending(t->store) > 0)
        rv = weir_store_commit(t->store, next);
    free(next);
    return rv;
}
