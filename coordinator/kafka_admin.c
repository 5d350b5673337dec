#include "kafka_admin.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "common/err.h"
#include "common/job/job_plan.h"
#include "common/log.h"

#define LOGC "kafka"

struct weir_kafka_admin {
    rd_kafka_t *rk;
    weir_kafka_admin_opts opts;
    char *bootstrap;
};

static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    weir_log_level lvl = level <= 3   ? WEIR_LOG_ERROR
                         : level <= 4 ? WEIR_LOG_WARN
                         : level <= 6 ? WEIR_LOG_INFO
                                      : WEIR_LOG_DEBUG;
    if (weir_log_enabled(lvl, LOGC))
        weir_log(lvl, LOGC, "%s: %s", fac, buf);
}

int
weir_kafka_admin_new(weir_kafka_admin **ap, const weir_kafka_admin_opts *opts,
    char *err, size_t errsize)
{
    weir_kafka_admin *a = calloc(1, sizeof(*a));
    if (!a ||
        !(a->bootstrap = strdup(opts->bootstrap ? opts->bootstrap : ""))) {
        free(a);
        return WEIR_ENOMEM;
    }
    a->opts = *opts;
    a->opts.bootstrap = a->bootstrap;
    if (a->opts.timeout_ms <= 0)
        a->opts.timeout_ms = 10000;
    if (a->opts.default_partitions == 0)
        a->opts.default_partitions = 4;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    if (rd_kafka_conf_set(conf, "bootstrap.servers", a->bootstrap, errstr,
            sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "client.id", "weir-coordinator", errstr,
            sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        snprintf(err, errsize, "%s", errstr);
        rd_kafka_conf_destroy(conf);
        weir_kafka_admin_free(a);
        return WEIR_EKAFKA;
    }
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (!(a->rk = rd_kafka_new(
              RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
        snprintf(err, errsize, "%s", errstr);
        rd_kafka_conf_destroy(conf);
        weir_kafka_admin_free(a);
        return WEIR_EKAFKA;
    }
    *ap = a;
    return WEIR_OK;
}

void
weir_kafka_admin_free(weir_kafka_admin *a)
{
    if (!a)
        return;
    if (a->rk)
        rd_kafka_destroy(a->rk);
    free(a->bootstrap);
    free(a);
}

/* Sets `existing` of each planned topic from cluster metadata. */
static int
fetch_counts(
    weir_kafka_admin *a, weir_job_plan *plan, char *err, size_t errsize)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e =
        rd_kafka_metadata(a->rk, 1, NULL, &md, a->opts.timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errsize, "kafka metadata from %s: %s", a->bootstrap,
            rd_kafka_err2str(e));
        return WEIR_EKAFKA;
    }
    for (size_t i = 0; i < plan->n_topics; i++) {
        weir_job_plan_topic *t = &plan->topics[i];
        t->existing = 0;
        for (int k = 0; k < md->topic_cnt; k++)
            if (strcmp(md->topics[k].topic, t->name) == 0 &&
                md->topics[k].err == RD_KAFKA_RESP_ERR_NO_ERROR)
                t->existing = (uint32_t)md->topics[k].partition_cnt;
    }
    rd_kafka_metadata_destroy(md);
    return WEIR_OK;
}

static int
create_topic(weir_kafka_admin *a, const char *name, uint32_t partitions,
    bool compacted, char *err, size_t errsize)
{
    char errstr[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, (int)partitions,
        a->opts.replication_factor, errstr, sizeof(errstr));
    if (!nt) {
        snprintf(err, errsize, "topic %s: %s", name, errstr);
        return WEIR_EKAFKA;
    }
    if (compacted)
        rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    rd_kafka_queue_t *q = rd_kafka_queue_new(a->rk);
    rd_kafka_AdminOptions_t *ao =
        rd_kafka_AdminOptions_new(a->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(
        ao, a->opts.timeout_ms, errstr, sizeof(errstr));
    rd_kafka_CreateTopics(a->rk, &nt, 1, ao, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, a->opts.timeout_ms + 1000);
    int rv = WEIR_OK;
    if (!ev) {
        snprintf(err, errsize, "create topic %s: timed out", name);
        rv = WEIR_EKAFKA;
    } else if (rd_kafka_event_error(ev)) {
        snprintf(err, errsize, "create topic %s: %s", name,
            rd_kafka_event_error_string(ev));
        rv = WEIR_EKAFKA;
    } else {
        const rd_kafka_CreateTopics_result_t *res =
            rd_kafka_event_CreateTopics_result(ev);
        size_t cnt = 0;
        const rd_kafka_topic_result_t **tr =
            res ? rd_kafka_CreateTopics_result_topics(res, &cnt) : NULL;
        for (size_t i = 0; i < cnt; i++) {
            rd_kafka_resp_err_t te = rd_kafka_topic_result_error(tr[i]);
            if (te != RD_KAFKA_RESP_ERR_NO_ERROR &&
                te != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                const char *m = rd_kafka_topic_result_error_string(tr[i]);
                snprintf(err, errsize, "create topic %s: %s", name,
                    m ? m : rd_kafka_err2str(te));
                rv = WEIR_EKAFKA;
            }
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    if (rv == WEIR_OK)
        weir_log_info(LOGC, "created topic=%s partitions=%u compacted=%d", name,
            partitions, compacted);
    return rv;
}

int
weir_kafka_admin_plan(weir_kafka_admin *a, const Weir__Topology__Topology *topo,
    uint32_t *sub_tasks, char *err, size_t errsize)
{
    weir_job_plan plan;
    int rv = weir_job_plan_init(&plan, topo);
    if (rv != WEIR_OK)
        return rv;
    rv = fetch_counts(a, &plan, err, errsize);
    if (rv != WEIR_OK)
        goto out;
    weir_job_plan_resolve(&plan, topo, a->opts.default_partitions);
    if (plan.error[0]) {
        snprintf(err, errsize, "%s", plan.error);
        rv = WEIR_EINVAL;
    }
    for (size_t i = 0; i < plan.n_topics && rv == WEIR_OK; i++) {
        const weir_job_plan_topic *t = &plan.topics[i];
        if (t->create)
            rv = create_topic(
                a, t->name, t->partitions, t->compacted, err, errsize);
    }
    if (rv == WEIR_OK)
        memcpy(sub_tasks, plan.sub_tasks, plan.n_sub * sizeof(*sub_tasks));
out:
    weir_job_plan_fini(&plan);
    return rv;
}

int
weir_kafka_admin_probe(
    weir_kafka_admin *a, int timeout_ms, char *err, size_t errsize)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(a->rk, 0, NULL, &md, timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errsize, "kafka metadata from %s: %s", a->bootstrap,
            rd_kafka_err2str(e));
        return WEIR_EKAFKA;
    }
    rd_kafka_metadata_destroy(md);
    return WEIR_OK;
}
