/*
 * Growing arrays: the one place an array's capacity grows. `items` is the
 * address of the array pointer (T **), passed as void * so any T fits.
 */
#ifndef WEIR_ARRAY_H
#define WEIR_ARRAY_H

#include <stddef.h>

/*
 * Makes room for at least `need` elements of elem_size bytes; *cap is the
 * capacity in elements and at least doubles (8 at first). WEIR_ENOMEM
 * (also on overflow) leaves the array and *cap as they were.
 */
int weir_array_reserve(void *items, size_t *cap, size_t need, size_t elem_size);

/*
 * Appends a copy of *elem to an array whose capacity is its length *n, as
 * protobuf-c's repeated fields are; *n grows by one. WEIR_ENOMEM leaves
 * both as they were.
 */
int weir_array_append(
    void *items, size_t *n, const void *elem, size_t elem_size);

#endif
