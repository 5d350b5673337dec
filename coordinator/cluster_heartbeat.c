/*
 * Heartbeats: task statuses, reported local state, revoke confirmations
 * (the second phase of a move) and the assignment sent back.
 */
#include "cluster_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

#define LOGC "coordinator"

/* A smoothed rate of a counter over at least a second: value now, seen
 * at *at_value when the window began. */
static double
rate_of(double prev, uint64_t value, uint64_t at_value, uint64_t ms)
{
    double rate = (double)(value - at_value) * 1000.0 / (double)ms;
    return prev == 0 ? rate : 0.5 * prev + 0.5 * rate;
}

static void
status_store(weir__task *t, const Weir__Cluster__TaskStatus *s, uint64_t now)
{
    weir__status *st = &t->st;
    if (!st->valid || s->commits < st->rate_commits ||
        s->records_in < st->rate_in || s->records_out < st->rate_out) {
        /* first report, or a new task instance counting from 0 */
        st->rate_commits = s->commits;
        st->rate_in = s->records_in;
        st->rate_out = s->records_out;
        st->rate_at_ms = now;
        st->commit_rate = st->in_rate = st->out_rate = 0;
    } else if (now >= st->rate_at_ms + 1000) {
        uint64_t ms = now - st->rate_at_ms;
        st->commit_rate =
            rate_of(st->commit_rate, s->commits, st->rate_commits, ms);
        st->in_rate = rate_of(st->in_rate, s->records_in, st->rate_in, ms);
        st->out_rate = rate_of(st->out_rate, s->records_out, st->rate_out, ms);
        st->rate_commits = s->commits;
        st->rate_in = s->records_in;
        st->rate_out = s->records_out;
        st->rate_at_ms = now;
    }
    if (!st->valid || s->commits != st->commits)
        st->last_commit_ms = s->commits > 0 ? now : 0;
    st->valid = true;
    st->state = s->state;
    st->lag = s->lag;
    st->records_in = s->records_in;
    st->records_out = s->records_out;
    st->commits = s->commits;
    st->restored = s->restored_records;
    st->dead_lettered = s->dead_lettered;
    st->skipped = s->skipped;
    st->late = s->late;
    for (size_t i = 0; i < WEIR_CLUSTER_LAT_BUCKETS; i++)
        st->buckets[i] =
            i < s->n_commit_latency_buckets ? s->commit_latency_buckets[i] : 0;
    st->lat_sum_ms = s->commit_latency_sum_ms;
    snprintf(st->error, sizeof(st->error), "%s", s->error ? s->error : "");
    st->updated_ms = now;
}

/* A standby's report: kept in the task's entry for member w (a new one,
 * or the stalest, when w has none). */
static void
standby_store(
    weir__task *t, int w, const Weir__Cluster__TaskStatus *s, uint64_t now)
{
    weir__standby_status *e = &t->sb_st[0];
    for (size_t i = 0; i < WEIR_ASSIGNOR_MAX_STANDBYS; i++) {
        weir__standby_status *c = &t->sb_st[i];
        if (c->updated_ms != 0 && c->member == w) {
            e = c;
            break;
        }
        if (c->updated_ms < e->updated_ms)
            e = c;
    }
    e->member = w;
    e->state = s->state;
    e->restored = s->restored_records;
    e->updated_ms = now;
}

/* Events of an owner's report: a fencing, records dead-lettered. */
static void
status_events(weir_cluster *cl, int w, const weir__task *t,
    const Weir__Cluster__TaskStatus *s)
{
    const weir__status *st = &t->st;
    if (s->state == WEIR__CLUSTER__TASK_STATE__TASK_FENCED &&
        (!st->valid || st->state != WEIR__CLUSTER__TASK_STATE__TASK_FENCED))
        weir__cluster_event(cl, WEIR__EVENT_FENCED,
            "task fenced job=%s task=%u_%u worker=%s fences=%llu",
            cl->jobs[t->job].topo->job, t->sub, t->part, cl->members[w].id,
            (unsigned long long)s->fences);
    if (st->valid && s->dead_lettered > st->dead_lettered)
        weir__cluster_event_dlq(
            cl, t, cl->members[w].id, s->dead_lettered - st->dead_lettered);
}

/*
 * A new fence of a task that is still w's own: answer with a new
 * generation, whose assignment names the task again and so tells w that
 * its membership is current and the task is its own (it restarts it). A
 * fenced task that is moving away is a confirmed revoke instead.
 */
static bool
answer_fence(
    weir_cluster *cl, int w, weir__task *t, const Weir__Cluster__TaskStatus *s)
{
    if (s->state != WEIR__CLUSTER__TASK_STATE__TASK_FENCED) {
        t->fences_answered = 0; /* running again: the next fence is new */
        return false;
    }
    if (t->orphan || t->target != w || s->fences == t->fences_answered)
        return false;
    t->fences_answered = s->fences;
    weir_log_warn(LOGC,
        "task fenced on its owner, confirming ownership job=%s task=%u_%u "
        "worker=%s fences=%llu",
        cl->jobs[t->job].topo->job, t->sub, t->part, cl->members[w].id,
        (unsigned long long)s->fences);
    return true;
}

static bool
still_active(const Weir__Cluster__Heartbeat *hb, const weir_cluster *cl,
    const weir__task *t)
{
    const char *job = cl->jobs[t->job].topo->job;
    for (size_t i = 0; i < hb->n_tasks; i++) {
        const Weir__Cluster__TaskStatus *s = hb->tasks[i];
        if (!s->task || s->standby || !s->task->job ||
            strcmp(s->task->job, job) != 0 || s->task->subtopology != t->sub ||
            s->task->partition != t->part)
            continue;
        switch (s->state) {
        case WEIR__CLUSTER__TASK_STATE__TASK_CREATED:
        case WEIR__CLUSTER__TASK_STATE__TASK_RESTORING:
        case WEIR__CLUSTER__TASK_STATE__TASK_RUNNING:
        case WEIR__CLUSTER__TASK_STATE__TASK_REVOKING:
            return true;
        default:
            return false;
        }
    }
    return false;
}

/* Second phase: w applied the current generation; tasks it no longer runs
 * go to their targets. */
static void
confirm_revokes(weir_cluster *cl, int w, const Weir__Cluster__Heartbeat *hb)
{
    if (hb->known_generation != cl->generation)
        return;
    bool changed = false;
    for (size_t k = 0; k < cl->n_tasks; k++) {
        weir__task *t = &cl->tasks[k];
        if (t->running != w || t->target == w)
            continue;
        if (still_active(hb, cl, t))
            continue;
        t->running = -1;
        changed = true;
    }
    if (changed) {
        weir__cluster_apply_phase(cl);
        weir_log_info(LOGC, "revoke confirmed worker=%s", cl->members[w].id);
        weir__cluster_bump_generation(cl);
    }
}

static Weir__Cluster__TaskId *
task_id_new(const weir_cluster *cl, const weir__task *t)
{
    Weir__Cluster__TaskId *id = malloc(sizeof(*id));
    if (!id)
        return NULL;
    weir__cluster__task_id__init(id);
    id->job = cl->jobs[t->job].topo->job;
    id->subtopology = t->sub;
    id->partition = t->part;
    return id;
}

static int
fill_assignment(weir_cluster *cl, int w, Weir__Cluster__HeartbeatReply *reply)
{
    Weir__Cluster__Assignment *a = malloc(sizeof(*a));
    bool *need = calloc(cl->n_jobs ? cl->n_jobs : 1, sizeof(*need));
    if (!a || !need) {
        free(a);
        free(need);
        return WEIR_ENOMEM;
    }
    weir__cluster__assignment__init(a);
    reply->assignment = a;
    a->generation = cl->generation;
    size_t na = 0, ns = 0;
    for (size_t k = 0; k < cl->n_tasks; k++) {
        na += weir__cluster_runs_active(&cl->tasks[k], w);
        ns += weir__cluster_runs_standby(&cl->tasks[k], w);
    }
    a->active = calloc(na ? na : 1, sizeof(*a->active));
    a->standby = calloc(ns ? ns : 1, sizeof(*a->standby));
    if (!a->active || !a->standby)
        goto nomem;
    for (size_t k = 0; k < cl->n_tasks; k++) {
        const weir__task *t = &cl->tasks[k];
        Weir__Cluster__TaskId ***list = NULL;
        size_t *n = NULL;
        if (weir__cluster_runs_active(t, w)) {
            list = &a->active;
            n = &a->n_active;
        } else if (weir__cluster_runs_standby(t, w)) {
            list = &a->standby;
            n = &a->n_standby;
        } else {
            continue;
        }
        if (!((*list)[*n] = task_id_new(cl, t)))
            goto nomem;
        (*n)++;
        need[t->job] = true;
    }
    size_t nj = 0;
    for (size_t j = 0; j < cl->n_jobs; j++)
        nj += need[j];
    reply->topologies = calloc(nj ? nj : 1, sizeof(*reply->topologies));
    if (!reply->topologies)
        goto nomem;
    for (size_t j = 0; j < cl->n_jobs; j++)
        if (need[j])
            reply->topologies[reply->n_topologies++] = cl->jobs[j].topo;
    free(need);
    return WEIR_OK;
nomem:
    free(need);
    return WEIR_ENOMEM;
}

void
weir_cluster_reply_fini(Weir__Cluster__HeartbeatReply *reply)
{
    Weir__Cluster__Assignment *a = reply->assignment;
    if (a) {
        for (size_t i = 0; i < a->n_active; i++)
            free(a->active[i]);
        for (size_t i = 0; i < a->n_standby; i++)
            free(a->standby[i]);
        free(a->active);
        free(a->standby);
        free(a);
    }
    free(reply->topologies); /* the topologies are borrowed */
    reply->assignment = NULL;
    reply->topologies = NULL;
    reply->n_topologies = 0;
}

static void
latency_observe(weir_cluster *cl, double ms)
{
    if (ms < 0)
        ms = 0;
    size_t b = 0;
    while (
        b < WEIR_CLUSTER_LAT_BUCKETS - 1 && ms > weir_cluster_lat_bounds_ms[b])
        b++;
    cl->stats.hb_latency_buckets[b]++;
    cl->stats.hb_latency_sum_ms += ms;
    cl->stats.hb_latency_count++;
}

int
weir_cluster_heartbeat(weir_cluster *cl, const Weir__Cluster__Heartbeat *hb,
    uint64_t now_ms, int64_t now_wall_ms, Weir__Cluster__HeartbeatReply *reply)
{
    int w = weir__cluster_member_check(cl, hb->worker_id, hb->member_epoch);
    if (w < 0)
        return WEIR_ESTATE;
    weir__member *m = &cl->members[w];
    m->last_seen_ms = now_ms;
    m->known_generation = hb->known_generation;
    if (hb->kafka != WEIR__CLUSTER__KAFKA_STATE__KAFKA_UNKNOWN)
        weir__cluster_member_kafka(cl, w, hb->kafka, hb->kafka_error, now_ms);
    cl->stats.heartbeats++;
    if (hb->sent_at_ms > 0 && (int64_t)hb->sent_at_ms <= now_wall_ms + 60000)
        latency_observe(cl, (double)(now_wall_ms - (int64_t)hb->sent_at_ms));
    bool fenced = false;
    for (size_t i = 0; i < hb->n_tasks; i++) {
        const Weir__Cluster__TaskStatus *s = hb->tasks[i];
        if (!s->task)
            continue;
        int k = weir__cluster_task_find(
            cl, s->task->job, s->task->subtopology, s->task->partition);
        if (k >= 0 && s->standby)
            standby_store(&cl->tasks[k], w, s, now_ms);
        if (k < 0 || s->standby || cl->tasks[k].running != w)
            continue;
        status_events(cl, w, &cl->tasks[k], s);
        status_store(&cl->tasks[k], s, now_ms);
        fenced |= answer_fence(cl, w, &cl->tasks[k], s);
    }
    if (fenced)
        weir__cluster_bump_generation(cl);
    weir__cluster_local_set(cl, m, hb->local_state, hb->n_local_state);
    /* publish_counts keeps n_pending exact at every generation */
    if (m->n_pending > 0)
        confirm_revokes(cl, w, hb);
    reply->generation = cl->generation;
    reply->drain = m->state == WEIR__MEMBER_DRAINING;
    reply->assignment_changed = hb->known_generation != cl->generation;
    if (reply->assignment_changed) {
        int rv = fill_assignment(cl, w, reply);
        if (rv != WEIR_OK) {
            weir_cluster_reply_fini(reply);
            return rv;
        }
    }
    return WEIR_OK;
}
