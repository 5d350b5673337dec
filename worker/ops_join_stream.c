/*
 * Stream-stream joins (join_window.h for the arithmetic). A record of
 * either side (inputs[0] the pipeline's, inputs[1] the other stream) is
 * joined with every record of the other side with the same key at most
 * `within` apart in time, then waits in the store for later ones. A late
 * record is dropped and counted. A buffered record that has closed is
 * forgotten at the next commit, and if it never matched and its side is
 * kept whole (the pipeline's under left, either under outer) it is then
 * emitted with a null other side. Which records match depends on
 * timestamps only, never on when commits happen.
 *
 * State layout of the join's store:
 *   side ('L' or 'R'), be32 length, codec(key), be64 ts ^ sign
 *       -> the side's records of that key and time, each: matched (0|1),
 *          be32 length, codec(value)
 *   0xfe, be64 ts ^ sign, the key above -> "1" (the closing order)
 *   the stream time (ops_agg.c)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "common/array.h"
#include "common/err.h"
#include "common/log.h"
#include "join_window.h"
#include "task_impl.h"

#define INDEX_TAG '\xfe'

typedef Weir__Topology__Operator op_pb;

static int
corrupt(weir_task *t, const weir_op *op)
{
    weir_log_error(
        "task", "corrupt join state task=%s store=%s", t->name, op->pb->store);
    return WEIR_ECORRUPT;
}

/* The prefix of a side's entries of a key: side, be32 length, codec(key);
 * room for the be64 time after it. In the arena. */
static int
side_prefix(
    weir_task *t, char side, const weir_value *key, char **out, size_t *len)
{
    weir_buf_clear(&t->kbuf);
    char head[5] = {side};
    if (weir_buf_append(&t->kbuf, head, 5) != WEIR_OK ||
        weir_codec_encode(key, &t->kbuf) != WEIR_OK)
        return WEIR_ENOMEM;
    weir_codec_put_be32(t->kbuf.data + 1, (uint32_t)(t->kbuf.len - 5));
    if (!(*out = weir_arena_alloc(&t->arena, t->kbuf.len + 8)))
        return WEIR_ENOMEM;
    memcpy(*out, t->kbuf.data, t->kbuf.len);
    *len = t->kbuf.len;
    return WEIR_OK;
}

/* Whether the records of a side are emitted unmatched when they close. */
static bool
kept_whole(const weir_op *op, char side)
{
    Weir__Topology__JoinType jt = op->pb->join_type;
    return jt == WEIR__TOPOLOGY__JOIN_TYPE__JOIN_OUTER ||
           (jt == WEIR__TOPOLOGY__JOIN_TYPE__JOIN_LEFT && side == 'L');
}

/* The result of joining left and right (either may be NULL: none), under
 * key at ts. */
static int
emit(weir_task *t, size_t i, const weir_value *key, const weir_value *left,
    const weir_value *right, int64_t ts, bool result)
{
    const weir_op *op = &t->ops[i];
    weir_rec r;
    memset(&r, 0, sizeof(r));
    r.key = *key;
    r.value = left ? *left : weir_value_null();
    r.timestamp_ms = ts;
    weir_rec out = r;
    int rv = weir__ops_eval_join(t, op, op->value, &r, right, &out.value);
    if (rv == WEIR_OK)
        rv = result ? weir__ops_emit_result(t, i, &out)
                    : weir__ops_forward(t, i, &out);
    return rv;
}

/* One buffered entry (a side's records of a key at one time), copied. */
typedef struct entry {
    char *key;
    size_t klen;
    char *val;
    size_t vlen;
} entry;

/* Copies the store's entries in [from, to), at most max, into *out
 * (freed by the caller). */
static int
collect(weir_task *t, const weir_op *op, const char *from, size_t flen,
    const char *to, size_t tlen, size_t max, entry **out, size_t *n)
{
    size_t cap = 0;
    *n = 0;
    weir_store_iter *it = NULL;
    int rv = weir_store_iter_new(&it, t->store, (size_t)op->store, from, flen);
    for (; rv == WEIR_OK && *n < max && weir_store_iter_valid(it);
         weir_store_iter_next(it)) {
        size_t kl, vl;
        const char *k = weir_store_iter_key(it, &kl);
        size_t m = kl < tlen ? kl : tlen;
        int c = memcmp(k, to, m);
        if (c > 0 || (c == 0 && kl >= tlen))
            break;
        const char *v = weir_store_iter_value(it, &vl);
        if ((rv = weir_array_reserve(out, &cap, *n + 1, sizeof(**out))) !=
            WEIR_OK)
            break;
        entry *e = &(*out)[(*n)++];
        e->key = weir_arena_alloc(&t->arena, kl);
        e->val = weir_arena_alloc(&t->arena, vl ? vl : 1);
        if (!e->key || !e->val) {
            rv = WEIR_ENOMEM;
            break;
        }
        memcpy(e->key, k, kl);
        memcpy(e->val, v, vl);
        e->klen = kl;
        e->vlen = vl;
    }
    if (it)
        weir_store_iter_free(it);
    return rv;
}

/* Walks the records of an entry's list: *off at the next one. */
static bool
next_record(weir_task *t, const weir_op *op, const entry *e, size_t *off,
    char **matched, weir_value *v, int *rv)
{
    if (*off >= e->vlen)
        return false;
    if (e->vlen - *off < 5 ||
        weir_codec_get_be32(e->val + *off + 1) > e->vlen - *off - 5) {
        *rv = corrupt(t, op);
        return false;
    }
    size_t len = weir_codec_get_be32(e->val + *off + 1);
    *matched = e->val + *off;
    if (weir_codec_decode(e->val + *off + 5, len, &t->arena, v) != WEIR_OK) {
        *rv = corrupt(t, op);
        return false;
    }
    *off += 5 + len;
    return true;
}

/* Joins r (on side) with the other side's records of its key within
 * `within` of ts; *matched whether any was. */
static int
match(weir_task *t, size_t i, const weir_rec *r, char side, int64_t ts,
    bool *matched)
{
    const weir_op *op = &t->ops[i];
    int64_t within = (int64_t)op->pb->join_window_ms;
    char other = side == 'L' ? 'R' : 'L';
    char *from, *to;
    size_t plen;
    int rv = side_prefix(t, other, &r->key, &from, &plen);
    if (rv != WEIR_OK || !(to = weir_arena_alloc(&t->arena, plen + 8)))
        return rv != WEIR_OK ? rv : WEIR_ENOMEM;
    memcpy(to, from, plen);
    weir_codec_put_time(from + plen, ts - within);
    weir_codec_put_time(to + plen, ts + within + 1);
    entry *list = NULL;
    size_t n = 0;
    rv = collect(t, op, from, plen + 8, to, plen + 8, SIZE_MAX, &list, &n);
    *matched = false;
    for (size_t k = 0; rv == WEIR_OK && k < n; k++) {
        entry *e = &list[k];
        if (e->klen != plen + 8) {
            rv = corrupt(t, op);
            break;
        }
        int64_t ets = weir_codec_get_time(e->key + plen);
        int64_t out_ts = ets > ts ? ets : ts;
        bool changed = false;
        size_t off = 0;
        char *flag;
        weir_value v;
        while (rv == WEIR_OK && next_record(t, op, e, &off, &flag, &v, &rv)) {
            *matched = true;
            rv = side == 'L'
                     ? emit(t, i, &r->key, &r->value, &v, out_ts, false)
                     : emit(t, i, &r->key, &v, &r->value, out_ts, false);
            if (!*flag && kept_whole(op, other))
                *flag = changed = 1;
        }
        if (rv == WEIR_OK && changed)
            rv = weir__task_state_put(
                t, op->store, e->key, e->klen, e->val, e->vlen);
    }
    free(list);
    return rv;
}

/* Appends r to its side's records of its key at ts. */
static int
buffer(weir_task *t, weir_op *op, const weir_rec *r, char side, int64_t ts,
    bool matched)
{
    char *key;
    size_t plen;
    int rv = side_prefix(t, side, &r->key, &key, &plen);
    if (rv != WEIR_OK)
        return rv;
    weir_codec_put_time(key + plen, ts);
    const char *old = NULL;
    size_t olen = 0;
    bool found = false;
    if ((rv = weir__agg_state_get(
             t, op->store, key, plen + 8, &old, &olen, &found)) != WEIR_OK)
        return rv;
    weir_buf_clear(&t->sbuf);
    char head[5] = {matched};
    if ((found && weir_buf_append(&t->sbuf, old, olen) != WEIR_OK) ||
        weir_buf_append(&t->sbuf, head, 5) != WEIR_OK)
        return WEIR_ENOMEM;
    size_t at = t->sbuf.len;
    if (weir_codec_encode(&r->value, &t->sbuf) != WEIR_OK)
        return WEIR_ENOMEM;
    weir_codec_put_be32(t->sbuf.data + at - 4, (uint32_t)(t->sbuf.len - at));
    if ((rv = weir__task_state_put(t, op->store, key, plen + 8, t->sbuf.data,
             t->sbuf.len)) != WEIR_OK ||
        found)
        return rv;
    /* A new entry: its place in the closing order. */
    weir_buf_clear(&t->pbuf);
    char ih[9] = {INDEX_TAG};
    weir_codec_put_time(ih + 1, ts);
    if (weir_buf_append(&t->pbuf, ih, 9) != WEIR_OK ||
        weir_buf_append(&t->pbuf, key, plen + 8) != WEIR_OK)
        return WEIR_ENOMEM;
    int64_t close_at =
        ts + (int64_t)(op->pb->join_window_ms + op->pb->join_grace_ms) + 1;
    if (op->close_at != INT64_MIN && close_at < op->close_at)
        op->close_at = close_at;
    return weir__task_state_put(
        t, op->store, t->pbuf.data, t->pbuf.len, "1", 1);
}

int
weir__ops_stream_join(weir_task *t, size_t i, const weir_rec *r)
{
    weir_op *op = &t->ops[i];
    if (weir_value_is_kafka_null(&r->key))
        return WEIR_OK; /* no key, no partner (as Kafka Streams does) */
    char side = op->pb->n_inputs > 1 && t->forward_from == op->pb->inputs[1]
                    ? 'R'
                    : 'L';
    int64_t ts = r->timestamp_ms, st;
    int rv = weir__agg_advance_stream_time(t, op, ts, &st);
    if (rv != WEIR_OK)
        return rv;
    if (weir_join_late(ts, (int64_t)op->pb->join_grace_ms, st)) {
        t->stats.late++;
        return WEIR_OK;
    }
    bool matched;
    if ((rv = match(t, i, r, side, ts, &matched)) != WEIR_OK)
        return rv;
    return buffer(t, op, r, side, ts, matched);
}

/* Emits the unmatched records of a closed entry (key: its store key). */
static int
emit_unmatched(weir_task *t, size_t i, const entry *e)
{
    const weir_op *op = &t->ops[i];
    char side = e->key[0];
    if (!kept_whole(op, side))
        return WEIR_OK;
    if (e->klen < 13 || weir_codec_get_be32(e->key + 1) != e->klen - 13)
        return corrupt(t, op);
    weir_value key;
    if (weir_codec_decode(e->key + 5, e->klen - 13, &t->arena, &key) != WEIR_OK)
        return corrupt(t, op);
    int64_t ts = weir_codec_get_time(e->key + e->klen - 8);
    size_t off = 0;
    char *flag;
    weir_value v;
    int rv = WEIR_OK;
    while (rv == WEIR_OK && next_record(t, op, e, &off, &flag, &v, &rv))
        if (!*flag)
            rv = side == 'L' ? emit(t, i, &key, &v, NULL, ts, true)
                             : emit(t, i, &key, NULL, &v, ts, true);
    return rv;
}

int
weir__ops_stream_join_close(weir_task *t, size_t i)
{
    weir_op *op = &t->ops[i];
    int64_t st;
    int rv = weir__agg_stream_time(t, op->store, &st);
    if (rv != WEIR_OK || st < op->close_at)
        return rv;
    weir_arena_reset(&t->arena);
    int64_t wait = (int64_t)(op->pb->join_window_ms + op->pb->join_grace_ms);
    /* Closed (weir_join_closed): ts + wait < st, i.e. ts < st - wait. */
    char from[1] = {INDEX_TAG}, to[9] = {INDEX_TAG};
    weir_codec_put_time(to + 1, st - wait);
    entry *closed = NULL;
    size_t n = 0;
    rv = collect(t, op, from, 1, to, 9, SIZE_MAX, &closed, &n);
    for (size_t k = 0; rv == WEIR_OK && k < n; k++) {
        entry e = {closed[k].key + 9, closed[k].klen - 9, NULL, 0};
        const char *v = NULL;
        bool found = false;
        if (closed[k].klen < 9 + 13 ||
            (rv = weir__agg_state_get(t, op->store, e.key, e.klen, &v, &e.vlen,
                 &found)) != WEIR_OK) {
            rv = rv != WEIR_OK ? rv : corrupt(t, op);
            break;
        }
        e.val = (char *)v;
        if ((found && (rv = emit_unmatched(t, i, &e)) != WEIR_OK) ||
            (rv = weir__task_state_put(t, op->store, e.key, e.klen, NULL, 0)) !=
                WEIR_OK)
            break;
        rv = weir__task_state_put(
            t, op->store, closed[k].key, closed[k].klen, NULL, 0);
    }
    free(closed);
    if (rv != WEIR_OK)
        return rv;
    /* The next to close: the first entry left in the closing order. */
    entry *next = NULL;
    char end[1] = {(char)0xff};
    size_t m = 0;
    op->close_at = INT64_MAX;
    rv = collect(t, op, from, 1, end, 1, 1, &next, &m);
    if (rv == WEIR_OK && m > 0)
        op->close_at = weir_codec_get_time(next[0].key + 1) + wait + 1;
    free(next);
    return rv;
}
