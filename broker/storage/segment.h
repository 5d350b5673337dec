/*
 * One segment of a partition log (internal): <base>.log with its index, and
 * a buffered sequential batch scanner used by recovery, index rebuilds,
 * compaction and reads.
 */
#ifndef WEIR_BROKER_STORAGE_SEGMENT_H
#define WEIR_BROKER_STORAGE_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/storage/batch.h"
#include "broker/storage/index.h"

typedef struct weir_segment {
    int64_t base_offset;
    int64_t next_offset; /* one past the last offset it holds */
    uint64_t size;       /* bytes of valid batches */
    weir_index idx;      /* idx.max_ts: the segment's largest timestamp */
    bool idx_evicted;    /* entries freed (closed segment unused lately);
                          * max_ts and the file on disk remain */
    uint64_t idx_tick;   /* last use, for evicting the least recent */
} weir_segment;

/* "<dir>/<base, 20 digits><ext>" into buf (PATH_MAX). */
void weir_segment_path(
    char *buf, size_t cap, const char *dir, int64_t base, const char *ext);

/* Sequential reader of the batches in [pos, limit) of a file. */
typedef struct weir_scan {
    int fd;
    uint64_t pos;   /* file position of the next batch */
    uint64_t limit; /* end of the data to scan */
    uint8_t *buf;
    size_t cap, off, len; /* buf[off..len) holds file bytes from pos */
    size_t chunk;         /* bytes read at a time (grows for big batches) */
} weir_scan;

/* chunk 0 = 64 KiB; seeks that stop soon read less. */
void weir_scan_init(weir_scan *s, int fd, uint64_t pos, uint64_t limit);
void weir_scan_init_chunk(
    weir_scan *s, int fd, uint64_t pos, uint64_t limit, size_t chunk);
void weir_scan_fini(weir_scan *s);
/*
 * Next batch: *batch points into the scanner's buffer (valid until the
 * next call), *pos is its file position. verify = full weir_batch_parse
 * (CRC, records), otherwise header checks only.
 * Returns WEIR_OK, WEIR_ENOTFOUND at a clean end, WEIR_EPROTO for a torn or
 * malformed batch, WEIR_ECORRUPT for a bad CRC, WEIR_EIO, WEIR_ENOMEM.
 */
int weir_scan_next(weir_scan *s, bool verify, const uint8_t **batch,
    size_t *len, weir_batch_hdr *hdr, uint64_t *pos);

/*
 * Rebuilds seg's index, size, next offset and max timestamp by scanning the
 * file from position 0 up to file_size. *valid_end = end of the last good
 * batch (< file_size when a torn or corrupt tail follows). verify also
 * requires contiguous offsets (the active segment is never compacted).
 */
int weir_segment_rebuild(weir_segment *seg, int fd, uint64_t file_size,
    bool verify, uint32_t interval, uint64_t *valid_end);

/* Adds a batch that now sits at position to the segment's bookkeeping. */
int weir_segment_note(weir_segment *seg, uint32_t interval,
    const weir_batch_hdr *hdr, uint64_t position, size_t len);

#endif
