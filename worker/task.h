/*
 * A task: (job, subtopology, partition), the unit of assignment, state and
 * transactions. Owned by exactly one stream thread; nothing here locks.
 *
 * Lifecycle (weir_task_state). One transition function checks the table
 * `allowed[]` in task.c, which is exactly this, and refuses anything else
 * with WEIR_ESTATE:
 *   CREATED   -> RESTORING (start, active) | STANDBY (start, standby)
 *                | FENCED | FAILED | CLOSED
 *   RESTORING -> RUNNING (restored, offsets fetched) | CREATED (retriable
 *                error or worker stopping: start over from the last
 *                checkpoint) | FENCED | FAILED | CLOSED
 *   RUNNING   -> CREATED (retriable error) | FENCED | FAILED | CLOSED
 *   STANDBY   -> CREATED (error or stopping) | FAILED | CLOSED
 *   FENCED    -> CREATED (weir_task_reset: the coordinator confirmed that
 *                the task is still ours, so restarting, which fences the
 *                other, is safe; docs/exactly-once.md "Liveness") | CLOSED
 *   FAILED    -> CLOSED
 *   CLOSED    (final)
 * FENCED: the producer was fenced or hit a fatal error (another owner may
 * hold the transactional id). FAILED: on_error: fail, or an unrecoverable
 * error. A standby has no producer, so it is never fenced.
 *
 * Stopped tasks refuse work, LMDB-style (MDB_BAD_TXN): the call that
 * stops a task returns the error that stopped it; from then on
 * weir_task_start, weir_task_step and weir_task_commit return
 * WEIR_EFENCED (FENCED), WEIR_EFAILED (FAILED) or WEIR_ECLOSED (CLOSED)
 * for as long as it stays there, never WEIR_OK. A fenced task is expected
 * in a cluster (a takeover, or a zombie coming back): the caller leaves it
 * waiting for weir_task_reset or the assignment that retires it, and
 * treats it neither as a crash nor as a failure of the worker.
 *
 * The commit cycle (exactly-once, DESIGN.md):
 *   consume (read_committed) -> operators -> state writes into the store's
 *   uncommitted batch and its changelog, outputs produced in the
 *   transaction -> send offsets -> commit -> only then the batch and the
 *   changelog offsets are written to RocksDB in one atomic write.
 */
#ifndef WEIR_WORKER_TASK_H
#define WEIR_WORKER_TASK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/expr/expr.h"
#include "common/value/value.h"
#include "kafka.h"
#include "proto/topology.pb-c.h"
#include "store.h"

typedef enum weir_task_state {
    WEIR_TASK_CREATED,
    WEIR_TASK_RESTORING,
    WEIR_TASK_RUNNING,
    WEIR_TASK_STANDBY,
    WEIR_TASK_FENCED,
    WEIR_TASK_FAILED,
    WEIR_TASK_CLOSED,
} weir_task_state;

const char *weir_task_state_name(weir_task_state st);

typedef struct weir_task weir_task;

typedef struct weir_task_opts {
    const char *bootstrap;
    const char *worker_id;
    weir_store_env *env;
    bool standby;
    int consumer_queue_kb; /* <= 0: the adapter's default (512) */
    /* Bytes of pending partial aggregates and latest updates a task keeps
     * between commits before it flushes them early; 0: 4 MiB. */
    size_t pending_budget_bytes;
    /* Set when the worker stops: a restore in progress gives up (its
     * progress is checkpointed). May be NULL. */
    const atomic_bool *stopping;
} weir_task_opts;

#define WEIR_TASK_LATENCY_BUCKETS 11 /* 1,2,5,...,1000 ms, +Inf */
/* The upper bounds of the commit latency buckets but the last (+Inf). */
extern const double weir_task_latency_bounds_ms[WEIR_TASK_LATENCY_BUCKETS - 1];

/* What heartbeats and progress lines report. */
typedef struct weir_task_stats {
    weir_task_state state;
    bool standby;
    int64_t lag;
    uint64_t records_in, records_out, commits, aborts, restored, dlq, skipped,
        late;
    uint64_t fences; /* times the task was fenced */
    uint64_t latency_buckets[WEIR_TASK_LATENCY_BUCKETS];
    double latency_sum_ms;
    char error[256];
} weir_task_stats;

/*
 * Creates a task of topo (which the task copies). Nothing touches Kafka
 * or RocksDB until weir_task_start. WEIR_EINVAL: no such subtopology, or
 * an expression that does not parse.
 */
int weir_task_new(weir_task **tp, const Weir__Topology__Topology *topo,
    uint32_t sub, uint32_t partition, const weir_task_opts *opts);

/*
 * Creates the clients, fences older owners (init_transactions), opens the
 * store, restores it from the changelog, fetches committed offsets and
 * starts consuming. On failure the error that stopped it (WEIR_EFENCED,
 * WEIR_EKAFKA, WEIR_ESTORE, ...; the task is then FENCED, FAILED or
 * CREATED again for a retriable one); WEIR_EAGAIN: too early after a
 * retriable error, try later. A stopped task: WEIR_EFENCED, WEIR_EFAILED,
 * WEIR_ECLOSED; another state than CREATED: WEIR_ESTATE.
 */
int weir_task_start(weir_task *t);

/*
 * One turn of the loop: consume for up to poll_ms (fewer when records are
 * waiting), run the operators, and commit when the commit interval has
 * passed. Returns WEIR_OK (also for a task not started yet), or the error
 * that just stopped the task (FENCED, FAILED) or made it start over
 * (CREATED), then the sticky error of a stopped task. *busy says whether
 * records were processed.
 */
int weir_task_step(weir_task *t, int poll_ms, bool *busy);

/*
 * Makes a FENCED task CREATED again so that it starts (and fences whoever
 * fenced it) at the runtime's next turn. Only for a task whose ownership
 * the coordinator confirmed after the fence. WEIR_ESTATE if not FENCED.
 */
int weir_task_reset(weir_task *t);

/* Commits what is open now (clean stop). WEIR_OK when nothing is open;
 * the sticky error of a stopped task; or the commit's error (the task is
 * then stopped or restarting, as for weir_task_step). */
int weir_task_commit(weir_task *t);

/* Aborts anything open, closes clients and store (local state stays). */
void weir_task_close(weir_task *t);
void weir_task_free(weir_task *t);

weir_task_state weir_task_get_state(const weir_task *t);
const char *weir_task_name(const weir_task *t); /* "<job>-<sub>_<part>" */
const char *weir_task_job(const weir_task *t);
uint32_t weir_task_sub(const weir_task *t);
uint32_t weir_task_partition(const weir_task *t);
bool weir_task_is_standby(const weir_task *t);
const Weir__Topology__Topology *weir_task_topology(const weir_task *t);
void weir_task_stats_get(const weir_task *t, weir_task_stats *st);

/* Committed input offsets and store checkpoints, for reports. */
size_t weir_task_n_inputs(const weir_task *t);
void weir_task_input(
    const weir_task *t, size_t i, const char **topic, int64_t *committed);
size_t weir_task_n_stores(const weir_task *t);
void weir_task_store_ckpt(
    const weir_task *t, size_t i, const char **store, int64_t *offset);

#endif
