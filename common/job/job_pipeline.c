/*
 * The pipeline: a list of steps, each a one-key mapping naming an operator,
 * compiled into operators of subtopologies. group_by splits the topology
 * at a repartition topic when the key changes; window: attaches to the
 * aggregation after it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/job/job_int.h"

#define OP_(x) WEIR__TOPOLOGY__OP_KIND__OP_##x

static const char *const op_names[] = {"from", "filter", "map", "map_values",
    "flat_map_values", "select_key", "group_by", "window", "count", "reduce",
    "aggregate", "peek", "join", "to", NULL};

/* ------------------------------------------------------------ operators */

static void
compile_from(weir__jc *jc, const weir__jstep *s)
{
    const char *name = weir__jc_scalar(jc, s->arg, "from");
    if (name == NULL) {
        return;
    }
    weir__jsource *src = NULL;
    char list[400] = "";
    size_t k = 0;
    for (size_t i = 0; i < jc->nsrcs; i++) {
        if (strcmp(jc->srcs[i].name, name) == 0) {
            src = &jc->srcs[i];
        }
        int n = snprintf(list + k, sizeof(list) - k, "%s%s", i ? ", " : "",
            jc->srcs[i].name);
        if (n > 0 && (size_t)n < sizeof(list) - k) {
            k += (size_t)n;
        }
    }
    if (src == NULL) {
        weir__jc_error(jc, s->arg, "from: unknown source '%s' (expected %s%s)",
            name,
            jc->nsrcs ? "one of: " : "a name declared under sources:", list);
        /* Go on with string types so later steps are still checked. */
        jc->key = jc->value = weir__jc_stype(WEIR_TYPE_STRING);
        return;
    }
    src->used = true;
    if (src->topic == NULL) {
        return; /* reported at the source */
    }
    if (src->table) {
        weir__jc_error(jc, s->arg,
            "from: '%s' is a table (join it to a stream: join: { with: %s })",
            name, name);
    }
    jc->from = src;
    weir__jc_topic(jc, src->topic, WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_INPUT,
        src->partitions, false);
    jc->key = weir__jc_stype(weir__jc_format_type(src->key_format));
    jc->value = weir__jc_stype(weir__jc_format_type(src->value_format));
    jc->windowed = false;
    jc->key_changed = false;
    char buf[300];
    weir__jc_op_name(buf, sizeof(buf), s, "");
    weir__op_msg *op = weir__jc_op_new(jc, OP_(SOURCE), buf, s->key);
    if (op == NULL) {
        return;
    }
    op->topic = weir__jc_strdup(jc, src->topic);
    op->source = weir__jc_strdup(jc, src->name);
    op->key_format = src->key_format;
    op->value_format = src->value_format;
    weir__jc_push_string(
        jc, &jc->sub->input_topics, &jc->sub->n_input_topics, src->topic);
    weir__jc_op_produces(jc, op);
}

static void
compile_filter(weir__jc *jc, const weir__jstep *s)
{
    weir_expr_env env;
    weir_stype t;
    weir__jc_env_of(jc, &env);
    Weir__Topology__Expr *e = weir__jc_expr_new(jc, s->arg, &env, "filter", &t);
    if (e == NULL) {
        return;
    }
    if (t.type != WEIR_TYPE_BOOL && t.type != WEIR_TYPE_ANY &&
        t.type != WEIR_TYPE_JSON) {
        weir__jc_error(jc, s->arg,
            "filter: expected a bool expression, found %s",
            weir_type_name(t.type));
    }
    char buf[300];
    weir__jc_op_name(buf, sizeof(buf), s, "");
    weir__op_msg *op = weir__jc_op_new(jc, OP_(FILTER), buf, s->key);
    if (op == NULL) {
        weir__topology__expr__free_unpacked(e, NULL);
        return;
    }
    op->predicate = e;
    weir__jc_op_produces(jc, op);
}

/* map_values, flat_map_values, select_key, peek: one expression. */
static void
compile_unary(weir__jc *jc, const weir__jstep *s, int kind)
{
    weir_expr_env env;
    weir_stype t = {WEIR_TYPE_ANY, WEIR_TYPE_ANY};
    weir__jc_env_of(jc, &env);
    Weir__Topology__Expr *e = NULL;
    if (!(kind == OP_(PEEK) && weir__jc_is_null(s->arg))) {
        e = weir__jc_expr_new(jc, s->arg, &env, s->op, &t);
        if (e == NULL) {
            return;
        }
    }
    if (kind == OP_(FLAT_MAP_VALUES) && t.type != WEIR_TYPE_LIST &&
        !(t.type == WEIR_TYPE_ANY || t.type == WEIR_TYPE_JSON)) {
        weir__jc_error(jc, s->arg,
            "flat_map_values: expected a list expression, found %s",
            weir_type_name(t.type));
    }
    char buf[300];
    weir__jc_op_name(buf, sizeof(buf), s, "");
    weir__op_msg *op = weir__jc_op_new(jc, kind, buf, s->key);
    if (op == NULL) {
        weir__topology__expr__free_unpacked(e, NULL);
        return;
    }
    if (kind == OP_(SELECT_KEY)) {
        op->key = e;
        jc->key = t;
        jc->key_changed = true;
    } else {
        op->value = e;
    }
    if (kind == OP_(MAP_VALUES)) {
        jc->value = t;
    } else if (kind == OP_(FLAT_MAP_VALUES)) {
        jc->value =
            weir__jc_stype(t.type == WEIR_TYPE_LIST ? t.elem : WEIR_TYPE_ANY);
    }
    weir__jc_op_produces(jc, op);
}

static const char *const map_keys[] = {"key", "value", NULL};

static void
compile_map(weir__jc *jc, const weir__jstep *s)
{
    if (!weir__jc_keys(jc, s->arg, "map", map_keys)) {
        return;
    }
    weir_expr_env env;
    weir__jc_env_of(jc, &env);
    const yaml_node_t *kn = weir__jc_get(jc, s->arg, "key");
    const yaml_node_t *vn = weir__jc_get(jc, s->arg, "value");
    if (kn == NULL && vn == NULL) {
        weir__jc_error(jc, s->arg, "map: expected key:, value: or both");
        return;
    }
    weir_stype kt = jc->key, vt = jc->value;
    Weir__Topology__Expr *ke = NULL, *ve = NULL;
    bool ok = true;
    if (kn != NULL) {
        ok = (ke = weir__jc_expr_new(jc, kn, &env, "map key", &kt)) != NULL;
    }
    if (vn != NULL) {
        ok = (ve = weir__jc_expr_new(jc, vn, &env, "map value", &vt)) != NULL &&
             ok;
    }
    char buf[300];
    weir__jc_op_name(buf, sizeof(buf), s, "");
    weir__op_msg *op = ok ? weir__jc_op_new(jc, OP_(MAP), buf, s->key) : NULL;
    if (op == NULL) {
        weir__topology__expr__free_unpacked(ke, NULL);
        weir__topology__expr__free_unpacked(ve, NULL);
        return;
    }
    op->key = ke;
    op->value = ve;
    jc->key = kt;
    jc->value = vt;
    jc->key_changed = jc->key_changed || ke != NULL;
    weir__jc_op_produces(jc, op);
}

/* True if text is word, blanks around it allowed. */
static const char *const to_keys[] = {
    "topic", "key", "value", "partitions", NULL};

static bool
sink_format(weir__jc *jc, const yaml_node_t *n, const char *what, weir_stype t,
    weir_format *fmt)
{
    *fmt = weir__jc_type_format(t.type);
    if (n == NULL) {
        return true;
    }
    const char *s = weir__jc_scalar(jc, n, what);
    if (s == NULL) {
        return false;
    }
    if (weir_format_parse(s, fmt) != WEIR_OK) {
        weir__jc_error(jc, n,
            "%s: unknown format '%s' (expected string, bytes, int64 or json)",
            what, s);
        return false;
    }
    if (*fmt == WEIR__TOPOLOGY__FORMAT__FORMAT_INT64 &&
        !(t.type == WEIR_TYPE_INT || t.type == WEIR_TYPE_TIME ||
            t.type == WEIR_TYPE_ANY || t.type == WEIR_TYPE_JSON)) {
        weir__jc_error(jc, n, "%s: cannot write a %s as int64", what,
            weir_type_name(t.type));
        return false;
    }
    return true;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* True if topic has the name of one of the job's internal topics. */
static bool
is_internal_topic(const char *job, const char *topic)
{
    size_t n = strlen(job);
    if (strncmp(topic, job, n) != 0 || topic[n] != '-') {
        return false;
    }
    const char *rest = topic + n + 1;
    return strcmp(rest, "dlq") == 0 || ends_with(rest, "-repartition") ||
           ends_with(rest, "-changelog");
}

static void
compile_to(weir__jc *jc, const weir__jstep *s)
{
    const yaml_node_t *tn = s->arg;
    const yaml_node_t *kn = NULL, *vn = NULL, *pn = NULL;
    if (s->arg != NULL && s->arg->type == YAML_MAPPING_NODE) {
        if (!weir__jc_keys(jc, s->arg, "to", to_keys)) {
            return;
        }
        tn = weir__jc_get(jc, s->arg, "topic");
        kn = weir__jc_get(jc, s->arg, "key");
        vn = weir__jc_get(jc, s->arg, "value");
        pn = weir__jc_get(jc, s->arg, "partitions");
        if (tn == NULL) {
            weir__jc_error(jc, s->arg, "to: missing key 'topic'");
            return;
        }
    }
    const char *topic = weir__jc_scalar(jc, tn, "to");
    bool ok = topic != NULL;
    if (topic != NULL && !weir__jc_valid_name(topic)) {
        weir__jc_error(jc, tn, "to: '%s' is not a valid topic name", topic);
        ok = false;
    }
    weir_format kf, vf;
    ok = sink_format(jc, kn, "to key", jc->key, &kf) && ok;
    ok = sink_format(jc, vn, "to value", jc->value, &vf) && ok;
    unsigned long parts = 0;
    if (pn != NULL) {
        ok = weir__jc_uint(jc, pn, "to partitions", 1, 10000, &parts) && ok;
    }
    for (size_t i = 0; ok && i < jc->nsrcs; i++) {
        if (jc->srcs[i].topic != NULL &&
            strcmp(jc->srcs[i].topic, topic) == 0) {
            weir__jc_error(
                jc, tn, "to: '%s' is an input topic of the job", topic);
            ok = false;
        }
    }
    if (ok && is_internal_topic(jc->job, topic)) {
        weir__jc_error(jc, tn,
            "to: '%s' is named like an internal topic of the job "
            "(%s-*-repartition, %s-*-changelog, %s-dlq)",
            topic, jc->job, jc->job, jc->job);
        ok = false;
    }
    jc->has_sink = true;
    if (!ok) {
        return;
    }
    char buf[300];
    weir__jc_op_name(buf, sizeof(buf), s, "");
    weir__op_msg *op = weir__jc_op_new(jc, OP_(SINK), buf, s->key);
    if (op == NULL) {
        return;
    }
    op->topic = weir__jc_strdup(jc, topic);
    op->key_format = kf;
    op->value_format = vf;
    weir__jc_topic(jc, topic, WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_OUTPUT,
        (unsigned)parts, false);
    /* A sink does not change the stream: later steps read what it read. */
}

/* ------------------------------------------------------------ pipeline */

/* Reads the steps; false if the list itself is malformed. */
static weir__jstep *
read_steps(weir__jc *jc, const yaml_node_t *seq, size_t *count)
{
    size_t n =
        (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    weir__jstep *steps = calloc(n ? n : 1, sizeof(*steps));
    if (steps == NULL) {
        jc->oom = true;
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item =
            weir__jc_node(jc, seq->data.sequence.items.start[i]);
        if (item == NULL) {
            continue;
        }
        if (item->type != YAML_MAPPING_NODE) {
            weir__jc_error(jc, item,
                "pipeline: expected a step such as '- filter: \"...\"', "
                "found %s",
                item->type == YAML_SEQUENCE_NODE ? "a list" : "a scalar");
            continue;
        }
        size_t pairs = (size_t)(item->data.mapping.pairs.top -
                                item->data.mapping.pairs.start);
        if (pairs != 1) {
            weir__jc_error(jc, item,
                "pipeline: a step names exactly one operator, found %zu keys",
                pairs);
            continue;
        }
        yaml_node_pair_t *p = item->data.mapping.pairs.start;
        yaml_node_t *key = weir__jc_node(jc, p->key);
        const char *op = weir__jc_scalar(jc, key, "pipeline step");
        if (op == NULL) {
            continue;
        }
        bool known = false;
        for (size_t j = 0; op_names[j] != NULL && !known; j++) {
            known = strcmp(op, op_names[j]) == 0;
        }
        if (!known) {
            weir__jc_error(jc, key,
                "pipeline: unknown operator '%s' (expected one of: from, "
                "filter, map, map_values, flat_map_values, select_key, "
                "group_by, window, count, reduce, aggregate, peek, join, to)",
                op);
            continue;
        }
        weir__jstep *s = &steps[k++];
        s->op = op;
        s->key = key;
        s->arg = weir__jc_node(jc, p->value);
        s->index = i + 1;
        if (weir__jc_is_aggregation(op)) {
            const yaml_node_t *sn = weir__jc_get(jc, s->arg, "store");
            const char *name = sn != NULL && sn->type == YAML_SCALAR_NODE
                                   ? (const char *)sn->data.scalar.value
                                   : NULL;
            if (name != NULL && strlen(name) < sizeof(s->store)) {
                snprintf(s->store, sizeof(s->store), "%s", name);
            } else {
                snprintf(s->store, sizeof(s->store), "%s-%zu", op, i + 1);
            }
        }
    }
    *count = k;
    return steps;
}

/* The aggregation that a group_by at steps[i] feeds (skipping a window). */
static const weir__jstep *
next_aggregation(const weir__jstep *steps, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j < n && strcmp(steps[j].op, "window") == 0) {
        j++;
    }
    return j < n && weir__jc_is_aggregation(steps[j].op) ? &steps[j] : NULL;
}

void
weir__jc_pipeline(weir__jc *jc, const yaml_node_t *seq)
{
    if (seq->type != YAML_SEQUENCE_NODE) {
        weir__jc_error(jc, seq, "pipeline: expected a list of steps, found %s",
            seq->type == YAML_MAPPING_NODE ? "a mapping" : "a scalar");
        return;
    }
    size_t n = 0;
    weir__jstep *steps = read_steps(jc, seq, &n);
    if (steps == NULL) {
        return;
    }
    if (n == 0 || strcmp(steps[0].op, "from") != 0) {
        weir__jc_error(jc, n ? steps[0].key : seq,
            "pipeline: expected the first step to be 'from: <source>'");
    }
    if (weir__jc_sub_new(jc) == NULL) {
        free(steps);
        return;
    }
    jc->key = jc->value = weir__jc_stype(WEIR_TYPE_STRING);
    bool grouped = false;
    Weir__Topology__Window *window = NULL;
    const weir__jstep *window_step = NULL;
    for (size_t i = 0; i < n && !jc->oom; i++) {
        const weir__jstep *s = &steps[i];
        const char *op = s->op;
        if (window_step != NULL && !weir__jc_is_aggregation(op)) {
            weir__jc_error(jc, window_step->key,
                "window: expected count, reduce or aggregate after it");
            weir__topology__window__free_unpacked(window, NULL);
            window = NULL;
            window_step = NULL;
        }
        if (grouped && !weir__jc_is_aggregation(op) &&
            strcmp(op, "window") != 0) {
            grouped = false; /* reported at the group_by */
        }
        if (strcmp(op, "from") == 0) {
            if (i > 0) {
                weir__jc_error(
                    jc, s->key, "from: only the first step reads a source");
                const char *name = weir__jc_scalar(jc, s->arg, "from");
                for (size_t k = 0; name != NULL && k < jc->nsrcs; k++) {
                    if (strcmp(jc->srcs[k].name, name) == 0) {
                        jc->srcs[k].used = true; /* no second error */
                    }
                }
                continue;
            }
            compile_from(jc, s);
        } else if (strcmp(op, "filter") == 0) {
            compile_filter(jc, s);
        } else if (strcmp(op, "map") == 0) {
            compile_map(jc, s);
        } else if (strcmp(op, "map_values") == 0) {
            compile_unary(jc, s, OP_(MAP_VALUES));
        } else if (strcmp(op, "flat_map_values") == 0) {
            compile_unary(jc, s, OP_(FLAT_MAP_VALUES));
        } else if (strcmp(op, "select_key") == 0) {
            compile_unary(jc, s, OP_(SELECT_KEY));
        } else if (strcmp(op, "peek") == 0) {
            compile_unary(jc, s, OP_(PEEK));
        } else if (strcmp(op, "group_by") == 0) {
            weir__jc_group_by(jc, s, next_aggregation(steps, n, i));
            grouped = true;
        } else if (strcmp(op, "window") == 0) {
            if (window_step == NULL) {
                window = weir__jc_window(jc, s);
                window_step = s;
            }
        } else if (weir__jc_is_aggregation(op)) {
            weir__jc_aggregation(jc, s, grouped, window);
            window = NULL;
            window_step = NULL;
            grouped = false;
        } else if (strcmp(op, "join") == 0) {
            weir__jc_join(jc, s);
        } else if (strcmp(op, "to") == 0) {
            compile_to(jc, s);
        }
    }
    if (window_step != NULL) {
        weir__jc_error(jc, window_step->key,
            "window: expected count, reduce or aggregate after it");
        weir__topology__window__free_unpacked(window, NULL);
    }
    if (!jc->has_sink && n > 0) {
        weir__jc_error(
            jc, seq, "pipeline: no 'to:' step, the job writes nothing");
    }
    free(steps);
}
