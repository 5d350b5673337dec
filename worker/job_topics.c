/* Job topics: the Kafka I/O around the job planner. */
#include "job_topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/job/job_plan.h"
#include "kafka.h"

#define ADMIN_TIMEOUT_MS 10000

/* The job's partitions when none of its inputs exists or has a compiled
 * count (the compiler always gives them one). */
#define DEFAULT_PARTITIONS 1

/* Sets `existing` of each planned topic from the cluster's metadata. */
static int
fetch_counts(
    const char *bootstrap, weir_job_plan *plan, char *err, size_t errsize)
{
    const char **names = calloc(plan->n_topics + 1, sizeof(*names));
    uint32_t *counts = calloc(plan->n_topics + 1, sizeof(*counts));
    int rv = names && counts ? WEIR_OK : WEIR_ENOMEM;
    for (size_t i = 0; rv == WEIR_OK && i < plan->n_topics; i++)
        names[i] = plan->topics[i].name;
    if (rv == WEIR_OK)
        rv = weir_kafka_topics_partitions(
            bootstrap, names, plan->n_topics, counts, ADMIN_TIMEOUT_MS);
    if (rv == WEIR_OK) {
        for (size_t i = 0; i < plan->n_topics; i++)
            plan->topics[i].existing = counts[i];
    } else if (err && errsize) {
        snprintf(
            err, errsize, "metadata from %s: %s", bootstrap, weir_strerror(rv));
    }
    free(names);
    free(counts);
    return rv;
}

static int
create_missing(
    const char *bootstrap, const weir_job_plan *plan, char *err, size_t errsize)
{
    weir_kafka_topic_spec *specs = calloc(plan->n_topics + 1, sizeof(*specs));
    if (!specs)
        return WEIR_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < plan->n_topics; i++) {
        const weir_job_plan_topic *t = &plan->topics[i];
        if (!t->create)
            continue;
        specs[n++] = (weir_kafka_topic_spec){.name = t->name,
            .partitions = (int)t->partitions,
            .compacted = t->compacted};
    }
    int rv = weir_kafka_topics_ensure(
        bootstrap, specs, n, ADMIN_TIMEOUT_MS, err, errsize);
    free(specs);
    return rv;
}

int
weir_job_topics_ensure(const char *bootstrap,
    const Weir__Topology__Topology *topo, uint32_t *sub_tasks, char *err,
    size_t errsize)
{
    if (err && errsize)
        err[0] = '\0';
    weir_job_plan plan;
    int rv = weir_job_plan_init(&plan, topo);
    if (rv != WEIR_OK)
        return rv;
    if ((rv = fetch_counts(bootstrap, &plan, err, errsize)) != WEIR_OK)
        goto out;
    weir_job_plan_resolve(&plan, topo, DEFAULT_PARTITIONS);
    if (plan.error[0]) {
        if (err && errsize)
            snprintf(err, errsize, "%s", plan.error);
        rv = WEIR_EINVAL;
        goto out;
    }
    if ((rv = create_missing(bootstrap, &plan, err, errsize)) != WEIR_OK)
        goto out;
    if (sub_tasks)
        memcpy(sub_tasks, plan.sub_tasks, plan.n_sub * sizeof(*sub_tasks));
out:
    weir_job_plan_fini(&plan);
    return rv;
}
