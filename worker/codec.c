#include "codec.h"

#include <string.h>

#include "common/err.h"

void
weir_codec_put_be64(void *p, uint64_t v)
{
    unsigned char *b = p;
    for (int i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

uint64_t
weir_codec_get_be64(const void *p)
{
    const unsigned char *b = p;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | b[i];
    return v;
}

void
weir_codec_put_time(void *p, int64_t ms)
{
    weir_codec_put_be64(p, (uint64_t)ms ^ (UINT64_C(1) << 63));
}

int64_t
weir_codec_get_time(const void *p)
{
    return (int64_t)(weir_codec_get_be64(p) ^ (UINT64_C(1) << 63));
}

void
weir_codec_put_be32(void *p, uint32_t v)
{
    unsigned char *b = p;
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (24 - 8 * i));
}

uint32_t
weir_codec_get_be32(const void *p)
{
    const unsigned char *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
           b[3];
}

static int
tagged64(weir_buf *buf, char tag, uint64_t v)
{
    char b[9];
    b[0] = tag;
    weir_codec_put_be64(b + 1, v);
    return weir_buf_append(buf, b, sizeof(b));
}

int
weir_codec_encode(const weir_value *v, weir_buf *buf)
{
    char tag;
    switch (v->type) {
    case WEIR_TYPE_NULL:
    case WEIR_TYPE_ANY:
        return weir_buf_append(buf, "n", 1);
    case WEIR_TYPE_BOOL: {
        char b[2] = {'b', v->u.b ? 1 : 0};
        return weir_buf_append(buf, b, 2);
    }
    case WEIR_TYPE_INT:
        return tagged64(buf, 'i', (uint64_t)v->u.i);
    case WEIR_TYPE_TIME:
        return tagged64(buf, 't', (uint64_t)v->u.i);
    case WEIR_TYPE_FLOAT: {
        uint64_t bits;
        memcpy(&bits, &v->u.f, 8);
        return tagged64(buf, 'f', bits);
    }
    case WEIR_TYPE_STRING:
    case WEIR_TYPE_BYTES:
        tag = v->type == WEIR_TYPE_STRING ? 's' : 'y';
        if (weir_buf_append(buf, &tag, 1) != WEIR_OK)
            return WEIR_ENOMEM;
        return weir_buf_append(buf, v->u.s.ptr, v->u.s.len);
    case WEIR_TYPE_LIST:
    case WEIR_TYPE_JSON:
        tag = v->type == WEIR_TYPE_LIST ? 'l' : 'j';
        if (weir_buf_append(buf, &tag, 1) != WEIR_OK)
            return WEIR_ENOMEM;
        return weir_value_to_json(v, buf);
    }
    return WEIR_EINVAL;
}

int
weir_codec_decode(
    const void *data, size_t len, weir_arena *arena, weir_value *out)
{
    const char *p = data;
    if (len < 1)
        return WEIR_ECORRUPT;
    switch (p[0]) {
    case 'n':
        *out = weir_value_null();
        return len == 1 ? WEIR_OK : WEIR_ECORRUPT;
    case 'b':
        if (len != 2)
            return WEIR_ECORRUPT;
        *out = weir_value_bool(p[1] != 0);
        return WEIR_OK;
    case 'i':
    case 't':
    case 'f': {
        if (len != 9)
            return WEIR_ECORRUPT;
        uint64_t u = weir_codec_get_be64(p + 1);
        if (p[0] == 'i') {
            *out = weir_value_int((int64_t)u);
        } else if (p[0] == 't') {
            *out = weir_value_time((int64_t)u);
        } else {
            double f;
            memcpy(&f, &u, 8);
            *out = weir_value_float(f);
        }
        return WEIR_OK;
    }
    case 's':
        *out = weir_value_string(p + 1, len - 1);
        return WEIR_OK;
    case 'y':
        *out = weir_value_bytes(p + 1, len - 1);
        return WEIR_OK;
    case 'l':
    case 'j': {
        char err[64];
        int rv = weir_json_parse(p + 1, len - 1, arena, out, err, sizeof(err));
        if (rv == WEIR_ENOMEM)
            return rv;
        if (rv != WEIR_OK ||
            out->type != (p[0] == 'l' ? WEIR_TYPE_LIST : WEIR_TYPE_JSON))
            return WEIR_ECORRUPT;
        return WEIR_OK;
    }
    default:
        return WEIR_ECORRUPT;
    }
}
