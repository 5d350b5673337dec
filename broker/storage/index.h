/*
 * Sparse offset and time index of one segment (internal to the log).
 * An entry every index_interval_bytes of log: the batch's offset relative to
 * the segment base, its file position, and the largest timestamp of all
 * batches before it (so time lookups can binary-search too). Kept in memory
 * (16 bytes per entry: 0.4% of the log at the default 4 KiB interval) and
 * saved next to the segment as <base>.index.
 */
#ifndef WEIR_BROKER_STORAGE_INDEX_H
#define WEIR_BROKER_STORAGE_INDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct weir_index_entry {
    uint32_t rel_offset;
    uint32_t position;
    int64_t max_ts_before;
} weir_index_entry;

typedef struct weir_index {
    weir_index_entry *entries;
    size_t len, cap;
    uint64_t last_position; /* position of the newest entry */
    int64_t max_ts;         /* largest timestamp indexed so far, or -1 */
} weir_index;

void weir_index_init(weir_index *idx);
void weir_index_fini(weir_index *idx);
void weir_index_reset(weir_index *idx);

/* Notes a batch at position; adds an entry when interval bytes passed since
 * the last one (always for the first batch). WEIR_ENOMEM. */
int weir_index_add(weir_index *idx, uint32_t interval, uint32_t rel_offset,
    uint64_t position, int64_t max_timestamp);

/* Position to start scanning for rel_offset (last entry <= it; 0 if none). */
uint64_t weir_index_lookup(const weir_index *idx, uint32_t rel_offset);

/* Position to start scanning for the first batch whose max timestamp >= ts. */
uint64_t weir_index_lookup_time(const weir_index *idx, int64_t ts);

/*
 * Index file: "WEIRIDX1", u64 log size, i64 next offset, i64 max timestamp,
 * u32 count, u32 CRC-32C of everything else, then the entries. Save writes
 * a temp file and renames it. Load returns WEIR_ENOTFOUND when the file is
 * absent, WEIR_ECORRUPT when invalid or written for another log_size.
 */
int weir_index_save(const weir_index *idx, const char *path, uint64_t log_size,
    int64_t next_offset);
int weir_index_load(
    weir_index *idx, const char *path, uint64_t log_size, int64_t *next_offset);

#endif
