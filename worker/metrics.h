/*
 * The worker's /metrics: Prometheus text built from the same task report
 * the heartbeat sends (weir_runtime_report), so nothing is counted twice.
 * Per task (labels job, task "<subtopology>_<partition>", state): records
 * in and out, lag, commits, commit latency, dead-lettered, skipped, late,
 * restored records, fences; per process: tasks by state and whether Kafka
 * is reachable.
 */
#ifndef WEIR_WORKER_METRICS_H
#define WEIR_WORKER_METRICS_H

#include "common/buf.h"
#include "proto/cluster.pb-c.h"

typedef struct weir_runtime weir_runtime;

/*
 * Appends the text to out. Thread-safe: reads the runtime's report under
 * the lock the heartbeat uses, never waits for a stream thread's cycle.
 * Errors: WEIR_ENOMEM.
 */
int weir_worker_metrics_write(
    weir_buf *out, weir_runtime *rt, Weir__Cluster__KafkaState kafka);

#endif
