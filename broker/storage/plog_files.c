/*
 * What a partition log keeps open and in memory beyond its active segment:
 * a process-wide, least-recently-used set of cached closed-segment
 * descriptors, and a few resident closed-segment indexes per log.
 */
#include "broker/storage/plog_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/storage/store_be.h"
#include "broker/storage/store_io.h"
#include "common/err.h"
#include "common/log.h"

static const char *comp = "broker";

/* The process-wide list of logs with a cached reader descriptor. */
static weir_plog *rd_head, *rd_tail;
static int rd_count;

static void
reader_unlink(weir_plog *log)
{
    if (log->read_fd < 0)
        return;
    if (log->rd_prev != NULL)
        log->rd_prev->rd_next = log->rd_next;
    else
        rd_head = log->rd_next;
    if (log->rd_next != NULL)
        log->rd_next->rd_prev = log->rd_prev;
    else
        rd_tail = log->rd_prev;
    log->rd_prev = log->rd_next = NULL;
    rd_count--;
}

/* Closes the log's cached reader, if any. */
void
weir__plog_reader_drop(weir_plog *log)
{
    if (log->read_fd < 0)
        return;
    reader_unlink(log);
    close(log->read_fd);
    log->read_fd = -1;
}

/* Caches fd as the log's reader for segment base, evicting the least
 * recently used reader of any log beyond the process limit. */
void
weir__plog_reader_set(weir_plog *log, int fd, int64_t base)
{
    weir__plog_reader_drop(log);
    log->read_fd = fd;
    log->read_base = base;
    log->rd_prev = NULL;
    log->rd_next = rd_head;
    if (rd_head != NULL)
        rd_head->rd_prev = log;
    rd_head = log;
    if (rd_tail == NULL)
        rd_tail = log;
    rd_count++;
    while (rd_count > WEIR__MAX_READERS && rd_tail != log)
        weir__plog_reader_drop(rd_tail);
}

/* Marks the log's reader as just used. */
static void
reader_touch(weir_plog *log)
{
    if (rd_head == log)
        return;
    int fd = log->read_fd;
    int64_t base = log->read_base;
    reader_unlink(log);
    log->read_fd = -1;
    weir__plog_reader_set(log, fd, base);
}

static void
index_evict(weir_segment *seg)
{
    free(seg->idx.entries);
    seg->idx.entries = NULL;
    seg->idx.len = seg->idx.cap = 0;
    seg->idx_evicted = true;
}

void
weir__plog_index_trim(weir_plog *log, int keep)
{
    for (;;) {
        int resident = 0, lru = -1;
        for (int i = 0; i < log->nsegs - 1; i++) {
            weir_segment *seg = &log->segs[i];
            if (seg->idx_evicted)
                continue;
            resident++;
            if (i != keep &&
                (lru < 0 || seg->idx_tick < log->segs[lru].idx_tick))
                lru = i;
        }
        if (resident <= WEIR__RESIDENT_INDEXES || lru < 0)
            return;
        index_evict(&log->segs[lru]);
    }
}

int
weir__plog_index(weir_plog *log, int i)
{
    weir_segment *seg = &log->segs[i];
    char path[PATH_MAX];
    int64_t next;
    int rv;

    seg->idx_tick = ++log->tick;
    if (!seg->idx_evicted)
        return WEIR_OK;
    weir_segment_path(path, sizeof(path), log->dir, seg->base_offset, ".index");
    int64_t keep_ts = seg->idx.max_ts;
    rv = weir_index_load(&seg->idx, path, seg->size, &next);
    if (rv == WEIR_ENOTFOUND || rv == WEIR_ECORRUPT) {
        /* Rebuild from the data; offsets and size stay as they were (a
         * compacted segment may end before its next offset). */
        int64_t keep_next = seg->next_offset;
        uint64_t keep_size = seg->size, valid;
        int fd;
        if ((rv = weir__plog_fd(log, i, &fd)) != WEIR_OK)
            return rv;
        rv = weir_segment_rebuild(
            seg, fd, keep_size, false, log->opts.index_interval_bytes, &valid);
        seg->next_offset = keep_next;
        seg->size = keep_size;
        if (seg->idx.max_ts < keep_ts)
            seg->idx.max_ts = keep_ts;
        if (rv == WEIR_OK)
            weir__plog_save_index(log, seg);
    }
    if (rv != WEIR_OK) {
        weir_index_reset(&seg->idx);
        seg->idx.max_ts = keep_ts;
        weir_log_error(comp, "log index load failed dir=%s segment=%lld",
            log->dir, (long long)seg->base_offset);
        return rv == WEIR_ENOMEM ? rv : WEIR_EIO;
    }
    seg->idx_evicted = false;
    weir__plog_index_trim(log, i);
    return WEIR_OK;
}

int
weir__plog_fd(weir_plog *log, int i, int *fd)
{
    char path[PATH_MAX];
    int64_t base = log->segs[i].base_offset;

    if (i == log->nsegs - 1) {
        *fd = log->active_fd;
        return WEIR_OK;
    }
    if (log->read_fd >= 0 && log->read_base == base) {
        reader_touch(log);
        *fd = log->read_fd;
        return WEIR_OK;
    }
    weir_segment_path(path, sizeof(path), log->dir, base, ".log");
    if (weir__io_open(path, O_RDONLY, fd) != 0) {
        weir_log_error(
            comp, "log open failed path=%s err=%s", path, strerror(errno));
        return WEIR_EIO;
    }
    weir__plog_reader_set(log, *fd, base);
    return WEIR_OK;
}

void
weir__plog_forget_fd(weir_plog *log, int64_t base)
{
    if (log->read_fd >= 0 && log->read_base == base)
        weir__plog_reader_drop(log);
}
