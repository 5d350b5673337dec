/* Data directories: see data_dir.h. */
#include "common/data_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"

int
weir_mkdirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
        errno = ENAMETOOLONG;
        return WEIR_EIO;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                return WEIR_EIO;
            *p = '/';
        }
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return WEIR_EIO;
    return WEIR_OK;
}

int
weir_data_dir_lock(
    const char *path, const char *who, int *lock_fd, char *err, size_t errlen)
{
    *lock_fd = -1;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "data dir %s is not a directory", path);
        return WEIR_EINVAL;
    }
    if (weir_mkdirs(path) != WEIR_OK) {
        snprintf(err, errlen, "cannot create the data dir %s: %s", path,
            strerror(errno));
        return WEIR_EIO;
    }
    if (access(path, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "data dir %s is not writable: %s", path,
            strerror(errno));
        return WEIR_EIO;
    }
    char lock[4200];
    snprintf(lock, sizeof(lock), "%s/.lock", path);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "data dir %s is not writable: %s", path,
            strerror(errno));
        return WEIR_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "data dir %s is in use by another %s", path, who);
        close(fd);
        return WEIR_EEXIST;
    }
    *lock_fd = fd;
    return WEIR_OK;
}
