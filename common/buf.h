/* A growable byte buffer. Belongs to one thread; nothing here locks. */
#ifndef WEIR_BUF_H
#define WEIR_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * A growable byte buffer (heap); reuse it across records. After an append
 * data[len] is a NUL (not counted), so text can be used as a C string.
 * A failed append also sets `failed` until the next clear, so a writer may
 * append many pieces and check once.
 */
typedef struct weir_buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
} weir_buf;

void weir_buf_init(weir_buf *buf);
void weir_buf_fini(weir_buf *buf); /* accepts NULL */
void weir_buf_clear(weir_buf *buf);
int weir_buf_append(weir_buf *buf, const void *data, size_t len);
int weir_buf_printf(weir_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int weir_buf_vprintf(weir_buf *buf, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
