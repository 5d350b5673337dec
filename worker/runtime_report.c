/* Heartbeat reports: task statuses and local checkpoints as protobufs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "runtime_impl.h"

static Weir__Cluster__TaskId *
task_id(const char *job, uint32_t sub, uint32_t part)
{
    Weir__Cluster__TaskId *id = malloc(sizeof(*id));
    if (!id)
        return NULL;
    weir__cluster__task_id__init(id);
    id->job = strdup(job);
    id->subtopology = sub;
    id->partition = part;
    if (!id->job) {
        free(id);
        return NULL;
    }
    return id;
}

static void
task_id_free(Weir__Cluster__TaskId *id)
{
    if (!id)
        return;
    if (id->job != protobuf_c_empty_string)
        free(id->job);
    free(id);
}

static void
store_offsets_free(Weir__Cluster__StoreOffset **so, size_t n)
{
    for (size_t i = 0; so && i < n; i++) {
        if (so[i] && so[i]->store != protobuf_c_empty_string)
            free(so[i]->store);
        free(so[i]);
    }
    free(so);
}

static Weir__Cluster__StoreOffset *
store_offset(const char *store, int64_t off)
{
    Weir__Cluster__StoreOffset *so = malloc(sizeof(*so));
    if (!so)
        return NULL;
    weir__cluster__store_offset__init(so);
    so->store = strdup(store);
    so->offset = off;
    if (!so->store) {
        free(so);
        return NULL;
    }
    return so;
}

static const Weir__Cluster__TaskState states[] = {
    [WEIR_TASK_CREATED] = WEIR__CLUSTER__TASK_STATE__TASK_CREATED,
    [WEIR_TASK_RESTORING] = WEIR__CLUSTER__TASK_STATE__TASK_RESTORING,
    [WEIR_TASK_RUNNING] = WEIR__CLUSTER__TASK_STATE__TASK_RUNNING,
    [WEIR_TASK_STANDBY] = WEIR__CLUSTER__TASK_STATE__TASK_STANDBY,
    [WEIR_TASK_FENCED] = WEIR__CLUSTER__TASK_STATE__TASK_FENCED,
    [WEIR_TASK_FAILED] = WEIR__CLUSTER__TASK_STATE__TASK_FAILED,
    [WEIR_TASK_CLOSED] = WEIR__CLUSTER__TASK_STATE__TASK_CLOSED,
};

static void
status_pb_free(Weir__Cluster__TaskStatus *ts)
{
    if (!ts)
        return;
    task_id_free(ts->task);
    for (size_t i = 0; ts->committed && i < ts->n_committed; i++) {
        if (ts->committed[i] &&
            ts->committed[i]->topic != protobuf_c_empty_string)
            free(ts->committed[i]->topic);
        free(ts->committed[i]);
    }
    free(ts->committed);
    store_offsets_free(ts->checkpoints, ts->n_checkpoints);
    free(ts->commit_latency_buckets);
    if (ts->error != protobuf_c_empty_string)
        free(ts->error);
    free(ts);
}

static Weir__Cluster__TaskStatus *
status_pb(const weir_rt_status *s)
{
    Weir__Cluster__TaskStatus *ts = calloc(1, sizeof(*ts));
    if (!ts)
        return NULL;
    weir__cluster__task_status__init(ts);
    ts->task = task_id(s->job, s->sub, s->partition);
    ts->state = states[s->stats.state];
    ts->standby = s->stats.standby;
    ts->lag = s->stats.lag;
    ts->records_in = s->stats.records_in;
    ts->records_out = s->stats.records_out;
    ts->commits = s->stats.commits;
    ts->restored_records = s->stats.restored;
    ts->dead_lettered = s->stats.dlq;
    ts->skipped = s->stats.skipped;
    ts->late = s->stats.late;
    ts->fences = s->stats.fences;
    ts->commit_latency_sum_ms = s->stats.latency_sum_ms;
    ts->error = strdup(s->stats.error);
    ts->committed = calloc(s->n_inputs + 1, sizeof(*ts->committed));
    ts->checkpoints = calloc(s->n_stores + 1, sizeof(*ts->checkpoints));
    ts->commit_latency_buckets =
        calloc(WEIR_TASK_LATENCY_BUCKETS, sizeof(uint64_t));
    bool ok = ts->task && ts->error && ts->committed && ts->checkpoints &&
              ts->commit_latency_buckets;
    if (ok) {
        ts->n_commit_latency_buckets = WEIR_TASK_LATENCY_BUCKETS;
        memcpy(ts->commit_latency_buckets, s->stats.latency_buckets,
            sizeof(s->stats.latency_buckets));
    }
    for (size_t i = 0; ok && i < s->n_inputs; i++) {
        Weir__Cluster__PartitionOffset *po = malloc(sizeof(*po));
        if (!po) {
            ok = false;
            break;
        }
        weir__cluster__partition_offset__init(po);
        po->topic = strdup(s->topics[i]);
        po->partition = s->partition;
        po->offset = s->committed[i];
        ts->committed[ts->n_committed++] = po;
        ok = po->topic != NULL;
    }
    for (size_t i = 0; ok && i < s->n_stores; i++) {
        ts->checkpoints[i] = store_offset(s->stores[i], s->ckpts[i]);
        ok = ts->checkpoints[i] != NULL;
        ts->n_checkpoints += ok;
    }
    if (!ts->error)
        ts->error = (char *)protobuf_c_empty_string;
    if (!ok) {
        status_pb_free(ts);
        return NULL;
    }
    return ts;
}

static void
ckpt_pb_free(Weir__Cluster__TaskCheckpoint *c)
{
    if (!c)
        return;
    task_id_free(c->task);
    store_offsets_free(c->stores, c->n_stores);
    free(c);
}

/* Groups "<job>/<sub>_<part>" checkpoints into TaskCheckpoints. */
static int
local_checkpoints(
    weir_runtime *rt, Weir__Cluster__TaskCheckpoint ***out, size_t *n_out)
{
    weir_store_ckpt *ck = NULL;
    size_t n = 0;
    int rv = weir_store_env_checkpoints(rt->env, &ck, &n);
    if (rv != WEIR_OK)
        return rv;
    Weir__Cluster__TaskCheckpoint **arr = calloc(n + 1, sizeof(*arr));
    size_t cnt = 0;
    for (size_t i = 0; arr && i < n; i++) {
        char job[256];
        unsigned sub, part;
        const char *slash = strrchr(ck[i].task, '/');
        if (!slash || sscanf(slash + 1, "%u_%u", &sub, &part) != 2)
            continue;
        snprintf(
            job, sizeof(job), "%.*s", (int)(slash - ck[i].task), ck[i].task);
        Weir__Cluster__TaskCheckpoint *c = NULL;
        for (size_t k = 0; k < cnt; k++)
            if (strcmp(arr[k]->task->job, job) == 0 &&
                arr[k]->task->subtopology == sub &&
                arr[k]->task->partition == part)
                c = arr[k];
        if (!c) {
            c = calloc(1, sizeof(*c));
            if (!c) {
                rv = WEIR_ENOMEM;
                break;
            }
            weir__cluster__task_checkpoint__init(c);
            arr[cnt++] = c;
            c->task = task_id(job, sub, part);
            c->stores = calloc(n, sizeof(*c->stores));
            if (!c->task || !c->stores) {
                rv = WEIR_ENOMEM;
                break;
            }
        }
        c->stores[c->n_stores] = store_offset(ck[i].store, ck[i].offset);
        if (!c->stores[c->n_stores]) {
            rv = WEIR_ENOMEM;
            break;
        }
        c->n_stores++;
    }
    free(ck);
    if (!arr)
        rv = WEIR_ENOMEM;
    if (rv != WEIR_OK) {
        for (size_t k = 0; k < cnt; k++)
            ckpt_pb_free(arr[k]);
        free(arr);
        return rv;
    }
    *out = arr;
    *n_out = cnt;
    return WEIR_OK;
}

int
weir_runtime_report(weir_runtime *rt, Weir__Cluster__TaskStatus ***tasks,
    size_t *n_tasks, Weir__Cluster__TaskCheckpoint ***local, size_t *n_local)
{
    if (tasks) {
        *tasks = NULL;
        *n_tasks = 0;
    }
    if (local) {
        *local = NULL;
        *n_local = 0;
    }
    int rv = WEIR_OK;
    if (tasks) {
        pthread_mutex_lock(&rt->lock);
        size_t total = 0;
        for (int i = 0; i < rt->n_threads; i++)
            total += rt->threads[i].n_status;
        Weir__Cluster__TaskStatus **arr = calloc(total + 1, sizeof(*arr));
        size_t n = 0;
        for (int i = 0; arr && i < rt->n_threads && rv == WEIR_OK; i++) {
            weir_rt_thread *th = &rt->threads[i];
            for (size_t k = 0; k < th->n_status; k++) {
                if (!(arr[n] = status_pb(&th->status[k]))) {
                    rv = WEIR_ENOMEM;
                    break;
                }
                n++;
            }
        }
        pthread_mutex_unlock(&rt->lock);
        if (!arr)
            return WEIR_ENOMEM;
        if (rv != WEIR_OK) {
            weir_runtime_report_free(arr, n, NULL, 0);
            return rv;
        }
        *tasks = arr;
        *n_tasks = n;
    }
    if (local) {
        rv = local_checkpoints(rt, local, n_local);
        if (rv != WEIR_OK && tasks) {
            weir_runtime_report_free(*tasks, *n_tasks, NULL, 0);
            *tasks = NULL;
            *n_tasks = 0;
        }
    }
    return rv;
}

void
weir_runtime_report_free(Weir__Cluster__TaskStatus **tasks, size_t n_tasks,
    Weir__Cluster__TaskCheckpoint **local, size_t n_local)
{
    for (size_t i = 0; tasks && i < n_tasks; i++)
        status_pb_free(tasks[i]);
    free(tasks);
    for (size_t i = 0; local && i < n_local; i++)
        ckpt_pb_free(local[i]);
    free(local);
}
