/*
 * The store's overlay: a hash table of (column family, key) -> value that
 * holds the uncommitted writes of a task (dirty entries, which reads see)
 * and a cache of committed values read from RocksDB (clean entries, which
 * may also record that a key is absent). Only the latest value of a key is
 * kept, so a commit writes each key once however often it changed.
 *
 * Threading: owned by one weir_store, hence one stream thread.
 */
#ifndef WEIR_WORKER_OVERLAY_H
#define WEIR_WORKER_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct weir_ov_entry {
    struct weir_ov_entry *next; /* hash chain */
    uint64_t hash;
    uint32_t cf;
    bool dirty;   /* written since the last commit */
    bool deleted; /* absent (a delete when dirty) */
    size_t klen, vlen, vcap;
    char *val;
    char key[]; /* klen bytes */
} weir_ov_entry;

typedef struct weir_overlay {
    weir_ov_entry **buckets;
    size_t n_buckets;
    size_t n;       /* entries */
    size_t n_dirty; /* dirty entries */
} weir_overlay;

void weir_overlay_init(weir_overlay *ov);
void weir_overlay_fini(weir_overlay *ov);

weir_ov_entry *weir_overlay_find(
    weir_overlay *ov, uint32_t cf, const void *key, size_t klen);

/*
 * Sets key's value (val NULL: absent). dirty marks an uncommitted write; a
 * clean set never overwrites a dirty entry. Returns the entry or NULL when
 * out of memory.
 */
weir_ov_entry *weir_overlay_set(weir_overlay *ov, uint32_t cf, const void *key,
    size_t klen, const void *val, size_t vlen, bool dirty);

/* Calls fn on every dirty entry (any order); stops at a non-zero return. */
int weir_overlay_each_dirty(
    weir_overlay *ov, int (*fn)(weir_ov_entry *e, void *opaque), void *opaque);

/* After a commit: dirty entries become clean. */
void weir_overlay_mark_clean(weir_overlay *ov);
/* After an abort: dirty entries are dropped. */
void weir_overlay_drop_dirty(weir_overlay *ov);
/* Drops clean entries of every column family (cf < 0) or of one. */
void weir_overlay_drop_clean(weir_overlay *ov, int cf);

#endif
