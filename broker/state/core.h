/*
 * The broker core: the one object (struct weir_broker) that holds the
 * topics, transactions and groups, the journal, the metrics and the faults
 * to inject. All of it is owned by the single I/O loop thread.
 */
#ifndef WEIR_BROKER_STATE_CORE_H
#define WEIR_BROKER_STATE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"
#include "broker/protocol/kschema.h"
#include "broker/storage/journal.h"
#include "broker/storage/plog.h"

typedef struct weir_topic weir_topic;
typedef struct weir_txn weir_txn;
typedef struct weir_group weir_group;

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

#endif
