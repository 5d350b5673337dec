/*
 * The live numbers of the dashboard, as JSON (/api/tasks) and as
 * Prometheus text (appended to /metrics), so that every number on the page
 * is also scraped: per task its records in/out per second, last commit
 * age, commit latency p50/p99, restore progress and standby states; per
 * worker its capacity, tasks and heartbeat age; event counts by kind.
 *
 * Rates are computed on the coordinator from the records_in/records_out
 * counters' change between heartbeats (cluster_heartbeat.c). Restore
 * progress compares checkpoints the workers report (local state): a task's
 * owner or standby at the newest checkpoint any worker reported for the
 * task is fully restored.
 */
#include "cluster_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_str.h"
#include "common/prom.h"

/* Reports older than this are stale: their rates show as 0. */
#define STALE_MS 5000

double
weir_cluster_lat_quantile(const uint64_t *buckets, double q)
{
    uint64_t total = 0;
    for (size_t i = 0; i < WEIR_CLUSTER_LAT_BUCKETS; i++)
        total += buckets[i];
    if (total == 0)
        return -1;
    double rank = q * (double)total, cum = 0;
    for (size_t i = 0; i < WEIR_CLUSTER_LAT_BUCKETS; i++) {
        double lo = i ? weir_cluster_lat_bounds_ms[i - 1] : 0;
        if (i == WEIR_CLUSTER_LAT_BUCKETS - 1)
            return lo; /* +Inf: the last finite bound */
        if (cum + (double)buckets[i] >= rank && buckets[i] > 0) {
            double hi = weir_cluster_lat_bounds_ms[i];
            return lo + (hi - lo) * (rank - cum) / (double)buckets[i];
        }
        cum += (double)buckets[i];
    }
    return -1; /* not reached */
}

const Weir__Topology__Topology *
weir_cluster_job_topology(const weir_cluster *cl, const char *job)
{
    int j = job ? weir__cluster_job_find(cl, job) : -1;
    return j < 0 ? NULL : cl->jobs[j].topo;
}

/* Member w's reported checkpoint of task k (summed over its stores), or
 * -1 when it reported none. */
static int64_t
checkpoint(const weir_cluster *cl, int32_t w, size_t k)
{
    if (w < 0)
        return -1;
    const weir__member *m = &cl->members[w];
    for (size_t i = 0; i < m->n_local; i++)
        if (m->local[i].task == k)
            return m->local[i].offset;
    return -1;
}

static int64_t
newest_checkpoint(const weir_cluster *cl, size_t k)
{
    int64_t best = -1;
    for (size_t w = 0; w < cl->n_members; w++) {
        int64_t off = checkpoint(cl, (int32_t)w, k);
        best = off > best ? off : best;
    }
    return best;
}

static const weir__standby_status *
standby_status(const weir__task *t, int32_t w)
{
    for (size_t i = 0; i < WEIR_ASSIGNOR_MAX_STANDBYS; i++)
        if (t->sb_st[i].updated_ms != 0 && t->sb_st[i].member == w)
            return &t->sb_st[i];
    return NULL;
}

static bool
fresh(const weir__status *st, uint64_t now_ms)
{
    return st->valid && now_ms < st->updated_ms + STALE_MS;
}

/* 0..1 for an owner that runs (1) or restores (its checkpoint against the
 * newest), -1 when it does not apply (no owner, no report). */
static double
restore_progress(const weir_cluster *cl, size_t k)
{
    const weir__task *t = &cl->tasks[k];
    if (!t->st.valid || t->running < 0 || t->running != t->target)
        return -1;
    if (t->st.state == WEIR__CLUSTER__TASK_STATE__TASK_RUNNING)
        return 1;
    if (t->st.state != WEIR__CLUSTER__TASK_STATE__TASK_RESTORING &&
        t->st.state != WEIR__CLUSTER__TASK_STATE__TASK_CREATED)
        return -1;
    int64_t have = checkpoint(cl, t->running, k);
    int64_t want = newest_checkpoint(cl, k);
    if (want <= 0)
        return 0;
    return have <= 0 ? 0 : (double)have / (double)want;
}

static void
json_str(weir_buf *b, const char *s)
{
    s = s ? s : "";
    (void)weir_json_str_append(b, s, strlen(s));
}

/* A number, or null when negative (unknown). */
static void
json_num(weir_buf *b, const char *name, double v)
{
    if (v < 0)
        (void)weir_buf_printf(b, ",\"%s\":null", name);
    else
        (void)weir_buf_printf(b, ",\"%s\":%.3f", name, v);
}

static const char *
member_name(const weir_cluster *cl, int32_t w)
{
    return w >= 0 ? cl->members[w].id : "";
}

static void
json_standbys(const weir_cluster *cl, size_t k, uint64_t now_ms, weir_buf *b)
{
    const weir__task *t = &cl->tasks[k];
    int64_t newest = newest_checkpoint(cl, k);
    (void)weir_buf_printf(b, ",\"standby_status\":[");
    for (uint32_t i = 0; i < t->n_standbys; i++) {
        int32_t w = t->standbys[i];
        const weir__standby_status *s = standby_status(t, w);
        int64_t have = checkpoint(cl, w, k);
        (void)weir_buf_printf(b, "%s{\"worker\":", i ? "," : "");
        json_str(b, member_name(cl, w));
        (void)weir_buf_printf(b, ",\"state\":\"%s\"",
            s ? weir__cluster_task_state_enum_name(s->state) : "assigned");
        json_num(b, "restored_records", s ? (double)s->restored : -1);
        json_num(
            b, "lag", newest >= 0 && have >= 0 ? (double)(newest - have) : -1);
        json_num(b, "report_age_ms",
            s && now_ms >= s->updated_ms ? (double)(now_ms - s->updated_ms)
                                         : -1);
        (void)weir_buf_printf(b, "}");
    }
    (void)weir_buf_printf(b, "]");
}

static void
json_task(const weir_cluster *cl, size_t k, uint64_t now_ms, weir_buf *b)
{
    const weir__task *t = &cl->tasks[k];
    const weir__status *st = &t->st;
    (void)weir_buf_printf(b, "{\"job\":");
    json_str(b, cl->jobs[t->job].topo->job);
    (void)weir_buf_printf(
        b, ",\"subtopology\":%u,\"partition\":%u,\"owner\":", t->sub, t->part);
    json_str(b, t->running == t->target ? member_name(cl, t->running) : "");
    (void)weir_buf_printf(b, ",\"target\":");
    json_str(b, member_name(cl, t->target));
    (void)weir_buf_printf(b, ",\"standbys\":[");
    for (uint32_t i = 0; i < t->n_standbys; i++) {
        (void)weir_buf_printf(b, "%s", i ? "," : "");
        json_str(b, member_name(cl, t->standbys[i]));
    }
    (void)weir_buf_printf(b,
        "],\"state\":\"%s\",\"lag\":%lld,\"records_in\":%llu,"
        "\"records_out\":%llu,\"commits\":%llu,\"restored_records\":%llu,"
        "\"dead_lettered\":%llu,\"skipped\":%llu,\"late\":%llu,"
        "\"commit_rate\":%.2f,\"stuck\":%s",
        weir__cluster_task_state_name(t), (long long)st->lag,
        (unsigned long long)st->records_in, (unsigned long long)st->records_out,
        (unsigned long long)st->commits, (unsigned long long)st->restored,
        (unsigned long long)st->dead_lettered, (unsigned long long)st->skipped,
        (unsigned long long)st->late, st->commit_rate,
        t->stuck ? "true" : "false");
    bool live = fresh(st, now_ms);
    json_num(b, "in_rate", live ? st->in_rate : 0);
    json_num(b, "out_rate", live ? st->out_rate : 0);
    json_num(b, "last_commit_age_ms",
        st->valid && st->last_commit_ms && now_ms >= st->last_commit_ms
            ? (double)(now_ms - st->last_commit_ms)
            : -1);
    json_num(b, "commit_latency_p50_ms",
        st->valid ? weir_cluster_lat_quantile(st->buckets, 0.5) : -1);
    json_num(b, "commit_latency_p99_ms",
        st->valid ? weir_cluster_lat_quantile(st->buckets, 0.99) : -1);
    json_num(b, "restore_progress", restore_progress(cl, k));
    json_num(b, "report_age_ms",
        st->valid && now_ms >= st->updated_ms
            ? (double)(now_ms - st->updated_ms)
            : -1);
    json_standbys(cl, k, now_ms, b);
    (void)weir_buf_printf(b, ",\"error\":");
    json_str(b, st->error);
    (void)weir_buf_printf(b, "}");
}

char *
weir_cluster_json_tasks(const weir_cluster *cl, uint64_t now_ms)
{
    weir_buf b;
    weir_buf_init(&b);
    (void)weir_buf_printf(&b, "[");
    bool first = true;
    for (size_t k = 0; k < cl->n_tasks; k++) {
        if (cl->tasks[k].orphan)
            continue;
        (void)weir_buf_printf(&b, "%s", first ? "" : ",");
        first = false;
        json_task(cl, k, now_ms, &b);
    }
    (void)weir_buf_printf(&b, "]\n");
    if (b.failed) {
        weir_buf_fini(&b);
        return NULL;
    }
    return b.data;
}

/* ------------------------------------------------------------ Prometheus */

/* job="...",subtopology="s",partition="p"[,worker="w"] */
static void
labels(const weir_cluster *cl, const weir__task *t, int32_t w, weir_buf *out)
{
    weir_buf_clear(out);
    (void)weir_buf_printf(out, "job=\"");
    (void)weir_prom_label_value(out, cl->jobs[t->job].topo->job);
    (void)weir_buf_printf(
        out, "\",subtopology=\"%u\",partition=\"%u\"", t->sub, t->part);
    if (w >= 0) {
        (void)weir_buf_printf(out, ",worker=\"");
        (void)weir_prom_label_value(out, cl->members[w].id);
        (void)weir_buf_printf(out, "\"");
    }
}

/* 1 reachable, 0 unreachable, -1 unknown (not probed yet). */
static double
kafka_gauge(Weir__Cluster__KafkaState s)
{
    return s == WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE     ? 1
           : s == WEIR__CLUSTER__KAFKA_STATE__KAFKA_UNREACHABLE ? 0
                                                                : -1;
}

static void
worker_metrics(
    const weir_cluster *cl, uint64_t now_ms, weir_buf *b, weir_buf *label)
{
    static const char *const names[] = {"weir_worker_capacity",
        "weir_worker_active_tasks", "weir_worker_standby_tasks",
        "weir_worker_heartbeat_age_seconds", "weir_worker_alive",
        "weir_worker_kafka_reachable"};
    static const char *const helps[] = {"Tasks a worker may run.",
        "Active tasks assigned to a worker.",
        "Standby tasks assigned to a worker.",
        "Seconds since a worker's last heartbeat.",
        "1 while a worker is alive or draining.",
        "Kafka at a worker's last probe: 1 reached, 0 not, -1 not yet."};
    for (size_t f = 0; f < 6; f++) {
        (void)weir_prom_family(b, names[f], "gauge", helps[f]);
        for (size_t i = 0; i < cl->n_members; i++) {
            const weir__member *m = &cl->members[i];
            weir_buf_clear(label);
            (void)weir_buf_printf(label, "worker=\"");
            (void)weir_prom_label_value(label, m->id);
            (void)weir_buf_printf(label, "\"");
            double v =
                f == 0   ? m->capacity
                : f == 1 ? m->n_active
                : f == 2 ? m->n_standby
                : f == 3 ? (now_ms > m->last_seen_ms
                                   ? (double)(now_ms - m->last_seen_ms) / 1000.0
                                   : 0)
                : f == 4 ? (m->state != WEIR__MEMBER_DEAD)
                         : kafka_gauge(m->kafka);
            (void)weir_prom_f64(b, names[f], label->data, v);
        }
    }
}

/* The per-task gauges of the page that /metrics did not have. */
static void
task_metrics(
    const weir_cluster *cl, uint64_t now_ms, weir_buf *b, weir_buf *label)
{
    static const char *const names[] = {"weir_task_records_in_rate",
        "weir_task_records_out_rate", "weir_task_last_commit_age_seconds",
        "weir_task_commit_latency_p50_ms", "weir_task_commit_latency_p99_ms",
        "weir_task_restore_progress"};
    static const char *const helps[] = {
        "Records consumed per second (smoothed between heartbeats).",
        "Records produced per second (smoothed between heartbeats).",
        "Seconds since the task's commit count last grew.",
        "Median commit latency since the task started.",
        "99th percentile commit latency since the task started.",
        "0..1: the owner's checkpoint against the newest reported."};
    for (size_t f = 0; f < 6; f++) {
        (void)weir_prom_family(b, names[f], "gauge", helps[f]);
        for (size_t k = 0; k < cl->n_tasks; k++) {
            const weir__task *t = &cl->tasks[k];
            const weir__status *st = &t->st;
            if (!st->valid || t->orphan)
                continue;
            double v =
                f == 0   ? (fresh(st, now_ms) ? st->in_rate : 0)
                : f == 1 ? (fresh(st, now_ms) ? st->out_rate : 0)
                : f == 2
                    ? (st->last_commit_ms && now_ms >= st->last_commit_ms
                              ? (double)(now_ms - st->last_commit_ms) / 1000.0
                              : -1)
                : f == 3 ? weir_cluster_lat_quantile(st->buckets, 0.5)
                : f == 4 ? weir_cluster_lat_quantile(st->buckets, 0.99)
                         : restore_progress(cl, k);
            if (v < 0)
                continue;
            labels(cl, t, -1, label);
            (void)weir_prom_f64(b, names[f], label->data, v);
        }
    }
    (void)weir_prom_family(
        b, "weir_task_owner", "gauge", "1 for the worker that runs the task.");
    for (size_t k = 0; k < cl->n_tasks; k++) {
        const weir__task *t = &cl->tasks[k];
        if (t->orphan || t->running < 0 || t->running != t->target)
            continue;
        labels(cl, t, t->running, label);
        (void)weir_prom_u64(b, "weir_task_owner", label->data, 1);
    }
}

static void
standby_metrics(const weir_cluster *cl, weir_buf *b, weir_buf *label)
{
    (void)weir_prom_family(b, "weir_task_standby", "gauge",
        "1 per standby of a task, labelled with its reported state.");
    size_t by_state[16] = {0}, unreported = 0;
    for (size_t k = 0; k < cl->n_tasks; k++) {
        const weir__task *t = &cl->tasks[k];
        for (uint32_t i = 0; !t->orphan && i < t->n_standbys; i++) {
            const weir__standby_status *s = standby_status(t, t->standbys[i]);
            labels(cl, t, t->standbys[i], label);
            (void)weir_buf_printf(label, ",state=\"%s\"",
                s ? weir__cluster_task_state_enum_name(s->state) : "assigned");
            (void)weir_prom_u64(b, "weir_task_standby", label->data, 1);
            if (s && (unsigned)s->state < 16)
                by_state[s->state]++;
            else
                unreported++;
        }
    }
    (void)weir_prom_family(
        b, "weir_standby_tasks", "gauge", "Standby tasks by reported state.");
    (void)weir_prom_u64(
        b, "weir_standby_tasks", "state=\"assigned\"", unreported);
    for (unsigned s = 0; s < 16; s++) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
            &weir__cluster__task_state__descriptor, (int)s);
        if (!v)
            continue;
        char l[64];
        snprintf(l, sizeof(l), "state=\"%s\"", v->name + strlen("TASK_"));
        (void)weir_prom_u64(b, "weir_standby_tasks", l, by_state[s]);
    }
    (void)weir_prom_family(b, "weir_task_standby_lag", "gauge",
        "Changelog records a standby is behind the newest checkpoint.");
    for (size_t k = 0; k < cl->n_tasks; k++) {
        const weir__task *t = &cl->tasks[k];
        int64_t newest = newest_checkpoint(cl, k);
        for (uint32_t i = 0; !t->orphan && i < t->n_standbys; i++) {
            int64_t have = checkpoint(cl, t->standbys[i], k);
            if (newest < 0 || have < 0)
                continue;
            labels(cl, t, t->standbys[i], label);
            (void)weir_prom_i64(
                b, "weir_task_standby_lag", label->data, newest - have);
        }
    }
}

void
weir__cluster_metrics_live(const weir_cluster *cl, uint64_t now_ms, weir_buf *b)
{
    weir_buf label;
    weir_buf_init(&label);
    worker_metrics(cl, now_ms, b, &label);
    task_metrics(cl, now_ms, b, &label);
    standby_metrics(cl, b, &label);
    weir_buf_fini(&label);
    (void)weir_prom_family(b, "weir_cluster_events_total", "counter",
        "Cluster events (the dashboard's events list) by kind.");
    for (size_t i = 0; i < WEIR__EVENT_KINDS; i++) {
        char l[64];
        snprintf(l, sizeof(l), "kind=\"%s\"", weir__cluster_event_name(i));
        (void)weir_prom_u64(
            b, "weir_cluster_events_total", l, cl->events_total[i]);
    }
}
