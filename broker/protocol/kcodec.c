#include "broker/protocol/kcodec.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/array.h"
#include "common/err.h"

void
weir_kr_init(weir_kr *r, const void *buf, size_t len)
{
    r->pos = buf;
    r->end = r->pos + len;
    r->err = false;
}

size_t
weir_kr_remaining(const weir_kr *r)
{
    return r->err ? 0 : (size_t)(r->end - r->pos);
}

static const uint8_t *
take(weir_kr *r, size_t n)
{
    if (r->err || (size_t)(r->end - r->pos) < n) {
        r->err = true;
        return NULL;
    }
    const uint8_t *p = r->pos;
    r->pos += n;
    return p;
}

static uint64_t
be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

int8_t
weir_kr_i8(weir_kr *r)
{
    const uint8_t *p = take(r, 1);
    return p ? (int8_t)p[0] : 0;
}

int16_t
weir_kr_i16(weir_kr *r)
{
    const uint8_t *p = take(r, 2);
    return p ? (int16_t)(uint16_t)be(p, 2) : 0;
}

int32_t
weir_kr_i32(weir_kr *r)
{
    const uint8_t *p = take(r, 4);
    return p ? (int32_t)(uint32_t)be(p, 4) : 0;
}

int64_t
weir_kr_i64(weir_kr *r)
{
    const uint8_t *p = take(r, 8);
    return p ? (int64_t)be(p, 8) : 0;
}

bool
weir_kr_bool(weir_kr *r)
{
    const uint8_t *p = take(r, 1);
    return p ? p[0] != 0 : false;
}

uint32_t
weir_kr_uvarint(weir_kr *r)
{
    uint32_t v = 0;
    for (int shift = 0; shift <= 28; shift += 7) {
        const uint8_t *p = take(r, 1);
        if (!p)
            return 0;
        if (shift == 28 && (*p & 0xf0) != 0)
            break;
        v |= (uint32_t)(*p & 0x7f) << shift;
        if ((*p & 0x80) == 0)
            return v;
    }
    r->err = true;
    return 0;
}

int32_t
weir_kr_varint(weir_kr *r)
{
    uint32_t u = weir_kr_uvarint(r);
    return (int32_t)((u >> 1) ^ (~(u & 1) + 1));
}

static weir_kstr
view(weir_kr *r, int64_t len, bool nullable)
{
    weir_kstr s = {NULL, -1};
    if (r->err)
        return s;
    if (len < 0) {
        if (len != -1 || !nullable)
            r->err = true;
        return s;
    }
    const uint8_t *p = take(r, (size_t)len);
    if (p) {
        s.ptr = (const char *)p;
        s.len = (int32_t)len;
    }
    return s;
}

weir_kstr
weir_kr_str(weir_kr *r, bool flex, bool nullable)
{
    int64_t len = flex ? (int64_t)weir_kr_uvarint(r) - 1 : weir_kr_i16(r);
    return view(r, len, nullable);
}

weir_kstr
weir_kr_bytes(weir_kr *r, bool flex, bool nullable)
{
    int64_t len = flex ? (int64_t)weir_kr_uvarint(r) - 1 : weir_kr_i32(r);
    return view(r, len, nullable);
}

int32_t
weir_kr_array(weir_kr *r, bool flex, bool nullable, size_t min_elem_bytes)
{
    int64_t n = flex ? (int64_t)weir_kr_uvarint(r) - 1 : weir_kr_i32(r);
    if (r->err)
        return 0;
    if (n < 0) {
        if (n != -1 || !nullable)
            r->err = true;
        return r->err ? 0 : -1;
    }
    if (min_elem_bytes == 0)
        min_elem_bytes = 1;
    if ((uint64_t)n > (size_t)(r->end - r->pos) / min_elem_bytes) {
        r->err = true;
        return 0;
    }
    return (int32_t)n;
}

void
weir_kr_tags(weir_kr *r, bool flex)
{
    if (!flex)
        return;
    uint32_t n = weir_kr_uvarint(r);
    for (uint32_t i = 0; i < n && !r->err; i++) {
        (void)weir_kr_uvarint(r); /* tag */
        uint32_t size = weir_kr_uvarint(r);
        (void)take(r, size);
    }
}

void
weir_kr_skip(weir_kr *r, size_t n)
{
    (void)take(r, n);
}

char *
weir_kstr_dup(weir_kstr s)
{
    if (s.len < 0)
        return NULL;
    char *c = malloc((size_t)s.len + 1);
    if (!c)
        return NULL;
    memcpy(c, s.ptr, (size_t)s.len);
    c[s.len] = '\0';
    return c;
}

bool
weir_kstr_eq(weir_kstr s, const char *cstr)
{
    if (s.len < 0 || !cstr)
        return s.len < 0 && !cstr;
    return strlen(cstr) == (size_t)s.len &&
           memcmp(s.ptr, cstr, (size_t)s.len) == 0;
}

/* ------------------------------------------------------------ writer */

void
weir_kw_init(weir_kw *w)
{
    memset(w, 0, sizeof(*w));
}

void
weir_kw_fini(weir_kw *w)
{
    if (w) {
        for (size_t i = 0; i < w->n_atts; i++) {
            free(w->atts[i].data);
            if (w->atts[i].data == NULL && w->atts[i].fd >= 0)
                close(w->atts[i].fd);
        }
        free(w->atts);
        free(w->buf);
        memset(w, 0, sizeof(*w));
    }
}

/* Room for one more attachment; false (sticky error) when out of memory. */
static bool
att_room(weir_kw *w)
{
    if (weir_array_reserve(&w->atts, &w->cap_atts, w->n_atts + 1,
            sizeof(*w->atts)) != WEIR_OK) {
        w->err = true;
        return false;
    }
    return true;
}

void
weir_kw_attach(weir_kw *w, uint8_t *data, size_t len)
{
    if (len == 0 || w->err || !att_room(w)) {
        free(data);
        return;
    }
    w->atts[w->n_atts++] = (weir_kw_att){w->len, data, len, -1, 0};
    w->att_bytes += len;
}

void
weir_kw_attach_file(weir_kw *w, int fd, uint64_t off, size_t len)
{
    if (len == 0 || w->err || !att_room(w)) {
        close(fd);
        return;
    }
    w->atts[w->n_atts++] = (weir_kw_att){w->len, NULL, len, fd, off};
    w->att_bytes += len;
}

bool
weir_kw_reserve(weir_kw *w, size_t n)
{
    if (w->err)
        return false;
    if (w->cap - w->len >= n)
        return true;
    size_t cap = w->cap ? w->cap : 256;
    while (cap - w->len < n) {
        if (cap > SIZE_MAX / 2) {
            w->err = true;
            return false;
        }
        cap *= 2;
    }
    uint8_t *b = realloc(w->buf, cap);
    if (!b) {
        w->err = true;
        return false;
    }
    w->buf = b;
    w->cap = cap;
    return true;
}

void
weir_kw_raw(weir_kw *w, const void *p, size_t n)
{
    if (n == 0 || !weir_kw_reserve(w, n))
        return;
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void
put_be(weir_kw *w, uint64_t v, size_t n)
{
    if (!weir_kw_reserve(w, n))
        return;
    for (size_t i = 0; i < n; i++)
        w->buf[w->len + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    w->len += n;
}

void
weir_kw_i8(weir_kw *w, int8_t v)
{
    put_be(w, (uint8_t)v, 1);
}

void
weir_kw_i16(weir_kw *w, int16_t v)
{
    put_be(w, (uint16_t)v, 2);
}

void
weir_kw_i32(weir_kw *w, int32_t v)
{
    put_be(w, (uint32_t)v, 4);
}

void
weir_kw_i64(weir_kw *w, int64_t v)
{
    put_be(w, (uint64_t)v, 8);
}

void
weir_kw_bool(weir_kw *w, bool v)
{
    put_be(w, v ? 1 : 0, 1);
}

void
weir_kw_uvarint(weir_kw *w, uint32_t v)
{
    uint8_t tmp[5];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    weir_kw_raw(w, tmp, n);
}

static void
put_len(weir_kw *w, bool flex, int32_t len, bool wide)
{
    if (flex)
        weir_kw_uvarint(w, (uint32_t)(len + 1));
    else if (wide)
        weir_kw_i32(w, len);
    else
        weir_kw_i16(w, (int16_t)len);
}

void
weir_kw_strn(weir_kw *w, bool flex, const char *s, int32_t len)
{
    if (!s)
        len = -1;
    put_len(w, flex, len, false);
    if (len > 0)
        weir_kw_raw(w, s, (size_t)len);
}

void
weir_kw_str(weir_kw *w, bool flex, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    weir_kw_strn(w, flex, s, s ? (int32_t)(n > 32767 ? 32767 : n) : -1);
}

void
weir_kw_bytes(weir_kw *w, bool flex, const void *p, int32_t len)
{
    if (!p && len > 0)
        len = -1;
    put_len(w, flex, len, true);
    if (len > 0)
        weir_kw_raw(w, p, (size_t)len);
}

void
weir_kw_array(weir_kw *w, bool flex, int32_t n)
{
    put_len(w, flex, n, true);
}

void
weir_kw_tags(weir_kw *w, bool flex)
{
    if (flex)
        weir_kw_uvarint(w, 0);
}

size_t
weir_kw_placeholder(weir_kw *w)
{
    size_t pos = w->len;
    weir_kw_i32(w, 0);
    return pos;
}

void
weir_kw_patch_i32(weir_kw *w, size_t pos, int32_t v)
{
    if (w->err || pos + 4 > w->len)
        return;
    uint32_t u = (uint32_t)v;
    w->buf[pos] = (uint8_t)(u >> 24);
    w->buf[pos + 1] = (uint8_t)(u >> 16);
    w->buf[pos + 2] = (uint8_t)(u >> 8);
    w->buf[pos + 3] = (uint8_t)u;
}
