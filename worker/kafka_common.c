#include "kafka_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

int
weir__kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char err[256];
    if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) !=
        RD_KAFKA_CONF_OK) {
        weir_log_error("kafka", "bad client setting name=%s value=%s err=%s",
            name, value, err);
        return WEIR_EINVAL;
    }
    return WEIR_OK;
}

static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    weir_log_level lvl = level <= 3   ? WEIR_LOG_ERROR
                         : level <= 5 ? WEIR_LOG_WARN
                         : level == 6 ? WEIR_LOG_INFO
                                      : WEIR_LOG_DEBUG;
    /* librdkafka is chatty about broker connections going away, which the
     * tests cause on purpose: those are warnings at most. */
    if (lvl == WEIR_LOG_ERROR)
        lvl = WEIR_LOG_WARN;
    if (lvl == WEIR_LOG_DEBUG && !weir_log_enabled(WEIR_LOG_DEBUG, "kafka"))
        return;
    weir_log(lvl, "kafka", "%s client=%s", buf, rd_kafka_name(rk));
    (void)fac;
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    weir_log_debug("kafka", "client error client=%s err=%s reason=\"%s\"",
        rd_kafka_name(rk), rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

int
weir__kafka_conf_base(
    rd_kafka_conf_t *conf, const char *bootstrap, const char *client_id)
{
    int rv;
    if ((rv = weir__kafka_conf_set(conf, "bootstrap.servers", bootstrap)) !=
            WEIR_OK ||
        (rv = weir__kafka_conf_set(conf, "client.id",
             client_id ? client_id : "weir-worker")) != WEIR_OK ||
        (rv = weir__kafka_conf_set(conf, "log.connection.close", "false")) !=
            WEIR_OK ||
        (rv = weir__kafka_conf_set(conf, "socket.nagle.disable", "true")) !=
            WEIR_OK ||
        (rv = weir__kafka_conf_set(conf, "reconnect.backoff.ms", "20")) !=
            WEIR_OK ||
        (rv = weir__kafka_conf_set(conf, "reconnect.backoff.max.ms", "500")) !=
            WEIR_OK)
        return rv;
    /* librdkafka's own debug contexts, for diagnosing client behaviour. */
    const char *contexts = getenv("WEIR_KAFKA_DEBUG");
    if (contexts && *contexts &&
        (rv = weir__kafka_conf_set(conf, "debug", contexts)) != WEIR_OK)
        return rv;
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    return WEIR_OK;
}

int
weir__kafka_resp_err(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return WEIR_OK;
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
        return WEIR_EFENCED;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        return WEIR_ETIMEDOUT;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        return WEIR_EAGAIN;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return WEIR_ENOTFOUND;
    default:
        return WEIR_EKAFKA;
    }
}

int
weir__kafka_txn_err(rd_kafka_error_t *error, char *msg, size_t size)
{
    if (!error)
        return WEIR_OK;
    /* A fatal error leaves the producer unusable, and for a transactional
     * producer it almost always means a newer owner bumped the epoch: it
     * is fencing, whatever its code. Only a fresh init_transactions
     * helps, and that fences whoever owns the id now, so the task must
     * not retry it on its own (docs/exactly-once.md, "Liveness"). */
    int rv;
    if (weir__kafka_resp_err(rd_kafka_error_code(error)) == WEIR_EFENCED ||
        rd_kafka_error_is_fatal(error))
        rv = WEIR_EFENCED;
    else if (rd_kafka_error_txn_requires_abort(error))
        rv = WEIR_EABORTED;
    else if (rd_kafka_error_is_retriable(error))
        rv = WEIR_ETIMEDOUT;
    else
        rv = WEIR_EKAFKA;
    if (msg && size)
        snprintf(msg, size, "%s: %s", rd_kafka_error_name(error),
            rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    return rv;
}

void
weir__kafka_warm(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (!rkt)
        return;
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
}
