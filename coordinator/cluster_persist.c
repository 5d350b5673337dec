/*
 * Durable coordinator state: one CoordinatorState protobuf in the data
 * dir, replaced atomically (write a temp file, fsync, rename, fsync the
 * directory), so a crash leaves either the old or the new state.
 */
#include "cluster_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "common/err.h"
#include "common/file.h"
#include "common/log.h"

#define STATE_VERSION 1
#define MAX_STATE_BYTES (256u * 1024u * 1024u)

static const char *
member_name(const weir_cluster *cl, int32_t w)
{
    return w >= 0 ? cl->members[w].id : "";
}

static int
write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return WEIR_EIO;
        buf += n;
        len -= (size_t)n;
    }
    return WEIR_OK;
}

static int
atomic_write(const char *path, const uint8_t *buf, size_t len)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return WEIR_EINVAL;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return WEIR_EIO;
    int rv = write_all(fd, buf, len);
    if (rv == WEIR_OK && fsync(fd) != 0)
        rv = WEIR_EIO;
    if (close(fd) != 0 && rv == WEIR_OK)
        rv = WEIR_EIO;
    if (rv == WEIR_OK && rename(tmp, path) != 0)
        rv = WEIR_EIO;
    if (rv != WEIR_OK) {
        (void)unlink(tmp);
        return rv;
    }
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        (void)close(dfd);
    }
    return WEIR_OK;
}

int
weir_cluster_save(const weir_cluster *cl, const char *path)
{
    Weir__Cluster__CoordinatorState s = WEIR__CLUSTER__COORDINATOR_STATE__INIT;
    s.version = STATE_VERSION;
    s.generation = cl->generation;
    s.last_epoch = cl->last_epoch;
    s.rebalances = cl->stats.rebalances;
    int rv = WEIR_ENOMEM;
    Weir__Cluster__StoredJob *jobs = calloc(cl->n_jobs + 1, sizeof(*jobs));
    Weir__Cluster__StoredJob **pjobs = calloc(cl->n_jobs + 1, sizeof(*pjobs));
    Weir__Cluster__StoredMember *mem = calloc(cl->n_members + 1, sizeof(*mem));
    Weir__Cluster__StoredMember **pmem =
        calloc(cl->n_members + 1, sizeof(*pmem));
    Weir__Cluster__StoredTask *tasks = calloc(cl->n_tasks + 1, sizeof(*tasks));
    Weir__Cluster__StoredTask **ptasks =
        calloc(cl->n_tasks + 1, sizeof(*ptasks));
    Weir__Cluster__TaskId *ids = calloc(cl->n_tasks + 1, sizeof(*ids));
    char **sb =
        calloc(cl->n_tasks * WEIR_ASSIGNOR_MAX_STANDBYS + 1, sizeof(*sb));
    uint8_t *buf = NULL;
    if (!jobs || !pjobs || !mem || !pmem || !tasks || !ptasks || !ids || !sb)
        goto out;
    for (size_t j = 0; j < cl->n_jobs; j++) {
        weir__cluster__stored_job__init(&jobs[j]);
        jobs[j].topology = cl->jobs[j].topo;
        jobs[j].state = cl->jobs[j].state;
        jobs[j].submitted_at_ms = (uint64_t)cl->jobs[j].submitted_at_ms;
        jobs[j].n_subtopology_tasks = cl->jobs[j].n_sub;
        jobs[j].subtopology_tasks = cl->jobs[j].sub_tasks;
        pjobs[j] = &jobs[j];
    }
    s.n_jobs = cl->n_jobs;
    s.jobs = pjobs;
    for (size_t i = 0; i < cl->n_members; i++) {
        weir__cluster__stored_member__init(&mem[i]);
        mem[i].worker_id = cl->members[i].id;
        mem[i].address = cl->members[i].address;
        mem[i].query_address = cl->members[i].query_address;
        mem[i].capacity = cl->members[i].capacity;
        mem[i].instance = cl->members[i].instance;
        /* a dead member's epoch is stale anyway: store 0 */
        mem[i].member_epoch = cl->members[i].state == WEIR__MEMBER_DEAD
                                  ? 0
                                  : cl->members[i].epoch;
        mem[i].draining = cl->members[i].state == WEIR__MEMBER_DRAINING;
        pmem[i] = &mem[i];
    }
    s.n_members = cl->n_members;
    s.members = pmem;
    for (size_t k = 0; k < cl->n_tasks; k++) {
        const weir__task *t = &cl->tasks[k];
        weir__cluster__stored_task__init(&tasks[k]);
        weir__cluster__task_id__init(&ids[k]);
        ids[k].job = cl->jobs[t->job].topo->job;
        ids[k].subtopology = t->sub;
        ids[k].partition = t->part;
        tasks[k].task = &ids[k];
        tasks[k].target = (char *)member_name(cl, t->target);
        tasks[k].running = (char *)member_name(cl, t->running);
        tasks[k].orphan = t->orphan;
        tasks[k].standbys = &sb[k * WEIR_ASSIGNOR_MAX_STANDBYS];
        for (uint32_t i = 0; i < t->n_standbys; i++)
            tasks[k].standbys[tasks[k].n_standbys++] =
                (char *)member_name(cl, t->standbys[i]);
        ptasks[k] = &tasks[k];
    }
    s.n_tasks = cl->n_tasks;
    s.tasks = ptasks;
    size_t len = weir__cluster__coordinator_state__get_packed_size(&s);
    if (!(buf = malloc(len ? len : 1)))
        goto out;
    weir__cluster__coordinator_state__pack(&s, buf);
    rv = atomic_write(path, buf, len); /* errno says why it failed */
out:
    free(buf);
    free(jobs);
    free(pjobs);
    free(mem);
    free(pmem);
    free(tasks);
    free(ptasks);
    free(ids);
    free(sb);
    return rv;
}

static int32_t
member_idx(const weir_cluster *cl, const char *name)
{
    return name && name[0] ? weir__cluster_member_find(cl, name) : -1;
}

/* Takes the jobs out of s (their topologies move into cl). */
static int
load_jobs(weir_cluster *cl, Weir__Cluster__CoordinatorState *s)
{
    if (!(cl->jobs = calloc(s->n_jobs + 1, sizeof(*cl->jobs))))
        return WEIR_ENOMEM;
    cl->cap_jobs = s->n_jobs + 1;
    for (size_t j = 0; j < s->n_jobs; j++) {
        Weir__Cluster__StoredJob *sj = s->jobs[j];
        if (!sj->topology || !sj->topology->job ||
            sj->n_subtopology_tasks != sj->topology->n_subtopologies ||
            weir__cluster_job_find(cl, sj->topology->job) >= 0)
            return WEIR_ECORRUPT;
        for (size_t i = 0; i < sj->n_subtopology_tasks; i++)
            if (sj->subtopology_tasks[i] == 0 ||
                sj->subtopology_tasks[i] > 100000)
                return WEIR_ECORRUPT;
        weir__job *job = &cl->jobs[cl->n_jobs];
        job->sub_tasks =
            malloc((sj->n_subtopology_tasks + 1) * sizeof(*job->sub_tasks));
        if (!job->sub_tasks)
            return WEIR_ENOMEM;
        memcpy(job->sub_tasks, sj->subtopology_tasks,
            sj->n_subtopology_tasks * sizeof(uint32_t));
        job->n_sub = sj->n_subtopology_tasks;
        job->topo = sj->topology;
        sj->topology = NULL;
        job->state = sj->state;
        job->submitted_at_ms = (int64_t)sj->submitted_at_ms;
        cl->n_jobs++;
    }
    return WEIR_OK;
}

static int
load_members(
    weir_cluster *cl, const Weir__Cluster__CoordinatorState *s, uint64_t now_ms)
{
    for (size_t i = 0; i < s->n_members; i++) {
        const Weir__Cluster__StoredMember *sm = s->members[i];
        if (!sm->worker_id || !sm->worker_id[0] ||
            weir__cluster_member_find(cl, sm->worker_id) >= 0)
            return WEIR_ECORRUPT;
        int w = weir__cluster_member_add(cl, sm->worker_id);
        if (w < 0)
            return WEIR_ENOMEM;
        weir__member *m = &cl->members[w];
        char *addr = strdup(sm->address ? sm->address : "");
        if (!addr)
            return WEIR_ENOMEM;
        free(m->address);
        m->address = addr;
        snprintf(m->query_address, sizeof(m->query_address), "%s",
            sm->query_address ? sm->query_address : "");
        /* kept so that a second process with a live member's id is still
         * refused after a restart (cluster.c duplicate) */
        snprintf(m->instance, sizeof(m->instance), "%s",
            sm->instance ? sm->instance : "");
        m->capacity = sm->capacity ? sm->capacity : 1;
        m->epoch = sm->member_epoch;
        /* Members alive at the last save get a full session to show up
         * again with their epoch: nothing moves if they do. */
        if (sm->member_epoch != 0) {
            m->state =
                sm->draining ? WEIR__MEMBER_DRAINING : WEIR__MEMBER_ALIVE;
            m->last_seen_ms = now_ms;
            m->known_generation = s->generation;
        }
    }
    return WEIR_OK;
}

/* A stored orphan: a stopped-but-unconfirmed task of a cancelled job. */
static int
add_orphan(weir_cluster *cl, const Weir__Cluster__StoredTask *st)
{
    int j = weir__cluster_job_find(cl, st->task->job);
    int32_t running = member_idx(cl, st->running);
    if (j < 0 || running < 0 || cl->members[running].state == WEIR__MEMBER_DEAD)
        return WEIR_OK; /* nothing left to wait for */
    weir__task zero = {0};
    if (weir_array_append(&cl->tasks, &cl->n_tasks, &zero, sizeof(zero)) !=
        WEIR_OK)
        return WEIR_ENOMEM;
    weir__task *t = &cl->tasks[cl->n_tasks - 1];
    t->job = (uint32_t)j;
    t->sub = st->task->subtopology;
    t->part = st->task->partition;
    t->target = -1;
    t->running = running;
    t->orphan = true;
    return WEIR_OK;
}

static int
load_tasks(weir_cluster *cl, const Weir__Cluster__CoordinatorState *s)
{
    int rv = weir__cluster_tasks_rebuild(cl);
    if (rv != WEIR_OK)
        return rv;
    for (size_t i = 0; i < s->n_tasks; i++) {
        const Weir__Cluster__StoredTask *st = s->tasks[i];
        if (!st->task || !st->task->job)
            return WEIR_ECORRUPT;
        int k = weir__cluster_task_find(
            cl, st->task->job, st->task->subtopology, st->task->partition);
        if (k < 0)
            continue; /* an orphan: added below, once lookups are done */
        weir__task *t = &cl->tasks[k];
        t->target = member_idx(cl, st->target);
        t->running = member_idx(cl, st->running);
        if (t->running >= 0 &&
            cl->members[t->running].state == WEIR__MEMBER_DEAD)
            t->running = -1;
        t->n_standbys = 0;
        for (size_t j = 0; j < st->n_standbys && j < WEIR_ASSIGNOR_MAX_STANDBYS;
             j++) {
            int32_t w = member_idx(cl, st->standbys[j]);
            if (w >= 0)
                t->standbys[t->n_standbys++] = w;
        }
    }
    /* Orphans go after the lookups: appending unsorts the array. */
    bool *orphan = calloc(s->n_tasks + 1, sizeof(*orphan));
    if (!orphan)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < s->n_tasks; i++) {
        const Weir__Cluster__StoredTask *st = s->tasks[i];
        orphan[i] = weir__cluster_task_find(cl, st->task->job,
                        st->task->subtopology, st->task->partition) < 0;
    }
    for (size_t i = 0; i < s->n_tasks && rv == WEIR_OK; i++)
        if (orphan[i])
            rv = add_orphan(cl, s->tasks[i]);
    free(orphan);
    if (rv != WEIR_OK)
        return rv;
    weir__cluster_tasks_sort(cl);
    return WEIR_OK;
}

int
weir_cluster_load(weir_cluster *cl, const char *path, uint64_t now_ms)
{
    char *buf;
    size_t len;
    int rv = weir_file_read(path, MAX_STATE_BYTES, &buf, &len);
    if (rv == WEIR_ETOOBIG)
        return WEIR_ECORRUPT;
    if (rv == WEIR_EINVAL)
        return WEIR_EIO;
    if (rv != WEIR_OK)
        return rv;
    Weir__Cluster__CoordinatorState *s =
        weir__cluster__coordinator_state__unpack(NULL, len, (uint8_t *)buf);
    free(buf);
    if (!s || s->version != STATE_VERSION) {
        if (s)
            weir__cluster__coordinator_state__free_unpacked(s, NULL);
        return WEIR_ECORRUPT;
    }
    if (cl->n_jobs || cl->n_members || cl->n_tasks) {
        weir__cluster__coordinator_state__free_unpacked(s, NULL);
        return WEIR_ESTATE;
    }
    cl->generation = s->generation;
    cl->last_epoch = s->last_epoch;
    cl->stats.rebalances = s->rebalances;
    if ((rv = load_jobs(cl, s)) == WEIR_OK &&
        (rv = load_members(cl, s, now_ms)) == WEIR_OK)
        rv = load_tasks(cl, s);
    weir__cluster__coordinator_state__free_unpacked(s, NULL);
    if (rv == WEIR_OK) {
        weir__cluster_publish_counts(cl);
        /* The dead may have left tasks behind; expired members too. */
        cl->rebalance_due_ms = now_ms + cl->opts.session_timeout_ms;
    }
    return rv;
}
