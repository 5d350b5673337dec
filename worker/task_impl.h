/* Internal to task*.c and ops*.c: the task object and the operator graph. */
#ifndef WEIR_WORKER_TASK_IMPL_H
#define WEIR_WORKER_TASK_IMPL_H

#include "committer.h"
#include "overlay.h"
#include "task.h"

/* A record flowing through the operators of one task. */
typedef struct weir_rec {
    weir_value key;
    weir_value value;
    int64_t timestamp_ms;
    bool windowed;
    int64_t window_start_ms, window_end_ms;
} weir_rec;

/* One operator, ready to run. */
typedef struct weir_op {
    const Weir__Topology__Operator *pb;
    weir_expr *predicate, *key, *value, *time; /* NULL when absent */
    size_t *children;                          /* operators fed by this one */
    size_t n_children;
    int store; /* index into the task's stores, -1 none */
    weir_type value_type, key_type;
    /* Per key (and window), what waits for the commit: an aggregation
     * emitting latest notes its updated keys, a repartition writing
     * partials folds them. Values start with the be64 timestamp of the
     * latest record. NULL when the operator keeps nothing. */
    weir_overlay *pending;
    /* A repartition writing partials: the aggregation they are for (its
     * expressions parsed here), NULL otherwise. */
    struct weir_op *partial;
    /* ... and, windowed, the latest event time it has seen (in memory):
     * a record for a window closed by then is late here already. */
    int64_t stream_time;
    /* A sink or repartition: the largest record its topic takes (learned
     * when the task starts). */
    int64_t max_bytes;
    /* A session window or a stream-stream join: the stream time at which
     * its earliest session or buffered record closes (INT64_MIN: unknown,
     * look at the next commit). */
    int64_t close_at;
} weir_op;

/* An aggregate state: records folded in and the aggregate. */
typedef struct weir_agg_state {
    int64_t count;
    weir_value agg;
} weir_agg_state;

#define WEIR_AGG_MAX_WINDOWS 64

typedef struct weir_input {
    char *topic;
    int64_t position;  /* next offset to read */
    int64_t committed; /* last committed position */
    /* The offset the consumer reached at its last end of partition: the
     * last stable offset then, past any transaction markers. For lag. */
    int64_t high;
    /* Several inputs (task_order.c): records consumed, not yet processed
     * (held[held_head..n_held)); whether the consumer is at the end of the
     * partition; since when the queue has been empty (0: it is not). */
    weir_kafka_msg *held;
    size_t held_head, n_held, held_cap;
    bool at_end;
    bool paused; /* its partition, while its queue is full (task_order.c) */
    bool table;  /* a table's topic */
    uint64_t empty_since;
} weir_input;

typedef struct weir_task_store {
    char *name;
    char *changelog;     /* topic */
    int64_t next_offset; /* after the last delivered changelog record */
    int64_t ckpt_seen;   /* the checkpoint last read on the stream thread */
    bool windowed;
    /* A table: its changelog is its own topic, inputs[input]; its
     * checkpoint is that input's committed position. */
    bool source_table;
    size_t input;
} weir_task_store;

struct weir_task {
    Weir__Topology__Topology *topo; /* owned copy */
    const Weir__Topology__Subtopology *st;
    uint32_t sub, partition;
    char *job;
    char name[256];      /* <job>-<sub>_<part>: transactional id, logs */
    char store_key[256]; /* <job>/<sub>_<part>: store column families */
    char *bootstrap, *worker_id;
    bool eos, standby;
    int consumer_queue_kb;
    const atomic_bool *stopping;
    weir_task_state state;

    weir_op *ops;
    size_t n_ops;
    weir_input *inputs;
    size_t n_inputs;
    weir_task_store *stores;
    size_t n_stores;

    weir_store_env *env;
    weir_store *store;
    weir_kafka_consumer *cons;
    weir_kafka_producer *prod;

    bool in_txn; /* a transaction is open */
    /* A commit whose blocking half runs on the committer thread: the
     * stream thread leaves the task alone until it ends. */
    weir_committer *committer;
    bool committing;
    weir_kafka_tp *commit_tps; /* the positions being committed */
    uint64_t commit_t0_us;
    bool dirty; /* records consumed since the last commit */
    uint64_t last_commit_ms;
    uint64_t next_retry_ms; /* backoff after an abort */

    bool order_waiting; /* task_order.c: waiting for an input */
    /* The operator passing the record on (weir__ops_forward): which side
     * of a stream-stream join it arrives on. */
    size_t forward_from;

    /* The record being processed (for DLQ and headers). */
    const weir_kafka_msg *msg;
    const char *err_op;
    char err_msg[256];
    int64_t dlq_max_bytes; /* the largest record the DLQ topic takes */

    weir_arena arena;
    weir_buf kbuf, vbuf, sbuf, pbuf;

    /* Bytes the operators' pending tables hold, and the most they may
     * before they are flushed early, within the transaction. */
    size_t pending_bytes, pending_budget;

    weir_task_stats stats;
};

/* task.c */
int weir__task_set_state(weir_task *t, weir_task_state to);
/* At most the bytes a record takes in a record batch of its own (what a
 * topic's max.message.bytes limits). */
size_t weir__record_size(
    size_t klen, size_t vlen, const weir_kafka_header *h, size_t nh);

/* Queues a record in the transaction (or at-least-once producer),
 * waiting while the producer's queue is full. A record larger than
 * max_bytes is a bad record: WEIR_EINVAL, why in t->err_msg. */
int weir__task_produce(weir_task *t, const char *topic, int64_t max_bytes,
    int32_t partition, const void *key, size_t klen, const void *val,
    size_t vlen, int64_t ts, const weir_kafka_header *h, size_t nh);

/* The index of the input reading topic, or -1. */
int weir__task_input_index(const weir_task *t, const char *topic);
/* task_order.c: the next record of a task with several inputs, in
 * timestamp order (WEIR_EAGAIN: none may go yet); release it. */
int weir__task_next_ordered(weir_task *t, int poll_ms, weir_kafka_msg *m);
/* Releases the records queued by weir__task_next_ordered. */
void weir__task_drop_held(weir_task *t);

/* task_restore.c: replays each store's changelog from its checkpoint. */
int weir__task_restore(weir_task *t);
/* Standby: applies what the changelogs have now; never produces. */
int weir__task_standby_step(weir_task *t, int poll_ms, bool *busy);

/* task_commit.c: the commit cycle. _begin does what needs the stream
 * thread and hands an exactly-once commit's blocking half to the task's
 * committer (at-least-once commits finish at once); _poll ends it when
 * it is done (WEIR_EAGAIN while it runs; wait_ms < 0 waits for it).
 * weir__task_commit does both. */
int weir__task_commit_begin(weir_task *t);
int weir__task_commit_poll(weir_task *t, int wait_ms);
int weir__task_commit(weir_task *t);
/* Aborts the open transaction, drops the batch and seeks back. */
int weir__task_abort(weir_task *t, int why);

/* ops.c: builds the operator graph (parsing expressions). */
int weir__ops_build(weir_task *t, char *err, size_t errsize);
void weir__ops_free(weir_task *t);
/* Runs one input record through the subtopology. */
int weir__ops_process(weir_task *t, const weir_kafka_msg *m);

/* ops.c: pushes r into operator i's children. */
int weir__ops_forward(weir_task *t, size_t i, weir_rec *r);
/* ops.c: forwards a result made at a flush (no input record): a record
 * error downstream is handled by weir__ops_result_failed. */
int weir__ops_emit_result(weir_task *t, size_t i, weir_rec *r);
/* ops.c: a result r failed with rv: skipped, the task failed, or r
 * dead-lettered (as JSON) as on_error says. Other errors pass through. */
int weir__ops_result_failed(weir_task *t, const weir_rec *r, int rv);

/* ops.c: evaluates e on r and, in a join, right (NULL: none). */
int weir__ops_eval_join(weir_task *t, const weir_op *op, const weir_expr *e,
    const weir_rec *r, const weir_value *right, weir_value *out);

/* ops_join_stream.c: a stream-stream join. A record of either side is
 * joined with the other side's records of its key at most within apart
 * and waits for later ones; _close (at commit) forgets those that can
 * match no more, emitting the unmatched ones of an outer side. */
int weir__ops_stream_join(weir_task *t, size_t i, const weir_rec *r);
int weir__ops_stream_join_close(weir_task *t, size_t i);

/* ops_join.c: a record of a table's topic updates its store (a null
 * value deletes the key). */
int weir__ops_table_update(
    weir_task *t, const weir_op *op, const weir_kafka_msg *m);
/* ops_join.c: the table row of key for join operator op, decoded into
 * *right (null and *found false when there is none). */
int weir__ops_table_get(weir_task *t, const weir_op *op, const weir_value *key,
    weir_value *right, bool *found);

/* ops_agg.c: count, reduce, aggregate, windowed or not. */
int weir__ops_aggregate(weir_task *t, size_t i, weir_rec *r);
/* ops_agg.c: emits the latest value of a key noted in operator i's
 * pending table (emit: latest). */
int weir__ops_agg_flush(weir_task *t, size_t i, const weir_ov_entry *e);

/* ops_partial.c: a repartition writing partials folds r into its pending
 * partials; _flush writes one of them to the topic. */
int weir__ops_partial_fold(weir_task *t, size_t i, const weir_rec *r);
int weir__ops_partial_flush(weir_task *t, size_t i, const weir_ov_entry *e);

/* ops_pending.c: flushes every operator's pending keys into the open
 * transaction (at commit, or early when over the task's budget); _drop
 * forgets them (abort). */
int weir__ops_flush(weir_task *t);
void weir__ops_drop_pending(weir_task *t);

/* agg_fold.c: records a per-record error of operator op (WEIR_EINVAL). */
int weir__agg_error(weir_task *t, const weir_op *op, const char *msg);
/* agg_fold.c: the algebra of aggregate states. */
int weir__agg_lift(
    weir_task *t, const weir_op *op, const weir_rec *r, weir_agg_state *out);
int weir__agg_merge(weir_task *t, const weir_op *op, const weir_rec *r,
    const weir_agg_state *a, const weir_agg_state *b, weir_agg_state *out);
weir_value weir__agg_result(const weir_op *op, const weir_agg_state *s);
int weir__agg_encode(const weir_agg_state *s, weir_buf *buf);
int weir__agg_decode(
    weir_task *t, const void *data, size_t len, weir_agg_state *out);
int weir__agg_event_time(
    weir_task *t, const weir_op *op, const weir_rec *r, int64_t *ts);
/* The windows holding event time ts (op has a window). */
int weir__agg_windows(weir_task *t, const weir_op *op, int64_t ts,
    int64_t starts[WEIR_AGG_MAX_WINDOWS], size_t *n);
bool weir__agg_windowed(const weir_op *op);
/* ops_agg.c: the store (and pending) key of k: codec-encoded, after an
 * 8-byte window start when windowed (filled in by the caller), copied
 * into the arena. */
int weir__agg_key(
    weir_task *t, const weir_value *k, bool windowed, char **key, size_t *klen);
Weir__Topology__Emit weir__agg_emit(const weir_op *op);
bool weir__agg_session(const weir_op *op);
/* ops_agg.c: reads a key of a store, the value copied into the arena. */
int weir__agg_state_get(weir_task *t, int store, const void *key, size_t klen,
    const char **val, size_t *vlen, bool *found);
/* ops_agg.c: a windowed store's stream time (INT64_MIN before any
 * record); _advance raises it to ts (it never goes back), *st the stream
 * time after. */
int weir__agg_stream_time(weir_task *t, int store, int64_t *st);
int weir__agg_advance_stream_time(
    weir_task *t, const weir_op *op, int64_t ts, int64_t *st);

/* ops_session.c: session windows. A record (lifted into in) opens,
 * extends or merges its key's sessions; _flush emits a session noted
 * pending (emit: latest); _close removes the sessions closed by the
 * store's stream time, emitting them under emit: final (at commit). */
int weir__ops_session(
    weir_task *t, size_t i, const weir_rec *r, const weir_agg_state *in);
int weir__ops_session_flush(weir_task *t, size_t i, const weir_ov_entry *e);
int weir__ops_session_close(weir_task *t, size_t i);
/* ops_pending.c: notes key in op's pending table with ts (keeping the latest),
 * and the value bytes after the timestamp. */
int weir__agg_pending_put(weir_task *t, weir_op *op, const void *key,
    size_t klen, int64_t ts, const void *val, size_t vlen);

/* Writes a state update into the store's uncommitted writes; its
 * changelog record is produced at commit (task_commit.c). */
int weir__task_state_put(weir_task *t, int store, const void *key, size_t klen,
    const void *val, size_t vlen);

#endif
