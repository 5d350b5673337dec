/*
 * The topics a job needs: its inputs (which must exist, or are created
 * with the job's partitions when missing), outputs, repartition topics,
 * compacted changelogs and the dead-letter topic. Idempotent.
 */
#ifndef WEIR_WORKER_JOB_TOPICS_H
#define WEIR_WORKER_JOB_TOPICS_H

#include "proto/topology.pb-c.h"

/*
 * Creates every missing topic of topo. *partitions (may be NULL) receives
 * the job's partition count: that of its existing input topics, else the
 * compiled count, else 1. err receives a reason on failure.
 */
int weir_job_topics_ensure(const char *bootstrap,
    const Weir__Topology__Topology *topo, int *partitions, char *err,
    size_t errsize);

/* The partition count of every subtopology's first input topic. */
int weir_job_topics_tasks(const char *bootstrap,
    const Weir__Topology__Topology *topo, unsigned sub, int *tasks);

#endif
