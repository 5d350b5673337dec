/*
 * Local state: the only place that touches RocksDB (store.c).
 *
 * One RocksDB database per worker (weir_store_env) under <data_dir>/state,
 * with one shared block cache and one write-buffer budget sized from the
 * worker's memory limit. Each store of each task is a column family named
 * "<job>/<sub>_<partition>/<store>".
 *
 * A task opens its stores as one weir_store. Writes go to an uncommitted
 * overlay (overlay.h) that reads see and that keeps only the latest value
 * of each key; weir_store_commit applies it together with
 * each store's changelog checkpoint (the next changelog offset to replay)
 * in one atomic write, weir_store_abort drops it. So the local state is
 * always a prefix of the committed changelog.
 *
 * Threading: the env is shared by every stream thread (RocksDB is
 * thread-safe); a weir_store belongs to the thread that owns its task.
 */
#ifndef WEIR_WORKER_STORE_H
#define WEIR_WORKER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct weir_store_env weir_store_env;
typedef struct weir_store weir_store;
typedef struct weir_store_iter weir_store_iter;

/* Opens (creating) <dir>. memory_limit_bytes <= 0: 256 MB. WEIR_ESTORE
 * with a logged reason when RocksDB refuses (e.g. another process). */
int weir_store_env_open(
    weir_store_env **envp, const char *dir, int64_t memory_limit_bytes);
/* Every weir_store must be closed first. NULL-safe. */
void weir_store_env_close(weir_store_env *env);

/* One local checkpoint: the store (column family) and its offset. */
typedef struct weir_store_ckpt {
    char task[256];  /* "<job>/<sub>_<partition>" */
    char store[128]; /* store name */
    int64_t offset;  /* next changelog offset to replay */
} weir_store_ckpt;

/* Every checkpoint held in the env (malloc'd array, caller frees). */
int weir_store_env_checkpoints(
    weir_store_env *env, weir_store_ckpt **out, size_t *n);

/*
 * Opens the stores of one task (creating missing column families).
 * task: "<job>/<sub>_<partition>"; names: the task's store names.
 */
int weir_store_open(weir_store **sp, weir_store_env *env, const char *task,
    const char *const *names, size_t n);
/* Drops the uncommitted batch and closes. NULL-safe. */
void weir_store_close(weir_store *s);

/* The checkpoint of store idx: next changelog offset to replay, or -1. */
int64_t weir_store_checkpoint(const weir_store *s, size_t idx);

/*
 * Drops every key and checkpoint of store idx (used before a full restore
 * when a store has data but no checkpoint).
 */
int weir_store_wipe(weir_store *s, size_t idx);

/*
 * Reads key from store idx, seeing the uncommitted writes. *found false:
 * absent (or deleted by an uncommitted write). *val stays valid until the
 * next call on s.
 */
int weir_store_get(weir_store *s, size_t idx, const void *key, size_t klen,
    const char **val, size_t *vlen, bool *found);
/* An uncommitted write (only the latest value of a key is kept). val
 * NULL: delete. */
int weir_store_put(weir_store *s, size_t idx, const void *key, size_t klen,
    const void *val, size_t vlen);

/* Number of keys with uncommitted writes. */
size_t weir_store_pending(const weir_store *s);

/*
 * Calls fn for every key with an uncommitted write (val NULL: a delete),
 * e.g. to produce the changelog before committing. Stops at a non-zero
 * return and returns it.
 */
int weir_store_each_pending(weir_store *s,
    int (*fn)(size_t idx, const void *key, size_t klen, const void *val,
        size_t vlen, void *opaque),
    void *opaque);

/*
 * Atomically applies the uncommitted writes and the checkpoints: offsets[i] is
 * store i's next changelog offset (-1: unchanged). Clears the batch.
 */
int weir_store_commit(weir_store *s, const int64_t *offsets);
/* Drops the uncommitted writes. */
void weir_store_abort(weir_store *s);

/*
 * Iterates store idx in key order from `from` (NULL: first key), seeing
 * the uncommitted writes as of its creation. Free it before the next
 * write, commit or abort on s.
 */
int weir_store_iter_new(weir_store_iter **itp, weir_store *s, size_t idx,
    const void *from, size_t from_len);
bool weir_store_iter_valid(weir_store_iter *it);
void weir_store_iter_next(weir_store_iter *it);
const char *weir_store_iter_key(weir_store_iter *it, size_t *len);
const char *weir_store_iter_value(weir_store_iter *it, size_t *len);
void weir_store_iter_free(weir_store_iter *it);

/* A row of weir_store_env_read: WEIR_OK (taken: counts against the
 * limit), WEIR_STORE_ROW_SKIP (does not count), WEIR_STORE_ROW_STOP (the
 * read ends), or an error, which ends it and is returned. */
#define WEIR_STORE_ROW_SKIP (-1)
#define WEIR_STORE_ROW_STOP (-2)
typedef int (*weir_store_row_fn)(
    const char *key, size_t klen, const char *val, size_t vlen, void *opaque);

/*
 * Pull queries, from any thread: the rows of store `store` of task `task`
 * (its store key, "<job>/<sub>_<part>") with keys in [from, to) (to NULL:
 * to the end), at most limit, as of its last checkpoint (committed state
 * only); *ckpt is that checkpoint's changelog offset (-1: none).
 * WEIR_ENOTFOUND when this worker has no such store.
 */
int weir_store_env_read(weir_store_env *env, const char *task,
    const char *store, const void *from, size_t flen, const void *to,
    size_t tlen, size_t limit, weir_store_row_fn fn, void *opaque,
    int64_t *ckpt);

#endif
