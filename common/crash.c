#include "crash.h"

#ifdef WEIR_CRASH_POINTS
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One armed point: a site, the hit that fires, the hits so far. */
typedef struct point {
    const char *spec; /* "<site>[:<n>]" from the environment, or NULL */
    size_t site_len;
    long nth;
    atomic_long hits;
} point;

static point crash_at, pause_at;
static const char *pause_file;
static bool pause_stop;
static atomic_bool loaded; /* the environment was read in this process */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static void
arm(point *p, const char *spec)
{
    memset(p, 0, sizeof(*p));
    if (!spec || !*spec)
        return;
    const char *colon = strchr(spec, ':');
    p->spec = spec;
    p->site_len = colon ? (size_t)(colon - spec) : strlen(spec);
    p->nth = colon ? strtol(colon + 1, NULL, 10) : 1;
}

/* A forked child (the storage crash tests) sets its own environment. */
static void
forget_env(void)
{
    atomic_store(&loaded, false);
}

static void
load_env(void)
{
    pthread_mutex_lock(&load_lock);
    if (!atomic_load(&loaded)) {
        static bool registered;
        if (!registered && pthread_atfork(NULL, NULL, forget_env) == 0)
            registered = true;
        arm(&crash_at, getenv("WEIR_CRASH_AT"));
        arm(&pause_at, getenv("WEIR_PAUSE_AT"));
        pause_file = getenv("WEIR_PAUSE_FILE");
        const char *stop = getenv("WEIR_PAUSE_STOP");
        pause_stop = stop && strcmp(stop, "1") == 0;
        atomic_store(&loaded, true);
    }
    pthread_mutex_unlock(&load_lock);
}

/* True when this hit of site is the one p fires on. */
static bool
fires(point *p, const char *site)
{
    if (!p->spec || strlen(site) != p->site_len ||
        strncmp(p->spec, site, p->site_len) != 0)
        return false;
    return atomic_fetch_add(&p->hits, 1) + 1 == p->nth;
}

static void
say(const char *what, const char *site, const char *detail)
{
    char line[512];
    int n = snprintf(line, sizeof(line), "%s site=%s detail=%s\n", what, site,
        detail ? detail : "");
    if (n > (int)sizeof(line) - 1)
        n = (int)sizeof(line) - 1;
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

void
weir_crash_point(const char *site, const char *detail)
{
    if (!atomic_load(&loaded))
        load_env();
    if (fires(&crash_at, site)) {
        say("crash point reached, exiting", site, detail);
        _exit(99);
    }
    if (fires(&pause_at, site)) {
        say("pause point reached", site, detail);
        if (pause_stop)
            (void)raise(SIGSTOP);
        struct timespec ts = {0, 10 * 1000 * 1000};
        while (!pause_file || access(pause_file, F_OK) != 0)
            nanosleep(&ts, NULL);
        say("pause point released", site, detail);
    }
}
#endif
