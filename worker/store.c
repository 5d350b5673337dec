/* Local state on RocksDB: see store.h. The only file using rocksdb/c.h. */
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rocksdb/c.h>

#include "common/array.h"
#include "common/err.h"
#include "common/log.h"
#include "overlay.h"

#define CKPT_PREFIX "ckpt/"
/* Clean (cached) entries kept across commits, per task. */
#define CACHE_MAX_ENTRIES 100000

typedef struct cf_entry {
    char *name;
    rocksdb_column_family_handle_t *h;
} cf_entry;

struct weir_store_env {
    rocksdb_t *db;
    rocksdb_options_t *opts;    /* DB and default column family */
    rocksdb_options_t *cf_opts; /* every store's column family */
    rocksdb_block_based_table_options_t *bbto;
    rocksdb_cache_t *cache;
    rocksdb_readoptions_t *ropts;
    rocksdb_writeoptions_t *wopts;
    pthread_mutex_t lock; /* guards cfs */
    cf_entry *cfs;        /* cfs[0] is "default" */
    size_t n_cfs, cap_cfs;
};

struct weir_store {
    weir_store_env *env;
    char *task;
    size_t n;
    char **names;
    rocksdb_column_family_handle_t **cfs;
    int64_t *ckpt;
    weir_overlay ov;
};

/* Merges a RocksDB iterator with the overlay's dirty entries (sorted). */
struct weir_store_iter {
    rocksdb_iterator_t *it;
    weir_ov_entry **dirty;
    size_t n_dirty, pos;
    bool from_db; /* the current entry comes from RocksDB */
    bool valid;
};

static int
store_err(const char *what, char *err)
{
    weir_log_error("store", "%s failed err=\"%s\"", what, err ? err : "?");
    rocksdb_free(err);
    return WEIR_ESTORE;
}

static int
cf_add(weir_store_env *env, const char *name, rocksdb_column_family_handle_t *h)
{
    if (weir_array_reserve(&env->cfs, &env->cap_cfs, env->n_cfs + 1,
            sizeof(*env->cfs)) != WEIR_OK)
        return WEIR_ENOMEM;
    char *dup = strdup(name);
    if (!dup)
        return WEIR_ENOMEM;
    env->cfs[env->n_cfs].name = dup;
    env->cfs[env->n_cfs].h = h;
    env->n_cfs++;
    return WEIR_OK;
}

static void
env_options(weir_store_env *env, int64_t limit)
{
    if (limit <= 0)
        limit = 256LL << 20;
    /* Half for the block cache, a quarter for all write buffers together
     * (RocksDB's WriteBufferManager behind db_write_buffer_size), the rest
     * for indexes, iterators and the WAL. */
    env->cache = rocksdb_cache_create_lru((size_t)(limit / 2));
    env->bbto = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_block_cache(env->bbto, env->cache);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(env->bbto, 1);
    size_t wbuf = (size_t)(limit / 16);
    if (wbuf > (8u << 20))
        wbuf = 8u << 20;
    if (wbuf < (256u << 10))
        wbuf = 256u << 10;
    rocksdb_options_t *o[2];
    o[0] = env->opts = rocksdb_options_create();
    o[1] = env->cf_opts = rocksdb_options_create();
    for (int i = 0; i < 2; i++) {
        rocksdb_options_set_block_based_table_factory(o[i], env->bbto);
        rocksdb_options_set_write_buffer_size(o[i], wbuf);
        rocksdb_options_set_max_write_buffer_number(o[i], 2);
        rocksdb_options_set_compression(o[i], rocksdb_no_compression);
    }
    rocksdb_options_set_create_if_missing(env->opts, 1);
    rocksdb_options_set_create_missing_column_families(env->opts, 1);
    rocksdb_options_set_db_write_buffer_size(env->opts, (size_t)(limit / 4));
    rocksdb_options_set_max_total_wal_size(env->opts, (uint64_t)(limit / 4));
    rocksdb_options_set_max_open_files(env->opts, 256);
    rocksdb_options_set_keep_log_file_num(env->opts, 2);
    rocksdb_options_set_max_background_jobs(env->opts, 2);
    env->ropts = rocksdb_readoptions_create();
    env->wopts = rocksdb_writeoptions_create();
}

int
weir_store_env_open(
    weir_store_env **envp, const char *dir, int64_t memory_limit_bytes)
{
    weir_store_env *env = calloc(1, sizeof(*env));
    if (!env)
        return WEIR_ENOMEM;
    pthread_mutex_init(&env->lock, NULL);
    env_options(env, memory_limit_bytes);
    (void)mkdir(dir, 0755);

    char *err = NULL;
    size_t n = 0;
    char **names = rocksdb_list_column_families(env->opts, dir, &n, &err);
    if (err) { /* a new database */
        rocksdb_free(err);
        err = NULL;
        if (names)
            rocksdb_list_column_families_destroy(names, n);
        names = NULL;
        n = 0;
    }
    size_t cnt = n ? n : 1;
    const char **cf_names = calloc(cnt, sizeof(*cf_names));
    const rocksdb_options_t **cf_o = calloc(cnt, sizeof(*cf_o));
    rocksdb_column_family_handle_t **hs = calloc(cnt, sizeof(*hs));
    int rv = cf_names && cf_o && hs ? WEIR_OK : WEIR_ENOMEM;
    for (size_t i = 0; rv == WEIR_OK && i < cnt; i++) {
        cf_names[i] = n ? names[i] : "default";
        cf_o[i] =
            strcmp(cf_names[i], "default") == 0 ? env->opts : env->cf_opts;
    }
    if (rv == WEIR_OK) {
        env->db = rocksdb_open_column_families(
            env->opts, dir, (int)cnt, cf_names, cf_o, hs, &err);
        if (err) {
            rv = store_err("open", err);
            env->db = NULL;
        }
    }
    /* Keep "default" first. */
    for (size_t i = 0; rv == WEIR_OK && i < cnt; i++)
        if (strcmp(cf_names[i], "default") == 0)
            rv = cf_add(env, "default", hs[i]);
    for (size_t i = 0; rv == WEIR_OK && i < cnt; i++)
        if (strcmp(cf_names[i], "default") != 0)
            rv = cf_add(env, cf_names[i], hs[i]);
    if (names)
        rocksdb_list_column_families_destroy(names, n);
    free(cf_names);
    free(cf_o);
    free(hs);
    if (rv != WEIR_OK) {
        weir_store_env_close(env);
        return rv;
    }
    weir_log_info("store", "opened dir=%s column_families=%zu limit_mb=%lld",
        dir, env->n_cfs,
        (long long)((memory_limit_bytes > 0 ? memory_limit_bytes
                                            : 256LL << 20) >>
                    20));
    *envp = env;
    return WEIR_OK;
}

void
weir_store_env_close(weir_store_env *env)
{
    if (!env)
        return;
    for (size_t i = 0; i < env->n_cfs; i++) {
        if (env->cfs[i].h)
            rocksdb_column_family_handle_destroy(env->cfs[i].h);
        free(env->cfs[i].name);
    }
    free(env->cfs);
    if (env->db)
        rocksdb_close(env->db);
    rocksdb_readoptions_destroy(env->ropts);
    rocksdb_writeoptions_destroy(env->wopts);
    rocksdb_options_destroy(env->opts);
    rocksdb_options_destroy(env->cf_opts);
    rocksdb_block_based_options_destroy(env->bbto);
    rocksdb_cache_destroy(env->cache);
    pthread_mutex_destroy(&env->lock);
    free(env);
}

static void
put_be64(char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--) {
        p[i] = (char)(u & 0xff);
        u >>= 8;
    }
}

static int64_t
get_be64(const char *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = (u << 8) | (uint8_t)p[i];
    return (int64_t)u;
}

int
weir_store_env_checkpoints(
    weir_store_env *env, weir_store_ckpt **out, size_t *n)
{
    size_t cap = 0, cnt = 0;
    weir_store_ckpt *arr = NULL;
    rocksdb_iterator_t *it = rocksdb_create_iterator(env->db, env->ropts);
    rocksdb_iter_seek(it, CKPT_PREFIX, strlen(CKPT_PREFIX));
    int rv = WEIR_OK;
    for (; rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl);
        const char *v = rocksdb_iter_value(it, &vl);
        size_t pl = strlen(CKPT_PREFIX);
        if (kl < pl || memcmp(k, CKPT_PREFIX, pl) != 0)
            break;
        if (vl != 8)
            continue;
        /* key: ckpt/<job>/<task>/<store>; the store is after the last '/' */
        const char *name = k + pl;
        size_t nl = kl - pl;
        const char *slash = NULL;
        for (size_t i = 0; i < nl; i++)
            if (name[i] == '/')
                slash = name + i;
        if (!slash)
            continue;
        if ((rv = weir_array_reserve(&arr, &cap, cnt + 1, sizeof(*arr))) !=
            WEIR_OK)
            break;
        weir_store_ckpt *c = &arr[cnt++];
        snprintf(c->task, sizeof(c->task), "%.*s", (int)(slash - name), name);
        snprintf(c->store, sizeof(c->store), "%.*s",
            (int)(nl - (size_t)(slash - name) - 1), slash + 1);
        c->offset = get_be64(v);
    }
    rocksdb_iter_destroy(it);
    if (rv != WEIR_OK) {
        free(arr);
        return rv;
    }
    *out = arr;
    *n = cnt;
    return WEIR_OK;
}

static char *
cf_name(const char *task, const char *store)
{
    size_t len = strlen(task) + strlen(store) + 2;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "%s/%s", task, store);
    return s;
}

/* Finds or creates a column family. Called with env->lock held. */
static int
cf_get(
    weir_store_env *env, const char *name, rocksdb_column_family_handle_t **h)
{
    for (size_t i = 0; i < env->n_cfs; i++) {
        if (strcmp(env->cfs[i].name, name) == 0) {
            *h = env->cfs[i].h;
            return WEIR_OK;
        }
    }
    char *err = NULL;
    rocksdb_column_family_handle_t *nh =
        rocksdb_create_column_family(env->db, env->cf_opts, name, &err);
    if (err)
        return store_err("create column family", err);
    int rv = cf_add(env, name, nh);
    if (rv != WEIR_OK) {
        rocksdb_column_family_handle_destroy(nh);
        return rv;
    }
    *h = nh;
    return WEIR_OK;
}

static char *
ckpt_key(const char *cf)
{
    size_t len = strlen(CKPT_PREFIX) + strlen(cf) + 1;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "%s%s", CKPT_PREFIX, cf);
    return s;
}

static int
ckpt_read(weir_store *s, size_t idx)
{
    char *key = ckpt_key(s->names[idx]);
    if (!key)
        return WEIR_ENOMEM;
    char *err = NULL;
    size_t vl = 0;
    char *v =
        rocksdb_get(s->env->db, s->env->ropts, key, strlen(key), &vl, &err);
    free(key);
    if (err)
        return store_err("read checkpoint", err);
    s->ckpt[idx] = v && vl == 8 ? get_be64(v) : -1;
    rocksdb_free(v);
    return WEIR_OK;
}

int
weir_store_open(weir_store **sp, weir_store_env *env, const char *task,
    const char *const *names, size_t n)
{
    weir_store *s = calloc(1, sizeof(*s));
    if (!s)
        return WEIR_ENOMEM;
    s->env = env;
    s->n = n;
    s->task = strdup(task);
    s->names = calloc(n ? n : 1, sizeof(*s->names));
    s->cfs = calloc(n ? n : 1, sizeof(*s->cfs));
    s->ckpt = calloc(n ? n : 1, sizeof(*s->ckpt));
    weir_overlay_init(&s->ov);
    int rv = s->task && s->names && s->cfs && s->ckpt ? WEIR_OK : WEIR_ENOMEM;
    for (size_t i = 0; rv == WEIR_OK && i < n; i++) {
        /* "<task>/<store>": the full column family name */
        s->names[i] = cf_name(task, names[i]);
        if (!s->names[i]) {
            rv = WEIR_ENOMEM;
            break;
        }
        pthread_mutex_lock(&env->lock);
        rv = cf_get(env, s->names[i], &s->cfs[i]);
        pthread_mutex_unlock(&env->lock);
        if (rv == WEIR_OK)
            rv = ckpt_read(s, i);
    }
    if (rv != WEIR_OK) {
        weir_store_close(s);
        return rv;
    }
    *sp = s;
    return WEIR_OK;
}

void
weir_store_close(weir_store *s)
{
    if (!s)
        return;
    weir_overlay_fini(&s->ov);
    for (size_t i = 0; s->names && i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    free(s->cfs);
    free(s->ckpt);
    free(s->task);
    free(s);
}

int64_t
weir_store_checkpoint(const weir_store *s, size_t idx)
{
    return idx < s->n ? s->ckpt[idx] : -1;
}

int
weir_store_wipe(weir_store *s, size_t idx)
{
    weir_store_env *env = s->env;
    char *err = NULL;
    int rv = WEIR_OK;
    pthread_mutex_lock(&env->lock);
    rocksdb_drop_column_family(env->db, s->cfs[idx], &err);
    if (err) {
        rv = store_err("drop column family", err);
    } else {
        rocksdb_column_family_handle_t *nh = rocksdb_create_column_family(
            env->db, env->cf_opts, s->names[idx], &err);
        if (err) {
            rv = store_err("create column family", err);
            nh = NULL;
        }
        for (size_t i = 0; i < env->n_cfs; i++) {
            if (env->cfs[i].h == s->cfs[idx]) {
                rocksdb_column_family_handle_destroy(env->cfs[i].h);
                env->cfs[i].h = nh;
            }
        }
        s->cfs[idx] = nh;
    }
    pthread_mutex_unlock(&env->lock);
    if (rv != WEIR_OK)
        return rv;
    weir_overlay_drop_clean(&s->ov, (int)idx);
    char *key = ckpt_key(s->names[idx]);
    if (!key)
        return WEIR_ENOMEM;
    rocksdb_delete(env->db, env->wopts, key, strlen(key), &err);
    free(key);
    if (err)
        return store_err("delete checkpoint", err);
    s->ckpt[idx] = -1;
    return WEIR_OK;
}

int
weir_store_get(weir_store *s, size_t idx, const void *key, size_t klen,
    const char **val, size_t *vlen, bool *found)
{
    weir_ov_entry *e = weir_overlay_find(&s->ov, (uint32_t)idx, key, klen);
    if (!e) {
        char *err = NULL;
        size_t vl = 0;
        char *v = rocksdb_get_cf(
            s->env->db, s->env->ropts, s->cfs[idx], key, klen, &vl, &err);
        if (err)
            return store_err("get", err);
        e = weir_overlay_set(
            &s->ov, (uint32_t)idx, key, klen, v, v ? vl : 0, false);
        rocksdb_free(v);
        if (!e)
            return WEIR_ENOMEM;
    }
    *found = !e->deleted;
    *val = e->deleted ? NULL : e->val;
    *vlen = e->vlen;
    return WEIR_OK;
}

int
weir_store_put(weir_store *s, size_t idx, const void *key, size_t klen,
    const void *val, size_t vlen)
{
    if (!weir_overlay_set(&s->ov, (uint32_t)idx, key, klen, val, vlen, true))
        return WEIR_ENOMEM;
    return WEIR_OK;
}

size_t
weir_store_pending(const weir_store *s)
{
    return s->ov.n_dirty;
}

typedef struct each_ctx {
    weir_store *s;
    int (*fn)(size_t idx, const void *key, size_t klen, const void *val,
        size_t vlen, void *opaque);
    void *opaque;
} each_ctx;

static int
each_cb(weir_ov_entry *e, void *opaque)
{
    each_ctx *c = opaque;
    return c->fn(
        e->cf, e->key, e->klen, e->deleted ? NULL : e->val, e->vlen, c->opaque);
}

int
weir_store_each_pending(weir_store *s,
    int (*fn)(size_t idx, const void *key, size_t klen, const void *val,
        size_t vlen, void *opaque),
    void *opaque)
{
    each_ctx c = {s, fn, opaque};
    return weir_overlay_each_dirty(&s->ov, each_cb, &c);
}

static int
batch_cb(weir_ov_entry *e, void *opaque)
{
    weir_store *s = ((void **)opaque)[0];
    rocksdb_writebatch_t *wb = ((void **)opaque)[1];
    if (e->deleted)
        rocksdb_writebatch_delete_cf(wb, s->cfs[e->cf], e->key, e->klen);
    else
        rocksdb_writebatch_put_cf(
            wb, s->cfs[e->cf], e->key, e->klen, e->val, e->vlen);
    return 0;
}

int
weir_store_commit(weir_store *s, const int64_t *offsets)
{
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    void *ctx[2] = {s, wb};
    (void)weir_overlay_each_dirty(&s->ov, batch_cb, ctx);
    for (size_t i = 0; offsets && i < s->n; i++) {
        if (offsets[i] < 0)
            continue;
        char *key = ckpt_key(s->names[i]);
        if (!key) {
            rocksdb_writebatch_destroy(wb);
            return WEIR_ENOMEM;
        }
        char v[8];
        put_be64(v, offsets[i]);
        rocksdb_writebatch_put(wb, key, strlen(key), v, 8);
        free(key);
    }
    char *err = NULL;
    rocksdb_write(s->env->db, s->env->wopts, wb, &err);
    rocksdb_writebatch_destroy(wb);
    if (err)
        return store_err("write checkpoint", err);
    for (size_t i = 0; offsets && i < s->n; i++)
        if (offsets[i] >= 0)
            s->ckpt[i] = offsets[i];
    weir_overlay_mark_clean(&s->ov);
    if (s->ov.n > CACHE_MAX_ENTRIES)
        weir_overlay_drop_clean(&s->ov, -1);
    return WEIR_OK;
}

void
weir_store_abort(weir_store *s)
{
    weir_overlay_drop_dirty(&s->ov);
}

static int
key_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

static int
entry_cmp(const void *a, const void *b)
{
    const weir_ov_entry *x = *(weir_ov_entry *const *)a;
    const weir_ov_entry *y = *(weir_ov_entry *const *)b;
    return key_cmp(x->key, x->klen, y->key, y->klen);
}

typedef struct collect_ctx {
    uint32_t cf;
    const char *from;
    size_t from_len;
    weir_ov_entry **arr;
    size_t n, cap;
} collect_ctx;

static int
collect_cb(weir_ov_entry *e, void *opaque)
{
    collect_ctx *c = opaque;
    if (e->cf != c->cf ||
        (c->from && key_cmp(e->key, e->klen, c->from, c->from_len) < 0))
        return 0;
    if (weir_array_reserve(&c->arr, &c->cap, c->n + 1, sizeof(*c->arr)) !=
        WEIR_OK)
        return -1;
    c->arr[c->n++] = e;
    return 0;
}

/* Positions on the next visible entry: the smaller of the RocksDB key and
 * the next dirty key; the overlay wins a tie; deletions are skipped. */
static void
iter_settle(weir_store_iter *it)
{
    for (;;) {
        bool db = rocksdb_iter_valid(it->it) != 0;
        bool ov = it->pos < it->n_dirty;
        if (!db && !ov) {
            it->valid = false;
            return;
        }
        int c = 0;
        if (db && ov) {
            size_t kl;
            const char *k = rocksdb_iter_key(it->it, &kl);
            weir_ov_entry *e = it->dirty[it->pos];
            c = key_cmp(k, kl, e->key, e->klen);
            if (c == 0) /* shadowed by the overlay */
                rocksdb_iter_next(it->it);
        }
        if (db && (!ov || c < 0)) {
            it->from_db = true;
            it->valid = true;
            return;
        }
        if (!it->dirty[it->pos]->deleted) {
            it->from_db = false;
            it->valid = true;
            return;
        }
        it->pos++;
    }
}

int
weir_store_iter_new(weir_store_iter **itp, weir_store *s, size_t idx,
    const void *from, size_t from_len)
{
    weir_store_iter *it = calloc(1, sizeof(*it));
    if (!it)
        return WEIR_ENOMEM;
    collect_ctx c = {(uint32_t)idx, from, from_len, NULL, 0, 0};
    if (weir_overlay_each_dirty(&s->ov, collect_cb, &c) != 0) {
        free(c.arr);
        free(it);
        return WEIR_ENOMEM;
    }
    if (c.n > 1)
        qsort(c.arr, c.n, sizeof(*c.arr), entry_cmp);
    it->dirty = c.arr;
    it->n_dirty = c.n;
    it->it = rocksdb_create_iterator_cf(s->env->db, s->env->ropts, s->cfs[idx]);
    if (from)
        rocksdb_iter_seek(it->it, from, from_len);
    else
        rocksdb_iter_seek_to_first(it->it);
    iter_settle(it);
    *itp = it;
    return WEIR_OK;
}

bool
weir_store_iter_valid(weir_store_iter *it)
{
    return it->valid;
}

void
weir_store_iter_next(weir_store_iter *it)
{
    if (!it->valid)
        return;
    if (it->from_db)
        rocksdb_iter_next(it->it);
    else
        it->pos++;
    iter_settle(it);
}

const char *
weir_store_iter_key(weir_store_iter *it, size_t *len)
{
    if (it->from_db)
        return rocksdb_iter_key(it->it, len);
    *len = it->dirty[it->pos]->klen;
    return it->dirty[it->pos]->key;
}

const char *
weir_store_iter_value(weir_store_iter *it, size_t *len)
{
    if (it->from_db)
        return rocksdb_iter_value(it->it, len);
    *len = it->dirty[it->pos]->vlen;
    return it->dirty[it->pos]->val;
}

void
weir_store_iter_free(weir_store_iter *it)
{
    if (!it)
        return;
    rocksdb_iter_destroy(it->it);
    free(it->dirty);
    free(it);
}

int
weir_store_env_read(weir_store_env *env, const char *task, const char *store,
    const void *from, size_t flen, const void *to, size_t tlen, size_t limit,
    weir_store_row_fn fn, void *opaque, int64_t *ckpt)
{
    char *name = cf_name(task, store);
    char *ck = name ? ckpt_key(name) : NULL;
    if (!name || !ck) {
        free(name);
        free(ck);
        return WEIR_ENOMEM;
    }
    int rv = WEIR_ENOTFOUND;
    /* Under the lock: a wipe (or a new store) must not replace the column
     * family while it is read. Reads see RocksDB only: what the last
     * checkpoint applied, never a task's uncommitted writes. */
    pthread_mutex_lock(&env->lock);
    rocksdb_column_family_handle_t *h = NULL;
    for (size_t i = 0; i < env->n_cfs && !h; i++)
        if (strcmp(env->cfs[i].name, name) == 0)
            h = env->cfs[i].h;
    if (h) {
        /* One snapshot for the checkpoint and the rows: the offset
         * reported is that of the rows returned. */
        const rocksdb_snapshot_t *snap = rocksdb_create_snapshot(env->db);
        rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
        rocksdb_readoptions_set_snapshot(ro, snap);
        char *err = NULL;
        size_t vl = 0;
        char *v = rocksdb_get(env->db, ro, ck, strlen(ck), &vl, &err);
        *ckpt = v && vl == 8 ? get_be64(v) : -1;
        rocksdb_free(v);
        rocksdb_free(err);
        rocksdb_iterator_t *it = rocksdb_create_iterator_cf(env->db, ro, h);
        if (flen)
            rocksdb_iter_seek(it, from, flen);
        else
            rocksdb_iter_seek_to_first(it);
        rv = WEIR_OK;
        for (size_t n = 0; rv == WEIR_OK && n < limit && rocksdb_iter_valid(it);
             rocksdb_iter_next(it)) {
            size_t kl, vl2;
            const char *k = rocksdb_iter_key(it, &kl);
            if (to) {
                size_t m = kl < tlen ? kl : tlen;
                int c = memcmp(k, to, m);
                if (c > 0 || (c == 0 && kl >= tlen))
                    break;
            }
            const char *val = rocksdb_iter_value(it, &vl2);
            int took = fn(k, kl, val, vl2, opaque);
            if (took == WEIR_STORE_ROW_STOP)
                break;
            if (took == WEIR_OK)
                n++;
            else if (took != WEIR_STORE_ROW_SKIP)
                rv = took;
        }
        rocksdb_iter_destroy(it);
        rocksdb_readoptions_destroy(ro);
        rocksdb_release_snapshot(env->db, snap);
    }
    pthread_mutex_unlock(&env->lock);
    free(name);
    free(ck);
    return rv;
}
