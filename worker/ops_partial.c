/*
 * Pre-aggregation before a repartition (local-global aggregation, as
 * Flink SQL does it): the repartition folds its records per new key (and
 * window) into partial aggregates of the aggregation that reads its topic,
 * and writes one partial per key at the flush, inside the transaction that
 * commits the input offsets that made it. The aggregation merges partials
 * (ops_agg.c). The job compiler marks where this applies (decomposable
 * aggregations emitting latest or final: proto/topology.proto "partials").
 *
 * Windowed, a record whose window has closed by the latest event time
 * this operator saw is dropped as late here; the aggregation drops a
 * partial whose window has closed by its own stream time. (Which records
 * are late then depends on how they were grouped into partials: lateness
 * across partitions is a race in any case.)
 *
 * Pending key: [be64 window start, windowed only] + codec-encoded key.
 * Partial on the topic: key encoded in the topic's key format, value =
 * [be64 window start] + aggregate state (agg_fold.c), timestamp = the
 * latest event time folded in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "common/err.h"
#include "task_impl.h"
#include "window.h"

static int
fold_into(weir_task *t, weir_op *rep, const weir_rec *r, const char *key,
    size_t klen, int64_t ts, const weir_agg_state *in)
{
    const weir_op *agg = rep->partial;
    weir_agg_state res = *in;
    weir_ov_entry *e =
        rep->pending ? weir_overlay_find(rep->pending, 0, key, klen) : NULL;
    if (e && e->vlen > 8) {
        weir_agg_state old;
        if (weir__agg_decode(t, e->val + 8, e->vlen - 8, &old) != WEIR_OK)
            return WEIR_ECORRUPT;
        int rv = weir__agg_merge(t, agg, r, &old, in, &res);
        if (rv != WEIR_OK)
            return rv;
    }
    weir_buf_clear(&t->sbuf);
    if (weir__agg_encode(&res, &t->sbuf) != WEIR_OK)
        return WEIR_ENOMEM;
    return weir__agg_pending_put(
        t, rep, key, klen, ts, t->sbuf.data, t->sbuf.len);
}

int
weir__ops_partial_fold(weir_task *t, size_t i, const weir_rec *r)
{
    weir_op *rep = &t->ops[i];
    const weir_op *agg = rep->partial;
    weir_agg_state in;
    int rv = weir__agg_lift(t, agg, r, &in);
    if (rv != WEIR_OK)
        return rv;
    bool win = weir__agg_windowed(agg);
    int64_t ts = r->timestamp_ms, starts[WEIR_AGG_MAX_WINDOWS] = {0};
    size_t n = 1;
    if (win && ((rv = weir__agg_event_time(t, agg, r, &ts)) != WEIR_OK ||
                   (rv = weir__agg_windows(t, agg, ts, starts, &n)) != WEIR_OK))
        return rv;
    char *key;
    size_t klen;
    if ((rv = weir__agg_key(t, &r->key, win, &key, &klen)) != WEIR_OK)
        return rv;
    const Weir__Topology__Window *w = agg->pb->window;
    if (win && ts > rep->stream_time)
        rep->stream_time = ts;
    for (size_t k = 0; rv == WEIR_OK && k < n; k++) {
        weir_rec wr = *r;
        if (win && weir_window_closed(starts[k], (int64_t)w->size_ms,
                       (int64_t)w->grace_ms, rep->stream_time)) {
            t->stats.late++;
            continue;
        }
        if (win) {
            weir_codec_put_be64(key, (uint64_t)starts[k]);
            wr.windowed = true;
            wr.window_start_ms = starts[k];
            wr.window_end_ms = starts[k] + (int64_t)w->size_ms;
        }
        rv = fold_into(t, rep, &wr, key, klen, ts, &in);
    }
    return rv;
}

int
weir__ops_partial_flush(weir_task *t, size_t i, const weir_ov_entry *e)
{
    const weir_op *rep = &t->ops[i];
    const Weir__Topology__Operator *pb = rep->pb;
    bool win = weir__agg_windowed(rep->partial);
    size_t skip = win ? 8 : 0;
    weir_arena_reset(&t->arena);
    t->err_op = pb->name;
    weir_rec r;
    memset(&r, 0, sizeof(r));
    r.timestamp_ms = (int64_t)weir_codec_get_be64(e->val);
    if (e->klen < skip || e->vlen < 8 ||
        weir_codec_decode(e->key + skip, e->klen - skip, &t->arena, &r.key) !=
            WEIR_OK)
        return WEIR_ECORRUPT;
    /* The value: the window start (from the key) and the state. */
    weir_buf_clear(&t->vbuf);
    if ((win && weir_buf_append(&t->vbuf, e->key, 8) != WEIR_OK) ||
        weir_buf_append(&t->vbuf, e->val + 8, e->vlen - 8) != WEIR_OK)
        return WEIR_ENOMEM;
    weir_buf_clear(&t->kbuf);
    char err[200];
    bool knull = weir_value_is_kafka_null(&r.key);
    if (!knull && weir_value_encode(&r.key, pb->key_format, &t->kbuf, err,
                      sizeof(err)) != WEIR_OK) {
        snprintf(t->err_msg, sizeof(t->err_msg), "encode for %s: %s", pb->topic,
            err);
        r.value = weir_value_bytes(t->vbuf.data, t->vbuf.len);
        return weir__ops_result_failed(t, &r, WEIR_EINVAL);
    }
    int rv = weir__task_produce(t, pb->topic, rep->max_bytes, -1,
        knull ? NULL : t->kbuf.data, knull ? 0 : t->kbuf.len, t->vbuf.data,
        t->vbuf.len, r.timestamp_ms, NULL, 0);
    if (rv == WEIR_OK)
        t->stats.records_out++;
    if (rv == WEIR_EINVAL) {
        r.value = weir_value_bytes(t->vbuf.data, t->vbuf.len);
        return weir__ops_result_failed(t, &r, rv);
    }
    return rv;
}
