/* JSON string literals: see json_str.h. */
#include "common/json_str.h"

#include <stdint.h>
#include <string.h>

#include "common/err.h"

/* Length of the valid UTF-8 sequence at s (2..4 bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp, min;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1fu;
        min = 0x80;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0fu;
        min = 0x800;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07u;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[k] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return len;
}

int
weir_json_str_write(const char *s, size_t n, weir_json_put_fn put, void *ctx)
{
    static const char hex[] = "0123456789abcdef";
    int rv = put(ctx, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n && rv == WEIR_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t elen = 0;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            elen = 2;
        } else if (c == '\n') {
            memcpy(esc, "\\n", 2);
            elen = 2;
        } else if (c == '\t') {
            memcpy(esc, "\\t", 2);
            elen = 2;
        } else if (c == '\r') {
            memcpy(esc, "\\r", 2);
            elen = 2;
        } else if (c >= 0x80) {
            size_t ulen = utf8_len((const unsigned char *)s + i, n - i);
            if (ulen > 0) {
                i += ulen - 1; /* valid UTF-8 goes out as it is */
                continue;
            }
        }
        if (elen == 0 && (c < 0x20 || c >= 0x80)) {
            /* Control bytes, and bytes that are not UTF-8 (read as
             * Latin-1), so that the text is always valid JSON. */
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        if (elen == 0) {
            continue;
        }
        rv = put(ctx, s + run, i - run);
        if (rv == WEIR_OK) {
            rv = put(ctx, esc, elen);
        }
        run = i + 1;
    }
    if (rv == WEIR_OK) {
        rv = put(ctx, s + run, n - run);
    }
    if (rv == WEIR_OK) {
        rv = put(ctx, "\"", 1);
    }
    return rv;
}

static int
buf_put(void *buf, const void *p, size_t n)
{
    return weir_buf_append(buf, p, n);
}

int
weir_json_str_append(weir_buf *buf, const char *s, size_t n)
{
    return weir_json_str_write(s, n, buf_put, buf);
}
