/* The job planner: topics to create and tasks per subtopology (pure). */
#include "common/job/job_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

weir_job_plan_topic *
weir_job_plan_find(const weir_job_plan *plan, const char *name)
{
    for (size_t i = 0; i < plan->n_topics; i++) {
        if (strcmp(plan->topics[i].name, name) == 0) {
            return &plan->topics[i];
        }
    }
    return NULL;
}

/* Adds name once; returns its entry (NULL for an empty name). */
static weir_job_plan_topic *
add(weir_job_plan *plan, const char *name)
{
    if (name == NULL || name[0] == '\0') {
        return NULL;
    }
    weir_job_plan_topic *t = weir_job_plan_find(plan, name);
    if (t == NULL) {
        t = &plan->topics[plan->n_topics++];
        *t = (weir_job_plan_topic){.name = name};
    }
    return t;
}

static bool
is_input(const Weir__Topology__Topic *tp)
{
    return tp->role == WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_INPUT;
}

int
weir_job_plan_init(weir_job_plan *plan, const Weir__Topology__Topology *topo)
{
    memset(plan, 0, sizeof(*plan));
    size_t max = topo->n_sources + topo->n_topics + 1;
    plan->topics = calloc(max, sizeof(*plan->topics));
    plan->sub_tasks =
        calloc(topo->n_subtopologies + 1, sizeof(*plan->sub_tasks));
    if (plan->topics == NULL || plan->sub_tasks == NULL) {
        weir_job_plan_fini(plan);
        return WEIR_ENOMEM;
    }
    plan->n_sub = topo->n_subtopologies;
    /* Inputs first: sources, then the input entries of topo->topics. */
    for (size_t i = 0; i < topo->n_sources; i++) {
        weir_job_plan_topic *t = add(plan, topo->sources[i]->topic);
        if (t != NULL) {
            t->input = true;
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < topo->n_topics; i++) {
            const Weir__Topology__Topic *tp = topo->topics[i];
            if (is_input(tp) != (pass == 0)) {
                continue;
            }
            weir_job_plan_topic *t = add(plan, tp->name);
            if (t == NULL) {
                continue;
            }
            t->want = tp->partitions;
            t->input = t->input || is_input(tp);
            t->compacted =
                tp->compacted ||
                tp->role == WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_CHANGELOG;
        }
    }
    add(plan, topo->dlq_topic);
    return WEIR_OK;
}

/* The table a subtopology reads, or NULL. */
static const weir_job_plan_topic *
table_input(const weir_job_plan *plan, const Weir__Topology__Topology *topo,
    const Weir__Topology__Subtopology *sub)
{
    for (size_t i = 0; i < sub->n_input_topics; i++) {
        for (size_t k = 0; k < topo->n_sources; k++) {
            if (topo->sources[k]->table &&
                strcmp(topo->sources[k]->topic, sub->input_topics[i]) == 0) {
                return weir_job_plan_find(plan, sub->input_topics[i]);
            }
        }
    }
    return NULL;
}

static void
co_partition(weir_job_plan *plan, const Weir__Topology__Topology *topo,
    const Weir__Topology__Subtopology *sub)
{
    const weir_job_plan_topic *tab = table_input(plan, topo, sub);
    for (size_t i = 0; tab != NULL && i < sub->n_input_topics; i++) {
        weir_job_plan_topic *t = weir_job_plan_find(plan, sub->input_topics[i]);
        if (t == NULL || t == tab) {
            continue;
        }
        if (t->create && !t->input) {
            t->partitions = tab->partitions; /* a repartition topic */
        } else if (t->partitions != tab->partitions && !plan->error[0]) {
            snprintf(plan->error, sizeof(plan->error),
                "join: topic %s has %u partitions and table topic %s has "
                "%u: a join needs both sides partitioned alike",
                t->name, t->partitions, tab->name, tab->partitions);
        }
    }
}

void
weir_job_plan_resolve(weir_job_plan *plan, const Weir__Topology__Topology *topo,
    uint32_t default_partitions)
{
    uint32_t inputs = 0;
    for (size_t i = 0; i < plan->n_topics; i++) {
        const weir_job_plan_topic *t = &plan->topics[i];
        uint32_t p = t->existing ? t->existing : t->want;
        if (t->input && p > inputs) {
            inputs = p;
        }
    }
    if (inputs == 0) {
        inputs = default_partitions ? default_partitions : 1;
    }
    plan->input_partitions = inputs;
    for (size_t i = 0; i < plan->n_topics; i++) {
        weir_job_plan_topic *t = &plan->topics[i];
        t->create = t->existing == 0;
        t->partitions = t->existing ? t->existing : t->want ? t->want : inputs;
    }
    for (size_t s = 0; s < plan->n_sub && s < topo->n_subtopologies; s++) {
        co_partition(plan, topo, topo->subtopologies[s]);
    }
    for (size_t s = 0; s < plan->n_sub && s < topo->n_subtopologies; s++) {
        const Weir__Topology__Subtopology *sub = topo->subtopologies[s];
        uint32_t tasks = 0;
        for (size_t i = 0; i < sub->n_input_topics; i++) {
            const weir_job_plan_topic *t =
                weir_job_plan_find(plan, sub->input_topics[i]);
            if (t != NULL && t->partitions > tasks) {
                tasks = t->partitions;
            }
        }
        plan->sub_tasks[s] = tasks ? tasks : inputs;
    }
}

void
weir_job_plan_fini(weir_job_plan *plan)
{
    if (plan == NULL) {
        return;
    }
    free(plan->topics);
    free(plan->sub_tasks);
    memset(plan, 0, sizeof(*plan));
}
