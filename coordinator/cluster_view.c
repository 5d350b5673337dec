/*
 * Read-only views of the cluster state: protobuf replies for weirctl,
 * JSON for /api/..., Prometheus text for /metrics.
 */
#include "cluster_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json_str.h"
#include "common/prom.h"

/* ------------------------------------------------------------ text buffer */

/* The views are built piece by piece into a weir_buf (its first failure
 * sticks) and checked once, by sb_take. */
typedef weir_buf sbuf;

static void __attribute__((format(printf, 2, 3)))
sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)weir_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

static int
sb_put(void *b, const void *p, size_t n)
{
    (void)weir_buf_append(b, p, n);
    return WEIR_OK;
}

/* A JSON string literal (quotes included). */
static void
sb_json_str(sbuf *b, const char *s)
{
    s = s ? s : "";
    weir_json_str_write(s, strlen(s), sb_put, b);
}

static char *
sb_take(sbuf *b)
{
    if (b->failed || !b->data) {
        weir_buf_fini(b);
        return NULL;
    }
    return b->data;
}

/* ------------------------------------------------------------- helpers */

static const char *
job_state_name(Weir__Cluster__JobState s)
{
    switch (s) {
    case WEIR__CLUSTER__JOB_STATE__JOB_PENDING:
        return "pending";
    case WEIR__CLUSTER__JOB_STATE__JOB_RUNNING:
        return "running";
    case WEIR__CLUSTER__JOB_STATE__JOB_CANCELLED:
        return "cancelled";
    case WEIR__CLUSTER__JOB_STATE__JOB_FAILED:
        return "failed";
    default:
        return "unknown";
    }
}

const char *
weir__cluster_task_state_name(const weir__task *t)
{
    if (t->running < 0 || t->running != t->target)
        return t->target < 0 ? "unassigned" : "moving";
    if (!t->st.valid)
        return "assigned";
    return weir__cluster_task_state_enum_name(t->st.state);
}

const char *
weir__cluster_task_state_enum_name(Weir__Cluster__TaskState s)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &weir__cluster__task_state__descriptor, (int)s);
    return v ? v->name + strlen("TASK_") : "unknown";
}

static const char *
kafka_state_name(Weir__Cluster__KafkaState s)
{
    return s == WEIR__CLUSTER__KAFKA_STATE__KAFKA_REACHABLE     ? "reachable"
           : s == WEIR__CLUSTER__KAFKA_STATE__KAFKA_UNREACHABLE ? "unreachable"
                                                                : "unknown";
}

static const char *
member_state_name(const weir__member *m)
{
    switch (m->state) {
    case WEIR__MEMBER_ALIVE:
        return "alive";
    case WEIR__MEMBER_DRAINING:
        return "draining";
    default:
        return "dead";
    }
}

static void
job_counts(const weir_cluster *cl, size_t j, Weir__Cluster__JobInfo *info)
{
    for (size_t k = 0; k < cl->n_tasks; k++) {
        if (cl->tasks[k].job != j || cl->tasks[k].orphan)
            continue;
        const weir__task *t = &cl->tasks[k];
        info->tasks++;
        info->running_tasks += weir__cluster_task_running(t);
        info->stuck_tasks += t->stuck;
        info->dead_lettered += t->st.dead_lettered;
        info->skipped += t->st.skipped;
        info->late += t->st.late;
        info->failed_tasks +=
            t->st.valid && t->running == t->target &&
            t->st.state == WEIR__CLUSTER__TASK_STATE__TASK_FAILED;
    }
    info->degraded = info->stuck_tasks > 0;
}

/* A running job shows FAILED while a task is failed, PENDING while a task
 * is not running yet. */
static Weir__Cluster__JobState
job_state(const weir_cluster *cl, size_t j, const Weir__Cluster__JobInfo *info)
{
    Weir__Cluster__JobState s = cl->jobs[j].state;
    if (s == WEIR__CLUSTER__JOB_STATE__JOB_RUNNING && info->failed_tasks > 0)
        return WEIR__CLUSTER__JOB_STATE__JOB_FAILED;
    if (s == WEIR__CLUSTER__JOB_STATE__JOB_RUNNING &&
        info->running_tasks < info->tasks)
        return WEIR__CLUSTER__JOB_STATE__JOB_PENDING;
    return s;
}

static void
job_info(const weir_cluster *cl, size_t j, Weir__Cluster__JobInfo *info)
{
    weir__cluster__job_info__init(info);
    info->name = cl->jobs[j].topo->job;
    job_counts(cl, j, info);
    info->state = job_state(cl, j, info);
    info->submitted_at_ms = (uint64_t)cl->jobs[j].submitted_at_ms;
    info->guarantee = cl->jobs[j].topo->guarantee;
}

/* --------------------------------------------------------- protobuf views */

void
weir_cluster_job_list(const weir_cluster *cl, Weir__Cluster__JobListReply *r)
{
    weir__cluster__job_list_reply__init(r);
    size_t n = cl->n_jobs;
    char *block = calloc(1, (n + 1) * (sizeof(Weir__Cluster__JobInfo) +
                                          sizeof(Weir__Cluster__JobInfo *)));
    if (!block)
        return;
    r->jobs = (Weir__Cluster__JobInfo **)block;
    Weir__Cluster__JobInfo *infos =
        (Weir__Cluster__JobInfo *)(block + (n + 1) * sizeof(void *));
    for (size_t j = 0; j < n; j++) {
        job_info(cl, j, &infos[j]);
        r->jobs[r->n_jobs++] = &infos[j];
    }
}

int
weir_cluster_job_describe(const weir_cluster *cl, const char *job,
    uint64_t now_ms, Weir__Cluster__JobDescribeReply *r)
{
    weir__cluster__job_describe_reply__init(r);
    int j = job ? weir__cluster_job_find(cl, job) : -1;
    if (j < 0)
        return WEIR_ENOTFOUND;
    size_t n = 0;
    for (size_t k = 0; k < cl->n_tasks; k++)
        n += cl->tasks[k].job == (uint32_t)j && !cl->tasks[k].orphan;
    /* one block: JobInfo, then per task TaskInfo, TaskId, TaskStatus, the
     * standby name array and the bucket array */
    size_t per = sizeof(Weir__Cluster__TaskInfo) +
                 sizeof(Weir__Cluster__TaskId) +
                 sizeof(Weir__Cluster__TaskStatus) +
                 WEIR_ASSIGNOR_MAX_STANDBYS * sizeof(char *) +
                 WEIR_CLUSTER_LAT_BUCKETS * sizeof(uint64_t) +
                 sizeof(Weir__Cluster__TaskInfo *);
    char *block = calloc(1, sizeof(Weir__Cluster__JobInfo) + n * per);
    if (!block)
        return WEIR_ENOMEM;
    Weir__Cluster__JobInfo *info = (Weir__Cluster__JobInfo *)block;
    job_info(cl, (size_t)j, info);
    r->job = info;
    r->topology = cl->jobs[j].topo;
    Weir__Cluster__TaskInfo **ptrs =
        (Weir__Cluster__TaskInfo **)(block + sizeof(*info));
    char *p = (char *)(ptrs + n);
    r->tasks = ptrs;
    for (size_t k = 0; k < cl->n_tasks; k++) {
        const weir__task *t = &cl->tasks[k];
        if (t->job != (uint32_t)j || t->orphan)
            continue;
        Weir__Cluster__TaskInfo *ti = (Weir__Cluster__TaskInfo *)p;
        p += sizeof(*ti);
        Weir__Cluster__TaskId *id = (Weir__Cluster__TaskId *)p;
        p += sizeof(*id);
        Weir__Cluster__TaskStatus *st = (Weir__Cluster__TaskStatus *)p;
        p += sizeof(*st);
        char **sb = (char **)p;
        p += WEIR_ASSIGNOR_MAX_STANDBYS * sizeof(char *);
        uint64_t *buckets = (uint64_t *)p;
        p += WEIR_CLUSTER_LAT_BUCKETS * sizeof(uint64_t);
        weir__cluster__task_info__init(ti);
        weir__cluster__task_id__init(id);
        weir__cluster__task_status__init(st);
        id->job = cl->jobs[j].topo->job;
        id->subtopology = t->sub;
        id->partition = t->part;
        ti->task = id;
        ti->owner = t->running >= 0 && t->running == t->target
                        ? cl->members[t->running].id
                        : "";
        ti->standbys = sb;
        for (uint32_t i = 0; i < t->n_standbys; i++)
            sb[ti->n_standbys++] = cl->members[t->standbys[i]].id;
        st->task = id;
        st->state = t->st.state;
        st->lag = t->st.lag;
        st->records_in = t->st.records_in;
        st->records_out = t->st.records_out;
        st->commits = t->st.commits;
        st->restored_records = t->st.restored;
        st->dead_lettered = t->st.dead_lettered;
        st->skipped = t->st.skipped;
        st->late = t->st.late;
        st->error = (char *)t->st.error;
        memcpy(buckets, t->st.buckets, sizeof(t->st.buckets));
        st->commit_latency_buckets = buckets;
        st->n_commit_latency_buckets = WEIR_CLUSTER_LAT_BUCKETS;
        st->commit_latency_sum_ms = t->st.lat_sum_ms;
        ti->status = t->st.valid ? st : NULL;
        ti->commit_rate = t->st.valid && now_ms < t->st.updated_ms + 5000
                              ? t->st.commit_rate
                              : 0;
        ti->not_running_ms =
            t->not_running_since_ms && now_ms > t->not_running_since_ms
                ? now_ms - t->not_running_since_ms
                : 0;
        ti->stuck = t->stuck;
        r->tasks[r->n_tasks++] = ti;
    }
    return WEIR_OK;
}

void
weir_cluster_worker_list(
    const weir_cluster *cl, uint64_t now_ms, Weir__Cluster__WorkerListReply *r)
{
    weir__cluster__worker_list_reply__init(r);
    size_t n = cl->n_members;
    char *block = calloc(1, (n + 1) * (sizeof(Weir__Cluster__WorkerInfo) +
                                          sizeof(Weir__Cluster__WorkerInfo *)));
    if (!block)
        return;
    r->workers = (Weir__Cluster__WorkerInfo **)block;
    Weir__Cluster__WorkerInfo *infos =
        (Weir__Cluster__WorkerInfo *)(block + (n + 1) * sizeof(void *));
    for (size_t i = 0; i < n; i++) {
        const weir__member *m = &cl->members[i];
        Weir__Cluster__WorkerInfo *wi = &infos[i];
        weir__cluster__worker_info__init(wi);
        wi->worker_id = m->id;
        wi->address = m->address;
        wi->query_address = (char *)m->query_address;
        wi->capacity = m->capacity;
        wi->member_epoch = m->epoch;
        wi->alive = m->state != WEIR__MEMBER_DEAD;
        wi->draining = m->state == WEIR__MEMBER_DRAINING;
        wi->active_tasks = m->n_active;
        wi->standby_tasks = m->n_standby;
        wi->last_heartbeat_ms_ago =
            now_ms > m->last_seen_ms ? now_ms - m->last_seen_ms : 0;
        wi->kafka = m->kafka;
        wi->kafka_error = (char *)m->kafka_error;
        r->workers[r->n_workers++] = wi;
    }
}

void
weir_cluster_status(
    const weir_cluster *cl, uint64_t uptime_ms, Weir__Cluster__StatusReply *r)
{
    weir__cluster__status_reply__init(r);
    r->generation = cl->generation;
    for (size_t i = 0; i < cl->n_members; i++)
        r->workers += cl->members[i].state != WEIR__MEMBER_DEAD;
    for (size_t j = 0; j < cl->n_jobs; j++)
        r->jobs += cl->jobs[j].state != WEIR__CLUSTER__JOB_STATE__JOB_CANCELLED;
    for (size_t k = 0; k < cl->n_tasks; k++) {
        const weir__task *t = &cl->tasks[k];
        if (t->orphan)
            continue;
        r->tasks++;
        r->unassigned_tasks += t->running < 0 || t->running != t->target;
    }
    r->rebalances = cl->stats.rebalances;
    r->bootstrap = (char *)cl->opts.bootstrap;
    r->uptime_ms = uptime_ms;
}

void
weir_cluster_view_free(ProtobufCMessage *reply)
{
    if (!reply)
        return;
    const ProtobufCMessageDescriptor *d = reply->descriptor;
    if (d == &weir__cluster__job_list_reply__descriptor) {
        Weir__Cluster__JobListReply *r = (Weir__Cluster__JobListReply *)reply;
        free(r->jobs);
        r->jobs = NULL;
    } else if (d == &weir__cluster__job_describe_reply__descriptor) {
        Weir__Cluster__JobDescribeReply *r =
            (Weir__Cluster__JobDescribeReply *)reply;
        free(r->job); /* the block starts with the JobInfo */
        r->job = NULL;
        r->tasks = NULL;
    } else if (d == &weir__cluster__worker_list_reply__descriptor) {
        Weir__Cluster__WorkerListReply *r =
            (Weir__Cluster__WorkerListReply *)reply;
        free(r->workers);
        r->workers = NULL;
    }
}

/* ------------------------------------------------------------------ JSON */

char *
weir_cluster_json_jobs(const weir_cluster *cl)
{
    sbuf b = {0};
    sb_printf(&b, "[");
    for (size_t j = 0; j < cl->n_jobs; j++) {
        Weir__Cluster__JobInfo info;
        job_info(cl, j, &info);
        sb_printf(&b, "%s{\"name\":", j ? "," : "");
        sb_json_str(&b, info.name);
        sb_printf(&b,
            ",\"state\":\"%s\",\"tasks\":%u,\"running_tasks\":%u,"
            "\"stuck_tasks\":%u,\"degraded\":%s,\"failed_tasks\":%u,"
            "\"dead_lettered\":%llu,\"skipped\":%llu,\"late\":%llu,"
            "\"submitted_at_ms\":%llu,\"guarantee\":\"%s\"}",
            job_state_name(info.state), info.tasks, info.running_tasks,
            info.stuck_tasks, info.degraded ? "true" : "false",
            info.failed_tasks, (unsigned long long)info.dead_lettered,
            (unsigned long long)info.skipped, (unsigned long long)info.late,
            (unsigned long long)info.submitted_at_ms,
            info.guarantee == WEIR__TOPOLOGY__GUARANTEE__AT_LEAST_ONCE
                ? "at_least_once"
                : "exactly_once");
    }
    sb_printf(&b, "]\n");
    return sb_take(&b);
}

char *
weir_cluster_json_workers(const weir_cluster *cl, uint64_t now_ms)
{
    sbuf b = {0};
    sb_printf(&b, "[");
    for (size_t i = 0; i < cl->n_members; i++) {
        const weir__member *m = &cl->members[i];
        sb_printf(&b, "%s{\"worker_id\":", i ? "," : "");
        sb_json_str(&b, m->id);
        sb_printf(&b, ",\"address\":");
        sb_json_str(&b, m->address);
        sb_printf(&b,
            ",\"state\":\"%s\",\"capacity\":%u,\"member_epoch\":%llu,"
            "\"active_tasks\":%u,\"standby_tasks\":%u,"
            "\"last_heartbeat_ms_ago\":%llu,\"known_generation\":%llu,"
            "\"kafka\":\"%s\",\"kafka_error\":",
            member_state_name(m), m->capacity, (unsigned long long)m->epoch,
            m->n_active, m->n_standby,
            (unsigned long long)(now_ms > m->last_seen_ms
                                     ? now_ms - m->last_seen_ms
                                     : 0),
            (unsigned long long)m->known_generation,
            kafka_state_name(m->kafka));
        sb_json_str(&b, m->kafka_error);
        sb_printf(&b, "}");
    }
    sb_printf(&b, "]\n");
    return sb_take(&b);
}

/* ------------------------------------------------------------ Prometheus */

static void
histogram(sbuf *b, const char *name, const char *help, const uint64_t *buckets,
    double sum)
{
    weir_prom_family(b, name, "histogram", help);
    (void)weir_prom_histogram(b, name, "", weir_cluster_lat_bounds_ms, buckets,
        WEIR_CLUSTER_LAT_BUCKETS, sum);
}

/* job="...",subtopology="s",partition="p" */
static void
task_labels(const weir_cluster *cl, const weir__task *t, weir_buf *out)
{
    weir_buf_clear(out);
    weir_buf_printf(out, "job=\"");
    weir_prom_label_value(out, cl->jobs[t->job].topo->job);
    weir_buf_printf(
        out, "\",subtopology=\"%u\",partition=\"%u\"", t->sub, t->part);
}

/* The per-task families: one value of the task's last status each. */
typedef struct task_family {
    const char *name, *type, *help;
    double (*value)(const weir__task *t, uint64_t now_ms);
} task_family;

static double
task_lag(const weir__task *t, uint64_t now_ms)
{
    (void)now_ms;
    return (double)t->st.lag;
}

static double
task_in(const weir__task *t, uint64_t now_ms)
{
    (void)now_ms;
    return (double)t->st.records_in;
}

static double
task_out(const weir__task *t, uint64_t now_ms)
{
    (void)now_ms;
    return (double)t->st.records_out;
}

static double
task_commits(const weir__task *t, uint64_t now_ms)
{
    (void)now_ms;
    return (double)t->st.commits;
}

static double
task_commit_rate(const weir__task *t, uint64_t now_ms)
{
    return now_ms < t->st.updated_ms + 5000 ? t->st.commit_rate : 0.0;
}

static double
task_restored(const weir__task *t, uint64_t now_ms)
{
    (void)now_ms;
    return (double)t->st.restored;
}

static double
task_dead_lettered(const weir__task *t, uint64_t now_ms)
{
    (void)now_ms;
    return (double)t->st.dead_lettered;
}

static double
task_skipped(const weir__task *t, uint64_t now_ms)
{
    (void)now_ms;
    return (double)t->st.skipped;
}

static double
task_late(const weir__task *t, uint64_t now_ms)
{
    (void)now_ms;
    return (double)t->st.late;
}

static const task_family task_families[] = {
    {"weir_task_lag", "gauge",
        "Records the task has yet to read (to the last stable offset).",
        task_lag},
    {"weir_task_records_in_total", "counter", "Records the task consumed.",
        task_in},
    {"weir_task_records_out_total", "counter", "Records the task produced.",
        task_out},
    {"weir_task_commits_total", "counter", "Transactions the task committed.",
        task_commits},
    {"weir_task_commit_rate", "gauge",
        "Commits per second over the last report (0 when stale).",
        task_commit_rate},
    {"weir_task_restored_records", "gauge",
        "Changelog records restored when the task last started.",
        task_restored},
    {"weir_task_dead_lettered_records_total", "counter",
        "Records the task wrote to the dead-letter topic (on_error: dlq).",
        task_dead_lettered},
    {"weir_task_skipped_records_total", "counter",
        "Records the task dropped (on_error: skip).", task_skipped},
    {"weir_task_late_records_total", "counter",
        "Records the task dropped because their window had closed.", task_late},
};

static bool
task_reported(const weir__task *t)
{
    return t->st.valid && !t->orphan;
}

char *
weir_cluster_metrics(const weir_cluster *cl, uint64_t now_ms)
{
    sbuf b = {0};
    const weir_cluster_stats *s = &cl->stats;
    size_t alive = 0, draining = 0, dead = 0;
    for (size_t i = 0; i < cl->n_members; i++) {
        alive += cl->members[i].state == WEIR__MEMBER_ALIVE;
        draining += cl->members[i].state == WEIR__MEMBER_DRAINING;
        dead += cl->members[i].state == WEIR__MEMBER_DEAD;
    }
    weir_prom_family(&b, "weir_workers", "gauge",
        "Workers known to the coordinator by state.");
    weir_prom_u64(&b, "weir_workers", "state=\"alive\"", alive);
    weir_prom_u64(&b, "weir_workers", "state=\"draining\"", draining);
    weir_prom_u64(&b, "weir_workers", "state=\"dead\"", dead);
    static const char *const states[] = {"unassigned", "moving", "assigned",
        "CREATED", "RESTORING", "RUNNING", "STANDBY", "REVOKING", "FENCED",
        "FAILED", "CLOSED"};
    weir_prom_family(&b, "weir_tasks", "gauge", "Tasks by state.");
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        size_t n = 0;
        for (size_t k = 0; k < cl->n_tasks; k++)
            n += !cl->tasks[k].orphan &&
                 strcmp(weir__cluster_task_state_name(&cl->tasks[k]),
                     states[i]) == 0;
        char label[64];
        snprintf(label, sizeof(label), "state=\"%s\"", states[i]);
        weir_prom_u64(&b, "weir_tasks", label, n);
    }
    size_t jobs = 0;
    for (size_t j = 0; j < cl->n_jobs; j++)
        jobs += cl->jobs[j].state != WEIR__CLUSTER__JOB_STATE__JOB_CANCELLED;
    weir_prom_family(&b, "weir_jobs", "gauge", "Jobs that are not cancelled.");
    weir_prom_u64(&b, "weir_jobs", "", jobs);
    weir_prom_family(&b, "weir_job_degraded", "gauge",
        "1 while a task of the job has not been running for longer than "
        "--stuck-task-ms.");
    weir_buf label;
    weir_buf_init(&label);
    for (size_t j = 0; j < cl->n_jobs; j++) {
        if (cl->jobs[j].state == WEIR__CLUSTER__JOB_STATE__JOB_CANCELLED)
            continue;
        Weir__Cluster__JobInfo info;
        job_info(cl, j, &info);
        weir_buf_clear(&label);
        weir_buf_printf(&label, "job=\"");
        weir_prom_label_value(&label, info.name);
        weir_buf_printf(&label, "\"");
        weir_prom_u64(
            &b, "weir_job_degraded", label.data, info.degraded ? 1 : 0);
    }
    size_t stuck = 0;
    for (size_t k = 0; k < cl->n_tasks; k++)
        stuck += cl->tasks[k].stuck;
    weir_prom_family(&b, "weir_tasks_stuck", "gauge",
        "Tasks not running for longer than --stuck-task-ms.");
    weir_prom_u64(&b, "weir_tasks_stuck", "", stuck);
    const struct {
        const char *name, *type, *help;
        uint64_t value;
    } totals[] = {
        {"weir_assignment_generation", "gauge",
            "Generation of the current assignment.", cl->generation},
        {"weir_rebalances_total", "counter", "Rebalances since the start.",
            s->rebalances},
        {"weir_hellos_total", "counter", "Hello requests from workers.",
            s->hellos},
        {"weir_heartbeats_total", "counter", "Heartbeats from workers.",
            s->heartbeats},
        {"weir_leaves_total", "counter", "Workers that left cleanly.",
            s->leaves},
        {"weir_stale_epochs_total", "counter",
            "Requests refused for a stale member epoch.", s->stale},
        {"weir_session_expiries_total", "counter",
            "Workers declared dead after their session expired.", s->deaths},
    };
    for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
        weir_prom_family(&b, totals[i].name, totals[i].type, totals[i].help);
        weir_prom_u64(&b, totals[i].name, "", totals[i].value);
    }
    histogram(&b, "weir_heartbeat_latency_ms",
        "Worker send to coordinator receipt (wall clocks).",
        s->hb_latency_buckets, s->hb_latency_sum_ms);
    for (size_t f = 0; f < sizeof(task_families) / sizeof(task_families[0]);
         f++) {
        const task_family *tf = &task_families[f];
        weir_prom_family(&b, tf->name, tf->type, tf->help);
        for (size_t k = 0; k < cl->n_tasks; k++) {
            const weir__task *t = &cl->tasks[k];
            if (!task_reported(t))
                continue;
            task_labels(cl, t, &label);
            weir_prom_f64(&b, tf->name, label.data, tf->value(t, now_ms));
        }
    }
    weir_buf_fini(&label);
    uint64_t all[WEIR_CLUSTER_LAT_BUCKETS] = {0};
    double all_sum = 0;
    for (size_t k = 0; k < cl->n_tasks; k++) {
        const weir__task *t = &cl->tasks[k];
        if (!task_reported(t))
            continue;
        for (size_t i = 0; i < WEIR_CLUSTER_LAT_BUCKETS; i++)
            all[i] += t->st.buckets[i];
        all_sum += t->st.lat_sum_ms;
    }
    histogram(&b, "weir_commit_latency_ms",
        "Transaction commit latency reported by workers, all tasks.", all,
        all_sum);
    weir__cluster_metrics_live(cl, now_ms, &b);
    return sb_take(&b);
}
