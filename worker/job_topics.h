/*
 * The worker's side of job planning: reads the metadata of a job's topics,
 * asks the job planner (common/job/job_plan.h) what is missing and how many
 * tasks each subtopology has, and creates the missing topics. The
 * coordinator does the same through coordinator/kafka_admin.c, so both
 * agree. Idempotent.
 */
#ifndef WEIR_WORKER_JOB_TOPICS_H
#define WEIR_WORKER_JOB_TOPICS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/topology.pb-c.h"

/*
 * Creates every missing topic of topo. sub_tasks (may be NULL) receives
 * topo->n_subtopologies task counts: each subtopology's largest input
 * partition count. err receives a reason on failure. Errors: those of
 * the Kafka adapter (WEIR_EKAFKA, WEIR_ETIMEDOUT, ...), WEIR_ENOMEM.
 */
int weir_job_topics_ensure(const char *bootstrap,
    const Weir__Topology__Topology *topo, uint32_t *sub_tasks, char *err,
    size_t errsize);

#endif
