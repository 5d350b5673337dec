/*
 * Numbered fault points for fault tests (SQLite's sqlite3FaultSim idea).
 * Each names a site; the environment decides what happens there:
 *   WEIR_CRASH_AT=<site>[:<n>]  the process _exit(99)s the n-th time (1st
 *                               by default) any thread reaches the site;
 *   WEIR_PAUSE_AT=<site>[:<n>]  the thread that reaches it the n-th time
 *                               logs "pause point reached site=<site>
 *                               detail=<detail>" on stderr, stops the
 *                               whole process (SIGSTOP) when
 *                               WEIR_PAUSE_STOP=1, and once continued
 *                               blocks until the file named by
 *                               WEIR_PAUSE_FILE exists (other threads go
 *                               on), so a test can order events across
 *                               processes exactly.
 * The environment is read once, at the first point reached. Compiled in
 * only with WEIR_CRASH_POINTS (test builds; on by default).
 */
#ifndef WEIR_CRASH_H
#define WEIR_CRASH_H

#ifdef WEIR_CRASH_POINTS
/* detail (may be NULL) names what reached the point, for the log line. */
void weir_crash_point(const char *site, const char *detail);
#define WEIR_CRASH_POINT(site) weir_crash_point(site, NULL)
#define WEIR_CRASH_POINT_AT(site, detail) weir_crash_point(site, detail)
#else
#define WEIR_CRASH_POINT(site) ((void)0)
#define WEIR_CRASH_POINT_AT(site, detail) ((void)(detail))
#endif

#endif
