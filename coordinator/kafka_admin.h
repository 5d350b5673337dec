/*
 * The coordinator's one adapter over librdkafka: topic metadata and topic
 * creation for the job planner (common/job/job_plan.h), which decides how
 * many tasks each subtopology has and which topics to create. librdkafka
 * types never leave kafka_admin.c.
 *
 * Calls block up to timeout_ms; the coordinator makes them on its event
 * loop only for submits, which are rare.
 */
#ifndef WEIR_COORDINATOR_KAFKA_ADMIN_H
#define WEIR_COORDINATOR_KAFKA_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "proto/topology.pb-c.h"

typedef struct weir_kafka_admin weir_kafka_admin;

typedef struct weir_kafka_admin_opts {
    const char *bootstrap;
    uint32_t default_partitions; /* the planner's, when no input has a count */
    int replication_factor;      /* for created topics */
    int timeout_ms;
} weir_kafka_admin_opts;

/* WEIR_EKAFKA (reason in err) or WEIR_ENOMEM. Connects lazily. */
int weir_kafka_admin_new(weir_kafka_admin **ap,
    const weir_kafka_admin_opts *opts, char *err, size_t errsize);
void weir_kafka_admin_free(weir_kafka_admin *a); /* NULL-safe */

/*
 * Plans a job with the job planner (common/job/job_plan.h) against the
 * cluster's metadata, creates the topics it says are missing, and fills
 * sub_tasks[topo->n_subtopologies] with each subtopology's task count (the
 * largest partition count of its input topics). default_partitions is
 * the planner's default. WEIR_EKAFKA with a reason in err when Kafka
 * cannot be reached or refuses; WEIR_ENOMEM.
 */
int weir_kafka_admin_plan(weir_kafka_admin *a,
    const Weir__Topology__Topology *topo, uint32_t *sub_tasks, char *err,
    size_t errsize);

/* One metadata round trip: WEIR_OK when Kafka answers within timeout_ms,
 * else WEIR_EKAFKA with the reason in err. */
int weir_kafka_admin_probe(
    weir_kafka_admin *a, int timeout_ms, char *err, size_t errsize);

#endif
