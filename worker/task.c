/* Task lifecycle: create, start (fence, restore, resume), step, close. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/crash.h"
#include "common/err.h"
#include "common/job/job.h"
#include "common/log.h"
#include "task_impl.h"

#define TXN_INIT_TIMEOUT_MS 30000
#define MAX_BATCH_RECORDS 2000

static const char *state_names[] = {
    [WEIR_TASK_CREATED] = "created",
    [WEIR_TASK_RESTORING] = "restoring",
    [WEIR_TASK_RUNNING] = "running",
    [WEIR_TASK_STANDBY] = "standby",
    [WEIR_TASK_FENCED] = "fenced",
    [WEIR_TASK_FAILED] = "failed",
    [WEIR_TASK_CLOSED] = "closed",
};

const char *
weir_task_state_name(weir_task_state st)
{
    return st <= WEIR_TASK_CLOSED ? state_names[st] : "?";
}

/* Allowed transitions: from -> bitmask of targets (task.h lists them). */
#define B(s) (1u << (s))
static const unsigned allowed[] = {
    [WEIR_TASK_CREATED] = B(WEIR_TASK_RESTORING) | B(WEIR_TASK_STANDBY) |
                          B(WEIR_TASK_FENCED) | B(WEIR_TASK_FAILED) |
                          B(WEIR_TASK_CLOSED),
    [WEIR_TASK_RESTORING] = B(WEIR_TASK_RUNNING) | B(WEIR_TASK_CREATED) |
                            B(WEIR_TASK_FENCED) | B(WEIR_TASK_FAILED) |
                            B(WEIR_TASK_CLOSED),
    [WEIR_TASK_RUNNING] = B(WEIR_TASK_CREATED) | B(WEIR_TASK_FENCED) |
                          B(WEIR_TASK_FAILED) | B(WEIR_TASK_CLOSED),
    [WEIR_TASK_STANDBY] =
        B(WEIR_TASK_CREATED) | B(WEIR_TASK_FAILED) | B(WEIR_TASK_CLOSED),
    [WEIR_TASK_FENCED] = B(WEIR_TASK_CREATED) | B(WEIR_TASK_CLOSED),
    [WEIR_TASK_FAILED] = B(WEIR_TASK_CLOSED),
    [WEIR_TASK_CLOSED] = 0,
};
#undef B

/* The one transition function: rejects what the lifecycle forbids. */
int
weir__task_set_state(weir_task *t, weir_task_state to)
{
    weir_task_state from = t->state;
    if (from == to)
        return WEIR_OK;
    if (!(allowed[from] & (1u << to))) {
        weir_log_error("task", "invalid transition task=%s from=%s to=%s",
            t->name, state_names[from], state_names[to]);
        return WEIR_ESTATE;
    }
    weir_log_debug("task", "state task=%s from=%s to=%s", t->name,
        state_names[from], state_names[to]);
    t->state = to;
    t->stats.state = to;
    return WEIR_OK;
}

/*
 * What an operation on a task that can no longer act answers, for as long
 * as it stays so (sticky, like LMDB's MDB_BAD_TXN): WEIR_EFENCED, WEIR_EFAILED
 * or WEIR_ECLOSED; WEIR_OK for a task that can still act.
 */
static int
stopped(const weir_task *t)
{
    switch (t->state) {
    case WEIR_TASK_FENCED:
        return WEIR_EFENCED;
    case WEIR_TASK_FAILED:
        return WEIR_EFAILED;
    case WEIR_TASK_CLOSED:
        return WEIR_ECLOSED;
    default:
        return WEIR_OK;
    }
}

int
weir_task_new(weir_task **tp, const Weir__Topology__Topology *topo,
    uint32_t sub, uint32_t partition, const weir_task_opts *opts)
{
    weir_task *t = calloc(1, sizeof(*t));
    if (!t)
        return WEIR_ENOMEM;
    weir_arena_init(&t->arena, 0);
    weir_buf_init(&t->kbuf);
    weir_buf_init(&t->vbuf);
    weir_buf_init(&t->sbuf);
    weir_buf_init(&t->pbuf);
    t->state = WEIR_TASK_CREATED;
    t->sub = sub;
    t->partition = partition;
    t->standby = opts->standby;
    t->consumer_queue_kb = opts->consumer_queue_kb;
    t->pending_budget = opts->pending_budget_bytes ? opts->pending_budget_bytes
                                                   : (size_t)4 << 20;
    t->stopping = opts->stopping;
    t->stats.standby = opts->standby;
    t->env = opts->env;
    t->topo = weir_job_copy(topo);
    t->job = strdup(topo->job);
    t->bootstrap = strdup(opts->bootstrap ? opts->bootstrap : "");
    t->worker_id = strdup(opts->worker_id ? opts->worker_id : "worker");
    int rv = t->topo && t->job && t->bootstrap && t->worker_id ? WEIR_OK
                                                               : WEIR_ENOMEM;
    if (rv != WEIR_OK)
        goto out;
    snprintf(t->name, sizeof(t->name), "%s-%u_%u", topo->job, sub, partition);
    snprintf(t->store_key, sizeof(t->store_key), "%s/%u_%u", topo->job, sub,
        partition);
    t->eos = t->topo->guarantee == WEIR__TOPOLOGY__GUARANTEE__EXACTLY_ONCE;
    for (size_t i = 0; i < t->topo->n_subtopologies; i++)
        if (t->topo->subtopologies[i]->id == sub)
            t->st = t->topo->subtopologies[i];
    if (!t->st) {
        weir_log_error(
            "task", "no such subtopology job=%s sub=%u", t->job, sub);
        rv = WEIR_EINVAL;
        goto out;
    }
    t->n_inputs = t->st->n_input_topics;
    t->inputs = calloc(t->n_inputs ? t->n_inputs : 1, sizeof(*t->inputs));
    t->n_stores = t->st->n_stores;
    t->stores = calloc(t->n_stores ? t->n_stores : 1, sizeof(*t->stores));
    if (!t->inputs || !t->stores) {
        rv = WEIR_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < t->n_inputs; i++) {
        t->inputs[i].topic = strdup(t->st->input_topics[i]);
        t->inputs[i].position = WEIR_KAFKA_OFFSET_INVALID;
        t->inputs[i].committed = WEIR_KAFKA_OFFSET_INVALID;
        t->inputs[i].high = -1;
        if (!t->inputs[i].topic)
            rv = WEIR_ENOMEM;
    }
    for (size_t i = 0; rv == WEIR_OK && i < t->n_stores; i++) {
        weir_task_store *ts = &t->stores[i];
        ts->name = strdup(t->st->stores[i]);
        ts->next_offset = -1;
        ts->ckpt_seen = -1;
        for (size_t j = 0; j < t->topo->n_stores; j++) {
            const Weir__Topology__Store *s = t->topo->stores[j];
            if (strcmp(s->name, t->st->stores[i]) == 0) {
                ts->changelog = strdup(s->changelog_topic);
                ts->windowed = s->windowed;
                ts->source_table = s->source_table;
            }
        }
        for (size_t k = 0; ts->changelog && k < t->n_inputs; k++)
            if (ts->source_table &&
                strcmp(t->inputs[k].topic, ts->changelog) == 0) {
                ts->input = k;
                t->inputs[k].table = true;
            }
        if (!ts->name || !ts->changelog) {
            weir_log_error("task", "store without changelog task=%s store=%s",
                t->name, t->st->stores[i]);
            rv = ts->name ? WEIR_EINVAL : WEIR_ENOMEM;
        }
    }
    if (rv == WEIR_OK) {
        char err[256];
        rv = weir__ops_build(t, err, sizeof(err));
        if (rv != WEIR_OK)
            weir_log_error("task", "cannot build operators task=%s err=\"%s\"",
                t->name, err);
    }
out:
    if (rv != WEIR_OK) {
        weir_task_free(t);
        return rv;
    }
    *tp = t;
    return WEIR_OK;
}

/* Releases clients and store; state is left to the caller. */
static void
release(weir_task *t)
{
    (void)weir__task_commit_poll(t, -1); /* the committer uses the clients */
    if (t->prod && t->in_txn) {
        /* Best effort: the next owner's init_transactions aborts it too. */
        (void)weir_kafka_producer_abort(t->prod, 5000);
    }
    t->in_txn = false;
    /* What was processed since the last commit is dropped with the
     * transaction: a restart must not commit it (it would commit with
     * no transaction open, fail and restart again while input is idle). */
    t->dirty = false;
    weir_kafka_producer_free(t->prod);
    t->prod = NULL;
    weir__task_drop_held(t); /* before the consumer that owns them */
    weir_kafka_consumer_free(t->cons);
    t->cons = NULL;
    weir_store_close(t->store);
    t->store = NULL;
    for (size_t i = 0; i < t->n_stores; i++)
        t->stores[i].next_offset = -1;
}

static int
fail(weir_task *t, int rv, const char *what)
{
    const char *detail = t->prod ? weir_kafka_producer_errstr(t->prod) : "";
    if (rv != WEIR_EINVAL || !t->stats.error[0]) /* on_error: fail keeps
                                                    the record's error */
        snprintf(t->stats.error, sizeof(t->stats.error), "%s: %s%s%s", what,
            weir_strerror(rv), *detail ? ": " : "", detail);
    if (rv == WEIR_ESTOPPED) {
        /* The worker is stopping: nothing failed. */
        release(t);
        (void)weir__task_set_state(t, WEIR_TASK_CREATED);
        return rv;
    }
    if (rv == WEIR_EFENCED) {
        /* Someone else may own the task now: only the coordinator can
         * say, so the task waits for weir_task_reset. */
        weir_log_warn("task",
            "fenced, task stopped until the coordinator confirms ownership "
            "task=%s during=%s err=\"%s\"",
            t->name, what, t->stats.error);
        release(t);
        t->stats.fences++;
        (void)weir__task_set_state(t, WEIR_TASK_FENCED);
    } else if (rv == WEIR_ETIMEDOUT || rv == WEIR_EKAFKA ||
               rv == WEIR_ENOTFOUND || rv == WEIR_EABORTED) {
        /* Retriable: start over from the last checkpoint. */
        weir_log_warn("task", "restarting task task=%s during=%s err=\"%s\"",
            t->name, what, t->stats.error);
        release(t);
        (void)weir__task_set_state(t, WEIR_TASK_CREATED);
        t->next_retry_ms = weir_clock_mono_ms() + 500;
    } else {
        weir_log_error("task", "task failed task=%s during=%s err=\"%s\"",
            t->name, what, t->stats.error);
        release(t);
        (void)weir__task_set_state(t, WEIR_TASK_FAILED);
    }
    return rv;
}

/* A sink or a repartition: an operator that writes its topic. */
static bool
writes_topic(const weir_op *op)
{
    return op->pb->kind == WEIR__TOPOLOGY__OP_KIND__OP_SINK ||
           op->pb->kind == WEIR__TOPOLOGY__OP_KIND__OP_REPARTITION;
}

/* The largest record each output topic takes: its max.message.bytes,
 * within what the producer takes. */
static int
learn_limits(weir_task *t)
{
    const char **topics = calloc(t->n_ops + 1, sizeof(*topics));
    int64_t *max = calloc(t->n_ops + 1, sizeof(*max));
    size_t n = 0;
    int rv = topics && max ? WEIR_OK : WEIR_ENOMEM;
    for (size_t i = 0; rv == WEIR_OK && i < t->n_ops; i++)
        if (writes_topic(&t->ops[i]))
            topics[n++] = t->ops[i].pb->topic;
    if (rv == WEIR_OK) {
        topics[n] = t->topo->dlq_topic;
        rv = weir_kafka_producer_max_bytes(
            t->prod, topics, n + 1, max, TXN_INIT_TIMEOUT_MS);
    }
    for (size_t i = 0; rv == WEIR_OK && i <= n; i++)
        if (max[i] <= 0 || max[i] > WEIR_KAFKA_PRODUCER_MAX_RECORD)
            max[i] = max[i] <= 0 ? WEIR_KAFKA_DEFAULT_MAX_MESSAGE_BYTES
                                 : WEIR_KAFKA_PRODUCER_MAX_RECORD;
    for (size_t i = 0, k = 0; rv == WEIR_OK && i < t->n_ops; i++)
        if (writes_topic(&t->ops[i]))
            t->ops[i].max_bytes = max[k++];
    if (rv == WEIR_OK)
        t->dlq_max_bytes = max[n];
    free(topics);
    free(max);
    return rv;
}

/* Learns the leaders of every topic the task writes. */
static void
warm_outputs(weir_task *t)
{
    for (size_t i = 0; i < t->n_ops; i++)
        if (writes_topic(&t->ops[i]))
            weir_kafka_producer_warm(t->prod, t->ops[i].pb->topic);
    for (size_t i = 0; i < t->n_stores; i++)
        weir_kafka_producer_warm(t->prod, t->stores[i].changelog);
}

static int
resume_inputs(weir_task *t)
{
    weir_kafka_tp *tps = calloc(t->n_inputs ? t->n_inputs : 1, sizeof(*tps));
    if (!tps)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < t->n_inputs; i++) {
        tps[i].topic = t->inputs[i].topic;
        tps[i].partition = (int32_t)t->partition;
    }
    int rv = weir_kafka_consumer_committed(t->cons, tps, t->n_inputs, 10000);
    for (size_t i = 0; rv == WEIR_OK && i < t->n_inputs; i++) {
        if (tps[i].offset < 0) /* none committed: from the start (an
                                  offset out of range resets to earliest) */
            tps[i].offset = 0;
        t->inputs[i].committed = tps[i].offset;
        t->inputs[i].position = tps[i].offset;
    }
    if (rv == WEIR_OK)
        rv = weir_kafka_consumer_assign(t->cons, tps, t->n_inputs);
    free(tps);
    return rv;
}

/*
 * A transaction is open for a commit interval and its commit: give it
 * room (at least 60 s), within Kafka's default transaction.max.timeout.ms
 * (15 min; the job compiler allows intervals up to 10 min).
 */
static int
txn_timeout_ms(const weir_task *t)
{
    uint64_t interval = t->topo->commit_interval_ms
                            ? t->topo->commit_interval_ms
                            : WEIR_JOB_COMMIT_INTERVAL_MS;
    uint64_t ms = 2 * interval + 10000;
    return ms < 60000 ? 60000 : ms > 900000 ? 900000 : (int)ms;
}

int
weir_task_start(weir_task *t)
{
    int rv = stopped(t);
    if (rv != WEIR_OK)
        return rv;
    if (t->state != WEIR_TASK_CREATED)
        return WEIR_ESTATE;
    if (weir_clock_mono_ms() < t->next_retry_ms)
        return WEIR_EAGAIN;
    uint64_t t0 = weir_clock_mono_ms();
    weir__ops_drop_pending(t); /* of a transaction that never committed */
    rv = weir__task_set_state(
        t, t->standby ? WEIR_TASK_STANDBY : WEIR_TASK_RESTORING);
    if (rv != WEIR_OK)
        return rv;
    char cid[300];
    snprintf(cid, sizeof(cid), "%s-%s", t->worker_id, t->name);
    rv = weir_kafka_consumer_new_sized(&t->cons, t->bootstrap, cid, t->job,
        t->eos || t->standby, t->consumer_queue_kb);
    if (rv != WEIR_OK)
        return fail(t, rv, "create consumer");
    if (!t->standby) {
        rv = weir_kafka_producer_new(&t->prod, t->bootstrap, cid,
            t->eos ? t->name : NULL, txn_timeout_ms(t));
        if (rv != WEIR_OK)
            return fail(t, rv, "create producer");
        if (t->eos) {
            rv = weir_kafka_producer_init_txn(t->prod, TXN_INIT_TIMEOUT_MS);
            if (rv != WEIR_OK)
                return fail(t, rv, "init transactions");
        }
    }
    const char **names = calloc(t->n_stores ? t->n_stores : 1, sizeof(*names));
    if (!names)
        return fail(t, WEIR_ENOMEM, "open store");
    for (size_t i = 0; i < t->n_stores; i++)
        names[i] = t->stores[i].name;
    rv = weir_store_open(&t->store, t->env, t->store_key, names, t->n_stores);
    free(names);
    if (rv != WEIR_OK)
        return fail(t, rv, "open store");
    rv = weir__task_restore(t);
    if (rv != WEIR_OK)
        return fail(t, rv, "restore");
    if (t->standby)
        return WEIR_OK;
    warm_outputs(t);
    if ((rv = learn_limits(t)) != WEIR_OK)
        return fail(t, rv, "describe output topics");
    rv = resume_inputs(t);
    if (rv != WEIR_OK)
        return fail(t, rv, "fetch committed offsets");
    (void)weir__task_set_state(t, WEIR_TASK_RUNNING);
    t->last_commit_ms = weir_clock_mono_ms();
    t->stats.error[0] = '\0';
    weir_log_info("task",
        "task running task=%s restored=%llu start_ms=%llu inputs=%zu "
        "stores=%zu",
        t->name, (unsigned long long)t->stats.restored,
        (unsigned long long)(weir_clock_mono_ms() - t0), t->n_inputs,
        t->n_stores);
    return WEIR_OK;
}

size_t
weir__record_size(
    size_t klen, size_t vlen, const weir_kafka_header *h, size_t nh)
{
    /* The v2 batch header (61 bytes); the record's length, attributes,
     * timestamp and offset deltas, key and value lengths and header count
     * (varints: 40 bytes at most); each header's two lengths. */
    size_t n = 61 + 40 + klen + vlen;
    for (size_t i = 0; i < nh; i++)
        n += 10 + strlen(h[i].name) + h[i].len;
    return n;
}

int
weir__task_produce(weir_task *t, const char *topic, int64_t max_bytes,
    int32_t partition, const void *key, size_t klen, const void *val,
    size_t vlen, int64_t ts, const weir_kafka_header *h, size_t nh)
{
    size_t size = weir__record_size(klen, vlen, h, nh);
    if ((int64_t)size > max_bytes) {
        snprintf(t->err_msg, sizeof(t->err_msg),
            "a record of %zu bytes for %s exceeds its limit of %lld bytes "
            "(max.message.bytes)",
            size, topic, (long long)max_bytes);
        return WEIR_EINVAL;
    }
    int rv;
    while ((rv = weir_kafka_producer_send(t->prod, topic, partition, key, klen,
                val, vlen, ts, h, nh, NULL)) == WEIR_EAGAIN)
        (void)weir_kafka_producer_poll(t->prod, 10); /* the queue is full */
    /* Just after a record joined an open transaction (it waits for
     * linger.ms in the producer's queue): where a zombie is paused so
     * that it resumes into a fenced producer. */
    if (rv == WEIR_OK && t->in_txn)
        WEIR_CRASH_POINT_AT("produce-in-transaction", t->name);
    return rv;
}

int
weir__task_state_put(weir_task *t, int store, const void *key, size_t klen,
    const void *val, size_t vlen)
{
    /* The changelog record is produced at commit, once per key. */
    return weir_store_put(t->store, (size_t)store, key, klen, val, vlen);
}

int
weir__task_input_index(const weir_task *t, const char *topic)
{
    for (size_t i = 0; i < t->n_inputs; i++)
        if (strcmp(t->inputs[i].topic, topic) == 0)
            return (int)i;
    return -1;
}

static int
run_step(weir_task *t, int poll_ms, bool *busy)
{
    int rv = weir__task_commit_poll(t, poll_ms);
    if (rv == WEIR_EAGAIN)
        return WEIR_OK; /* still committing: records wait for it */
    if (rv != WEIR_OK)
        return rv;
    uint64_t now = weir_clock_mono_ms();
    uint64_t interval = t->topo->commit_interval_ms
                            ? t->topo->commit_interval_ms
                            : WEIR_JOB_COMMIT_INTERVAL_MS;
    for (int n = 0; n < MAX_BATCH_RECORDS; n++) {
        weir_kafka_msg m;
        int wait = n == 0 ? poll_ms : 0;
        int prv = t->n_inputs > 1 ? weir__task_next_ordered(t, wait, &m)
                                  : weir_kafka_consumer_poll(t->cons, wait, &m);
        if (prv == WEIR_EAGAIN)
            break;
        if (prv == WEIR_ECLOSED) {
            int i = weir__task_input_index(t, m.topic);
            if (i >= 0)
                t->inputs[i].high = m.offset;
            continue;
        }
        if (prv != WEIR_OK)
            break; /* logged; the consumer retries by itself */
        int i = weir__task_input_index(t, m.topic);
        if (i < 0 || m.partition != (int32_t)t->partition) {
            weir_kafka_msg_release(&m);
            continue;
        }
        if (t->eos && !t->in_txn) {
            rv = weir_kafka_producer_begin(t->prod);
            if (rv != WEIR_OK) {
                weir_kafka_msg_release(&m);
                return rv;
            }
            t->in_txn = true;
        }
        *busy = true;
        rv = weir__ops_process(t, &m);
        t->inputs[i].position = m.offset + 1;
        weir_kafka_msg_release(&m);
        t->stats.records_in++;
        t->dirty = true;
        if (rv == WEIR_OK && t->pending_bytes > t->pending_budget)
            rv = weir__ops_flush(t); /* early, in the same transaction */
        if (rv != WEIR_OK)
            return rv;
        if ((n & 31) == 31 &&
            weir_clock_mono_ms() - t->last_commit_ms >= interval)
            break;
    }
    (void)weir_kafka_producer_poll(t->prod, 0);
    now = weir_clock_mono_ms();
    if (t->dirty && now - t->last_commit_ms >= interval)
        rv = weir__task_commit_begin(t);
    else if (!t->dirty)
        t->last_commit_ms = now;
    return rv;
}

int
weir_task_step(weir_task *t, int poll_ms, bool *busy)
{
    *busy = false;
    if (t->state == WEIR_TASK_STANDBY)
        return weir__task_standby_step(t, poll_ms, busy);
    if (t->state != WEIR_TASK_RUNNING)
        return stopped(t); /* WEIR_OK: not started yet, nothing to do */
    if (weir_clock_mono_ms() < t->next_retry_ms)
        return WEIR_OK;
    int rv = run_step(t, poll_ms, busy);
    if (rv == WEIR_OK)
        return WEIR_OK;
    if (rv == WEIR_EABORTED || rv == WEIR_ETIMEDOUT)
        rv = weir__task_abort(t, rv);
    if (rv == WEIR_OK)
        return WEIR_OK;
    if (t->state == WEIR_TASK_FAILED)
        return rv; /* on_error: fail, already recorded */
    return fail(t, rv, "processing");
}

int
weir_task_commit(weir_task *t)
{
    if (t->state != WEIR_TASK_RUNNING)
        return stopped(t); /* WEIR_OK: nothing open to commit */
    if (!t->dirty && !t->committing)
        return WEIR_OK;
    int rv = weir__task_commit(t);
    if (rv == WEIR_EABORTED || rv == WEIR_ETIMEDOUT)
        rv = weir__task_abort(t, rv);
    if (rv != WEIR_OK && t->state == WEIR_TASK_RUNNING)
        return fail(t, rv, "commit");
    return rv;
}

int
weir_task_reset(weir_task *t)
{
    if (t->state != WEIR_TASK_FENCED)
        return WEIR_ESTATE;
    weir_log_info("task",
        "ownership confirmed, restarting fenced task task=%s fences=%llu",
        t->name, (unsigned long long)t->stats.fences);
    t->next_retry_ms = 0;
    return weir__task_set_state(t, WEIR_TASK_CREATED);
}

void
weir_task_close(weir_task *t)
{
    if (!t || t->state == WEIR_TASK_CLOSED)
        return;
    release(t);
    (void)weir__task_set_state(t, WEIR_TASK_CLOSED);
}

void
weir_task_free(weir_task *t)
{
    if (!t)
        return;
    release(t);
    weir_committer_free(t->committer);
    free(t->commit_tps);
    weir__ops_free(t);
    for (size_t i = 0; t->inputs && i < t->n_inputs; i++) {
        free(t->inputs[i].topic);
        free(t->inputs[i].held);
    }
    free(t->inputs);
    for (size_t i = 0; t->stores && i < t->n_stores; i++) {
        free(t->stores[i].name);
        free(t->stores[i].changelog);
    }
    free(t->stores);
    weir_arena_fini(&t->arena);
    weir_buf_fini(&t->kbuf);
    weir_buf_fini(&t->vbuf);
    weir_buf_fini(&t->sbuf);
    weir_buf_fini(&t->pbuf);
    weir_job_free(t->topo);
    free(t->job);
    free(t->bootstrap);
    free(t->worker_id);
    free(t);
}

weir_task_state
weir_task_get_state(const weir_task *t)
{
    return t->state;
}

const char *
weir_task_name(const weir_task *t)
{
    return t->name;
}

const char *
weir_task_job(const weir_task *t)
{
    return t->job;
}

uint32_t
weir_task_sub(const weir_task *t)
{
    return t->sub;
}

uint32_t
weir_task_partition(const weir_task *t)
{
    return t->partition;
}

const Weir__Topology__Topology *
weir_task_topology(const weir_task *t)
{
    return t->topo;
}

bool
weir_task_is_standby(const weir_task *t)
{
    return t->standby;
}

void
weir_task_stats_get(const weir_task *t, weir_task_stats *st)
{
    *st = t->stats;
    int64_t lag = 0;
    /* Records a read_committed consumer has yet to receive: from where it
     * is to the last stable offset (librdkafka's high mark under
     * read_committed). Transaction markers are not records: once the
     * consumer reached the end of a partition, the markers it passed there
     * do not count. */
    for (size_t i = 0; t->cons && i < t->n_inputs; i++) {
        int64_t end = weir_kafka_consumer_cached_high(
            t->cons, t->inputs[i].topic, (int32_t)t->partition);
        int64_t at = t->inputs[i].position;
        if (at < t->inputs[i].high)
            at = t->inputs[i].high;
        if (end >= 0 && at >= 0 && end > at)
            lag += end - at;
    }
    st->lag = lag;
}

size_t
weir_task_n_inputs(const weir_task *t)
{
    return t->n_inputs;
}

void
weir_task_input(
    const weir_task *t, size_t i, const char **topic, int64_t *committed)
{
    *topic = t->inputs[i].topic;
    *committed = t->inputs[i].committed;
}

size_t
weir_task_n_stores(const weir_task *t)
{
    return t->n_stores;
}

void
weir_task_store_ckpt(
    const weir_task *t, size_t i, const char **store, int64_t *offset)
{
    *store = t->stores[i].name;
    /* A commit in flight writes the checkpoint on its own thread. */
    weir_task_store *ts = &t->stores[i];
    if (!t->committing)
        ts->ckpt_seen = t->store ? weir_store_checkpoint(t->store, i) : -1;
    *offset = ts->ckpt_seen;
}
