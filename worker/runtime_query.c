/*
 * Pull queries on a worker: a StoreQuery names a job, a store, a partition
 * and a key (or a scan); the answer is read from the task's store as of
 * its last checkpoint, which a task writes only after its transaction
 * committed, so an answer is never ahead of the committed output. A
 * standby's answer is marked stale. Aggregation stores (plain, windowed,
 * sessions) and table stores can be queried.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/job/job.h"
#include "runtime_impl.h"

#define MAX_ROWS 1000

typedef Weir__Topology__Operator op_pb;

/* What a query needs to know of its store, copied under rt->lock. */
typedef struct store_info {
    uint32_t sub;
    bool table, windowed, session, avg, standby;
    uint64_t window_ms;
    weir_type key_type;
    weir_format key_format, value_format;
    weir_type value_type;
} store_info;

/* The reply's error messages are static strings (freed by nobody). */
static int
fail(Weir__Cluster__StoreQueryReply *r, uint32_t status, const char *msg)
{
    r->status = status;
    r->error = (char *)msg;
    return WEIR_OK;
}

/* Finds the store's operator and whether this worker runs the task. */
static int
lookup(weir_runtime *rt, const Weir__Cluster__StoreQuery *q, store_info *si,
    Weir__Cluster__StoreQueryReply *r)
{
    const Weir__Topology__Topology *topo = NULL;
    for (size_t i = 0; i < rt->n_topos && !topo; i++)
        if (strcmp(rt->topos[i]->job, q->job) == 0)
            topo = rt->topos[i];
    const Weir__Topology__Subtopology *st = NULL;
    const op_pb *found =
        topo ? weir_job_store_operator(topo, q->store, &st) : NULL;
    if (found) {
        const op_pb *op = found;
        if (op->kind == WEIR__TOPOLOGY__OP_KIND__OP_STREAM_STREAM_JOIN)
            return fail(r, 400,
                "a stream-stream join's store holds records waiting for a "
                "match: not queryable");
        const Weir__Topology__Window *w = op->window;
        si->sub = st->id;
        si->table = op->table;
        si->session =
            w && w->kind == WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_SESSION;
        si->windowed = w && !si->session &&
                       w->kind != WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_NONE;
        si->window_ms = w ? w->size_ms : 0;
        si->avg = op->kind == WEIR__TOPOLOGY__OP_KIND__OP_AGGREGATE &&
                  op->agg == WEIR__TOPOLOGY__AGG_FUNC__AGG_AVG;
        si->key_type = (weir_type)op->key_type;
        si->key_format = (weir_format)op->key_format;
        si->value_format = (weir_format)op->value_format;
        si->value_type = (weir_type)op->value_type;
    }
    if (!found)
        return fail(r, 404, topo ? "no such store" : "no such job here");
    for (size_t i = 0; i < rt->n_desired; i++) {
        const weir_rt_desired *d = &rt->desired[i];
        if (strcmp(d->job, q->job) == 0 && d->sub == si->sub &&
            d->partition == q->partition) {
            si->standby = d->standby;
            return WEIR_OK;
        }
    }
    return fail(r, 404, "this worker has no task for that partition");
}

/* The key, given as text, in the store's encoding. */
static int
store_key(
    const store_info *si, const char *text, weir_arena *arena, weir_buf *out)
{
    weir_value v = weir_value_string(text, strlen(text));
    if (si->key_type == WEIR_TYPE_INT) {
        char *end;
        long long n = strtoll(text, &end, 10);
        if (*text == '\0' || *end != '\0')
            return WEIR_EINVAL;
        v = weir_value_int(n);
    }
    (void)arena;
    if (si->table) {
        char err[128];
        return weir_value_encode(&v, si->key_format, out, err, sizeof(err));
    }
    return weir_codec_encode(&v, out);
}

typedef struct collect {
    const store_info *si;
    Weir__Cluster__StoreQueryReply *r;
    const char *key; /* windowed: the key's (or prefix's) encoding */
    size_t klen;
    bool prefix; /* ... a prefix of the keys to take */
    weir_arena arena;
    weir_buf buf;
    int64_t from_ms, to_ms;
} collect;

static char *
to_json(collect *c, const weir_value *v)
{
    weir_buf_clear(&c->buf);
    if (weir_value_to_json(v, &c->buf) != WEIR_OK ||
        weir_buf_append(&c->buf, "", 1) != WEIR_OK)
        return NULL;
    return strdup(c->buf.data);
}

/* The result of an aggregate state (be64 count, codec-encoded aggregate). */
static int
agg_value(collect *c, const char *v, size_t vl, weir_value *out)
{
    if (vl < 9 || weir_codec_decode(v + 8, vl - 8, &c->arena, out) != WEIR_OK)
        return WEIR_ECORRUPT;
    int64_t count = (int64_t)weir_codec_get_be64(v);
    if (c->si->avg && count > 0)
        *out = weir_value_float(
            (out->type == WEIR_TYPE_FLOAT ? out->u.f : (double)out->u.i) /
            (double)count);
    return WEIR_OK;
}

static int
push_row(collect *c, const weir_value *key, const weir_value *value,
    bool windowed, int64_t start, int64_t end)
{
    Weir__Cluster__StoreRow *row = malloc(sizeof(*row));
    Weir__Cluster__StoreQueryReply *r = c->r;
    Weir__Cluster__StoreRow **rows =
        realloc(r->rows, (r->n_rows + 1) * sizeof(*rows));
    if (rows)
        r->rows = rows;
    if (!row || !rows) {
        free(row);
        return WEIR_ENOMEM;
    }
    weir__cluster__store_row__init(row);
    row->windowed = windowed;
    row->window_start_ms = start;
    row->window_end_ms = end;
    row->key_json = to_json(c, key);
    row->value_json = to_json(c, value);
    if (!row->key_json || !row->value_json) {
        weir__cluster__store_row__free_unpacked(row, NULL);
        return WEIR_ENOMEM;
    }
    r->rows[r->n_rows++] = row;
    return WEIR_OK;
}

/* A key's sessions (ops_session.c's layout): a row each, in the range. */
static int
session_rows(collect *c, const char *k, size_t kl, const char *v, size_t vl)
{
    if (kl > 0 && ((unsigned char)k[0] == 0xfe || (unsigned char)k[0] == 0xff))
        return WEIR_STORE_ROW_SKIP; /* the closing order, the stream time */
    weir_value key, value;
    if (weir_codec_decode(k, kl, &c->arena, &key) != WEIR_OK)
        return WEIR_ECORRUPT;
    for (size_t off = 0; off < vl;) {
        if (vl - off < 20)
            return WEIR_ECORRUPT;
        size_t len = weir_codec_get_be32(v + off + 16);
        if (len > vl - off - 20)
            return WEIR_ECORRUPT;
        int64_t start = (int64_t)weir_codec_get_be64(v + off);
        int64_t end = (int64_t)weir_codec_get_be64(v + off + 8);
        int rv = agg_value(c, v + off + 20, len, &value);
        if (rv == WEIR_OK && start >= c->from_ms && start <= c->to_ms)
            rv = push_row(c, &key, &value, true, start, end);
        if (rv != WEIR_OK)
            return rv;
        off += 20 + len;
    }
    return WEIR_OK;
}

static int stored_row(
    collect *c, const char *k, size_t kl, const char *v, size_t vl);

static int
add_row(const char *k, size_t kl, const char *v, size_t vl, void *opaque)
{
    collect *c = opaque;
    if (c->si->session)
        return session_rows(c, k, kl, v, vl);
    return stored_row(c, k, kl, v, vl);
}

static int
stored_row(collect *c, const char *k, size_t kl, const char *v, size_t vl)
{
    const store_info *si = c->si;
    if (kl >= 8 && memcmp(k, "\xff\xff\xff\xff\xff\xff\xff\xff", 8) == 0)
        return WEIR_STORE_ROW_SKIP; /* the stream time */
    weir_value key, value;
    char err[128];
    size_t skip = 0;
    int64_t start = 0, end = 0;
    if (si->windowed) {
        if (kl < 8)
            return WEIR_ECORRUPT;
        start = weir_codec_get_time(k);
        end = start + (int64_t)si->window_ms;
        skip = 8;
        if (start > c->to_ms)
            return WEIR_STORE_ROW_STOP; /* past the range */
        if (c->key && (c->prefix ? kl - 8 < c->klen : kl - 8 != c->klen))
            return WEIR_STORE_ROW_SKIP; /* another key */
        if (c->key && memcmp(k + 8, c->key, c->klen) != 0)
            return WEIR_STORE_ROW_SKIP;
    }
    if (si->table) {
        if (weir_value_decode(si->key_format, si->key_type, k, kl, &c->arena,
                &key, err, sizeof(err)) != WEIR_OK ||
            weir_value_decode(si->value_format, si->value_type, v, vl,
                &c->arena, &value, err, sizeof(err)) != WEIR_OK)
            return WEIR_ECORRUPT;
    } else if (weir_codec_decode(k + skip, kl - skip, &c->arena, &key) !=
                   WEIR_OK ||
               agg_value(c, v, vl, &value) != WEIR_OK) {
        return WEIR_ECORRUPT;
    }
    return push_row(c, &key, &value, si->windowed, start, end);
}

int
weir_runtime_store_query(weir_runtime *rt, const Weir__Cluster__StoreQuery *q,
    Weir__Cluster__StoreQueryReply *r)
{
    weir__cluster__store_query_reply__init(r);
    store_info si;
    memset(&si, 0, sizeof(si));
    pthread_mutex_lock(&rt->lock);
    int rv = lookup(rt, q, &si, r);
    pthread_mutex_unlock(&rt->lock);
    if (rv != WEIR_OK || r->status)
        return rv;
    char task[300];
    snprintf(task, sizeof(task), "%s/%u_%u", q->job, si.sub, q->partition);
    collect c = {.si = &si,
        .r = r,
        .from_ms = q->has_range ? q->from_ms : INT64_MIN,
        .to_ms = q->has_range ? q->to_ms : INT64_MAX};
    weir_arena_init(&c.arena, 0);
    weir_buf_init(&c.buf);
    weir_buf key, from, to;
    weir_buf_init(&key);
    weir_buf_init(&from);
    weir_buf_init(&to);
    const char *text = q->scan ? q->prefix : q->key;
    bool all = q->scan && !q->prefix[0]; /* every key: no encoding */
    rv = all ? WEIR_OK : store_key(&si, text, &c.arena, &key);
    if (rv == WEIR_OK && q->scan && si.table && key.len > 0 &&
        si.key_format == WEIR__TOPOLOGY__FORMAT__FORMAT_JSON &&
        key.data[key.len - 1] == '"')
        key.len--; /* a JSON string's prefix: without its closing quote */
    size_t limit =
        q->scan ? (q->limit && q->limit < MAX_ROWS ? q->limit : MAX_ROWS) : 1;
    bool bounded = true;
    if (rv == WEIR_OK && si.windowed) {
        /* Window start first: the range, then this key's rows. */
        char b[8];
        weir_codec_put_time(b, c.from_ms);
        rv = weir_buf_append(&from, b, 8);
        bounded = false;
        limit = MAX_ROWS;
        if (!all) {
            c.key = key.data;
            c.klen = key.len;
            c.prefix = q->scan;
        }
    } else if (rv == WEIR_OK && all) {
        bounded = false;
    } else if (rv == WEIR_OK) {
        /* One key: [key, key + 0x00); a prefix: [prefix, prefix + 0xff)
         * (a string key encodes as its tag and bytes: a prefix of the
         * text is a prefix of the encoding). */
        rv = weir_buf_append(&from, key.data, key.len);
        if (rv == WEIR_OK)
            rv = weir_buf_append(&to, key.data, key.len);
        if (rv == WEIR_OK)
            rv = weir_buf_append(&to, q->scan ? "\xff" : "", 1);
    }
    int64_t ckpt = -1;
    if (rv == WEIR_EINVAL) {
        rv = fail(r, 400, "the key is not of the store's key type");
    } else if (rv == WEIR_OK) {
        rv = weir_store_env_read(rt->env, task, q->store, from.data, from.len,
            bounded ? to.data : NULL, to.len, limit, add_row, &c, &ckpt);
        if (rv == WEIR_ENOTFOUND)
            rv = fail(r, 404, "the store is not on this worker");
        else if (rv == WEIR_ECORRUPT)
            rv = fail(r, 500, "corrupt state");
        else if (rv == WEIR_OK && !q->scan && r->n_rows == 0)
            rv = fail(r, 404, "no such key");
        else if (rv == WEIR_OK)
            r->status = 200;
    }
    r->offset = ckpt;
    r->stale = si.standby;
    weir_buf_fini(&key);
    weir_buf_fini(&from);
    weir_buf_fini(&to);
    weir_buf_fini(&c.buf);
    weir_arena_fini(&c.arena);
    return rv;
}

void
weir_runtime_store_query_fini(Weir__Cluster__StoreQueryReply *r)
{
    for (size_t i = 0; i < r->n_rows; i++)
        weir__cluster__store_row__free_unpacked(r->rows[i], NULL);
    free(r->rows);
    r->rows = NULL;
    r->n_rows = 0;
}
