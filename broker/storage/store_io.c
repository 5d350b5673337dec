/* System call wrappers with failure injection for tests. */
#include "broker/storage/store_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int64_t fail_at = -1;
static bool fail_sticky;
static int64_t calls;

void
weir_store_io_fail_after(int64_t n, bool sticky)
{
    fail_at = n;
    fail_sticky = sticky;
    calls = 0;
}

int64_t
weir_store_io_calls(void)
{
    return calls;
}

/* True when this call must fail. */
static bool
injected(void)
{
    int64_t n = calls++;
    if (fail_at < 0)
        return false;
    if (n == fail_at || (fail_sticky && n > fail_at)) {
        errno = EIO;
        return true;
    }
    return false;
}

int
weir__io_open(const char *path, int flags, int *fd)
{
    int f;
    if (injected())
        return -1;
    do {
        f = open(path, flags | O_CLOEXEC, 0644);
    } while (f < 0 && errno == EINTR);
    if (f < 0)
        return -1;
    *fd = f;
    return 0;
}

int
weir__io_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const char *p = buf;
    if (injected()) {
        /* A torn write: half of it lands, then the error. */
        if (len > 1 && pwrite(fd, buf, len / 2, (off_t)off) < 0)
            errno = EIO;
        errno = EIO;
        return -1;
    }
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = ENOSPC;
            return -1;
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

int
weir__io_pread_all(int fd, void *buf, size_t len, uint64_t off, size_t *got)
{
    char *p = buf;
    size_t done = 0;
    if (injected())
        return -1;
    while (done < len) {
        ssize_t n = pread(fd, p + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    *got = done;
    return 0;
}

int
weir__io_fsync(int fd)
{
    int rv;
    if (injected())
        return -1;
    do {
        rv = fdatasync(fd);
    } while (rv < 0 && errno == EINTR);
    return rv;
}

int
weir__io_ftruncate(int fd, uint64_t len)
{
    int rv;
    if (injected())
        return -1;
    do {
        rv = ftruncate(fd, (off_t)len);
    } while (rv < 0 && errno == EINTR);
    return rv;
}

int
weir__io_rename(const char *from, const char *to)
{
    if (injected())
        return -1;
    return rename(from, to);
}

int
weir__io_fsize(int fd, uint64_t *size)
{
    struct stat st;
    if (injected())
        return -1;
    if (fstat(fd, &st) != 0)
        return -1;
    *size = (uint64_t)st.st_size;
    return 0;
}

int
weir__io_fsync_dir(const char *dir)
{
    int fd, rv;
    if (weir__io_open(dir, O_RDONLY | O_DIRECTORY, &fd) != 0)
        return -1;
    rv = weir__io_fsync(fd);
    close(fd);
    return rv;
}
