/*
 * The worker's Kafka adapter: the only place that touches librdkafka
 * (kafka_*.c). Nothing of librdkafka leaks past this header: errors are
 * weir_err codes, records are weir_kafka_msg.
 *
 * Error classification (what the task does with it):
 *   WEIR_EFENCED   another owner took the transactional.id: drop the task
 *   WEIR_EABORTED  the transaction must be aborted, then go on
 *   WEIR_ETIMEDOUT the call may be retried as is
 *   WEIR_EKAFKA    fatal for this client: recreate it (or fail the task)
 *
 * Threading: each producer and consumer is owned by one thread (the stream
 * thread that owns the task).
 */
#ifndef WEIR_WORKER_KAFKA_H
#define WEIR_WORKER_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct weir_kafka_producer weir_kafka_producer;
typedef struct weir_kafka_consumer weir_kafka_consumer;

/* A topic partition and an offset (-2 earliest, -1 end, -1001 none). */
typedef struct weir_kafka_tp {
    const char *topic;
    int32_t partition;
    int64_t offset;
} weir_kafka_tp;

#define WEIR_KAFKA_OFFSET_BEGINNING (-2)
#define WEIR_KAFKA_OFFSET_END (-1)
#define WEIR_KAFKA_OFFSET_INVALID (-1001)

typedef struct weir_kafka_header {
    const char *name;
    const void *value;
    size_t len;
} weir_kafka_header;

/* A consumed record; valid until weir_kafka_msg_release. */
typedef struct weir_kafka_msg {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms;
    const void *key; /* NULL: no key */
    size_t key_len;
    const void *value; /* NULL: tombstone */
    size_t value_len;
    void *impl;
} weir_kafka_msg;

/* ---------------------------------------------------------------- producer */

/*
 * A producer. transactional_id NULL: idempotent, at-least-once (flush
 * before committing offsets). With a transactional id, call
 * weir_kafka_producer_init_txn before anything else.
 */
int weir_kafka_producer_new(weir_kafka_producer **pp, const char *bootstrap,
    const char *client_id, const char *transactional_id,
    int transaction_timeout_ms);
void weir_kafka_producer_free(weir_kafka_producer *p);

/* Fences older producers with the same id and aborts their open txn. */
int weir_kafka_producer_init_txn(weir_kafka_producer *p, int timeout_ms);
int weir_kafka_producer_begin(weir_kafka_producer *p);

/*
 * Queues one record. partition < 0: chosen from the key (murmur2, as the
 * Java client). Copies key, value and headers. WEIR_EAGAIN when the local
 * queue is full (serve with weir_kafka_producer_poll and retry).
 * next_offset (may be NULL; must outlive the producer's pending records):
 * on delivery, raised to the record's offset + 1.
 */
int weir_kafka_producer_send(weir_kafka_producer *p, const char *topic,
    int32_t partition, const void *key, size_t key_len, const void *value,
    size_t value_len, int64_t timestamp_ms, const weir_kafka_header *headers,
    size_t n_headers, int64_t *next_offset);

/* Learns the leaders of topic now, so the first produce does not wait
 * for the client's metadata refresh (best effort). */
void weir_kafka_producer_warm(weir_kafka_producer *p, const char *topic);

/* Kafka's default max.message.bytes (1 MiB + 12), for a topic whose limit
 * is not known. */
#define WEIR_KAFKA_DEFAULT_MAX_MESSAGE_BYTES 1048588
/* The largest record the producer takes (its queue holds 2 MiB). */
#define WEIR_KAFKA_PRODUCER_MAX_RECORD (2048 * 1024 - 1024)

/* max.message.bytes of topics[0..n) into max_bytes[] (0: not known). */
int weir_kafka_producer_max_bytes(weir_kafka_producer *p,
    const char *const *topics, size_t n, int64_t *max_bytes, int timeout_ms);

/* Records queued whose delivery report has not been served yet. */
int64_t weir_kafka_producer_in_flight(const weir_kafka_producer *p);

/* Serves delivery reports; returns the first delivery error seen (sticky
 * until weir_kafka_producer_clear_error) or WEIR_OK. */
int weir_kafka_producer_poll(weir_kafka_producer *p, int timeout_ms);
void weir_kafka_producer_clear_error(weir_kafka_producer *p);

/* Adds the consumer positions (next offsets to read) to the transaction. */
int weir_kafka_producer_send_offsets(weir_kafka_producer *p,
    const char *group_id, const weir_kafka_tp *offsets, size_t n,
    int timeout_ms);
int weir_kafka_producer_commit(weir_kafka_producer *p, int timeout_ms);
int weir_kafka_producer_abort(weir_kafka_producer *p, int timeout_ms);
/* Waits until every queued record is acknowledged (at-least-once). */
int weir_kafka_producer_flush(weir_kafka_producer *p, int timeout_ms);
/* The last error message ("" if none). */
const char *weir_kafka_producer_errstr(const weir_kafka_producer *p);

/* ---------------------------------------------------------------- consumer */

/*
 * A consumer that is never part of a consumer group: partitions are
 * assigned by hand. group_id names where offsets are committed.
 * read_committed selects isolation.level. Partition ends are reported by
 * weir_kafka_consumer_poll as WEIR_ECLOSED with msg->topic/partition/offset.
 */
int weir_kafka_consumer_new(weir_kafka_consumer **cp, const char *bootstrap,
    const char *client_id, const char *group_id, bool read_committed);
/*
 * The same with a prefetch queue of queue_kb per partition (librdkafka
 * 2.0 backs a partition off for a second when its queue is full, so a
 * larger queue catches up faster from a backlog, at the cost of memory).
 */
int weir_kafka_consumer_new_sized(weir_kafka_consumer **cp,
    const char *bootstrap, const char *client_id, const char *group_id,
    bool read_committed, int queue_kb);
/* The same with large fetches and queues, for reading changelogs in bulk
 * during a restore (free it afterwards: it holds more memory). */
int weir_kafka_consumer_new_bulk(weir_kafka_consumer **cp,
    const char *bootstrap, const char *client_id, const char *group_id);
void weir_kafka_consumer_free(weir_kafka_consumer *c);

/* Replaces the assignment; tps[i].offset is where reading starts. */
int weir_kafka_consumer_assign(
    weir_kafka_consumer *c, const weir_kafka_tp *tps, size_t n);

/* Stops (pause) or restarts fetching a partition; records fetched
 * before a pause are still returned by poll. */
int weir_kafka_consumer_pause(
    weir_kafka_consumer *c, const char *topic, int32_t partition, bool pause);

/*
 * Fetches the committed offsets of tps for the consumer's group into
 * tps[i].offset (WEIR_KAFKA_OFFSET_INVALID when none).
 */
int weir_kafka_consumer_committed(
    weir_kafka_consumer *c, weir_kafka_tp *tps, size_t n, int timeout_ms);

/*
 * Commits offsets (at-least-once mode: after outputs are acknowledged).
 */
int weir_kafka_consumer_commit(
    weir_kafka_consumer *c, const weir_kafka_tp *tps, size_t n);

/*
 * Waits up to timeout_ms for a record. WEIR_OK: *msg filled (release it).
 * WEIR_EAGAIN: nothing arrived. WEIR_ECLOSED: end of a partition reached
 * (msg->topic, partition and offset say which and where; nothing to
 * release). WEIR_EKAFKA: a consumer error (logged).
 */
int weir_kafka_consumer_poll(
    weir_kafka_consumer *c, int timeout_ms, weir_kafka_msg *msg);
void weir_kafka_msg_release(weir_kafka_msg *msg);

/* The last header called name of a consumed record. */
bool weir_kafka_msg_header(const weir_kafka_msg *msg, const char *name,
    const void **value, size_t *len);

/* The high watermark from the last fetch (no broker round trip); -1 when
 * not known yet. */
int64_t weir_kafka_consumer_cached_high(
    weir_kafka_consumer *c, const char *topic, int32_t partition);

/* Low and high watermarks of a partition, from the broker. */
int weir_kafka_consumer_watermarks(weir_kafka_consumer *c, const char *topic,
    int32_t partition, int64_t *low, int64_t *high, int timeout_ms);

/* ---------------------------------------------------------------- admin */

typedef struct weir_kafka_topic_spec {
    const char *name;
    int partitions;
    bool compacted;
} weir_kafka_topic_spec;

/*
 * Creates the topics that do not exist yet; existing ones are left alone.
 * err (may be NULL) receives a reason on failure.
 */
int weir_kafka_topics_ensure(const char *bootstrap,
    const weir_kafka_topic_spec *topics, size_t n, int timeout_ms, char *err,
    size_t errsize);

/*
 * The partition counts of topics[0..n) from one metadata request into
 * partitions[] (0: the topic does not exist). Never creates a topic.
 */
int weir_kafka_topics_partitions(const char *bootstrap,
    const char *const *topics, size_t n, uint32_t *partitions, int timeout_ms);

#endif
