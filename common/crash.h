/*
 * Numbered crash points for fault tests (SQLite's sqlite3FaultSim idea).
 * WEIR_CRASH_AT=<site> in the environment makes the process _exit(99) the
 * moment it reaches that site; WEIR_CRASH_AT=<site>:<n> on the n-th time.
 * Compiled in only with WEIR_CRASH_POINTS (test builds; on by default).
 */
#ifndef WEIR_CRASH_H
#define WEIR_CRASH_H

#ifdef WEIR_CRASH_POINTS
void weir_crash_point(const char *site);
#define WEIR_CRASH_POINT(site) weir_crash_point(site)
#else
#define WEIR_CRASH_POINT(site) ((void)0)
#endif

#endif
