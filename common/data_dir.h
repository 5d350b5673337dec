/*
 * A process's data directory: created with its parents, checked to be a
 * writable directory, and locked (an flock on DIR/.lock) so that a second
 * process on the same directory is refused instead of corrupting it.
 */
#ifndef WEIR_DATA_DIR_H
#define WEIR_DATA_DIR_H

#include <stddef.h>

/* mkdir -p; WEIR_EIO with errno set. */
int weir_mkdirs(const char *path);

/*
 * Creates, checks and locks path for `who` ("broker", "coordinator"...);
 * *lock_fd holds the lock until closed. Errors with a message in err:
 * WEIR_EINVAL (not a directory), WEIR_EIO (cannot create, not writable),
 * WEIR_EEXIST (locked by another process).
 */
int weir_data_dir_lock(
    const char *path, const char *who, int *lock_fd, char *err, size_t errlen);

#endif
