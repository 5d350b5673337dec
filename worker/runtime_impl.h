/* Internal to runtime*.c. */
#ifndef WEIR_WORKER_RUNTIME_IMPL_H
#define WEIR_WORKER_RUNTIME_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "runtime.h"
#include "store.h"
#include "task.h"

/* One desired task. */
typedef struct weir_rt_desired {
    char *job;
    uint32_t sub, partition;
    bool standby;
} weir_rt_desired;

/* What a stream thread publishes about one of its tasks. */
typedef struct weir_rt_status {
    char *job;
    uint32_t sub, partition;
    weir_task_stats stats;
    size_t n_inputs;
    char **topics;
    int64_t *committed;
    size_t n_stores;
    char **stores;
    int64_t *ckpts;
} weir_rt_status;

typedef struct weir_rt_thread {
    weir_runtime *rt;
    int idx;
    pthread_t tid;
    bool running;
    /* Owned by the thread. */
    weir_task **tasks;
    size_t n_tasks;
    uint64_t generation;
    /* Published under rt->lock. */
    weir_rt_status *status;
    size_t n_status;
} weir_rt_thread;

struct weir_runtime {
    pthread_mutex_t lock; /* desired, topos, generation, status, bootstrap */
    char *bootstrap;
    char *worker_id;
    int consumer_queue_kb;
    size_t pending_budget; /* per task: --memory-limit / 64 */
    weir_store_env *env;
    int n_threads;
    weir_rt_thread *threads;
    bool started;
    atomic_bool stopping;
    atomic_bool failed;
    /* Tasks (re)start only before this (weir_clock_mono_ms); see
     * weir_runtime_set_lease. */
    _Atomic uint64_t lease_until_ms;

    uint64_t generation;
    weir_rt_desired *desired;
    size_t n_desired;
    Weir__Topology__Topology **topos;
    size_t n_topos;

    /* Counters of tasks that were closed, so totals never go back. */
    weir_task_stats retired;

    pthread_mutex_t topics_lock; /* ensured */
    char **ensured;              /* jobs whose topics exist */
    size_t n_ensured;
};

void *weir__stream_thread(void *arg);
void weir__thread_status_free(weir_rt_thread *th);
int weir__runtime_mkdirs(const char *path);

#endif
