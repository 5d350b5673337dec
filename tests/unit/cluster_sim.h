/*
 * Shared by the randomized cluster tests (test_coordinator_random.c,
 * test_cluster_liveness.c): a seeded xorshift generator and a coordinator
 * state machine with the test's heartbeat interval and session timeout.
 * Include after <cmocka.h> with HB and SESSION defined.
 */
#ifndef WEIR_TESTS_CLUSTER_SIM_H
#define WEIR_TESTS_CLUSTER_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "coordinator/cluster.h"

static uint64_t rng, cur_seed;

/* A pseudo-random number in [0, n). */
static uint32_t
rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static weir_cluster *
cl_new(void)
{
    weir_cluster_opts o = {.heartbeat_interval_ms = HB,
        .session_timeout_ms = SESSION,
        .join_window_ms = 50,
        .bootstrap = "x"};
    weir_cluster *cl = weir_cluster_new(&o);
    assert_non_null(cl);
    return cl;
}

/* How many seeds to run: WEIR_RANDOM_SEEDS=N (a longer soak), or dflt. */
static uint64_t
sim_seeds(uint64_t dflt)
{
    const char *n = getenv("WEIR_RANDOM_SEEDS");
    return n ? (uint64_t)strtoull(n, NULL, 10) : dflt;
}

/* WEIR_RANDOM_SEED=S reproduces one seed: every other one is skipped. */
static bool
sim_seed_skipped(uint64_t seed)
{
    const char *one = getenv("WEIR_RANDOM_SEED");
    return one && strtoull(one, NULL, 10) != seed;
}

#endif
