/*
 * A bump allocator that the stream thread resets once per record, so
 * per-record work does no malloc once the arena has grown to its working
 * size. Belongs to one thread; nothing here locks.
 */
#ifndef WEIR_ARENA_H
#define WEIR_ARENA_H

#include <stddef.h>

typedef struct weir_arena_chunk weir_arena_chunk;

/* Embed and weir_arena_init; all fields private. */
typedef struct weir_arena {
    weir_arena_chunk *head; /* chunk being filled */
    weir_arena_chunk *free; /* chunks kept by reset for reuse */
    size_t chunk_bytes;
    size_t used_bytes; /* total handed out since the last reset */
    size_t limit_bytes;
} weir_arena;

/*
 * limit_bytes bounds what one record may allocate between resets (0 means
 * 64 MiB), so a hostile record cannot exhaust memory: weir_arena_alloc
 * returns NULL past it.
 */
void weir_arena_init(weir_arena *arena, size_t limit_bytes);
/* Frees every chunk. Accepts NULL. */
void weir_arena_fini(weir_arena *arena);
/*
 * Forgets every allocation; keeps up to 4 MiB of the memory for the next
 * record and frees the rest.
 */
void weir_arena_reset(weir_arena *arena);
/* Heap bytes the arena holds (in use and kept). */
size_t weir_arena_retained_bytes(const weir_arena *arena);
/* 8-byte aligned; NULL when out of memory or past the limit. */
void *weir_arena_alloc(weir_arena *arena, size_t bytes);
/* Copy into the arena (a NUL is appended, not counted). NULL on failure. */
char *weir_arena_strdup(weir_arena *arena, const char *ptr, size_t len);

#endif
