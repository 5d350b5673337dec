/*
 * What operators keep until the commit: an aggregation emitting latest
 * notes the keys it updated, a repartition writing partials folds them.
 * Both are flushed into the open transaction before its changelog and
 * offsets (task_commit.c), or early when a task's pending bytes pass its
 * budget; an abort forgets them with the rest of the transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "common/err.h"
#include "task_impl.h"

/* What a pending entry costs beyond its bytes (the overlay's entry and
 * its bucket), for the budget. */
#define ENTRY_OVERHEAD 64

int
weir__agg_pending_put(weir_task *t, weir_op *op, const void *key, size_t klen,
    int64_t ts, const void *val, size_t vlen)
{
    if (!op->pending) {
        if (!(op->pending = malloc(sizeof(*op->pending))))
            return WEIR_ENOMEM;
        weir_overlay_init(op->pending);
    }
    weir_ov_entry *e = weir_overlay_find(op->pending, 0, key, klen);
    if (e && e->vlen >= 8) {
        int64_t prev = (int64_t)weir_codec_get_be64(e->val);
        if (prev > ts)
            ts = prev;
    }
    char b[8];
    weir_codec_put_be64(b, (uint64_t)ts);
    weir_buf_clear(&t->pbuf);
    if (weir_buf_append(&t->pbuf, b, 8) != WEIR_OK ||
        (vlen && weir_buf_append(&t->pbuf, val, vlen) != WEIR_OK))
        return WEIR_ENOMEM;
    size_t before = e ? e->vlen : 0;
    if (!weir_overlay_set(
            op->pending, 0, key, klen, t->pbuf.data, t->pbuf.len, true))
        return WEIR_ENOMEM;
    t->pending_bytes += e ? (t->pbuf.len > before ? t->pbuf.len - before : 0)
                          : klen + t->pbuf.len + ENTRY_OVERHEAD;
    return WEIR_OK;
}

static int
collect(weir_ov_entry *e, void *opaque)
{
    weir_ov_entry ***cur = opaque;
    *(*cur)++ = e;
    return 0;
}

static int
by_time(const void *a, const void *b)
{
    const weir_ov_entry *x = *(weir_ov_entry *const *)a;
    const weir_ov_entry *y = *(weir_ov_entry *const *)b;
    int64_t tx = (int64_t)weir_codec_get_be64(x->val);
    int64_t ty = (int64_t)weir_codec_get_be64(y->val);
    if (tx != ty)
        return tx < ty ? -1 : 1;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

/* op's pending entries in the order of their timestamps (then keys), so
 * that stream time rises through a flush as it did through the records. */
static weir_ov_entry **
sorted(const weir_op *op, size_t *n)
{
    *n = op->pending->n_dirty;
    weir_ov_entry **list = malloc((*n ? *n : 1) * sizeof(*list));
    if (!list)
        return NULL;
    weir_ov_entry **cur = list;
    weir_overlay_each_dirty(op->pending, collect, &cur);
    qsort(list, *n, sizeof(*list), by_time);
    return list;
}

int
weir__ops_flush(weir_task *t)
{
    int rv = WEIR_OK;
    /* In operator order: what one flushes may add to a later one's. */
    for (size_t i = 0; rv == WEIR_OK && i < t->n_ops; i++) {
        weir_op *op = &t->ops[i];
        if (op->pending && op->pending->n_dirty > 0) {
            size_t n;
            weir_ov_entry **list = sorted(op, &n);
            rv = list ? WEIR_OK : WEIR_ENOMEM;
            for (size_t k = 0; rv == WEIR_OK && k < n; k++)
                rv = op->partial ? weir__ops_partial_flush(t, i, list[k])
                     : weir__agg_session(op)
                         ? weir__ops_session_flush(t, i, list[k])
                         : weir__ops_agg_flush(t, i, list[k]);
            free(list);
            weir_overlay_drop_dirty(op->pending);
        }
        /* What closed by now: after its latest value went out. */
        if (rv == WEIR_OK && op->store >= 0 && weir__agg_session(op))
            rv = weir__ops_session_close(t, i);
        if (rv == WEIR_OK && op->store >= 0 &&
            op->pb->kind == WEIR__TOPOLOGY__OP_KIND__OP_STREAM_STREAM_JOIN)
            rv = weir__ops_stream_join_close(t, i);
    }
    t->pending_bytes = 0;
    return rv;
}

void
weir__ops_drop_pending(weir_task *t)
{
    for (size_t i = 0; i < t->n_ops; i++) {
        if (t->ops[i].pending)
            weir_overlay_drop_dirty(t->ops[i].pending);
        /* The aborted writes may have closed some: look again. */
        t->ops[i].close_at = INT64_MIN;
    }
    t->pending_bytes = 0;
}
