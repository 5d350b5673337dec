#include "cluster_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/err.h"
#include "common/job/job.h"
#include "common/log.h"

#define LOGC "coordinator"

const double weir_cluster_lat_bounds_ms[WEIR_CLUSTER_LAT_BUCKETS - 1] = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};

weir_cluster *
weir_cluster_new(const weir_cluster_opts *opts)
{
    weir_cluster *cl = calloc(1, sizeof(*cl));
    if (!cl)
        return NULL;
    cl->opts = *opts;
    if (!cl->opts.stuck_task_ms)
        cl->opts.stuck_task_ms = 15000;
    cl->opts.bootstrap = strdup(opts->bootstrap ? opts->bootstrap : "");
    if (!cl->opts.bootstrap) {
        free(cl);
        return NULL;
    }
    return cl;
}

void
weir_cluster_free(weir_cluster *cl)
{
    if (!cl)
        return;
    for (size_t i = 0; i < cl->n_members; i++) {
        free(cl->members[i].id);
        free(cl->members[i].address);
        free(cl->members[i].local);
    }
    for (size_t i = 0; i < cl->n_jobs; i++) {
        weir_job_free(cl->jobs[i].topo);
        free(cl->jobs[i].sub_tasks);
    }
    free(cl->members);
    free(cl->jobs);
    free(cl->tasks);
    free((char *)cl->opts.bootstrap);
    free(cl);
}

int
weir__cluster_job_find(const weir_cluster *cl, const char *name)
{
    for (size_t i = 0; i < cl->n_jobs; i++)
        if (strcmp(cl->jobs[i].topo->job, name) == 0)
            return (int)i;
    return -1;
}

int
weir__cluster_member_find(const weir_cluster *cl, const char *id)
{
    for (size_t i = 0; i < cl->n_members; i++)
        if (strcmp(cl->members[i].id, id) == 0)
            return (int)i;
    return -1;
}

static int
task_cmp(const weir__task *a, uint32_t job, uint32_t sub, uint32_t part)
{
    if (a->job != job)
        return a->job < job ? -1 : 1;
    if (a->sub != sub)
        return a->sub < sub ? -1 : 1;
    if (a->part != part)
        return a->part < part ? -1 : 1;
    return 0;
}

static int
task_find_idx(const weir_cluster *cl, uint32_t job, uint32_t sub, uint32_t part)
{
    size_t lo = 0, hi = cl->n_tasks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = task_cmp(&cl->tasks[mid], job, sub, part);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int
weir__cluster_task_find(
    const weir_cluster *cl, const char *job, uint32_t sub, uint32_t part)
{
    if (!job)
        return -1;
    int j = weir__cluster_job_find(cl, job);
    return j < 0 ? -1 : task_find_idx(cl, (uint32_t)j, sub, part);
}

int
weir__cluster_member_add(weir_cluster *cl, const char *id)
{
    if (weir_array_reserve(&cl->members, &cl->cap_members, cl->n_members + 1,
            sizeof(*cl->members)) != WEIR_OK)
        return -1;
    weir__member *m = &cl->members[cl->n_members];
    memset(m, 0, sizeof(*m));
    m->state = WEIR__MEMBER_DEAD;
    m->capacity = 1;
    if (!(m->id = strdup(id)) || !(m->address = strdup(""))) {
        free(m->id);
        return -1;
    }
    return (int)cl->n_members++;
}

static bool
wanted(const weir_cluster *cl, const weir__task *t)
{
    const weir__job *j = &cl->jobs[t->job];
    return j->state != WEIR__CLUSTER__JOB_STATE__JOB_CANCELLED &&
           t->sub < j->n_sub && t->part < j->sub_tasks[t->sub];
}

static int
task_order(const void *a, const void *b)
{
    const weir__task *x = a, *y = b;
    return task_cmp(x, y->job, y->sub, y->part);
}

void
weir__cluster_tasks_sort(weir_cluster *cl)
{
    qsort(cl->tasks, cl->n_tasks, sizeof(*cl->tasks), task_order);
}

int
weir__cluster_tasks_rebuild(weir_cluster *cl)
{
    size_t n = 0;
    for (size_t j = 0; j < cl->n_jobs; j++)
        if (cl->jobs[j].state != WEIR__CLUSTER__JOB_STATE__JOB_CANCELLED)
            for (size_t s = 0; s < cl->jobs[j].n_sub; s++)
                n += cl->jobs[j].sub_tasks[s];
    for (size_t k = 0; k < cl->n_tasks; k++)
        n += !wanted(cl, &cl->tasks[k]) && cl->tasks[k].running >= 0;
    weir__task *tasks = calloc(n ? n : 1, sizeof(*tasks));
    if (!tasks)
        return WEIR_ENOMEM;
    size_t k = 0;
    for (size_t j = 0; j < cl->n_jobs; j++) {
        if (cl->jobs[j].state == WEIR__CLUSTER__JOB_STATE__JOB_CANCELLED)
            continue;
        for (uint32_t s = 0; s < cl->jobs[j].n_sub; s++) {
            for (uint32_t p = 0; p < cl->jobs[j].sub_tasks[s]; p++) {
                weir__task *t = &tasks[k++];
                int old = task_find_idx(cl, (uint32_t)j, s, p);
                if (old >= 0) {
                    *t = cl->tasks[old];
                    t->orphan = false;
                    continue;
                }
                t->job = (uint32_t)j;
                t->sub = s;
                t->part = p;
                t->target = t->running = -1;
            }
        }
    }
    for (size_t i = 0; i < cl->n_tasks; i++) {
        const weir__task *old = &cl->tasks[i];
        if (wanted(cl, old) || old->running < 0)
            continue;
        weir__task *t = &tasks[k++];
        *t = *old;
        t->orphan = true;
        t->target = -1;
        t->n_standbys = 0;
    }
    qsort(tasks, n, sizeof(*tasks), task_order);
    /* Reported local state refers to task indices: remap it. */
    weir__task *old_tasks = cl->tasks;
    size_t old_n = cl->n_tasks;
    cl->tasks = tasks;
    cl->n_tasks = n;
    for (size_t i = 0; i < cl->n_members; i++) {
        weir__member *m = &cl->members[i];
        size_t keep = 0;
        for (size_t l = 0; l < m->n_local; l++) {
            if (m->local[l].task >= old_n)
                continue;
            const weir__task *o = &old_tasks[m->local[l].task];
            int nk = task_find_idx(cl, o->job, o->sub, o->part);
            if (nk < 0 || cl->tasks[nk].orphan)
                continue;
            m->local[keep] = m->local[l];
            m->local[keep++].task = (uint32_t)nk;
        }
        m->n_local = keep;
    }
    free(old_tasks);
    return WEIR_OK;
}

static bool
is_standby(const weir__task *t, int32_t w)
{
    for (uint32_t i = 0; i < t->n_standbys; i++)
        if (t->standbys[i] == w)
            return true;
    return false;
}

/* What member w should run now (two-phase), see cluster.h. */
bool
weir__cluster_runs_active(const weir__task *t, int32_t w)
{
    return t->running == w && t->target == w;
}

bool
weir__cluster_runs_standby(const weir__task *t, int32_t w)
{
    if (weir__cluster_runs_active(t, w))
        return false;
    /* a pending move: the target warms up while the old owner stops */
    return is_standby(t, w) || (t->target == w && t->running != w);
}

void
weir__cluster_publish_counts(weir_cluster *cl)
{
    for (size_t i = 0; i < cl->n_members; i++)
        cl->members[i].n_active = cl->members[i].n_standby =
            cl->members[i].n_pending = 0;
    for (size_t k = 0; k < cl->n_tasks; k++) {
        const weir__task *t = &cl->tasks[k];
        if (t->running >= 0 && weir__cluster_runs_active(t, t->running))
            cl->members[t->running].n_active++;
        else if (t->running >= 0)
            cl->members[t->running].n_pending++;
        for (uint32_t i = 0; i < t->n_standbys; i++)
            cl->members[t->standbys[i]].n_standby++;
        if (t->target >= 0 && t->running != t->target)
            cl->members[t->target].n_standby++;
    }
}

void
weir__cluster_bump_generation(weir_cluster *cl)
{
    cl->generation++;
    cl->dirty = true;
    weir__cluster_publish_counts(cl);
}

/* Hands pending tasks over where the phase allows it. True if changed. */
bool
weir__cluster_apply_phase(weir_cluster *cl)
{
    bool changed = false;
    for (size_t k = 0; k < cl->n_tasks; k++) {
        weir__task *t = &cl->tasks[k];
        if (t->running >= 0 &&
            cl->members[t->running].state == WEIR__MEMBER_DEAD) {
            t->running = -1;
            changed = true;
        }
        int32_t now = weir_assignor_phase(t->running, t->target);
        if (now >= 0 && t->running != now) {
            t->running = now;
            /* a new owner: the old one's status no longer describes it */
            memset(&t->st, 0, sizeof(t->st));
            changed = true;
        }
    }
    return changed;
}

static bool
holds_tasks(const weir__member *m)
{
    return m->n_active + m->n_pending > 0;
}

/* The Kafka states in order of preference: a worker is given tasks only
 * while no alive worker is in a better one. REACHABLE first; UNKNOWN (its
 * probe has not answered yet: a moment after it starts) only when no
 * worker is known to reach Kafka, so that a new worker gets nothing before
 * its probe answers; UNREACHABLE last (a Kafka outage: moving tasks would
 * only add restarts). */
static int
kafka_rank(const weir__member *m)
{
    switch (m->kafka) {
    case WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE:
        return 0;
    case WEIR__CLUSTER__KAFKA_STATE__KAFKA_UNREACHABLE:
        return 2;
    default:
        /* Not probed yet. A worker that runs tasks already (the
         * coordinator restarted, or the worker did, keeping its tasks)
         * keeps them as if it reached Kafka until its probe says
         * otherwise; a new one waits for its probe. */
        return holds_tasks(m) ? 0 : 1;
    }
}

/* Runs the assignor over the wanted tasks (orphans go to nobody). */
static int
rebalance(weir_cluster *cl)
{
    size_t nw = cl->n_members, nt = 0, ns = 0;
    for (size_t i = 0; i < nw; i++)
        ns += cl->members[i].n_local;
    weir_assignor_worker *workers = calloc(nw ? nw : 1, sizeof(*workers));
    weir_assignor_task *tasks = calloc(cl->n_tasks + 1, sizeof(*tasks));
    weir_assignor_result *out = calloc(cl->n_tasks + 1, sizeof(*out));
    weir_assignor_state *state = calloc(ns ? ns : 1, sizeof(*state));
    int32_t *compact = calloc(cl->n_tasks + 1, sizeof(*compact));
    int rv = WEIR_ENOMEM;
    if (!workers || !tasks || !out || !state || !compact)
        goto out;
    /* Only the alive workers of the best Kafka state get tasks
     * (kafka_rank). */
    int best = 2;
    for (size_t i = 0; i < nw; i++)
        if (cl->members[i].state == WEIR__MEMBER_ALIVE &&
            kafka_rank(&cl->members[i]) < best)
            best = kafka_rank(&cl->members[i]);
    for (size_t i = 0; i < nw; i++) {
        workers[i].capacity = cl->members[i].capacity;
        workers[i].eligible = cl->members[i].state == WEIR__MEMBER_ALIVE &&
                              kafka_rank(&cl->members[i]) == best;
    }
    for (size_t k = 0; k < cl->n_tasks; k++) {
        const weir__task *t = &cl->tasks[k];
        compact[k] = t->orphan ? -1 : (int32_t)nt;
        if (t->orphan)
            continue;
        weir_assignor_task *at = &tasks[nt++];
        at->owner = t->target >= 0 ? t->target : t->running;
        at->standby_replicas = cl->jobs[t->job].topo->standby_replicas;
        at->n_standbys = t->n_standbys;
        memcpy(at->standbys, t->standbys, sizeof(t->standbys));
    }
    ns = 0;
    for (size_t i = 0; i < nw; i++) {
        const weir__member *m = &cl->members[i];
        for (size_t j = 0; j < m->n_local; j++)
            if (m->local[j].task < cl->n_tasks &&
                compact[m->local[j].task] >= 0)
                state[ns++] = (weir_assignor_state){
                    .task = (uint32_t)compact[m->local[j].task],
                    .worker = (uint32_t)i,
                    .offset = m->local[j].offset};
    }
    weir_assignor_input in = {.workers = workers,
        .n_workers = nw,
        .tasks = tasks,
        .n_tasks = nt,
        .state = state,
        .n_state = ns};
    if ((rv = weir_assignor_run(&in, out)) != WEIR_OK)
        goto out;
    bool changed = false;
    size_t moved = 0;
    for (size_t k = 0; k < cl->n_tasks; k++) {
        weir__task *t = &cl->tasks[k];
        weir_assignor_result none = {.active = -1};
        const weir_assignor_result *r =
            compact[k] >= 0 ? &out[compact[k]] : &none;
        if (t->target != r->active || t->n_standbys != r->n_standbys ||
            memcmp(t->standbys, r->standbys, r->n_standbys * sizeof(int32_t)) !=
                0)
            changed = true;
        moved += t->target != r->active;
        t->target = r->active;
        t->n_standbys = r->n_standbys;
        memcpy(t->standbys, r->standbys, sizeof(t->standbys));
    }
    changed = weir__cluster_apply_phase(cl) || changed;
    cl->stats.rebalances++;
    if (changed)
        weir__cluster_bump_generation(cl);
    weir_log_info(LOGC, "rebalance generation=%llu tasks=%zu changed=%d",
        (unsigned long long)cl->generation, nt, changed);
    weir__cluster_event(cl, WEIR__EVENT_REBALANCE,
        "rebalance generation=%llu tasks=%zu moved=%zu",
        (unsigned long long)cl->generation, nt, moved);
out:
    free(workers);
    free(tasks);
    free(out);
    free(state);
    free(compact);
    return rv;
}

static void
schedule(weir_cluster *cl, uint64_t at_ms)
{
    if (at_ms == 0)
        at_ms = 1;
    if (cl->rebalance_due_ms == 0 || at_ms < cl->rebalance_due_ms)
        cl->rebalance_due_ms = at_ms;
}

static const char *const member_names[] = {
    [WEIR__MEMBER_ALIVE] = "alive",
    [WEIR__MEMBER_DRAINING] = "draining",
    [WEIR__MEMBER_DEAD] = "dead",
};

/* Allowed member transitions: from -> bitmask of targets (cluster.h). */
#define B(s) (1u << (s))
static const unsigned member_allowed[] = {
    [WEIR__MEMBER_ALIVE] = B(WEIR__MEMBER_DRAINING) | B(WEIR__MEMBER_DEAD),
    [WEIR__MEMBER_DRAINING] = B(WEIR__MEMBER_DEAD),
    [WEIR__MEMBER_DEAD] = B(WEIR__MEMBER_ALIVE),
};
#undef B

/*
 * The one transition function of the member state machine: refuses (and
 * logs) what the table forbids with WEIR_ESTATE. Only a new Hello (via
 * DEAD) undrains a member.
 */
static int
member_set(weir_cluster *cl, int w, weir__member_state to)
{
    weir__member *m = &cl->members[w];
    weir__member_state from = m->state;
    if (from == to)
        return WEIR_OK;
    if (!(member_allowed[from] & (1u << to))) {
        weir_log_error(LOGC,
            "invalid member transition worker=%s from=%s to=%s", m->id,
            member_names[from], member_names[to]);
        return WEIR_ESTATE;
    }
    m->state = to;
    if (to == WEIR__MEMBER_DEAD) {
        m->n_local = 0;
        for (size_t k = 0; k < cl->n_tasks; k++)
            if (cl->tasks[k].running == w)
                cl->tasks[k].running = -1;
    }
    cl->dirty = true;
    return WEIR_OK;
}

static int
local_add(weir__member *m, uint32_t task, int64_t offset)
{
    if (weir_array_reserve(&m->local, &m->cap_local, m->n_local + 1,
            sizeof(*m->local)) != WEIR_OK)
        return WEIR_ENOMEM;
    m->local[m->n_local++] = (weir__local){.task = task, .offset = offset};
    return WEIR_OK;
}

void
weir__cluster_local_set(weir_cluster *cl, weir__member *m,
    Weir__Cluster__TaskCheckpoint *const *cps, size_t n)
{
    m->n_local = 0;
    for (size_t i = 0; i < n; i++) {
        const Weir__Cluster__TaskId *id = cps[i]->task;
        if (!id)
            continue;
        int k = weir__cluster_task_find(
            cl, id->job, id->subtopology, id->partition);
        if (k < 0)
            continue;
        int64_t off = 0;
        for (size_t s = 0; s < cps[i]->n_stores; s++)
            if (cps[i]->stores[s]->offset > 0)
                off += cps[i]->stores[s]->offset;
        if (local_add(m, (uint32_t)k, off) != WEIR_OK)
            return;
    }
}

/* Another process with the id of a member that is alive and heard from
 * within the session timeout: the newcomer is refused, the member keeps
 * its tasks. (The same process saying hello again is not one.) */
static bool
duplicate(const weir_cluster *cl, const weir__member *m, const char *instance,
    uint64_t now_ms)
{
    return m->state != WEIR__MEMBER_DEAD && m->instance[0] && instance[0] &&
           strcmp(m->instance, instance) != 0 &&
           now_ms < m->last_seen_ms + cl->opts.session_timeout_ms;
}

void
weir__cluster_member_kafka(weir_cluster *cl, int w,
    Weir__Cluster__KafkaState state, const char *error, uint64_t at_ms)
{
    weir__member *m = &cl->members[w];
    Weir__Cluster__KafkaState was = m->kafka;
    m->kafka = state;
    snprintf(m->kafka_error, sizeof(m->kafka_error), "%s", error ? error : "");
    if (was == state)
        return;
    if (state == WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE) {
        if (was == WEIR__CLUSTER__KAFKA_STATE__KAFKA_UNREACHABLE)
            weir_log_info(LOGC, "worker reaches kafka again worker=%s", m->id);
        else if (holds_tasks(m))
            return; /* it ranked as reaching Kafka already (kafka_rank) */
    } else if (state == WEIR__CLUSTER__KAFKA_STATE__KAFKA_UNREACHABLE) {
        weir_log_warn(LOGC,
            "worker cannot reach kafka worker=%s: %s (its tasks move away)",
            m->id, m->kafka_error);
    } else {
        /* A restarted worker whose probe has not answered yet: it keeps
         * its tasks until a rebalance that is due anyway, rather than
         * losing them for the moment its probe takes. */
        return;
    }
    schedule(cl, at_ms);
}

int
weir_cluster_hello(weir_cluster *cl, const Weir__Cluster__Hello *hello,
    uint64_t now_ms, Weir__Cluster__Welcome *welcome)
{
    if (!hello->worker_id || hello->worker_id[0] == '\0' ||
        strlen(hello->worker_id) > 200)
        return WEIR_EINVAL;
    int w = weir__cluster_member_find(cl, hello->worker_id);
    const char *instance = hello->instance ? hello->instance : "";
    if (w >= 0 && duplicate(cl, &cl->members[w], instance, now_ms)) {
        weir_log_warn(LOGC,
            "hello refused worker=%s: a live worker has that id (address=%s)",
            hello->worker_id, cl->members[w].address);
        return WEIR_EEXIST;
    }
    if (w < 0 && (w = weir__cluster_member_add(cl, hello->worker_id)) < 0)
        return WEIR_ENOMEM;
    weir__member *m = &cl->members[w];
    snprintf(m->instance, sizeof(m->instance), "%s", instance);
    snprintf(m->query_address, sizeof(m->query_address), "%s",
        hello->query_address ? hello->query_address : "");
    char *addr = strdup(hello->address ? hello->address : "");
    if (!addr)
        return WEIR_ENOMEM;
    free(m->address);
    m->address = addr;
    /* A draining member that says hello again joins like a dead one: a
     * restart undrains. */
    bool was_dead = m->state != WEIR__MEMBER_ALIVE;
    int rv = WEIR_OK;
    if (m->state == WEIR__MEMBER_DRAINING)
        rv = member_set(cl, w, WEIR__MEMBER_DEAD);
    if (rv == WEIR_OK)
        rv = member_set(cl, w, WEIR__MEMBER_ALIVE);
    if (rv != WEIR_OK)
        return rv;
    if (m->capacity != (hello->capacity ? hello->capacity : 1))
        was_dead = true; /* rebalance for the new capacity */
    m->capacity = hello->capacity ? hello->capacity : 1;
    m->epoch = ++cl->last_epoch;
    m->last_seen_ms = now_ms;
    m->known_generation = 0;
    weir__cluster_local_set(cl, m, hello->local_state, hello->n_local_state);
    /* A worker that joins is placed with the others joining now. */
    weir__cluster_member_kafka(cl, w, hello->kafka, hello->kafka_error,
        was_dead ? now_ms + cl->opts.join_window_ms : now_ms);
    cl->stats.hellos++;
    cl->dirty = true;
    if (was_dead) {
        schedule(cl, now_ms + cl->opts.join_window_ms);
        weir__cluster_event(cl, WEIR__EVENT_JOINED,
            "worker joined worker=%s epoch=%llu capacity=%u", m->id,
            (unsigned long long)m->epoch, m->capacity);
    }
    weir_log_info(LOGC, "hello worker=%s epoch=%llu capacity=%u local=%zu",
        m->id, (unsigned long long)m->epoch, m->capacity, m->n_local);
    welcome->member_epoch = m->epoch;
    welcome->heartbeat_interval_ms = cl->opts.heartbeat_interval_ms;
    welcome->session_timeout_ms = cl->opts.session_timeout_ms;
    welcome->bootstrap = (char *)cl->opts.bootstrap;
    return WEIR_OK;
}

int
weir__cluster_member_check(weir_cluster *cl, const char *id, uint64_t epoch)
{
    int w = id ? weir__cluster_member_find(cl, id) : -1;
    if (w < 0 || cl->members[w].state == WEIR__MEMBER_DEAD ||
        cl->members[w].epoch != epoch) {
        cl->stats.stale++;
        return -1;
    }
    return w;
}

int
weir_cluster_leave(
    weir_cluster *cl, const Weir__Cluster__Leave *leave, uint64_t now_ms)
{
    int w =
        weir__cluster_member_check(cl, leave->worker_id, leave->member_epoch);
    if (w < 0)
        return WEIR_ESTATE;
    int rv = member_set(cl, w, WEIR__MEMBER_DEAD);
    if (rv != WEIR_OK)
        return rv;
    cl->stats.leaves++;
    weir_log_info(LOGC, "leave worker=%s", cl->members[w].id);
    weir__cluster_event(
        cl, WEIR__EVENT_LEFT, "worker left worker=%s", cl->members[w].id);
    schedule(cl, now_ms);
    return WEIR_OK;
}

int
weir_cluster_submit(weir_cluster *cl, const Weir__Topology__Topology *topo,
    const uint32_t *sub_tasks, size_t n_sub, int64_t now_wall_ms,
    uint64_t now_ms)
{
    if (!topo->job || topo->job[0] == '\0' || n_sub != topo->n_subtopologies ||
        n_sub == 0)
        return WEIR_EINVAL;
    for (size_t s = 0; s < n_sub; s++)
        if (sub_tasks[s] == 0 || sub_tasks[s] > 100000)
            return WEIR_EINVAL;
    int j = weir__cluster_job_find(cl, topo->job);
    if (j >= 0 && cl->jobs[j].state != WEIR__CLUSTER__JOB_STATE__JOB_CANCELLED)
        return WEIR_EEXIST;
    Weir__Topology__Topology *copy = weir_job_copy(topo);
    uint32_t *counts = malloc(n_sub * sizeof(*counts));
    if (!copy || !counts) {
        weir_job_free(copy);
        free(counts);
        return WEIR_ENOMEM;
    }
    memcpy(counts, sub_tasks, n_sub * sizeof(*counts));
    if (j < 0) {
        if (weir_array_reserve(&cl->jobs, &cl->cap_jobs, cl->n_jobs + 1,
                sizeof(*cl->jobs)) != WEIR_OK) {
            weir_job_free(copy);
            free(counts);
            return WEIR_ENOMEM;
        }
        j = (int)cl->n_jobs++;
    } else {
        weir_job_free(cl->jobs[j].topo);
        free(cl->jobs[j].sub_tasks);
    }
    cl->jobs[j] = (weir__job){.topo = copy,
        .state = WEIR__CLUSTER__JOB_STATE__JOB_RUNNING,
        .submitted_at_ms = now_wall_ms,
        .sub_tasks = counts,
        .n_sub = n_sub};
    int rv = weir__cluster_tasks_rebuild(cl);
    if (rv != WEIR_OK)
        return rv;
    cl->dirty = true;
    schedule(cl, now_ms);
    weir_log_info(
        LOGC, "job submitted job=%s subtopologies=%zu", copy->job, n_sub);
    weir__cluster_event(cl, WEIR__EVENT_SUBMIT,
        "job submitted job=%s subtopologies=%zu", copy->job, n_sub);
    return WEIR_OK;
}

bool
weir_cluster_job_active(const weir_cluster *cl, const char *job)
{
    int j = job ? weir__cluster_job_find(cl, job) : -1;
    return j >= 0 &&
           cl->jobs[j].state != WEIR__CLUSTER__JOB_STATE__JOB_CANCELLED;
}

int
weir_cluster_cancel(weir_cluster *cl, const char *job, uint64_t now_ms)
{
    int j = job ? weir__cluster_job_find(cl, job) : -1;
    if (j < 0)
        return WEIR_ENOTFOUND;
    if (cl->jobs[j].state == WEIR__CLUSTER__JOB_STATE__JOB_CANCELLED)
        return WEIR_ESTATE;
    cl->jobs[j].state = WEIR__CLUSTER__JOB_STATE__JOB_CANCELLED;
    int rv = weir__cluster_tasks_rebuild(cl);
    if (rv != WEIR_OK)
        return rv;
    weir__cluster_bump_generation(cl); /* its tasks leave every assignment */
    schedule(cl, now_ms);
    weir_log_info(LOGC, "job cancelled job=%s", job);
    weir__cluster_event(cl, WEIR__EVENT_CANCEL, "job cancelled job=%s", job);
    return WEIR_OK;
}

int
weir_cluster_drain(weir_cluster *cl, const char *worker, uint64_t now_ms)
{
    int w = worker ? weir__cluster_member_find(cl, worker) : -1;
    if (w < 0 || cl->members[w].state == WEIR__MEMBER_DEAD)
        return WEIR_ENOTFOUND;
    int rv = member_set(cl, w, WEIR__MEMBER_DRAINING);
    if (rv != WEIR_OK)
        return rv;
    schedule(cl, now_ms);
    weir_log_info(LOGC, "drain worker=%s", worker);
    weir__cluster_event(cl, WEIR__EVENT_DRAIN, "drain worker=%s", worker);
    return WEIR_OK;
}

bool
weir__cluster_task_running(const weir__task *t)
{
    return t->running >= 0 && t->running == t->target && t->st.valid &&
           t->st.state == WEIR__CLUSTER__TASK_STATE__TASK_RUNNING;
}

/* Marks the tasks that have not been running for too long. */
static void
watch_stuck(weir_cluster *cl, uint64_t now_ms)
{
    for (size_t k = 0; k < cl->n_tasks; k++) {
        weir__task *t = &cl->tasks[k];
        bool was = t->stuck;
        if (weir__cluster_task_running(t) || t->orphan)
            t->not_running_since_ms = 0;
        else if (t->not_running_since_ms == 0)
            t->not_running_since_ms = now_ms;
        t->stuck = t->not_running_since_ms != 0 &&
                   now_ms - t->not_running_since_ms >= cl->opts.stuck_task_ms;
        if (t->stuck != was)
            weir_log(t->stuck ? WEIR_LOG_WARN : WEIR_LOG_INFO, LOGC,
                "%s job=%s task=%u_%u state=%s error=\"%s\"",
                t->stuck ? "task stuck, job degraded" : "stuck task recovered",
                cl->jobs[t->job].topo->job, t->sub, t->part,
                weir__cluster_task_state_name(t), t->st.error);
    }
}

void
weir_cluster_tick(weir_cluster *cl, uint64_t now_ms)
{
    for (size_t i = 0; i < cl->n_members; i++) {
        weir__member *m = &cl->members[i];
        if (m->state == WEIR__MEMBER_DEAD ||
            now_ms < m->last_seen_ms + cl->opts.session_timeout_ms)
            continue;
        weir_log_warn(LOGC,
            "session expired worker=%s epoch=%llu silent_ms=%llu", m->id,
            (unsigned long long)m->epoch,
            (unsigned long long)(now_ms - m->last_seen_ms));
        if (member_set(cl, (int)i, WEIR__MEMBER_DEAD) != WEIR_OK)
            continue; /* logged; cannot happen from ALIVE or DRAINING */
        cl->stats.deaths++;
        size_t ran = 0;
        for (size_t k = 0; k < cl->n_tasks; k++)
            ran += cl->tasks[k].running == (int32_t)i;
        weir__cluster_event(cl, WEIR__EVENT_FAILOVER,
            "session expired worker=%s silent_ms=%llu tasks=%zu", m->id,
            (unsigned long long)(now_ms - m->last_seen_ms), ran);
        schedule(cl, now_ms);
    }
    watch_stuck(cl, now_ms);
    for (size_t k = 0; k < cl->n_tasks; k++) {
        if (cl->tasks[k].orphan && cl->tasks[k].running < 0) {
            /* stopped: forget it (on failure, try again next tick) */
            if (weir__cluster_tasks_rebuild(cl) == WEIR_OK)
                cl->dirty = true;
            break;
        }
    }
    if (cl->rebalance_due_ms != 0 && now_ms >= cl->rebalance_due_ms) {
        cl->rebalance_due_ms = 0;
        if (rebalance(cl) != WEIR_OK) {
            weir_log_error(LOGC, "rebalance failed: out of memory");
            schedule(cl, now_ms + 100);
        }
    }
}

void
weir_cluster_touch_all(weir_cluster *cl, uint64_t now_ms)
{
    for (size_t i = 0; i < cl->n_members; i++)
        if (cl->members[i].state != WEIR__MEMBER_DEAD)
            cl->members[i].last_seen_ms = now_ms;
}

bool
weir_cluster_dirty(const weir_cluster *cl)
{
    return cl->dirty;
}

void
weir_cluster_clean(weir_cluster *cl)
{
    cl->dirty = false;
}

uint64_t
weir_cluster_generation(const weir_cluster *cl)
{
    return cl->generation;
}

const weir_cluster_stats *
weir_cluster_stats_get(const weir_cluster *cl)
{
    return &cl->stats;
}
