/*
 * Free space of a data directory's file system, and the wait for enough of
 * it. RocksDB aborts the process (an assertion in Debian's build) when a
 * write fails for lack of space, so a process keeps a reserve: it does not
 * start below it, and a running worker leaves the cluster when it drops
 * below (its tasks move to workers with room).
 */
#ifndef WEIR_DISK_SPACE_H
#define WEIR_DISK_SPACE_H

#include <stdbool.h>
#include <stdint.h>

/* Bytes an unprivileged process may still write under path; -1 if unknown. */
int64_t weir_disk_free_bytes(const char *path);

/* True when path has at least min_bytes free (or its space is unknown). */
bool weir_disk_has_room(const char *path, int64_t min_bytes);

/*
 * Until path has min_bytes free, logging why every 10 s; false when a stop
 * was requested (weir_signal_request_stop) first.
 */
bool weir_disk_wait_for_room(
    const char *path, int64_t min_bytes, const char *who);

#endif
