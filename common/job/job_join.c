/*
 * join: a stream joined with a table source (stream-table). The table's
 * topic becomes a second input of the stream's subtopology, read into a
 * store (its changelog is the topic itself); the join operator looks up the
 * stream record's key there and builds the result from `value` and
 * `right`. A stream whose key changed is repartitioned first, so both sides
 * are keyed and partitioned alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/err.h"
#include "common/job/job_int.h"

#define OP_(x) WEIR__TOPOLOGY__OP_KIND__OP_##x

static const char *const join_keys[] = {
    "with", "type", "value", "within", NULL};

/* The table source a join names, or NULL (error recorded). */
static weir__jsource *
table_of(weir__jc *jc, const yaml_node_t *n)
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
        if (!src->table) {
            weir__jc_error(jc, n,
                "join: '%s' is not a table (declare it with table: true; "
                "stream-stream joins are not supported yet)",
                name);
            return NULL;
        }
        return src->topic != NULL ? src : NULL;
    }
    weir__jc_error(jc, n, "join: unknown source '%s'", name);
    return NULL;
}

static bool
join_type(weir__jc *jc, const yaml_node_t *n, Weir__Topology__JoinType *out)
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
    if (s != NULL) {
        weir__jc_error(jc, n,
            "join type: expected inner or left for a table, found '%s'", s);
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

/* The table's topic as a second input of the current subtopology: an
 * OP_SOURCE that feeds no operator, only the store. */
static void
table_source(weir__jc *jc, const weir__jstep *s, const weir__jsource *tab)
{
    int last = jc->last;
    weir_stype key = jc->key, value = jc->value;
    jc->last = -1;
    jc->key = weir__jc_stype(weir__jc_format_type(tab->key_format));
    jc->value = weir__jc_stype(weir__jc_format_type(tab->value_format));
    char buf[300];
    weir__jc_op_name(buf, sizeof(buf), s, "-table");
    weir__op_msg *op = weir__jc_op_new(jc, OP_(SOURCE), buf, s->key);
    jc->last = last;
    jc->key = key;
    jc->value = value;
    if (op == NULL) {
        return;
    }
    op->topic = weir__jc_strdup(jc, tab->topic);
    op->source = weir__jc_strdup(jc, tab->name);
    op->key_format = tab->key_format;
    op->value_format = tab->value_format;
    op->table = true;
    op->table_store = weir__jc_strdup(jc, tab->name);
    weir__jc_push_string(
        jc, &jc->sub->input_topics, &jc->sub->n_input_topics, tab->topic);
    weir__jc_topic(jc, tab->topic, WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_INPUT,
        tab->partitions, false);
    table_store(jc, tab);
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
    if (wi != NULL) {
        weir__jc_error(jc, wi,
            "join: within: is for stream-stream joins, not supported yet");
        return;
    }
    Weir__Topology__JoinType type;
    weir__jsource *tab = table_of(jc, wn);
    if (!join_type(jc, weir__jc_get(jc, s->arg, "type"), &type) ||
        tab == NULL || !co_partitioned(jc, s, tab)) {
        return;
    }
    if (jc->windowed) {
        weir__jc_error(jc, s->key,
            "join: a windowed aggregate's results cannot be joined");
        return;
    }
    if (jc->key_changed) {
        char name[300];
        snprintf(name, sizeof(name), "join-%s", tab->name);
        weir__jc_repartition(jc, s, name);
    }
    weir_expr_env env;
    weir_stype t;
    weir__jc_env_of(jc, &env);
    env.has_right = true;
    env.right = weir__jc_stype(weir__jc_format_type(tab->value_format));
    Weir__Topology__Expr *e = weir__jc_expr_new(jc, vn, &env, "join value", &t);
    if (e == NULL || jc->sub == NULL) {
        weir__topology__expr__free_unpacked(e, NULL);
        return;
    }
    table_source(jc, s, tab);
    char buf[300];
    weir__jc_op_name(buf, sizeof(buf), s, "");
    weir__op_msg *op = weir__jc_op_new(jc, OP_(STREAM_TABLE_JOIN), buf, s->key);
    if (op == NULL) {
        weir__topology__expr__free_unpacked(e, NULL);
        return;
    }
    op->value = e;
    op->join_type = type;
    op->table_store = weir__jc_strdup(jc, tab->name);
    op->right_type = (Weir__Topology__ValueType)env.right.type;
    op->right_elem_type = (Weir__Topology__ValueType)env.right.elem;
    op->key_format = tab->key_format;
    op->value_format = tab->value_format;
    jc->value = t;
    weir__jc_op_produces(jc, op);
}
