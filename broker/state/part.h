/*
 * A partition of a topic: its log and, on top of it, each producer's
 * idempotence and transaction state (weir_producer) and the aborted
 * transactions a read_committed fetch must skip.
 */
#ifndef WEIR_BROKER_STATE_PART_H
#define WEIR_BROKER_STATE_PART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/protocol/kcodec.h"
#include "broker/state/core.h"
#include "broker/storage/plog.h"

typedef struct weir_topic weir_topic;

#define WEIR_PRODUCER_BATCHES 5

typedef struct weir_pbatch {
    int32_t first_seq, last_seq;
    int64_t base_offset;
} weir_pbatch;

/* Idempotence and transaction state of one producer on one partition. */
typedef struct weir_producer {
    int64_t pid;
    int16_t epoch;
    int n_batches; /* recent[0] is the newest */
    weir_pbatch recent[WEIR_PRODUCER_BATCHES];
    int64_t txn_first_offset;  /* first offset of its open txn, -1 none */
    int64_t last_timestamp;    /* newest batch's max timestamp, -1 none */
    int32_t coordinator_epoch; /* -1 until its first marker, then 0 */
    /* Rebuilt from a compacted log, whose cleaner may have removed this
     * producer's newest batches: a forward gap is accepted once. */
    bool seq_loose;
} weir_producer;

typedef struct weir_aborted {
    int64_t pid, first_offset, last_offset;
} weir_aborted;

typedef struct weir_part {
    weir_topic *topic;
    int32_t id;
    weir_plog *log;
    weir_producer *prods;
    size_t n_prods, cap_prods;
    weir_aborted *aborted; /* ordered by last_offset */
    size_t n_aborted, cap_aborted;
} weir_part;

/*
 * Appends the batches in buf (len bytes) from one produce request to part
 * after idempotence and transaction checks. Returns a Kafka error code;
 * *base_offset = offset of the first record (original one for a
 * duplicate).
 */
int16_t weir__part_produce(weir_broker *b, weir_part *part, uint8_t *buf,
    size_t len, int64_t *base_offset);
/* Writes a COMMIT/ABORT marker for pid if it has an open txn here. */
int weir__part_write_marker(
    weir_broker *b, weir_part *part, int64_t pid, int16_t epoch, bool commit);
/* The partition of a topic, NULL when either does not exist. */
weir_part *weir__part_find(weir_broker *b, weir_kstr topic, int32_t part);
int64_t weir__part_lso(const weir_part *part);
/*
 * The first record whose timestamp is >= ts: its offset and timestamp
 * (Kafka's ListOffsets by time). WEIR_ENOTFOUND when no record is that late.
 */
int weir__part_offset_for_time(
    weir_part *part, int64_t ts, int64_t *offset, int64_t *found_ts);
/* Forgets aborted transactions that retention removed from the log. */
void weir__part_prune(weir_part *part);
int64_t weir__part_hw(const weir_part *part);
/* Rebuilds producer and aborted-txn state by scanning the log. */
int weir__part_recover(weir_part *part);
void weir__part_fini(weir_part *part);
bool weir__part_has_open_txn(const weir_part *part, int64_t pid);

#endif
