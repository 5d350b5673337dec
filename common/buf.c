/* A growable byte buffer: see buf.h. */
#include "common/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

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
    buf->failed = false;
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
            buf->failed = true;
            return WEIR_ENOMEM;
        }
        cap *= 2;
    }
    char *data = realloc(buf->data, cap);
    if (data == NULL) {
        buf->failed = true;
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
weir_buf_vprintf(weir_buf *buf, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        buf->failed = true;
        return WEIR_EINVAL;
    }
    int rv = buf_reserve(buf, (size_t)n);
    if (rv != WEIR_OK) {
        return rv;
    }
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    buf->len += (size_t)n;
    return WEIR_OK;
}

int
weir_buf_printf(weir_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rv = weir_buf_vprintf(buf, fmt, ap);
    va_end(ap);
    return rv;
}
