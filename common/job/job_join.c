/*
 * join: the stream joined with another source. With a table source
 * (stream-table), the table's topic becomes a second input of the stream's
 * subtopology, read into a store (its changelog is the topic itself); the
 * join operator looks up the stream record's key there. With a stream
 * source and within: (stream-stream), the other stream's topic becomes a
 * second input feeding the join operator, which keeps both sides for the
 * time they may still match in a store of its own. Either way the result
 * is built from `value` and `right`. A stream whose key changed is
 * repartitioned first, so both sides are keyed and partitioned alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/err.h"
#include "common/job/job_int.h"

#define OP_(x) WEIR__TOPOLOGY__OP_KIND__OP_##x

static const char *const join_keys[] = {
    "with", "type", "value", "within", "grace", NULL};

/* Whether the current subtopology reads topic. */
static bool
reads(const weir__jc *jc, const char *topic)
{
    for (size_t i = 0; jc->sub != NULL && i < jc->sub->n_input_topics; i++) {
        if (strcmp(jc->sub->input_topics[i], topic) == 0) {
            return true;
        }
    }
    return false;
}

/* The source a join names, or NULL (error recorded): a table, or with
 * within: a stream. */
static weir__jsource *
source_of(weir__jc *jc, const yaml_node_t *n, const yaml_node_t *within)
{
    const char *name = weir__jc_scalar(jc, n, "join with");
    if (name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < jc->nsrcs; i++) {
        weir__jsource *src = &jc->srcs[i];
        if (strcmp(src->name, name) != 0) {
            continue;
        }
        src->used = true;
        if (src->table && within != NULL) {
            weir__jc_error(jc, within,
                "join: within: is for joining a stream; '%s' is a table", name);
            return NULL;
        }
        if (!src->table && within == NULL) {
            weir__jc_error(jc, n,
                "join: '%s' is a stream: join it within: a time (or declare "
                "it a table with table: true)",
                name);
            return NULL;
        }
        if (src->topic == NULL) {
            return NULL; /* reported with the source */
        }
        if (reads(jc, src->topic)) {
            weir__jc_error(jc, n,
                "join: topic %s is read here already (a stream cannot be "
                "joined with itself)",
                src->topic);
            return NULL;
        }
        return src;
    }
    weir__jc_error(jc, n, "join: unknown source '%s'", name);
    return NULL;
}

static bool
join_type(weir__jc *jc, const yaml_node_t *n, bool stream,
    Weir__Topology__JoinType *out)
{
    *out = WEIR__TOPOLOGY__JOIN_TYPE__JOIN_INNER;
    if (n == NULL) {
        return true;
    }
    const char *s = weir__jc_scalar(jc, n, "join type");
    if (s != NULL && strcmp(s, "inner") == 0) {
        return true;
    }
    if (s != NULL && strcmp(s, "left") == 0) {
        *out = WEIR__TOPOLOGY__JOIN_TYPE__JOIN_LEFT;
        return true;
    }
    if (s != NULL && stream && strcmp(s, "outer") == 0) {
        *out = WEIR__TOPOLOGY__JOIN_TYPE__JOIN_OUTER;
        return true;
    }
    if (s != NULL) {
        weir__jc_error(jc, n, "join type: expected %s, found '%s'",
            stream ? "inner, left or outer" : "inner or left for a table", s);
    }
    return false;
}

/* The table's store: named after the source, its topic as changelog. */
static void
table_store(weir__jc *jc, const weir__jsource *tab)
{
    weir__topo *t = jc->topo;
    for (size_t i = 0; i < t->n_stores; i++) {
        if (strcmp(t->stores[i]->name, tab->name) == 0) {
            weir__jc_error(jc, tab->node,
                "table '%s' is joined twice (or names a store already)",
                tab->name);
            return;
        }
    }
    Weir__Topology__Store *st =
        weir__jc_store_new(jc, tab->name, weir__jc_strdup(jc, tab->topic));
    if (st != NULL) {
        st->source_table = true;
    }
}

/* The other source's topic as a second input of the current subtopology;
 * a table's OP_SOURCE feeds no operator, only the store. Returns the
 * operator (NULL on error). */
static weir__op_msg *
second_source(weir__jc *jc, const weir__jstep *s, const weir__jsource *tab)
{
    int last = jc->last;
    weir_stype key = jc->key, value = jc->value;
    jc->last = -1;
    jc->key = weir__jc_stype(weir__jc_format_type(tab->key_format));
    jc->value = weir__jc_stype(weir__jc_format_type(tab->value_format));
    char buf[300];
    weir__jc_op_name(buf, sizeof(buf), s, tab->table ? "-table" : "-other");
    weir__op_msg *op = weir__jc_op_new(jc, OP_(SOURCE), buf, s->key);
    jc->last = last;
    jc->key = key;
    jc->value = value;
    if (op == NULL) {
        return NULL;
    }
    op->topic = weir__jc_strdup(jc, tab->topic);
    op->source = weir__jc_strdup(jc, tab->name);
    op->key_format = tab->key_format;
    op->value_format = tab->value_format;
    weir__jc_push_string(
        jc, &jc->sub->input_topics, &jc->sub->n_input_topics, tab->topic);
    weir__jc_topic(jc, tab->topic, WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_INPUT,
        tab->partitions, false);
    if (tab->table) {
        op->table = true;
        op->table_store = weir__jc_strdup(jc, tab->name);
        table_store(jc, tab);
    }
    return op;
}

/* within: and grace: of a stream-stream join (false on error). */
static bool
join_window(
    weir__jc *jc, const weir__jstep *s, uint64_t *within, uint64_t *grace)
{
    const yaml_node_t *wi = weir__jc_get(jc, s->arg, "within");
    const yaml_node_t *gr = weir__jc_get(jc, s->arg, "grace");
    *within = *grace = 0;
    if (wi == NULL) {
        if (gr != NULL) {
            weir__jc_error(
                jc, gr, "join: grace: is for stream-stream joins (within:)");
        }
        return gr == NULL;
    }
    bool ok = weir__jc_duration(jc, wi, "join within", within);
    return (gr == NULL || weir__jc_duration(jc, gr, "join grace", grace)) && ok;
}

/* Both sides must have as many partitions (the stream's own topic, when
 * it was not repartitioned; a repartition topic is created to match). */
static bool
co_partitioned(weir__jc *jc, const weir__jstep *s, const weir__jsource *tab)
{
    if (jc->key_changed || jc->from == NULL ||
        jc->from->partitions == tab->partitions) {
        return true;
    }
    weir__jc_error(jc, s->key,
        "join: '%s' (topic %s) has %u partitions and '%s' (topic %s) has %u: "
        "a join needs both sides partitioned alike",
        jc->from->name, jc->from->topic, jc->from->partitions, tab->name,
        tab->topic, tab->partitions);
    return false;
}

void
weir__jc_join(weir__jc *jc, const weir__jstep *s)
{
    if (!weir__jc_keys(jc, s->arg, "join", join_keys)) {
        return;
    }
    const yaml_node_t *wn = weir__jc_get(jc, s->arg, "with");
    const yaml_node_t *vn = weir__jc_get(jc, s->arg, "value");
    if (wn == NULL || vn == NULL) {
        weir__jc_error(jc, s->arg, "join: missing key '%s'",
            wn == NULL ? "with" : "value");
        return;
    }
    const yaml_node_t *wi = weir__jc_get(jc, s->arg, "within");
    bool stream = wi != NULL;
    Weir__Topology__JoinType type;
    uint64_t within, grace;
    weir__jsource *other = source_of(jc, wn, wi);
    if (!join_type(jc, weir__jc_get(jc, s->arg, "type"), stream, &type) ||
        !join_window(jc, s, &within, &grace) || other == NULL ||
        !co_partitioned(jc, s, other)) {
        return;
    }
    if (jc->windowed) {
        weir__jc_error(jc, s->key,
            "join: a windowed aggregate's results cannot be joined");
        return;
    }
    if (jc->key_changed) {
        char name[300];
        snprintf(name, sizeof(name), "join-%s", other->name);
        weir__jc_repartition(jc, s, name);
    }
    weir_expr_env env;
    weir_stype t;
    weir__jc_env_of(jc, &env);
    env.has_right = true;
    env.right = weir__jc_stype(weir__jc_format_type(other->value_format));
    Weir__Topology__Expr *e = weir__jc_expr_new(jc, vn, &env, "join value", &t);
    weir__op_msg *src = NULL;
    if (e == NULL || jc->sub == NULL ||
        (src = second_source(jc, s, other)) == NULL) {
        weir__topology__expr__free_unpacked(e, NULL);
        return;
    }
    char buf[300];
    weir__jc_op_name(buf, sizeof(buf), s, "");
    weir__op_msg *op = weir__jc_op_new(jc,
        stream ? OP_(STREAM_STREAM_JOIN) : OP_(STREAM_TABLE_JOIN), buf, s->key);
    if (op == NULL) {
        weir__topology__expr__free_unpacked(e, NULL);
        return;
    }
    op->value = e;
    op->join_type = type;
    op->right_type = (Weir__Topology__ValueType)env.right.type;
    op->right_elem_type = (Weir__Topology__ValueType)env.right.elem;
    op->key_format = other->key_format;
    op->value_format = other->value_format;
    if (stream) {
        /* The other stream's source feeds the join as its second input. */
        uint32_t *in = realloc(op->inputs, 2 * sizeof(*in));
        if (in == NULL) {
            jc->oom = true;
            return;
        }
        in[op->n_inputs++] = (uint32_t)(jc->sub->n_operators - 2);
        op->inputs = in;
        op->join_window_ms = within;
        op->join_grace_ms = grace;
        weir__jc_add_store(jc, op, buf, true);
    } else {
        op->table_store = weir__jc_strdup(jc, other->name);
    }
    jc->value = t;
    weir__jc_op_produces(jc, op);
}
