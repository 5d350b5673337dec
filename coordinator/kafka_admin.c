#include "kafka_admin.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "common/err.h"
#include "common/log.h"

#define LOGC "kafka"

struct weir_kafka_admin {
    rd_kafka_t *rk;
    weir_kafka_admin_opts opts;
    char *bootstrap;
};

/* A topic of the job being planned and its partition count (0: missing). */
typedef struct planned {
    const char *name;
    uint32_t partitions;
    uint32_t want; /* for creation, 0: the job's input partitions */
    bool input;
    bool compacted;
} planned;

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

/* Fills partitions of each planned topic from cluster metadata. */
static int
fetch_counts(
    weir_kafka_admin *a, planned *ts, size_t n, char *err, size_t errsize)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e =
        rd_kafka_metadata(a->rk, 1, NULL, &md, a->opts.timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errsize, "kafka metadata from %s: %s", a->bootstrap,
            rd_kafka_err2str(e));
        return WEIR_EKAFKA;
    }
    for (size_t i = 0; i < n; i++) {
        ts[i].partitions = 0;
        for (int t = 0; t < md->topic_cnt; t++)
            if (strcmp(md->topics[t].topic, ts[i].name) == 0 &&
                md->topics[t].err == RD_KAFKA_RESP_ERR_NO_ERROR)
                ts[i].partitions = (uint32_t)md->topics[t].partition_cnt;
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

static planned *
find(planned *ts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ts[i].name, name) == 0)
            return &ts[i];
    return NULL;
}

/* The job's topics: sources and every entry of topo->topics, once each. */
static size_t
collect(const Weir__Topology__Topology *topo, planned *ts)
{
    size_t n = 0;
    for (size_t i = 0; i < topo->n_sources; i++) {
        const char *name = topo->sources[i]->topic;
        if (name && name[0] && !find(ts, n, name))
            ts[n++] = (planned){.name = name, .input = true};
    }
    for (size_t i = 0; i < topo->n_topics; i++) {
        const Weir__Topology__Topic *t = topo->topics[i];
        if (!t->name || !t->name[0])
            continue;
        planned *p = find(ts, n, t->name);
        if (!p) {
            p = &ts[n++];
            *p = (planned){.name = t->name};
        }
        p->want = t->partitions;
        p->input =
            p->input || t->role == WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_INPUT;
        p->compacted = t->compacted ||
                       t->role == WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_CHANGELOG;
    }
    if (topo->dlq_topic && topo->dlq_topic[0] && !find(ts, n, topo->dlq_topic))
        ts[n++] = (planned){.name = topo->dlq_topic};
    return n;
}

int
weir_kafka_admin_plan(weir_kafka_admin *a, const Weir__Topology__Topology *topo,
    uint32_t *sub_tasks, char *err, size_t errsize)
{
    size_t max = topo->n_sources + topo->n_topics + 1;
    planned *ts = calloc(max, sizeof(*ts));
    if (!ts)
        return WEIR_ENOMEM;
    size_t n = collect(topo, ts);
    int rv = fetch_counts(a, ts, n, err, errsize);
    if (rv != WEIR_OK)
        goto out;
    uint32_t inputs = 0;
    for (size_t i = 0; i < n && rv == WEIR_OK; i++) {
        if (!ts[i].input)
            continue;
        if (ts[i].partitions == 0) {
            uint32_t p = ts[i].want ? ts[i].want : a->opts.default_partitions;
            rv = create_topic(a, ts[i].name, p, false, err, errsize);
            ts[i].partitions = p;
        }
        if (ts[i].partitions > inputs)
            inputs = ts[i].partitions;
    }
    if (inputs == 0)
        inputs = a->opts.default_partitions;
    for (size_t i = 0; i < n && rv == WEIR_OK; i++) {
        if (ts[i].input || ts[i].partitions > 0)
            continue;
        uint32_t p = ts[i].want ? ts[i].want : inputs;
        rv = create_topic(a, ts[i].name, p, ts[i].compacted, err, errsize);
        ts[i].partitions = p;
    }
    for (size_t s = 0; s < topo->n_subtopologies && rv == WEIR_OK; s++) {
        const Weir__Topology__Subtopology *sub = topo->subtopologies[s];
        uint32_t count = 0;
        for (size_t i = 0; i < sub->n_input_topics; i++) {
            planned *p = find(ts, n, sub->input_topics[i]);
            if (p && p->partitions > count)
                count = p->partitions;
        }
        sub_tasks[s] = count ? count : inputs;
    }
out:
    free(ts);
    return rv;
}
