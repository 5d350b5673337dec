/*
 * weir-broker: a single-node Kafka-protocol broker with real transactions.
 * One I/O loop thread owns everything.
 */
#ifndef WEIR_BROKER_H
#define WEIR_BROKER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct weir_broker_opts {
    char *listen;   /* HOST:PORT */
    char *data_dir; /* created if missing */
    char *admin;    /* HOST:PORT of the HTTP admin API, NULL/"" = off */
    int64_t default_partitions;
    bool auto_create_topics;
    int64_t txn_max_timeout_ms;
    int64_t segment_bytes;
    int64_t message_max_bytes; /* largest record batch; 0: the default */
    char *fsync;               /* never | interval | always */
    char *advertised_host;     /* hidden: host put in Metadata, "" = listen */
} weir_broker_opts;

/* Kafka's message.max.bytes default: 1 MiB and a batch's log overhead. */
#define WEIR_BROKER_MESSAGE_MAX_BYTES 1048588
#define WEIR__STR(x) #x
#define WEIR_STRINGIFY(x) WEIR__STR(x)

typedef struct weir_broker weir_broker;

/*
 * Opens the data dir (replaying the journal and partition logs) and binds
 * the listener and the admin API. Logs "ready listen=HOST:PORT" once
 * connections are accepted. Errors: WEIR_EINVAL (bad option), WEIR_EIO,
 * WEIR_ENOMEM, WEIR_ECORRUPT.
 */
int weir_broker_open(weir_broker **bp, const weir_broker_opts *opts);
/* Serves until weir_signal_stopping(); returns WEIR_OK. */
int weir_broker_run(weir_broker *b);
/* Flushes and frees everything; NULL-safe. */
void weir_broker_close(weir_broker *b);

#endif
