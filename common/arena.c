/* A bump allocator reset once per record: see arena.h. */
#include "common/arena.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

struct weir_arena_chunk {
    weir_arena_chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    max_align_t data[];
};

#define ARENA_MIN_CHUNK 4096
#define ARENA_DEFAULT_LIMIT ((size_t)64 << 20)
#define ARENA_KEEP_BYTES ((size_t)4 << 20)

void
weir_arena_init(weir_arena *arena, size_t limit_bytes)
{
    memset(arena, 0, sizeof(*arena));
    arena->chunk_bytes = ARENA_MIN_CHUNK;
    arena->limit_bytes = limit_bytes ? limit_bytes : ARENA_DEFAULT_LIMIT;
}

static void
free_chunks(weir_arena_chunk *c)
{
    while (c != NULL) {
        weir_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
}

void
weir_arena_fini(weir_arena *arena)
{
    if (arena == NULL) {
        return;
    }
    free_chunks(arena->head);
    free_chunks(arena->free);
    arena->head = arena->free = NULL;
}

void
weir_arena_reset(weir_arena *arena)
{
    /* Keep up to ARENA_KEEP_BYTES for the next records; give the rest of
     * a spike (one huge record) back, so memory stays bounded. */
    size_t kept = 0;
    for (weir_arena_chunk *c = arena->free; c != NULL; c = c->next) {
        kept += c->size;
    }
    weir_arena_chunk *c = arena->head;
    while (c != NULL) {
        weir_arena_chunk *next = c->next;
        if (kept + c->size > ARENA_KEEP_BYTES) {
            free(c);
        } else {
            kept += c->size;
            c->used = 0;
            c->next = arena->free;
            arena->free = c;
        }
        c = next;
    }
    arena->head = NULL;
    arena->used_bytes = 0;
}

size_t
weir_arena_retained_bytes(const weir_arena *arena)
{
    size_t n = 0;
    for (const weir_arena_chunk *c = arena->head; c != NULL; c = c->next) {
        n += c->size;
    }
    for (const weir_arena_chunk *c = arena->free; c != NULL; c = c->next) {
        n += c->size;
    }
    return n;
}

static weir_arena_chunk *
take_chunk(weir_arena *arena, size_t bytes)
{
    weir_arena_chunk **pp = &arena->free;
    while (*pp != NULL) {
        if ((*pp)->size >= bytes) {
            weir_arena_chunk *c = *pp;
            *pp = c->next;
            return c;
        }
        pp = &(*pp)->next;
    }
    size_t size = arena->chunk_bytes;
    while (size < bytes) {
        size *= 2;
    }
    weir_arena_chunk *c = malloc(sizeof(*c) + size);
    if (c == NULL) {
        return NULL;
    }
    c->size = size;
    c->used = 0;
    if (arena->chunk_bytes < ((size_t)1 << 20)) {
        arena->chunk_bytes *= 2; /* grow geometrically to the working size */
    }
    return c;
}

void *
weir_arena_alloc(weir_arena *arena, size_t bytes)
{
    size_t need = (bytes + 7) & ~(size_t)7;
    if (need < bytes || need > arena->limit_bytes - arena->used_bytes) {
        return NULL;
    }
    weir_arena_chunk *c = arena->head;
    if (c == NULL || c->size - c->used < need) {
        c = take_chunk(arena, need);
        if (c == NULL) {
            return NULL;
        }
        c->next = arena->head;
        arena->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += need;
    arena->used_bytes += need;
    return p;
}

char *
weir_arena_strdup(weir_arena *arena, const char *ptr, size_t len)
{
    char *p = weir_arena_alloc(arena, len + 1);
    if (p == NULL) {
        return NULL;
    }
    if (len) {
        memcpy(p, ptr, len);
    }
    p[len] = '\0';
    return p;
}
