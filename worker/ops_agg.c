/*
 * Stateful operators: count, reduce, aggregate (sum, min, max, avg), over
 * keys or over windows of keys (tumbling and hopping, event time, grace),
 * emitting every update, the latest value per key once per commit
 * (weir__ops_agg_flush), or, windowed, the final value on close. With
 * pre-aggregation their input is partial aggregates (ops_partial.c).
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

typedef Weir__Topology__Operator op_pb;

int
weir__agg_state_get(weir_task *t, int store, const void *key, size_t klen,
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

/*
 * Folds `in` (a record lifted, or a partial) into one (window, key) and
 * emits the result as the operator's emit mode says: now (update), at the
 * next flush (latest) or when the window closes (final).
 */
static int
update(weir_task *t, size_t i, const weir_rec *r, const char *key, size_t klen,
    const weir_agg_state *in)
{
    weir_op *op = &t->ops[i];
    const char *old_raw = NULL;
    size_t old_len = 0;
    bool found = false;
    int rv = weir__agg_state_get(
        t, op->store, key, klen, &old_raw, &old_len, &found);
    if (rv != WEIR_OK)
        return rv;
    weir_agg_state old, res = *in;
    if (found) {
        if (weir__agg_decode(t, old_raw, old_len, &old) != WEIR_OK) {
            weir_log_error("task", "corrupt state task=%s store=%s", t->name,
                op->pb->store);
            return WEIR_ECORRUPT;
        }
        if ((rv = weir__agg_merge(t, op, r, &old, in, &res)) != WEIR_OK)
            return rv;
    }
    weir_buf_clear(&t->sbuf);
    if (weir__agg_encode(&res, &t->sbuf) != WEIR_OK)
        return WEIR_ENOMEM;
    rv = weir__task_state_put(
        t, op->store, key, klen, t->sbuf.data, t->sbuf.len);
    if (rv != WEIR_OK)
        return rv;
    switch (weir__agg_emit(op)) {
    case WEIR__TOPOLOGY__EMIT__EMIT_LATEST:
        return weir__agg_pending_put(
            t, op, key, klen, r->timestamp_ms, NULL, 0);
    case WEIR__TOPOLOGY__EMIT__EMIT_FINAL:
        return WEIR_OK;
    default: {
        weir_rec o = *r;
        o.value = weir__agg_result(op, &res);
        return weir__ops_forward(t, i, &o);
    }
    }
}

int
weir__agg_stream_time(weir_task *t, int store, int64_t *st)
{
    const char *v = NULL;
    size_t vl = 0;
    bool found = false;
    int rv = weir__agg_state_get(
        t, store, STREAM_TIME_KEY, STREAM_TIME_KEY_LEN, &v, &vl, &found);
    *st = found && vl == 8 ? (int64_t)weir_codec_get_be64(v) : INT64_MIN;
    return rv;
}

/* The result record of a stored (window, key) and its state. */
static int
state_record(weir_task *t, const weir_op *op, const char *key, size_t klen,
    const char *val, size_t vlen, weir_rec *o)
{
    memset(o, 0, sizeof(*o));
    bool win = weir__agg_windowed(op);
    if (win) {
        if (klen < 8)
            return WEIR_ECORRUPT;
        o->windowed = true;
        o->window_start_ms = weir_codec_get_time(key);
        o->window_end_ms =
            o->window_start_ms + (int64_t)op->pb->window->size_ms;
    }
    weir_agg_state s;
    size_t skip = win ? 8 : 0;
    if (weir_codec_decode(key + skip, klen - skip, &t->arena, &o->key) !=
            WEIR_OK ||
        weir__agg_decode(t, val, vlen, &s) != WEIR_OK) {
        weir_log_error(
            "task", "corrupt state task=%s store=%s", t->name, op->pb->store);
        return WEIR_ECORRUPT;
    }
    o->value = weir__agg_result(op, &s);
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
        int64_t start = weir_codec_get_time(k);
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
        if ((rv = state_record(t, op, list[k].key, list[k].klen, list[k].val,
                 list[k].vlen, &o)) != WEIR_OK)
            break;
        o.timestamp_ms = o.window_end_ms - 1;
        rv = weir__task_state_put(
            t, op->store, list[k].key, list[k].klen, NULL, 0);
        if (rv == WEIR_OK)
            rv = weir__ops_forward(t, i, &o);
    }
    free(list);
    return rv;
}

int
weir__agg_advance_stream_time(
    weir_task *t, const weir_op *op, int64_t ts, int64_t *st)
{
    int rv = weir__agg_stream_time(t, op->store, st);
    if (rv != WEIR_OK || ts <= *st)
        return rv;
    *st = ts;
    char b[8];
    weir_codec_put_be64(b, (uint64_t)ts);
    return weir__task_state_put(
        t, op->store, STREAM_TIME_KEY, STREAM_TIME_KEY_LEN, b, 8);
}

int
weir__agg_key(
    weir_task *t, const weir_value *k, bool windowed, char **key, size_t *klen)
{
    weir_buf_clear(&t->kbuf);
    char pre[8] = {0};
    if ((windowed && weir_buf_append(&t->kbuf, pre, 8) != WEIR_OK) ||
        weir_codec_encode(k, &t->kbuf) != WEIR_OK)
        return WEIR_ENOMEM;
    if (!(*key = weir_arena_alloc(&t->arena, t->kbuf.len)))
        return WEIR_ENOMEM;
    memcpy(*key, t->kbuf.data, t->kbuf.len);
    *klen = t->kbuf.len;
    return WEIR_OK;
}

/*
 * Windowed: in is r lifted (starts holds the windows of its event time)
 * or a partial for the one window in starts. A window already closed at
 * the stream time drops what it would get (late).
 */
static int
windowed(weir_task *t, size_t i, const weir_rec *r, int64_t ts,
    const int64_t *starts, size_t n_win, const weir_agg_state *in)
{
    const weir_op *op = &t->ops[i];
    const Weir__Topology__Window *w = op->pb->window;
    int64_t st, size = (int64_t)w->size_ms;
    int rv = weir__agg_advance_stream_time(t, op, ts, &st);
    char *key;
    size_t klen;
    if (rv != WEIR_OK || (rv = weir__agg_key(t, &r->key, true, &key, &klen)))
        return rv;
    for (size_t k = 0; rv == WEIR_OK && k < n_win; k++) {
        int64_t s = starts[k];
        if (weir_window_closed(s, size, (int64_t)w->grace_ms, st)) {
            t->stats.late += (uint64_t)in->count;
            continue;
        }
        weir_codec_put_time(key, s);
        weir_rec wr = *r;
        wr.windowed = true;
        wr.window_start_ms = s;
        wr.window_end_ms = s + size;
        rv = update(t, i, &wr, key, klen, in);
    }
    if (rv == WEIR_OK && weir__agg_emit(op) == WEIR__TOPOLOGY__EMIT__EMIT_FINAL)
        rv = close_windows(t, i, st);
    return rv;
}

/* A partial from the repartition topic: [window start] + state. */
static int
merge_partial(weir_task *t, size_t i, const weir_rec *r)
{
    const weir_op *op = &t->ops[i];
    bool win = weir__agg_windowed(op);
    const weir_value *v = &r->value;
    if (v->type != WEIR_TYPE_BYTES || v->u.s.len < (win ? 8u : 0u) + 9u)
        return weir__agg_error(t, op, "malformed partial aggregate");
    const char *p = v->u.s.ptr;
    size_t len = v->u.s.len;
    int64_t start = 0;
    if (win) {
        start = (int64_t)weir_codec_get_be64(p);
        p += 8;
        len -= 8;
    }
    weir_agg_state in;
    if (weir__agg_decode(t, p, len, &in) != WEIR_OK)
        return weir__agg_error(t, op, "malformed partial aggregate");
    if (win)
        return windowed(t, i, r, r->timestamp_ms, &start, 1, &in);
    char *key;
    size_t klen;
    int rv = weir__agg_key(t, &r->key, false, &key, &klen);
    return rv == WEIR_OK ? update(t, i, r, key, klen, &in) : rv;
}

int
weir__ops_aggregate(weir_task *t, size_t i, weir_rec *r)
{
    const weir_op *op = &t->ops[i];
    if (op->store < 0)
        return weir__agg_error(t, op, "aggregation without a store");
    if (op->pb->partials)
        return merge_partial(t, i, r);
    weir_agg_state in;
    int rv = weir__agg_lift(t, op, r, &in);
    if (rv != WEIR_OK)
        return rv;
    if (weir__agg_session(op))
        return weir__ops_session(t, i, r, &in);
    if (weir__agg_windowed(op)) {
        int64_t ts, starts[WEIR_AGG_MAX_WINDOWS];
        size_t n;
        if ((rv = weir__agg_event_time(t, op, r, &ts)) != WEIR_OK ||
            (rv = weir__agg_windows(t, op, ts, starts, &n)) != WEIR_OK)
            return rv;
        return windowed(t, i, r, ts, starts, n, &in);
    }
    char *key;
    size_t klen;
    if ((rv = weir__agg_key(t, &r->key, false, &key, &klen)) != WEIR_OK)
        return rv;
    return update(t, i, r, key, klen, &in);
}

int
weir__ops_agg_flush(weir_task *t, size_t i, const weir_ov_entry *e)
{
    const weir_op *op = &t->ops[i];
    weir_arena_reset(&t->arena);
    const char *val = NULL;
    size_t vlen = 0;
    bool found = false;
    int rv =
        weir__agg_state_get(t, op->store, e->key, e->klen, &val, &vlen, &found);
    if (rv != WEIR_OK || !found)
        return rv; /* a window closed since: nothing to emit */
    weir_rec o;
    if ((rv = state_record(t, op, e->key, e->klen, val, vlen, &o)) != WEIR_OK)
        return rv;
    o.timestamp_ms = (int64_t)weir_codec_get_be64(e->val);
    return weir__ops_emit_result(t, i, &o);
}
