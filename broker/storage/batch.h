/*
 * Kafka record batches, format v2 (magic 2), as clients send them and as
 * the log stores them. All multi-byte header fields are big-endian.
 *
 *   0 base_offset int64        27 first_timestamp int64
 *   8 batch_length int32       35 max_timestamp int64
 *  12 leader_epoch int32       43 producer_id int64
 *  16 magic int8               51 producer_epoch int16
 *  17 crc uint32 (CRC-32C of   53 base_sequence int32
 *     bytes 21..end)           57 records_count int32
 *  21 attributes int16         61 records...
 *  23 last_offset_delta int32
 *
 * Pure functions over caller buffers; thread-safe.
 */
#ifndef WEIR_BROKER_STORAGE_BATCH_H
#define WEIR_BROKER_STORAGE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEIR_BATCH_HDR_SIZE 61
/* Bytes before batch_length's coverage starts (base_offset + length). */
#define WEIR_BATCH_LOG_OVERHEAD 12

#define WEIR_BATCH_ATTR_COMPRESSION_MASK 0x07
#define WEIR_BATCH_ATTR_TIMESTAMP_TYPE 0x08
#define WEIR_BATCH_ATTR_TRANSACTIONAL 0x10
#define WEIR_BATCH_ATTR_CONTROL 0x20

typedef struct weir_batch_hdr {
    int64_t base_offset;
    int32_t batch_length;
    int32_t leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t first_timestamp, max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t records_count;
} weir_batch_hdr;

/*
 * Parses and validates one batch at buf (len bytes available): size, magic
 * 2, CRC-32C over attributes..end, record count sane (0 < count, count - 1
 * <= last_offset_delta, and at least 7 bytes per record). *batch_len = 12 +
 * batch_length. hdr and batch_len may be NULL.
 * Errors: WEIR_EPROTO (malformed or truncated), WEIR_ECORRUPT (bad CRC),
 * WEIR_EUNSUPPORTED (magic != 2).
 */
int weir_batch_parse(
    const uint8_t *buf, size_t len, weir_batch_hdr *hdr, size_t *batch_len);

/*
 * Decodes the header only, checking sizes and magic but not the CRC nor
 * the records (cheap: for scanning batches already validated once).
 * Same errors as weir_batch_parse except WEIR_ECORRUPT.
 */
int weir_batch_peek(
    const uint8_t *buf, size_t len, weir_batch_hdr *hdr, size_t *batch_len);

/* Rewrite fields outside the CRC; batch must hold a full header. */
void weir_batch_set_base_offset(uint8_t *batch, int64_t base_offset);
void weir_batch_set_leader_epoch(uint8_t *batch, int32_t epoch);

bool weir_batch_is_transactional(const weir_batch_hdr *hdr); /* bit 4 */
bool weir_batch_is_control(const weir_batch_hdr *hdr);       /* bit 5 */
int weir_batch_compression(const weir_batch_hdr *hdr);       /* bits 0-2 */
/* Offset of the batch's last record: base_offset + last_offset_delta. */
int64_t weir_batch_last_offset(const weir_batch_hdr *hdr);

/*
 * Builds a COMMIT (commit=true) or ABORT control batch for producer (pid,
 * epoch) into buf: one record, key = int16 version 0 + int16 type (0 abort,
 * 1 commit), value = int16 version 0 + int32 coordinator epoch (0).
 * Attributes: transactional | control. Base offset 0 (the log assigns it),
 * base sequence -1. Returns its length or 0 if cap is too small.
 */
size_t weir_batch_build_control(uint8_t *buf, size_t cap, int64_t pid,
    int16_t epoch, bool commit, int64_t timestamp_ms);

/* Control record type of a control batch's record key: 0 abort, 1 commit. */
#define WEIR_CONTROL_ABORT 0
#define WEIR_CONTROL_COMMIT 1

/* ------------------------------------------------ records (uncompressed) */

/* One record of a batch; pointers point into the batch buffer. */
typedef struct weir_record {
    int8_t attributes;
    int64_t timestamp_delta;
    int32_t offset_delta;
    const uint8_t *key; /* NULL when key_len < 0 */
    int32_t key_len;    /* -1 = null key */
    const uint8_t *value;
    int32_t value_len; /* -1 = null value (a tombstone) */
    int32_t headers_count;
    const uint8_t *headers; /* raw encoded headers, headers_len bytes */
    size_t headers_len;
    const uint8_t *raw; /* the whole encoded record (length prefix too) */
    size_t raw_len;
} weir_record;

typedef struct weir_record_iter {
    const uint8_t *pos, *end;
    int32_t remaining;
} weir_record_iter;

/*
 * Starts iterating the records of a batch (batch_len bytes, header already
 * parsed into hdr). WEIR_EUNSUPPORTED for a compressed batch.
 */
int weir_record_iter_init(weir_record_iter *it, const uint8_t *batch,
    size_t batch_len, const weir_batch_hdr *hdr);
/*
 * Next record into *rec. Returns WEIR_OK with *more = true for a record,
 * WEIR_OK with *more = false at the end, WEIR_EPROTO if malformed (then
 * iteration stops).
 */
int weir_record_iter_next(weir_record_iter *it, weir_record *rec, bool *more);

/* ------------------------------------------------ building batches */

/* A record to encode. key/value NULL = null (length -1). */
typedef struct weir_record_in {
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    int64_t timestamp_ms;
} weir_record_in;

typedef struct weir_batch_opts {
    int64_t producer_id; /* -1 when not idempotent */
    int16_t producer_epoch;
    int32_t base_sequence; /* -1 when not idempotent */
    bool transactional;
    bool control;
} weir_batch_opts;

/*
 * Encodes n records (n >= 1) as one uncompressed batch with base offset 0
 * and offset deltas 0..n-1 into buf. opts NULL = plain (pid -1). Returns the
 * batch length, or 0 if cap is too small or n == 0.
 */
size_t weir_batch_build(uint8_t *buf, size_t cap, const weir_batch_opts *opts,
    const weir_record_in *recs, size_t n);

/*
 * Re-encodes batch (parsed into hdr) into out keeping only the records for
 * which keep[i] is true (i = record index), with their original offset and
 * timestamp deltas; the header keeps base offset, last offset delta,
 * timestamps, producer fields and attributes; count, length and CRC are
 * recomputed. out needs batch_len bytes. Returns the new length, 0 when no
 * record is kept, or (size_t)-1 if the batch is malformed or compressed.
 */
size_t weir_batch_filter(const uint8_t *batch, size_t batch_len,
    const weir_batch_hdr *hdr, const bool *keep, uint8_t *out);

/* Zigzag varints as Kafka encodes them (for tests and the codec). */
size_t weir_varint_put(uint8_t *buf, int64_t v);
/* Returns bytes consumed or 0 if malformed/truncated. */
size_t weir_varint_get(const uint8_t *buf, size_t len, int64_t *v);

#endif
