/* Growing arrays: see array.h. */
#include "common/array.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/* Resizes the array *items points at; memcpy keeps any T ** type legal. */
static int
resize(void *items, size_t count, size_t elem_size)
{
    if (elem_size != 0 && count > SIZE_MAX / elem_size)
        return WEIR_ENOMEM;
    void *old;
    memcpy(&old, items, sizeof(old));
    size_t bytes = count * elem_size;
    void *p = realloc(old, bytes ? bytes : 1);
    if (p == NULL)
        return WEIR_ENOMEM;
    memcpy(items, &p, sizeof(p));
    return WEIR_OK;
}

int
weir_array_reserve(void *items, size_t *cap, size_t need, size_t elem_size)
{
    if (need <= *cap)
        return WEIR_OK;
    size_t next = *cap > SIZE_MAX / 2 ? SIZE_MAX : *cap * 2;
    if (next < 8)
        next = 8;
    if (next < need)
        next = need;
    int rv = resize(items, next, elem_size);
    if (rv == WEIR_OK)
        *cap = next;
    return rv;
}

int
weir_array_append(void *items, size_t *n, const void *elem, size_t elem_size)
{
    if (*n == SIZE_MAX)
        return WEIR_ENOMEM;
    int rv = resize(items, *n + 1, elem_size);
    if (rv != WEIR_OK)
        return rv;
    char *base;
    memcpy(&base, items, sizeof(base));
    memcpy(base + *n * elem_size, elem, elem_size);
    (*n)++;
    return WEIR_OK;
}
