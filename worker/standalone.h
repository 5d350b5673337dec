/*
 * Standalone mode: the runtime runs every task of one job in this process,
 * without a coordinator, once the job's topics exist.
 */
#ifndef WEIR_WORKER_STANDALONE_H
#define WEIR_WORKER_STANDALONE_H

#include <stdint.h>

#include "proto/topology.pb-c.h"
#include "worker/runtime.h"

/*
 * Runs topo (taken: freed here) on rt until a stop request (SIGINT or
 * SIGTERM), logging progress every progress_ms (0: never). Returns the
 * process's exit code: 0 after a stop request, 1 when the runtime cannot
 * start or a task failed, 3 when another worker fenced this one.
 */
int weir_standalone_run(weir_runtime *rt, const char *bootstrap,
    Weir__Topology__Topology *topo, int64_t progress_ms);

#endif
