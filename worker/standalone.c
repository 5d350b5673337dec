/* Standalone mode: every task of one job in this process, no coordinator. */
#include "worker/standalone.h"

#include <stdbool.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/job/job.h"
#include "common/log.h"
#include "common/signals.h"
#include "worker/job_topics.h"

/* Every task of the job, once its topics exist. */
static int
assign_all(weir_runtime *rt, const char *bootstrap,
    Weir__Topology__Topology *topo, size_t *n_tasks)
{
    char err[256];
    int rv, attempt = 0;
    uint32_t *sub_tasks = calloc(topo->n_subtopologies + 1, sizeof(*sub_tasks));
    if (!sub_tasks)
        return WEIR_ENOMEM;
    while ((rv = weir_job_topics_ensure(
                bootstrap, topo, sub_tasks, err, sizeof(err))) != WEIR_OK) {
        if (rv == WEIR_EINVAL) { /* the job cannot run on these topics */
            weir_log_error("worker", "cannot run the job err=\"%s\"", err);
            free(sub_tasks);
            return rv;
        }
        if (attempt++ % 10 == 0)
            weir_log_warn("worker", "waiting for the broker err=\"%s\"", err);
        if (weir_signal_wait(500)) {
            free(sub_tasks);
            return WEIR_ESTOPPED;
        }
    }
    size_t cap = 0, n = 0;
    for (size_t i = 0; i < topo->n_subtopologies; i++)
        cap += sub_tasks[i];
    Weir__Cluster__TaskId *ids = calloc(cap + 1, sizeof(*ids));
    Weir__Cluster__TaskId **ptrs = calloc(cap + 1, sizeof(*ptrs));
    if (!ids || !ptrs) {
        free(ids);
        free(ptrs);
        free(sub_tasks);
        return WEIR_ENOMEM;
    }
    for (size_t i = 0; i < topo->n_subtopologies; i++) {
        for (uint32_t p = 0; p < sub_tasks[i]; p++) {
            weir__cluster__task_id__init(&ids[n]);
            ids[n].job = topo->job;
            ids[n].subtopology = topo->subtopologies[i]->id;
            ids[n].partition = p;
            ptrs[n] = &ids[n];
            n++;
        }
    }
    free(sub_tasks);
    Weir__Cluster__Assignment as;
    weir__cluster__assignment__init(&as);
    as.generation = 1;
    as.n_active = n;
    as.active = ptrs;
    rv = weir_runtime_assign(rt, &as, &topo, 1);
    free(ids);
    free(ptrs);
    *n_tasks = n;
    return rv;
}

int
weir_standalone_run(weir_runtime *rt, const char *bootstrap,
    Weir__Topology__Topology *topo, int64_t progress_ms)
{
    int code = 0;
    size_t n_tasks = 0;
    if (weir_runtime_start(rt) != WEIR_OK) {
        weir_job_free(topo);
        return 1;
    }
    int rv = assign_all(rt, bootstrap, topo, &n_tasks);
    if (rv != WEIR_OK) {
        weir_job_free(topo);
        return rv == WEIR_ESTOPPED ? 0 : 1;
    }
    weir_log_info(
        "worker", "ready standalone job=%s tasks=%zu", topo->job, n_tasks);
    weir_runtime_totals prev;
    weir_runtime_totals_get(rt, &prev);
    uint64_t last = weir_clock_mono_ms();
    bool all_running = false;
    while (!weir_signal_wait(100)) {
        weir_runtime_totals tot;
        weir_runtime_totals_get(rt, &tot);
        if (!all_running && tot.tasks_total == n_tasks &&
            tot.tasks_running == n_tasks) {
            weir_log_info("worker", "all tasks running tasks=%zu", n_tasks);
            all_running = true;
        }
        if (weir_runtime_failed(rt) || tot.tasks_failed > 0) {
            weir_log_error(
                "worker", "a task failed, stopping job=%s", topo->job);
            code = 1;
            break;
        }
        if (tot.tasks_fenced > 0) {
            weir_log_error("worker",
                "fenced: another worker runs this job, stopping job=%s",
                topo->job);
            code = 3;
            break;
        }
        uint64_t now = weir_clock_mono_ms();
        if (progress_ms > 0 && now - last >= (uint64_t)progress_ms) {
            double s = (double)(now - last) / 1000.0;
            uint64_t dc = tot.commits - prev.commits;
            double lat =
                dc ? (tot.commit_latency_sum_ms - prev.commit_latency_sum_ms) /
                         (double)dc
                   : 0.0;
            weir_log_info("worker",
                "progress in_per_s=%.0f out_per_s=%.0f commit_ms=%.1f "
                "commits=%llu aborts=%llu in=%llu out=%llu running=%u/%u",
                (double)(tot.records_in - prev.records_in) / s,
                (double)(tot.records_out - prev.records_out) / s, lat,
                (unsigned long long)tot.commits, (unsigned long long)tot.aborts,
                (unsigned long long)tot.records_in,
                (unsigned long long)tot.records_out, tot.tasks_running,
                tot.tasks_total);
            prev = tot;
            last = now;
        }
    }
    weir_log_info("worker", "stopping job=%s", topo->job);
    weir_runtime_stop(rt);
    weir_job_free(topo);
    return code;
}
