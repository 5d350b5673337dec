/*
 * Pull queries on a worker: a StoreQuery names a job, a store, a partition
 * and a key (or a scan); the answer is read from the task's store as of
 * its last checkpoint, which a task writes only after its transaction
 * committed, so an answer is never ahead of the committed output. A
 * standby's answer is marked stale. Aggregation stores (plain and
 * tumbling/hopping windows) and table stores can be queried.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/err.h"
#include "runtime_impl.h"

#define SIGN (UINT64_C(1) << 63)
#define MAX_ROWS 1000

typedef Weir__Topology__Operator op_pb;

/* What a query needs to know of its store, copied under rt->lock. */
typedef struct store_info {
    uint32_t sub;
    bool table, windowed, avg, standby;
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
    const op_pb *found = NULL;
    const Weir__Topology__Topology *topo = NULL;
    for (size_t i = 0; i < rt->n_topos && !topo; i++)
        if (strcmp(rt->topos[i]->job, q->job) == 0)
            topo = rt->topos[i];
    for (size_t s = 0; topo && !found && s < topo->n_subtopologies; s++) {
        const Weir__Topology__Subtopology *st = topo->subtopologies[s];
        for (size_t k = 0; !found && k < st->n_operators; k++) {
            const op_pb *op = st->operators[k];
            bool table = op->table && strcmp(op->table_store, q->store) == 0;
            if (!table && strcmp(op->store, q->store) != 0)
                continue;
            if (op->kind == WEIR__TOPOLOGY__OP_KIND__OP_STREAM_STREAM_JOIN ||
                (op->window && op->window->kind ==
                                   WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_SESSION))
                return fail(r, 400,
                    "this store cannot be queried yet (session windows and "
                    "stream-stream joins)");
            found = op;
            si->sub = st->id;
            si->table = table;
            si->windowed =
                op->window &&
                op->window->kind != WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_NONE;
            si->window_ms = op->window ? op->window->size_ms : 0;
            si->avg = op->kind == WEIR__TOPOLOGY__OP_KIND__OP_AGGREGATE &&
                      op->agg == WEIR__TOPOLOGY__AGG_FUNC__AGG_AVG;
            si->key_type = (weir_type)op->key_type;
            si->key_format = (weir_format)op->key_format;
            si->value_format = (weir_format)op->value_format;
            si->value_type = (weir_type)op->value_type;
        }
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
    const char *key; /* windowed, one key: its encoding (filter) */
    size_t klen;
    weir_arena arena;
    weir_buf buf;
    int64_t to_ms;
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

static int
add_row(const char *k, size_t kl, const char *v, size_t vl, void *opaque)
{
    collect *c = opaque;
    const store_info *si = c->si;
    if (kl >= 8 && memcmp(k, "\xff\xff\xff\xff\xff\xff\xff\xff", 8) == 0)
        return 0; /* the stream time */
    Weir__Cluster__StoreRow *row = malloc(sizeof(*row));
    if (!row)
        return WEIR_ENOMEM;
    weir__cluster__store_row__init(row);
    weir_value key, value;
    char err[128];
    size_t skip = 0;
    if (si->windowed) {
        if (kl < 8)
            goto corrupt;
        row->windowed = true;
        row->window_start_ms = (int64_t)(weir_codec_get_be64(k) ^ SIGN);
        row->window_end_ms = row->window_start_ms + (int64_t)si->window_ms;
        skip = 8;
        if (row->window_start_ms > c->to_ms) {
            free(row);
            return 1; /* past the range: stop */
        }
        if (c->key && (kl - 8 != c->klen || memcmp(k + 8, c->key, c->klen))) {
            free(row);
            return 0;
        }
    }
    if (si->table) {
        if (weir_value_decode(si->key_format, si->key_type, k, kl, &c->arena,
                &key, err, sizeof(err)) != WEIR_OK ||
            weir_value_decode(si->value_format, si->value_type, v, vl,
                &c->arena, &value, err, sizeof(err)) != WEIR_OK)
            goto corrupt;
    } else {
        if (weir_codec_decode(k + skip, kl - skip, &c->arena, &key) !=
                WEIR_OK ||
            vl < 9 ||
            weir_codec_decode(v + 8, vl - 8, &c->arena, &value) != WEIR_OK)
            goto corrupt;
        int64_t count = (int64_t)weir_codec_get_be64(v);
        if (si->avg && count > 0)
            value = weir_value_float(
                (value.type == WEIR_TYPE_FLOAT ? value.u.f
                                               : (double)value.u.i) /
                (double)count);
    }
    row->key_json = to_json(c, &key);
    row->value_json = to_json(c, &value);
    Weir__Cluster__StoreQueryReply *r = c->r;
    Weir__Cluster__StoreRow **rows =
        realloc(r->rows, (r->n_rows + 1) * sizeof(*rows));
    if (!row->key_json || !row->value_json || !rows) {
        weir__cluster__store_row__free_unpacked(row, NULL);
        return WEIR_ENOMEM;
    }
    r->rows = rows;
    r->rows[r->n_rows++] = row;
    return 0;
corrupt:
    free(row);
    return WEIR_ECORRUPT;
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
    collect c = {.si = &si, .r = r, .to_ms = INT64_MAX};
    weir_arena_init(&c.arena, 0);
    weir_buf_init(&c.buf);
    weir_buf key, from, to;
    weir_buf_init(&key);
    weir_buf_init(&from);
    weir_buf_init(&to);
    const char *text = q->scan ? q->prefix : q->key;
    rv = store_key(&si, text, &c.arena, &key);
    size_t limit =
        q->scan ? (q->limit && q->limit < MAX_ROWS ? q->limit : MAX_ROWS) : 1;
    bool bounded = true;
    if (rv == WEIR_OK && si.windowed) {
        /* Window start first: the range, then this key's rows. */
        char b[8];
        int64_t lo = q->has_range ? q->from_ms : INT64_MIN;
        c.to_ms = q->has_range ? q->to_ms : INT64_MAX;
        weir_codec_put_be64(b, (uint64_t)lo ^ SIGN);
        rv = weir_buf_append(&from, b, 8);
        bounded = false;
        limit = MAX_ROWS;
        if (!q->scan) {
            c.key = key.data;
            c.klen = key.len;
        }
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
        if (rv == 1)
            rv = WEIR_OK;
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
