/* Whether the worker reaches Kafka: see kafka_probe.h. */
#include "worker/kafka_probe.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"

#define PROBE_INTERVAL_MS 2000
#define PROBE_TIMEOUT_MS 2000

struct weir_kafka_probe {
    rd_kafka_t *rk;
    char *bootstrap;
    pthread_t thread;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    bool stop;
    Weir__Cluster__KafkaState state;
    char why[256];
};

static void
quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)level;
    (void)fac;
    (void)buf; /* the probe's result says it once; librdkafka repeats */
}

static void
record(weir_kafka_probe *p, bool ok, const char *why)
{
    Weir__Cluster__KafkaState now =
        ok ? WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE
           : WEIR__CLUSTER__KAFKA_STATE__KAFKA_UNREACHABLE;
    pthread_mutex_lock(&p->mu);
    Weir__Cluster__KafkaState was = p->state;
    p->state = now;
    snprintf(p->why, sizeof(p->why), "%s", ok ? "" : why);
    pthread_mutex_unlock(&p->mu);
    if (was != now && !ok)
        weir_log_error(
            "worker", "kafka unreachable bootstrap=%s: %s", p->bootstrap, why);
    else if (was != now)
        weir_log_info("worker", "kafka reachable bootstrap=%s", p->bootstrap);
}

static void *
probe_main(void *arg)
{
    weir_kafka_probe *p = arg;
    for (;;) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e =
            rd_kafka_metadata(p->rk, 0, NULL, &md, PROBE_TIMEOUT_MS);
        if (md)
            rd_kafka_metadata_destroy(md);
        record(p, e == RD_KAFKA_RESP_ERR_NO_ERROR, rd_kafka_err2str(e));
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += PROBE_INTERVAL_MS / 1000;
        pthread_mutex_lock(&p->mu);
        while (
            !p->stop && pthread_cond_timedwait(&p->cv, &p->mu, &until) == 0) {
        }
        bool stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            return NULL;
    }
}

int
weir_kafka_probe_start(weir_kafka_probe **out, const char *bootstrap)
{
    *out = NULL;
    weir_kafka_probe *p = calloc(1, sizeof(*p));
    if (!p || !(p->bootstrap = strdup(bootstrap))) {
        free(p);
        return WEIR_ENOMEM;
    }
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err,
            sizeof(err)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "client.id", "weir-worker-probe", err,
            sizeof(err)) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        weir_log_error("worker", "kafka probe: %s", err);
        free(p->bootstrap);
        free(p);
        return WEIR_EINVAL;
    }
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    if (!(p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err)))) {
        rd_kafka_conf_destroy(conf);
        weir_log_error("worker", "kafka probe: %s", err);
        free(p->bootstrap);
        free(p);
        return WEIR_EKAFKA;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->thread, NULL, probe_main, p) != 0) {
        rd_kafka_destroy(p->rk);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p->bootstrap);
        free(p);
        return WEIR_ENOMEM;
    }
    *out = p;
    return WEIR_OK;
}

void
weir_kafka_probe_stop(weir_kafka_probe *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    rd_kafka_destroy(p->rk);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->bootstrap);
    free(p);
}

Weir__Cluster__KafkaState
weir_kafka_probe_state(weir_kafka_probe *p, char *why, size_t whylen)
{
    if (!p) {
        snprintf(why, whylen, "%s", "");
        return WEIR__CLUSTER__KAFKA_STATE__KAFKA_UNKNOWN;
    }
    pthread_mutex_lock(&p->mu);
    Weir__Cluster__KafkaState s = p->state;
    snprintf(why, whylen, "%s", p->why);
    pthread_mutex_unlock(&p->mu);
    return s;
}
