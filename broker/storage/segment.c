/* Segment bookkeeping and the sequential batch scanner. */
#include "broker/storage/segment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/storage/store_io.h"
#include "common/err.h"

#define SCAN_CHUNK ((size_t)64 * 1024)

void
weir_segment_path(
    char *buf, size_t cap, const char *dir, int64_t base, const char *ext)
{
    (void)snprintf(buf, cap, "%s/%020lld%s", dir, (long long)base, ext);
}

void
weir_scan_init_chunk(
    weir_scan *s, int fd, uint64_t pos, uint64_t limit, size_t chunk)
{
    memset(s, 0, sizeof(*s));
    s->fd = fd;
    s->pos = pos;
    s->limit = limit;
    s->chunk = chunk ? chunk : SCAN_CHUNK;
}

void
weir_scan_init(weir_scan *s, int fd, uint64_t pos, uint64_t limit)
{
    weir_scan_init_chunk(s, fd, pos, limit, 0);
}

void
weir_scan_fini(weir_scan *s)
{
    free(s->buf);
    s->buf = NULL;
}

/* Makes n bytes from s->pos available in the buffer (fewer at the limit). */
static int
fill(weir_scan *s, size_t n)
{
    size_t want, got;
    uint64_t left = s->limit - s->pos;

    if (n > left)
        n = (size_t)left;
    if (s->len - s->off >= n)
        return WEIR_OK;
    if (s->off > 0) {
        memmove(s->buf, s->buf + s->off, s->len - s->off);
        s->len -= s->off;
        s->off = 0;
    }
    want = n > s->chunk ? n : s->chunk;
    if (want > left)
        want = (size_t)left;
    if (s->cap < want) {
        uint8_t *b = realloc(s->buf, want);
        if (b == NULL)
            return WEIR_ENOMEM;
        s->buf = b;
        s->cap = want;
    }
    if (want > s->len) {
        if (weir__io_pread_all(s->fd, s->buf + s->len, want - s->len,
                s->pos + s->len, &got) != 0)
            return WEIR_EIO;
        s->len += got;
    }
    return WEIR_OK;
}

int
weir_scan_next(weir_scan *s, bool verify, const uint8_t **batch, size_t *len,
    weir_batch_hdr *hdr, uint64_t *pos)
{
    size_t blen, avail;
    int rv;

    if (s->pos >= s->limit)
        return WEIR_ENOTFOUND;
    if ((rv = fill(s, WEIR_BATCH_HDR_SIZE)) != WEIR_OK)
        return rv;
    avail = s->len - s->off;
    if (avail < WEIR_BATCH_HDR_SIZE)
        return WEIR_EPROTO;
    rv = weir_batch_peek(s->buf + s->off, avail, hdr, &blen);
    if (rv != WEIR_OK && rv != WEIR_EPROTO)
        return rv;
    if (rv == WEIR_EPROTO) {
        /* Perhaps only the rest of the batch is not buffered yet. */
        uint32_t bl = (uint32_t)s->buf[s->off + 8] << 24 |
                      (uint32_t)s->buf[s->off + 9] << 16 |
                      (uint32_t)s->buf[s->off + 10] << 8 | s->buf[s->off + 11];
        uint64_t total = (uint64_t)bl + WEIR_BATCH_LOG_OVERHEAD;
        if (bl > INT32_MAX || total > s->limit - s->pos)
            return WEIR_EPROTO;
        if ((rv = fill(s, (size_t)total)) != WEIR_OK)
            return rv;
        avail = s->len - s->off;
        if ((rv = weir_batch_peek(s->buf + s->off, avail, hdr, &blen)) !=
            WEIR_OK)
            return rv;
    }
    if (verify &&
        (rv = weir_batch_parse(s->buf + s->off, blen, hdr, NULL)) != WEIR_OK)
        return rv;
    *batch = s->buf + s->off;
    *len = blen;
    *pos = s->pos;
    s->off += blen;
    s->pos += blen;
    return WEIR_OK;
}

int
weir_segment_note(weir_segment *seg, uint32_t interval,
    const weir_batch_hdr *hdr, uint64_t position, size_t len)
{
    int rv = weir_index_add(&seg->idx, interval,
        (uint32_t)(hdr->base_offset - seg->base_offset), position,
        hdr->max_timestamp);
    if (rv != WEIR_OK)
        return rv;
    seg->next_offset = weir_batch_last_offset(hdr) + 1;
    seg->size = position + len;
    return WEIR_OK;
}

int
weir_segment_rebuild(weir_segment *seg, int fd, uint64_t file_size, bool verify,
    uint32_t interval, uint64_t *valid_end)
{
    weir_scan s;
    const uint8_t *b;
    size_t len;
    weir_batch_hdr h;
    uint64_t pos;
    int rv;

    weir_index_reset(&seg->idx);
    seg->next_offset = seg->base_offset;
    seg->size = 0;
    weir_scan_init(&s, fd, 0, file_size);
    for (;;) {
        rv = weir_scan_next(&s, verify, &b, &len, &h, &pos);
        if (rv == WEIR_ENOTFOUND) {
            rv = WEIR_OK;
            break;
        }
        if (rv == WEIR_EPROTO || rv == WEIR_ECORRUPT ||
            rv == WEIR_EUNSUPPORTED) {
            rv = WEIR_OK; /* the tail from here on is not a valid batch */
            break;
        }
        if (rv != WEIR_OK)
            break;
        /* Offsets must grow and stay within what the segment can index.
         * The last segment (verify) was never compacted: its batches are
         * contiguous, which also catches damage to the base offset, a
         * field the CRC does not cover. */
        if (h.base_offset < seg->next_offset ||
            (verify && h.base_offset != seg->next_offset) ||
            weir_batch_last_offset(&h) - seg->base_offset > UINT32_MAX)
            break;
        if ((rv = weir_segment_note(seg, interval, &h, pos, len)) != WEIR_OK)
            break;
    }
    weir_scan_fini(&s);
    *valid_end = seg->size;
    return rv;
}
