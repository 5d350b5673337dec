/*
 * The worker's half of task ownership (docs/exactly-once.md, "Liveness"):
 * when a task may start, and what a new assignment does to a task the
 * worker holds. Pure functions: the stream threads (runtime_thread.c), the
 * control thread (control.c) and the randomized cluster test
 * (tests/unit/test_cluster_liveness.c) run these same rules.
 *
 * Starting a task calls init_transactions, which fences whoever holds the
 * task's transactional id. Only a worker the coordinator still counts as a
 * member, and to which it assigns the task, may do that; otherwise a zombie
 * coming back would fence the live owner. So:
 *   - a task starts only while the membership lease holds (a lease is the
 *     send time of a message the coordinator accepted plus the session
 *     timeout: before it ends the coordinator cannot have expired us);
 *   - a fenced task waits, and restarts only when an assignment that still
 *     names it arrives: the coordinator sent it after the fence (it answers
 *     a reported fence with a new generation), to a current member.
 */
#ifndef WEIR_WORKER_OWNERSHIP_H
#define WEIR_WORKER_OWNERSHIP_H

#include <stdbool.h>
#include <stdint.h>

#include "task.h"

/* The lease earned by a message sent at sent_ms that the coordinator
 * accepted. */
uint64_t weir_ownership_lease(uint64_t sent_ms, uint32_t session_timeout_ms);

/* Whether a task may start (or restart after an error) at now_ms. */
bool weir_ownership_may_start(uint64_t now_ms, uint64_t lease_until_ms);

typedef enum weir_ownership_action {
    WEIR_OWNERSHIP_KEEP,    /* leave the task as it is */
    WEIR_OWNERSHIP_RESTART, /* fenced but confirmed ours: weir_task_reset */
    WEIR_OWNERSHIP_RETIRE,  /* no longer ours: commit if running, close */
} weir_ownership_action;

/* What a new assignment does to a task in state st that the worker holds;
 * assigned: the assignment names it (with the same active/standby role). */
weir_ownership_action weir_ownership_on_assignment(
    weir_task_state st, bool assigned);

#endif
