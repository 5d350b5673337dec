/*
 * The worker runtime: runs a set of tasks (job, subtopology, partition) with
 * exactly-once results, on N stream threads that each own their tasks
 * exclusively (Kafka Streams' model).
 *
 * The desired set of tasks comes from weir_runtime_assign: in standalone
 * mode main.c passes every task of one job; in cluster mode the control
 * thread (worker/control.c) passes what the coordinator assigned. The
 * runtime diffs the desired set against what runs: revoked tasks are
 * stopped (open transaction aborted, store closed, local state kept for a
 * later return), new ones are started (init_transactions fences any older
 * owner, store restored from its changelog, committed offsets fetched).
 *
 * Threading: every function here is thread-safe unless noted.
 */
#ifndef WEIR_WORKER_RUNTIME_H
#define WEIR_WORKER_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/cluster.pb-c.h"
#include "proto/topology.pb-c.h"

typedef struct weir_runtime weir_runtime;

typedef struct weir_runtime_opts {
    const char *bootstrap; /* Kafka bootstrap servers "host:port,..." */
    const char *data_dir;  /* local state (RocksDB); created if missing */
    const char *worker_id; /* for logs and client.id; NULL: "worker" */
    int threads;           /* stream threads; <= 0: the core count */
    /* RocksDB cache + write buffers; <= 0: 256 MB. A 64th of it is each
     * task's budget for pending partial aggregates and latest updates. */
    int64_t memory_limit_bytes;
    /* Standalone: log a progress line every this many ms (0: never). */
    int progress_interval_ms;
    /* Per-partition consumer prefetch in KB; <= 0: 512. More catches up
     * faster from a backlog and costs memory (see kafka.h). */
    int consumer_queue_kb;
} weir_runtime_opts;

/*
 * Creates a runtime (opens the state store in data_dir). Nothing runs until
 * weir_runtime_start. Errors: WEIR_EINVAL (bad opts), WEIR_ESTORE (data_dir
 * unusable, e.g. locked by another worker), WEIR_ENOMEM.
 */
int weir_runtime_new(weir_runtime **rtp, const weir_runtime_opts *opts);

/* Starts the stream threads. WEIR_ESTATE if already started. */
int weir_runtime_start(weir_runtime *rt);

/*
 * Stops the stream threads: each finishes its current commit cycle, commits
 * it (or aborts it when it cannot), closes its tasks and returns. Blocks
 * until every thread has returned. NULL-safe; idempotent.
 */
void weir_runtime_stop(weir_runtime *rt);

/* Frees the runtime; stops it first if needed. NULL-safe. */
void weir_runtime_free(weir_runtime *rt);

/*
 * Sets the desired set of active and standby tasks. topologies holds (at
 * least) the topology of every job named in the assignment; the runtime
 * copies what it needs (the caller keeps ownership of everything passed).
 * Returns at once; stream threads apply the change at their next loop turn.
 * Errors: WEIR_EINVAL (a task names a job without a topology, or a
 * subtopology the topology does not have), WEIR_ENOMEM.
 */
int weir_runtime_assign(weir_runtime *rt, const Weir__Cluster__Assignment *as,
    Weir__Topology__Topology *const *topologies, size_t n);

/*
 * A snapshot for heartbeats: one TaskStatus per task the runtime holds
 * (active or standby, including failed and fenced ones until they are
 * unassigned), and the local-state checkpoints found in data_dir (for
 * Hello). Free both with weir_runtime_report_free. Either output pair may be
 * NULL when the caller does not want it.
 */
int weir_runtime_report(weir_runtime *rt, Weir__Cluster__TaskStatus ***tasks,
    size_t *n_tasks, Weir__Cluster__TaskCheckpoint ***local, size_t *n_local);

void weir_runtime_report_free(Weir__Cluster__TaskStatus **tasks, size_t n_tasks,
    Weir__Cluster__TaskCheckpoint **local, size_t n_local);

/*
 * Changes the Kafka bootstrap servers (the coordinator's Welcome names
 * them). Applies to tasks started afterwards.
 */
void weir_runtime_set_bootstrap(weir_runtime *rt, const char *bootstrap);

/*
 * The membership lease, in weir_clock_mono_ms time: a task starts (or
 * restarts after an error) only before until_ms, because starting calls
 * init_transactions, which fences whoever holds the task now; only a
 * worker whose membership the coordinator still accepts may do that. The
 * control thread renews the lease with every accepted heartbeat (send
 * time + session timeout) and sets it to 0 when told its epoch is stale.
 * Running tasks go on regardless: a coordinator outage never stops them.
 * A runtime nobody sets a lease on (standalone) never waits.
 */
void weir_runtime_set_lease(weir_runtime *rt, uint64_t until_ms);

/*
 * True once some task failed with on_error: fail (or an unrecoverable
 * error) so that a standalone worker should exit non-zero.
 */
bool weir_runtime_failed(weir_runtime *rt);

/*
 * Totals over every task since start, for progress lines and tests.
 */
typedef struct weir_runtime_totals {
    uint64_t records_in;
    uint64_t records_out;
    uint64_t commits;
    uint64_t aborts;
    double commit_latency_sum_ms; /* over every commit counted */
    uint32_t tasks_running;
    uint32_t tasks_fenced;
    uint32_t tasks_failed;
    uint32_t tasks_total;
} weir_runtime_totals;

void weir_runtime_totals_get(weir_runtime *rt, weir_runtime_totals *tot);

/* runtime_query.c: answers a pull query from this worker's stores (the
 * reply's status says 200, 400, 404 or 500; rows are malloc'd). */
int weir_runtime_store_query(weir_runtime *rt,
    const Weir__Cluster__StoreQuery *q, Weir__Cluster__StoreQueryReply *r);
/* Frees what weir_runtime_store_query put in r. */
void weir_runtime_store_query_fini(Weir__Cluster__StoreQueryReply *r);

#endif
