/*
 * Session windows (session.h for the arithmetic): per key, the open
 * sessions and their aggregates; a record opens one, extends one or
 * merges several. Emitting follows the aggregation's mode: update emits a
 * tombstone (null value) for each session merged away, then the merged
 * session; latest notes both for the commit; final emits a session once,
 * when it closes. Sessions closed by the stream time are removed at commit
 * (weir__ops_session_close): they take no records any more either way,
 * so what is emitted does not depend on when a commit happens.
 *
 * State layout of the aggregation's store:
 *   codec(key)                      -> its sessions, oldest first, each
 *                                      be64 start, be64 end, be32 length,
 *                                      aggregate state (agg_fold.c)
 *   0xfe, be64 end ^ sign, codec(key) -> "1": a session ending then (the
 *                                      closing order)
 *   the stream time (ops_agg.c)
 * Pending (emit: latest): be64 start ^ sign, be64 end ^ sign, codec(key)
 * -> what to emit at the commit (note_pending).
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "common/array.h"
#include "common/err.h"
#include "common/log.h"
#include "session.h"
#include "task_impl.h"

#define INDEX_TAG '\xfe'
#define ENTRY_HEAD 20 /* start, end, state length */

/* The sessions of one key, oldest first, with room for one more. */
typedef struct sessions {
    weir_session *win;
    weir_agg_state *agg;
    size_t n;
} sessions;

static int
corrupt(weir_task *t, const weir_op *op)
{
    weir_log_error("task", "corrupt session state task=%s store=%s", t->name,
        op->pb->store);
    return WEIR_ECORRUPT;
}

static int
read_sessions(
    weir_task *t, const weir_op *op, const char *key, size_t klen, sessions *l)
{
    const char *v = NULL;
    size_t vlen = 0, n = 0;
    bool found = false;
    int rv = weir__agg_state_get(t, op->store, key, klen, &v, &vlen, &found);
    if (rv != WEIR_OK)
        return rv;
    for (size_t off = 0; found && off < vlen; n++) {
        if (vlen - off < ENTRY_HEAD)
            return corrupt(t, op);
        size_t len = weir_codec_get_be32(v + off + 16);
        if (len > vlen - off - ENTRY_HEAD)
            return corrupt(t, op);
        off += ENTRY_HEAD + len;
    }
    l->n = 0;
    l->win = weir_arena_alloc(&t->arena, (n + 1) * sizeof(*l->win));
    l->agg = weir_arena_alloc(&t->arena, (n + 1) * sizeof(*l->agg));
    if (!l->win || !l->agg)
        return WEIR_ENOMEM;
    for (size_t off = 0; l->n < n; l->n++) {
        const char *p = v + off;
        size_t len = weir_codec_get_be32(p + 16);
        l->win[l->n].start = (int64_t)weir_codec_get_be64(p);
        l->win[l->n].end = (int64_t)weir_codec_get_be64(p + 8);
        if (weir__agg_decode(t, p + ENTRY_HEAD, len, &l->agg[l->n]) != WEIR_OK)
            return corrupt(t, op);
        off += ENTRY_HEAD + len;
    }
    return WEIR_OK;
}

static int
write_sessions(weir_task *t, const weir_op *op, const char *key, size_t klen,
    const sessions *l)
{
    if (l->n == 0)
        return weir__task_state_put(t, op->store, key, klen, NULL, 0);
    weir_buf_clear(&t->sbuf);
    for (size_t k = 0; k < l->n; k++) {
        char head[ENTRY_HEAD];
        weir_codec_put_be64(head, (uint64_t)l->win[k].start);
        weir_codec_put_be64(head + 8, (uint64_t)l->win[k].end);
        size_t at = t->sbuf.len + 16;
        if (weir_buf_append(&t->sbuf, head, ENTRY_HEAD) != WEIR_OK ||
            weir__agg_encode(&l->agg[k], &t->sbuf) != WEIR_OK)
            return WEIR_ENOMEM;
        weir_codec_put_be32(
            t->sbuf.data + at, (uint32_t)(t->sbuf.len - at - 4));
    }
    return weir__task_state_put(
        t, op->store, key, klen, t->sbuf.data, t->sbuf.len);
}

/* Writes (or with present false deletes) the closing-order entry of a
 * session of key ending at end. */
static int
put_index(weir_task *t, const weir_op *op, const char *key, size_t klen,
    int64_t end, bool present)
{
    weir_buf_clear(&t->pbuf);
    char head[9] = {INDEX_TAG};
    weir_codec_put_time(head + 1, end);
    if (weir_buf_append(&t->pbuf, head, 9) != WEIR_OK ||
        weir_buf_append(&t->pbuf, key, klen) != WEIR_OK)
        return WEIR_ENOMEM;
    return weir__task_state_put(t, op->store, t->pbuf.data, t->pbuf.len,
        present ? "1" : NULL, present ? 1 : 0);
}

/* The result record of a session (value null: a tombstone). */
static int
session_record(weir_task *t, const weir_op *op, const char *key, size_t klen,
    weir_session s, const weir_agg_state *agg, weir_rec *o)
{
    memset(o, 0, sizeof(*o));
    if (weir_codec_decode(key, klen, &t->arena, &o->key) != WEIR_OK)
        return corrupt(t, op);
    o->value = agg ? weir__agg_result(op, agg) : weir_value_null();
    o->timestamp_ms = s.end;
    o->windowed = true;
    o->window_start_ms = s.start;
    o->window_end_ms = s.end;
    return WEIR_OK;
}

/*
 * emit: latest: notes session s of key for the commit: updated (agg) or
 * merged away. What the commit does with it (weir__ops_session_flush):
 * 'u' emit it, 'n' the same for a session new since the last commit, 'd'
 * emit its tombstone, 'x' nothing (new, and merged away before anyone saw
 * it).
 */
static int
note_pending(weir_task *t, weir_op *op, const char *key, size_t klen,
    weir_session s, bool updated, bool is_new)
{
    char *pk = weir_arena_alloc(&t->arena, 16 + klen);
    if (!pk)
        return WEIR_ENOMEM;
    weir_codec_put_time(pk, s.start);
    weir_codec_put_time(pk + 8, s.end);
    memcpy(pk + 16, key, klen);
    const weir_ov_entry *e =
        op->pending ? weir_overlay_find(op->pending, 0, pk, 16 + klen) : NULL;
    bool unseen = is_new || (e && e->vlen > 8 && e->val[8] == 'n');
    char what = updated ? (unseen ? 'n' : 'u') : (unseen ? 'x' : 'd');
    return weir__agg_pending_put(t, op, pk, 16 + klen, s.end, &what, 1);
}

/* Emits session s (agg NULL: its tombstone; is_new: it did not exist
 * before this record) as the emit mode says. */
static int
emit(weir_task *t, size_t i, const char *key, size_t klen, weir_session s,
    const weir_agg_state *agg, bool is_new)
{
    weir_op *op = &t->ops[i];
    switch (weir__agg_emit(op)) {
    case WEIR__TOPOLOGY__EMIT__EMIT_LATEST:
        return note_pending(t, op, key, klen, s, agg != NULL, is_new);
    case WEIR__TOPOLOGY__EMIT__EMIT_FINAL:
        return WEIR_OK;
    default: {
        weir_rec o;
        int rv = session_record(t, op, key, klen, s, agg, &o);
        return rv == WEIR_OK ? weir__ops_forward(t, i, &o) : rv;
    }
    }
}

/* Replaces the run [first, first + n) of l (n may be 0) with m. */
static void
replace_run(sessions *l, size_t first, size_t n, weir_session m,
    const weir_agg_state *agg)
{
    size_t tail = l->n - first - n;
    memmove(l->win + first + 1, l->win + first + n, tail * sizeof(*l->win));
    memmove(l->agg + first + 1, l->agg + first + n, tail * sizeof(*l->agg));
    l->n = l->n + 1 - n;
    l->win[first] = m;
    l->agg[first] = *agg;
}

static bool
same(weir_session a, weir_session b)
{
    return a.start == b.start && a.end == b.end;
}

int
weir__ops_session(
    weir_task *t, size_t i, const weir_rec *r, const weir_agg_state *in)
{
    weir_op *op = &t->ops[i];
    const Weir__Topology__Window *w = op->pb->window;
    int64_t gap = (int64_t)w->gap_ms, grace = (int64_t)w->grace_ms;
    int64_t ts, st;
    char *key;
    size_t klen;
    sessions l;
    int rv = weir__agg_event_time(t, op, r, &ts);
    if (rv != WEIR_OK ||
        (rv = weir__agg_advance_stream_time(t, op, ts, &st)) != WEIR_OK ||
        (rv = weir__agg_key(t, &r->key, false, &key, &klen)) != WEIR_OK ||
        (rv = read_sessions(t, op, key, klen, &l)) != WEIR_OK)
        return rv;
    weir_session m = {ts, ts};
    if (weir_session_closed(m, gap, grace, st)) {
        t->stats.late++;
        return WEIR_OK;
    }
    /* The closed sessions, not yet removed, end before ts: they come
     * first and take no records. */
    size_t open = 0, first, n;
    while (open < l.n && weir_session_closed(l.win[open], gap, grace, st))
        open++;
    m = weir_session_merge(l.win + open, l.n - open, ts, gap, &first, &n);
    first += open;
    weir_agg_state acc = *in;
    if (n > 0) {
        acc = l.agg[first];
        for (size_t k = 1; rv == WEIR_OK && k < n; k++)
            rv = weir__agg_merge(t, op, r, &acc, &l.agg[first + k], &acc);
        if (rv == WEIR_OK)
            rv = weir__agg_merge(t, op, r, &acc, in, &acc);
    }
    /* Sessions merged away lose their closing entry and are retracted. */
    bool kept = false;
    for (size_t k = first; rv == WEIR_OK && k < first + n; k++) {
        if (same(l.win[k], m)) {
            kept = true;
            continue;
        }
        if ((rv = put_index(t, op, key, klen, l.win[k].end, false)) == WEIR_OK)
            rv = emit(t, i, key, klen, l.win[k], NULL, false);
    }
    if (rv != WEIR_OK ||
        (!kept && (rv = put_index(t, op, key, klen, m.end, true)) != WEIR_OK))
        return rv;
    replace_run(&l, first, n, m, &acc);
    if ((rv = write_sessions(t, op, key, klen, &l)) != WEIR_OK)
        return rv;
    int64_t close_at = m.end + gap + grace + 1;
    if (op->close_at != INT64_MIN && close_at < op->close_at)
        op->close_at = close_at;
    return emit(t, i, key, klen, m, &acc, !kept);
}

int
weir__ops_session_flush(weir_task *t, size_t i, const weir_ov_entry *e)
{
    const weir_op *op = &t->ops[i];
    weir_arena_reset(&t->arena);
    if (e->klen < 16 || e->vlen < 9)
        return corrupt(t, op);
    weir_session s = {
        weir_codec_get_time(e->key), weir_codec_get_time(e->key + 8)};
    const char *key = e->key + 16;
    size_t klen = e->klen - 16;
    sessions l;
    int rv = read_sessions(t, op, key, klen, &l);
    const weir_agg_state *agg = NULL;
    for (size_t k = 0; rv == WEIR_OK && k < l.n; k++)
        if (same(l.win[k], s))
            agg = &l.agg[k];
    char what = e->val[8];
    if (rv != WEIR_OK || what == 'x' || (!agg && what != 'd'))
        return rv; /* unseen; or closed and removed since, emitted before */
    weir_rec o;
    if ((rv = session_record(t, op, key, klen, s, agg, &o)) != WEIR_OK)
        return rv;
    return weir__ops_emit_result(t, i, &o);
}

/* A closing-order entry: the key it names and the session's end. */
typedef struct closing {
    char *key;
    size_t klen;
    int64_t end;
} closing;

/* The entries of sessions closed at st, oldest first, into *out (freed
 * by the caller); the stream time at which the next one closes. */
static int
closed_sessions(weir_task *t, weir_op *op, int64_t st, closing **out, size_t *n,
    int64_t *next)
{
    const Weir__Topology__Window *w = op->pb->window;
    weir_session s = {0, 0};
    size_t cap = 0;
    *n = 0;
    *next = INT64_MAX;
    weir_store_iter *it = NULL;
    char from = INDEX_TAG;
    int rv = weir_store_iter_new(&it, t->store, (size_t)op->store, &from, 1);
    for (; rv == WEIR_OK && weir_store_iter_valid(it);
         weir_store_iter_next(it)) {
        size_t kl;
        const char *k = weir_store_iter_key(it, &kl);
        if (kl < 9 || k[0] != INDEX_TAG)
            break;
        s.end = weir_codec_get_time(k + 1);
        if (!weir_session_closed(
                s, (int64_t)w->gap_ms, (int64_t)w->grace_ms, st)) {
            *next = s.end + (int64_t)(w->gap_ms + w->grace_ms) + 1;
            break;
        }
        if ((rv = weir_array_reserve(out, &cap, *n + 1, sizeof(**out))) !=
            WEIR_OK)
            break;
        closing *c = &(*out)[(*n)++];
        c->end = s.end;
        c->klen = kl - 9;
        if (!(c->key = weir_arena_alloc(&t->arena, c->klen ? c->klen : 1))) {
            rv = WEIR_ENOMEM;
            break;
        }
        memcpy(c->key, k + 9, c->klen);
    }
    if (it)
        weir_store_iter_free(it);
    return rv;
}

int
weir__ops_session_close(weir_task *t, size_t i)
{
    weir_op *op = &t->ops[i];
    int64_t st, next;
    int rv = weir__agg_stream_time(t, op->store, &st);
    if (rv != WEIR_OK || st < op->close_at)
        return rv;
    weir_arena_reset(&t->arena);
    closing *list = NULL;
    size_t n = 0;
    rv = closed_sessions(t, op, st, &list, &n, &next);
    for (size_t k = 0; rv == WEIR_OK && k < n; k++) {
        const closing *c = &list[k];
        sessions l;
        if ((rv = put_index(t, op, c->key, c->klen, c->end, false)) !=
                WEIR_OK ||
            (rv = read_sessions(t, op, c->key, c->klen, &l)) != WEIR_OK)
            break;
        /* The closed session is the oldest of its key left. */
        if (l.n == 0 || l.win[0].end != c->end) {
            rv = corrupt(t, op);
            break;
        }
        weir_session s = l.win[0];
        weir_agg_state agg = l.agg[0];
        l.win++;
        l.agg++;
        l.n--;
        if ((rv = write_sessions(t, op, c->key, c->klen, &l)) != WEIR_OK)
            break;
        if (weir__agg_emit(op) == WEIR__TOPOLOGY__EMIT__EMIT_FINAL) {
            weir_rec o;
            if ((rv = session_record(t, op, c->key, c->klen, s, &agg, &o)) ==
                WEIR_OK)
                rv = weir__ops_emit_result(t, i, &o);
        }
    }
    free(list);
    if (rv == WEIR_OK)
        op->close_at = next;
    return rv;
}
