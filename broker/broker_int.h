/*
 * Internal state of weir-broker shared by its files (weir__ names). All of
 * it is owned by the single I/O loop thread.
 */
#ifndef WEIR_BROKER_INT_H
#define WEIR_BROKER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "broker/storage/journal.h"
#include "kcodec.h"
#include "kschema.h"
#include "broker/storage/plog.h"

/* Kafka error codes the broker returns. */
enum {
    KERR_UNKNOWN_SERVER_ERROR = -1,
    KERR_NONE = 0,
    KERR_OFFSET_OUT_OF_RANGE = 1,
    KERR_CORRUPT_MESSAGE = 2,
    KERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    KERR_REQUEST_TIMED_OUT = 7,
    KERR_COORDINATOR_NOT_AVAILABLE = 15,
    KERR_NOT_COORDINATOR = 16,
    KERR_INVALID_TOPIC_EXCEPTION = 17,
    KERR_ILLEGAL_GENERATION = 22,
    KERR_INCONSISTENT_GROUP_PROTOCOL = 23,
    KERR_INVALID_GROUP_ID = 24,
    KERR_UNKNOWN_MEMBER_ID = 25,
    KERR_INVALID_SESSION_TIMEOUT = 26,
    KERR_REBALANCE_IN_PROGRESS = 27,
    KERR_UNSUPPORTED_VERSION = 35,
    KERR_TOPIC_ALREADY_EXISTS = 36,
    KERR_INVALID_PARTITIONS = 37,
    KERR_INVALID_REPLICATION_FACTOR = 38,
    KERR_INVALID_CONFIG = 40,
    KERR_INVALID_REQUEST = 42,
    KERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
    KERR_INVALID_PRODUCER_EPOCH = 47,
    KERR_INVALID_TXN_STATE = 48,
    KERR_INVALID_PRODUCER_ID_MAPPING = 49,
    KERR_INVALID_TRANSACTION_TIMEOUT = 50,
    KERR_CONCURRENT_TRANSACTIONS = 51,
    KERR_OPERATION_NOT_ATTEMPTED = 55,
    KERR_KAFKA_STORAGE_ERROR = 56,
    KERR_UNKNOWN_PRODUCER_ID = 59,
    KERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
    KERR_MEMBER_ID_REQUIRED = 79,
    KERR_INVALID_RECORD = 87,
    KERR_UNSTABLE_OFFSET_COMMIT = 88,
    KERR_PRODUCER_FENCED = 90,
};

/* ------------------------------------------------------------ partitions */

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

typedef struct weir_topic weir_topic;

typedef struct weir_part {
    weir_topic *topic;
    int32_t id;
    weir_plog *log;
    weir_producer *prods;
    size_t n_prods, cap_prods;
    weir_aborted *aborted; /* ordered by last_offset */
    size_t n_aborted, cap_aborted;
} weir_part;

/* Per-topic settings (CreateTopics configs); 0 = the broker's default. */
typedef struct weir_topic_conf {
    bool compact;                          /* cleanup.policy=compact */
    int64_t retention_ms, retention_bytes; /* -1 = unlimited */
    int64_t segment_bytes, segment_ms, delete_retention_ms;
} weir_topic_conf;

struct weir_topic {
    char *name;
    int32_t n_parts;
    weir_part *parts;
    weir_topic_conf conf;
};

/* ------------------------------------------------------------ transactions */

typedef enum weir_txn_state {
    WEIR_TXN_EMPTY,
    WEIR_TXN_ONGOING,
    WEIR_TXN_PREPARE_COMMIT,
    WEIR_TXN_PREPARE_ABORT,
    WEIR_TXN_COMPLETE_COMMIT,
    WEIR_TXN_COMPLETE_ABORT,
} weir_txn_state;

typedef struct weir_tp {
    char *topic;
    int32_t partition;
} weir_tp;

typedef struct weir_offset {
    char *group; /* pending txn offsets only */
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;
} weir_offset;

typedef struct weir_txn {
    char *id;
    int64_t pid;
    int16_t epoch;
    int16_t prev_epoch; /* before the last InitProducerId bump; -1 none */
    int32_t timeout_ms;
    weir_txn_state state;
    int64_t start_ms; /* wall clock when it became ongoing */
    weir_tp *parts;
    size_t n_parts;
    char **groups;
    size_t n_groups;
    weir_offset *offsets;
    size_t n_offsets;
} weir_txn;

/* ------------------------------------------------------------ groups */

typedef struct weir_member {
    char *id;
    char *client_id;
    int32_t session_timeout_ms, rebalance_timeout_ms;
    char *protocol_type;
    size_t n_protocols;
    char **protocol_names;
    uint8_t **protocol_meta;
    int32_t *protocol_meta_len;
    bool joined; /* joined the current rebalance */
    uint8_t *assignment;
    int32_t assignment_len;
    uint64_t last_seen_ms; /* monotonic */
} weir_member;

typedef enum weir_group_state {
    WEIR_GROUP_EMPTY,
    WEIR_GROUP_PREPARING,
    WEIR_GROUP_AWAITING_SYNC,
    WEIR_GROUP_STABLE,
} weir_group_state;

typedef struct weir_group {
    char *id;
    weir_offset *offsets; /* committed */
    size_t n_offsets, cap_offsets;
    weir_group_state state;
    int32_t generation;
    char *protocol;
    char *protocol_type; /* kept when the group becomes empty, as Kafka */
    char *leader;
    weir_member **members;
    size_t n_members;
    uint64_t rebalance_deadline_ms; /* monotonic */
    uint64_t member_seq;
} weir_group;

/* ------------------------------------------------------------ broker */

typedef struct weir_metrics {
    uint64_t requests[WEIR_API_KEY_MAX];
    uint64_t errors[WEIR_API_KEY_MAX];
    uint64_t bytes_in, bytes_out;
    uint64_t connections_accepted;
    uint64_t malformed;
    uint64_t txn_committed, txn_aborted, txn_timed_out;
} weir_metrics;

typedef struct weir_faults {
    int64_t delay_ms[WEIR_API_KEY_MAX];
    int32_t fail_count[WEIR_API_KEY_MAX];
    int16_t fail_code[WEIR_API_KEY_MAX];
    char fail_client[WEIR_API_KEY_MAX][64]; /* client.id prefix, "" any */
    int32_t lose_count[WEIR_API_KEY_MAX];   /* handle, then drop the answer */
    uint64_t paused_until_ms;               /* monotonic */
    bool drop_now;
} weir_faults;

typedef struct weir_server weir_server;
typedef struct weir_admin weir_admin;

struct weir_broker {
    weir_broker_opts opts;
    weir_fsync_mode fsync;
    char *adv_host;
    int port;
    weir_topic **topics;
    size_t n_topics;
    weir_txn **txns;
    size_t n_txns;
    weir_group **groups;
    size_t n_groups;
    int64_t next_pid;
    weir_journal *journal;
    bool replaying;
    bool changed; /* data or group state changed: retry parked requests */
    weir_server *server;
    weir_admin *admin;
    weir_metrics metrics;
    weir_faults faults;
    uint64_t last_maintain_ms;
    uint64_t last_sync_ms;
    uint64_t
        rewrite_bytes; /* journal size that triggers a rewrite; 0 = 8 MiB */
    int lock_fd;       /* flock on DATA_DIR/.lock: one broker per data dir */
};

/* One request being handled. */
typedef struct weir_kreq {
    int16_t api_key, version;
    int32_t corr_id;
    bool flex;
    weir_kstr client_id;
    weir_kr body;
    bool retry;           /* handled before and parked; now retried */
    bool expired;         /* parked past its deadline: answer now */
    uint64_t deadline_ms; /* set by a handler that parks (monotonic) */
    char *park_member;    /* handler scratch kept across retries (owned) */
    int16_t forced_err;   /* fault injection: answer with this error */
} weir_kreq;

/*
 * A handler reads req->body and writes the response body into w. Returns
 * WEIR_OK (send it), WEIR_EAGAIN (park: retried when state changes or at
 * req->deadline_ms), WEIR_ESTOPPED (send nothing, acks=0), WEIR_EPROTO
 * (malformed: close the connection).
 */
typedef int (*weir_handler_fn)(weir_broker *b, weir_kreq *req, weir_kw *w);
weir_handler_fn weir__handler(int16_t api_key);

int weir__h_api_versions(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_metadata(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_create_topics(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_delete_topics(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_find_coordinator(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_produce(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_fetch(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_list_offsets(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_init_producer_id(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_add_partitions(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_add_offsets(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_end_txn(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_txn_offset_commit(weir_broker *b, weir_kreq *req, weir_kw *w);
/* h_txn_admin.c */
int weir__h_list_transactions(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_describe_transactions(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_describe_producers(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_write_txn_markers(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_offset_commit(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_offset_fetch(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_join_group(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_sync_group(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_heartbeat(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_leave_group(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_describe_groups(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_list_groups(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_describe_configs(weir_broker *b, weir_kreq *req, weir_kw *w);

/*
 * Decodes a request frame (after the size): header, API, version and the
 * body against its schema. On WEIR_OK req->body is positioned at the body.
 * WEIR_EPROTO (malformed) or WEIR_EUNSUPPORTED (unknown API or version),
 * with why set to a log message; *apip is set when the API is known.
 */
int weir__request_decode(const uint8_t *frame, size_t len, weir_kreq *req,
    const weir_kapi **apip, char *why, size_t why_size);

/* Counts a non-zero Kafka error answered for api; returns err. */
static inline int16_t
weir__kerr_count(weir_broker *b, int16_t api, int16_t err)
{
    if (err != 0 && api >= 0 && api < WEIR_API_KEY_MAX)
        b->metrics.errors[api]++;
    return err;
}

/* topic.c */
bool weir__topic_name_valid(const char *name, size_t len);
weir_topic *weir__topic_find(weir_broker *b, const char *name, size_t len);
weir_part *weir__part_find(weir_broker *b, weir_kstr topic, int32_t part);
/* Creates (and journals) a topic. WEIR_EEXIST, WEIR_EIO... */
int weir__topic_create(weir_broker *b, const char *name, int32_t n_parts,
    const weir_topic_conf *conf);
int weir__topic_delete(weir_broker *b, const char *name);
/* Replay: open a topic's partitions without journaling. */
int weir__topic_open(weir_broker *b, const char *name, int32_t n_parts,
    const weir_topic_conf *conf);
/* The defaults of an auto-created topic: delete policy, no limits. */
extern const weir_topic_conf weir__topic_conf_default;
void weir__topic_free(weir_topic *topic, bool destroy);

/* part.c */
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

/* txn.c */
weir_txn *weir__txn_find(weir_broker *b, const char *id, size_t len);
weir_txn *weir__txn_find_pid(weir_broker *b, int64_t pid);
/* Allocates (and journals) a fresh producer id. -1 on journal failure. */
int64_t weir__pid_alloc(weir_broker *b);
/* Ends txn (commit or abort) with markers at epoch; journals each step. */
int weir__txn_end(weir_broker *b, weir_txn *txn, bool commit);
/* Aborts transactions past their timeout (with an epoch bump). */
void weir__txn_expire(weir_broker *b, int64_t now_ms);
/* Completes transactions left prepared by a crash (after replay). */
void weir__txn_recover(weir_broker *b);
bool weir__txn_has_pending(
    weir_broker *b, weir_kstr group, weir_kstr topic, int32_t partition);
void weir__txn_free(weir_txn *txn);
const char *weir__txn_state_name(weir_txn_state st);

/* group.c */
weir_group *weir__group_get(
    weir_broker *b, const char *id, size_t len, bool create);
weir_offset *weir__group_offset(
    weir_group *g, const char *topic, size_t len, int32_t partition);
/* Stores a committed offset (no journaling). */
int weir__group_commit(weir_group *g, const char *topic, int32_t partition,
    int64_t offset, int32_t leader_epoch, const char *metadata);
void weir__group_free(weir_group *g);

/* member.c: group membership (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) */
void weir__member_free(weir_member *m);
/* Error for a commit or heartbeat by member at generation (KERR_*). */
int16_t weir__member_check(
    weir_group *g, weir_kstr member, int32_t generation, bool commit);
/* Expires members past their session timeout, finishes rebalances. */
void weir__group_tick(weir_broker *b, uint64_t now_ms);

/* state.c: journal records */
int weir__state_open(weir_broker *b);
int weir__state_topic(weir_broker *b, const weir_topic *topic);
int weir__state_topic_delete(weir_broker *b, const char *name);
int weir__state_offsets(
    weir_broker *b, const char *group, const weir_offset *offs, size_t n);
int weir__state_next_pid(weir_broker *b, int64_t next_pid);
int weir__state_txn(weir_broker *b, const weir_txn *txn);
int weir__state_maybe_rewrite(weir_broker *b);

/* server.c */
int weir__server_open(weir_broker *b);
void weir__server_close(weir_server *s);
int weir__server_poll(weir_broker *b, int timeout_ms);
size_t weir__server_conn_count(const weir_server *s);
void weir__server_drop_all(weir_broker *b);

/* admin.c */
int weir__admin_open(weir_broker *b);
void weir__admin_close(weir_admin *a);
/* Runs admin requests queued by NNG's threads; returns the wake fd. */
void weir__admin_process(weir_broker *b);
int weir__admin_fd(const weir_admin *a);

/* Helpers */
const char *weir__kerr_name(int16_t err);
char *weir__strdup(const char *s);
char *weir__strndup(const char *s, size_t n);
/* Grows *arr (element size sz) to hold at least n elements. */
int weir__grow(void *arrp, size_t *cap, size_t n, size_t sz);

#endif
