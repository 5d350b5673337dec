/*
 * The coordinator's Kafka thread: everything that waits on Kafka runs here,
 * never on the event loop that serves heartbeats and HTTP. It plans
 * submitted jobs (reads metadata, creates topics) and hands each back to
 * the loop, and between jobs it checks every few seconds that Kafka
 * answers, so /healthz, weirctl status and the log can say when it does
 * not.
 */
#ifndef WEIR_COORDINATOR_KAFKA_THREAD_H
#define WEIR_COORDINATOR_KAFKA_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/topology.pb-c.h"

typedef struct weir_coord weir_coord;
typedef struct weir__rctx weir__rctx;
typedef struct weir__kafka_thread weir__kafka_thread;

/* A submitted job on its way through the Kafka thread. */
typedef struct weir__plan_job weir__plan_job;
struct weir__plan_job {
    weir__plan_job *next;
    weir__rctx *rctx;               /* the request to answer (NULL in tests) */
    uint64_t request_id;            /* of that request */
    Weir__Topology__Topology *topo; /* owned */
    uint32_t *sub_tasks;            /* tasks per subtopology, once planned */
    int rv;                         /* of the planning */
    char err[512];
};

void weir__plan_job_free(weir__plan_job *pj); /* NULL-safe */

/* Starts the thread over co->ka; it probes Kafka at once. */
int weir__kafka_thread_start(weir_coord *co, weir__kafka_thread **out);
/* Stops it; jobs it still holds are answered by nobody and freed. */
void weir__kafka_thread_stop(weir__kafka_thread *kt); /* NULL-safe */

/* Queues pj for planning; once planned it comes back to the loop through
 * weir__coord_enqueue. */
void weir__kafka_thread_plan(weir__kafka_thread *kt, weir__plan_job *pj);

/* Whether Kafka answered the last probe or plan; why not in why. True
 * before the first answer. */
bool weir__kafka_thread_reachable(
    weir__kafka_thread *kt, char *why, size_t whylen);

/* The gauge weir_kafka_reachable in Prometheus text (malloc'd; NULL when
 * out of memory): 1 reachable, 0 unreachable, -1 before the first answer.
 * Any thread; NULL kt: -1. */
char *weir__kafka_thread_metrics(weir__kafka_thread *kt);

#endif
