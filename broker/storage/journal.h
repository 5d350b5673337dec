/*
 * The journal: an append-only file of framed records for durable broker
 * metadata (topics, offsets, producers, transactions...). What a record
 * contains is the caller's business; the journal guarantees that replay
 * returns exactly the records whose append completed, in order.
 *
 *   frame = u32 length (big-endian) | u32 CRC-32C(payload) | payload
 *
 * On open every frame is replayed; the first torn or corrupt frame and
 * everything after it is truncated (a crash mid-append). Rewrite replaces
 * the file atomically (temp file, fsync, rename, fsync of the directory).
 *
 * Threading: one thread (the broker's I/O loop).
 */
#ifndef WEIR_BROKER_STORAGE_JOURNAL_H
#define WEIR_BROKER_STORAGE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest record payload accepted (anything larger on disk is corrupt). */
#define WEIR_JOURNAL_MAX_RECORD ((size_t)64 * 1024 * 1024)

typedef struct weir_journal weir_journal;

/* Called once per stored record, in order. A non-zero return stops the
 * replay and weir_journal_open fails with that error (file untouched). */
typedef int (*weir_journal_replay_fn)(
    void *arg, const uint8_t *rec, size_t len);

/*
 * Opens or creates the journal at path and replays it through replay (may
 * be NULL). Errors: WEIR_EIO, WEIR_ENOMEM, or the callback's error.
 */
int weir_journal_open(weir_journal **jp, const char *path,
    weir_journal_replay_fn replay, void *arg);

/*
 * Appends one record (len <= WEIR_JOURNAL_MAX_RECORD) with one write;
 * sync = fdatasync before returning. Errors: WEIR_EINVAL, WEIR_EIO (not
 * acknowledged; after a failed fsync or a torn write that could not be
 * cut, every later append fails until a rewrite or reopen).
 */
int weir_journal_append(
    weir_journal *j, const uint8_t *rec, size_t len, bool sync);

/*
 * Rewrites the journal from a snapshot (records produced by
 * weir_journal_append(out, ...) calls inside the callback), atomically:
 * write temp, fsync, rename. On any error (including the callback's) the
 * old journal stays in place and in use.
 */
int weir_journal_rewrite(
    weir_journal *j, int (*snapshot)(void *arg, weir_journal *out), void *arg);

/* Current file size in bytes (to decide when to rewrite). */
uint64_t weir_journal_size(const weir_journal *j);

/* fdatasync. */
int weir_journal_sync(weir_journal *j);

/* Closes (fsyncs first); NULL-safe. */
void weir_journal_close(weir_journal *j);

#endif
