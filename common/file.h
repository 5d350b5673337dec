/* Reading a whole file into memory. */
#ifndef WEIR_FILE_H
#define WEIR_FILE_H

#include <stddef.h>

/*
 * Reads the regular file at path into a new heap buffer (*data, free it)
 * with a NUL after the last byte, not counted in *len. Errors, with errno
 * set for a message: WEIR_ENOTFOUND (no such file), WEIR_EINVAL (not a
 * regular file, e.g. a directory: EISDIR), WEIR_ETOOBIG (more than
 * max_bytes: EFBIG), WEIR_EIO (cannot open or read), WEIR_ENOMEM.
 */
int weir_file_read(
    const char *path, size_t max_bytes, char **data, size_t *len);

#endif
