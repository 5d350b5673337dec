/*
 * One partition's producer state on top of its log: idempotence (the last
 * five batches per producer), open transactions (for the last stable
 * offset) and the aborted-transaction index. All of it is rebuilt from the
 * log on start-up, as Kafka does, so it needs no journal of its own.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/storage/batch.h"
#include "broker/protocol/kerr.h"
#include "broker/state/topic.h"
#include "broker/state/txn.h"
#include "broker/state/mem.h"
#include "common/array.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

static weir_producer *
prod_find(weir_part *p, int64_t pid)
{
    for (size_t i = 0; i < p->n_prods; i++)
        if (p->prods[i].pid == pid)
            return &p->prods[i];
    return NULL;
}

static weir_producer *
prod_get(weir_part *p, int64_t pid, int16_t epoch)
{
    weir_producer *prod = prod_find(p, pid);
    if (prod)
        return prod;
    if (weir_array_reserve(&p->prods, &p->cap_prods, p->n_prods + 1,
            sizeof(*p->prods)) != WEIR_OK)
        return NULL;
    prod = &p->prods[p->n_prods++];
    memset(prod, 0, sizeof(*prod));
    prod->pid = pid;
    prod->epoch = epoch;
    prod->txn_first_offset = -1;
    prod->last_timestamp = -1;
    prod->coordinator_epoch = -1;
    return prod;
}

static void
prod_push(weir_producer *prod, int32_t first_seq, int32_t last_seq,
    int64_t base_offset)
{
    memmove(&prod->recent[1], &prod->recent[0],
        sizeof(prod->recent[0]) * (WEIR_PRODUCER_BATCHES - 1));
    prod->recent[0] = (weir_pbatch){first_seq, last_seq, base_offset};
    if (prod->n_batches < WEIR_PRODUCER_BATCHES)
        prod->n_batches++;
}

static int
aborted_add(weir_part *p, int64_t pid, int64_t first, int64_t last)
{
    if (weir_array_reserve(&p->aborted, &p->cap_aborted, p->n_aborted + 1,
            sizeof(*p->aborted)) != WEIR_OK)
        return WEIR_ENOMEM;
    p->aborted[p->n_aborted++] = (weir_aborted){pid, first, last};
    return WEIR_OK;
}

/* Applies an appended (or recovered) batch to the producer state. */
static int
apply_batch(weir_part *p, const weir_batch_hdr *h, bool abort_marker)
{
    if (h->producer_id < 0)
        return WEIR_OK;
    weir_producer *prod = prod_get(p, h->producer_id, h->producer_epoch);
    if (!prod)
        return WEIR_ENOMEM;
    if (h->producer_epoch > prod->epoch) {
        prod->epoch = h->producer_epoch;
        prod->n_batches = 0;
    }
    prod->last_timestamp = h->max_timestamp;
    if (weir_batch_is_control(h)) {
        if (prod->txn_first_offset >= 0 && abort_marker &&
            aborted_add(p, prod->pid, prod->txn_first_offset, h->base_offset) !=
                WEIR_OK)
            return WEIR_ENOMEM;
        prod->txn_first_offset = -1;
        prod->coordinator_epoch = 0;
        return WEIR_OK;
    }
    prod->seq_loose = false;
    prod_push(prod, h->base_sequence,
        (int32_t)((uint32_t)h->base_sequence + (uint32_t)h->last_offset_delta),
        h->base_offset);
    if (weir_batch_is_transactional(h) && prod->txn_first_offset < 0)
        prod->txn_first_offset = h->base_offset;
    return WEIR_OK;
}

int64_t
weir__part_hw(const weir_part *part)
{
    return weir_plog_end_offset(part->log);
}

int64_t
weir__part_lso(const weir_part *part)
{
    int64_t lso = weir_plog_end_offset(part->log);
    for (size_t i = 0; i < part->n_prods; i++) {
        int64_t f = part->prods[i].txn_first_offset;
        if (f >= 0 && f < lso)
            lso = f;
    }
    return lso;
}

void
weir__part_prune(weir_part *part)
{
    int64_t start = weir_plog_start_offset(part->log);
    size_t k = 0;
    while (k < part->n_aborted && part->aborted[k].last_offset < start)
        k++;
    if (k > 0) {
        memmove(part->aborted, part->aborted + k,
            (part->n_aborted - k) * sizeof(*part->aborted));
        part->n_aborted -= k;
    }
}

bool
weir__part_has_open_txn(const weir_part *part, int64_t pid)
{
    for (size_t i = 0; i < part->n_prods; i++)
        if (part->prods[i].pid == pid)
            return part->prods[i].txn_first_offset >= 0;
    return false;
}

/* Checks a transactional batch against the coordinator's view. */
static int16_t
check_txn(weir_broker *b, weir_part *p, const weir_batch_hdr *h)
{
    weir_txn *txn = weir__txn_find_pid(b, h->producer_id);
    if (!txn)
        return KERR_INVALID_PRODUCER_ID_MAPPING;
    if (h->producer_epoch != txn->epoch)
        return KERR_INVALID_PRODUCER_EPOCH;
    if (txn->state != WEIR_TXN_ONGOING)
        return KERR_INVALID_TXN_STATE;
    for (size_t i = 0; i < txn->n_parts; i++)
        if (txn->parts[i].partition == p->id &&
            strcmp(txn->parts[i].topic, p->topic->name) == 0)
            return KERR_NONE;
    return KERR_INVALID_TXN_STATE;
}

/* Idempotence: KERR_NONE to append, or an error; *dup_offset >= 0 when the
 * batch is a duplicate of one already written. */
static int16_t
check_sequence(weir_part *p, const weir_batch_hdr *h, int64_t *dup_offset)
{
    *dup_offset = -1;
    weir_producer *prod = prod_find(p, h->producer_id);
    int32_t last_seq =
        (int32_t)((uint32_t)h->base_sequence + (uint32_t)h->last_offset_delta);
    if (!prod || h->producer_epoch > prod->epoch || prod->n_batches == 0) {
        if (prod && h->producer_epoch < prod->epoch)
            return KERR_INVALID_PRODUCER_EPOCH;
        return h->base_sequence == 0 ? KERR_NONE
                                     : KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    }
    if (h->producer_epoch < prod->epoch)
        return KERR_INVALID_PRODUCER_EPOCH;
    for (int i = 0; i < prod->n_batches; i++) {
        if (prod->recent[i].first_seq == h->base_sequence &&
            prod->recent[i].last_seq == last_seq) {
            *dup_offset = prod->recent[i].base_offset;
            return KERR_NONE;
        }
    }
    int32_t expect = prod->recent[0].last_seq == INT32_MAX
                         ? 0
                         : prod->recent[0].last_seq + 1;
    if (prod->seq_loose && h->base_sequence > prod->recent[0].last_seq)
        return KERR_NONE;
    return h->base_sequence == expect ? KERR_NONE
                                      : KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
}

static int16_t
batch_err(int rv)
{
    return rv == WEIR_EUNSUPPORTED ? 43 /* UNSUPPORTED_FOR_MESSAGE_FORMAT */
                                   : KERR_CORRUPT_MESSAGE;
}

int16_t
weir__part_produce(weir_broker *b, weir_part *part, uint8_t *buf, size_t len,
    int64_t *base_offset)
{
    *base_offset = -1;
    if (len == 0)
        return KERR_CORRUPT_MESSAGE;
    /* Validate every batch first: a bad request appends nothing. */
    for (size_t pos = 0; pos < len;) {
        weir_batch_hdr h;
        size_t blen;
        int rv = weir_batch_parse(buf + pos, len - pos, &h, &blen);
        if (rv != WEIR_OK)
            return batch_err(rv);
        if (weir_batch_is_control(&h))
            return KERR_INVALID_RECORD;
        if (part->topic->conf.compact && weir_batch_compression(&h) != 0)
            return KERR_UNSUPPORTED_COMPRESSION_TYPE;
        if ((int64_t)blen > weir__topic_max_message_bytes(b, part->topic))
            return KERR_MESSAGE_TOO_LARGE;
        pos += blen;
    }
    for (size_t pos = 0; pos < len;) {
        weir_batch_hdr h;
        size_t blen;
        (void)weir_batch_peek(buf + pos, len - pos, &h, &blen);
        uint8_t *batch = buf + pos;
        pos += blen;
        int64_t dup = -1;
        if (h.producer_id >= 0) {
            int16_t err = KERR_NONE;
            if (weir_batch_is_transactional(&h))
                err = check_txn(b, part, &h);
            if (err == KERR_NONE)
                err = check_sequence(part, &h, &dup);
            if (err != KERR_NONE)
                return err;
        }
        if (dup >= 0) {
            if (*base_offset < 0)
                *base_offset = dup;
            continue;
        }
        int64_t off;
        int rv = weir_plog_append(part->log, batch, blen, &off);
        if (rv != WEIR_OK) {
            weir_log_error("broker", "append to %s-%d failed: %s",
                part->topic->name, (int)part->id, weir_strerror(rv));
            return KERR_KAFKA_STORAGE_ERROR;
        }
        h.base_offset = off;
        if (apply_batch(part, &h, false) != WEIR_OK)
            return KERR_UNKNOWN_SERVER_ERROR;
        if (*base_offset < 0)
            *base_offset = off;
        b->changed = true;
    }
    return KERR_NONE;
}

int
weir__part_write_marker(
    weir_broker *b, weir_part *part, int64_t pid, int16_t epoch, bool commit)
{
    if (!weir__part_has_open_txn(part, pid))
        return WEIR_OK;
    uint8_t buf[256];
    size_t n = weir_batch_build_control(
        buf, sizeof(buf), pid, epoch, commit, weir_clock_wall_ms());
    if (n == 0)
        return WEIR_ENOMEM;
    int64_t off;
    int rv = weir_plog_append(part->log, buf, n, &off);
    if (rv != WEIR_OK) {
        weir_log_error("broker", "marker append to %s-%d failed: %s",
            part->topic->name, (int)part->id, weir_strerror(rv));
        return rv;
    }
    weir_batch_hdr h;
    if ((rv = weir_batch_peek(buf, n, &h, NULL)) != WEIR_OK)
        return rv;
    h.base_offset = off;
    b->changed = true;
    return apply_batch(part, &h, !commit);
}

/* Looks for the first record at or after `from` with timestamp >= ts in
 * the batch; returns true with its offset and timestamp. */
static bool
batch_find_time(const uint8_t *batch, size_t len, const weir_batch_hdr *h,
    int64_t from, int64_t ts, int64_t *offset, int64_t *found_ts)
{
    if (h->max_timestamp < ts || weir_batch_is_control(h) ||
        weir_batch_last_offset(h) < from)
        return false;
    bool log_append = (h->attributes & WEIR_BATCH_ATTR_TIMESTAMP_TYPE) != 0;
    weir_record_iter it;
    if (log_append || weir_record_iter_init(&it, batch, len, h) != WEIR_OK) {
        /* Compressed (or log-append time): the batch as a whole. */
        *offset = h->base_offset > from ? h->base_offset : from;
        *found_ts = h->max_timestamp;
        return true;
    }
    weir_record rec;
    bool more = false;
    while (weir_record_iter_next(&it, &rec, &more) == WEIR_OK && more) {
        int64_t rts = h->first_timestamp + rec.timestamp_delta;
        int64_t roff = h->base_offset + rec.offset_delta;
        if (rts >= ts && roff >= from) {
            *offset = roff;
            *found_ts = rts;
            return true;
        }
    }
    return false;
}

int
weir__part_offset_for_time(
    weir_part *part, int64_t ts, int64_t *offset, int64_t *found_ts)
{
    int64_t off;
    int rv = weir_plog_offset_for_time(part->log, ts, &off);
    if (rv != WEIR_OK)
        return rv;
    int64_t end = weir_plog_end_offset(part->log);
    while (off < end) {
        uint8_t *buf = NULL;
        size_t len = 0;
        if ((rv = weir_plog_read(part->log, off, end, 1 << 20, &buf, &len)) !=
            WEIR_OK)
            return rv;
        if (len == 0)
            break;
        int64_t next = off + 1;
        bool found = false;
        for (size_t pos = 0; pos < len && !found;) {
            weir_batch_hdr h;
            size_t blen;
            if (weir_batch_peek(buf + pos, len - pos, &h, &blen) != WEIR_OK)
                break;
            found =
                batch_find_time(buf + pos, blen, &h, off, ts, offset, found_ts);
            if (weir_batch_last_offset(&h) + 1 > next)
                next = weir_batch_last_offset(&h) + 1;
            pos += blen;
        }
        free(buf);
        if (found)
            return WEIR_OK;
        off = next;
    }
    return WEIR_ENOTFOUND;
}

/* Control record type of a control batch: WEIR_CONTROL_ABORT/COMMIT. */
static int
control_type(const uint8_t *batch, size_t len, const weir_batch_hdr *h)
{
    weir_record_iter it;
    weir_record rec;
    bool more = false;
    if (weir_record_iter_init(&it, batch, len, h) != WEIR_OK ||
        weir_record_iter_next(&it, &rec, &more) != WEIR_OK || !more ||
        rec.key_len < 4)
        return -1;
    return (int)(int16_t)((uint16_t)rec.key[2] << 8 | rec.key[3]);
}

int
weir__part_recover(weir_part *part)
{
    int64_t off = weir_plog_start_offset(part->log);
    int64_t end = weir_plog_end_offset(part->log);
    while (off < end) {
        uint8_t *buf = NULL;
        size_t len = 0;
        int rv = weir_plog_read(part->log, off, end, 1 << 20, &buf, &len);
        if (rv != WEIR_OK)
            return rv;
        if (len == 0)
            break;
        int64_t next = off + 1;
        for (size_t pos = 0; pos < len;) {
            weir_batch_hdr h;
            size_t blen;
            if ((rv = weir_batch_peek(buf + pos, len - pos, &h, &blen)) !=
                WEIR_OK)
                break;
            bool abort = false;
            if (weir_batch_is_control(&h))
                abort = control_type(buf + pos, blen, &h) == WEIR_CONTROL_ABORT;
            if ((rv = apply_batch(part, &h, abort)) != WEIR_OK) {
                free(buf);
                return rv;
            }
            if (weir_batch_last_offset(&h) + 1 > next)
                next = weir_batch_last_offset(&h) + 1;
            pos += blen;
        }
        free(buf);
        off = next;
    }
    for (size_t i = 0; part->topic->conf.compact && i < part->n_prods; i++)
        part->prods[i].seq_loose = true;
    return WEIR_OK;
}

void
weir__part_fini(weir_part *part)
{
    if (!part)
        return;
    weir_plog_close(part->log);
    part->log = NULL;
    free(part->prods);
    free(part->aborted);
    part->prods = NULL;
    part->aborted = NULL;
    part->n_prods = part->n_aborted = 0;
}

weir_part *
weir__part_find(weir_broker *b, weir_kstr topic, int32_t part)
{
    if (topic.len < 0)
        return NULL;
    weir_topic *t = weir__topic_find(b, topic.ptr, (size_t)topic.len);
    if (!t || part < 0 || part >= t->n_parts)
        return NULL;
    return &t->parts[part];
}
