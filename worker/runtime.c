/* The worker runtime: stream threads owning their tasks; see runtime.h. */
#include "runtime.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/job/job.h"
#include "common/log.h"
#include "runtime_impl.h"
#include "store.h"
#include "task.h"

static void
desired_free(weir_rt_desired *d, size_t n)
{
    for (size_t i = 0; d && i < n; i++)
        free(d[i].job);
    free(d);
}

int
weir_runtime_new(weir_runtime **rtp, const weir_runtime_opts *opts)
{
    if (!opts || !opts->data_dir)
        return WEIR_EINVAL;
    weir_runtime *rt = calloc(1, sizeof(*rt));
    if (!rt)
        return WEIR_ENOMEM;
    pthread_mutex_init(&rt->lock, NULL);
    pthread_mutex_init(&rt->topics_lock, NULL);
    rt->bootstrap = strdup(opts->bootstrap ? opts->bootstrap : "");
    rt->worker_id = strdup(opts->worker_id ? opts->worker_id : "worker");
    rt->consumer_queue_kb = opts->consumer_queue_kb;
    rt->pending_budget = opts->memory_limit_bytes > 0
                             ? (size_t)(opts->memory_limit_bytes / 64)
                             : 0;
    rt->n_threads =
        opts->threads > 0 ? opts->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (rt->n_threads < 1)
        rt->n_threads = 1;
    rt->threads = calloc((size_t)rt->n_threads, sizeof(*rt->threads));
    if (!rt->bootstrap || !rt->worker_id || !rt->threads) {
        weir_runtime_free(rt);
        return WEIR_ENOMEM;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/state", opts->data_dir);
    (void)weir__runtime_mkdirs(opts->data_dir);
    int rv = weir_store_env_open(&rt->env, path, opts->memory_limit_bytes);
    if (rv != WEIR_OK) {
        weir_runtime_free(rt);
        return rv;
    }
    atomic_store(&rt->lease_until_ms, UINT64_MAX);
    for (int i = 0; i < rt->n_threads; i++) {
        rt->threads[i].rt = rt;
        rt->threads[i].idx = i;
    }
    *rtp = rt;
    return WEIR_OK;
}

int
weir_runtime_start(weir_runtime *rt)
{
    if (rt->started)
        return WEIR_ESTATE;
    rt->started = true;
    for (int i = 0; i < rt->n_threads; i++) {
        if (pthread_create(&rt->threads[i].tid, NULL, weir__stream_thread,
                &rt->threads[i]) != 0) {
            atomic_store(&rt->stopping, true);
            for (int j = 0; j < i; j++)
                pthread_join(rt->threads[j].tid, NULL);
            rt->started = false;
            return WEIR_ENOMEM;
        }
        rt->threads[i].running = true;
    }
    weir_log_info("worker", "runtime started threads=%d", rt->n_threads);
    return WEIR_OK;
}

void
weir_runtime_stop(weir_runtime *rt)
{
    if (!rt || !rt->started)
        return;
    atomic_store(&rt->stopping, true);
    for (int i = 0; i < rt->n_threads; i++) {
        if (rt->threads[i].running)
            pthread_join(rt->threads[i].tid, NULL);
        rt->threads[i].running = false;
    }
    rt->started = false;
    weir_log_info("worker", "runtime stopped");
}

void
weir_runtime_free(weir_runtime *rt)
{
    if (!rt)
        return;
    weir_runtime_stop(rt);
    for (int i = 0; rt->threads && i < rt->n_threads; i++)
        weir__thread_status_free(&rt->threads[i]);
    free(rt->threads);
    weir_store_env_close(rt->env);
    desired_free(rt->desired, rt->n_desired);
    for (size_t i = 0; i < rt->n_topos; i++)
        weir_job_free(rt->topos[i]);
    free(rt->topos);
    for (size_t i = 0; i < rt->n_ensured; i++)
        free(rt->ensured[i]);
    free(rt->ensured);
    free(rt->bootstrap);
    free(rt->worker_id);
    pthread_mutex_destroy(&rt->lock);
    pthread_mutex_destroy(&rt->topics_lock);
    free(rt);
}

static const Weir__Topology__Topology *
find_topo(Weir__Topology__Topology *const *topos, size_t n, const char *job)
{
    for (size_t i = 0; i < n; i++)
        if (topos[i] && strcmp(topos[i]->job, job) == 0)
            return topos[i];
    return NULL;
}

static bool
has_sub(const Weir__Topology__Topology *topo, uint32_t sub)
{
    for (size_t i = 0; i < topo->n_subtopologies; i++)
        if (topo->subtopologies[i]->id == sub)
            return true;
    return false;
}

static int
add_desired(weir_rt_desired *d, size_t *n, const Weir__Cluster__TaskId *id,
    bool standby, Weir__Topology__Topology *const *topos, size_t nt)
{
    if (!id || !id->job)
        return WEIR_EINVAL;
    const Weir__Topology__Topology *topo = find_topo(topos, nt, id->job);
    if (!topo || !has_sub(topo, id->subtopology)) {
        weir_log_error("worker",
            "assignment names an unknown task job=%s sub=%u", id->job,
            id->subtopology);
        return WEIR_EINVAL;
    }
    d[*n].job = strdup(id->job);
    if (!d[*n].job)
        return WEIR_ENOMEM;
    d[*n].sub = id->subtopology;
    d[*n].partition = id->partition;
    d[*n].standby = standby;
    (*n)++;
    return WEIR_OK;
}

int
weir_runtime_assign(weir_runtime *rt, const Weir__Cluster__Assignment *as,
    Weir__Topology__Topology *const *topologies, size_t n)
{
    size_t cnt = as->n_active + as->n_standby;
    weir_rt_desired *d = calloc(cnt ? cnt : 1, sizeof(*d));
    if (!d)
        return WEIR_ENOMEM;
    size_t nd = 0;
    int rv = WEIR_OK;
    for (size_t i = 0; rv == WEIR_OK && i < as->n_active; i++)
        rv = add_desired(d, &nd, as->active[i], false, topologies, n);
    for (size_t i = 0; rv == WEIR_OK && i < as->n_standby; i++)
        rv = add_desired(d, &nd, as->standby[i], true, topologies, n);
    /* Copy the topologies the assignment needs. */
    Weir__Topology__Topology **topos = calloc(n ? n : 1, sizeof(*topos));
    size_t ntopo = 0;
    if (!topos && rv == WEIR_OK)
        rv = WEIR_ENOMEM;
    for (size_t i = 0; rv == WEIR_OK && i < n; i++) {
        bool used = false;
        for (size_t k = 0; k < nd && !used; k++)
            used = strcmp(d[k].job, topologies[i]->job) == 0;
        if (!used)
            continue;
        if (!(topos[ntopo] = weir_job_copy(topologies[i])))
            rv = WEIR_ENOMEM;
        else
            ntopo++;
    }
    if (rv != WEIR_OK) {
        desired_free(d, nd);
        for (size_t i = 0; i < ntopo; i++)
            weir_job_free(topos[i]);
        free(topos);
        return rv;
    }
    pthread_mutex_lock(&rt->lock);
    weir_rt_desired *old_d = rt->desired;
    size_t old_nd = rt->n_desired;
    Weir__Topology__Topology **old_t = rt->topos;
    size_t old_nt = rt->n_topos;
    rt->desired = d;
    rt->n_desired = nd;
    rt->topos = topos;
    rt->n_topos = ntopo;
    rt->generation++;
    pthread_mutex_unlock(&rt->lock);
    /* Threads copy what they need under the lock, so the old ones can go. */
    desired_free(old_d, old_nd);
    for (size_t i = 0; i < old_nt; i++)
        weir_job_free(old_t[i]);
    free(old_t);
    weir_log_info("worker", "assignment active=%zu standby=%zu", as->n_active,
        as->n_standby);
    return WEIR_OK;
}

void
weir_runtime_set_lease(weir_runtime *rt, uint64_t until_ms)
{
    atomic_store(&rt->lease_until_ms, until_ms);
}

void
weir_runtime_set_bootstrap(weir_runtime *rt, const char *bootstrap)
{
    char *dup = strdup(bootstrap ? bootstrap : "");
    if (!dup)
        return;
    pthread_mutex_lock(&rt->lock);
    free(rt->bootstrap);
    rt->bootstrap = dup;
    pthread_mutex_unlock(&rt->lock);
}

bool
weir_runtime_failed(weir_runtime *rt)
{
    return atomic_load(&rt->failed);
}

void
weir_runtime_totals_get(weir_runtime *rt, weir_runtime_totals *tot)
{
    memset(tot, 0, sizeof(*tot));
    pthread_mutex_lock(&rt->lock);
    for (int i = 0; i < rt->n_threads; i++) {
        weir_rt_thread *th = &rt->threads[i];
        for (size_t k = 0; k < th->n_status; k++) {
            const weir_task_stats *s = &th->status[k].stats;
            tot->records_in += s->records_in;
            tot->records_out += s->records_out;
            tot->commits += s->commits;
            tot->aborts += s->aborts;
            tot->commit_latency_sum_ms += s->latency_sum_ms;
            tot->tasks_total++;
            if (s->state == WEIR_TASK_RUNNING)
                tot->tasks_running++;
            if (s->state == WEIR_TASK_FENCED)
                tot->tasks_fenced++;
            if (s->state == WEIR_TASK_FAILED)
                tot->tasks_failed++;
        }
    }
    tot->records_in += rt->retired.records_in;
    tot->records_out += rt->retired.records_out;
    tot->commits += rt->retired.commits;
    tot->aborts += rt->retired.aborts;
    tot->commit_latency_sum_ms += rt->retired.latency_sum_ms;
    pthread_mutex_unlock(&rt->lock);
}
