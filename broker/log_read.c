/* Reading a partition log: by offset (Fetch) and by time (ListOffsets). */
#include "broker/log_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/store_be.h"
#include "broker/store_io.h"
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
    if ((rv = weir__log_index(log, i)) != WEIR_OK ||
        (rv = weir__log_fd(log, i, &fd)) != WEIR_OK)
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
weir__log_rcache_clear(weir_plog *log)
{
    for (int k = 0; k < WEIR__RCACHE; k++)
        log->rcache[k].offset = -1;
}

int
weir_log_read(weir_plog *log, int64_t offset, int64_t end_offset,
    size_t max_bytes, uint8_t **out, size_t *out_len)
{
    weir_batch_hdr h;
    uint64_t pos = 0, seg_size;
    uint8_t *buf;
    size_t want, got, keep, p, blen;
    int64_t next = offset;
    bool found = false;
    int i, fd, rv;

    *out = NULL;
    *out_len = 0;
    if (offset < weir_log_start_offset(log) ||
        offset > weir_log_end_offset(log))
        return WEIR_ENOTFOUND;
    if (end_offset > weir_log_end_offset(log))
        end_offset = weir_log_end_offset(log);
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
    seg_size = log->segs[i].size;
    want = (size_t)(seg_size - pos);
    if (want > max_bytes)
        want = max_bytes;
    if (want < WEIR_BATCH_HDR_SIZE)
        want = WEIR_BATCH_HDR_SIZE;
    if ((rv = weir__log_fd(log, i, &fd)) != WEIR_OK)
        return rv;
    if ((buf = malloc(want)) == NULL)
        return WEIR_ENOMEM;
    if (weir__io_pread_all(fd, buf, want, pos, &got) != 0 ||
        got < WEIR_BATCH_HDR_SIZE)
        goto eio;
    /* The first batch is returned whole, whatever max_bytes says. */
    if ((rv = weir_batch_peek(buf, got, &h, &blen)) == WEIR_EPROTO) {
        uint64_t total =
            WEIR_BATCH_LOG_OVERHEAD + (uint64_t)weir__be32(buf + 8);
        uint8_t *nb;
        if (total <= got || pos + total > seg_size ||
            (nb = realloc(buf, (size_t)total)) == NULL)
            goto eio;
        buf = nb;
        if (weir__io_pread_all(
                fd, buf + got, (size_t)total - got, pos + got, &want) != 0 ||
            want != (size_t)total - got)
            goto eio;
        got = (size_t)total;
        rv = weir_batch_peek(buf, got, &h, &blen);
    }
    if (rv != WEIR_OK)
        goto eio;
    /* Keep whole batches that start before end_offset. */
    for (p = 0, keep = 0; p < got;) {
        if (weir_batch_peek(buf + p, got - p, &h, &blen) != WEIR_OK ||
            h.base_offset >= end_offset)
            break;
        p += blen;
        keep = p;
        next = weir_batch_last_offset(&h) + 1;
    }
    if (keep == 0) {
        /* A cached position whose batch lies beyond end_offset: nothing. */
        free(buf);
        return WEIR_OK;
    }
    if (keep < got) {
        uint8_t *nb = realloc(buf, keep);
        if (nb != NULL)
            buf = nb;
    }
    rcache_put(log, next, log->segs[i].base_offset, pos + keep);
    *out = buf;
    *out_len = keep;
    return WEIR_OK;
eio:
    free(buf);
    weir_log_error(comp, "log read failed dir=%s segment=%lld pos=%llu",
        log->dir, (long long)log->segs[i].base_offset, (unsigned long long)pos);
    return WEIR_EIO;
}

int
weir_log_lookup_time(
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
            if (weir__log_fd(log, i, &fd) != WEIR_OK ||
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
        if (*offset < weir_log_start_offset(log))
            *offset = weir_log_start_offset(log);
        return WEIR_OK;
    }
    return WEIR_ENOTFOUND;
}

int
weir_log_offset_for_time(weir_plog *log, int64_t ts, int64_t *offset)
{
    int64_t found_ts;
    int rv = weir_log_lookup_time(log, ts, offset, &found_ts);
    if (rv == WEIR_ENOTFOUND) {
        *offset = weir_log_end_offset(log);
        return WEIR_OK;
    }
    return rv;
}
