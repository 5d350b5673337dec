/*
 * JSON string literals, the one escaper every JSON writer uses: quotes and
 * backslashes escaped, \n \t \r as such, other control bytes and bytes
 * that are not UTF-8 (read as Latin-1) as \u00XX, valid UTF-8 as it is, so
 * the text is always valid JSON.
 */
#ifndef WEIR_JSON_STR_H
#define WEIR_JSON_STR_H

#include <stddef.h>

#include "common/buf.h"

/* A sink for text; returns 0 or an error code that stops the writer. */
typedef int (*weir_json_put_fn)(void *ctx, const void *p, size_t n);

/* Writes s (n bytes) as a string literal, quotes included, in pieces to
 * put. Returns the first error put returned, else WEIR_OK. */
int weir_json_str_write(
    const char *s, size_t n, weir_json_put_fn put, void *ctx);

/* The same appended to buf. WEIR_ENOMEM. */
int weir_json_str_append(weir_buf *buf, const char *s, size_t n);

#endif
