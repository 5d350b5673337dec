/* A background thread that runs one call at a time for its owner: a task
 * hands it the blocking half of a commit (send offsets, commit, checkpoint)
 * and goes on; its stream thread serves its other tasks meanwhile. */
#ifndef WEIR_WORKER_COMMITTER_H
#define WEIR_WORKER_COMMITTER_H

#include <stdbool.h>

typedef struct weir_committer weir_committer;

int weir_committer_new(weir_committer **cp);
/* Runs fn(arg) in the background; only when no call is in flight. */
void weir_committer_start(weir_committer *c, int (*fn)(void *), void *arg);
/* True once the call finished (or none was started), with its result;
 * waits up to wait_ms for that. */
bool weir_committer_done(weir_committer *c, int wait_ms, int *rv);
/* Waits for the call in flight, if any; returns its result. */
int weir_committer_wait(weir_committer *c);
/* Waits for the call in flight and stops the thread. NULL is fine. */
void weir_committer_free(weir_committer *c);

#endif
