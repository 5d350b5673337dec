/* Internals shared by plog.c, plog_files.c, plog_read.c and compact.c. */
#ifndef WEIR_BROKER_STORAGE_PLOG_INT_H
#define WEIR_BROKER_STORAGE_PLOG_INT_H

#include <limits.h>

#include "broker/storage/plog.h"
#include "broker/storage/segment.h"
#include "broker/storage/store_sync.h"

#define WEIR__RCACHE 4
/* Cached closed-segment descriptors in the whole process. Each log also
 * holds its active segment open, so a broker uses about one descriptor per
 * partition plus this many. */
#define WEIR__MAX_READERS 64

/* Where a sequential reader's next offset starts (saves the index seek). */
struct weir__rpos {
    int64_t offset; /* -1 = unused */
    int64_t seg_base;
    uint64_t pos;
};

struct weir_plog {
    char *dir;
    weir_plog_opts opts;
    weir_segment *segs; /* by base offset; the last one is active */
    int nsegs;
    size_t cap; /* of segs, in segments (weir_array_reserve) */
    int active_fd;
    int read_fd; /* cached descriptor of a closed segment, or -1 */
    int64_t read_base;
    /* Logs holding a read_fd, most recent first: at most
     * WEIR__MAX_READERS in the process (single-threaded use). */
    struct weir_plog *rd_prev, *rd_next;
    bool dirty;  /* written since the last fsync */
    bool failed; /* a write or fsync failed in a way that sticks: the file
                  * may hold bytes the log does not know; no more appends
                  * until reopened (recovery sorts it out) */
    int64_t last_sync_ms;    /* wall ms of the last interval fsync */
    int64_t cleaned_end;     /* compaction covered offsets below this */
    int64_t active_since_ms; /* wall ms of the active segment's first append
                              * in this process; 0 = none yet */
    weir__sync_token *sync;  /* background interval fsyncs; NULL = inline */
    uint64_t tick;           /* index use counter */
    struct weir__rpos rcache[WEIR__RCACHE];
    int rcache_next;
};

/* Writes segment seg's .index file (a failure only costs a rebuild). */
void weir__plog_save_index(weir_plog *log, weir_segment *seg);
/* The log's cached reader descriptor (plog_files.c). */
void weir__plog_reader_set(weir_plog *log, int fd, int64_t base);
void weir__plog_reader_drop(weir_plog *log);
/* Descriptor for reading segment i (active fd or the cached one). */
int weir__plog_fd(weir_plog *log, int i, int *fd);
/* Closed-segment indexes kept in memory per log; others are reloaded from
 * their .index file (or rebuilt) when a read needs them. */
#define WEIR__RESIDENT_INDEXES 4
/* Makes segment i's index resident; evicts the least recently used. */
int weir__plog_index(weir_plog *log, int i);
/* Evicts closed indexes beyond the limit, sparing segment keep. */
void weir__plog_index_trim(weir_plog *log, int keep);
/* Forgets cached read positions (segments were rewritten). */
void weir__plog_rcache_clear(weir_plog *log);
/* Drops the cached read descriptor if it belongs to base. */
void weir__plog_forget_fd(weir_plog *log, int64_t base);

int weir__plog_compact(weir_plog *log, int64_t now_ms, int64_t stable_offset);

#endif
