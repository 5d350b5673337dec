/* The worker's Prometheus text: see metrics.h. */
#include "worker/metrics.h"

#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "common/prom.h"
#include "worker/runtime.h"
#include "worker/task.h"

static const char *const state_names[] = {
    [WEIR__CLUSTER__TASK_STATE__TASK_CREATED] = "CREATED",
    [WEIR__CLUSTER__TASK_STATE__TASK_RESTORING] = "RESTORING",
    [WEIR__CLUSTER__TASK_STATE__TASK_RUNNING] = "RUNNING",
    [WEIR__CLUSTER__TASK_STATE__TASK_STANDBY] = "STANDBY",
    [WEIR__CLUSTER__TASK_STATE__TASK_REVOKING] = "REVOKING",
    [WEIR__CLUSTER__TASK_STATE__TASK_FENCED] = "FENCED",
    [WEIR__CLUSTER__TASK_STATE__TASK_FAILED] = "FAILED",
    [WEIR__CLUSTER__TASK_STATE__TASK_CLOSED] = "CLOSED",
};
#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

static const char *
state_name(Weir__Cluster__TaskState s)
{
    return (size_t)s < N_STATES && state_names[s] ? state_names[s] : "UNKNOWN";
}

/* One per-task family: its name, type, help and the value it reads. */
typedef struct task_family {
    const char *name, *type, *help;
    double (*value)(const Weir__Cluster__TaskStatus *ts);
} task_family;

#define FIELD(f)                                                               \
    static double f(const Weir__Cluster__TaskStatus *ts)                       \
    {                                                                          \
        return (double)ts->f;                                                  \
    }
FIELD(records_in)
FIELD(records_out)
FIELD(lag)
FIELD(commits)
FIELD(dead_lettered)
FIELD(skipped)
FIELD(late)
FIELD(restored_records)
FIELD(fences)
#undef FIELD

static const task_family task_families[] = {
    {"weir_worker_task_records_in_total", "counter",
        "Input records the task processed.", records_in},
    {"weir_worker_task_records_out_total", "counter",
        "Records the task produced.", records_out},
    {"weir_worker_task_lag", "gauge",
        "Input records the task has not consumed yet.", lag},
    {"weir_worker_task_commits_total", "counter",
        "Transactions the task committed.", commits},
    {"weir_worker_task_dead_lettered_total", "counter",
        "Records sent to the dead-letter topic (on_error: dead_letter).",
        dead_lettered},
    {"weir_worker_task_skipped_total", "counter",
        "Records dropped as bad (on_error: skip).", skipped},
    {"weir_worker_task_late_total", "counter",
        "Records dropped as later than their window's grace period.", late},
    {"weir_worker_task_restored_records_total", "counter",
        "Changelog records replayed into the task's state.", restored_records},
    {"weir_worker_task_fences_total", "counter",
        "Times the task was fenced by a newer owner.", fences},
};
#define N_TASK_FAMILIES (sizeof(task_families) / sizeof(task_families[0]))

/* job="...",task="<sub>_<part>",state="..." */
static int
task_labels(weir_buf *out, const Weir__Cluster__TaskStatus *ts)
{
    weir_buf_clear(out);
    weir_buf_printf(out, "job=\"");
    weir_prom_label_value(out, ts->task->job);
    weir_buf_printf(out, "\",task=\"%u_%u\",state=\"%s\"",
        ts->task->subtopology, ts->task->partition, state_name(ts->state));
    return out->failed ? WEIR_ENOMEM : WEIR_OK;
}

static void
commit_latency(
    weir_buf *out, const Weir__Cluster__TaskStatus *ts, const char *labels)
{
    uint64_t counts[WEIR_TASK_LATENCY_BUCKETS] = {0};
    for (size_t i = 0;
         i < ts->n_commit_latency_buckets && i < WEIR_TASK_LATENCY_BUCKETS; i++)
        counts[i] = ts->commit_latency_buckets[i];
    (void)weir_prom_histogram(out, "weir_worker_task_commit_latency_ms", labels,
        weir_task_latency_bounds_ms, counts, WEIR_TASK_LATENCY_BUCKETS,
        ts->commit_latency_sum_ms);
}

static void
process_metrics(weir_buf *out, Weir__Cluster__TaskStatus *const *tasks,
    size_t n, Weir__Cluster__KafkaState kafka)
{
    weir_prom_family(out, "weir_worker_tasks", "gauge",
        "Tasks this worker holds, by state (standby tasks as STANDBY).");
    for (size_t s = 0; s < N_STATES; s++) {
        uint64_t count = 0;
        for (size_t i = 0; i < n; i++)
            count += (size_t)tasks[i]->state == s;
        char label[64];
        snprintf(label, sizeof(label), "state=\"%s\"", state_names[s]);
        weir_prom_u64(out, "weir_worker_tasks", label, count);
    }
    weir_prom_family(out, "weir_kafka_reachable", "gauge",
        "Whether this worker reaches Kafka: 1 yes, 0 no, -1 before the "
        "first probe.");
    weir_prom_i64(out, "weir_kafka_reachable", "",
        kafka == WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE     ? 1
        : kafka == WEIR__CLUSTER__KAFKA_STATE__KAFKA_UNREACHABLE ? 0
                                                                 : -1);
}

int
weir_worker_metrics_write(
    weir_buf *out, weir_runtime *rt, Weir__Cluster__KafkaState kafka)
{
    Weir__Cluster__TaskStatus **tasks = NULL;
    size_t n = 0;
    int rv = weir_runtime_report(rt, &tasks, &n, NULL, NULL);
    if (rv != WEIR_OK)
        return rv;
    weir_buf label;
    weir_buf_init(&label);
    process_metrics(out, tasks, n, kafka);
    for (size_t f = 0; f < N_TASK_FAMILIES && rv == WEIR_OK; f++) {
        const task_family *tf = &task_families[f];
        weir_prom_family(out, tf->name, tf->type, tf->help);
        for (size_t i = 0; i < n && rv == WEIR_OK; i++)
            if ((rv = task_labels(&label, tasks[i])) == WEIR_OK)
                weir_prom_f64(out, tf->name, label.data, tf->value(tasks[i]));
    }
    if (rv == WEIR_OK)
        weir_prom_family(out, "weir_worker_task_commit_latency_ms", "histogram",
            "Transaction commit latency of the task, in milliseconds.");
    for (size_t i = 0; i < n && rv == WEIR_OK; i++)
        if ((rv = task_labels(&label, tasks[i])) == WEIR_OK)
            commit_latency(out, tasks[i], label.data);
    weir_buf_fini(&label);
    weir_runtime_report_free(tasks, n, NULL, 0);
    if (rv == WEIR_OK && out->failed)
        rv = WEIR_ENOMEM;
    return rv;
}
