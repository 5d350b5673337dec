/*
 * Where a pull query goes (on the event loop, which owns the cluster
 * state): the store's subtopology, the key's partition (murmur2 of the key
 * as the topic feeding the store encodes it, as the producers partition
 * it), and each partition's owner and standbys with their query addresses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/murmur2.h"
#include "common/job/job.h"
#include "common/value/value.h"
#include "query.h"

typedef Weir__Topology__Operator op_pb;

/* Whether topic is one Weir writes (a repartition topic): partitioned by
 * murmur2. An input topic's producer may partition otherwise. */
static bool
weir_partitioned(const Weir__Topology__Topology *t, const char *topic)
{
    for (size_t i = 0; i < t->n_topics; i++)
        if (strcmp(t->topics[i]->name, topic) == 0)
            return t->topics[i]->role ==
                   WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_REPARTITION;
    return false;
}

static void
add_target(const weir_cluster *cl, const weir__task *t, weir_query *q)
{
    weir_query_target *tg = &q->targets[q->n_targets++];
    memset(tg, 0, sizeof(*tg));
    tg->partition = t->part;
    tg->newest = -1;
    uint32_t idx = (uint32_t)(t - cl->tasks);
    for (size_t w = 0; w < cl->n_members; w++)
        for (size_t l = 0; l < cl->members[w].n_local; l++)
            if (cl->members[w].local[l].task == idx &&
                cl->members[w].local[l].offset > tg->newest)
                tg->newest = cl->members[w].local[l].offset;
    const weir__member *owner = t->target >= 0 ? &cl->members[t->target] : NULL;
    if (owner && owner->state != WEIR__MEMBER_DEAD && owner->query_address[0]) {
        snprintf(tg->worker[0], sizeof(tg->worker[0]), "%s", owner->id);
        snprintf(
            tg->address[0], sizeof(tg->address[0]), "%s", owner->query_address);
        tg->n++;
    }
    for (uint32_t i = 0; i < t->n_standbys && tg->n < WEIR_QUERY_MAX_ASK; i++) {
        const weir__member *m = &cl->members[t->standbys[i]];
        if (m->state == WEIR__MEMBER_DEAD || !m->query_address[0])
            continue;
        snprintf(tg->worker[tg->n], sizeof(tg->worker[0]), "%s", m->id);
        snprintf(
            tg->address[tg->n], sizeof(tg->address[0]), "%s", m->query_address);
        tg->n++;
    }
}

int
weir_cluster_query_route(
    const weir_cluster *cl, weir_query *q, char *why, size_t whylen)
{
    int j = weir__cluster_job_find(cl, q->job);
    if (j < 0) {
        snprintf(why, whylen, "no job %s", q->job);
        return WEIR_ENOTFOUND;
    }
    const Weir__Topology__Topology *topo = cl->jobs[j].topo;
    const Weir__Topology__Subtopology *st = NULL;
    const op_pb *op = weir_job_store_operator(topo, q->store, &st);
    if (!op) {
        snprintf(why, whylen, "job %s has no store %s", q->job, q->store);
        return WEIR_ENOTFOUND;
    }
    /* The tasks the cluster runs (the topics' partitions), not the
     * counts the job file declares. */
    /* Keys are partitioned as the subtopology's input topic is: a
     * table's own topic, else the first input. */
    const op_pb *src = op->table ? op : st->operators[0];
    weir_format fmt = (weir_format)src->key_format;
    weir_type type = (weir_type)op->key_type;
    const char *topic = src->topic;
    uint32_t parts =
        st->id < cl->jobs[j].n_sub ? cl->jobs[j].sub_tasks[st->id] : 0;
    /* A key's partition is known when Weir wrote the topic (murmur2);
     * from an input topic, every partition is asked. */
    int64_t only = -1;
    if (!q->scan && weir_partitioned(topo, topic)) {
        weir_value v = weir_value_string(q->key, strlen(q->key));
        if (type == WEIR_TYPE_INT) {
            char *end;
            long long n = strtoll(q->key, &end, 10);
            if (!q->key[0] || *end) {
                snprintf(why, whylen, "the key is not an integer");
                return WEIR_EINVAL;
            }
            v = weir_value_int(n);
        }
        weir_buf b;
        weir_buf_init(&b);
        char err[128];
        if (weir_value_encode(&v, fmt, &b, err, sizeof(err)) != WEIR_OK) {
            weir_buf_fini(&b);
            snprintf(why, whylen, "the key: %s", err);
            return WEIR_EINVAL;
        }
        only = weir_murmur2_partition(b.data, b.len, parts);
        weir_buf_fini(&b);
    }
    q->n_targets = 0;
    free(q->targets);
    if (!(q->targets = calloc(parts ? parts : 1, sizeof(*q->targets)))) {
        snprintf(why, whylen, "out of memory");
        return WEIR_ENOMEM;
    }
    for (size_t i = 0; i < cl->n_tasks && q->n_targets < parts; i++) {
        const weir__task *t = &cl->tasks[i];
        if (t->job != (uint32_t)j || t->sub != st->id || t->orphan ||
            (only >= 0 && t->part != (uint32_t)only))
            continue;
        add_target(cl, t, q);
    }
    if (q->n_targets == 0) {
        snprintf(why, whylen, "no task holds that partition");
        return WEIR_ENOTFOUND;
    }
    return WEIR_OK;
}
