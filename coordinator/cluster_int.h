/*
 * Internals of the cluster state machine shared by cluster.c,
 * cluster_persist.c and cluster_view.c. Not for other components.
 */
#ifndef WEIR_COORDINATOR_CLUSTER_INT_H
#define WEIR_COORDINATOR_CLUSTER_INT_H

#include "assignor.h"
#include "cluster.h"
#include "common/buf.h"

typedef enum weir__member_state {
    WEIR__MEMBER_ALIVE,
    WEIR__MEMBER_DRAINING,
    WEIR__MEMBER_DEAD,
} weir__member_state;

typedef struct weir__local {
    uint32_t task;
    int64_t offset;
} weir__local;

typedef struct weir__member {
    char *id;
    char *address;
    char query_address[256]; /* pull queries (Hello); "" if none */
    char instance[40];       /* the process's, from its hello; "" if unknown */
    Weir__Cluster__KafkaState kafka; /* as it last reported */
    char kafka_error[160];
    uint32_t capacity;
    uint64_t epoch;
    weir__member_state state;
    uint64_t last_seen_ms;
    uint64_t known_generation;
    weir__local *local; /* reported local state, task indices */
    size_t n_local, cap_local;
    uint32_t n_active, n_standby; /* published, see publish_counts */
    uint32_t n_pending; /* tasks it runs that move away (revoke pending) */
} weir__member;

typedef struct weir__status {
    bool valid;
    Weir__Cluster__TaskState state;
    int64_t lag;
    uint64_t records_in, records_out, commits, restored;
    uint64_t dead_lettered, skipped, late;
    uint64_t buckets[WEIR_CLUSTER_LAT_BUCKETS];
    double lat_sum_ms;
    char error[160];
    uint64_t updated_ms;
    double commit_rate;         /* commits/s, smoothed */
    double in_rate;             /* records_in/s, smoothed */
    double out_rate;            /* records_out/s, smoothed */
    uint64_t rate_commits;      /* commits at rate_at_ms */
    uint64_t rate_in, rate_out; /* records_in, records_out at rate_at_ms */
    uint64_t rate_at_ms;
    uint64_t last_commit_ms; /* when commits last grew (heartbeat time) */
} weir__status;

/* What a standby of a task last reported (TaskStatus with standby set). */
typedef struct weir__standby_status {
    int32_t member; /* member index (an entry is empty while
                       updated_ms is 0) */
    Weir__Cluster__TaskState state;
    uint64_t restored; /* changelog records applied */
    uint64_t updated_ms;
} weir__standby_status;

typedef struct weir__task {
    uint32_t job; /* index into jobs */
    uint32_t sub, part;
    int32_t target;  /* member index or -1 */
    int32_t running; /* member that may still run it, or -1 */
    uint32_t n_standbys;
    int32_t standbys[WEIR_ASSIGNOR_MAX_STANDBYS];
    /* No longer wanted (its job was cancelled, or resubmitted with fewer
     * partitions) but maybe still running: kept, assigned to nobody, until
     * the worker running it confirms or dies. A resubmitted job's task
     * therefore waits for the old incarnation to stop (two phases). */
    bool orphan;
    weir__status st;
    /* Its standbys' last reports, by member (any order, stale entries of
     * members that are no longer standbys are ignored by the views). */
    weir__standby_status sb_st[WEIR_ASSIGNOR_MAX_STANDBYS];
    /* The owner's fence count (TaskStatus.fences) this coordinator last
     * answered with a restart, 0 once the task reports another state: a
     * FENCED report with another count is a new fence to answer (the
     * count alone is not enough, a new task instance counts from 0). */
    uint64_t fences_answered;
    uint64_t not_running_since_ms; /* 0 while RUNNING on its target */
    bool stuck; /* not running for longer than opts.stuck_task_ms */
} weir__task;

typedef struct weir__job {
    Weir__Topology__Topology *topo; /* protobuf-c allocated, owned */
    Weir__Cluster__JobState state;
    int64_t submitted_at_ms;
    uint32_t *sub_tasks;
    size_t n_sub;
} weir__job;

/* Cluster events for the dashboard (cluster_events.c): a bounded ring of
 * the most recent, newest last. */
typedef enum weir__event_kind {
    WEIR__EVENT_REBALANCE,
    WEIR__EVENT_FENCED,
    WEIR__EVENT_FAILOVER, /* a session expired: the member's tasks move */
    WEIR__EVENT_JOINED,
    WEIR__EVENT_LEFT,
    WEIR__EVENT_DRAIN,
    WEIR__EVENT_SUBMIT,
    WEIR__EVENT_CANCEL,
    WEIR__EVENT_DLQ,
    WEIR__EVENT_KINDS
} weir__event_kind;

#define WEIR__EVENTS_MAX 200

typedef struct weir__event {
    uint64_t seq; /* 1, 2, ... since the start */
    int64_t wall_ms;
    weir__event_kind kind;
    uint64_t count; /* DLQ: records; repeated reports of one task add up */
    char text[200];
} weir__event;

struct weir_cluster {
    weir_cluster_opts opts; /* bootstrap owned */
    weir__member *members;  /* indices stable for the process lifetime */
    size_t n_members, cap_members;
    weir__job *jobs; /* indices stable; cancelled jobs stay */
    size_t n_jobs, cap_jobs;
    weir__task *tasks; /* sorted by (job, sub, part) */
    size_t n_tasks;
    uint64_t generation;
    uint64_t last_epoch;
    uint64_t rebalance_due_ms; /* 0: none scheduled */
    bool dirty;
    weir_cluster_stats stats;
    weir__event events[WEIR__EVENTS_MAX]; /* ring, oldest at events_head */
    size_t events_head, n_events;
    uint64_t events_seq;
    uint64_t events_total[WEIR__EVENT_KINDS];
};

/* Index of a job by name, or -1. */
int weir__cluster_job_find(const weir_cluster *cl, const char *name);
/* Index of a member by id, or -1. */
int weir__cluster_member_find(const weir_cluster *cl, const char *id);
/* Index of a task, or -1. */
int weir__cluster_task_find(
    const weir_cluster *cl, const char *job, uint32_t sub, uint32_t part);
/* Appends a member (state DEAD, epoch 0); returns its index or -1. */
int weir__cluster_member_add(weir_cluster *cl, const char *id);
/*
 * Replaces the task array with the tasks of every non-cancelled job,
 * keeping the placement and status of tasks that existed before, plus the
 * orphans still running; remaps reported local state.
 */
int weir__cluster_tasks_rebuild(weir_cluster *cl);
/* Sorts the task array by (job, subtopology, partition). */
void weir__cluster_tasks_sort(weir_cluster *cl);
/* Recounts each member's published active and standby tasks. */
void weir__cluster_publish_counts(weir_cluster *cl);
/* Runs on its target and reports RUNNING. */
bool weir__cluster_task_running(const weir__task *t);
/* "RUNNING", "FENCED"..., or "unassigned", "moving", "assigned". */
const char *weir__cluster_task_state_name(const weir__task *t);
/* What member w should run now: active, or standby (two-phase). */
bool weir__cluster_runs_active(const weir__task *t, int32_t w);
bool weir__cluster_runs_standby(const weir__task *t, int32_t w);
/* Bumps the generation (every published assignment change). */
void weir__cluster_bump_generation(weir_cluster *cl);
/* Hands pending tasks to their targets where the phase allows it; true if
 * anything changed. */
bool weir__cluster_apply_phase(weir_cluster *cl);
/* The member index for a current (id, epoch), or -1 (counted as stale). */
/* Records whether member w reaches Kafka; a change to REACHABLE or
 * UNREACHABLE (which decide whether it may run tasks, see rebalance in
 * cluster.c) schedules a rebalance at at_ms. */
void weir__cluster_member_kafka(weir_cluster *cl, int w,
    Weir__Cluster__KafkaState state, const char *error, uint64_t at_ms);

/* "RUNNING"... of a TaskState without its TASK_ prefix. */
const char *weir__cluster_task_state_enum_name(Weir__Cluster__TaskState s);
/* Appends the dashboard's live numbers (cluster_view_live.c) to the
 * Prometheus text in b: per-worker and per-standby families, rates, commit
 * age and latency quantiles, restore progress, event counts. */
void weir__cluster_metrics_live(
    const weir_cluster *cl, uint64_t now_ms, weir_buf *b);

/* Records an event (text printf-style, cut at 199 bytes). */
void weir__cluster_event(weir_cluster *cl, weir__event_kind kind,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records n more dead-lettered records of task t: added to the newest
 * event when that is a DLQ event of the same task. */
void weir__cluster_event_dlq(
    weir_cluster *cl, const weir__task *t, const char *worker, uint64_t n);
/* The event kind's name ("rebalance", "fenced", ...). */
const char *weir__cluster_event_name(weir__event_kind kind);

int weir__cluster_member_check(
    weir_cluster *cl, const char *id, uint64_t epoch);
/* Replaces a member's reported local state. */
void weir__cluster_local_set(weir_cluster *cl, weir__member *m,
    Weir__Cluster__TaskCheckpoint *const *cps, size_t n);

#endif
