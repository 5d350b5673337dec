/*
 * Building blocks of the job compiler: subtopologies, operators fed by the
 * current stream, expressions parsed and typed at their place in the file,
 * and the formats values travel in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/err.h"
#include "common/job/job_int.h"

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
    weir__sub_msg *sub = malloc(sizeof(*sub));
    if (sub == NULL || weir_array_append(&t->subtopologies, &t->n_subtopologies,
                           &sub, sizeof(sub)) != WEIR_OK) {
        free(sub);
        jc->oom = true;
        return NULL;
    }
    weir__topology__subtopology__init(sub);
    sub->id = (uint32_t)t->n_subtopologies - 1;
    jc->sub = sub;
    jc->last = -1;
    return sub;
}

void
weir__jc_push_string(weir__jc *jc, char ***arr, size_t *n, const char *s)
{
    char *dup = strdup(s);
    if (dup == NULL ||
        weir_array_append(arr, n, &dup, sizeof(dup)) != WEIR_OK) {
        free(dup);
        jc->oom = true;
    }
}

/* A new operator fed by the current stream, with its types. */
weir__op_msg *
weir__jc_op_new(weir__jc *jc, int kind, const char *name, const yaml_node_t *at)
{
    weir__sub_msg *sub = jc->sub;
    if (sub == NULL) {
        return NULL;
    }
    weir__op_msg *op = malloc(sizeof(*op));
    uint32_t *inputs = jc->last >= 0 ? malloc(sizeof(*inputs)) : NULL;
    if (op == NULL || (jc->last >= 0 && inputs == NULL) ||
        weir_array_append(
            &sub->operators, &sub->n_operators, &op, sizeof(op)) != WEIR_OK) {
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
    return op;
}

/* Makes op the producer of the stream. */
void
weir__jc_op_produces(weir__jc *jc, const weir__op_msg *op)
{
    (void)op;
    jc->last = (int)jc->sub->n_operators - 1;
}

/* Bytes that a YAML double-quoted escape at p (on the backslash) decodes
 * to, and the source bytes it spans. */
static void
yaml_escape(const char *p, const char *end, size_t *decoded, size_t *span)
{
    size_t digits = p + 1 < end && p[1] == 'x'   ? 2
                    : p + 1 < end && p[1] == 'u' ? 4
                    : p + 1 < end && p[1] == 'U' ? 8
                                                 : 0;
    *span = 2 + digits;
    *decoded = 1;
    if (digits > 0 && p + *span <= end) {
        unsigned long cp = strtoul((char[12]){0}, NULL, 16);
        char hex[9] = {0};
        memcpy(hex, p + 2, digits);
        cp = strtoul(hex, NULL, 16);
        *decoded = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    } else if (p + 1 < end && (p[1] == 'N' || p[1] == '_')) {
        *decoded = 2; /* U+0085, U+00A0 */
    } else if (p + 1 < end && (p[1] == 'L' || p[1] == 'P')) {
        *decoded = 3; /* U+2028, U+2029 */
    }
}

/*
 * The file column of byte `offset` of a one-line scalar's value: walks the
 * source past the quote, unfolding '' and backslash escapes, counting
 * characters (libyaml's columns) rather than bytes. Falls back to the
 * scalar's own column when the value spans lines.
 */
static unsigned
scalar_column(const weir__jc *jc, const yaml_node_t *n, size_t offset)
{
    unsigned col = (unsigned)n->start_mark.column + 1;
    yaml_scalar_style_t style = n->data.scalar.style;
    if (n->start_mark.line != n->end_mark.line) {
        return col;
    }
    /* Find the scalar by line and column (libyaml counts characters). */
    const char *p = jc->yaml, *stop = jc->yaml + jc->yaml_len;
    for (size_t l = 0; l < n->start_mark.line && p < stop; p++) {
        if (*p == '\n') {
            l++;
        }
    }
    for (size_t c = 0; c < n->start_mark.column && p < stop; c++) {
        p++;
        while (p < stop && ((unsigned char)*p & 0xc0) == 0x80) {
            p++;
        }
    }
    const char *eol = memchr(p, '\n', (size_t)(stop - p));
    if (eol != NULL) {
        stop = eol;
    }
    if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
        style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
        p++;
        col++;
    } else if (style != YAML_PLAIN_SCALAR_STYLE) {
        return col;
    }
    size_t done = 0;
    while (done < offset && p < stop) {
        size_t decoded = 1, span = 1;
        if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE && p[0] == '\'' &&
            p + 1 < stop && p[1] == '\'') {
            span = 2;
        } else if (style == YAML_DOUBLE_QUOTED_SCALAR_STYLE && p[0] == '\\') {
            yaml_escape(p, stop, &decoded, &span);
        }
        for (size_t k = 0; k < span && p + k < stop; k++) {
            if (((unsigned char)p[k] & 0xc0) != 0x80) {
                col++; /* a character starts here */
            }
        }
        p += span;
        done += decoded;
    }
    return col;
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
        unsigned at = col;
        if (err.column > 0) {
            at = scalar_column(jc, n, err.column - 1);
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
