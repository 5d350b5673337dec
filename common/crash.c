#include "crash.h"

#ifdef WEIR_CRASH_POINTS
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
weir_crash_point(const char *site)
{
    static atomic_long hits;
    const char *want = getenv("WEIR_CRASH_AT");
    if (!want || *want == '\0')
        return;
    size_t n = strlen(site);
    if (strncmp(want, site, n) != 0 || (want[n] != '\0' && want[n] != ':'))
        return;
    long nth = want[n] == ':' ? strtol(want + n + 1, NULL, 10) : 1;
    if (atomic_fetch_add(&hits, 1) + 1 < nth)
        return;
    static const char msg[] = "crash point reached, exiting\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)w;
    _exit(99);
}
#endif
