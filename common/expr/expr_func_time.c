/* Time functions: parse_time, format_time, to_time, timestamp,
 * floor_time. Times are ms since the epoch, UTC. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/expr/expr_int.h"
#include "common/value/time_fmt.h"

/* ------------------------------------------------------------ time */

static int
check_time_arg(weir__node *n, size_t i, weir_expr_error *err)
{
    weir_type t = n->args[i]->t.type;
    if (t == WEIR_TYPE_TIME || t == WEIR_TYPE_INT || weir__type_dynamic(t)) {
        return WEIR_OK;
    }
    return weir__expr_fail(err, n->args[i]->column, WEIR_EINVAL,
        "%s: argument %zu is %s, expected a time or int (ms)", n->fn->name,
        i + 1, weir_type_name(t));
}

static int
want_time(const weir__node *n, const weir_value *v, size_t i, int64_t *ms,
    weir_expr_error *err)
{
    if (v->type == WEIR_TYPE_TIME || v->type == WEIR_TYPE_INT) {
        *ms = v->u.i;
        return WEIR_OK;
    }
    return weir__expr_fail(err, n->column, WEIR_EINVAL,
        "%s: argument %zu is %s, expected a time", n->fn->name, i + 1,
        v->type == WEIR_TYPE_NULL ? "null" : weir_type_name(v->type));
}

static int
check_parse_time(weir__node *n, weir_expr_error *err)
{
    int rv = weir__arg_is(n, 0, WEIR_TYPE_STRING, err);
    n->t = weir__st(WEIR_TYPE_TIME);
    if (rv == WEIR_OK && n->nargs > 1) {
        rv = weir__arg_literal(n, 1, "a strptime format", err);
        if (rv == WEIR_OK && (n->fmt = strdup(n->args[1]->str)) == NULL) {
            rv = weir__nomem(err);
        }
    }
    return rv;
}

static int
eval_parse_time(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const char *s;
    size_t len;
    int64_t ms;
    int rv = weir__text_arg(n, args, 0, &s, &len, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    char *z = weir_arena_strdup(ctx->arena, s, len);
    if (z == NULL) {
        return weir__nomem(err);
    }
    rv = n->fmt != NULL ? weir_time_parse_fmt(z, n->fmt, &ms)
                        : weir_time_parse_iso(z, &ms);
    if (rv != WEIR_OK || strlen(z) != len) {
        return weir__expr_fail(err, n->column, WEIR_EINVAL,
            "parse_time: cannot parse '%.*s'%s%s", (int)(len > 40 ? 40 : len),
            s, n->fmt ? " with format " : " as ISO-8601", n->fmt ? n->fmt : "");
    }
    *out = weir_value_time(ms);
    return WEIR_OK;
}

static int
check_format_time(weir__node *n, weir_expr_error *err)
{
    int rv = check_time_arg(n, 0, err);
    n->t = weir__st(WEIR_TYPE_STRING);
    if (rv == WEIR_OK && n->nargs > 1) {
        rv = weir__arg_literal(n, 1, "a strftime format", err);
        if (rv == WEIR_OK && (n->fmt = strdup(n->args[1]->str)) == NULL) {
            rv = weir__nomem(err);
        }
    }
    return rv;
}

static int
eval_format_time(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    int64_t ms;
    int rv = want_time(n, &args[0], 0, &ms, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    const char *fmt = n->fmt != NULL ? n->fmt : WEIR_TIME_DEFAULT_FORMAT;
    size_t cap = 64 + 32 * strlen(fmt); /* "%c" is 2 bytes for 24 */
    char *o = weir_arena_alloc(ctx->arena, cap);
    if (o == NULL) {
        return weir__nomem(err);
    }
    size_t len;
    if (weir_time_format(ms, fmt, o, cap, &len) != WEIR_OK) {
        return weir__expr_fail(err, n->column, WEIR_EINVAL,
            "format_time: cannot format time %lld (out of range, or the "
            "result is too long)",
            (long long)ms);
    }
    weir__set_string(out, o, len);
    return WEIR_OK;
}

static int
check_to_time(weir__node *n, weir_expr_error *err)
{
    weir_type t = n->args[0]->t.type;
    n->t = weir__st(WEIR_TYPE_TIME);
    if (t == WEIR_TYPE_STRING || t == WEIR_TYPE_INT || t == WEIR_TYPE_TIME ||
        t == WEIR_TYPE_FLOAT || weir__type_dynamic(t)) {
        return WEIR_OK;
    }
    return weir__expr_fail(err, n->args[0]->column, WEIR_EINVAL,
        "to_time: argument 1 is %s, expected ms or an ISO-8601 string",
        weir_type_name(t));
}

static int
eval_to_time(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const weir_value *v = &args[0];
    if (v->type == WEIR_TYPE_STRING) {
        return eval_parse_time(n, args, ctx, out, err);
    }
    if (v->type == WEIR_TYPE_FLOAT) {
        if (!(v->u.f > -9.2e18 && v->u.f < 9.2e18)) {
            return weir__bad_conv(n, v, err);
        }
        *out = weir_value_time((int64_t)v->u.f);
        return WEIR_OK;
    }
    int64_t ms;
    int rv = want_time(n, v, 0, &ms, err);
    if (rv == WEIR_OK) {
        *out = weir_value_time(ms);
    }
    return rv;
}

static int
check_timestamp(weir__node *n, weir_expr_error *err)
{
    n->t = weir__st(WEIR_TYPE_TIME);
    return WEIR_OK;
}

static int
eval_timestamp(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    *out = weir_value_time(ctx->timestamp_ms);
    return WEIR_OK;
}

static int
check_floor_time(weir__node *n, weir_expr_error *err)
{
    int rv = check_time_arg(n, 0, err);
    if (rv == WEIR_OK) {
        rv = weir__arg_is(n, 1, WEIR_TYPE_INT, err);
    }
    if (rv == WEIR_OK && n->args[1]->t.type == WEIR_TYPE_FLOAT) {
        rv = weir__expr_fail(err, n->args[1]->column, WEIR_EINVAL,
            "floor_time: argument 2 must be an int (ms)");
    }
    n->t = weir__st(WEIR_TYPE_TIME);
    return rv;
}

static int
eval_floor_time(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    int64_t ms, unit;
    int rv = want_time(n, &args[0], 0, &ms, err);
    if (rv == WEIR_OK) {
        rv = weir__want_int(n, &args[1], 1, &unit, err);
    }
    if (rv != WEIR_OK) {
        return rv;
    }
    if (unit <= 0) {
        return weir__expr_fail(
            err, n->column, WEIR_EINVAL, "floor_time: unit must be positive");
    }
    int64_t r = ms % unit;
    if (r < 0) {
        r += unit;
    }
    *out = weir_value_time(ms - r);
    return WEIR_OK;
}

const weir__func weir__funcs_time[] = {
    {"floor_time", 2, 2, false, check_floor_time, eval_floor_time},
    {"format_time", 1, 2, false, check_format_time, eval_format_time},
    {"parse_time", 1, 2, false, check_parse_time, eval_parse_time},
    {"timestamp", 0, 0, false, check_timestamp, eval_timestamp},
    {"to_time", 1, 1, false, check_to_time, eval_to_time},
};
const size_t weir__funcs_time_count =
    sizeof(weir__funcs_time) / sizeof(weir__funcs_time[0]);
