/* Reading a whole file into memory: see file.h. */
#include "common/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/err.h"

static int
fail(FILE *f, char *buf, int rv, int err)
{
    free(buf);
    if (f != NULL)
        fclose(f);
    errno = err;
    return rv;
}

int
weir_file_read(const char *path, size_t max_bytes, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fail(
            NULL, NULL, errno == ENOENT ? WEIR_ENOTFOUND : WEIR_EIO, errno);
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return fail(f, NULL, WEIR_EIO, errno);
    if (S_ISDIR(st.st_mode))
        return fail(f, NULL, WEIR_EINVAL, EISDIR);
    if (!S_ISREG(st.st_mode))
        return fail(f, NULL, WEIR_EINVAL, EINVAL);
    if (st.st_size < 0 || (unsigned long long)st.st_size > max_bytes)
        return fail(f, NULL, WEIR_ETOOBIG, EFBIG);
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (buf == NULL)
        return fail(f, NULL, WEIR_ENOMEM, ENOMEM);
    /* One byte more than stat said: a file that grew while it was read is
     * refused rather than cut. */
    size_t got = fread(buf, 1, n + 1, f);
    if (ferror(f) || got > n)
        return fail(f, buf, WEIR_EIO, EIO);
    fclose(f);
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return WEIR_OK;
}
