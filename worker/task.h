/*
 * A task: (job, subtopology, partition), the unit of assignment, state and
 * transactions. Owned by exactly one stream thread; nothing here locks.
 *
 * Lifecycle (weir_task_state; one transition function checks the table
 * in task.c):
 *   CREATED -> RESTORING -> RUNNING -> CLOSED
 *   RESTORING | RUNNING -> CREATED (a retriable error: start over from the
 *                                   last checkpoint)
 *   CREATED | RESTORING | RUNNING -> FENCED (the producer was fenced or
 *       hit a fatal error: another owner may hold the transactional id)
 *   FENCED -> CREATED (weir_task_reset: the coordinator confirmed that the
 *       task is still ours, so restarting, which fences the other, is
 *       safe; docs/exactly-once.md "Liveness")
 *   CREATED | RESTORING | RUNNING | STANDBY -> FAILED (on_error: fail, or
 *       an unrecoverable error)
 *   CREATED -> STANDBY -> CREATED (standby tasks only tail changelogs)
 *   any -> CLOSED
 * A stopped task answers weir_task_step and weir_task_commit with the
 * error that stopped it (WEIR_EFENCED, WEIR_ESTATE for FAILED,
 * WEIR_ECLOSED) for as long as it stays stopped.
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
    /* Set when the worker stops: a restore in progress gives up (its
     * progress is checkpointed). May be NULL. */
    const atomic_bool *stopping;
} weir_task_opts;

#define WEIR_TASK_LATENCY_BUCKETS 11 /* 1,2,5,...,1000 ms, +Inf */

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
 * starts consuming. WEIR_EFENCED / WEIR_EKAFKA / WEIR_ESTORE on failure
 * (the task is then FAILED or FENCED); WEIR_ETIMEDOUT: retry later.
 */
int weir_task_start(weir_task *t);

/*
 * One turn of the loop: consume for up to poll_ms (fewer when records are
 * waiting), run the operators, and commit when the commit interval has
 * passed. Returns WEIR_OK, or the error that moved the task to FENCED or
 * FAILED (and keeps returning it while the task stays there). *busy says
 * whether records were processed.
 */
int weir_task_step(weir_task *t, int poll_ms, bool *busy);

/*
 * Makes a FENCED task CREATED again so that it starts (and fences whoever
 * fenced it) at the runtime's next turn. Only for a task whose ownership
 * the coordinator confirmed after the fence. WEIR_ESTATE if not FENCED.
 */
int weir_task_reset(weir_task *t);

/* Commits what is open now (clean stop). */
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
