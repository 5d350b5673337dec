/* Stream threads: each owns its tasks and runs them in turn. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/array.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "job_topics.h"
#include "ownership.h"
#include "runtime_impl.h"

#define PUBLISH_INTERVAL_MS 100

int
weir__runtime_mkdirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return WEIR_EIO;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return WEIR_EIO;
    return WEIR_OK;
}

/* Which thread owns a task: spreads partitions of each subtopology. */
static int
owner(const weir_runtime *rt, const char *job, uint32_t sub, uint32_t part)
{
    uint32_t h = 2166136261u;
    for (const char *p = job; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return (int)((h + sub * 7u + part) % (uint32_t)rt->n_threads);
}

static void
status_fini(weir_rt_status *s)
{
    free(s->job);
    for (size_t i = 0; s->topics && i < s->n_inputs; i++)
        free(s->topics[i]);
    free(s->topics);
    free(s->committed);
    for (size_t i = 0; s->stores && i < s->n_stores; i++)
        free(s->stores[i]);
    free(s->stores);
    free(s->ckpts);
}

static void
status_free(weir_rt_status *st, size_t n)
{
    for (size_t i = 0; st && i < n; i++)
        status_fini(&st[i]);
    free(st);
}

void
weir__thread_status_free(weir_rt_thread *th)
{
    status_free(th->status, th->n_status);
    th->status = NULL;
    th->n_status = 0;
}

static int
status_fill(weir_rt_status *s, const weir_task *t)
{
    s->job = strdup(weir_task_job(t));
    s->sub = weir_task_sub(t);
    s->partition = weir_task_partition(t);
    weir_task_stats_get(t, &s->stats);
    s->n_inputs = weir_task_n_inputs(t);
    s->topics = calloc(s->n_inputs + 1, sizeof(*s->topics));
    s->committed = calloc(s->n_inputs + 1, sizeof(*s->committed));
    s->n_stores = weir_task_n_stores(t);
    s->stores = calloc(s->n_stores + 1, sizeof(*s->stores));
    s->ckpts = calloc(s->n_stores + 1, sizeof(*s->ckpts));
    if (!s->job || !s->topics || !s->committed || !s->stores || !s->ckpts)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < s->n_inputs; i++) {
        const char *topic;
        weir_task_input(t, i, &topic, &s->committed[i]);
        if (!(s->topics[i] = strdup(topic)))
            return WEIR_ENOMEM;
    }
    for (size_t i = 0; i < s->n_stores; i++) {
        const char *store;
        weir_task_store_ckpt(t, i, &store, &s->ckpts[i]);
        if (!(s->stores[i] = strdup(store)))
            return WEIR_ENOMEM;
    }
    return WEIR_OK;
}

static void
publish(weir_rt_thread *th)
{
    weir_runtime *rt = th->rt;
    weir_rt_status *st = calloc(th->n_tasks + 1, sizeof(*st));
    if (!st)
        return;
    size_t n = 0;
    for (size_t i = 0; i < th->n_tasks; i++, n++) {
        if (status_fill(&st[n], th->tasks[i]) != WEIR_OK) {
            status_free(st, n + 1);
            return;
        }
        if (st[n].stats.state == WEIR_TASK_FAILED)
            atomic_store(&rt->failed, true);
    }
    pthread_mutex_lock(&rt->lock);
    weir_rt_status *old = th->status;
    size_t old_n = th->n_status;
    th->status = st;
    th->n_status = n;
    pthread_mutex_unlock(&rt->lock);
    status_free(old, old_n);
}

/*
 * What a stream thread does with an error a task returned (task.h). A
 * fenced task is expected (another owner took over, or the coordinator
 * will confirm that it is still ours and weir_task_reset restarts it): it
 * waits, and was logged once as a warning when fenced. A retriable error
 * left the task CREATED: it starts again at a later turn (logged by the
 * task). A failed task fails the worker (on_error: fail, or an
 * unrecoverable error).
 */
static void
task_error(weir_runtime *rt, const weir_task *t, int rv)
{
    if (rv == WEIR_OK || rv == WEIR_EFENCED || rv == WEIR_EAGAIN)
        return;
    if (weir_task_get_state(t) == WEIR_TASK_FAILED)
        atomic_store(&rt->failed, true);
    else if (rv == WEIR_ECLOSED) /* closed tasks leave th->tasks at once */
        weir_log_error(
            "worker", "step on a closed task task=%s", weir_task_name(t));
}

/* Commits (when running) and closes a task, keeping its counters. */
static void
retire(weir_rt_thread *th, weir_task *t)
{
    weir_runtime *rt = th->rt;
    /* A stopped task has nothing to commit: its sticky error (a fenced
     * one is the usual case, as the task moved away) is no failure here. */
    int rv = weir_task_commit(t);
    weir_task_stats s;
    weir_task_stats_get(t, &s);
    weir_log_info("worker",
        "task stopped task=%s state=%s in=%llu out=%llu commit=%s",
        weir_task_name(t), weir_task_state_name(s.state),
        (unsigned long long)s.records_in, (unsigned long long)s.records_out,
        weir_err_name(rv));
    weir_task_close(t);
    weir_task_free(t);
    pthread_mutex_lock(&rt->lock);
    rt->retired.records_in += s.records_in;
    rt->retired.records_out += s.records_out;
    rt->retired.commits += s.commits;
    rt->retired.aborts += s.aborts;
    rt->retired.latency_sum_ms += s.latency_sum_ms;
    pthread_mutex_unlock(&rt->lock);
}

static bool
same(const weir_task *t, const weir_rt_desired *d)
{
    return strcmp(weir_task_job(t), d->job) == 0 &&
           weir_task_sub(t) == d->sub &&
           weir_task_partition(t) == d->partition &&
           weir_task_is_standby(t) == d->standby;
}

/* Applies the desired assignment to this thread's tasks. */
static void
sync_tasks(weir_rt_thread *th)
{
    weir_runtime *rt = th->rt;
    weir_task **want = NULL;
    size_t n_want = 0;
    bool *keep = calloc(th->n_tasks + 1, sizeof(*keep));
    if (!keep)
        return;
    pthread_mutex_lock(&rt->lock);
    th->generation = rt->generation;
    want = calloc(rt->n_desired + 1, sizeof(*want));
    for (size_t i = 0; want && i < rt->n_desired; i++) {
        const weir_rt_desired *d = &rt->desired[i];
        if (owner(rt, d->job, d->sub, d->partition) != th->idx)
            continue;
        bool have = false;
        for (size_t k = 0; k < th->n_tasks; k++) {
            if (same(th->tasks[k], d)) {
                keep[k] = true;
                have = true;
            }
        }
        if (have)
            continue;
        const Weir__Topology__Topology *topo = NULL;
        for (size_t k = 0; k < rt->n_topos; k++)
            if (strcmp(rt->topos[k]->job, d->job) == 0)
                topo = rt->topos[k];
        weir_task_opts o = {.bootstrap = rt->bootstrap,
            .worker_id = rt->worker_id,
            .env = rt->env,
            .standby = d->standby,
            .consumer_queue_kb = rt->consumer_queue_kb,
            .pending_budget_bytes = rt->pending_budget,
            .stopping = &rt->stopping};
        weir_task *t = NULL;
        if (topo &&
            weir_task_new(&t, topo, d->sub, d->partition, &o) == WEIR_OK)
            want[n_want++] = t;
        else
            atomic_store(&rt->failed, true);
    }
    pthread_mutex_unlock(&rt->lock);
    size_t n = 0;
    for (size_t k = 0; k < th->n_tasks; k++) {
        weir_task *t = th->tasks[k];
        switch (weir_ownership_on_assignment(weir_task_get_state(t), keep[k])) {
        case WEIR_OWNERSHIP_RETIRE:
            retire(th, t);
            continue;
        case WEIR_OWNERSHIP_RESTART:
            if (weir_task_reset(t) != WEIR_OK) /* only FENCED gets here */
                weir_log_error("worker", "cannot restart task=%s state=%s",
                    weir_task_name(t),
                    weir_task_state_name(weir_task_get_state(t)));
            break;
        case WEIR_OWNERSHIP_KEEP:
            break;
        }
        th->tasks[n++] = t;
    }
    th->n_tasks = n;
    free(keep);
    if (n_want) {
        size_t cap = th->n_tasks;
        if (weir_array_reserve(&th->tasks, &cap, th->n_tasks + n_want,
                sizeof(*th->tasks)) == WEIR_OK) {
            for (size_t i = 0; i < n_want; i++)
                th->tasks[th->n_tasks++] = want[i];
        } else {
            for (size_t i = 0; i < n_want; i++)
                weir_task_free(want[i]);
        }
    }
    free(want);
    publish(th);
}

static bool
topics_ready(weir_runtime *rt, const weir_task *t)
{
    const Weir__Topology__Topology *topo = weir_task_topology(t);
    bool ok = false;
    pthread_mutex_lock(&rt->topics_lock);
    for (size_t i = 0; i < rt->n_ensured && !ok; i++)
        ok = strcmp(rt->ensured[i], topo->job) == 0;
    if (!ok) {
        char err[256] = "";
        pthread_mutex_lock(&rt->lock);
        char *bs = strdup(rt->bootstrap);
        pthread_mutex_unlock(&rt->lock);
        int rv = bs ? weir_job_topics_ensure(bs, topo, NULL, err, sizeof(err))
                    : WEIR_ENOMEM;
        free(bs);
        if (rv == WEIR_OK) {
            char *job = strdup(topo->job);
            if (job == NULL || weir_array_append(&rt->ensured, &rt->n_ensured,
                                   &job, sizeof(job)) != WEIR_OK)
                free(job);
            ok = true;
        } else {
            weir_log_warn("worker", "cannot create topics job=%s err=\"%s\"",
                topo->job, err);
        }
    }
    pthread_mutex_unlock(&rt->topics_lock);
    return ok;
}

/* Whether this worker may start a task now (weir_runtime_set_lease). */
static bool
lease_valid(weir_runtime *rt)
{
    return weir_ownership_may_start(
        weir_clock_mono_ms(), atomic_load(&rt->lease_until_ms));
}

void *
weir__stream_thread(void *arg)
{
    weir_rt_thread *th = arg;
    weir_runtime *rt = th->rt;
    uint64_t last_publish = 0;
    bool idle = false;
    while (!atomic_load(&rt->stopping)) {
        pthread_mutex_lock(&rt->lock);
        bool changed = th->generation != rt->generation;
        pthread_mutex_unlock(&rt->lock);
        if (changed)
            sync_tasks(th);
        if (th->n_tasks == 0) {
            weir_clock_sleep_ms(20);
            continue;
        }
        int poll_ms = idle ? (int)(20 / th->n_tasks) + 1 : 0;
        bool any = false;
        size_t active = 0;
        for (size_t i = 0; i < th->n_tasks && !atomic_load(&rt->stopping);
             i++) {
            weir_task *t = th->tasks[i];
            bool busy = false;
            if (weir_task_get_state(t) == WEIR_TASK_CREATED) {
                if (lease_valid(rt) && topics_ready(rt, t)) {
                    int rv = weir_task_start(t);
                    if (rv == WEIR_EAGAIN)
                        weir_clock_sleep_ms(5);
                    task_error(rt, t, rv);
                }
                continue;
            }
            task_error(rt, t, weir_task_step(t, poll_ms, &busy));
            weir_task_state st = weir_task_get_state(t);
            if (st == WEIR_TASK_RUNNING || st == WEIR_TASK_STANDBY)
                active++;
            any = any || busy;
        }
        idle = !any;
        if (active == 0)
            weir_clock_sleep_ms(20);
        uint64_t now = weir_clock_mono_ms();
        if (now - last_publish >= PUBLISH_INTERVAL_MS) {
            publish(th);
            last_publish = now;
        }
    }
    for (size_t i = 0; i < th->n_tasks; i++)
        retire(th, th->tasks[i]);
    th->n_tasks = 0;
    free(th->tasks);
    th->tasks = NULL;
    publish(th);
    return NULL;
}
