/* A partition log: segments, open and recovery, append, roll, retention. */
#include "broker/storage/plog_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/storage/store_be.h"
#include "broker/storage/store_io.h"
#include "common/array.h"
#include "common/clock.h"
#include "common/crash.h"
#include "common/err.h"
#include "common/log.h"

#define DEFAULT_SEGMENT_BYTES (1024ull * 1024 * 1024)
#define MAX_SEGMENT_BYTES (2047ull * 1024 * 1024)
#define MIN_SEGMENT_BYTES 1024ull
#define DEFAULT_INTERVAL_MS 1000
#define DEFAULT_INDEX_INTERVAL 4096
#define DEFAULT_DELETE_RETENTION_MS 86400000

static const char *comp = "broker";

static void
opts_fill(weir_plog_opts *o, const weir_plog_opts *in)
{
    if (in != NULL)
        *o = *in;
    else
        memset(o, 0, sizeof(*o));
    if (o->segment_bytes == 0)
        o->segment_bytes = DEFAULT_SEGMENT_BYTES;
    if (o->segment_bytes > MAX_SEGMENT_BYTES)
        o->segment_bytes = MAX_SEGMENT_BYTES;
    if (o->segment_bytes < MIN_SEGMENT_BYTES)
        o->segment_bytes = MIN_SEGMENT_BYTES;
    if (o->fsync_interval_ms <= 0)
        o->fsync_interval_ms = DEFAULT_INTERVAL_MS;
    if (o->index_interval_bytes == 0)
        o->index_interval_bytes = DEFAULT_INDEX_INTERVAL;
    if (o->delete_retention_ms == 0)
        o->delete_retention_ms = DEFAULT_DELETE_RETENTION_MS;
}

static int
mkdir_p(const char *dir)
{
    char buf[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, dir, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static weir_segment *
active(weir_plog *log)
{
    return &log->segs[log->nsegs - 1];
}

static int
seg_push(weir_plog *log, int64_t base)
{
    if (weir_array_reserve(&log->segs, &log->cap, (size_t)log->nsegs + 1,
            sizeof(*log->segs)) != WEIR_OK)
        return WEIR_ENOMEM;
    weir_segment *seg = &log->segs[log->nsegs++];
    memset(seg, 0, sizeof(*seg));
    weir_index_init(&seg->idx);
    seg->base_offset = base;
    seg->next_offset = base;
    return WEIR_OK;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Parses "<20 digits><ext>"; true with *base when it matches. */
static bool
name_base(const char *name, const char *ext, int64_t *base)
{
    size_t n = strlen(name), e = strlen(ext);
    int64_t v = 0;
    if (n != 20 + e || strcmp(name + 20, ext) != 0)
        return false;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        if (v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (name[i] - '0');
    }
    *base = v;
    return true;
}

/* Lists segment bases, deleting leftovers of interrupted writes. */
static int
list_segments(weir_plog *log, int64_t **bases, int *n)
{
    DIR *d = opendir(log->dir);
    struct dirent *de;
    int64_t *v = NULL, base;
    int cnt = 0;
    size_t cap = 0;

    if (d == NULL)
        return WEIR_EIO;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if ((l > 4 && strcmp(de->d_name + l - 4, ".tmp") == 0) ||
            (l > 8 && strcmp(de->d_name + l - 8, ".cleaned") == 0)) {
            char path[PATH_MAX];
            (void)snprintf(path, sizeof(path), "%s/%s", log->dir, de->d_name);
            unlink(path);
            continue;
        }
        if (name_base(de->d_name, ".index", &base)) {
            /* An index whose segment is gone (retention interrupted). */
            char path[PATH_MAX];
            weir_segment_path(path, sizeof(path), log->dir, base, ".log");
            if (access(path, F_OK) != 0 && errno == ENOENT) {
                weir_segment_path(path, sizeof(path), log->dir, base, ".index");
                unlink(path);
            }
            continue;
        }
        if (!name_base(de->d_name, ".log", &base))
            continue;
        if (weir_array_reserve(&v, &cap, (size_t)cnt + 1, sizeof(*v)) !=
            WEIR_OK) {
            free(v);
            closedir(d);
            return WEIR_ENOMEM;
        }
        v[cnt++] = base;
    }
    closedir(d);
    if (cnt > 0)
        qsort(v, (size_t)cnt, sizeof(*v), cmp_i64);
    *bases = v;
    *n = cnt;
    return WEIR_OK;
}

/*
 * Loads segment seg: its index file when it matches the log file, else a
 * scan (with CRC checks for the last segment) that truncates a bad tail.
 */
static int
seg_load(weir_plog *log, weir_segment *seg, int fd, bool last)
{
    char ipath[PATH_MAX];
    uint64_t fsize, valid;
    int64_t next;
    int rv;

    if (weir__io_fsize(fd, &fsize) != 0)
        return WEIR_EIO;
    weir_segment_path(
        ipath, sizeof(ipath), log->dir, seg->base_offset, ".index");
    rv = weir_index_load(&seg->idx, ipath, fsize, &next);
    if (rv == WEIR_OK && next >= seg->base_offset) {
        seg->size = fsize;
        seg->next_offset = next;
        return WEIR_OK;
    }
    if (rv == WEIR_ENOMEM || rv == WEIR_EIO)
        return rv;
    rv = weir_segment_rebuild(
        seg, fd, fsize, last, log->opts.index_interval_bytes, &valid);
    if (rv != WEIR_OK)
        return rv;
    if (valid < fsize) {
        weir_log_warn(comp,
            "log tail truncated dir=%s segment=%lld size=%llu valid=%llu",
            log->dir, (long long)seg->base_offset, (unsigned long long)fsize,
            (unsigned long long)valid);
        if (weir__io_ftruncate(fd, valid) != 0 || weir__io_fsync(fd) != 0)
            return WEIR_EIO;
    }
    if (!last)
        weir__plog_save_index(
            log, seg); /* so that it can be evicted and reloaded */
    return WEIR_OK;
}

static int
open_active(weir_plog *log)
{
    char path[PATH_MAX];
    weir_segment_path(
        path, sizeof(path), log->dir, active(log)->base_offset, ".log");
    if (weir__io_open(path, O_RDWR | O_CREAT, &log->active_fd) != 0) {
        weir_log_error(
            comp, "log open failed path=%s err=%s", path, strerror(errno));
        return WEIR_EIO;
    }
    return WEIR_OK;
}

int
weir_plog_open(weir_plog **logp, const char *dir, const weir_plog_opts *opts)
{
    weir_plog *log;
    int64_t *bases = NULL;
    int n = 0, rv;

    if ((log = calloc(1, sizeof(*log))) == NULL)
        return WEIR_ENOMEM;
    log->active_fd = -1;
    log->read_fd = -1;
    weir__plog_rcache_clear(log);
    opts_fill(&log->opts, opts);
    if ((log->dir = strdup(dir)) == NULL) {
        free(log);
        return WEIR_ENOMEM;
    }
    if (mkdir_p(dir) != 0) {
        weir_log_error(
            comp, "log mkdir failed dir=%s err=%s", dir, strerror(errno));
        rv = WEIR_EIO;
        goto fail;
    }
    if ((rv = list_segments(log, &bases, &n)) != WEIR_OK)
        goto fail;
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX];
        int fd;
        bool last = i == n - 1;
        if ((rv = seg_push(log, bases[i])) != WEIR_OK)
            goto fail;
        weir_segment_path(path, sizeof(path), dir, bases[i], ".log");
        if (weir__io_open(path, O_RDWR, &fd) != 0) {
            weir_log_error(
                comp, "log open failed path=%s err=%s", path, strerror(errno));
            rv = WEIR_EIO;
            goto fail;
        }
        rv = seg_load(log, active(log), fd, last);
        if (rv == WEIR_OK && i > 0 && log->segs[i - 1].next_offset > bases[i]) {
            weir_log_error(comp, "log segments overlap dir=%s segment=%lld",
                dir, (long long)bases[i]);
            rv = WEIR_ECORRUPT;
        }
        if (last && rv == WEIR_OK)
            log->active_fd = fd;
        else
            close(fd);
        if (rv != WEIR_OK)
            goto fail;
        if (!last)
            weir__plog_index_trim(log, -1);
    }
    if (n == 0) {
        if ((rv = seg_push(log, 0)) != WEIR_OK ||
            (rv = open_active(log)) != WEIR_OK)
            goto fail;
    }
    free(bases);
    log->last_sync_ms = weir_clock_wall_ms();
    if (log->opts.fsync == WEIR_FSYNC_INTERVAL)
        log->sync = weir__sync_token_new();
    *logp = log;
    return WEIR_OK;
fail:
    free(bases);
    weir_plog_close(log);
    return rv;
}

void
weir__plog_save_index(weir_plog *log, weir_segment *seg)
{
    char path[PATH_MAX];
    weir_segment_path(path, sizeof(path), log->dir, seg->base_offset, ".index");
    if (weir_index_save(&seg->idx, path, seg->size, seg->next_offset) !=
        WEIR_OK)
        weir_log_warn(
            comp, "index write failed path=%s (rebuilt on open)", path);
}

void
weir_plog_close(weir_plog *log)
{
    if (log == NULL)
        return;
    if (log->sync != NULL) {
        if (weir__sync_failed(log->sync))
            log->failed = true;
        weir__sync_token_free(log->sync);
    }
    if (log->active_fd >= 0) {
        bool synced = !log->dirty || log->opts.fsync == WEIR_FSYNC_NEVER ||
                      weir__io_fsync(log->active_fd) == 0;
        /* An index is only trusted when the data it describes is durable. */
        if (synced && log->nsegs > 0)
            weir__plog_save_index(log, active(log));
        close(log->active_fd);
    }
    weir__plog_reader_drop(log);
    for (int i = 0; i < log->nsegs; i++)
        weir_index_fini(&log->segs[i].idx);
    free(log->segs);
    free(log->dir);
    free(log);
}

/* Notes the failure of a background fsync: it sticks, like any other. */
static bool
bg_failed(weir_plog *log)
{
    if (log->sync != NULL && weir__sync_failed(log->sync)) {
        weir_log_error(comp, "log background fsync failed dir=%s", log->dir);
        log->failed = true;
    }
    return log->failed;
}

int
weir_plog_flush(weir_plog *log)
{
    if (log->sync != NULL) {
        weir__sync_wait(log->sync); /* an older segment may be in flight */
        if (bg_failed(log))
            return WEIR_EIO;
    }
    if (!log->dirty)
        return WEIR_OK;
    if (weir__io_fsync(log->active_fd) != 0) {
        weir_log_error(
            comp, "log fsync failed dir=%s err=%s", log->dir, strerror(errno));
        return WEIR_EIO;
    }
    log->dirty = false;
    return WEIR_OK;
}

/* Closes the active segment and starts a new one at the log end. */
static int
roll(weir_plog *log)
{
    int old_fd = log->active_fd, rv;
    int64_t end = active(log)->next_offset;

    if (log->dirty && log->opts.fsync == WEIR_FSYNC_INTERVAL &&
        log->sync != NULL) {
        /* The closed segment is synced in the background. */
        if ((rv = weir__sync_start(log->sync, old_fd)) != WEIR_OK)
            return rv;
        log->dirty = false;
    } else if (log->dirty && log->opts.fsync != WEIR_FSYNC_NEVER &&
               (rv = weir_plog_flush(log)) != WEIR_OK) {
        return rv;
    }
    weir__plog_save_index(log, active(log));
    if ((rv = seg_push(log, end)) != WEIR_OK)
        return rv;
    if ((rv = open_active(log)) != WEIR_OK) {
        log->nsegs--;
        weir_index_fini(&log->segs[log->nsegs].idx);
        log->active_fd = old_fd;
        return rv;
    }
    weir__plog_index_trim(log, -1);
    /* The old active descriptor becomes the cached reader. */
    weir__plog_reader_set(log, old_fd, log->segs[log->nsegs - 2].base_offset);
    weir_log_debug(
        comp, "log rolled dir=%s base=%lld", log->dir, (long long)end);
    return WEIR_OK;
}

int
weir_plog_append(weir_plog *log, uint8_t *buf, size_t len, int64_t *base_offset)
{
    weir_segment *seg = active(log);
    int64_t next, span;
    size_t pos = 0;
    int rv;

    if (len == 0)
        return WEIR_EPROTO;
    if (log->failed || bg_failed(log))
        return WEIR_EIO;
    /* Whole batches only; nothing is written otherwise. */
    while (pos < len) {
        weir_batch_hdr h;
        size_t blen;
        if (weir_batch_peek(buf + pos, len - pos, &h, &blen) != WEIR_OK)
            return WEIR_EPROTO;
        pos += blen;
    }
    /* Roll first if the batches would overflow the segment's size or its
     * 32-bit relative offsets (only odd batches with huge offset deltas). */
    span = 0;
    for (pos = 0; pos < len;) {
        weir_batch_hdr h;
        size_t blen;
        (void)weir_batch_peek(buf + pos, len - pos, &h, &blen);
        span += (int64_t)h.last_offset_delta + 1;
        pos += blen;
    }
    if (span > (int64_t)UINT32_MAX)
        return WEIR_ETOOBIG;
    if (seg->size > 0 && (seg->size + len > log->opts.segment_bytes ||
                             seg->size + len > MAX_SEGMENT_BYTES ||
                             seg->next_offset + span - 1 - seg->base_offset >
                                 (int64_t)UINT32_MAX)) {
        if ((rv = roll(log)) != WEIR_OK)
            return rv;
        seg = active(log);
    }
    next = seg->next_offset;
    for (pos = 0; pos < len;) {
        weir_batch_hdr h;
        size_t blen;
        (void)weir_batch_peek(buf + pos, len - pos, &h, &blen);
        weir_batch_set_base_offset(buf + pos, next);
        next += (int64_t)h.last_offset_delta + 1;
        pos += blen;
    }
    WEIR_CRASH_POINT("broker.log.append.before_write");
    if (seg->size == 0 || log->active_since_ms == 0)
        log->active_since_ms = weir_clock_wall_ms();
    if (weir__io_pwrite_all(log->active_fd, buf, len, seg->size) != 0) {
        weir_log_error(
            comp, "log write failed dir=%s err=%s", log->dir, strerror(errno));
        if (weir__io_ftruncate(log->active_fd, seg->size) != 0)
            log->failed = true; /* bytes we cannot account for remain */
        return WEIR_EIO;
    }
    log->dirty = true;
    if (log->opts.fsync == WEIR_FSYNC_ALWAYS &&
        (rv = weir_plog_flush(log)) != WEIR_OK) {
        (void)weir__io_ftruncate(log->active_fd, seg->size);
        return rv; /* flush marked the log failed */
    }
    WEIR_CRASH_POINT("broker.log.append.after_write");
    *base_offset = seg->next_offset;
    for (pos = 0; pos < len;) {
        weir_batch_hdr h;
        size_t blen;
        (void)weir_batch_peek(buf + pos, len - pos, &h, &blen);
        if ((rv = weir_segment_note(seg, log->opts.index_interval_bytes, &h,
                 seg->size, blen)) != WEIR_OK)
            return rv; /* only the in-memory index; data is written */
        pos += blen;
    }
    return WEIR_OK;
}

int64_t
weir_plog_start_offset(const weir_plog *log)
{
    return log->segs[0].base_offset;
}

int64_t
weir_plog_end_offset(const weir_plog *log)
{
    return log->segs[log->nsegs - 1].next_offset;
}

uint64_t
weir_plog_size_bytes(const weir_plog *log)
{
    uint64_t n = 0;
    for (int i = 0; i < log->nsegs; i++)
        n += log->segs[i].size;
    return n;
}

int
weir_plog_segment_count(const weir_plog *log)
{
    return log->nsegs;
}

const char *
weir_plog_dir(const weir_plog *log)
{
    return log->dir;
}

static void
seg_delete(weir_plog *log, int i)
{
    char path[PATH_MAX];
    weir_segment *seg = &log->segs[i];

    weir__plog_forget_fd(log, seg->base_offset);
    weir_segment_path(path, sizeof(path), log->dir, seg->base_offset, ".log");
    unlink(path);
    weir_segment_path(path, sizeof(path), log->dir, seg->base_offset, ".index");
    unlink(path);
    weir_log_info(comp, "log segment deleted dir=%s base=%lld bytes=%llu",
        log->dir, (long long)seg->base_offset, (unsigned long long)seg->size);
    weir_index_fini(&seg->idx);
    memmove(&log->segs[i], &log->segs[i + 1],
        (size_t)(log->nsegs - i - 1) * sizeof(*seg));
    log->nsegs--;
}

static void
retention(weir_plog *log, int64_t now_ms, int64_t stable_offset)
{
    const weir_plog_opts *o = &log->opts;
    if (o->compact)
        return;
    if (o->retention_bytes > 0) {
        uint64_t total = weir_plog_size_bytes(log);
        while (log->nsegs > 1 &&
               total - log->segs[0].size >= (uint64_t)o->retention_bytes &&
               total > (uint64_t)o->retention_bytes) {
            total -= log->segs[0].size;
            seg_delete(log, 0);
        }
    }
    if (o->retention_ms > 0) {
        /* As Kafka: an expired active segment is rolled so that it can go
         * too (a topic that stops receiving writes still expires), but only
         * once everything in it is stable. */
        weir_segment *act = active(log);
        if (log->nsegs == 1 && act->size > 0 && !log->failed &&
            act->idx.max_ts < now_ms - o->retention_ms &&
            act->next_offset <= stable_offset)
            (void)roll(log);
        while (log->nsegs > 1 &&
               log->segs[0].idx.max_ts < now_ms - o->retention_ms)
            seg_delete(log, 0);
    }
}

int
weir_plog_maintain(weir_plog *log, int64_t now_ms, int64_t stable_offset)
{
    int rv = WEIR_OK;

    if (log->opts.fsync == WEIR_FSYNC_INTERVAL && log->dirty &&
        now_ms - log->last_sync_ms >= log->opts.fsync_interval_ms) {
        if (log->sync == NULL) {
            rv = weir_plog_flush(log);
        } else if (!weir__sync_busy(log->sync)) {
            /* In the background: the I/O loop never waits for the disk. */
            if ((rv = weir__sync_start(log->sync, log->active_fd)) == WEIR_OK)
                log->dirty = false;
            else
                log->failed = true;
        }
        log->last_sync_ms = now_ms;
    }
    if (bg_failed(log) && rv == WEIR_OK)
        rv = WEIR_EIO;
    if (log->opts.segment_ms > 0 && active(log)->size > 0 &&
        log->active_since_ms > 0 &&
        now_ms - log->active_since_ms >= log->opts.segment_ms && !log->failed) {
        int rrv = roll(log);
        if (rrv == WEIR_OK)
            log->active_since_ms = 0;
        else if (rv == WEIR_OK)
            rv = rrv;
    }
    retention(log, now_ms, stable_offset);
    if (log->opts.compact && log->nsegs > 1) {
        /* Compact when a closed segment became wholly cleanable. */
        int64_t target = log->cleaned_end;
        for (int i = 0; i < log->nsegs - 1; i++)
            if (log->segs[i].next_offset <= stable_offset &&
                log->segs[i].next_offset > target)
                target = log->segs[i].next_offset;
        if (target > log->cleaned_end) {
            int crv = weir__plog_compact(log, now_ms, stable_offset);
            if (rv == WEIR_OK)
                rv = crv;
        }
    }
    return rv;
}

int
weir_plog_compact(weir_plog *log, int64_t now_ms, int64_t stable_offset)
{
    return weir__plog_compact(log, now_ms, stable_offset);
}

static int
rm_rf_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int rv = 0;
    if (d == NULL)
        return errno == ENOENT ? 0 : -1;
    while ((de = readdir(d)) != NULL) {
        char path[PATH_MAX];
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        (void)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (unlink(path) != 0)
            rv = -1;
    }
    closedir(d);
    if (rmdir(dir) != 0)
        rv = -1;
    return rv;
}

int
weir_plog_destroy(weir_plog *log)
{
    char *dir;
    int rv;
    if (log == NULL)
        return WEIR_OK;
    if ((dir = strdup(log->dir)) == NULL) {
        weir_plog_close(log);
        return WEIR_ENOMEM;
    }
    log->dirty = false; /* no point syncing what is about to go */
    weir_plog_close(log);
    rv = rm_rf_dir(dir) == 0 ? WEIR_OK : WEIR_EIO;
    if (rv != WEIR_OK)
        weir_log_error(
            comp, "log delete failed dir=%s err=%s", dir, strerror(errno));
    free(dir);
    return rv;
}
