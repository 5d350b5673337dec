/* Durable broker metadata: CRC-framed records, replayed on open. */
#include "broker/storage/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/storage/crc32c.h"
#include "broker/storage/store_be.h"
#include "broker/storage/store_io.h"
#include "common/crash.h"
#include "common/err.h"
#include "common/log.h"

#define FRAME_HDR 8
#define READ_CHUNK ((size_t)256 * 1024)

struct weir_journal {
    char *path;
    int fd;
    uint64_t size;
    bool failed; /* a torn append could not be cut: refuse more until
                  * reopened (replay truncates it) */
};

static char *
dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Replays frames; *good = end of the last valid frame. */
static int
replay_all(
    weir_journal *j, weir_journal_replay_fn replay, void *arg, uint64_t *good)
{
    uint8_t *buf = NULL;
    size_t cap = 0, have = 0; /* bytes buffered, starting at file pos base */
    uint64_t base = 0, pos = 0;
    int rv = WEIR_OK;

    *good = 0;
    for (;;) {
        size_t off = (size_t)(pos - base), need = FRAME_HDR, got;
        uint32_t len = 0;
        for (int phase = 0; phase < 2; phase++) {
            if (have - off < need) {
                /* Refill: keep the unread tail, read a chunk more. */
                if (have > off)
                    memmove(buf, buf + off, have - off);
                have -= off;
                base = pos;
                off = 0;
                size_t want = need > READ_CHUNK ? need : READ_CHUNK;
                if (cap < want) {
                    uint8_t *nb = realloc(buf, want);
                    if (nb == NULL) {
                        rv = WEIR_ENOMEM;
                        goto out;
                    }
                    buf = nb;
                    cap = want;
                }
                if (weir__io_pread_all(j->fd, buf + have, cap - have,
                        base + have, &got) != 0) {
                    rv = WEIR_EIO;
                    goto out;
                }
                have += got;
                if (have < need)
                    goto out; /* end of file or torn frame */
            }
            if (phase == 0) {
                len = weir__be32(buf + off);
                if (len > WEIR_JOURNAL_MAX_RECORD)
                    goto out;
                need = FRAME_HDR + (size_t)len;
            }
        }
        if (weir_crc32c(0, buf + off + FRAME_HDR, len) !=
            weir__be32(buf + off + 4))
            goto out;
        if (replay != NULL &&
            (rv = replay(arg, buf + off + FRAME_HDR, len)) != WEIR_OK)
            goto out;
        pos += FRAME_HDR + len;
        *good = pos;
    }
out:
    free(buf);
    return rv;
}

int
weir_journal_open(weir_journal **jp, const char *path,
    weir_journal_replay_fn replay, void *arg)
{
    weir_journal *j;
    uint64_t good;
    int rv;

    if ((j = calloc(1, sizeof(*j))) == NULL ||
        (j->path = strdup(path)) == NULL) {
        free(j);
        return WEIR_ENOMEM;
    }
    if (weir__io_open(path, O_RDWR | O_CREAT, &j->fd) != 0) {
        weir_log_error("broker", "journal open failed path=%s err=%s", path,
            strerror(errno));
        free(j->path);
        free(j);
        return WEIR_EIO;
    }
    if (weir__io_fsize(j->fd, &j->size) != 0) {
        rv = WEIR_EIO;
        goto fail;
    }
    if ((rv = replay_all(j, replay, arg, &good)) != WEIR_OK)
        goto fail;
    if (good < j->size) {
        weir_log_warn("broker",
            "journal torn tail truncated path=%s size=%llu valid=%llu", path,
            (unsigned long long)j->size, (unsigned long long)good);
        if (weir__io_ftruncate(j->fd, good) != 0 ||
            weir__io_fsync(j->fd) != 0) {
            rv = WEIR_EIO;
            goto fail;
        }
        j->size = good;
    }
    *jp = j;
    return WEIR_OK;
fail:
    close(j->fd);
    free(j->path);
    free(j);
    return rv;
}

int
weir_journal_append(weir_journal *j, const uint8_t *rec, size_t len, bool sync)
{
    uint8_t stackbuf[4096], *frame = stackbuf;
    int rv = WEIR_OK;

    if (len > WEIR_JOURNAL_MAX_RECORD || (rec == NULL && len > 0))
        return WEIR_EINVAL;
    if (j->failed)
        return WEIR_EIO;
    if (FRAME_HDR + len > sizeof(stackbuf) &&
        (frame = malloc(FRAME_HDR + len)) == NULL)
        return WEIR_ENOMEM;
    weir__put32(frame, (uint32_t)len);
    weir__put32(frame + 4, weir_crc32c(0, rec, len));
    if (len > 0)
        memcpy(frame + FRAME_HDR, rec, len);
    WEIR_CRASH_POINT("broker.journal.append.before_write");
    if (weir__io_pwrite_all(j->fd, frame, FRAME_HDR + len, j->size) != 0 ||
        (sync && weir__io_fsync(j->fd) != 0)) {
        weir_log_error("broker", "journal write failed path=%s err=%s", j->path,
            strerror(errno));
        /* Cut a partial frame; if even that fails, replay will. A failed
         * fsync also sticks: the kernel may have dropped the pages. */
        if (weir__io_ftruncate(j->fd, j->size) != 0 || sync)
            j->failed = true;
        rv = WEIR_EIO;
    } else {
        j->size += FRAME_HDR + len;
    }
    if (frame != stackbuf)
        free(frame);
    return rv;
}

int
weir_journal_rewrite(
    weir_journal *j, int (*snapshot)(void *arg, weir_journal *out), void *arg)
{
    weir_journal out = {0};
    char *dir = NULL;
    size_t plen = strlen(j->path);
    int rv;

    if ((out.path = malloc(plen + 5)) == NULL ||
        (dir = dir_of(j->path)) == NULL) {
        free(out.path);
        return WEIR_ENOMEM;
    }
    memcpy(out.path, j->path, plen);
    memcpy(out.path + plen, ".tmp", 5);
    if (weir__io_open(out.path, O_RDWR | O_CREAT | O_TRUNC, &out.fd) != 0) {
        rv = WEIR_EIO;
        goto out_free;
    }
    if ((rv = snapshot(arg, &out)) != WEIR_OK)
        goto fail;
    if (weir__io_fsync(out.fd) != 0 ||
        weir__io_rename(out.path, j->path) != 0) {
        rv = WEIR_EIO;
        goto fail;
    }
    /* The rename happened: the new file is the journal from now on. */
    if (weir__io_fsync_dir(dir) != 0)
        weir_log_warn("broker", "journal dir fsync failed path=%s", j->path);
    close(j->fd);
    j->fd = out.fd;
    j->size = out.size;
    j->failed = false;
    rv = WEIR_OK;
    goto out_free;
fail:
    weir_log_error("broker", "journal rewrite failed path=%s err=%s", j->path,
        weir_strerror(rv));
    close(out.fd);
    unlink(out.path);
out_free:
    free(out.path);
    free(dir);
    return rv;
}

uint64_t
weir_journal_size(const weir_journal *j)
{
    return j->size;
}

int
weir_journal_sync(weir_journal *j)
{
    if (j->failed)
        return WEIR_EIO;
    if (weir__io_fsync(j->fd) != 0) {
        j->failed = true;
        return WEIR_EIO;
    }
    return WEIR_OK;
}

void
weir_journal_close(weir_journal *j)
{
    if (j == NULL)
        return;
    (void)weir__io_fsync(j->fd);
    close(j->fd);
    free(j->path);
    free(j);
}
