/* Topic administration: part of the Kafka adapter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "kafka.h"
#include "kafka_common.h"

static rd_kafka_t *
admin_client(const char *bootstrap)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (weir__kafka_conf_base(conf, bootstrap, "weir-worker-admin") !=
        WEIR_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        weir_log_error("kafka", "admin client failed err=\"%s\"", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

static int
partitions_of(
    rd_kafka_t *rk, const char *topic, int *partitions, int timeout_ms)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    int rv;
    if (err) {
        rv = weir__kafka_resp_err(err);
    } else if (md->topic_cnt != 1 || md->topics[0].err ||
               md->topics[0].partition_cnt == 0) {
        rv = WEIR_ENOTFOUND;
    } else {
        *partitions = md->topics[0].partition_cnt;
        rv = WEIR_OK;
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return rv;
}

int
weir_kafka_topics_partitions(const char *bootstrap, const char *const *topics,
    size_t n, uint32_t *partitions, int timeout_ms)
{
    rd_kafka_t *rk = admin_client(bootstrap);
    if (!rk)
        return WEIR_EKAFKA;
    /* Every topic's metadata: asking for one by name may create it when
     * the broker auto-creates topics. */
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    int rv = err ? weir__kafka_resp_err(err) : WEIR_OK;
    for (size_t i = 0; rv == WEIR_OK && i < n; i++) {
        partitions[i] = 0;
        for (int k = 0; k < md->topic_cnt; k++)
            if (strcmp(md->topics[k].topic, topics[i]) == 0 &&
                !md->topics[k].err && md->topics[k].partition_cnt > 0)
                partitions[i] = (uint32_t)md->topics[k].partition_cnt;
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return rv;
}

int
weir_kafka_topics_ensure(const char *bootstrap,
    const weir_kafka_topic_spec *topics, size_t n, int timeout_ms, char *err,
    size_t errsize)
{
    if (err && errsize)
        err[0] = '\0';
    if (n == 0)
        return WEIR_OK;
    rd_kafka_t *rk = admin_client(bootstrap);
    if (!rk)
        return WEIR_EKAFKA;
    rd_kafka_NewTopic_t **nt = calloc(n, sizeof(*nt));
    char e[256];
    int rv = nt ? WEIR_OK : WEIR_ENOMEM;
    for (size_t i = 0; rv == WEIR_OK && i < n; i++) {
        /* -1: the cluster's default.replication.factor (KIP-464) */
        nt[i] = rd_kafka_NewTopic_new(
            topics[i].name, topics[i].partitions, -1, e, sizeof(e));
        if (!nt[i]) {
            if (err)
                snprintf(err, errsize, "topic %s: %s", topics[i].name, e);
            rv = WEIR_EINVAL;
            break;
        }
        if (topics[i].compacted)
            rd_kafka_NewTopic_set_config(nt[i], "cleanup.policy", "compact");
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = NULL;
    if (rv == WEIR_OK) {
        ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_AdminOptions_set_operation_timeout(
            ao, timeout_ms, e, sizeof(e));
        rd_kafka_AdminOptions_set_request_timeout(ao, timeout_ms, e, sizeof(e));
        rd_kafka_CreateTopics(rk, nt, n, ao, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 2000);
        if (!ev) {
            rv = WEIR_ETIMEDOUT;
            if (err)
                snprintf(err, errsize, "create topics timed out");
        } else if (rd_kafka_event_error(ev)) {
            rv = WEIR_EKAFKA;
            if (err)
                snprintf(err, errsize, "create topics: %s",
                    rd_kafka_event_error_string(ev));
        } else {
            const rd_kafka_CreateTopics_result_t *res =
                rd_kafka_event_CreateTopics_result(ev);
            size_t cnt = 0;
            const rd_kafka_topic_result_t **tr =
                rd_kafka_CreateTopics_result_topics(res, &cnt);
            for (size_t i = 0; i < cnt; i++) {
                rd_kafka_resp_err_t te = rd_kafka_topic_result_error(tr[i]);
                if (te == RD_KAFKA_RESP_ERR_NO_ERROR) {
                    weir_log_info("worker", "created topic topic=%s",
                        rd_kafka_topic_result_name(tr[i]));
                } else if (te != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                    rv = WEIR_EKAFKA;
                    if (err)
                        snprintf(err, errsize, "create topic %s: %s",
                            rd_kafka_topic_result_name(tr[i]),
                            rd_kafka_topic_result_error_string(tr[i])
                                ? rd_kafka_topic_result_error_string(tr[i])
                                : rd_kafka_err2str(te));
                }
            }
        }
        if (ev)
            rd_kafka_event_destroy(ev);
    }
    /* Wait until every topic is visible in metadata, so that the first
     * produce or assign does not race topic creation. */
    for (size_t i = 0; rv == WEIR_OK && i < n; i++) {
        int parts = 0, tries = 0, prv;
        while ((prv = partitions_of(rk, topics[i].name, &parts, 2000)) !=
                   WEIR_OK &&
               tries++ < 50)
            weir_clock_sleep_ms(100);
        if (prv != WEIR_OK) {
            rv = prv;
            if (err)
                snprintf(err, errsize, "topic %s not visible after create",
                    topics[i].name);
        }
    }
    if (ao)
        rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    for (size_t i = 0; nt && i < n; i++)
        if (nt[i])
            rd_kafka_NewTopic_destroy(nt[i]);
    free(nt);
    rd_kafka_destroy(rk);
    return rv;
}

static int
describe_result(
    rd_kafka_event_t *ev, const char *const *topics, size_t n, int64_t *out)
{
    const rd_kafka_DescribeConfigs_result_t *res =
        rd_kafka_event_DescribeConfigs_result(ev);
    if (!res)
        return WEIR_ETIMEDOUT; /* no event: the queue poll timed out */
    if (rd_kafka_event_error(ev))
        return weir__kafka_resp_err(rd_kafka_event_error(ev));
    size_t nres = 0;
    const rd_kafka_ConfigResource_t **rs =
        rd_kafka_DescribeConfigs_result_resources(res, &nres);
    for (size_t r = 0; r < nres; r++) {
        if (rd_kafka_ConfigResource_error(rs[r]))
            continue;
        const char *name = rd_kafka_ConfigResource_name(rs[r]);
        size_t ncfg = 0;
        const rd_kafka_ConfigEntry_t **cs =
            rd_kafka_ConfigResource_configs(rs[r], &ncfg);
        for (size_t c = 0; c < ncfg; c++) {
            const char *v = rd_kafka_ConfigEntry_value(cs[c]);
            if (strcmp(rd_kafka_ConfigEntry_name(cs[c]), "max.message.bytes"))
                continue;
            for (size_t i = 0; v && i < n; i++)
                if (strcmp(topics[i], name) == 0)
                    out[i] = strtoll(v, NULL, 10);
        }
    }
    return WEIR_OK;
}

int
weir__kafka_max_message_bytes(rd_kafka_t *rk, const char *const *topics,
    size_t n, int64_t *max_bytes, int timeout_ms)
{
    for (size_t i = 0; i < n; i++)
        max_bytes[i] = 0;
    if (n == 0)
        return WEIR_OK;
    rd_kafka_ConfigResource_t **rs = calloc(n, sizeof(*rs));
    if (!rs)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < n; i++)
        rs[i] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topics[i]);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opt =
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    char err[256];
    (void)rd_kafka_AdminOptions_set_request_timeout(
        opt, timeout_ms, err, sizeof(err));
    rd_kafka_DescribeConfigs(rk, rs, n, opt, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    int rv = describe_result(ev, topics, n, max_bytes);
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy_array(rs, n);
    free(rs);
    return rv;
}
