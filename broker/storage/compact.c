/*
 * Log compaction (cleanup.policy=compact), Kafka's rules: in the closed
 * segments, below the stable offset, keep only the latest record of each
 * key; drop records of aborted transactions; keep control batches, records
 * without a key and transactions whose outcome is not in the log yet; drop
 * a latest-of-its-key tombstone once older than delete_retention_ms.
 * Offsets never change: a batch is rewritten with the records it keeps
 * (same base offset and deltas) and disappears when it keeps none. Each
 * changed segment is written to <base>.log.cleaned, synced and renamed over
 * the original, so a crash leaves either the old or the new segment.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/storage/plog_int.h"
#include "broker/storage/store_be.h"
#include "broker/storage/store_io.h"
#include "common/array.h"
#include "common/crash.h"
#include "common/err.h"
#include "common/log.h"

/* ------------------------------------------------------------ helpers */

typedef struct i64vec {
    int64_t *v;
    size_t len, cap;
} i64vec;

static int
vec_push(i64vec *a, int64_t x)
{
    if (weir_array_reserve(&a->v, &a->cap, a->len + 1, sizeof(*a->v)) !=
        WEIR_OK)
        return WEIR_ENOMEM;
    a->v[a->len++] = x;
    return WEIR_OK;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static bool
vec_has(const i64vec *a, int64_t x)
{
    return a->len > 0 &&
           bsearch(&x, a->v, a->len, sizeof(*a->v), cmp_i64) != NULL;
}

static uint64_t
hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

/* Producer id -> base offsets of its transactional batches since its last
 * marker. */
typedef struct pid_slot {
    int64_t pid; /* -2 = empty */
    i64vec batches;
} pid_slot;

/* Latest offset of each key. */
typedef struct key_slot {
    uint64_t hash;
    int64_t offset; /* -1 = empty */
    uint32_t koff, klen;
    bool tomb;
} key_slot;

typedef struct cleaner {
    weir_plog *log;
    int64_t limit;       /* batches ending before it may be cleaned */
    int64_t tomb_before; /* tombstones in batches older than this go */
    pid_slot *pids;
    size_t npids, pid_cap;
    i64vec aborted, undecided; /* batch base offsets, sorted */
    key_slot *keys;
    size_t nkeys, key_cap;
    uint8_t *arena;
    size_t arena_len, arena_cap;
    bool *keep;
    size_t keep_cap;
    struct writer *w; /* the segment rewrite in progress */
} cleaner;

static pid_slot *
pid_get(cleaner *c, int64_t pid)
{
    size_t i;
    if (2 * (c->npids + 1) > c->pid_cap) {
        size_t cap = c->pid_cap ? c->pid_cap * 2 : 64;
        pid_slot *n = malloc(cap * sizeof(*n));
        if (n == NULL)
            return NULL;
        for (i = 0; i < cap; i++)
            n[i].pid = -2;
        for (size_t j = 0; j < c->pid_cap; j++) {
            if (c->pids[j].pid == -2)
                continue;
            i = hash_bytes((const uint8_t *)&c->pids[j].pid, 8) & (cap - 1);
            while (n[i].pid != -2)
                i = (i + 1) & (cap - 1);
            n[i] = c->pids[j];
        }
        free(c->pids);
        c->pids = n;
        c->pid_cap = cap;
    }
    i = hash_bytes((const uint8_t *)&pid, 8) & (c->pid_cap - 1);
    while (c->pids[i].pid != -2 && c->pids[i].pid != pid)
        i = (i + 1) & (c->pid_cap - 1);
    if (c->pids[i].pid == -2) {
        memset(&c->pids[i], 0, sizeof(c->pids[i]));
        c->pids[i].pid = pid;
        c->npids++;
    }
    return &c->pids[i];
}

static key_slot *
key_find(cleaner *c, const uint8_t *k, uint32_t klen, uint64_t h)
{
    size_t i = h & (c->key_cap - 1);
    while (c->keys[i].offset >= 0) {
        key_slot *s = &c->keys[i];
        if (s->hash == h && s->klen == klen &&
            (klen == 0 || memcmp(c->arena + s->koff, k, klen) == 0))
            return s;
        i = (i + 1) & (c->key_cap - 1);
    }
    return &c->keys[i];
}

static int
key_put(cleaner *c, const uint8_t *k, uint32_t klen, int64_t offset, bool tomb)
{
    uint64_t h = hash_bytes(k, klen);
    key_slot *s;

    if (2 * (c->nkeys + 1) > c->key_cap) {
        size_t cap = c->key_cap ? c->key_cap * 2 : 1024;
        key_slot *old = c->keys;
        size_t old_cap = c->key_cap;
        if ((c->keys = malloc(cap * sizeof(*c->keys))) == NULL) {
            c->keys = old;
            return WEIR_ENOMEM;
        }
        c->key_cap = cap;
        for (size_t i = 0; i < cap; i++)
            c->keys[i].offset = -1;
        for (size_t j = 0; j < old_cap; j++) {
            if (old[j].offset < 0)
                continue;
            size_t i = old[j].hash & (cap - 1);
            while (c->keys[i].offset >= 0)
                i = (i + 1) & (cap - 1);
            c->keys[i] = old[j];
        }
        free(old);
    }
    s = key_find(c, k, klen, h);
    if (s->offset < 0) {
        if (c->arena_len + klen > c->arena_cap) {
            size_t cap = c->arena_cap ? c->arena_cap : 4096;
            while (cap < c->arena_len + klen)
                cap *= 2;
            uint8_t *a = realloc(c->arena, cap);
            if (a == NULL)
                return WEIR_ENOMEM;
            c->arena = a;
            c->arena_cap = cap;
        }
        if (c->arena_len + klen > UINT32_MAX)
            return WEIR_ENOMEM;
        if (klen > 0)
            memcpy(c->arena + c->arena_len, k, klen);
        s->hash = h;
        s->koff = (uint32_t)c->arena_len;
        s->klen = klen;
        c->arena_len += klen;
        c->nkeys++;
    }
    s->offset = offset;
    s->tomb = tomb;
    return WEIR_OK;
}

static const key_slot *
key_get(cleaner *c, const uint8_t *k, uint32_t klen)
{
    key_slot *s;
    if (c->key_cap == 0)
        return NULL;
    s = key_find(c, k, klen, hash_bytes(k, klen));
    return s->offset >= 0 ? s : NULL;
}

static void
cleaner_fini(cleaner *c)
{
    for (size_t i = 0; i < c->pid_cap; i++)
        if (c->pids[i].pid != -2)
            free(c->pids[i].batches.v);
    free(c->pids);
    free(c->aborted.v);
    free(c->undecided.v);
    free(c->keys);
    free(c->arena);
    free(c->keep);
}

/* Calls fn for every batch of segment i (all of it). */
typedef int (*batch_fn)(
    cleaner *c, int seg, const uint8_t *b, size_t len, const weir_batch_hdr *h);

static int
each_batch(cleaner *c, int i, batch_fn fn)
{
    weir_plog *log = c->log;
    weir_scan s;
    const uint8_t *b;
    size_t len;
    weir_batch_hdr h;
    uint64_t pos;
    int fd, rv;

    if ((rv = weir__plog_fd(log, i, &fd)) != WEIR_OK)
        return rv;
    weir_scan_init(&s, fd, 0, log->segs[i].size);
    while ((rv = weir_scan_next(&s, false, &b, &len, &h, &pos)) == WEIR_OK)
        if ((rv = fn(c, i, b, len, &h)) != WEIR_OK)
            break;
    weir_scan_fini(&s);
    if (rv == WEIR_ENOTFOUND)
        rv = WEIR_OK;
    else if (rv == WEIR_EPROTO || rv == WEIR_EUNSUPPORTED)
        rv = WEIR_ECORRUPT;
    return rv;
}

static bool
cleanable(const cleaner *c, int seg, const weir_batch_hdr *h)
{
    return seg < c->log->nsegs - 1 && weir_batch_last_offset(h) < c->limit;
}

/* ------------------------------------------------ pass 1: transactions */

static int
txn_scan(
    cleaner *c, int seg, const uint8_t *b, size_t len, const weir_batch_hdr *h)
{
    pid_slot *p;
    if (!weir_batch_is_transactional(h))
        return WEIR_OK;
    if ((p = pid_get(c, h->producer_id)) == NULL)
        return WEIR_ENOMEM;
    if (!weir_batch_is_control(h)) {
        return cleanable(c, seg, h) ? vec_push(&p->batches, h->base_offset)
                                    : WEIR_OK;
    }
    /* A marker: decide the producer's pending batches. */
    weir_record_iter it;
    weir_record rec;
    bool more, abort = false;
    if (weir_record_iter_init(&it, b, len, h) == WEIR_OK &&
        weir_record_iter_next(&it, &rec, &more) == WEIR_OK && more &&
        rec.key_len >= 4)
        abort = weir__be16(rec.key + 2) == WEIR_CONTROL_ABORT;
    if (abort)
        for (size_t i = 0; i < p->batches.len; i++)
            if (vec_push(&c->aborted, p->batches.v[i]) != WEIR_OK)
                return WEIR_ENOMEM;
    p->batches.len = 0;
    return WEIR_OK;
}

/* ------------------------------------------------ pass 2: latest per key */

static bool
skip_batch(cleaner *c, int seg, const weir_batch_hdr *h)
{
    return !cleanable(c, seg, h) || weir_batch_is_control(h) ||
           weir_batch_compression(h) != 0 ||
           (weir_batch_is_transactional(h) &&
               (vec_has(&c->aborted, h->base_offset) ||
                   vec_has(&c->undecided, h->base_offset)));
}

static int
key_scan(
    cleaner *c, int seg, const uint8_t *b, size_t len, const weir_batch_hdr *h)
{
    weir_record_iter it;
    weir_record rec;
    bool more;
    int rv;

    if (skip_batch(c, seg, h))
        return WEIR_OK;
    if (weir_record_iter_init(&it, b, len, h) != WEIR_OK)
        return WEIR_OK;
    while ((rv = weir_record_iter_next(&it, &rec, &more)) == WEIR_OK && more) {
        if (rec.key_len < 0)
            continue;
        if ((rv = key_put(c, rec.key, (uint32_t)rec.key_len,
                 h->base_offset + rec.offset_delta, rec.value_len < 0)) !=
            WEIR_OK)
            return rv;
    }
    return rv == WEIR_EPROTO ? WEIR_ECORRUPT : rv;
}

/* ------------------------------------------------ pass 3: rewrite */

enum { KEEP_ALL, DROP, FILTER };

/* What to do with one batch; FILTER fills c->keep. */
static int
decide(cleaner *c, int seg, const uint8_t *b, size_t len,
    const weir_batch_hdr *h, int *action)
{
    weir_record_iter it;
    weir_record rec;
    bool more, old = h->max_timestamp < c->tomb_before;
    size_t n = 0, kept = 0;
    int rv;

    *action = KEEP_ALL;
    if (!cleanable(c, seg, h) || weir_batch_is_control(h) ||
        weir_batch_compression(h) != 0)
        return WEIR_OK;
    if (weir_batch_is_transactional(h)) {
        if (vec_has(&c->aborted, h->base_offset)) {
            *action = DROP;
            return WEIR_OK;
        }
        if (vec_has(&c->undecided, h->base_offset))
            return WEIR_OK;
    }
    if ((size_t)h->records_count > c->keep_cap) {
        bool *k = realloc(c->keep, (size_t)h->records_count);
        if (k == NULL)
            return WEIR_ENOMEM;
        c->keep = k;
        c->keep_cap = (size_t)h->records_count;
    }
    if (weir_record_iter_init(&it, b, len, h) != WEIR_OK)
        return WEIR_OK;
    while ((rv = weir_record_iter_next(&it, &rec, &more)) == WEIR_OK && more &&
           n < (size_t)h->records_count) {
        bool k = true;
        if (rec.key_len >= 0) {
            const key_slot *s = key_get(c, rec.key, (uint32_t)rec.key_len);
            k = s == NULL || (s->offset == h->base_offset + rec.offset_delta &&
                                 !(s->tomb && old));
        }
        c->keep[n++] = k;
        kept += k;
    }
    if (rv != WEIR_OK || n != (size_t)h->records_count)
        return WEIR_OK; /* malformed: leave it as it is */
    *action = kept == n ? KEEP_ALL : kept == 0 ? DROP : FILTER;
    return WEIR_OK;
}

static int
changed_scan(
    cleaner *c, int seg, const uint8_t *b, size_t len, const weir_batch_hdr *h)
{
    int action, rv;
    if ((rv = decide(c, seg, b, len, h, &action)) != WEIR_OK)
        return rv;
    return action == KEEP_ALL ? WEIR_OK : WEIR_EEXIST; /* stop: changed */
}

struct writer {
    int fd;
    uint64_t pos;
    weir_segment seg; /* the rewritten segment's bookkeeping */
    uint8_t *tmp;
    size_t tmp_cap;
};

static int
write_scan(
    cleaner *c, int seg, const uint8_t *b, size_t len, const weir_batch_hdr *h)
{
    struct writer *w = c->w;
    const uint8_t *data = b;
    weir_batch_hdr nh = *h;
    size_t n = len;
    int action, rv;

    if ((rv = decide(c, seg, b, len, h, &action)) != WEIR_OK)
        return rv;
    if (action == DROP)
        return WEIR_OK;
    if (action == FILTER) {
        if (w->tmp_cap < len) {
            uint8_t *t = realloc(w->tmp, len);
            if (t == NULL)
                return WEIR_ENOMEM;
            w->tmp = t;
            w->tmp_cap = len;
        }
        n = weir_batch_filter(b, len, h, c->keep, w->tmp);
        if (n == 0 || n == (size_t)-1)
            return WEIR_ECORRUPT;
        data = w->tmp;
        if (weir_batch_peek(data, n, &nh, NULL) != WEIR_OK)
            return WEIR_ECORRUPT;
    }
    if (weir__io_pwrite_all(w->fd, data, n, w->pos) != 0)
        return WEIR_EIO;
    if ((rv = weir_segment_note(&w->seg, c->log->opts.index_interval_bytes, &nh,
             w->pos, n)) != WEIR_OK)
        return rv;
    w->pos += n;
    return WEIR_OK;
}

static int
rewrite_segment(cleaner *c, int i)
{
    weir_plog *log = c->log;
    weir_segment *seg = &log->segs[i];
    char path[PATH_MAX], tmp[PATH_MAX];
    struct writer w;
    int rv;

    memset(&w, 0, sizeof(w));
    weir_index_init(&w.seg.idx);
    w.seg.base_offset = w.seg.next_offset = seg->base_offset;
    weir_segment_path(path, sizeof(path), log->dir, seg->base_offset, ".log");
    weir_segment_path(
        tmp, sizeof(tmp), log->dir, seg->base_offset, ".log.cleaned");
    if (weir__io_open(tmp, O_RDWR | O_CREAT | O_TRUNC, &w.fd) != 0) {
        weir_index_fini(&w.seg.idx);
        return WEIR_EIO;
    }
    c->w = &w;
    rv = each_batch(c, i, write_scan);
    c->w = NULL;
    if (rv == WEIR_OK && weir__io_fsync(w.fd) != 0)
        rv = WEIR_EIO;
    WEIR_CRASH_POINT("broker.compact.before_rename");
    if (rv == WEIR_OK && weir__io_rename(tmp, path) != 0)
        rv = WEIR_EIO;
    close(w.fd);
    free(w.tmp);
    if (rv != WEIR_OK) {
        unlink(tmp);
        weir_index_fini(&w.seg.idx);
        return rv;
    }
    (void)weir__io_fsync_dir(log->dir);
    weir__plog_forget_fd(log, seg->base_offset);
    weir__plog_rcache_clear(log);
    weir_log_info("broker",
        "log segment compacted dir=%s base=%lld bytes=%llu->%llu", log->dir,
        (long long)seg->base_offset, (unsigned long long)seg->size,
        (unsigned long long)w.pos);
    w.seg.next_offset = seg->next_offset; /* offsets never move */
    w.seg.size = w.pos;
    weir_index_fini(&seg->idx);
    *seg = w.seg;
    weir_segment_path(path, sizeof(path), log->dir, seg->base_offset, ".index");
    if (weir_index_save(&seg->idx, path, seg->size, seg->next_offset) !=
        WEIR_OK)
        unlink(path); /* stale: rebuilt on open */
    return WEIR_OK;
}

int
weir__plog_compact(weir_plog *log, int64_t now_ms, int64_t stable_offset)
{
    cleaner c;
    int rv = WEIR_OK;

    if (!log->opts.compact || log->nsegs < 2)
        return WEIR_OK;
    memset(&c, 0, sizeof(c));
    c.log = log;
    c.limit = log->segs[log->nsegs - 1].base_offset;
    if (stable_offset < c.limit)
        c.limit = stable_offset;
    c.tomb_before = log->opts.delete_retention_ms < 0
                        ? INT64_MAX
                        : now_ms - log->opts.delete_retention_ms;
    /* 1: which transactional batches were aborted (markers may be anywhere
     * after their data, even in the active segment). */
    for (int i = 0; i < log->nsegs && rv == WEIR_OK; i++)
        rv = each_batch(&c, i, txn_scan);
    for (size_t i = 0; i < c.pid_cap && rv == WEIR_OK; i++)
        if (c.pids[i].pid != -2)
            for (size_t j = 0; j < c.pids[i].batches.len && rv == WEIR_OK; j++)
                rv = vec_push(&c.undecided, c.pids[i].batches.v[j]);
    if (rv != WEIR_OK)
        goto out;
    if (c.aborted.len > 0)
        qsort(c.aborted.v, c.aborted.len, sizeof(int64_t), cmp_i64);
    if (c.undecided.len > 0)
        qsort(c.undecided.v, c.undecided.len, sizeof(int64_t), cmp_i64);
    /* 2: the latest offset of every key. */
    for (int i = 0; i < log->nsegs - 1 && rv == WEIR_OK; i++)
        if (log->segs[i].base_offset < c.limit)
            rv = each_batch(&c, i, key_scan);
    if (rv != WEIR_OK)
        goto out;
    /* 3: rewrite the segments that change. */
    for (int i = 0; i < log->nsegs - 1; i++) {
        if (log->segs[i].base_offset >= c.limit)
            break;
        rv = each_batch(&c, i, changed_scan);
        if (rv == WEIR_EEXIST)
            rv = rewrite_segment(&c, i);
        if (rv != WEIR_OK)
            goto out;
    }
    log->cleaned_end = c.limit;
    weir__plog_index_trim(log, -1);
out:
    if (rv != WEIR_OK)
        weir_log_error("broker", "log compaction failed dir=%s err=%s",
            log->dir, weir_strerror(rv));
    cleaner_fini(&c);
    return rv;
}
