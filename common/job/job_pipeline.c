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
#include "common/job/internal.h"
#include "common/job/job_internal.h"
#include "common/job/time_fmt.h"

#define OP_(x) WEIR__TOPOLOGY__OP_KIND__OP_##x

static const char *const op_names[] = {"from", "filter", "map", "map_values",
    "flat_map_values", "select_key", "group_by", "window", "count", "reduce",
    "aggregate", "peek", "to", NULL};

/* A pipeline step: its operator name, the node after it, its position. */
typedef struct step {
    const char *op;
    const yaml_node_t *key; /* the operator name node */
    const yaml_node_t *arg;
    size_t index;    /* 1-based in the pipeline */
    char store[256]; /* aggregations: the store name */
} step;

static weir_stype
stype(weir_type t)
{
    weir_stype s = {t, WEIR_TYPE_ANY};
    return s;
}

static weir_type
format_type(weir_format fmt)
{
    switch (fmt) {
    case WEIR__TOPOLOGY__FORMAT__FORMAT_BYTES:
        return WEIR_TYPE_BYTES;
    case WEIR__TOPOLOGY__FORMAT__FORMAT_INT64:
        return WEIR_TYPE_INT;
    case WEIR__TOPOLOGY__FORMAT__FORMAT_JSON:
        return WEIR_TYPE_JSON;
    default:
        return WEIR_TYPE_STRING;
    }
}

/* The format a value of a static type travels in by default. */
static weir_format
type_format(weir_type t)
{
    switch (t) {
    case WEIR_TYPE_STRING:
        return WEIR__TOPOLOGY__FORMAT__FORMAT_STRING;
    case WEIR_TYPE_BYTES:
        return WEIR__TOPOLOGY__FORMAT__FORMAT_BYTES;
    case WEIR_TYPE_INT:
    case WEIR_TYPE_TIME:
        return WEIR__TOPOLOGY__FORMAT__FORMAT_INT64;
    default:
        return WEIR__TOPOLOGY__FORMAT__FORMAT_JSON;
    }
}

/* The static type a value has after a trip through type_format. */
static weir_stype
decoded_type(weir_stype t)
{
    if (t.type == WEIR_TYPE_NULL) {
        return stype(WEIR_TYPE_ANY);
    }
    if (t.type == WEIR_TYPE_LIST) {
        t.elem = WEIR_TYPE_ANY;
    }
    return t;
}

/* ------------------------------------------------------------ building */

static weir__sub_msg *
sub_new(weir__jc *jc)
{
    weir__topo *t = jc->topo;
    weir__sub_msg **v =
        realloc(t->subtopologies, (t->n_subtopologies + 1) * sizeof(*v));
    weir__sub_msg *sub = malloc(sizeof(*sub));
    if (v != NULL) {
        t->subtopologies = v;
    }
    if (v == NULL || sub == NULL) {
        free(sub);
        jc->oom = true;
        return NULL;
    }
    weir__topology__subtopology__init(sub);
    sub->id = (uint32_t)t->n_subtopologies;
    t->subtopologies[t->n_subtopologies++] = sub;
    jc->sub = sub;
    jc->last = -1;
    return sub;
}

static void
push_string(weir__jc *jc, char ***arr, size_t *n, const char *s)
{
    char **v = realloc(*arr, (*n + 1) * sizeof(*v));
    char *dup = strdup(s);
    if (v != NULL) {
        *arr = v;
    }
    if (v == NULL || dup == NULL) {
        free(dup);
        jc->oom = true;
        return;
    }
    (*arr)[(*n)++] = dup;
}

/* A new operator fed by the current stream, with its types. */
static weir__op_msg *
op_new(weir__jc *jc, int kind, const char *name, const yaml_node_t *at)
{
    weir__sub_msg *sub = jc->sub;
    if (sub == NULL) {
        return NULL;
    }
    weir__op_msg **v =
        realloc(sub->operators, (sub->n_operators + 1) * sizeof(*v));
    weir__op_msg *op = malloc(sizeof(*op));
    uint32_t *inputs = jc->last >= 0 ? malloc(sizeof(*inputs)) : NULL;
    if (v != NULL) {
        sub->operators = v;
    }
    if (v == NULL || op == NULL || (jc->last >= 0 && inputs == NULL)) {
        free(op);
        free(inputs);
        jc->oom = true;
        return NULL;
    }
    weir__topology__operator__init(op);
    op->kind = (Weir__Topology__OpKind)kind;
    op->name = weir__jc_strdup(jc, name);
    if (inputs != NULL) {
        inputs[0] = (uint32_t)jc->last;
        op->inputs = inputs;
        op->n_inputs = 1;
    }
    op->line = (uint32_t)at->start_mark.line + 1;
    op->column = (uint32_t)at->start_mark.column + 1;
    op->key_type = (Weir__Topology__ValueType)jc->key.type;
    op->key_elem_type = (Weir__Topology__ValueType)jc->key.elem;
    op->value_type = (Weir__Topology__ValueType)jc->value.type;
    op->value_elem_type = (Weir__Topology__ValueType)jc->value.elem;
    op->windowed = jc->windowed;
    sub->operators[sub->n_operators++] = op;
    return op;
}

/* Makes op the producer of the stream. */
static void
op_produces(weir__jc *jc, const weir__op_msg *op)
{
    (void)op;
    jc->last = (int)jc->sub->n_operators - 1;
}

/*
 * Parses the expression in scalar n against env; on success returns the
 * Expr message and its type. On failure records the error at the exact
 * column in the file.
 */
static Weir__Topology__Expr *
expr_new(weir__jc *jc, const yaml_node_t *n, const weir_expr_env *env,
    const char *what, weir_stype *type)
{
    const char *text = weir__jc_scalar(jc, n, what);
    if (text == NULL) {
        return NULL;
    }
    weir_expr *expr = NULL;
    weir_expr_error err;
    int rv = weir_expr_parse(text, n->data.scalar.length, env, &expr, &err);
    if (rv == WEIR_ENOMEM) {
        jc->oom = true;
        return NULL;
    }
    unsigned line = (unsigned)n->start_mark.line + 1;
    unsigned col = (unsigned)n->start_mark.column + 1;
    if (rv != WEIR_OK) {
        bool quoted = n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                      n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        bool one_line = n->start_mark.line == n->end_mark.line;
        unsigned at = col;
        if (one_line && err.column > 0) {
            at = col + (quoted ? 1 : 0) + err.column - 1;
        }
        weir__job_error(jc->errs, line, at, "%s: %s", what, err.msg);
        return NULL;
    }
    *type = weir_expr_type(expr);
    weir_expr_free(expr);
    Weir__Topology__Expr *e = malloc(sizeof(*e));
    if (e == NULL) {
        jc->oom = true;
        return NULL;
    }
    weir__topology__expr__init(e);
    e->text = weir__jc_strdup(jc, text);
    e->type = (Weir__Topology__ValueType)type->type;
    e->line = line;
    e->column = col;
    return e;
}

static void
env_of(const weir__jc *jc, weir_expr_env *env)
{
    memset(env, 0, sizeof(*env));
    env->key = jc->key;
    env->value = jc->value;
    env->windowed = jc->windowed;
}

static void
op_name(char *buf, size_t len, const step *s, const char *suffix)
{
    snprintf(buf, len, "%s-%zu%s", s->op, s->index, suffix);
}

/* ------------------------------------------------------------ operators */

static void
compile_from(weir__jc *jc, const step *s)
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
        jc->key = jc->value = stype(WEIR_TYPE_STRING);
        return;
    }
    src->used = true;
    if (src->topic == NULL) {
        return; /* reported at the source */
    }
    weir__jc_topic(jc, src->topic, WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_INPUT,
        src->partitions, false);
    jc->key = stype(format_type(src->key_format));
    jc->value = stype(format_type(src->value_format));
    jc->windowed = false;
    jc->key_changed = false;
    char buf[300];
    op_name(buf, sizeof(buf), s, "");
    weir__op_msg *op = op_new(jc, OP_(SOURCE), buf, s->key);
    if (op == NULL) {
        return;
    }
    op->topic = weir__jc_strdup(jc, src->topic);
    op->source = weir__jc_strdup(jc, src->name);
    op->key_format = src->key_format;
    op->value_format = src->value_format;
    push_string(
        jc, &jc->sub->input_topics, &jc->sub->n_input_topics, src->topic);
    op_produces(jc, op);
}

static void
compile_filter(weir__jc *jc, const step *s)
{
    weir_expr_env env;
    weir_stype t;
    env_of(jc, &env);
    Weir__Topology__Expr *e = expr_new(jc, s->arg, &env, "filter", &t);
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
    op_name(buf, sizeof(buf), s, "");
    weir__op_msg *op = op_new(jc, OP_(FILTER), buf, s->key);
    if (op == NULL) {
        weir__topology__expr__free_unpacked(e, NULL);
        return;
    }
    op->predicate = e;
    op_produces(jc, op);
}

/* map_values, flat_map_values, select_key, peek: one expression. */
static void
compile_unary(weir__jc *jc, const step *s, int kind)
{
    weir_expr_env env;
    weir_stype t = {WEIR_TYPE_ANY, WEIR_TYPE_ANY};
    env_of(jc, &env);
    Weir__Topology__Expr *e = NULL;
    if (!(kind == OP_(PEEK) && weir__jc_is_null(s->arg))) {
        e = expr_new(jc, s->arg, &env, s->op, &t);
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
    op_name(buf, sizeof(buf), s, "");
    weir__op_msg *op = op_new(jc, kind, buf, s->key);
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
        jc->value = stype(t.type == WEIR_TYPE_LIST ? t.elem : WEIR_TYPE_ANY);
    }
    op_produces(jc, op);
}

static const char *const map_keys[] = {"key", "value", NULL};

static void
compile_map(weir__jc *jc, const step *s)
{
    if (!weir__jc_keys(jc, s->arg, "map", map_keys)) {
        return;
    }
    weir_expr_env env;
    env_of(jc, &env);
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
        ok = (ke = expr_new(jc, kn, &env, "map key", &kt)) != NULL;
    }
    if (vn != NULL) {
        ok = (ve = expr_new(jc, vn, &env, "map value", &vt)) != NULL && ok;
    }
    char buf[300];
    op_name(buf, sizeof(buf), s, "");
    weir__op_msg *op = ok ? op_new(jc, OP_(MAP), buf, s->key) : NULL;
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
    op_produces(jc, op);
}

/* True if text is word, blanks around it allowed. */
static bool
is_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    text += strspn(text, " \t");
    if (strncmp(text, word, n) != 0) {
        return false;
    }
    text += n;
    return text[strspn(text, " \t")] == '\0';
}

static const char *const group_keys[] = {"key", "name", NULL};

/* The operator after a group_by (and its window), which must aggregate. */
static bool
is_aggregation(const char *op)
{
    return strcmp(op, "count") == 0 || strcmp(op, "reduce") == 0 ||
           strcmp(op, "aggregate") == 0;
}

static void
compile_group_by(weir__jc *jc, const step *s, const step *agg)
{
    const yaml_node_t *kn = s->arg;
    const char *name = agg != NULL ? agg->store : "";
    if (s->arg != NULL && s->arg->type == YAML_MAPPING_NODE) {
        if (!weir__jc_keys(jc, s->arg, "group_by", group_keys)) {
            return;
        }
        kn = weir__jc_get(jc, s->arg, "key");
        const yaml_node_t *nn = weir__jc_get(jc, s->arg, "name");
        if (nn != NULL && (name = weir__jc_scalar(jc, nn, "group_by name"))) {
            if (!weir__jc_valid_name(name)) {
                weir__jc_error(
                    jc, nn, "group_by: '%s' is not a valid name", name);
            }
        }
        if (kn == NULL) {
            weir__jc_error(jc, s->arg, "group_by: missing key 'key'");
            return;
        }
    }
    const char *text = weir__jc_scalar(jc, kn, "group_by");
    if (text == NULL) {
        return;
    }
    if (agg == NULL) {
        weir__jc_error(jc, s->key,
            "group_by: expected count, reduce or aggregate after it "
            "(optionally after a window)");
    }
    bool same_key = is_word(text, "key");
    char buf[300];
    if (!same_key) {
        weir_expr_env env;
        weir_stype t;
        env_of(jc, &env);
        Weir__Topology__Expr *e = expr_new(jc, kn, &env, "group_by", &t);
        if (e == NULL) {
            return;
        }
        op_name(buf, sizeof(buf), s, "");
        weir__op_msg *op = op_new(jc, OP_(SELECT_KEY), buf, s->key);
        if (op == NULL) {
            weir__topology__expr__free_unpacked(e, NULL);
            return;
        }
        op->key = e;
        jc->key = t;
        op_produces(jc, op);
    } else if (!jc->key_changed) {
        return; /* grouped by the key it already has: no repartition */
    }
    char *topic = NULL;
    if (asprintf(&topic, "%s-%s-repartition", jc->job,
            name[0] ? name : "group_by") < 0) {
        jc->oom = true;
        return;
    }
    op_name(buf, sizeof(buf), s, "-repartition");
    weir__op_msg *rep = op_new(jc, OP_(REPARTITION), buf, s->key);
    if (rep == NULL) {
        free(topic);
        return;
    }
    rep->topic = topic;
    rep->key_format = type_format(jc->key.type);
    rep->value_format = type_format(jc->value.type);
    weir__jc_topic(
        jc, topic, WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_REPARTITION, 0, false);
    /* The next subtopology reads the repartition topic. */
    if (sub_new(jc) == NULL) {
        return;
    }
    jc->key = decoded_type(jc->key);
    jc->value = decoded_type(jc->value);
    jc->windowed = false;
    jc->key_changed = false;
    op_name(buf, sizeof(buf), s, "-source");
    weir__op_msg *src = op_new(jc, OP_(SOURCE), buf, s->key);
    if (src == NULL) {
        return;
    }
    src->topic = weir__jc_strdup(jc, topic);
    src->key_format = rep->key_format;
    src->value_format = rep->value_format;
    push_string(jc, &jc->sub->input_topics, &jc->sub->n_input_topics, topic);
    op_produces(jc, src);
}

static const char *const window_keys[] = {
    "type", "size", "advance", "gap", "grace", "time", "emit", NULL};

static bool
duration(weir__jc *jc, const yaml_node_t *n, const char *what, uint64_t *ms)
{
    const char *s = weir__jc_scalar(jc, n, what);
    if (s == NULL) {
        return false;
    }
    int rv = weir_duration_parse(s, ms);
    if (rv != WEIR_OK) {
        weir__jc_error(jc, n,
            "%s: expected a duration such as 500ms, 10s, 1m, 1h (or ms), "
            "found '%s'",
            what, s);
        return false;
    }
    return true;
}

/* Parses window: into a Window message (NULL on error). */
static Weir__Topology__Window *
compile_window(weir__jc *jc, const step *s)
{
    if (!weir__jc_keys(jc, s->arg, "window", window_keys)) {
        return NULL;
    }
    Weir__Topology__Window *w = malloc(sizeof(*w));
    if (w == NULL) {
        jc->oom = true;
        return NULL;
    }
    weir__topology__window__init(w);
    bool ok = true;
    const yaml_node_t *n = weir__jc_get(jc, s->arg, "type");
    const char *type = n != NULL ? weir__jc_scalar(jc, n, "window type") : NULL;
    if (n == NULL) {
        weir__jc_error(jc, s->arg,
            "window: missing key 'type' (tumbling, hopping or session)");
        ok = false;
    } else if (type == NULL) {
        ok = false;
    } else if (strcmp(type, "tumbling") == 0) {
        w->kind = WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_TUMBLING;
    } else if (strcmp(type, "hopping") == 0) {
        w->kind = WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_HOPPING;
    } else if (strcmp(type, "session") == 0) {
        w->kind = WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_SESSION;
    } else {
        weir__jc_error(jc, n,
            "window type: expected tumbling, hopping or session, found '%s'",
            type);
        ok = false;
    }
    bool session = w->kind == WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_SESSION;
    const yaml_node_t *size = weir__jc_get(jc, s->arg, "size");
    const yaml_node_t *adv = weir__jc_get(jc, s->arg, "advance");
    const yaml_node_t *gap = weir__jc_get(jc, s->arg, "gap");
    if (ok && !session && size == NULL) {
        weir__jc_error(jc, s->arg, "window: missing key 'size'");
        ok = false;
    }
    if (ok && session && gap == NULL) {
        weir__jc_error(jc, s->arg, "window: a session window needs 'gap'");
        ok = false;
    }
    if (ok && session && size != NULL) {
        weir__jc_error(
            jc, size, "window: a session window has a gap, not a size");
        ok = false;
    }
    if (ok && !session && gap != NULL) {
        weir__jc_error(jc, gap, "window: only session windows have a gap");
        ok = false;
    }
    if (ok && w->kind == WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_TUMBLING &&
        adv != NULL) {
        weir__jc_error(jc, adv, "window: only hopping windows have an advance");
        ok = false;
    }
    if (ok && w->kind == WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_HOPPING &&
        adv == NULL) {
        weir__jc_error(jc, s->arg, "window: a hopping window needs 'advance'");
        ok = false;
    }
    if (size != NULL) {
        ok = duration(jc, size, "window size", &w->size_ms) && ok;
        if (size != NULL && w->size_ms == 0 && ok) {
            weir__jc_error(jc, size, "window size: must be positive");
            ok = false;
        }
    }
    w->advance_ms = w->size_ms;
    if (adv != NULL) {
        ok = duration(jc, adv, "window advance", &w->advance_ms) && ok;
        if (ok && (w->advance_ms == 0 || w->advance_ms > w->size_ms)) {
            weir__jc_error(jc, adv,
                "window advance: expected more than 0 and at most the size");
            ok = false;
        }
    }
    if (gap != NULL) {
        ok = duration(jc, gap, "window gap", &w->gap_ms) && ok;
    }
    if ((n = weir__jc_get(jc, s->arg, "grace")) != NULL) {
        ok = duration(jc, n, "window grace", &w->grace_ms) && ok;
    }
    if ((n = weir__jc_get(jc, s->arg, "emit")) != NULL) {
        const char *e = weir__jc_scalar(jc, n, "window emit");
        if (e != NULL && strcmp(e, "update") == 0) {
            w->emit = WEIR__TOPOLOGY__EMIT__EMIT_UPDATE;
        } else if (e != NULL && strcmp(e, "final") == 0) {
            w->emit = WEIR__TOPOLOGY__EMIT__EMIT_FINAL;
        } else {
            if (e != NULL) {
                weir__jc_error(jc, n,
                    "window emit: expected update or final, found '%s'", e);
            }
            ok = false;
        }
    }
    if ((n = weir__jc_get(jc, s->arg, "time")) != NULL) {
        weir_expr_env env;
        weir_stype t;
        env_of(jc, &env);
        w->time = expr_new(jc, n, &env, "window time", &t);
        if (w->time == NULL) {
            ok = false;
        } else if (t.type != WEIR_TYPE_TIME && t.type != WEIR_TYPE_INT &&
                   t.type != WEIR_TYPE_ANY && t.type != WEIR_TYPE_JSON) {
            weir__jc_error(jc, n,
                "window time: expected a time (or int ms) expression, found %s",
                weir_type_name(t.type));
            ok = false;
        }
    }
    if (!ok) {
        weir__topology__window__free_unpacked(w, NULL);
        return NULL;
    }
    return w;
}

static const char *const count_keys[] = {"store", NULL};
static const char *const reduce_keys[] = {"value", "store", NULL};
static const char *const aggregate_keys[] = {
    "function", "value", "store", NULL};

/* Adds the store (and its changelog) of an aggregation. */
static void
add_store(weir__jc *jc, weir__op_msg *op, const char *name, bool windowed)
{
    weir__topo *t = jc->topo;
    char *changelog = NULL;
    if (asprintf(&changelog, "%s-%s-changelog", jc->job, name) < 0) {
        jc->oom = true;
        return;
    }
    Weir__Topology__Store **v =
        realloc(t->stores, (t->n_stores + 1) * sizeof(*v));
    Weir__Topology__Store *st = malloc(sizeof(*st));
    if (v != NULL) {
        t->stores = v;
    }
    if (v == NULL || st == NULL) {
        free(st);
        free(changelog);
        jc->oom = true;
        return;
    }
    weir__topology__store__init(st);
    st->name = weir__jc_strdup(jc, name);
    st->changelog_topic = changelog;
    st->subtopology = jc->sub->id;
    st->windowed = windowed;
    t->stores[t->n_stores++] = st;
    op->store = weir__jc_strdup(jc, name);
    push_string(jc, &jc->sub->stores, &jc->sub->n_stores, name);
    weir__jc_topic(
        jc, changelog, WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_CHANGELOG, 0, true);
}

static bool
agg_function(weir__jc *jc, const yaml_node_t *n, weir__op_msg *op,
    weir_stype in, weir_stype *out)
{
    const char *f = weir__jc_scalar(jc, n, "aggregate function");
    if (f == NULL) {
        return false;
    }
    bool num = in.type == WEIR_TYPE_INT || in.type == WEIR_TYPE_FLOAT ||
               in.type == WEIR_TYPE_ANY || in.type == WEIR_TYPE_JSON;
    bool ordered = num || in.type == WEIR_TYPE_STRING ||
                   in.type == WEIR_TYPE_TIME || in.type == WEIR_TYPE_BYTES;
    if (strcmp(f, "sum") == 0 || strcmp(f, "avg") == 0) {
        bool avg = f[0] == 'a';
        op->agg = avg ? WEIR__TOPOLOGY__AGG_FUNC__AGG_AVG
                      : WEIR__TOPOLOGY__AGG_FUNC__AGG_SUM;
        if (!num) {
            weir__jc_error(jc, n,
                "aggregate %s: expected numbers, the value is %s", f,
                weir_type_name(in.type));
            return false;
        }
        *out = stype(
            avg || in.type != WEIR_TYPE_INT ? WEIR_TYPE_FLOAT : WEIR_TYPE_INT);
        return true;
    }
    if (strcmp(f, "min") == 0 || strcmp(f, "max") == 0) {
        op->agg = f[1] == 'i' ? WEIR__TOPOLOGY__AGG_FUNC__AGG_MIN
                              : WEIR__TOPOLOGY__AGG_FUNC__AGG_MAX;
        if (!ordered) {
            weir__jc_error(jc, n,
                "aggregate %s: cannot order values of type %s", f,
                weir_type_name(in.type));
            return false;
        }
        *out = in;
        return true;
    }
    if (!weir__jc_valid_name(f)) {
        weir__jc_error(jc, n,
            "aggregate function: expected sum, min, max, avg or a plugin "
            "function name, found '%s'",
            f);
        return false;
    }
    op->agg = WEIR__TOPOLOGY__AGG_FUNC__AGG_CUSTOM;
    op->agg_function = weir__jc_strdup(jc, f);
    *out = stype(WEIR_TYPE_ANY);
    return true;
}

static void
compile_aggregation(
    weir__jc *jc, const step *s, bool grouped, Weir__Topology__Window *w)
{
    bool count = strcmp(s->op, "count") == 0;
    bool reduce = strcmp(s->op, "reduce") == 0;
    const char *const *keys =
        count ? count_keys : (reduce ? reduce_keys : aggregate_keys);
    const yaml_node_t *arg = s->arg;
    bool ok = true;
    if (!grouped) {
        weir__jc_error(jc, s->key,
            "%s: expected a group_by before it (group_by: key keeps the key)",
            s->op);
        ok = false;
    }
    const yaml_node_t *vn = NULL;
    if (reduce && arg != NULL && arg->type == YAML_SCALAR_NODE &&
        !weir__jc_is_null(arg)) {
        vn = arg; /* reduce: "agg + value" */
    } else if (!weir__jc_is_null(arg)) {
        if (!weir__jc_keys(jc, arg, s->op, keys)) {
            weir__topology__window__free_unpacked(w, NULL);
            return;
        }
        vn = weir__jc_get(jc, arg, "value");
        const yaml_node_t *sn = weir__jc_get(jc, arg, "store");
        if (sn != NULL && weir__jc_scalar(jc, sn, "store") != NULL &&
            !weir__jc_valid_name((const char *)sn->data.scalar.value)) {
            weir__jc_error(jc, sn,
                "store: '%s' is not a valid name (expected letters, digits, "
                "'.', '_' or '-')",
                (const char *)sn->data.scalar.value);
            ok = false;
        }
    }
    for (size_t i = 0; i < jc->topo->n_stores; i++) {
        if (strcmp(jc->topo->stores[i]->name, s->store) == 0) {
            weir__jc_error(
                jc, s->key, "%s: store '%s' is already used", s->op, s->store);
            ok = false;
        }
    }
    char buf[300];
    op_name(buf, sizeof(buf), s, "");
    int kind = count ? OP_(COUNT) : (reduce ? OP_(REDUCE) : OP_(AGGREGATE));
    weir__op_msg *op = op_new(jc, kind, buf, s->key);
    if (op == NULL) {
        weir__topology__window__free_unpacked(w, NULL);
        return;
    }
    op->window = w;
    weir_stype out = stype(WEIR_TYPE_INT);
    weir_expr_env env;
    env_of(jc, &env);
    if (reduce) {
        env.has_agg = true;
        env.agg = jc->value;
        weir_stype t;
        if (vn == NULL) {
            weir__jc_error(jc, arg != NULL ? arg : s->key,
                "reduce: expected an expression over agg and value");
            ok = false;
        } else if ((op->value = expr_new(jc, vn, &env, "reduce", &t)) == NULL) {
            ok = false;
        } else if (!weir__type_accepts(jc->value.type, t.type)) {
            weir__jc_error(jc, vn, "reduce: the result is %s, the value is %s",
                weir_type_name(t.type), weir_type_name(jc->value.type));
            ok = false;
        }
        out = jc->value;
    } else if (!count) {
        weir_stype in = jc->value;
        if (vn != NULL) {
            op->value = expr_new(jc, vn, &env, "aggregate value", &in);
            ok = op->value != NULL && ok;
        }
        const yaml_node_t *fn = weir__jc_get(jc, arg, "function");
        if (fn == NULL) {
            weir__jc_error(jc, arg != NULL ? arg : s->key,
                "aggregate: missing key 'function' (sum, min, max, avg)");
            ok = false;
        } else if (ok) {
            ok = agg_function(jc, fn, op, in, &out);
        }
    }
    if (ok) {
        add_store(jc, op, s->store, w != NULL);
    }
    jc->value = out;
    jc->windowed = w != NULL;
    op_produces(jc, op);
}

static const char *const to_keys[] = {
    "topic", "key", "value", "partitions", NULL};

static bool
sink_format(weir__jc *jc, const yaml_node_t *n, const char *what, weir_stype t,
    weir_format *fmt)
{
    *fmt = type_format(t.type);
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

static void
compile_to(weir__jc *jc, const step *s)
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
    jc->has_sink = true;
    if (!ok) {
        return;
    }
    char buf[300];
    op_name(buf, sizeof(buf), s, "");
    weir__op_msg *op = op_new(jc, OP_(SINK), buf, s->key);
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
static step *
read_steps(weir__jc *jc, const yaml_node_t *seq, size_t *count)
{
    size_t n =
        (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    step *steps = calloc(n ? n : 1, sizeof(*steps));
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
                "group_by, window, count, reduce, aggregate, peek, to)",
                op);
            continue;
        }
        step *s = &steps[k++];
        s->op = op;
        s->key = key;
        s->arg = weir__jc_node(jc, p->value);
        s->index = i + 1;
        if (is_aggregation(op)) {
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
static const step *
next_aggregation(const step *steps, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j < n && strcmp(steps[j].op, "window") == 0) {
        j++;
    }
    return j < n && is_aggregation(steps[j].op) ? &steps[j] : NULL;
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
    step *steps = read_steps(jc, seq, &n);
    if (steps == NULL) {
        return;
    }
    if (n == 0 || strcmp(steps[0].op, "from") != 0) {
        weir__jc_error(jc, n ? steps[0].key : seq,
            "pipeline: expected the first step to be 'from: <source>'");
    }
    if (sub_new(jc) == NULL) {
        free(steps);
        return;
    }
    jc->key = jc->value = stype(WEIR_TYPE_STRING);
    bool grouped = false;
    Weir__Topology__Window *window = NULL;
    const step *window_step = NULL;
    for (size_t i = 0; i < n && !jc->oom; i++) {
        const step *s = &steps[i];
        const char *op = s->op;
        if (window_step != NULL && !is_aggregation(op)) {
            weir__jc_error(jc, window_step->key,
                "window: expected count, reduce or aggregate after it");
            weir__topology__window__free_unpacked(window, NULL);
            window = NULL;
            window_step = NULL;
        }
        if (grouped && !is_aggregation(op) && strcmp(op, "window") != 0) {
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
            compile_group_by(jc, s, next_aggregation(steps, n, i));
            grouped = true;
        } else if (strcmp(op, "window") == 0) {
            if (window_step == NULL) {
                window = compile_window(jc, s);
                window_step = s;
            }
        } else if (is_aggregation(op)) {
            compile_aggregation(jc, s, grouped, window);
            window = NULL;
            window_step = NULL;
            grouped = false;
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
