/* Reading a partition log: by offset (Fetch) and by time (ListOffsets). */
#include "broker/storage/plog_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/storage/store_be.h"
#include "broker/storage/store_io.h"
#include "common/err.h"
#include "common/log.h"

static const char *comp = "broker";

/* Index of the segment that holds offset (the last with base <= offset). */
static int
seg_find(const weir_plog *log, int64_t offset)
{
    int lo = 0, hi = log->nsegs;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (log->segs[mid].base_offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : lo - 1;
}

/*
 * Finds, in segment i, the position of the first batch whose last offset
 * is >= offset (or, by_time, whose max timestamp >= ts). *found false when
 * the segment has none.
 */
static int
seg_seek(weir_plog *log, int i, int64_t offset, bool by_time, int64_t ts,
    uint64_t *pos, weir_batch_hdr *hdr, bool *found)
{
    weir_segment *seg = &log->segs[i];
    weir_scan s;
    const uint8_t *b;
    size_t len;
    int fd, rv;
    uint64_t start;

    *found = false;
    if ((rv = weir__plog_index(log, i)) != WEIR_OK ||
        (rv = weir__plog_fd(log, i, &fd)) != WEIR_OK)
        return rv;
    if (by_time)
        start = weir_index_lookup_time(&seg->idx, ts);
    else
        start =
            weir_index_lookup(&seg->idx, (uint32_t)(offset - seg->base_offset));
    /* The target is within about one index interval of start. */
    weir_scan_init_chunk(&s, fd, start, seg->size,
        (size_t)log->opts.index_interval_bytes + 8192);
    for (;;) {
        rv = weir_scan_next(&s, false, &b, &len, hdr, pos);
        if (rv == WEIR_ENOTFOUND) {
            rv = WEIR_OK;
            break;
        }
        if (rv != WEIR_OK) {
            weir_log_error(comp, "log read failed dir=%s segment=%lld err=%s",
                log->dir, (long long)seg->base_offset, weir_strerror(rv));
            rv = rv == WEIR_ENOMEM ? rv : WEIR_EIO;
            break;
        }
        if (by_time ? hdr->max_timestamp >= ts
                    : weir_batch_last_offset(hdr) >= offset) {
            *found = true;
            break;
        }
    }
    weir_scan_fini(&s);
    return rv;
}

/* Where offset was found by an earlier sequential read, if anywhere. */
static bool
rcache_get(weir_plog *log, int64_t offset, int *seg, uint64_t *pos)
{
    for (int k = 0; k < WEIR__RCACHE; k++) {
        const struct weir__rpos *e = &log->rcache[k];
        if (e->offset != offset || e->offset < 0)
            continue;
        int i = seg_find(log, e->seg_base);
        if (log->segs[i].base_offset == e->seg_base &&
            e->pos < log->segs[i].size) {
            *seg = i;
            *pos = e->pos;
            return true;
        }
    }
    return false;
}

static void
rcache_put(weir_plog *log, int64_t offset, int64_t seg_base, uint64_t pos)
{
    for (int k = 0; k < WEIR__RCACHE; k++) {
        if (log->rcache[k].seg_base == seg_base && log->rcache[k].pos <= pos &&
            log->rcache[k].offset >= 0 && log->rcache[k].offset < offset) {
            /* The same reader moving on. */
            log->rcache[k].offset = offset;
            log->rcache[k].pos = pos;
            return;
        }
    }
    struct weir__rpos *e = &log->rcache[log->rcache_next];
    log->rcache_next = (log->rcache_next + 1) % WEIR__RCACHE;
    e->offset = offset;
    e->seg_base = seg_base;
    e->pos = pos;
}

void
weir__plog_rcache_clear(weir_plog *log)
{
    for (int k = 0; k < WEIR__RCACHE; k++)
        log->rcache[k].offset = -1;
}

/* Enough of a batch header to walk batches: offsets and length. */
static bool
hdr_decode(const uint8_t *p, int64_t *base, int64_t *next, uint64_t *blen)
{
    int32_t len = (int32_t)weir__be32(p + 8);
    int32_t lod = (int32_t)weir__be32(p + 23);
    if (p[16] != 2 || len < WEIR_BATCH_HDR_SIZE - WEIR_BATCH_LOG_OVERHEAD ||
        lod < 0)
        return false;
    *base = (int64_t)weir__be64(p);
    *next = *base + (int64_t)lod + 1;
    *blen = WEIR_BATCH_LOG_OVERHEAD + (uint64_t)len;
    return true;
}

/*
 * A batch boundary in segment seg after from and at most limit whose batch
 * starts before end_offset, from the in-memory index (from when none);
 * *next becomes that batch's base offset.
 */
static uint64_t
index_skip(const weir_segment *seg, uint64_t from, uint64_t limit,
    int64_t end_offset, int64_t *next)
{
    const weir_index *idx = &seg->idx;
    size_t lo = 0, hi = idx->len;
    while (lo < hi) { /* first entry past limit or at end_offset */
        size_t mid = lo + (hi - lo) / 2;
        const weir_index_entry *e = &idx->entries[mid];
        if (e->position <= limit &&
            seg->base_offset + (int64_t)e->rel_offset < end_offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || idx->entries[lo - 1].position <= from)
        return from;
    *next = seg->base_offset + (int64_t)idx->entries[lo - 1].rel_offset;
    return idx->entries[lo - 1].position;
}

#define WALK_CHUNK 16384

/*
 * From the batch boundary p of segment seg: the first batch whole, then
 * whole batches while they end by p + max_bytes, all starting before
 * end_offset. Reads headers only: a chunk at a time into buf (WALK_CHUNK),
 * so small batches cost one read per chunk and big ones a small read each,
 * and batches the index vouches for are skipped unread. *end: where the
 * last one taken ends (p if none); *next: the offset after it. *whole: the
 * range [p, *end) is in buf (one read held all of it).
 */
static int
walk(const weir_segment *seg, int fd, uint64_t p, size_t max_bytes,
    int64_t end_offset, uint8_t *buf, uint64_t *end, int64_t *next, bool *whole)
{
    uint64_t start = p, limit = seg->size; /* until the first is known */
    bool first = true;
    int reads = 0;
    size_t got1 = 0; /* bytes of the first read */
    *end = p;
    *whole = false;
    for (;;) {
        if (!first) {
            uint64_t to = index_skip(seg, p, limit, end_offset, next);
            if (to > p)
                *end = p = to;
        }
        if (p + WEIR_BATCH_HDR_SIZE > limit)
            break;
        size_t want = limit - p < WALK_CHUNK ? (size_t)(limit - p) : WALK_CHUNK;
        size_t got, q = 0;
        if (weir__io_pread_all(fd, buf, want, p, &got) != 0 ||
            got < WEIR_BATCH_HDR_SIZE)
            return WEIR_EIO;
        if (reads++ == 0)
            got1 = got;
        while (q + WEIR_BATCH_HDR_SIZE <= got) {
            int64_t base, after;
            uint64_t blen;
            if (!hdr_decode(buf + q, &base, &after, &blen))
                return WEIR_EIO;
            if (base >= end_offset)
                goto done;
            if (p + q + blen > limit) {
                if (first)
                    return WEIR_EIO;
                goto done;
            }
            if (first) {
                first = false;
                limit = seg->size - start > max_bytes ? start + max_bytes
                                                      : seg->size;
                if (limit < p + q + blen)
                    limit = p + q + blen;
            }
            *next = after;
            q += blen;
            *end = p + q;
        }
        p += q;
    }
done:
    *whole = reads == 1 && *end - start <= got1;
    return WEIR_OK;
}

/*
 * weir_plog_read_ref, and when copy is not NULL and the batches were small
 * enough to be read whole while locating them, *copy = a malloc'd copy.
 */
static int
read_ref(weir_plog *log, int64_t offset, int64_t end_offset, size_t max_bytes,
    int *out_fd, uint64_t *out_pos, size_t *out_len, uint8_t **copy)
{
    uint8_t buf[WALK_CHUNK];
    bool whole;
    weir_batch_hdr h;
    uint64_t pos = 0, end;
    int64_t next = offset;
    bool found = false;
    int i, fd, rv;

    *out_fd = -1;
    *out_pos = 0;
    *out_len = 0;
    if (copy != NULL)
        *copy = NULL;
    if (offset < weir_plog_start_offset(log) ||
        offset > weir_plog_end_offset(log))
        return WEIR_ENOTFOUND;
    if (end_offset > weir_plog_end_offset(log))
        end_offset = weir_plog_end_offset(log);
    if (offset >= end_offset)
        return WEIR_OK;
    if (!rcache_get(log, offset, &i, &pos)) {
        for (i = seg_find(log, offset); i < log->nsegs; i++) {
            int64_t from = offset > log->segs[i].base_offset
                               ? offset
                               : log->segs[i].base_offset;
            if (log->segs[i].next_offset <= from)
                continue;
            if ((rv = seg_seek(log, i, from, false, 0, &pos, &h, &found)) !=
                WEIR_OK)
                return rv;
            if (found)
                break;
        }
        if (!found || h.base_offset >= end_offset)
            return WEIR_OK;
    }
    if ((rv = weir__plog_fd(log, i, &fd)) != WEIR_OK)
        return rv;
    if ((rv = walk(&log->segs[i], fd, pos, max_bytes, end_offset, buf, &end,
             &next, &whole)) != WEIR_OK)
        goto eio;
    if (end == pos)
        return WEIR_OK; /* a cached position beyond end_offset: nothing */
    rcache_put(log, next, log->segs[i].base_offset, end);
    *out_fd = fd;
    *out_pos = pos;
    *out_len = (size_t)(end - pos);
    if (copy != NULL && whole && (*copy = malloc(*out_len)) != NULL)
        memcpy(*copy, buf, *out_len);
    return WEIR_OK;
eio:
    weir_log_error(comp, "log read failed dir=%s segment=%lld pos=%llu",
        log->dir, (long long)log->segs[i].base_offset, (unsigned long long)pos);
    return WEIR_EIO;
}

int
weir_plog_read_ref(weir_plog *log, int64_t offset, int64_t end_offset,
    size_t max_bytes, int *out_fd, uint64_t *out_pos, size_t *out_len,
    uint8_t **copy)
{
    return read_ref(
        log, offset, end_offset, max_bytes, out_fd, out_pos, out_len, copy);
}

int
weir_plog_read(weir_plog *log, int64_t offset, int64_t end_offset,
    size_t max_bytes, uint8_t **out, size_t *out_len)
{
    uint64_t pos;
    size_t len, got;
    uint8_t *buf;
    int fd, rv;

    *out = NULL;
    *out_len = 0;
    if ((rv = read_ref(log, offset, end_offset, max_bytes, &fd, &pos, &len,
             &buf)) != WEIR_OK ||
        len == 0)
        return rv;
    if (buf == NULL) {
        if ((buf = malloc(len)) == NULL)
            return WEIR_ENOMEM;
        if (weir__io_pread_all(fd, buf, len, pos, &got) != 0 || got != len) {
            free(buf);
            weir_log_error(comp, "log read failed dir=%s pos=%llu", log->dir,
                (unsigned long long)pos);
            return WEIR_EIO;
        }
    }
    *out = buf;
    *out_len = len;
    return WEIR_OK;
}

int
weir_plog_lookup_time(
    weir_plog *log, int64_t ts, int64_t *offset, int64_t *timestamp)
{
    weir_batch_hdr h;
    uint64_t pos;
    bool found;
    int rv;

    for (int i = 0; i < log->nsegs; i++) {
        weir_segment *seg = &log->segs[i];
        if (seg->size == 0 || seg->idx.max_ts < ts)
            continue;
        if ((rv = seg_seek(log, i, 0, true, ts, &pos, &h, &found)) != WEIR_OK)
            return rv;
        if (!found)
            continue;
        /* The batch's max timestamp is >= ts; find the first record that
         * is, when the batch can be looked into (not compressed). */
        *offset = h.base_offset;
        *timestamp = h.max_timestamp;
        if (weir_batch_compression(&h) == 0) {
            size_t blen = WEIR_BATCH_LOG_OVERHEAD + (size_t)h.batch_length;
            uint8_t *b = malloc(blen);
            size_t got;
            int fd;
            if (b == NULL) {
                return WEIR_ENOMEM;
            }
            if (weir__plog_fd(log, i, &fd) != WEIR_OK ||
                weir__io_pread_all(fd, b, blen, pos, &got) != 0 ||
                got != blen) {
                free(b);
                return WEIR_EIO;
            }
            weir_record_iter it;
            weir_record rec;
            bool more;
            if (weir_record_iter_init(&it, b, blen, &h) == WEIR_OK) {
                while (weir_record_iter_next(&it, &rec, &more) == WEIR_OK &&
                       more) {
                    if (h.first_timestamp + rec.timestamp_delta >= ts) {
                        *offset = h.base_offset + rec.offset_delta;
                        *timestamp = h.first_timestamp + rec.timestamp_delta;
                        break;
                    }
                }
            }
            free(b);
        }
        if (*offset < weir_plog_start_offset(log))
            *offset = weir_plog_start_offset(log);
        return WEIR_OK;
    }
    return WEIR_ENOTFOUND;
}

int
weir_plog_offset_for_time(weir_plog *log, int64_t ts, int64_t *offset)
{
    int64_t found_ts;
    int rv = weir_plog_lookup_time(log, ts, offset, &found_ts);
    if (rv == WEIR_ENOTFOUND) {
        *offset = weir_plog_end_offset(log);
        return WEIR_OK;
    }
    return rv;
}
