/*
 * The task assignor: a pure function from (workers, tasks, current owners,
 * reported local state) to a target assignment. No I/O, no clocks, no
 * globals: the coordinator's event loop calls it on every rebalance and the
 * unit tests call it directly.
 *
 * Rules, in order of priority:
 *   1. balance by capacity: each eligible worker gets a quota of active
 *      tasks proportional to its capacity (largest remainder, so quotas sum
 *      to the task count and differ from the exact share by less than one);
 *   2. stickiness: a task stays with its current owner while the owner is
 *      eligible and within its quota;
 *   3. state preference: a task that must be placed goes to the eligible
 *      worker with room that reported the most recent local state for it
 *      (highest checkpoint offset), e.g. its standby;
 *   4. otherwise the eligible worker with the most free quota.
 * Standby tasks (standby_replicas per task) go to eligible workers other
 * than the active one: existing standbys first, then state holders, then
 * the worker with the fewest standbys per unit of capacity.
 *
 * Two-phase moves: weir_assignor_phase decides what may run now. A task
 * whose target differs from the worker still running it is revoked first
 * (assigned to nobody) until that worker confirms it stopped or dies; the
 * target meanwhile gets it as a standby so its state warms up.
 *
 * Worker and task indices are positions in the caller's arrays; the
 * result is deterministic for a given input order.
 */
#ifndef WEIR_COORDINATOR_ASSIGNOR_H
#define WEIR_COORDINATOR_ASSIGNOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEIR_ASSIGNOR_MAX_STANDBYS 4

typedef struct weir_assignor_worker {
    uint32_t capacity; /* relative weight; 0 counts as 1 */
    bool eligible;     /* alive and not draining: may receive tasks */
} weir_assignor_worker;

/* A worker holding local state for a task, with its checkpoint offset. */
typedef struct weir_assignor_state {
    uint32_t task;
    uint32_t worker;
    int64_t offset; /* sum of the task's store checkpoint offsets */
} weir_assignor_state;

typedef struct weir_assignor_task {
    int32_t owner; /* current (or target of the last rebalance) active
                      worker, -1 for none */
    uint32_t standby_replicas; /* wanted standbys, capped at
                                  WEIR_ASSIGNOR_MAX_STANDBYS */
    uint32_t n_standbys;
    int32_t standbys[WEIR_ASSIGNOR_MAX_STANDBYS]; /* current standbys */
} weir_assignor_task;

typedef struct weir_assignor_result {
    int32_t active; /* target active worker, -1 when no worker is eligible */
    uint32_t n_standbys;
    int32_t standbys[WEIR_ASSIGNOR_MAX_STANDBYS];
} weir_assignor_result;

typedef struct weir_assignor_input {
    const weir_assignor_worker *workers;
    size_t n_workers;
    const weir_assignor_task *tasks;
    size_t n_tasks;
    const weir_assignor_state *state; /* any order; may be NULL */
    size_t n_state;
} weir_assignor_input;

/*
 * Computes the target assignment into out[n_tasks]. Returns WEIR_OK,
 * WEIR_ENOMEM, or WEIR_EINVAL (an index out of range in the input).
 * Thread-safe: touches only its arguments.
 */
int weir_assignor_run(const weir_assignor_input *in, weir_assignor_result *out);

/*
 * Two-phase step for one task. running: the worker that may still be
 * running it actively (-1: nobody, i.e. revoke confirmed, owner dead, or a
 * new task). target: weir_assignor_run's choice. Returns the worker that
 * may run it now: target when running is -1 or equal to target, else -1
 * (revoked from running, pending its confirmation).
 */
int32_t weir_assignor_phase(int32_t running, int32_t target);

#endif
