/*
 * The coordinator's cluster state machine: jobs and their tasks, members
 * (workers) and their epochs, the assignment and its generation. No I/O and
 * no threads: the event loop (server.c) feeds it decoded messages and clock
 * ticks, the unit tests do the same without sockets.
 *
 * Member lifecycle (one transition function, member_set, checks the table
 * in cluster.c and refuses anything else with WEIR_ESTATE):
 *   ALIVE --drain--> DRAINING (it stays DRAINING once it has no tasks)
 *   ALIVE | DRAINING --leave / session expiry--> DEAD
 *   DEAD --hello--> ALIVE (a Hello from a DRAINING member goes through
 *       DEAD: a restart undrains; DRAINING -> ALIVE is refused)
 * A Hello always gives a new member epoch; a Heartbeat or Leave carrying
 * another epoch, or from a DEAD member, is stale (WEIR_ESTATE).
 *
 * Assignment: weir_assignor_run computes each task's target; a task whose
 * target differs from the worker still running it is revoked first and
 * handed over when that worker's heartbeat shows it applied the current
 * generation without the task, or when it dies (two phases). Every change
 * of what any worker should run bumps the generation.
 *
 * Fenced owners: a worker reports a task FENCED when its producer was
 * fenced. If the task is still assigned to that worker (no other owner),
 * the generation is bumped so that the worker gets an assignment naming
 * it again, which tells it to restart the task (fencing the zombie that
 * fenced it); a task moving away goes to its target as usual.
 *
 * Locality: everything here runs on the coordinator's event-loop thread.
 */
#ifndef WEIR_COORDINATOR_CLUSTER_H
#define WEIR_COORDINATOR_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/cluster.pb-c.h"

typedef struct weir_cluster weir_cluster;

typedef struct weir_cluster_opts {
    uint32_t heartbeat_interval_ms;
    uint32_t session_timeout_ms;
    uint32_t join_window_ms; /* joins within this window: one rebalance */
    /* A task not RUNNING for longer than this is stuck and its job shown
     * degraded; 0: 15000. */
    uint32_t stuck_task_ms;
    const char *bootstrap; /* sent in Welcome */
} weir_cluster_opts;

/* Number of commit-latency buckets in TaskStatus (1..1000 ms, +Inf). */
#define WEIR_CLUSTER_LAT_BUCKETS 11
extern const double weir_cluster_lat_bounds_ms[WEIR_CLUSTER_LAT_BUCKETS - 1];

/* Counters for /metrics. */
typedef struct weir_cluster_stats {
    uint64_t rebalances;
    uint64_t hellos, heartbeats, leaves, stale;
    uint64_t deaths; /* session expiries */
    uint64_t hb_latency_buckets[WEIR_CLUSTER_LAT_BUCKETS];
    double hb_latency_sum_ms;
    uint64_t hb_latency_count;
} weir_cluster_stats;

/* Returns NULL on allocation failure. Strings in opts are copied. */
weir_cluster *weir_cluster_new(const weir_cluster_opts *opts);
void weir_cluster_free(weir_cluster *cl); /* NULL-safe */

/*
 * Registers (or re-registers) a worker. Fills *welcome (its bootstrap
 * string is borrowed from cl). WEIR_EINVAL for an empty worker id.
 */
int weir_cluster_hello(weir_cluster *cl, const Weir__Cluster__Hello *hello,
    uint64_t now_ms, Weir__Cluster__Welcome *welcome);

/*
 * Processes a heartbeat. On WEIR_OK *reply is filled; free it with
 * weir_cluster_reply_fini. WEIR_ESTATE: unknown worker, dead member or
 * another epoch (the worker must say Hello again).
 */
int weir_cluster_heartbeat(weir_cluster *cl, const Weir__Cluster__Heartbeat *hb,
    uint64_t now_ms, int64_t now_wall_ms, Weir__Cluster__HeartbeatReply *reply);
void weir_cluster_reply_fini(Weir__Cluster__HeartbeatReply *reply);

/* A clean leave: the member is dead at once. WEIR_ESTATE if stale. */
int weir_cluster_leave(
    weir_cluster *cl, const Weir__Cluster__Leave *leave, uint64_t now_ms);

/*
 * Adds a job. topo moves into cl on success (a copy is kept; the caller
 * still frees its own). sub_tasks[i]: task count of subtopology i (the
 * partitions of its input topic). WEIR_EEXIST when a job of that name is
 * not cancelled, WEIR_EINVAL for a count mismatch or zero tasks.
 */
int weir_cluster_submit(weir_cluster *cl, const Weir__Topology__Topology *topo,
    const uint32_t *sub_tasks, size_t n_sub, int64_t now_wall_ms,
    uint64_t now_ms);

/* True if a job of that name exists and is not cancelled. */
bool weir_cluster_job_active(const weir_cluster *cl, const char *job);

/* Cancels a job: its tasks are revoked. WEIR_ENOTFOUND if unknown,
 * WEIR_ESTATE if it is cancelled already. */
int weir_cluster_cancel(weir_cluster *cl, const char *job, uint64_t now_ms);

/* Drains a worker: its tasks move away. WEIR_ENOTFOUND if unknown. */
int weir_cluster_drain(weir_cluster *cl, const char *worker, uint64_t now_ms);

/*
 * Advances time: expires members past the session timeout, runs a due
 * rebalance. Call every few tens of milliseconds.
 */
void weir_cluster_tick(weir_cluster *cl, uint64_t now_ms);

/*
 * Pretends every live member was heard from at now_ms: used after the
 * loop was blocked (a slow Kafka call) and after loading state, so that a
 * stall of the coordinator itself never expires anyone.
 */
void weir_cluster_touch_all(weir_cluster *cl, uint64_t now_ms);

/* True when durable state changed since the last weir_cluster_clean. */
bool weir_cluster_dirty(const weir_cluster *cl);
void weir_cluster_clean(weir_cluster *cl);

uint64_t weir_cluster_generation(const weir_cluster *cl);
const weir_cluster_stats *weir_cluster_stats_get(const weir_cluster *cl);

/* Durable state (cluster_persist.c): a CoordinatorState protobuf. */
int weir_cluster_save(const weir_cluster *cl, const char *path);
/* WEIR_ENOTFOUND when there is no file; WEIR_ECORRUPT when unreadable. */
int weir_cluster_load(weir_cluster *cl, const char *path, uint64_t now_ms);

/*
 * Read-only views for replies, HTTP and metrics (cluster_view.c). Each
 * fills a reply whose arrays are malloc'd; free with
 * weir_cluster_view_free (strings are borrowed from cl, valid until the
 * next mutation).
 */
void weir_cluster_job_list(
    const weir_cluster *cl, Weir__Cluster__JobListReply *reply);
int weir_cluster_job_describe(const weir_cluster *cl, const char *job,
    uint64_t now_ms, Weir__Cluster__JobDescribeReply *reply);
void weir_cluster_worker_list(const weir_cluster *cl, uint64_t now_ms,
    Weir__Cluster__WorkerListReply *reply);
void weir_cluster_status(const weir_cluster *cl, uint64_t uptime_ms,
    Weir__Cluster__StatusReply *reply);
void weir_cluster_view_free(ProtobufCMessage *reply);

/* Prometheus text of the cluster's metrics into a malloc'd string. */
char *weir_cluster_metrics(const weir_cluster *cl, uint64_t now_ms);
/* JSON arrays for /api/jobs, /api/workers, /api/tasks (malloc'd). */
char *weir_cluster_json_jobs(const weir_cluster *cl);
char *weir_cluster_json_workers(const weir_cluster *cl, uint64_t now_ms);
/*
 * /api/tasks: per task its placement and last report, plus what the
 * dashboard shows: records in/out per second (from the counters' change
 * between heartbeats), last commit age, commit latency p50/p99 (from the
 * reported histogram), restore progress and each standby's state.
 */
char *weir_cluster_json_tasks(const weir_cluster *cl, uint64_t now_ms);
/* /api/events: the recent cluster events, newest first (cluster_events.c). */
char *weir_cluster_json_events(const weir_cluster *cl);

/* The stored topology of a job (also a cancelled one), or NULL. Borrowed:
 * valid until the next mutation of cl. */
const Weir__Topology__Topology *weir_cluster_job_topology(
    const weir_cluster *cl, const char *job);

/*
 * The q-quantile (0 < q <= 1) of a commit-latency histogram of
 * WEIR_CLUSTER_LAT_BUCKETS per-bucket counts, interpolated within its
 * bucket as Prometheus' histogram_quantile does; the +Inf bucket answers
 * its lower bound. -1 when the histogram is empty. Pure.
 */
double weir_cluster_lat_quantile(const uint64_t *buckets, double q);

#endif
