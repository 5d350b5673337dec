#include "clock.h"

#include <errno.h>
#include <time.h>

#ifdef WEIR_CRASH_POINTS
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Fault injection (weir-chaos's clock-jump, fault-injection builds only):
 * WEIR_CLOCK_SKEW_FILE names a file holding whole seconds ("+3600", "-60")
 * added to the wall clock, read again at most every 100 ms, so that a test
 * can jump one process's clock while it runs. Each change is announced on
 * stderr. Monotonic time is never skewed.
 */
#define SKEW_REREAD_US 100000

static _Atomic int64_t skew_ms;
static _Atomic uint64_t skew_read_us;

static int64_t
wall_skew_ms(void)
{
    static const char *path;
    static atomic_bool looked;
    if (!atomic_load(&looked)) {
        path = getenv("WEIR_CLOCK_SKEW_FILE");
        atomic_store(&looked, true);
    }
    if (!path)
        return 0;
    uint64_t now = weir_clock_mono_us(), last = atomic_load(&skew_read_us);
    if (last && now - last < SKEW_REREAD_US)
        return atomic_load(&skew_ms);
    if (!atomic_compare_exchange_strong(&skew_read_us, &last, now))
        return atomic_load(&skew_ms);
    FILE *f = fopen(path, "r");
    long long seconds = 0;
    if (f) {
        if (fscanf(f, "%lld", &seconds) != 1)
            seconds = 0;
        fclose(f);
    }
    int64_t old = atomic_exchange(&skew_ms, (int64_t)seconds * 1000);
    if (old != (int64_t)seconds * 1000) {
        char line[96];
        int n = snprintf(line, sizeof(line),
            "clock skew now %+lld s (WEIR_CLOCK_SKEW_FILE)\n", seconds);
        if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
            (void)0;
    }
    return (int64_t)seconds * 1000;
}
#else
static int64_t
wall_skew_ms(void)
{
    return 0;
}
#endif

uint64_t
weir_clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
weir_clock_mono_ms(void)
{
    return weir_clock_mono_us() / 1000u;
}

int64_t
weir_clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + wall_skew_ms();
}

void
weir_clock_sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
