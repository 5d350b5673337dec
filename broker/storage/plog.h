/*
 * One partition's log: a directory of append-only segment files named by
 * their base offset, Kafka style:
 *
 *   00000000000000000000.log    batches as received, base offsets rewritten
 *   00000000000000000000.index  sparse offset/time index (rebuilt if absent
 *                               or stale; written on roll and close)
 *
 * Rolled by size (and by age with segment_ms). On open, the last segment is
 * scanned and a torn or CRC-corrupt tail (crash mid-write) is truncated.
 * Memory and descriptors stay bounded: each log keeps its active segment
 * open and its index plus those of 4 recently read closed segments in
 * memory (16 bytes per index entry); other indexes are reloaded on demand.
 *
 * Names: weir_plog_* ("partition log"), so that they never clash with the
 * process logger weir_log() of common/log.h.
 *
 * Additions to the agreed API (storage_api.md): weir_plog_opts gained
 * fsync_interval_ms, index_interval_bytes, delete_retention_ms and
 * segment_ms (0 = default, so zero-initialised options keep working);
 * weir_plog_size_bytes, weir_plog_dir, weir_plog_segment_count,
 * weir_plog_lookup_time and weir_plog_compact were added.
 *
 * Threading: every log of a process is used from one thread (the broker's
 * I/O loop): logs share a process-wide cache of at most 64 closed-segment
 * descriptors. Interval fsyncs run on an internal background thread.
 */
#ifndef WEIR_BROKER_STORAGE_PLOG_H
#define WEIR_BROKER_STORAGE_PLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    WEIR_FSYNC_NEVER,
    WEIR_FSYNC_INTERVAL,
    WEIR_FSYNC_ALWAYS
} weir_fsync_mode;

typedef struct weir_plog_opts {
    uint64_t segment_bytes; /* roll size; 0 = 1 GiB */
    weir_fsync_mode fsync;
    int64_t retention_ms;    /* -1 = forever (0 is treated as forever too) */
    int64_t retention_bytes; /* -1 = unlimited (0 too) */
    bool compact;            /* cleanup.policy=compact: no size/time deletion */
    /* Additions (0 = default): */
    int64_t fsync_interval_ms;     /* WEIR_FSYNC_INTERVAL period; 1000 */
    uint32_t index_interval_bytes; /* bytes between index entries; 4096 */
    /* Compaction drops a tombstone once its batch's max timestamp is older
     * than this (Kafka delete.retention.ms); 86400000. Negative = at once. */
    int64_t delete_retention_ms;
    /* Kafka segment.ms: maintain rolls a non-empty active segment this old
     * (by the wall clock of its first append), so that quiet compacted or
     * time-retained logs still get closed segments. 0 = never. */
    int64_t segment_ms;
} weir_plog_opts;

typedef struct weir_plog weir_plog;

/*
 * Opens or creates the partition directory dir (parents created too);
 * recovery scans the last segment, truncating a torn or CRC-corrupt tail.
 * opts NULL = defaults. The log copies opts and dir.
 * Errors: WEIR_EIO (with a log line naming the file), WEIR_ENOMEM,
 * WEIR_ECORRUPT (a closed segment is unreadable).
 */
int weir_plog_open(
    weir_plog **logp, const char *dir, const weir_plog_opts *opts);

/* Flushes (fsync unless fsync=never), writes indexes, closes; NULL-safe. */
void weir_plog_close(weir_plog *log);

/*
 * Appends one or more already-validated batches (buf is modified: base
 * offsets rewritten, consecutive from the log end). On return the bytes are
 * written to the file (and fsynced if fsync=always). *base_offset = offset
 * of the first record. Rolls to a new segment first when the active one
 * would exceed segment_bytes (a batch never spans segments).
 * Errors: WEIR_EPROTO (buf is not a sequence of whole batches; nothing
 * written), WEIR_EIO (not acknowledged: a partial write is truncated away;
 * after a failed fsync, or a torn write that could not be cut, the failure
 * sticks and every later append fails until the log is reopened, when
 * recovery decides what survived), WEIR_ETOOBIG.
 */
int weir_plog_append(
    weir_plog *log, uint8_t *buf, size_t len, int64_t *base_offset);

/* First offset still in the log (moves with retention). */
int64_t weir_plog_start_offset(const weir_plog *log);
/* Next offset to be assigned (the high watermark of a single node). */
int64_t weir_plog_end_offset(const weir_plog *log);
/* Total bytes of all segment files. */
uint64_t weir_plog_size_bytes(const weir_plog *log);
int weir_plog_segment_count(const weir_plog *log);
const char *weir_plog_dir(const weir_plog *log);

/*
 * Copies whole batches that contain offsets >= offset and start before
 * end_offset (exclusive; e.g. the LSO; nothing when offset >= end_offset),
 * at most max_bytes except that the first batch is always returned whole.
 * *out malloc'd, caller frees; *out_len 0 (and *out NULL) when nothing.
 * Reads come from one segment; an offset in a gap (compaction) continues at
 * the next batch.
 * Errors: WEIR_ENOTFOUND (offset < start or > end: OFFSET_OUT_OF_RANGE),
 * WEIR_EIO, WEIR_ENOMEM.
 */
int weir_plog_read(weir_plog *log, int64_t offset, int64_t end_offset,
    size_t max_bytes, uint8_t **out, size_t *out_len);

/*
 * The same batches as weir_plog_read, located without reading them: *out_len
 * bytes at *out_pos of the segment file open as *out_fd (the log's
 * descriptor, valid until the next call into the log; dup it to keep it).
 * The bytes there never change (segments are append-only; compaction and
 * retention replace or unlink files), so they can be sent later, e.g. by
 * sendfile. When copy is not NULL and the batches were small enough to be
 * read while locating them, *copy is a malloc'd copy of them (else NULL).
 */
int weir_plog_read_ref(weir_plog *log, int64_t offset, int64_t end_offset,
    size_t max_bytes, int *out_fd, uint64_t *out_pos, size_t *out_len,
    uint8_t **copy);

/*
 * ListOffsets by timestamp, as Kafka answers it: the earliest record whose
 * timestamp is >= ts, with that record's offset and timestamp (for a
 * compressed batch, which cannot be looked into: its base offset and max
 * timestamp). WEIR_ENOTFOUND when no record is that late (Kafka answers
 * offset -1, timestamp -1); WEIR_EIO, WEIR_ENOMEM.
 */
int weir_plog_lookup_time(
    weir_plog *log, int64_t ts, int64_t *offset, int64_t *timestamp);

/* Same lookup, offset only; the end offset when no record is that late. */
int weir_plog_offset_for_time(weir_plog *log, int64_t ts, int64_t *offset);

/* fsync of the active segment (no-op when nothing is dirty). */
int weir_plog_flush(weir_plog *log);

/*
 * Periodic upkeep: interval fsync, roll, retention, compaction (for compact
 * logs: keep the latest record per key in closed segments; never drop
 * control batches or records at or above stable_offset). Aborted
 * transactional records are removed by compaction (as Kafka's cleaner
 * does). Call every few hundred ms; cheap when there is nothing to do.
 */
int weir_plog_maintain(weir_plog *log, int64_t now_ms, int64_t stable_offset);

/* Forces a compaction pass now (tests; same rules as maintain). */
int weir_plog_compact(weir_plog *log, int64_t now_ms, int64_t stable_offset);

/* Closes the log and deletes the partition directory (DeleteTopics). The
 * log is freed whatever the result. */
int weir_plog_destroy(weir_plog *log);

#endif
