/* Expression evaluation: a walk over the typed tree, allocating only from
 * the context's arena. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/expr/expr_int.h"

#define ARGS_ON_STACK 8

static int
nomem(weir_expr_error *err)
{
    return weir__expr_fail(
        err, 0, WEIR_ENOMEM, "record too large for the arena");
}

int
weir__want_string(const weir__node *n, const weir_value *v, size_t argi,
    const char **ptr, size_t *len, weir_expr_error *err)
{
    if (v->type == WEIR_TYPE_STRING || v->type == WEIR_TYPE_BYTES) {
        *ptr = v->u.s.ptr;
        *len = v->u.s.len;
        return WEIR_OK;
    }
    return weir__expr_fail(err, n->column, WEIR_EINVAL,
        "%s: argument %zu is %s, expected a string", n->fn->name, argi + 1,
        v->type == WEIR_TYPE_NULL ? "null" : weir_type_name(v->type));
}

int
weir__want_int(const weir__node *n, const weir_value *v, size_t argi,
    int64_t *out, weir_expr_error *err)
{
    if (v->type == WEIR_TYPE_INT || v->type == WEIR_TYPE_TIME) {
        *out = v->u.i;
        return WEIR_OK;
    }
    return weir__expr_fail(err, n->column, WEIR_EINVAL,
        "%s: argument %zu is %s, expected an int", n->fn->name, argi + 1,
        v->type == WEIR_TYPE_NULL ? "null" : weir_type_name(v->type));
}

int
weir__want_bool(const weir__node *n, const weir_value *v, const char *what,
    bool *out, weir_expr_error *err)
{
    if (v->type == WEIR_TYPE_BOOL) {
        *out = v->u.b;
        return WEIR_OK;
    }
    return weir__expr_fail(err, n->column, WEIR_EINVAL,
        "%s is %s, expected a bool", what,
        v->type == WEIR_TYPE_NULL ? "null" : weir_type_name(v->type));
}

static int
eval_header(const weir__node *n, const weir_expr_ctx *ctx, weir_value *out,
    weir_expr_error *err)
{
    weir_value name;
    int rv = weir__node_eval(n->a, ctx, &name, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    if (name.type != WEIR_TYPE_STRING && name.type != WEIR_TYPE_BYTES) {
        return weir__expr_fail(err, n->column, WEIR_EINVAL,
            "header name is %s, expected a string", weir_type_name(name.type));
    }
    const char *cname =
        n->a->kind == WEIR__N_LIT
            ? n->a->str
            : weir_arena_strdup(ctx->arena, name.u.s.ptr, name.u.s.len);
    if (cname == NULL) {
        return nomem(err);
    }
    const void *data;
    size_t len;
    if (ctx->header != NULL &&
        ctx->header(ctx->header_opaque, cname, &data, &len)) {
        *out = weir_value_string(data != NULL ? data : "", len);
    } else {
        *out = weir_value_null();
    }
    return WEIR_OK;
}

static bool
member_get(const weir_value *obj, const char *name, size_t len, weir_value *out)
{
    for (size_t i = 0; i < obj->u.obj.len; i++) {
        const weir_member *m = &obj->u.obj.members[i];
        if (m->name_len == len && memcmp(m->name, name, len) == 0) {
            *out = m->value;
            return true;
        }
    }
    return false;
}

static int
eval_field(const weir__node *n, const weir_expr_ctx *ctx, weir_value *out,
    weir_expr_error *err)
{
    weir_value base;
    int rv = weir__node_eval(n->a, ctx, &base, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    if (base.type == WEIR_TYPE_NULL) {
        *out = base;
        return WEIR_OK;
    }
    if (base.type != WEIR_TYPE_JSON) {
        return weir__expr_fail(err, n->column, WEIR_EINVAL,
            "field '%s' of a %s (expected a json object)", n->str,
            weir_type_name(base.type));
    }
    if (!member_get(&base, n->str, n->str_len, out)) {
        *out = weir_value_null();
    }
    return WEIR_OK;
}

static int
eval_index(const weir__node *n, const weir_expr_ctx *ctx, weir_value *out,
    weir_expr_error *err)
{
    weir_value base, idx;
    int rv = weir__node_eval(n->a, ctx, &base, err);
    if (rv == WEIR_OK) {
        rv = weir__node_eval(n->b, ctx, &idx, err);
    }
    if (rv != WEIR_OK) {
        return rv;
    }
    *out = weir_value_null();
    if (base.type == WEIR_TYPE_NULL) {
        return WEIR_OK;
    }
    if (base.type == WEIR_TYPE_LIST && idx.type == WEIR_TYPE_INT) {
        int64_t i = idx.u.i;
        int64_t len = (int64_t)base.u.list.len;
        if (i < 0) {
            i += len; /* -1 is the last element */
        }
        if (i >= 0 && i < len) {
            *out = base.u.list.items[i];
        }
        return WEIR_OK;
    }
    if (base.type == WEIR_TYPE_JSON &&
        (idx.type == WEIR_TYPE_STRING || idx.type == WEIR_TYPE_BYTES)) {
        member_get(&base, idx.u.s.ptr, idx.u.s.len, out);
        return WEIR_OK;
    }
    return weir__expr_fail(err, n->column, WEIR_EINVAL,
        "cannot index a %s with a %s", weir_type_name(base.type),
        weir_type_name(idx.type));
}

static int
overflow(const weir__node *n, weir_expr_error *err)
{
    return weir__expr_fail(err, n->column, WEIR_EINVAL, "integer overflow");
}

static int
arith_int(
    const weir__node *n, int64_t a, int64_t b, int64_t *r, weir_expr_error *err)
{
    switch (n->op) {
    case WEIR__OP_ADD:
        return __builtin_add_overflow(a, b, r) ? overflow(n, err) : WEIR_OK;
    case WEIR__OP_SUB:
        return __builtin_sub_overflow(a, b, r) ? overflow(n, err) : WEIR_OK;
    case WEIR__OP_MUL:
        return __builtin_mul_overflow(a, b, r) ? overflow(n, err) : WEIR_OK;
    case WEIR__OP_DIV:
    case WEIR__OP_MOD:
        if (b == 0) {
            return weir__expr_fail(
                err, n->column, WEIR_EINVAL, "division by zero");
        }
        if (a == INT64_MIN && b == -1) {
            return overflow(n, err);
        }
        *r = n->op == WEIR__OP_DIV ? a / b : a % b;
        return WEIR_OK;
    default:
        return WEIR_EINVAL;
    }
}

static int
arith_float(
    const weir__node *n, double a, double b, double *r, weir_expr_error *err)
{
    switch (n->op) {
    case WEIR__OP_ADD:
        *r = a + b;
        return WEIR_OK;
    case WEIR__OP_SUB:
        *r = a - b;
        return WEIR_OK;
    case WEIR__OP_MUL:
        *r = a * b;
        return WEIR_OK;
    default:
        if (b == 0) {
            return weir__expr_fail(
                err, n->column, WEIR_EINVAL, "division by zero");
        }
        *r = n->op == WEIR__OP_DIV ? a / b : fmod(a, b);
        return WEIR_OK;
    }
}

static const char *op_names[] = {
    "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"};

static int
eval_arith(const weir__node *n, const weir_value *a, const weir_value *b,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    weir_type t;
    if (weir__arith_type(n->op, a->type, b->type, &t) != 0 ||
        weir__type_dynamic(t)) {
        return weir__expr_fail(err, n->column, WEIR_EINVAL,
            "cannot compute %s %s %s",
            a->type == WEIR_TYPE_NULL ? "null" : weir_type_name(a->type),
            op_names[n->op],
            b->type == WEIR_TYPE_NULL ? "null" : weir_type_name(b->type));
    }
    if (t == WEIR_TYPE_STRING || t == WEIR_TYPE_BYTES) {
        size_t len = a->u.s.len + b->u.s.len;
        char *p = weir_arena_alloc(ctx->arena, len + 1);
        if (p == NULL) {
            return nomem(err);
        }
        if (a->u.s.len) {
            memcpy(p, a->u.s.ptr, a->u.s.len);
        }
        if (b->u.s.len) {
            memcpy(p + a->u.s.len, b->u.s.ptr, b->u.s.len);
        }
        out->type = t;
        out->u.s.ptr = p;
        out->u.s.len = len;
        return WEIR_OK;
    }
    if (t == WEIR_TYPE_FLOAT) {
        double x = a->type == WEIR_TYPE_FLOAT ? a->u.f : (double)a->u.i;
        double y = b->type == WEIR_TYPE_FLOAT ? b->u.f : (double)b->u.i;
        out->type = t;
        return arith_float(n, x, y, &out->u.f, err);
    }
    out->type = t;
    return arith_int(n, a->u.i, b->u.i, &out->u.i, err);
}

static int
eval_cmp(const weir__node *n, const weir_value *a, const weir_value *b,
    weir_value *out, weir_expr_error *err)
{
    bool r;
    bool anull = a->type == WEIR_TYPE_NULL, bnull = b->type == WEIR_TYPE_NULL;
    if (n->op == WEIR__OP_EQ || n->op == WEIR__OP_NE) {
        bool eq = anull || bnull ? anull && bnull : weir_value_equal(a, b);
        *out = weir_value_bool(n->op == WEIR__OP_EQ ? eq : !eq);
        return WEIR_OK;
    }
    bool num_a = a->type == WEIR_TYPE_INT || a->type == WEIR_TYPE_FLOAT ||
                 a->type == WEIR_TYPE_TIME;
    bool num_b = b->type == WEIR_TYPE_INT || b->type == WEIR_TYPE_FLOAT ||
                 b->type == WEIR_TYPE_TIME;
    bool txt_a = a->type == WEIR_TYPE_STRING || a->type == WEIR_TYPE_BYTES;
    bool txt_b = b->type == WEIR_TYPE_STRING || b->type == WEIR_TYPE_BYTES;
    if (anull || bnull ||
        !(a->type == b->type || (num_a && num_b) || (txt_a && txt_b))) {
        return weir__expr_fail(err, n->column, WEIR_EINVAL,
            "cannot compare %s %s %s", anull ? "null" : weir_type_name(a->type),
            op_names[n->op], bnull ? "null" : weir_type_name(b->type));
    }
    int c = weir_value_compare(a, b);
    switch (n->op) {
    case WEIR__OP_LT:
        r = c < 0;
        break;
    case WEIR__OP_LE:
        r = c <= 0;
        break;
    case WEIR__OP_GT:
        r = c > 0;
        break;
    default:
        r = c >= 0;
        break;
    }
    *out = weir_value_bool(r);
    return WEIR_OK;
}

static int
eval_call(const weir__node *n, const weir_expr_ctx *ctx, weir_value *out,
    weir_expr_error *err)
{
    if (n->fn->lazy) {
        return n->fn->eval(n, NULL, ctx, out, err);
    }
    weir_value stack[ARGS_ON_STACK];
    weir_value *args = stack;
    if (n->nargs > ARGS_ON_STACK) {
        args = weir_arena_alloc(ctx->arena, n->nargs * sizeof(*args));
        if (args == NULL) {
            return nomem(err);
        }
    }
    for (size_t i = 0; i < n->nargs; i++) {
        int rv = weir__node_eval(n->args[i], ctx, &args[i], err);
        if (rv != WEIR_OK) {
            return rv;
        }
    }
    return n->fn->eval(n, args, ctx, out, err);
}

static int
eval_list(const weir__node *n, const weir_expr_ctx *ctx, weir_value *out,
    weir_expr_error *err)
{
    weir_value *items = NULL;
    if (n->nargs > 0 && (items = weir_arena_alloc(
                             ctx->arena, n->nargs * sizeof(*items))) == NULL) {
        return nomem(err);
    }
    for (size_t i = 0; i < n->nargs; i++) {
        int rv = weir__node_eval(n->args[i], ctx, &items[i], err);
        if (rv != WEIR_OK) {
            return rv;
        }
        if (n->t.elem == WEIR_TYPE_FLOAT && items[i].type == WEIR_TYPE_INT) {
            items[i] = weir_value_float((double)items[i].u.i);
        }
    }
    out->type = WEIR_TYPE_LIST;
    out->u.list.items = items;
    out->u.list.len = n->nargs;
    return WEIR_OK;
}

static int
eval_object(const weir__node *n, const weir_expr_ctx *ctx, weir_value *out,
    weir_expr_error *err)
{
    weir_member *ms = NULL;
    if (n->nargs > 0 &&
        (ms = weir_arena_alloc(ctx->arena, n->nargs * sizeof(*ms))) == NULL) {
        return nomem(err);
    }
    for (size_t i = 0; i < n->nargs; i++) {
        const weir__node *m = n->args[i];
        ms[i].name = m->str;
        ms[i].name_len = m->str_len;
        int rv = weir__node_eval(m->a, ctx, &ms[i].value, err);
        if (rv != WEIR_OK) {
            return rv;
        }
    }
    out->type = WEIR_TYPE_JSON;
    out->u.obj.members = ms;
    out->u.obj.len = n->nargs;
    return WEIR_OK;
}

static int
eval_in(const weir__node *n, const weir_expr_ctx *ctx, weir_value *out,
    weir_expr_error *err)
{
    weir_value a, b;
    int rv = weir__node_eval(n->a, ctx, &a, err);
    if (rv == WEIR_OK) {
        rv = weir__node_eval(n->b, ctx, &b, err);
    }
    if (rv != WEIR_OK) {
        return rv;
    }
    bool found = false;
    if (b.type == WEIR_TYPE_LIST) {
        for (size_t i = 0; i < b.u.list.len && !found; i++) {
            const weir_value *x = &b.u.list.items[i];
            bool anull = a.type == WEIR_TYPE_NULL;
            bool xnull = x->type == WEIR_TYPE_NULL;
            found = anull || xnull ? anull && xnull : weir_value_equal(&a, x);
        }
    } else if (b.type != WEIR_TYPE_NULL) {
        return weir__expr_fail(err, n->column, WEIR_EINVAL,
            "'in' needs a list, not %s", weir_type_name(b.type));
    }
    *out = weir_value_bool(found);
    return WEIR_OK;
}

int
weir__node_eval(const weir__node *n, const weir_expr_ctx *ctx, weir_value *out,
    weir_expr_error *err)
{
    weir_value a, b;
    bool x = false;
    int rv;
    switch (n->kind) {
    case WEIR__N_LIT:
        *out = n->lit;
        return WEIR_OK;
    case WEIR__N_KEY:
        *out = ctx->key != NULL ? *ctx->key : weir_value_null();
        return WEIR_OK;
    case WEIR__N_VALUE:
        *out = ctx->value != NULL ? *ctx->value : weir_value_null();
        return WEIR_OK;
    case WEIR__N_AGG:
        *out = ctx->agg != NULL ? *ctx->agg : weir_value_null();
        return WEIR_OK;
    case WEIR__N_TIMESTAMP:
        *out = weir_value_time(ctx->timestamp_ms);
        return WEIR_OK;
    case WEIR__N_WSTART:
        *out = weir_value_time(ctx->window_start_ms);
        return WEIR_OK;
    case WEIR__N_WEND:
        *out = weir_value_time(ctx->window_end_ms);
        return WEIR_OK;
    case WEIR__N_HEADER:
        return eval_header(n, ctx, out, err);
    case WEIR__N_FIELD:
        return eval_field(n, ctx, out, err);
    case WEIR__N_INDEX:
        return eval_index(n, ctx, out, err);
    case WEIR__N_NOT:
        if ((rv = weir__node_eval(n->a, ctx, &a, err)) != WEIR_OK ||
            (rv = weir__want_bool(n, &a, "operand of '!'", &x, err)) !=
                WEIR_OK) {
            return rv;
        }
        *out = weir_value_bool(!x);
        return WEIR_OK;
    case WEIR__N_NEG:
        if ((rv = weir__node_eval(n->a, ctx, &a, err)) != WEIR_OK) {
            return rv;
        }
        if (a.type == WEIR_TYPE_FLOAT) {
            *out = weir_value_float(-a.u.f);
        } else if (a.type == WEIR_TYPE_INT && a.u.i != INT64_MIN) {
            *out = weir_value_int(-a.u.i);
        } else if (a.type == WEIR_TYPE_INT) {
            return overflow(n, err);
        } else {
            return weir__expr_fail(err, n->column, WEIR_EINVAL,
                "'-' needs a number, not %s", weir_type_name(a.type));
        }
        return WEIR_OK;
    case WEIR__N_AND:
    case WEIR__N_OR:
        if ((rv = weir__node_eval(n->a, ctx, &a, err)) != WEIR_OK ||
            (rv = weir__want_bool(n, &a,
                 n->kind == WEIR__N_AND ? "operand of '&&'" : "operand of '||'",
                 &x, err)) != WEIR_OK) {
            return rv;
        }
        if (x == (n->kind == WEIR__N_OR)) {
            *out = weir_value_bool(x); /* short circuit */
            return WEIR_OK;
        }
        if ((rv = weir__node_eval(n->b, ctx, &b, err)) != WEIR_OK ||
            (rv = weir__want_bool(n, &b,
                 n->kind == WEIR__N_AND ? "operand of '&&'" : "operand of '||'",
                 &x, err)) != WEIR_OK) {
            return rv;
        }
        *out = weir_value_bool(x);
        return WEIR_OK;
    case WEIR__N_CMP:
    case WEIR__N_ARITH:
        if ((rv = weir__node_eval(n->a, ctx, &a, err)) != WEIR_OK ||
            (rv = weir__node_eval(n->b, ctx, &b, err)) != WEIR_OK) {
            return rv;
        }
        return n->kind == WEIR__N_CMP ? eval_cmp(n, &a, &b, out, err)
                                      : eval_arith(n, &a, &b, ctx, out, err);
    case WEIR__N_CALL:
        return eval_call(n, ctx, out, err);
    case WEIR__N_LIST:
        return eval_list(n, ctx, out, err);
    case WEIR__N_IN:
        return eval_in(n, ctx, out, err);
    case WEIR__N_RIGHT:
        *out = ctx->right != NULL ? *ctx->right : weir_value_null();
        return WEIR_OK;
    case WEIR__N_OBJECT:
        return eval_object(n, ctx, out, err);
    case WEIR__N_MEMBER:
        break;
    }
    return weir__expr_fail(err, n->column, WEIR_EINVAL, "bad expression node");
}

int
weir_expr_eval(const weir_expr *expr, const weir_expr_ctx *ctx, weir_value *out,
    weir_expr_error *err)
{
    if (err != NULL) {
        err->column = 0;
        err->msg[0] = '\0';
    }
    return weir__node_eval(expr->root, ctx, out, err);
}
