/* Helpers shared by the broker storage unit tests (header-only). */
#ifndef WEIR_TEST_STORAGE_UTIL_H
#define WEIR_TEST_STORAGE_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/storage/batch.h"

/* A fresh directory under TMPDIR; caller frees the string. */
static inline char *
tmpdir_new(void)
{
    const char *base = getenv("TMPDIR");
    char *p = malloc(512);
    snprintf(p, 512, "%s/weir-storage-XXXXXX", base ? base : "/tmp");
    if (mkdtemp(p) == NULL) {
        free(p);
        return NULL;
    }
    return p;
}

/* rm -rf of a directory holding only files and one level of subdirs. */
static inline void
tmpdir_rm(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        char path[2048];
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
            (int)sizeof(path))
            continue;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            tmpdir_rm(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* One-record batch with key "k<key>" and value "v<val>" at timestamp ts. */
static inline size_t
batch_kv(uint8_t *buf, size_t cap, int key, long val, int64_t ts)
{
    char k[32], v[32];
    int kl = snprintf(k, sizeof(k), "k%d", key);
    int vl = snprintf(v, sizeof(v), "v%ld", val);
    weir_record_in r = {k, (size_t)kl, v, (size_t)vl, ts};
    return weir_batch_build(buf, cap, NULL, &r, 1);
}

static inline long
file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static inline int
append_bytes(const char *path, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, buf, len);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

#endif
