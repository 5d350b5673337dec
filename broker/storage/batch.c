/* Kafka record batch v2: parse, validate, build, filter. */
#include "broker/storage/batch.h"

#include <string.h>

#include "broker/storage/crc32c.h"
#include "broker/storage/store_be.h"
#include "common/err.h"

#define MIN_RECORD_SIZE 7 /* length, attrs, ts, offset, key, value, hdrs */
#define CRC_START 21

size_t
weir_varint_put(uint8_t *buf, int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (u >= 0x80) {
        buf[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    buf[n++] = (uint8_t)u;
    return n;
}

size_t
weir_varint_get(const uint8_t *buf, size_t len, int64_t *v)
{
    uint64_t u = 0;
    for (size_t i = 0; i < len && i < 10; i++) {
        u |= (uint64_t)(buf[i] & 0x7f) << (7 * i);
        if ((buf[i] & 0x80) == 0) {
            *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
            return i + 1;
        }
    }
    return 0;
}

static void
decode_hdr(const uint8_t *b, weir_batch_hdr *h)
{
    h->base_offset = (int64_t)weir__be64(b);
    h->batch_length = (int32_t)weir__be32(b + 8);
    h->leader_epoch = (int32_t)weir__be32(b + 12);
    h->magic = (int8_t)b[16];
    h->crc = weir__be32(b + 17);
    h->attributes = (int16_t)weir__be16(b + 21);
    h->last_offset_delta = (int32_t)weir__be32(b + 23);
    h->first_timestamp = (int64_t)weir__be64(b + 27);
    h->max_timestamp = (int64_t)weir__be64(b + 35);
    h->producer_id = (int64_t)weir__be64(b + 43);
    h->producer_epoch = (int16_t)weir__be16(b + 51);
    h->base_sequence = (int32_t)weir__be32(b + 53);
    h->records_count = (int32_t)weir__be32(b + 57);
}

/* Sizes and magic only. */
static int
hdr_sizes(const uint8_t *buf, size_t len, weir_batch_hdr *h, size_t *blen)
{
    if (len < 17)
        return WEIR_EPROTO;
    if (buf[16] != 2)
        return WEIR_EUNSUPPORTED;
    if (len < WEIR_BATCH_HDR_SIZE)
        return WEIR_EPROTO;
    decode_hdr(buf, h);
    if (h->batch_length < WEIR_BATCH_HDR_SIZE - WEIR_BATCH_LOG_OVERHEAD ||
        (size_t)h->batch_length > len - WEIR_BATCH_LOG_OVERHEAD)
        return WEIR_EPROTO;
    *blen = WEIR_BATCH_LOG_OVERHEAD + (size_t)h->batch_length;
    return WEIR_OK;
}

static bool
hdr_sane(const weir_batch_hdr *h)
{
    return h->last_offset_delta >= 0 && h->records_count >= 0 &&
           (int64_t)h->records_count - 1 <= h->last_offset_delta;
}

int
weir_batch_peek(
    const uint8_t *buf, size_t len, weir_batch_hdr *hdr, size_t *batch_len)
{
    weir_batch_hdr h;
    size_t blen;
    int rv;

    if ((rv = hdr_sizes(buf, len, &h, &blen)) != WEIR_OK)
        return rv;
    if (!hdr_sane(&h))
        return WEIR_EPROTO;
    if (hdr != NULL)
        *hdr = h;
    if (batch_len != NULL)
        *batch_len = blen;
    return WEIR_OK;
}

int
weir_batch_parse(
    const uint8_t *buf, size_t len, weir_batch_hdr *hdr, size_t *batch_len)
{
    weir_batch_hdr h;
    size_t blen;
    int rv;

    if ((rv = hdr_sizes(buf, len, &h, &blen)) != WEIR_OK)
        return rv;
    if (weir_crc32c(0, buf + CRC_START, blen - CRC_START) != h.crc)
        return WEIR_ECORRUPT;
    if (!hdr_sane(&h) || h.records_count == 0)
        return WEIR_EPROTO;
    if (weir_batch_compression(&h) == 0) {
        /* Walk the records: count, sizes and offset deltas must agree. */
        weir_record_iter it;
        weir_record rec;
        bool more;
        int32_t n = 0, last = -1;
        if ((rv = weir_record_iter_init(&it, buf, blen, &h)) != WEIR_OK)
            return rv;
        for (;;) {
            if ((rv = weir_record_iter_next(&it, &rec, &more)) != WEIR_OK)
                return rv;
            if (!more)
                break;
            if (rec.offset_delta <= last ||
                rec.offset_delta > h.last_offset_delta)
                return WEIR_EPROTO;
            last = rec.offset_delta;
            n++;
        }
        if (n != h.records_count || it.pos != it.end)
            return WEIR_EPROTO;
    } else if ((size_t)h.batch_length <
               (WEIR_BATCH_HDR_SIZE - WEIR_BATCH_LOG_OVERHEAD) + 1) {
        return WEIR_EPROTO;
    }
    if (hdr != NULL)
        *hdr = h;
    if (batch_len != NULL)
        *batch_len = blen;
    return WEIR_OK;
}

void
weir_batch_set_base_offset(uint8_t *batch, int64_t base_offset)
{
    weir__put64(batch, (uint64_t)base_offset);
}

void
weir_batch_set_leader_epoch(uint8_t *batch, int32_t epoch)
{
    weir__put32(batch + 12, (uint32_t)epoch);
}

bool
weir_batch_is_transactional(const weir_batch_hdr *hdr)
{
    return (hdr->attributes & WEIR_BATCH_ATTR_TRANSACTIONAL) != 0;
}

bool
weir_batch_is_control(const weir_batch_hdr *hdr)
{
    return (hdr->attributes & WEIR_BATCH_ATTR_CONTROL) != 0;
}

int
weir_batch_compression(const weir_batch_hdr *hdr)
{
    return hdr->attributes & WEIR_BATCH_ATTR_COMPRESSION_MASK;
}

int64_t
weir_batch_last_offset(const weir_batch_hdr *hdr)
{
    return hdr->base_offset + hdr->last_offset_delta;
}

/* ------------------------------------------------------------ records */

int
weir_record_iter_init(weir_record_iter *it, const uint8_t *batch,
    size_t batch_len, const weir_batch_hdr *hdr)
{
    if (weir_batch_compression(hdr) != 0)
        return WEIR_EUNSUPPORTED;
    if (batch_len < WEIR_BATCH_HDR_SIZE)
        return WEIR_EPROTO;
    it->pos = batch + WEIR_BATCH_HDR_SIZE;
    it->end = batch + batch_len;
    it->remaining = hdr->records_count;
    return WEIR_OK;
}

/* Reads a varint at *p (bounded by end) into *v, advancing *p. */
static bool
get_var(const uint8_t **p, const uint8_t *end, int64_t *v)
{
    size_t n = weir_varint_get(*p, (size_t)(end - *p), v);
    if (n == 0)
        return false;
    *p += n;
    return true;
}

/* A length-prefixed byte string; -1 = null. */
static bool
get_bytes(
    const uint8_t **p, const uint8_t *end, const uint8_t **data, int32_t *len)
{
    int64_t l;
    if (!get_var(p, end, &l) || l < -1 || l > (int64_t)(end - *p))
        return false;
    *len = (int32_t)l;
    *data = l < 0 ? NULL : *p;
    if (l > 0)
        *p += l;
    return true;
}

int
weir_record_iter_next(weir_record_iter *it, weir_record *rec, bool *more)
{
    const uint8_t *p = it->pos, *start = it->pos, *end;
    int64_t len, v;

    *more = false;
    if (it->remaining <= 0 || it->pos >= it->end)
        return it->remaining == 0 ? WEIR_OK : WEIR_EPROTO;
    if (!get_var(&p, it->end, &len) || len < MIN_RECORD_SIZE - 1 ||
        len > (int64_t)(it->end - p))
        goto bad;
    end = p + len;
    rec->attributes = (int8_t)*p++;
    if (!get_var(&p, end, &rec->timestamp_delta))
        goto bad;
    if (!get_var(&p, end, &v) || v < 0 || v > INT32_MAX)
        goto bad;
    rec->offset_delta = (int32_t)v;
    if (!get_bytes(&p, end, &rec->key, &rec->key_len) ||
        !get_bytes(&p, end, &rec->value, &rec->value_len))
        goto bad;
    if (!get_var(&p, end, &v) || v < 0 || v > INT32_MAX)
        goto bad;
    rec->headers_count = (int32_t)v;
    rec->headers = p;
    for (int64_t i = 0; i < v; i++) {
        const uint8_t *d;
        int32_t l;
        if (!get_bytes(&p, end, &d, &l) || l < 0 || !get_bytes(&p, end, &d, &l))
            goto bad;
    }
    if (p != end)
        goto bad;
    rec->headers_len = (size_t)(p - rec->headers);
    rec->raw = start;
    rec->raw_len = (size_t)(end - start);
    it->pos = end;
    it->remaining--;
    *more = true;
    return WEIR_OK;
bad:
    it->remaining = 0;
    it->pos = it->end;
    return WEIR_EPROTO;
}

/* ------------------------------------------------------------ building */

static void
finish_hdr(uint8_t *b, size_t blen, int32_t count)
{
    weir__put32(b + 8, (uint32_t)(blen - WEIR_BATCH_LOG_OVERHEAD));
    weir__put32(b + 57, (uint32_t)count);
    weir__put32(b + 17, weir_crc32c(0, b + CRC_START, blen - CRC_START));
}

static size_t
varint_len(int64_t v)
{
    uint8_t tmp[10];
    return weir_varint_put(tmp, v);
}

size_t
weir_batch_build(uint8_t *buf, size_t cap, const weir_batch_opts *opts,
    const weir_record_in *recs, size_t n)
{
    static const weir_batch_opts plain = {-1, -1, -1, false, false};
    int64_t first_ts, max_ts;
    int16_t attrs = 0;
    size_t pos = WEIR_BATCH_HDR_SIZE;

    if (opts == NULL)
        opts = &plain;
    if (n == 0 || n > INT32_MAX || cap < WEIR_BATCH_HDR_SIZE)
        return 0;
    first_ts = max_ts = recs[0].timestamp_ms;
    for (size_t i = 0; i < n; i++) {
        const weir_record_in *r = &recs[i];
        int64_t klen = r->key ? (int64_t)r->key_len : -1;
        int64_t vlen = r->value ? (int64_t)r->value_len : -1;
        size_t body;
        if (r->timestamp_ms > max_ts)
            max_ts = r->timestamp_ms;
        body = 1 + varint_len(r->timestamp_ms - first_ts) +
               varint_len((int64_t)i) + varint_len(klen) +
               (klen > 0 ? (size_t)klen : 0) + varint_len(vlen) +
               (vlen > 0 ? (size_t)vlen : 0) + 1;
        if (pos + varint_len((int64_t)body) + body > cap)
            return 0;
        pos += weir_varint_put(buf + pos, (int64_t)body);
        buf[pos++] = 0;
        pos += weir_varint_put(buf + pos, r->timestamp_ms - first_ts);
        pos += weir_varint_put(buf + pos, (int64_t)i);
        pos += weir_varint_put(buf + pos, klen);
        if (klen > 0) {
            memcpy(buf + pos, r->key, (size_t)klen);
            pos += (size_t)klen;
        }
        pos += weir_varint_put(buf + pos, vlen);
        if (vlen > 0) {
            memcpy(buf + pos, r->value, (size_t)vlen);
            pos += (size_t)vlen;
        }
        buf[pos++] = 0; /* no headers */
    }
    if (opts->transactional)
        attrs |= WEIR_BATCH_ATTR_TRANSACTIONAL;
    if (opts->control)
        attrs |= WEIR_BATCH_ATTR_CONTROL;
    weir__put64(buf, 0);
    weir__put32(buf + 12, 0);
    buf[16] = 2;
    weir__put16(buf + 21, (uint16_t)attrs);
    weir__put32(buf + 23, (uint32_t)(n - 1));
    weir__put64(buf + 27, (uint64_t)first_ts);
    weir__put64(buf + 35, (uint64_t)max_ts);
    weir__put64(buf + 43, (uint64_t)opts->producer_id);
    weir__put16(buf + 51, (uint16_t)opts->producer_epoch);
    weir__put32(buf + 53, (uint32_t)opts->base_sequence);
    finish_hdr(buf, pos, (int32_t)n);
    return pos;
}

size_t
weir_batch_build_control(uint8_t *buf, size_t cap, int64_t pid, int16_t epoch,
    bool commit, int64_t timestamp_ms)
{
    uint8_t key[4], value[6];
    weir_batch_opts opts = {pid, epoch, -1, true, true};
    weir_record_in rec = {key, sizeof(key), value, sizeof(value), timestamp_ms};

    weir__put16(key, 0);
    weir__put16(key + 2, commit ? WEIR_CONTROL_COMMIT : WEIR_CONTROL_ABORT);
    weir__put16(value, 0);
    weir__put32(value + 2, 0);
    return weir_batch_build(buf, cap, &opts, &rec, 1);
}

size_t
weir_batch_filter(const uint8_t *batch, size_t batch_len,
    const weir_batch_hdr *hdr, const bool *keep, uint8_t *out)
{
    weir_record_iter it;
    weir_record rec;
    bool more;
    size_t pos = WEIR_BATCH_HDR_SIZE;
    int32_t i = 0, kept = 0;

    if (weir_record_iter_init(&it, batch, batch_len, hdr) != WEIR_OK)
        return (size_t)-1;
    for (;;) {
        if (weir_record_iter_next(&it, &rec, &more) != WEIR_OK)
            return (size_t)-1;
        if (!more)
            break;
        if (keep[i++]) {
            memmove(out + pos, rec.raw, rec.raw_len);
            pos += rec.raw_len;
            kept++;
        }
    }
    if (kept == 0)
        return 0;
    memmove(out, batch, WEIR_BATCH_HDR_SIZE);
    finish_hdr(out, pos, kept);
    return pos;
}
