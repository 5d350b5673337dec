/*
 * Assignor benchmark: 1,000 workers x 20,000 tasks with one standby each.
 * Times a fresh assignment, a sticky rerun, a join of 10 workers and the
 * death of 10 workers (with their standbys' checkpoints reported). Fails
 * (exit 1) when any rebalance takes more than 100 ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "coordinator/assignor.h"

#define NW 1000
#define NT 20000
#define LIMIT_US 100000

static weir_assignor_worker workers[NW + 10];
static weir_assignor_task tasks[NT];
static weir_assignor_result out[NT];
static weir_assignor_state state[NT];

static uint64_t
timed(size_t nw, size_t ns, const char *what)
{
    weir_assignor_input in = {.workers = workers,
        .n_workers = nw,
        .tasks = tasks,
        .n_tasks = NT,
        .state = state,
        .n_state = ns};
    uint64_t best = UINT64_MAX;
    for (int rep = 0; rep < 5; rep++) {
        uint64_t t0 = weir_clock_mono_us();
        if (weir_assignor_run(&in, out) != WEIR_OK) {
            fprintf(stderr, "assignor failed\n");
            exit(1);
        }
        uint64_t us = weir_clock_mono_us() - t0;
        if (us < best)
            best = us;
    }
    size_t moved = 0;
    for (size_t t = 0; t < NT; t++)
        moved += tasks[t].owner >= 0 && out[t].active != tasks[t].owner;
    printf("%-34s %8.2f ms  moved=%zu\n", what, best / 1000.0, moved);
    return best;
}

static void
adopt(void)
{
    for (size_t t = 0; t < NT; t++) {
        tasks[t].owner = out[t].active;
        tasks[t].n_standbys = out[t].n_standbys;
        memcpy(tasks[t].standbys, out[t].standbys, sizeof(out[t].standbys));
    }
}

int
main(void)
{
    for (size_t w = 0; w < NW + 10; w++)
        workers[w] = (weir_assignor_worker){
            .capacity = 1 + (uint32_t)(w % 4), .eligible = true};
    for (size_t t = 0; t < NT; t++)
        tasks[t] = (weir_assignor_task){.owner = -1, .standby_replicas = 1};
    uint64_t worst = 0, us;
    printf(
        "assignor: %d workers, %d tasks, 1 standby each (best of 5)\n", NW, NT);
    if ((us = timed(NW, 0, "fresh assignment")) > worst)
        worst = us;
    adopt();
    if ((us = timed(NW, 0, "sticky rerun")) > worst)
        worst = us;
    if ((us = timed(NW + 10, 0, "join of 10 workers")) > worst)
        worst = us;
    size_t ns = 0;
    for (size_t t = 0; t < NT; t++) {
        if (tasks[t].owner < 10 && tasks[t].n_standbys > 0)
            state[ns++] = (weir_assignor_state){.task = (uint32_t)t,
                .worker = (uint32_t)tasks[t].standbys[0],
                .offset = 1000};
    }
    for (size_t w = 0; w < 10; w++)
        workers[w].eligible = false;
    if ((us = timed(NW, ns, "death of 10 workers")) > worst)
        worst = us;
    printf("worst %.2f ms (limit %.0f ms): %s\n", worst / 1000.0,
        LIMIT_US / 1000.0, worst <= LIMIT_US ? "ok" : "TOO SLOW");
    return worst <= LIMIT_US ? 0 : 1;
}
