/* Transactional (or idempotent) producer: part of the Kafka adapter. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "kafka.h"
#include "kafka_common.h"

struct weir_kafka_producer {
    rd_kafka_t *rk;
    bool transactional;
    int delivery_err; /* first delivery error since the last clear */
    int64_t in_flight;
    char errstr[512];
};

static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    weir_kafka_producer *p = opaque;
    (void)rk;
    p->in_flight--;
    if (!m->err && m->_private) {
        int64_t *next = m->_private;
        if (m->offset + 1 > *next)
            *next = m->offset + 1;
    }
    if (m->err && p->delivery_err == WEIR_OK) {
        p->delivery_err = weir__kafka_resp_err(m->err);
        if (p->delivery_err == WEIR_OK || p->delivery_err == WEIR_ENOTFOUND)
            p->delivery_err = WEIR_EKAFKA;
        snprintf(p->errstr, sizeof(p->errstr), "delivery failed: %s",
            rd_kafka_err2str(m->err));
    }
}

int
weir_kafka_producer_new(weir_kafka_producer **pp, const char *bootstrap,
    const char *client_id, const char *transactional_id,
    int transaction_timeout_ms)
{
    weir_kafka_producer *p = calloc(1, sizeof(*p));
    if (!p)
        return WEIR_ENOMEM;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rv = weir__kafka_conf_base(conf, bootstrap, client_id);
    char tmo[32];
    snprintf(tmo, sizeof(tmo), "%d",
        transaction_timeout_ms > 0 ? transaction_timeout_ms : 60000);
    if (rv == WEIR_OK)
        rv = weir__kafka_conf_set(conf, "enable.idempotence", "true");
    if (rv == WEIR_OK)
        rv = weir__kafka_conf_set(conf, "partitioner", "murmur2_random");
    if (rv == WEIR_OK)
        rv = weir__kafka_conf_set(conf, "linger.ms", "5");
    if (rv == WEIR_OK)
        rv = weir__kafka_conf_set(conf, "queue.buffering.max.kbytes", "2048");
    char max_record[32];
    snprintf(
        max_record, sizeof(max_record), "%d", WEIR_KAFKA_PRODUCER_MAX_RECORD);
    if (rv == WEIR_OK) /* it fits the queue */
        rv = weir__kafka_conf_set(conf, "message.max.bytes", max_record);
    if (rv == WEIR_OK) /* bounds memory: up to 9 partitions per task */
        rv = weir__kafka_conf_set(conf, "batch.size", "131072");
    if (rv == WEIR_OK) /* small records cost ~200 bytes each in the queue */
        rv = weir__kafka_conf_set(conf, "queue.buffering.max.messages", "5000");
    if (rv == WEIR_OK)
        rv = weir__kafka_conf_set(conf, "message.timeout.ms", "30000");
    if (rv == WEIR_OK && transactional_id) {
        rv = weir__kafka_conf_set(conf, "transactional.id", transactional_id);
        if (rv == WEIR_OK)
            rv = weir__kafka_conf_set(conf, "transaction.timeout.ms", tmo);
    }
    if (rv != WEIR_OK) {
        rd_kafka_conf_destroy(conf);
        free(p);
        return rv;
    }
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    char err[256];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!p->rk) {
        weir_log_error("kafka", "producer create failed err=\"%s\"", err);
        rd_kafka_conf_destroy(conf);
        free(p);
        return WEIR_EKAFKA;
    }
    p->transactional = transactional_id != NULL;
    *pp = p;
    return WEIR_OK;
}

void
weir_kafka_producer_free(weir_kafka_producer *p)
{
    if (!p)
        return;
    /* Records of an unfinished transaction are dropped, not flushed: the
     * transaction is aborted by the next owner's init_transactions. */
    if (!p->transactional)
        rd_kafka_flush(p->rk, 5000);
    rd_kafka_destroy_flags(p->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    free(p);
}

const char *
weir_kafka_producer_errstr(const weir_kafka_producer *p)
{
    return p->errstr;
}

int
weir_kafka_producer_init_txn(weir_kafka_producer *p, int timeout_ms)
{
    return weir__kafka_txn_err(rd_kafka_init_transactions(p->rk, timeout_ms),
        p->errstr, sizeof(p->errstr));
}

int
weir_kafka_producer_begin(weir_kafka_producer *p)
{
    p->delivery_err = WEIR_OK;
    return weir__kafka_txn_err(
        rd_kafka_begin_transaction(p->rk), p->errstr, sizeof(p->errstr));
}

int
weir_kafka_producer_send(weir_kafka_producer *p, const char *topic,
    int32_t partition, const void *key, size_t key_len, const void *value,
    size_t value_len, int64_t timestamp_ms, const weir_kafka_header *headers,
    size_t n_headers, int64_t *next_offset)
{
    rd_kafka_headers_t *hdrs = NULL;
    if (n_headers) {
        hdrs = rd_kafka_headers_new(n_headers);
        for (size_t i = 0; i < n_headers; i++)
            rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value,
                (ssize_t)headers[i].len);
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic),
        RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
        RD_KAFKA_V_KEY(key, key_len),
        RD_KAFKA_V_VALUE((void *)value, value_len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_TIMESTAMP(timestamp_ms > 0 ? timestamp_ms : 0),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(next_offset),
        RD_KAFKA_V_END);
    if (err) {
        if (hdrs)
            rd_kafka_headers_destroy(hdrs);
        snprintf(p->errstr, sizeof(p->errstr), "produce to %s: %s", topic,
            rd_kafka_err2str(err));
        int rv = weir__kafka_resp_err(err);
        if (rv == WEIR_EAGAIN || rv == WEIR_EFENCED)
            return rv;
        /* A fatal error (for a transactional producer: fencing, see
         * weir__kafka_txn_err) or an error state in the transaction
         * manager (abortable). */
        if (rd_kafka_fatal_error(p->rk, NULL, 0))
            return p->transactional ? WEIR_EFENCED : WEIR_EKAFKA;
        return p->transactional ? WEIR_EABORTED : WEIR_EKAFKA;
    }
    p->in_flight++;
    return WEIR_OK;
}

int64_t
weir_kafka_producer_in_flight(const weir_kafka_producer *p)
{
    return p->in_flight;
}

int
weir_kafka_producer_poll(weir_kafka_producer *p, int timeout_ms)
{
    rd_kafka_poll(p->rk, timeout_ms);
    if (p->delivery_err != WEIR_OK && p->transactional &&
        rd_kafka_fatal_error(p->rk, NULL, 0))
        return WEIR_EFENCED;
    return p->delivery_err;
}

void
weir_kafka_producer_clear_error(weir_kafka_producer *p)
{
    p->delivery_err = WEIR_OK;
}

int
weir_kafka_producer_send_offsets(weir_kafka_producer *p, const char *group_id,
    const weir_kafka_tp *offsets, size_t n, int timeout_ms)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(
            l, offsets[i].topic, offsets[i].partition)
            ->offset = offsets[i].offset;
    rd_kafka_consumer_group_metadata_t *md =
        rd_kafka_consumer_group_metadata_new(group_id);
    rd_kafka_error_t *e =
        rd_kafka_send_offsets_to_transaction(p->rk, l, md, timeout_ms);
    rd_kafka_consumer_group_metadata_destroy(md);
    rd_kafka_topic_partition_list_destroy(l);
    return weir__kafka_txn_err(e, p->errstr, sizeof(p->errstr));
}

int
weir_kafka_producer_commit(weir_kafka_producer *p, int timeout_ms)
{
    return weir__kafka_txn_err(rd_kafka_commit_transaction(p->rk, timeout_ms),
        p->errstr, sizeof(p->errstr));
}

int
weir_kafka_producer_abort(weir_kafka_producer *p, int timeout_ms)
{
    p->delivery_err = WEIR_OK;
    return weir__kafka_txn_err(rd_kafka_abort_transaction(p->rk, timeout_ms),
        p->errstr, sizeof(p->errstr));
}

int
weir_kafka_producer_flush(weir_kafka_producer *p, int timeout_ms)
{
    rd_kafka_resp_err_t err = rd_kafka_flush(p->rk, timeout_ms);
    if (err) {
        snprintf(
            p->errstr, sizeof(p->errstr), "flush: %s", rd_kafka_err2str(err));
        return weir__kafka_resp_err(err);
    }
    return p->delivery_err;
}

void
weir_kafka_producer_warm(weir_kafka_producer *p, const char *topic)
{
    weir__kafka_warm(p->rk, topic);
}

int
weir_kafka_producer_max_bytes(weir_kafka_producer *p, const char *const *topics,
    size_t n, int64_t *max_bytes, int timeout_ms)
{
    return weir__kafka_max_message_bytes(
        p->rk, topics, n, max_bytes, timeout_ms);
}
