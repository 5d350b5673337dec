/*
 * Stateful operators: count, reduce, aggregate (sum, min, max, avg), over
 * keys or over windows of keys (tumbling and hopping, event time, grace,
 * emit on update or final on close).
 *
 * State layout (codec.h): value = be64 record count + tagged aggregate.
 * Key = tagged group key; windowed stores prefix it with the window start
 * (be64, sign bit flipped, so windows sort by time) and keep the store's
 * stream time under STREAM_TIME_KEY, changelogged like everything else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "common/array.h"
#include "common/err.h"
#include "common/log.h"
#include "task_impl.h"
#include "window.h"

static const char STREAM_TIME_KEY[] = "\xff\xff\xff\xff\xff\xff\xff\xff~st";
#define STREAM_TIME_KEY_LEN (sizeof(STREAM_TIME_KEY) - 1)
#define SIGN (UINT64_C(1) << 63)

typedef Weir__Topology__Operator op_pb;

static int
rec_error(weir_task *t, const weir_op *op, const char *msg)
{
    t->err_op = op->pb->name;
    snprintf(t->err_msg, sizeof(t->err_msg), "%s", msg);
    return WEIR_EINVAL;
}

/* Reads a key; the value is copied into the arena. */
static int
state_get(weir_task *t, int store, const void *key, size_t klen,
    const char **val, size_t *vlen, bool *found)
{
    const char *v = NULL;
    int rv =
        weir_store_get(t->store, (size_t)store, key, klen, &v, vlen, found);
    if (rv != WEIR_OK || !*found)
        return rv;
    char *a = weir_arena_alloc(&t->arena, *vlen ? *vlen : 1);
    if (!a)
        return WEIR_ENOMEM;
    memcpy(a, v, *vlen);
    *val = a;
    return WEIR_OK;
}

/* Decodes a state value: record count and aggregate. */
static int
state_decode(
    weir_task *t, const char *val, size_t vlen, int64_t *count, weir_value *agg)
{
    if (vlen < 9)
        return WEIR_ECORRUPT;
    *count = (int64_t)weir_codec_get_be64(val);
    return weir_codec_decode(val + 8, vlen - 8, &t->arena, agg);
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

/* New aggregate from the old one (found or not) and the record. */
static int
fold(weir_task *t, const weir_op *op, const weir_rec *r, bool found,
    int64_t count, const weir_value *old, weir_value *agg, weir_value *out)
{
    const op_pb *pb = op->pb;
    weir_expr_error xe;
    memset(&xe, 0, sizeof(xe));
    if (pb->kind == WEIR__TOPOLOGY__OP_KIND__OP_COUNT) {
        *agg = weir_value_int(count + 1);
        *out = *agg;
        return WEIR_OK;
    }
    weir_expr_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.key = &r->key;
    ctx.value = &r->value;
    ctx.timestamp_ms = r->timestamp_ms;
    ctx.window_start_ms = r->window_start_ms;
    ctx.window_end_ms = r->window_end_ms;
    ctx.arena = &t->arena;
    if (pb->kind == WEIR__TOPOLOGY__OP_KIND__OP_REDUCE) {
        if (!found || !op->value) {
            *agg = r->value;
        } else {
            ctx.agg = old;
            if (weir_expr_eval(op->value, &ctx, agg, &xe) != WEIR_OK)
                return rec_error(t, op, xe.msg);
        }
        *out = *agg;
        return WEIR_OK;
    }
    /* aggregate */
    weir_value in = r->value;
    if (op->value && weir_expr_eval(op->value, &ctx, &in, &xe) != WEIR_OK)
        return rec_error(t, op, xe.msg);
    if (!is_number(&in))
        return rec_error(t, op, "aggregate input is not a number");
    switch (pb->agg) {
    case WEIR__TOPOLOGY__AGG_FUNC__AGG_SUM:
    case WEIR__TOPOLOGY__AGG_FUNC__AGG_AVG:
        if (!found)
            *agg = in.type == WEIR_TYPE_FLOAT ? in : weir_value_int(in.u.i);
        else if (old->type == WEIR_TYPE_INT && in.type != WEIR_TYPE_FLOAT)
            *agg = weir_value_int(old->u.i + in.u.i);
        else
            *agg = weir_value_float(as_double(old) + as_double(&in));
        if (pb->agg == WEIR__TOPOLOGY__AGG_FUNC__AGG_AVG)
            *out = weir_value_float(as_double(agg) / (double)(count + 1));
        else
            *out = *agg;
        return WEIR_OK;
    case WEIR__TOPOLOGY__AGG_FUNC__AGG_MIN:
    case WEIR__TOPOLOGY__AGG_FUNC__AGG_MAX: {
        bool take = !found;
        if (found) {
            int c = weir_value_compare(&in, old);
            take = pb->agg == WEIR__TOPOLOGY__AGG_FUNC__AGG_MIN ? c < 0 : c > 0;
        }
        *agg = take ? in : *old;
        *out = *agg;
        return WEIR_OK;
    }
    default:
        return rec_error(t, op, "unsupported aggregate function");
    }
}

/* Updates one (window, key) and emits the update if asked to. */
static int
update(weir_task *t, size_t i, const weir_rec *r, const char *key, size_t klen,
    bool emit_update)
{
    const weir_op *op = &t->ops[i];
    const char *old_raw = NULL;
    size_t old_len = 0;
    bool found = false;
    int rv = state_get(t, op->store, key, klen, &old_raw, &old_len, &found);
    if (rv != WEIR_OK)
        return rv;
    int64_t count = 0;
    weir_value old = weir_value_null(), agg, out;
    if (found &&
        (rv = state_decode(t, old_raw, old_len, &count, &old)) != WEIR_OK) {
        weir_log_error(
            "task", "corrupt state task=%s store=%s", t->name, op->pb->store);
        return WEIR_ECORRUPT;
    }
    if ((rv = fold(t, op, r, found, count, &old, &agg, &out)) != WEIR_OK)
        return rv;
    char cnt[8];
    weir_codec_put_be64(cnt, (uint64_t)(count + 1));
    weir_buf_clear(&t->sbuf);
    if (weir_buf_append(&t->sbuf, cnt, 8) != WEIR_OK ||
        weir_codec_encode(&agg, &t->sbuf) != WEIR_OK)
        return WEIR_ENOMEM;
    rv = weir__task_state_put(
        t, op->store, key, klen, t->sbuf.data, t->sbuf.len);
    if (rv != WEIR_OK || !emit_update)
        return rv;
    weir_rec o = *r;
    o.value = out;
    return weir__ops_forward(t, i, &o);
}

static int
stream_time(weir_task *t, int store, int64_t *st)
{
    const char *v = NULL;
    size_t vl = 0;
    bool found = false;
    int rv = state_get(
        t, store, STREAM_TIME_KEY, STREAM_TIME_KEY_LEN, &v, &vl, &found);
    *st = found && vl == 8 ? (int64_t)weir_codec_get_be64(v) : INT64_MIN;
    return rv;
}

static int
event_time(weir_task *t, const weir_op *op, const weir_rec *r, int64_t *ts)
{
    *ts = r->timestamp_ms;
    if (!op->time)
        return WEIR_OK;
    weir_expr_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.key = &r->key;
    ctx.value = &r->value;
    ctx.timestamp_ms = r->timestamp_ms;
    ctx.arena = &t->arena;
    weir_expr_error xe;
    memset(&xe, 0, sizeof(xe));
    weir_value v;
    if (weir_expr_eval(op->time, &ctx, &v, &xe) != WEIR_OK)
        return rec_error(t, op, xe.msg);
    if (v.type != WEIR_TYPE_TIME && v.type != WEIR_TYPE_INT)
        return rec_error(t, op, "event time is not a time");
    *ts = v.u.i;
    return WEIR_OK;
}

/* Emits and deletes every window closed at stream time st (emit final). */
static int
close_windows(weir_task *t, size_t i, int64_t st)
{
    const weir_op *op = &t->ops[i];
    const Weir__Topology__Window *w = op->pb->window;
    weir_store_iter *it;
    int rv = weir_store_iter_new(&it, t->store, (size_t)op->store, NULL, 0);
    if (rv != WEIR_OK)
        return rv;
    /* Collect first: emitting writes to the batch the iterator reads. */
    typedef struct closed {
        char *key;
        size_t klen;
        char *val;
        size_t vlen;
    } closed;
    closed *list = NULL;
    size_t n = 0, cap = 0;
    for (; rv == WEIR_OK && weir_store_iter_valid(it);
         weir_store_iter_next(it)) {
        size_t kl, vl;
        const char *k = weir_store_iter_key(it, &kl);
        if (kl < 8 ||
            (kl == STREAM_TIME_KEY_LEN && memcmp(k, STREAM_TIME_KEY, kl) == 0))
            break;
        int64_t start = (int64_t)(weir_codec_get_be64(k) ^ SIGN);
        if (!weir_window_closed(
                start, (int64_t)w->size_ms, (int64_t)w->grace_ms, st))
            break;
        const char *v = weir_store_iter_value(it, &vl);
        if ((rv = weir_array_reserve(&list, &cap, n + 1, sizeof(*list))) !=
            WEIR_OK)
            break;
        list[n].key = weir_arena_alloc(&t->arena, kl);
        list[n].val = weir_arena_alloc(&t->arena, vl ? vl : 1);
        if (!list[n].key || !list[n].val) {
            rv = WEIR_ENOMEM;
            break;
        }
        memcpy(list[n].key, k, kl);
        memcpy(list[n].val, v, vl);
        list[n].klen = kl;
        list[n].vlen = vl;
        n++;
    }
    weir_store_iter_free(it);
    for (size_t k = 0; rv == WEIR_OK && k < n; k++) {
        weir_rec o;
        memset(&o, 0, sizeof(o));
        int64_t count;
        weir_value agg;
        o.windowed = true;
        o.window_start_ms = (int64_t)(weir_codec_get_be64(list[k].key) ^ SIGN);
        o.window_end_ms = o.window_start_ms + (int64_t)w->size_ms;
        o.timestamp_ms = o.window_end_ms - 1;
        if (weir_codec_decode(list[k].key + 8, list[k].klen - 8, &t->arena,
                &o.key) != WEIR_OK ||
            state_decode(t, list[k].val, list[k].vlen, &count, &agg) !=
                WEIR_OK) {
            rv = WEIR_ECORRUPT;
            break;
        }
        o.value = op->pb->agg == WEIR__TOPOLOGY__AGG_FUNC__AGG_AVG &&
                          op->pb->kind == WEIR__TOPOLOGY__OP_KIND__OP_AGGREGATE
                      ? weir_value_float(as_double(&agg) / (double)count)
                      : agg;
        rv = weir__task_state_put(
            t, op->store, list[k].key, list[k].klen, NULL, 0);
        if (rv == WEIR_OK)
            rv = weir__ops_forward(t, i, &o);
    }
    free(list);
    return rv;
}

static int
windowed(weir_task *t, size_t i, weir_rec *r)
{
    const weir_op *op = &t->ops[i];
    const Weir__Topology__Window *w = op->pb->window;
    int64_t ts, st;
    int rv;
    if ((rv = event_time(t, op, r, &ts)) != WEIR_OK ||
        (rv = stream_time(t, op->store, &st)) != WEIR_OK)
        return rv;
    if (ts > st) {
        st = ts;
        char b[8];
        weir_codec_put_be64(b, (uint64_t)st);
        rv = weir__task_state_put(
            t, op->store, STREAM_TIME_KEY, STREAM_TIME_KEY_LEN, b, 8);
        if (rv != WEIR_OK)
            return rv;
    }
    int64_t size = (int64_t)w->size_ms;
    int64_t adv =
        w->kind == WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_HOPPING && w->advance_ms
            ? (int64_t)w->advance_ms
            : size;
    if (size <= 0)
        return rec_error(t, op, "window size is zero");
    bool final = w->emit == WEIR__TOPOLOGY__EMIT__EMIT_FINAL;
    int64_t starts[64];
    size_t n_win = weir_window_starts(ts, size, adv, starts, 64);
    if (n_win > 64)
        return rec_error(t, op, "a record falls in more than 64 windows");
    weir_buf_clear(&t->kbuf);
    char pre[8] = {0};
    if (weir_buf_append(&t->kbuf, pre, 8) != WEIR_OK ||
        weir_codec_encode(&r->key, &t->kbuf) != WEIR_OK)
        return WEIR_ENOMEM;
    char *key = weir_arena_alloc(&t->arena, t->kbuf.len);
    if (!key)
        return WEIR_ENOMEM;
    size_t klen = t->kbuf.len;
    memcpy(key, t->kbuf.data, klen);
    for (size_t k = 0; rv == WEIR_OK && k < n_win; k++) {
        int64_t s = starts[k];
        if (weir_window_closed(s, size, (int64_t)w->grace_ms, st)) {
            t->stats.late++;
            continue; /* the window closed: a late record is dropped */
        }
        weir_codec_put_be64(key, (uint64_t)s ^ SIGN);
        weir_rec wr = *r;
        wr.windowed = true;
        wr.window_start_ms = s;
        wr.window_end_ms = s + size;
        rv = update(t, i, &wr, key, klen, !final);
    }
    if (rv == WEIR_OK && final)
        rv = close_windows(t, i, st);
    return rv;
}

int
weir__ops_aggregate(weir_task *t, size_t i, weir_rec *r)
{
    const weir_op *op = &t->ops[i];
    if (op->store < 0)
        return rec_error(t, op, "aggregation without a store");
    if (op->pb->window &&
        op->pb->window->kind != WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_NONE)
        return windowed(t, i, r);
    weir_buf_clear(&t->kbuf);
    if (weir_codec_encode(&r->key, &t->kbuf) != WEIR_OK)
        return WEIR_ENOMEM;
    char *key = weir_arena_alloc(&t->arena, t->kbuf.len);
    if (!key)
        return WEIR_ENOMEM;
    memcpy(key, t->kbuf.data, t->kbuf.len);
    return update(t, i, r, key, t->kbuf.len, true);
}
