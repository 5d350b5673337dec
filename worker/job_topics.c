#include "job_topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "kafka.h"

#define ADMIN_TIMEOUT_MS 10000

int
weir_job_topics_ensure(const char *bootstrap,
    const Weir__Topology__Topology *topo, int *partitions, char *err,
    size_t errsize)
{
    int p = 0, rv = WEIR_OK;
    /* The job's partitions: the largest existing input topic. */
    for (size_t i = 0; i < topo->n_topics; i++) {
        const Weir__Topology__Topic *tp = topo->topics[i];
        if (tp->role != WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_INPUT)
            continue;
        int n = 0;
        rv = weir_kafka_topic_partitions(
            bootstrap, tp->name, &n, ADMIN_TIMEOUT_MS);
        if (rv == WEIR_OK && n > p)
            p = n;
        else if (rv != WEIR_OK && rv != WEIR_ENOTFOUND) {
            snprintf(err, errsize, "metadata for %s: %s", tp->name,
                weir_strerror(rv));
            return rv;
        }
    }
    for (size_t i = 0; p == 0 && i < topo->n_topics; i++)
        if (topo->topics[i]->role == WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_INPUT &&
            (int)topo->topics[i]->partitions > p)
            p = (int)topo->topics[i]->partitions;
    if (p == 0)
        p = 1;
    weir_kafka_topic_spec *specs = calloc(topo->n_topics + 1, sizeof(*specs));
    if (!specs)
        return WEIR_ENOMEM;
    size_t n = 0;
    bool have_dlq = false;
    for (size_t i = 0; i < topo->n_topics; i++) {
        const Weir__Topology__Topic *tp = topo->topics[i];
        specs[n].name = tp->name;
        specs[n].partitions = tp->partitions ? (int)tp->partitions : p;
        specs[n].compacted =
            tp->compacted ||
            tp->role == WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_CHANGELOG;
        if (topo->dlq_topic && strcmp(tp->name, topo->dlq_topic) == 0)
            have_dlq = true;
        n++;
    }
    if (!have_dlq && topo->dlq_topic && topo->dlq_topic[0]) {
        specs[n].name = topo->dlq_topic;
        specs[n].partitions = p;
        n++;
    }
    rv = weir_kafka_topics_ensure(
        bootstrap, specs, n, ADMIN_TIMEOUT_MS, err, errsize);
    free(specs);
    if (rv == WEIR_OK && partitions)
        *partitions = p;
    return rv;
}

int
weir_job_topics_tasks(const char *bootstrap,
    const Weir__Topology__Topology *topo, unsigned sub, int *tasks)
{
    for (size_t i = 0; i < topo->n_subtopologies; i++) {
        const Weir__Topology__Subtopology *st = topo->subtopologies[i];
        if (st->id != sub)
            continue;
        if (st->n_input_topics == 0)
            return WEIR_EINVAL;
        return weir_kafka_topic_partitions(
            bootstrap, st->input_topics[0], tasks, ADMIN_TIMEOUT_MS);
    }
    return WEIR_ENOTFOUND;
}
