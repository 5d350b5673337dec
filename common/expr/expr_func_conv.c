/* Conversion and control functions: to_string, to_json, concat, to_int,
 * to_float, parse_json, if, coalesce, is_null, abs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/expr/expr_int.h"

/* ------------------------------------------------------------ conversion */

int
weir__value_text(
    const weir_value *v, weir_arena *arena, const char **ptr, size_t *len)
{
    char num[64];
    int n;
    switch (v->type) {
    case WEIR_TYPE_STRING:
    case WEIR_TYPE_BYTES:
        *ptr = v->u.s.ptr;
        *len = v->u.s.len;
        return WEIR_OK;
    case WEIR_TYPE_BOOL:
        *ptr = v->u.b ? "true" : "false";
        *len = strlen(*ptr);
        return WEIR_OK;
    case WEIR_TYPE_NULL:
    case WEIR_TYPE_ANY:
        *ptr = "null";
        *len = 4;
        return WEIR_OK;
    case WEIR_TYPE_INT:
    case WEIR_TYPE_TIME:
        n = snprintf(num, sizeof(num), "%lld", (long long)v->u.i);
        break;
    case WEIR_TYPE_FLOAT:
        n = weir_float_format(v->u.f, num, sizeof(num));
        break;
    default:
        return weir_value_json_arena(v, arena, ptr, len);
    }
    *ptr = weir_arena_strdup(arena, num, (size_t)n);
    *len = (size_t)n;
    return *ptr != NULL ? WEIR_OK : WEIR_ENOMEM;
}

static int
check_any_to_str(weir__node *n, weir_expr_error *err)
{
    n->t = weir__st(WEIR_TYPE_STRING);
    return WEIR_OK;
}

/* A string made from args[0] by one of the arena text renderers. */
static int
eval_rendered(
    int (*render)(const weir_value *, weir_arena *, const char **, size_t *),
    const weir_value *args, const weir_expr_ctx *ctx, weir_value *out,
    weir_expr_error *err)
{
    const char *p;
    size_t len;
    if (render(&args[0], ctx->arena, &p, &len) != WEIR_OK) {
        return weir__nomem(err);
    }
    weir__set_string(out, p, len);
    return WEIR_OK;
}

static int
eval_to_string(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    return eval_rendered(weir__value_text, args, ctx, out, err);
}

static int
eval_to_json(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    return eval_rendered(weir_value_json_arena, args, ctx, out, err);
}

static int
eval_concat(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    size_t total = 0;
    const char *stack_p[8];
    size_t stack_l[8];
    const char **ps = stack_p;
    size_t *ls = stack_l;
    if (n->nargs > 8) {
        ps = weir_arena_alloc(ctx->arena, n->nargs * sizeof(*ps));
        ls = weir_arena_alloc(ctx->arena, n->nargs * sizeof(*ls));
        if (ps == NULL || ls == NULL) {
            return weir__nomem(err);
        }
    }
    for (size_t i = 0; i < n->nargs; i++) {
        if (args[i].type == WEIR_TYPE_NULL) {
            ps[i] = "";
            ls[i] = 0;
        } else if (weir__value_text(&args[i], ctx->arena, &ps[i], &ls[i]) !=
                   WEIR_OK) {
            return weir__nomem(err);
        }
        total += ls[i];
    }
    char *o = weir_arena_alloc(ctx->arena, total + 1);
    if (o == NULL) {
        return weir__nomem(err);
    }
    size_t k = 0;
    for (size_t i = 0; i < n->nargs; i++) {
        if (ls[i]) {
            memcpy(o + k, ps[i], ls[i]);
        }
        k += ls[i];
    }
    o[k] = '\0';
    weir__set_string(out, o, k);
    return WEIR_OK;
}

static int
check_to_num(weir__node *n, weir_expr_error *err, weir_type result)
{
    weir_type t = n->args[0]->t.type;
    n->t = weir__st(result);
    if (t == WEIR_TYPE_LIST || t == WEIR_TYPE_BYTES || t == WEIR_TYPE_NULL) {
        return weir__expr_fail(err, n->args[0]->column, WEIR_EINVAL,
            "%s: cannot convert a %s", n->fn->name, weir_type_name(t));
    }
    return WEIR_OK;
}

static int
check_to_int(weir__node *n, weir_expr_error *err)
{
    return check_to_num(n, err, WEIR_TYPE_INT);
}

static int
check_to_float(weir__node *n, weir_expr_error *err)
{
    return check_to_num(n, err, WEIR_TYPE_FLOAT);
}

static int
eval_to_int(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const weir_value *v = &args[0];
    switch (v->type) {
    case WEIR_TYPE_INT:
    case WEIR_TYPE_TIME:
        *out = weir_value_int(v->u.i);
        return WEIR_OK;
    case WEIR_TYPE_BOOL:
        *out = weir_value_int(v->u.b ? 1 : 0);
        return WEIR_OK;
    case WEIR_TYPE_FLOAT:
        if (!(v->u.f > -9.2e18 && v->u.f < 9.2e18)) {
            return weir__bad_conv(n, v, err);
        }
        *out = weir_value_int((int64_t)v->u.f);
        return WEIR_OK;
    case WEIR_TYPE_STRING: {
        char *s = weir_arena_strdup(ctx->arena, v->u.s.ptr, v->u.s.len);
        if (s == NULL) {
            return weir__nomem(err);
        }
        char *end;
        errno = 0;
        long long i = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || strlen(s) != v->u.s.len) {
            return weir__bad_conv(n, v, err);
        }
        *out = weir_value_int(i);
        return WEIR_OK;
    }
    default:
        return weir__bad_conv(n, v, err);
    }
}

static int
eval_to_float(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const weir_value *v = &args[0];
    switch (v->type) {
    case WEIR_TYPE_INT:
    case WEIR_TYPE_TIME:
        *out = weir_value_float((double)v->u.i);
        return WEIR_OK;
    case WEIR_TYPE_FLOAT:
        *out = *v;
        return WEIR_OK;
    case WEIR_TYPE_BOOL:
        *out = weir_value_float(v->u.b ? 1 : 0);
        return WEIR_OK;
    case WEIR_TYPE_STRING: {
        char *s = weir_arena_strdup(ctx->arena, v->u.s.ptr, v->u.s.len);
        if (s == NULL) {
            return weir__nomem(err);
        }
        char *end;
        double d = strtod(s, &end);
        if (end == s || *end != '\0' || strlen(s) != v->u.s.len) {
            return weir__bad_conv(n, v, err);
        }
        *out = weir_value_float(d);
        return WEIR_OK;
    }
    default:
        return weir__bad_conv(n, v, err);
    }
}

static int
check_parse_json(weir__node *n, weir_expr_error *err)
{
    n->t = weir__st(WEIR_TYPE_JSON);
    return weir__arg_is(n, 0, WEIR_TYPE_STRING, err);
}

static int
eval_parse_json(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const char *s;
    size_t len;
    char msg[160];
    int rv = weir__text_arg(n, args, 0, &s, &len, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    rv = weir_json_parse(s, len, ctx->arena, out, msg, sizeof(msg));
    if (rv != WEIR_OK) {
        return weir__expr_fail(err, n->column,
            rv == WEIR_ENOMEM ? WEIR_ENOMEM : WEIR_EINVAL, "parse_json: %s",
            msg);
    }
    return WEIR_OK;
}

/* ------------------------------------------------------------ control */

static int
unify_args(weir__node *n, size_t first, weir_expr_error *err)
{
    weir_stype t = n->args[first]->t;
    for (size_t i = first + 1; i < n->nargs; i++) {
        if (weir__type_unify(t, n->args[i]->t, &t) != 0) {
            return weir__expr_fail(err, n->args[i]->column, WEIR_EINVAL,
                "%s: argument %zu is %s, expected %s like argument %zu",
                n->fn->name, i + 1, weir_type_name(n->args[i]->t.type),
                weir_type_name(t.type), first + 1);
        }
    }
    n->t = t;
    return WEIR_OK;
}

/* Converts an int branch result to the float the node promised. */
static void
coerce(const weir__node *n, weir_value *out)
{
    if (n->t.type == WEIR_TYPE_FLOAT && out->type == WEIR_TYPE_INT) {
        *out = weir_value_float((double)out->u.i);
    }
}

static int
check_if(weir__node *n, weir_expr_error *err)
{
    int rv = weir__arg_is(n, 0, WEIR_TYPE_BOOL, err);
    if (rv == WEIR_OK && n->args[0]->t.type == WEIR_TYPE_NULL) {
        rv = weir__expr_fail(
            err, n->args[0]->column, WEIR_EINVAL, "if: the condition is null");
    }
    return rv == WEIR_OK ? unify_args(n, 1, err) : rv;
}

static int
eval_if(const weir__node *n, const weir_value *args, const weir_expr_ctx *ctx,
    weir_value *out, weir_expr_error *err)
{
    weir_value c;
    bool b;
    int rv = weir__node_eval(n->args[0], ctx, &c, err);
    if (rv == WEIR_OK) {
        rv = weir__want_bool(n, &c, "if: the condition", &b, err);
    }
    if (rv == WEIR_OK) {
        rv = weir__node_eval(n->args[b ? 1 : 2], ctx, out, err);
    }
    if (rv == WEIR_OK) {
        coerce(n, out);
    }
    return rv;
}

static int
check_coalesce(weir__node *n, weir_expr_error *err)
{
    return unify_args(n, 0, err);
}

static int
eval_coalesce(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    *out = weir_value_null();
    for (size_t i = 0; i < n->nargs; i++) {
        int rv = weir__node_eval(n->args[i], ctx, out, err);
        if (rv != WEIR_OK) {
            return rv;
        }
        if (out->type != WEIR_TYPE_NULL) {
            break;
        }
    }
    coerce(n, out);
    return WEIR_OK;
}

static int
check_is_null(weir__node *n, weir_expr_error *err)
{
    n->t = weir__st(WEIR_TYPE_BOOL);
    return WEIR_OK;
}

static int
eval_is_null(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    *out = weir_value_bool(args[0].type == WEIR_TYPE_NULL);
    return WEIR_OK;
}

static int
check_abs(weir__node *n, weir_expr_error *err)
{
    weir_type t = n->args[0]->t.type;
    if (t == WEIR_TYPE_INT || t == WEIR_TYPE_FLOAT) {
        n->t = weir__st(t);
        return WEIR_OK;
    }
    if (weir__type_dynamic(t)) {
        n->t = weir__st(WEIR_TYPE_ANY);
        return WEIR_OK;
    }
    return weir__expr_fail(err, n->args[0]->column, WEIR_EINVAL,
        "abs: argument 1 is %s, expected a number", weir_type_name(t));
}

static int
eval_abs(const weir__node *n, const weir_value *args, const weir_expr_ctx *ctx,
    weir_value *out, weir_expr_error *err)
{
    const weir_value *v = &args[0];
    if (v->type == WEIR_TYPE_FLOAT) {
        *out = weir_value_float(v->u.f < 0 ? -v->u.f : v->u.f);
    } else if (v->type == WEIR_TYPE_INT && v->u.i != INT64_MIN) {
        *out = weir_value_int(v->u.i < 0 ? -v->u.i : v->u.i);
    } else {
        return weir__bad_conv(n, v, err);
    }
    return WEIR_OK;
}

const weir__func weir__funcs_conv[] = {
    {"abs", 1, 1, false, check_abs, eval_abs},
    {"coalesce", 1, WEIR__MANY_ARGS, true, check_coalesce, eval_coalesce},
    {"concat", 1, WEIR__MANY_ARGS, false, check_any_to_str, eval_concat},
    {"if", 3, 3, true, check_if, eval_if},
    {"is_null", 1, 1, false, check_is_null, eval_is_null},
    {"parse_json", 1, 1, false, check_parse_json, eval_parse_json},
    {"to_float", 1, 1, false, check_to_float, eval_to_float},
    {"to_int", 1, 1, false, check_to_int, eval_to_int},
    {"to_json", 1, 1, false, check_any_to_str, eval_to_json},
    {"to_string", 1, 1, false, check_any_to_str, eval_to_string},
};
const size_t weir__funcs_conv_count =
    sizeof(weir__funcs_conv) / sizeof(weir__funcs_conv[0]);
