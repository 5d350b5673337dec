/*
 * Building blocks of the job compiler: subtopologies, operators fed by the
 * current stream, expressions parsed and typed at their place in the file,
 * and the formats values travel in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/job/internal.h"
#include "common/job/job_internal.h"

weir_stype
weir__jc_stype(weir_type t)
{
    weir_stype s = {t, WEIR_TYPE_ANY};
    return s;
}

weir_type
weir__jc_format_type(weir_format fmt)
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
weir_format
weir__jc_type_format(weir_type t)
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
weir_stype
weir__jc_decoded_type(weir_stype t)
{
    if (t.type == WEIR_TYPE_NULL) {
        return weir__jc_stype(WEIR_TYPE_ANY);
    }
    if (t.type == WEIR_TYPE_LIST) {
        t.elem = WEIR_TYPE_ANY;
    }
    return t;
}

/* ------------------------------------------------------------ building */

weir__sub_msg *
weir__jc_sub_new(weir__jc *jc)
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

void
weir__jc_push_string(weir__jc *jc, char ***arr, size_t *n, const char *s)
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
weir__op_msg *
weir__jc_op_new(weir__jc *jc, int kind, const char *name, const yaml_node_t *at)
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
void
weir__jc_op_produces(weir__jc *jc, const weir__op_msg *op)
{
    (void)op;
    jc->last = (int)jc->sub->n_operators - 1;
}

/*
 * Parses the expression in scalar n against env; on success returns the
 * Expr message and its type. On failure records the error at the exact
 * column in the file.
 */
Weir__Topology__Expr *
weir__jc_expr_new(weir__jc *jc, const yaml_node_t *n, const weir_expr_env *env,
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

void
weir__jc_env_of(const weir__jc *jc, weir_expr_env *env)
{
    memset(env, 0, sizeof(*env));
    env->key = jc->key;
    env->value = jc->value;
    env->windowed = jc->windowed;
}

void
weir__jc_op_name(
    char *buf, size_t len, const weir__jstep *s, const char *suffix)
{
    snprintf(buf, len, "%s-%zu%s", s->op, s->index, suffix);
}

/* count, reduce or aggregate. */
bool
weir__jc_is_aggregation(const char *op)
{
    return strcmp(op, "count") == 0 || strcmp(op, "reduce") == 0 ||
           strcmp(op, "aggregate") == 0;
}
