/*
 * Background fsync for WEIR_FSYNC_INTERVAL logs (internal). An fdatasync of
 * a second's worth of appends can take hundreds of milliseconds; done on
 * the broker's one I/O loop it would stall every client. Instead the log
 * hands a dup of its descriptor to one process-wide syncer thread and
 * carries on; the token reports when that sync finished and whether it
 * failed (the log then refuses appends, as after any failed fsync).
 * Falls back to a synchronous fsync if the thread cannot be started.
 * Tokens are used from the log's thread; the syncer thread only touches
 * them under its lock.
 */
#ifndef WEIR_BROKER_STORAGE_STORE_SYNC_H
#define WEIR_BROKER_STORAGE_STORE_SYNC_H

#include <stdbool.h>

typedef struct weir__sync_token weir__sync_token;

/* NULL on allocation failure (the log then syncs synchronously). */
weir__sync_token *weir__sync_token_new(void);
/* Waits for the token's syncs in flight, then frees it; NULL-safe. */
void weir__sync_token_free(weir__sync_token *tok);

/* Starts an fdatasync of fd in the background (fd is dup'ed: the caller
 * may close its own at once). WEIR_EIO if the synchronous fallback (no
 * thread, memory or descriptor) failed. */
int weir__sync_start(weir__sync_token *tok, int fd);
/* True while one of its syncs is queued or running. */
bool weir__sync_busy(weir__sync_token *tok);
/* True (once) if a background sync failed since the last call. */
bool weir__sync_failed(weir__sync_token *tok);
/* Waits until the token has no sync in flight (blocks). */
void weir__sync_wait(weir__sync_token *tok);

#endif
