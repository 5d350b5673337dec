/*
 * Kafka protocol primitives: the one reader and the one writer every API
 * handler uses. Flexible versions (KIP-482: compact strings and arrays as
 * unsigned varints of length + 1, tagged fields) are a bool argument, so a
 * handler is written once for all versions of its API.
 *
 * The reader is bounds-checked with a sticky error: after the first short
 * or invalid read every later read returns zero/empty and weir_kr_ok()
 * turns false; the caller checks once at the end. The writer grows its
 * buffer; on allocation failure it turns sticky-failed the same way.
 * Single-threaded objects.
 */
#ifndef WEIR_BROKER_KCODEC_H
#define WEIR_BROKER_KCODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct weir_kr {
    const uint8_t *pos, *end;
    bool err;
} weir_kr;

/* A string or bytes view into the request buffer; len -1 = null. */
typedef struct weir_kstr {
    const char *ptr;
    int32_t len;
} weir_kstr;

void weir_kr_init(weir_kr *r, const void *buf, size_t len);
static inline bool
weir_kr_ok(const weir_kr *r)
{
    return !r->err;
}
size_t weir_kr_remaining(const weir_kr *r);
int8_t weir_kr_i8(weir_kr *r);
int16_t weir_kr_i16(weir_kr *r);
int32_t weir_kr_i32(weir_kr *r);
int64_t weir_kr_i64(weir_kr *r);
bool weir_kr_bool(weir_kr *r);
uint32_t weir_kr_uvarint(weir_kr *r);
int32_t weir_kr_varint(weir_kr *r);
/* String: int16 length (compact: uvarint length+1). nullable allows -1. */
weir_kstr weir_kr_str(weir_kr *r, bool flex, bool nullable);
/* Bytes: int32 length (compact: uvarint length+1). */
weir_kstr weir_kr_bytes(weir_kr *r, bool flex, bool nullable);
/*
 * Array element count: int32 (compact: uvarint n+1); -1 = null (only when
 * nullable). A count larger than the bytes left (each element takes at
 * least min_elem_bytes) is an error, so callers may allocate n elements.
 */
int32_t weir_kr_array(
    weir_kr *r, bool flex, bool nullable, size_t min_elem_bytes);
/* Skips a tagged-field section when flex (no-op otherwise). */
void weir_kr_tags(weir_kr *r, bool flex);
void weir_kr_skip(weir_kr *r, size_t n);

/* Copies a string view into a malloc'd NUL-terminated string; NULL on
 * null or allocation failure. */
char *weir_kstr_dup(weir_kstr s);
bool weir_kstr_eq(weir_kstr s, const char *cstr);

/* A buffer, or a range of an open file (data NULL, fd >= 0), spliced into
 * the output at buf position `at` (zero-copy). */
typedef struct weir_kw_att {
    size_t at;
    uint8_t *data;
    size_t len;
    int fd;
    uint64_t off;
} weir_kw_att;

typedef struct weir_kw {
    uint8_t *buf;
    size_t len, cap;
    bool err;
    weir_kw_att *atts; /* in position order; owned */
    size_t n_atts, cap_atts;
    size_t att_bytes;
} weir_kw;

void weir_kw_init(weir_kw *w);
/* Frees the buffer and the attachments (closing attached files). */
void weir_kw_fini(weir_kw *w);
/*
 * Splices len bytes of data (malloc'd; ownership moves to the writer, also
 * on failure) into the output at the current position without copying.
 */
void weir_kw_attach(weir_kw *w, uint8_t *data, size_t len);
/*
 * Splices len bytes of file fd from position off (read when the output is
 * sent, e.g. with sendfile). fd is owned by the writer from now on, also on
 * failure (closed by weir_kw_fini).
 */
void weir_kw_attach_file(weir_kw *w, int fd, uint64_t off, size_t len);
/* Bytes of the whole output: buffer plus attachments. */
static inline size_t
weir_kw_total(const weir_kw *w)
{
    return w->len + w->att_bytes;
}
/* Ensures room for n more bytes; returns false (sticky) on ENOMEM. */
bool weir_kw_reserve(weir_kw *w, size_t n);
void weir_kw_raw(weir_kw *w, const void *p, size_t n);
void weir_kw_i8(weir_kw *w, int8_t v);
void weir_kw_i16(weir_kw *w, int16_t v);
void weir_kw_i32(weir_kw *w, int32_t v);
void weir_kw_i64(weir_kw *w, int64_t v);
void weir_kw_bool(weir_kw *w, bool v);
void weir_kw_uvarint(weir_kw *w, uint32_t v);
/* s NULL writes a null string. */
void weir_kw_str(weir_kw *w, bool flex, const char *s);
void weir_kw_strn(weir_kw *w, bool flex, const char *s, int32_t len);
void weir_kw_bytes(weir_kw *w, bool flex, const void *p, int32_t len);
/* n -1 writes a null array. */
void weir_kw_array(weir_kw *w, bool flex, int32_t n);
/* An empty tagged-field section when flex. */
void weir_kw_tags(weir_kw *w, bool flex);
/* Reserves 4 bytes for a later big-endian int32; returns its position. */
size_t weir_kw_placeholder(weir_kw *w);
void weir_kw_patch_i32(weir_kw *w, size_t pos, int32_t v);

#endif
