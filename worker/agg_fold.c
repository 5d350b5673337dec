/*
 * The algebra of aggregate states, shared by the aggregations (ops_agg.c)
 * and the pre-aggregation before a repartition (ops_partial.c): a record
 * lifts to the state of one record, two states merge, a state gives the
 * aggregation's result. Merging is what makes local-global aggregation
 * exact: fold(a ++ b) = merge(fold(a), fold(b)) for count, sum, min, max,
 * avg and a reduce declared associative.
 */
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "common/err.h"
#include "task_impl.h"
#include "window.h"

typedef Weir__Topology__Operator op_pb;

int
weir__agg_error(weir_task *t, const weir_op *op, const char *msg)
{
    t->err_op = op->pb->name;
    snprintf(t->err_msg, sizeof(t->err_msg), "%s", msg);
    return WEIR_EINVAL;
}

static bool
is_number(const weir_value *v)
{
    return v->type == WEIR_TYPE_INT || v->type == WEIR_TYPE_FLOAT ||
           v->type == WEIR_TYPE_TIME;
}

static double
as_double(const weir_value *v)
{
    return v->type == WEIR_TYPE_FLOAT ? v->u.f : (double)v->u.i;
}

static void
record_ctx(weir_task *t, const weir_rec *r, weir_expr_ctx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->key = &r->key;
    ctx->value = &r->value;
    ctx->timestamp_ms = r->timestamp_ms;
    ctx->window_start_ms = r->window_start_ms;
    ctx->window_end_ms = r->window_end_ms;
    ctx->arena = &t->arena;
}

int
weir__agg_lift(
    weir_task *t, const weir_op *op, const weir_rec *r, weir_agg_state *out)
{
    out->count = 1;
    switch (op->pb->kind) {
    case WEIR__TOPOLOGY__OP_KIND__OP_COUNT:
        out->agg = weir_value_int(1);
        return WEIR_OK;
    case WEIR__TOPOLOGY__OP_KIND__OP_REDUCE:
        out->agg = r->value;
        return WEIR_OK;
    default:
        break;
    }
    weir_value in = r->value;
    if (op->value) {
        weir_expr_ctx ctx;
        record_ctx(t, r, &ctx);
        weir_expr_error xe;
        memset(&xe, 0, sizeof(xe));
        if (weir_expr_eval(op->value, &ctx, &in, &xe) != WEIR_OK)
            return weir__agg_error(t, op, xe.msg);
    }
    if (!is_number(&in))
        return weir__agg_error(t, op, "aggregate input is not a number");
    out->agg = in.type == WEIR_TYPE_FLOAT ? in : weir_value_int(in.u.i);
    return WEIR_OK;
}

int
weir__agg_merge(weir_task *t, const weir_op *op, const weir_rec *r,
    const weir_agg_state *a, const weir_agg_state *b, weir_agg_state *out)
{
    out->count = a->count + b->count;
    switch (op->pb->kind) {
    case WEIR__TOPOLOGY__OP_KIND__OP_COUNT:
        out->agg = weir_value_int(out->count);
        return WEIR_OK;
    case WEIR__TOPOLOGY__OP_KIND__OP_REDUCE: {
        if (!op->value) {
            out->agg = b->agg;
            return WEIR_OK;
        }
        weir_expr_ctx ctx;
        record_ctx(t, r, &ctx);
        ctx.agg = &a->agg;
        ctx.value = &b->agg;
        weir_expr_error xe;
        memset(&xe, 0, sizeof(xe));
        if (weir_expr_eval(op->value, &ctx, &out->agg, &xe) != WEIR_OK)
            return weir__agg_error(t, op, xe.msg);
        return WEIR_OK;
    }
    default:
        break;
    }
    switch (op->pb->agg) {
    case WEIR__TOPOLOGY__AGG_FUNC__AGG_SUM:
    case WEIR__TOPOLOGY__AGG_FUNC__AGG_AVG:
        if (a->agg.type == WEIR_TYPE_INT && b->agg.type == WEIR_TYPE_INT)
            out->agg = weir_value_int(a->agg.u.i + b->agg.u.i);
        else
            out->agg =
                weir_value_float(as_double(&a->agg) + as_double(&b->agg));
        return WEIR_OK;
    case WEIR__TOPOLOGY__AGG_FUNC__AGG_MIN:
    case WEIR__TOPOLOGY__AGG_FUNC__AGG_MAX: {
        int c = weir_value_compare(&b->agg, &a->agg);
        bool take_b =
            op->pb->agg == WEIR__TOPOLOGY__AGG_FUNC__AGG_MIN ? c < 0 : c > 0;
        out->agg = take_b ? b->agg : a->agg;
        return WEIR_OK;
    }
    default:
        return weir__agg_error(t, op, "unsupported aggregate function");
    }
}

weir_value
weir__agg_result(const weir_op *op, const weir_agg_state *s)
{
    if (op->pb->kind == WEIR__TOPOLOGY__OP_KIND__OP_AGGREGATE &&
        op->pb->agg == WEIR__TOPOLOGY__AGG_FUNC__AGG_AVG)
        return weir_value_float(as_double(&s->agg) / (double)s->count);
    return s->agg;
}

int
weir__agg_encode(const weir_agg_state *s, weir_buf *buf)
{
    char cnt[8];
    weir_codec_put_be64(cnt, (uint64_t)s->count);
    if (weir_buf_append(buf, cnt, 8) != WEIR_OK ||
        weir_codec_encode(&s->agg, buf) != WEIR_OK)
        return WEIR_ENOMEM;
    return WEIR_OK;
}

int
weir__agg_decode(
    weir_task *t, const void *data, size_t len, weir_agg_state *out)
{
    if (len < 9)
        return WEIR_ECORRUPT;
    out->count = (int64_t)weir_codec_get_be64(data);
    if (out->count <= 0)
        return WEIR_ECORRUPT;
    return weir_codec_decode(
        (const char *)data + 8, len - 8, &t->arena, &out->agg);
}

int
weir__agg_event_time(
    weir_task *t, const weir_op *op, const weir_rec *r, int64_t *ts)
{
    *ts = r->timestamp_ms;
    if (!op->time)
        return WEIR_OK;
    weir_expr_ctx ctx;
    record_ctx(t, r, &ctx);
    weir_expr_error xe;
    memset(&xe, 0, sizeof(xe));
    weir_value v;
    if (weir_expr_eval(op->time, &ctx, &v, &xe) != WEIR_OK)
        return weir__agg_error(t, op, xe.msg);
    if (v.type != WEIR_TYPE_TIME && v.type != WEIR_TYPE_INT)
        return weir__agg_error(t, op, "event time is not a time");
    *ts = v.u.i;
    return WEIR_OK;
}

int
weir__agg_windows(weir_task *t, const weir_op *op, int64_t ts,
    int64_t starts[WEIR_AGG_MAX_WINDOWS], size_t *n)
{
    const Weir__Topology__Window *w = op->pb->window;
    int64_t size = (int64_t)w->size_ms;
    int64_t adv =
        w->kind == WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_HOPPING && w->advance_ms
            ? (int64_t)w->advance_ms
            : size;
    if (size <= 0)
        return weir__agg_error(t, op, "window size is zero");
    *n = weir_window_starts(ts, size, adv, starts, WEIR_AGG_MAX_WINDOWS);
    if (*n > WEIR_AGG_MAX_WINDOWS)
        return weir__agg_error(t, op, "a record falls in more than 64 windows");
    return WEIR_OK;
}

bool
weir__agg_windowed(const weir_op *op)
{
    return op->pb->window &&
           op->pb->window->kind != WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_NONE;
}

bool
weir__agg_session(const weir_op *op)
{
    return op->pb->window &&
           op->pb->window->kind == WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_SESSION;
}

Weir__Topology__Emit
weir__agg_emit(const weir_op *op)
{
    return weir__agg_windowed(op) ? op->pb->window->emit : op->pb->emit;
}
