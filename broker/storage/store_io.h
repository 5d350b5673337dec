/*
 * The storage engine's system calls, in one place so that tests can sweep
 * I/O failures (libuv's test-loop-oom idea): weir_store_io_fail_after(n)
 * makes the n-th following call fail with EIO (n = 0: the next one), and
 * every call after it too when sticky; an injected write failure writes
 * half of its bytes first (a torn write). Wrappers retry EINTR and complete
 * short reads/writes. Internal to broker storage; single-threaded use.
 */
#ifndef WEIR_BROKER_STORAGE_STORE_IO_H
#define WEIR_BROKER_STORAGE_STORE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Test hook. n < 0 disables injection. */
void weir_store_io_fail_after(int64_t n, bool sticky);
/* Calls made since the last weir_store_io_fail_after (to size sweeps). */
int64_t weir_store_io_calls(void);

/* Each returns 0 or -1 with errno set (EIO when injected). */
int weir__io_open(const char *path, int flags, int *fd);
int weir__io_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
/* Reads up to len bytes; *got < len only at end of file. */
int weir__io_pread_all(
    int fd, void *buf, size_t len, uint64_t off, size_t *got);
int weir__io_fsync(int fd);
int weir__io_ftruncate(int fd, uint64_t len);
int weir__io_rename(const char *from, const char *to);
int weir__io_fsize(int fd, uint64_t *size);
/* fsync of the directory holding a renamed or created file. */
int weir__io_fsync_dir(const char *dir);

#endif
