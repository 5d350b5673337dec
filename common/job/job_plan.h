/*
 * The job planner: which topics a job needs and how many tasks each of its
 * subtopologies has, from the Topology and the partition counts of the
 * topics that already exist. Pure: no I/O, no Kafka client. The Kafka
 * adapters (coordinator/kafka_admin.c, worker/job_topics.c) read the
 * metadata, call the planner and create what it says is missing, so the
 * coordinator and a standalone worker plan a job the same way.
 *
 * Rules (Kafka Streams' where it has one):
 *   - The job's topics are its source topics, every Topology.topics entry
 *     and the dead-letter topic, once each.
 *   - The job's input partitions are the largest partition count of its
 *     input topics: the existing count, or for a missing one the compiled
 *     Topic.partitions; default_partitions when none has either.
 *   - A missing topic is created with its compiled Topic.partitions, or
 *     the job's input partitions when that is 0; changelogs and topics
 *     compiled as compacted are compacted. Existing topics are left alone.
 *   - A subtopology has as many tasks as the largest partition count of
 *     its input topics (Kafka Streams: the max partition count of a
 *     sub-topology's source topics); the job's input partitions if it
 *     names none of the job's topics.
 *   - A subtopology that reads a table (a join) is co-partitioned: a
 *     missing repartition topic it reads is created with the table's
 *     partition count, and inputs whose counts differ are an error (in
 *     `error`, naming both topics and counts).
 *
 * Use: weir_job_plan_init lists the topics, the caller sets each one's
 * `existing` from cluster metadata, weir_job_plan_resolve fills the rest.
 *
 * Threading: reentrant; a plan is owned by its caller.
 */
#ifndef WEIR_JOB_JOB_PLAN_H
#define WEIR_JOB_JOB_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/topology.pb-c.h"

typedef struct weir_job_plan_topic {
    const char *name; /* borrowed from the topology */
    uint32_t want;    /* compiled Topic.partitions; 0: the job's inputs' */
    bool input;       /* read by the job from outside (a source topic) */
    bool compacted;   /* created with cleanup.policy=compact */
    /* Set by the caller before weir_job_plan_resolve: the topic's
     * partition count in the cluster, 0 when it does not exist. */
    uint32_t existing;
    /* Set by weir_job_plan_resolve. */
    bool create;         /* missing: create it with `partitions` */
    uint32_t partitions; /* existing, or the count to create it with */
} weir_job_plan_topic;

typedef struct weir_job_plan {
    weir_job_plan_topic *topics; /* owned; inputs first, in job order */
    size_t n_topics;
    /* Set by weir_job_plan_resolve: sub_tasks[i] is the task count of
     * topo->subtopologies[i] (owned, n_sub entries). */
    uint32_t *sub_tasks;
    size_t n_sub;
    uint32_t input_partitions;
    /* Set by weir_job_plan_resolve when the job cannot run as planned
     * (inputs of a join partitioned differently); "" otherwise. */
    char error[300];
} weir_job_plan;

/*
 * Lists the topics of topo into plan (existing = 0 for each). topo must
 * outlive the plan: names are borrowed. Errors: WEIR_ENOMEM (plan is then
 * empty; weir_job_plan_fini is still safe).
 */
int weir_job_plan_init(
    weir_job_plan *plan, const Weir__Topology__Topology *topo);

/*
 * Decides, from each topic's `existing`, which topics to create and with
 * how many partitions, and every subtopology's task count.
 * default_partitions (0 means 1) is the job's input partitions when no
 * input topic exists and none has a compiled count. Never fails.
 */
void weir_job_plan_resolve(weir_job_plan *plan,
    const Weir__Topology__Topology *topo, uint32_t default_partitions);

/* The planned topic called name, or NULL. */
weir_job_plan_topic *weir_job_plan_find(
    const weir_job_plan *plan, const char *name);

/* Frees what the plan owns. Accepts NULL. */
void weir_job_plan_fini(weir_job_plan *plan);

#endif
