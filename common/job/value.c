/* Values, arenas and buffers: the small pieces everything else uses. */
#include "common/job/value.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

const char *
weir_type_name(weir_type type)
{
    switch (type) {
    case WEIR_TYPE_ANY:
        return "any";
    case WEIR_TYPE_NULL:
        return "null";
    case WEIR_TYPE_BOOL:
        return "bool";
    case WEIR_TYPE_INT:
        return "int";
    case WEIR_TYPE_FLOAT:
        return "float";
    case WEIR_TYPE_STRING:
        return "string";
    case WEIR_TYPE_BYTES:
        return "bytes";
    case WEIR_TYPE_LIST:
        return "list";
    case WEIR_TYPE_JSON:
        return "json";
    case WEIR_TYPE_TIME:
        return "time";
    }
    return "unknown";
}

static const struct {
    const char *name;
    weir_format fmt;
} formats[] = {
    {"string", WEIR__TOPOLOGY__FORMAT__FORMAT_STRING},
    {"bytes", WEIR__TOPOLOGY__FORMAT__FORMAT_BYTES},
    {"int64", WEIR__TOPOLOGY__FORMAT__FORMAT_INT64},
    {"json", WEIR__TOPOLOGY__FORMAT__FORMAT_JSON},
};

const char *
weir_format_name(weir_format fmt)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (formats[i].fmt == fmt) {
            return formats[i].name;
        }
    }
    return NULL;
}

int
weir_format_parse(const char *name, weir_format *fmt)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (strcmp(formats[i].name, name) == 0) {
            *fmt = formats[i].fmt;
            return WEIR_OK;
        }
    }
    return WEIR_EINVAL;
}

weir_value
weir_value_null(void)
{
    weir_value v = {.type = WEIR_TYPE_NULL};
    return v;
}

weir_value
weir_value_bool(bool b)
{
    weir_value v = {.type = WEIR_TYPE_BOOL, .u.b = b};
    return v;
}

weir_value
weir_value_int(int64_t i)
{
    weir_value v = {.type = WEIR_TYPE_INT, .u.i = i};
    return v;
}

weir_value
weir_value_float(double f)
{
    weir_value v = {.type = WEIR_TYPE_FLOAT, .u.f = f};
    return v;
}

weir_value
weir_value_time(int64_t ms)
{
    weir_value v = {.type = WEIR_TYPE_TIME, .u.i = ms};
    return v;
}

weir_value
weir_value_string(const char *ptr, size_t len)
{
    weir_value v = {.type = WEIR_TYPE_STRING};
    v.u.s.ptr = ptr;
    v.u.s.len = len;
    return v;
}

weir_value
weir_value_bytes(const void *ptr, size_t len)
{
    weir_value v = {.type = WEIR_TYPE_BYTES};
    v.u.s.ptr = ptr;
    v.u.s.len = len;
    return v;
}

static bool
is_number(weir_type t)
{
    return t == WEIR_TYPE_INT || t == WEIR_TYPE_FLOAT || t == WEIR_TYPE_TIME;
}

static int
cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0) {
        return c < 0 ? -1 : 1;
    }
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

static int
cmp_numbers(const weir_value *a, const weir_value *b)
{
    if (a->type != WEIR_TYPE_FLOAT && b->type != WEIR_TYPE_FLOAT) {
        return a->u.i < b->u.i ? -1 : (a->u.i > b->u.i ? 1 : 0);
    }
    double x = a->type == WEIR_TYPE_FLOAT ? a->u.f : (double)a->u.i;
    double y = b->type == WEIR_TYPE_FLOAT ? b->u.f : (double)b->u.i;
    return x < y ? -1 : (x > y ? 1 : 0);
}

int
weir_value_compare(const weir_value *a, const weir_value *b)
{
    if (is_number(a->type) && is_number(b->type)) {
        return cmp_numbers(a, b);
    }
    bool a_str = a->type == WEIR_TYPE_STRING || a->type == WEIR_TYPE_BYTES;
    bool b_str = b->type == WEIR_TYPE_STRING || b->type == WEIR_TYPE_BYTES;
    if (a_str && b_str) {
        return cmp_bytes(a->u.s.ptr, a->u.s.len, b->u.s.ptr, b->u.s.len);
    }
    if (a->type != b->type) {
        return a->type < b->type ? -1 : 1;
    }
    switch (a->type) {
    case WEIR_TYPE_BOOL:
        return (int)a->u.b - (int)b->u.b;
    case WEIR_TYPE_LIST:
        for (size_t i = 0; i < a->u.list.len && i < b->u.list.len; i++) {
            int c =
                weir_value_compare(&a->u.list.items[i], &b->u.list.items[i]);
            if (c != 0) {
                return c;
            }
        }
        return a->u.list.len < b->u.list.len
                   ? -1
                   : (a->u.list.len > b->u.list.len ? 1 : 0);
    case WEIR_TYPE_JSON:
        for (size_t i = 0; i < a->u.obj.len && i < b->u.obj.len; i++) {
            const weir_member *x = &a->u.obj.members[i];
            const weir_member *y = &b->u.obj.members[i];
            int c = cmp_bytes(x->name, x->name_len, y->name, y->name_len);
            if (c == 0) {
                c = weir_value_compare(&x->value, &y->value);
            }
            if (c != 0) {
                return c;
            }
        }
        return a->u.obj.len < b->u.obj.len
                   ? -1
                   : (a->u.obj.len > b->u.obj.len ? 1 : 0);
    default:
        return 0;
    }
}

bool
weir_value_equal(const weir_value *a, const weir_value *b)
{
    bool a_str = a->type == WEIR_TYPE_STRING || a->type == WEIR_TYPE_BYTES;
    bool b_str = b->type == WEIR_TYPE_STRING || b->type == WEIR_TYPE_BYTES;
    bool related = a->type == b->type || (a_str && b_str) ||
                   (is_number(a->type) && is_number(b->type));
    return related && weir_value_compare(a, b) == 0;
}

bool
weir_value_is_kafka_null(const weir_value *v)
{
    return v->type == WEIR_TYPE_NULL;
}

/* ------------------------------------------------------------ arena */

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

/* ------------------------------------------------------------ buffers */

void
weir_buf_init(weir_buf *buf)
{
    memset(buf, 0, sizeof(*buf));
}

void
weir_buf_fini(weir_buf *buf)
{
    if (buf == NULL) {
        return;
    }
    free(buf->data);
    memset(buf, 0, sizeof(*buf));
}

void
weir_buf_clear(weir_buf *buf)
{
    buf->len = 0;
}

static int
buf_reserve(weir_buf *buf, size_t extra)
{
    if (buf->cap - buf->len > extra) {
        return WEIR_OK;
    }
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap - buf->len <= extra) {
        if (cap > SIZE_MAX / 2) {
            return WEIR_ENOMEM;
        }
        cap *= 2;
    }
    char *data = realloc(buf->data, cap);
    if (data == NULL) {
        return WEIR_ENOMEM;
    }
    buf->data = data;
    buf->cap = cap;
    return WEIR_OK;
}

int
weir_buf_append(weir_buf *buf, const void *data, size_t len)
{
    int rv = buf_reserve(buf, len);
    if (rv != WEIR_OK) {
        return rv;
    }
    if (len) {
        memcpy(buf->data + buf->len, data, len);
    }
    buf->len += len;
    buf->data[buf->len] = '\0';
    return WEIR_OK;
}

int
weir_buf_printf(weir_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return WEIR_EINVAL;
    }
    int rv = buf_reserve(buf, (size_t)n);
    if (rv != WEIR_OK) {
        return rv;
    }
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
    return WEIR_OK;
}
