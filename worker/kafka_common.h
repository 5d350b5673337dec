/* Internal to kafka_*.c: shared configuration and error mapping. */
#ifndef WEIR_WORKER_KAFKA_COMMON_H
#define WEIR_WORKER_KAFKA_COMMON_H

#include <librdkafka/rdkafka.h>

/* Sets one property; returns WEIR_EINVAL (logged) when rejected. */
int weir__kafka_conf_set(
    rd_kafka_conf_t *conf, const char *name, const char *value);

/* Common settings: bootstrap, client id, logging into weir's log. */
int weir__kafka_conf_base(
    rd_kafka_conf_t *conf, const char *bootstrap, const char *client_id);

/*
 * Maps a transactional API error (and frees it): fenced, abortable,
 * retriable, fatal. NULL: WEIR_OK.
 */
int weir__kafka_txn_err(rd_kafka_error_t *error, char *msg, size_t size);

/* Fetches metadata for one topic so the client knows its leaders now
 * (best effort, short timeout). */
void weir__kafka_warm(rd_kafka_t *rk, const char *topic);

/* Maps a plain response error code. */
int weir__kafka_resp_err(rd_kafka_resp_err_t err);

/* max.message.bytes of topics[0..n) (DescribeConfigs through rk) into
 * max_bytes[] (0: not known, e.g. the topic does not exist). */
int weir__kafka_max_message_bytes(rd_kafka_t *rk, const char *const *topics,
    size_t n, int64_t *max_bytes, int timeout_ms);

#endif
