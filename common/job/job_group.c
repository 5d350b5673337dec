/*
 * Grouping and aggregation: group_by (a repartition when the key changes),
 * window: and the aggregations count, reduce and aggregate with their
 * stores and changelogs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/err.h"
#include "common/job/job_int.h"
#include "common/value/time_fmt.h"

#define OP_(x) WEIR__TOPOLOGY__OP_KIND__OP_##x

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

void
weir__jc_repartition(weir__jc *jc, const weir__jstep *s, const char *name)
{
    char buf[300];
    char *topic = NULL;
    if (asprintf(&topic, "%s-%s-repartition", jc->job, name) < 0) {
        jc->oom = true;
        return;
    }
    for (size_t i = 0; i < jc->topo->n_topics; i++) {
        if (strcmp(jc->topo->topics[i]->name, topic) == 0) {
            weir__jc_error(jc, s->key,
                "%s: topic '%s' is already used (expected a distinct "
                "name:)",
                s->op, topic);
            free(topic);
            return;
        }
    }
    weir__jc_op_name(buf, sizeof(buf), s, "-repartition");
    weir__op_msg *rep = weir__jc_op_new(jc, OP_(REPARTITION), buf, s->key);
    if (rep == NULL) {
        free(topic);
        return;
    }
    rep->topic = topic;
    rep->key_format = weir__jc_type_format(jc->key.type);
    rep->value_format = weir__jc_type_format(jc->value.type);
    weir__jc_topic(
        jc, topic, WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_REPARTITION, 0, false);
    /* The next subtopology reads the repartition topic. */
    if (weir__jc_sub_new(jc) == NULL) {
        return;
    }
    jc->key = weir__jc_decoded_type(jc->key);
    jc->value = weir__jc_decoded_type(jc->value);
    jc->windowed = false;
    jc->key_changed = false;
    jc->from = NULL;
    weir__jc_op_name(buf, sizeof(buf), s, "-source");
    weir__op_msg *src = weir__jc_op_new(jc, OP_(SOURCE), buf, s->key);
    if (src == NULL) {
        return;
    }
    src->topic = weir__jc_strdup(jc, topic);
    src->key_format = rep->key_format;
    src->value_format = rep->value_format;
    weir__jc_push_string(
        jc, &jc->sub->input_topics, &jc->sub->n_input_topics, topic);
    weir__jc_op_produces(jc, src);
}

void
weir__jc_group_by(weir__jc *jc, const weir__jstep *s, const weir__jstep *agg)
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
        weir__jc_env_of(jc, &env);
        Weir__Topology__Expr *e =
            weir__jc_expr_new(jc, kn, &env, "group_by", &t);
        if (e == NULL) {
            return;
        }
        weir__jc_op_name(buf, sizeof(buf), s, "");
        weir__op_msg *op = weir__jc_op_new(jc, OP_(SELECT_KEY), buf, s->key);
        if (op == NULL) {
            weir__topology__expr__free_unpacked(e, NULL);
            return;
        }
        op->key = e;
        jc->key = t;
        weir__jc_op_produces(jc, op);
    } else if (!jc->key_changed) {
        return; /* grouped by the key it already has: no repartition */
    }
    weir__jc_repartition(jc, s, name[0] ? name : "group_by");
}

static const char *const window_keys[] = {
    "type", "size", "advance", "gap", "grace", "time", "emit", NULL};

bool
weir__jc_duration(
    weir__jc *jc, const yaml_node_t *n, const char *what, uint64_t *ms)
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
Weir__Topology__Window *
weir__jc_window(weir__jc *jc, const weir__jstep *s)
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
        ok = weir__jc_duration(jc, size, "window size", &w->size_ms) && ok;
        if (size != NULL && w->size_ms == 0 && ok) {
            weir__jc_error(jc, size, "window size: must be positive");
            ok = false;
        }
    }
    w->advance_ms = w->size_ms;
    if (adv != NULL) {
        ok = weir__jc_duration(jc, adv, "window advance", &w->advance_ms) && ok;
        if (ok && (w->advance_ms == 0 || w->advance_ms > w->size_ms)) {
            weir__jc_error(jc, adv,
                "window advance: expected more than 0 and at most the size");
            ok = false;
        }
    }
    if (gap != NULL) {
        ok = weir__jc_duration(jc, gap, "window gap", &w->gap_ms) && ok;
        if (ok && w->gap_ms == 0) {
            weir__jc_error(jc, gap, "window gap: must be positive");
            ok = false;
        }
    }
    if ((n = weir__jc_get(jc, s->arg, "grace")) != NULL) {
        ok = weir__jc_duration(jc, n, "window grace", &w->grace_ms) && ok;
    }
    if ((n = weir__jc_get(jc, s->arg, "emit")) != NULL) {
        ok = weir__jc_emit(jc, n, "window emit", true, &w->emit) && ok;
    }
    if ((n = weir__jc_get(jc, s->arg, "time")) != NULL) {
        weir_expr_env env;
        weir_stype t;
        weir__jc_env_of(jc, &env);
        w->time = weir__jc_expr_new(jc, n, &env, "window time", &t);
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

static const char *const count_keys[] = {"store", "emit", NULL};
static const char *const reduce_keys[] = {
    "value", "store", "emit", "associative", NULL};
static const char *const aggregate_keys[] = {
    "function", "value", "store", "emit", NULL};

bool
weir__jc_emit(weir__jc *jc, const yaml_node_t *n, const char *what,
    bool windowed, Weir__Topology__Emit *out)
{
    const char *e = weir__jc_scalar(jc, n, what);
    if (e == NULL) {
        return false;
    }
    if (strcmp(e, "update") == 0) {
        *out = WEIR__TOPOLOGY__EMIT__EMIT_UPDATE;
    } else if (strcmp(e, "latest") == 0) {
        *out = WEIR__TOPOLOGY__EMIT__EMIT_LATEST;
    } else if (windowed && strcmp(e, "final") == 0) {
        *out = WEIR__TOPOLOGY__EMIT__EMIT_FINAL;
    } else {
        weir__jc_error(jc, n, "%s: expected %s, found '%s'%s", what,
            windowed ? "update, final or latest" : "update or latest", e,
            !windowed && strcmp(e, "final") == 0
                ? " (final needs a window: before it)"
                : "");
        return false;
    }
    return true;
}

/* The aggregation's emit: and, for reduce, associative: (false on error). */
static bool
emit_mode(weir__jc *jc, const weir__jstep *s, weir__op_msg *op,
    Weir__Topology__Window *w)
{
    const yaml_node_t *arg = s->arg;
    if (arg == NULL || arg->type != YAML_MAPPING_NODE) {
        op->emit = w != NULL ? w->emit : op->emit;
        return true;
    }
    bool ok = true;
    const yaml_node_t *n = weir__jc_get(jc, arg, "emit");
    Weir__Topology__Emit e = w != NULL ? w->emit : op->emit;
    char what[64];
    snprintf(what, sizeof(what), "%s emit", s->op);
    if (n != NULL && (ok = weir__jc_emit(jc, n, what, w != NULL, &e)) &&
        w != NULL && w->emit != WEIR__TOPOLOGY__EMIT__EMIT_UPDATE &&
        w->emit != e) {
        weir__jc_error(jc, n,
            "%s: the window says emit %s (say it in one place)", what,
            w->emit == WEIR__TOPOLOGY__EMIT__EMIT_FINAL ? "final" : "latest");
        ok = false;
    }
    op->emit = e;
    if (w != NULL) {
        w->emit = e;
    }
    bool assoc = false;
    if ((n = weir__jc_get(jc, arg, "associative")) != NULL) {
        ok = weir__jc_bool(jc, n, "reduce associative", &assoc) && ok;
    }
    op->associative = assoc;
    return ok;
}

static bool
decomposable(const weir__op_msg *op)
{
    switch (op->kind) {
    case OP_(COUNT):
        return true;
    case OP_(REDUCE):
        return op->associative;
    case OP_(AGGREGATE):
        return op->agg != WEIR__TOPOLOGY__AGG_FUNC__AGG_CUSTOM;
    default:
        return false;
    }
}

/*
 * Pre-aggregation (local-global): an aggregation right behind a group_by
 * repartition that emits latest or final, and whose partial results merge,
 * has the upstream task fold records per key within a commit and send one
 * partial per key through the repartition topic.
 */
static void
pre_aggregate(weir__jc *jc, weir__op_msg *op)
{
    weir__topo *t = jc->topo;
    weir__sub_msg *sub = jc->sub;
    /* Sessions merge by time across partials: they are folded downstream. */
    bool session =
        op->window != NULL &&
        op->window->kind == WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_SESSION;
    if (!decomposable(op) || session ||
        op->emit == WEIR__TOPOLOGY__EMIT__EMIT_UPDATE ||
        t->n_subtopologies < 2 || sub->n_operators != 2 || op->n_inputs != 1 ||
        op->inputs[0] != 0) {
        return;
    }
    weir__op_msg *src = sub->operators[0];
    const weir__sub_msg *up = t->subtopologies[t->n_subtopologies - 2];
    weir__op_msg *rep =
        up->n_operators ? up->operators[up->n_operators - 1] : NULL;
    if (src->kind != OP_(SOURCE) || rep == NULL ||
        rep->kind != OP_(REPARTITION) || strcmp(rep->topic, src->topic) != 0) {
        return;
    }
    rep->partials = src->partials = op->partials = true;
    rep->value_format = src->value_format =
        WEIR__TOPOLOGY__FORMAT__FORMAT_BYTES;
    src->value_type = WEIR__TOPOLOGY__VALUE_TYPE__TYPE_BYTES;
}

/* Adds the store (and its changelog) of an aggregation. */
Weir__Topology__Store *
weir__jc_store_new(weir__jc *jc, const char *name, char *changelog)
{
    weir__topo *t = jc->topo;
    Weir__Topology__Store *st = malloc(sizeof(*st));
    if (st == NULL || weir_array_append(&t->stores, &t->n_stores, &st,
                          sizeof(st)) != WEIR_OK) {
        free(st);
        free(changelog);
        jc->oom = true;
        return NULL;
    }
    weir__topology__store__init(st);
    st->name = weir__jc_strdup(jc, name);
    st->changelog_topic = changelog;
    st->subtopology = jc->sub->id;
    weir__jc_push_string(jc, &jc->sub->stores, &jc->sub->n_stores, name);
    return st;
}

void
weir__jc_add_store(
    weir__jc *jc, weir__op_msg *op, const char *name, bool windowed)
{
    char *changelog = NULL;
    if (asprintf(&changelog, "%s-%s-changelog", jc->job, name) < 0) {
        jc->oom = true;
        return;
    }
    Weir__Topology__Store *st = weir__jc_store_new(jc, name, changelog);
    if (st == NULL) {
        return;
    }
    st->windowed = windowed;
    op->store = weir__jc_strdup(jc, name);
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
        *out = weir__jc_stype(
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
    /*
     * AGG_CUSTOM (a plugin function by name) is in the compiled form, but
     * no worker runs plugins yet: refuse it here rather than at task start.
     */
    weir__jc_error(jc, n,
        "aggregate function: expected sum, min, max or avg, found '%s' "
        "(plugin functions are not supported yet)",
        f);
    return false;
}

void
weir__jc_aggregation(
    weir__jc *jc, const weir__jstep *s, bool grouped, Weir__Topology__Window *w)
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
    weir__jc_op_name(buf, sizeof(buf), s, "");
    int kind = count ? OP_(COUNT) : (reduce ? OP_(REDUCE) : OP_(AGGREGATE));
    weir__op_msg *op = weir__jc_op_new(jc, kind, buf, s->key);
    if (op == NULL) {
        weir__topology__window__free_unpacked(w, NULL);
        return;
    }
    op->window = w;
    weir_stype out = weir__jc_stype(WEIR_TYPE_INT);
    weir_expr_env env;
    weir__jc_env_of(jc, &env);
    if (reduce) {
        env.has_agg = true;
        env.agg = jc->value;
        weir_stype t;
        if (vn == NULL) {
            weir__jc_error(jc, arg != NULL ? arg : s->key,
                "reduce: expected an expression over agg and value");
            ok = false;
        } else if ((op->value = weir__jc_expr_new(
                        jc, vn, &env, "reduce", &t)) == NULL) {
            ok = false;
        } else if (!weir_type_accepts(jc->value.type, t.type)) {
            weir__jc_error(jc, vn, "reduce: the result is %s, the value is %s",
                weir_type_name(t.type), weir_type_name(jc->value.type));
            ok = false;
        }
        out = jc->value;
    } else if (!count) {
        weir_stype in = jc->value;
        if (vn != NULL) {
            op->value = weir__jc_expr_new(jc, vn, &env, "aggregate value", &in);
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
    ok = emit_mode(jc, s, op, w) && ok;
    if (ok) {
        weir__jc_add_store(jc, op, s->store, w != NULL);
        pre_aggregate(jc, op);
    }
    jc->value = out;
    jc->windowed = w != NULL;
    weir__jc_op_produces(jc, op);
}
