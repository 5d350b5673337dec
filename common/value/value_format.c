/* Topic formats: decoding record keys and values, encoding outputs. */
#include "common/value/value.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"

static int
fail(char *err, size_t errlen, int rv, const char *fmt, const char *a,
    const char *b)
{
    if (err != NULL && errlen > 0) {
        snprintf(err, errlen, fmt, a, b);
    }
    return rv;
}

static bool
json_fits(weir_type want, weir_value *v)
{
    if (v->type == WEIR_TYPE_NULL || want == WEIR_TYPE_ANY ||
        want == WEIR_TYPE_JSON) {
        return true;
    }
    if (want == WEIR_TYPE_FLOAT && v->type == WEIR_TYPE_INT) {
        *v = weir_value_float((double)v->u.i);
        return true;
    }
    if (want == WEIR_TYPE_TIME && v->type == WEIR_TYPE_INT) {
        v->type = WEIR_TYPE_TIME;
        return true;
    }
    return v->type == want;
}

int
weir_value_decode(weir_format fmt, weir_type type, const void *data, size_t len,
    weir_arena *arena, weir_value *out, char *err, size_t errlen)
{
    if (data == NULL) {
        *out = weir_value_null();
        return WEIR_OK;
    }
    switch (fmt) {
    case WEIR__TOPOLOGY__FORMAT__FORMAT_STRING:
        *out = weir_value_string(data, len);
        return WEIR_OK;
    case WEIR__TOPOLOGY__FORMAT__FORMAT_BYTES:
        *out = weir_value_bytes(data, len);
        return WEIR_OK;
    case WEIR__TOPOLOGY__FORMAT__FORMAT_INT64: {
        if (len != 8) {
            return fail(err, errlen, WEIR_EPARSE, "int64: expected 8 bytes%s%s",
                "", "");
        }
        const unsigned char *p = data;
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) {
            u = (u << 8) | p[i];
        }
        *out = weir_value_int((int64_t)u);
        if (type == WEIR_TYPE_TIME) {
            out->type = WEIR_TYPE_TIME;
        }
        return WEIR_OK;
    }
    case WEIR__TOPOLOGY__FORMAT__FORMAT_JSON: {
        int rv = weir_json_parse(data, len, arena, out, err, errlen);
        if (rv != WEIR_OK) {
            return rv;
        }
        if (!json_fits(type, out)) {
            return fail(err, errlen, WEIR_EPARSE,
                "json: expected a %s, got a %s", weir_type_name(type),
                weir_type_name(out->type));
        }
        return WEIR_OK;
    }
    default:
        return fail(err, errlen, WEIR_EINVAL, "unknown format%s%s", "", "");
    }
}

static int
encode_text(const weir_value *v, weir_buf *buf)
{
    char num[64];
    switch (v->type) {
    case WEIR_TYPE_ANY:
    case WEIR_TYPE_NULL:
        return WEIR_OK;
    case WEIR_TYPE_STRING:
    case WEIR_TYPE_BYTES:
        return weir_buf_append(buf, v->u.s.ptr, v->u.s.len);
    case WEIR_TYPE_FLOAT:
        weir_float_format(v->u.f, num, sizeof(num));
        return weir_buf_append(buf, num, strlen(num));
    default:
        return weir_value_to_json(v, buf);
    }
}

int
weir_value_encode(const weir_value *v, weir_format fmt, weir_buf *buf,
    char *err, size_t errlen)
{
    switch (fmt) {
    case WEIR__TOPOLOGY__FORMAT__FORMAT_STRING:
    case WEIR__TOPOLOGY__FORMAT__FORMAT_BYTES:
        return encode_text(v, buf);
    case WEIR__TOPOLOGY__FORMAT__FORMAT_INT64: {
        int64_t i;
        if (v->type == WEIR_TYPE_NULL) {
            return WEIR_OK;
        } else if (v->type == WEIR_TYPE_INT || v->type == WEIR_TYPE_TIME) {
            i = v->u.i;
        } else if (v->type == WEIR_TYPE_FLOAT && v->u.f >= -9.2e18 &&
                   v->u.f <= 9.2e18 && (double)(int64_t)v->u.f == v->u.f) {
            i = (int64_t)v->u.f;
        } else {
            return fail(err, errlen, WEIR_EINVAL,
                "cannot encode a %s as int64%s", weir_type_name(v->type), "");
        }
        unsigned char b[8];
        uint64_t u = (uint64_t)i;
        for (int k = 7; k >= 0; k--) {
            b[k] = (unsigned char)(u & 0xff);
            u >>= 8;
        }
        return weir_buf_append(buf, b, sizeof(b));
    }
    case WEIR__TOPOLOGY__FORMAT__FORMAT_JSON:
        return weir_value_to_json(v, buf);
    default:
        return fail(err, errlen, WEIR_EINVAL, "unknown format%s%s", "", "");
    }
}
