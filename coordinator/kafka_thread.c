/* The coordinator's Kafka thread: see kafka_thread.h. */
#include "server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/job/job.h"
#include "common/log.h"
#include "common/prom.h"

#define LOGC "coordinator"
#define PROBE_INTERVAL_MS 3000
#define PROBE_TIMEOUT_MS 5000

struct weir__kafka_thread {
    weir_coord *co;
    pthread_t thread;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    weir__plan_job *head, *tail;
    bool stop;
    bool reachable;
    bool answered; /* a probe or plan has answered (or failed) */
    char why[256];
};

void
weir__plan_job_free(weir__plan_job *pj)
{
    if (pj == NULL)
        return;
    weir_job_free(pj->topo);
    free(pj->sub_tasks);
    free(pj);
}

/* Records whether Kafka answered; logs when that changes. */
static void
set_reachable(weir__kafka_thread *kt, bool ok, const char *why)
{
    pthread_mutex_lock(&kt->mu);
    bool was = kt->reachable;
    kt->reachable = ok;
    kt->answered = true;
    snprintf(kt->why, sizeof(kt->why), "%s", ok ? "" : why);
    pthread_mutex_unlock(&kt->mu);
    if (was && !ok)
        weir_log_error(LOGC, "kafka unreachable bootstrap=%s: %s",
            kt->co->opts.bootstrap, why);
    else if (!was && ok)
        weir_log_info(
            LOGC, "kafka reachable bootstrap=%s", kt->co->opts.bootstrap);
}

static void
plan(weir__kafka_thread *kt, weir__plan_job *pj)
{
    pj->rv = weir_kafka_admin_plan(
        kt->co->ka, pj->topo, pj->sub_tasks, pj->err, sizeof(pj->err));
    if (pj->rv == WEIR_EKAFKA)
        set_reachable(kt, false, pj->err);
    else if (pj->rv == WEIR_OK)
        set_reachable(kt, true, "");
    weir__work *w = calloc(1, sizeof(*w));
    if (w) {
        w->rctx = pj->rctx;
        w->planned = pj;
    }
    if (!w || !weir__coord_enqueue(kt->co, w)) {
        free(w); /* shutting down: the request goes unanswered */
        weir__plan_job_free(pj);
    }
}

static void *
thread_main(void *arg)
{
    weir__kafka_thread *kt = arg;
    struct timespec next_probe = {0};
    for (;;) {
        pthread_mutex_lock(&kt->mu);
        while (!kt->stop && !kt->head) {
            if (pthread_cond_timedwait(&kt->cv, &kt->mu, &next_probe) != 0)
                break; /* time to probe */
        }
        bool stop = kt->stop;
        weir__plan_job *jobs = kt->head;
        kt->head = kt->tail = NULL;
        pthread_mutex_unlock(&kt->mu);
        if (stop) {
            while (jobs) {
                weir__plan_job *next = jobs->next;
                weir__plan_job_free(jobs);
                jobs = next;
            }
            return NULL;
        }
        if (jobs) {
            while (jobs) {
                weir__plan_job *next = jobs->next;
                plan(kt, jobs);
                jobs = next;
            }
        } else {
            char why[256] = "";
            int rv = weir_kafka_admin_probe(
                kt->co->ka, PROBE_TIMEOUT_MS, why, sizeof(why));
            set_reachable(kt, rv == WEIR_OK, why);
        }
        clock_gettime(CLOCK_REALTIME, &next_probe);
        next_probe.tv_sec += PROBE_INTERVAL_MS / 1000;
    }
}

int
weir__kafka_thread_start(weir_coord *co, weir__kafka_thread **out)
{
    weir__kafka_thread *kt = calloc(1, sizeof(*kt));
    if (!kt)
        return WEIR_ENOMEM;
    kt->co = co;
    kt->reachable = true;
    pthread_mutex_init(&kt->mu, NULL);
    pthread_cond_init(&kt->cv, NULL);
    if (pthread_create(&kt->thread, NULL, thread_main, kt) != 0) {
        pthread_mutex_destroy(&kt->mu);
        pthread_cond_destroy(&kt->cv);
        free(kt);
        return WEIR_ENOMEM;
    }
    *out = kt;
    return WEIR_OK;
}

void
weir__kafka_thread_stop(weir__kafka_thread *kt)
{
    if (!kt)
        return;
    pthread_mutex_lock(&kt->mu);
    kt->stop = true;
    pthread_cond_signal(&kt->cv);
    pthread_mutex_unlock(&kt->mu);
    pthread_join(kt->thread, NULL);
    pthread_mutex_destroy(&kt->mu);
    pthread_cond_destroy(&kt->cv);
    free(kt);
}

void
weir__kafka_thread_plan(weir__kafka_thread *kt, weir__plan_job *pj)
{
    pthread_mutex_lock(&kt->mu);
    pj->next = NULL;
    if (kt->tail)
        kt->tail->next = pj;
    else
        kt->head = pj;
    kt->tail = pj;
    pthread_cond_signal(&kt->cv);
    pthread_mutex_unlock(&kt->mu);
}

bool
weir__kafka_thread_reachable(weir__kafka_thread *kt, char *why, size_t whylen)
{
    pthread_mutex_lock(&kt->mu);
    bool ok = kt->reachable;
    snprintf(why, whylen, "%s", kt->why);
    pthread_mutex_unlock(&kt->mu);
    return ok;
}

char *
weir__kafka_thread_metrics(weir__kafka_thread *kt)
{
    double v = -1;
    if (kt) {
        pthread_mutex_lock(&kt->mu);
        v = !kt->answered ? -1 : kt->reachable ? 1 : 0;
        pthread_mutex_unlock(&kt->mu);
    }
    weir_buf b;
    weir_buf_init(&b);
    int rv = weir_prom_family(&b, "weir_kafka_reachable", "gauge",
        "1 when the coordinator's last Kafka probe answered, 0 when it did "
        "not, -1 before the first.");
    if (rv == WEIR_OK)
        rv = weir_prom_f64(&b, "weir_kafka_reachable", "", v);
    if (rv != WEIR_OK) {
        weir_buf_fini(&b);
        return NULL;
    }
    return b.data;
}
