/* JSON text to values (in an arena) and values to JSON text. */
#include "common/value/value.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/json_str.h"

#define JSON_MAX_DEPTH 64

typedef struct jparser {
    const char *p;
    const char *start;
    const char *end;
    weir_arena *arena;
    char *err;
    size_t errlen;
    int rv;
} jparser;

static int
jfail(jparser *jp, const char *what)
{
    if (jp->rv == WEIR_OK) {
        jp->rv = WEIR_EPARSE;
        if (jp->err != NULL && jp->errlen > 0) {
            snprintf(jp->err, jp->errlen, "json: %s at byte %zu", what,
                (size_t)(jp->p - jp->start));
        }
    }
    return jp->rv;
}

static int
jnomem(jparser *jp)
{
    if (jp->rv == WEIR_OK) {
        jp->rv = WEIR_ENOMEM;
        if (jp->err != NULL && jp->errlen > 0) {
            snprintf(jp->err, jp->errlen, "json: record too large");
        }
    }
    return jp->rv;
}

static void
skip_ws(jparser *jp)
{
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' ||
                                  *jp->p == '\n' || *jp->p == '\r')) {
        jp->p++;
    }
}

static int
hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (unsigned)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (unsigned)(c - 'A' + 10);
        } else {
            return -1;
        }
    }
    *out = v;
    return 0;
}

static size_t
utf8_put(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Parses a string at jp->p (on the opening quote). */
static int
parse_string(jparser *jp, const char **ptr, size_t *len)
{
    const char *s = ++jp->p;
    bool escaped = false;
    while (jp->p < jp->end && *jp->p != '"') {
        if ((unsigned char)*jp->p < 0x20) {
            return jfail(jp, "control character in string");
        }
        if (*jp->p == '\\') {
            escaped = true;
            jp->p++;
        }
        jp->p++;
    }
    if (jp->p >= jp->end) {
        return jfail(jp, "unterminated string");
    }
    const char *e = jp->p++;
    if (!escaped) {
        *ptr = s;
        *len = (size_t)(e - s);
        return WEIR_OK;
    }
    /* Unescaping never makes a string longer. */
    char *out = weir_arena_alloc(jp->arena, (size_t)(e - s) + 1);
    if (out == NULL) {
        return jnomem(jp);
    }
    size_t n = 0;
    for (const char *q = s; q < e; q++) {
        if (*q != '\\') {
            out[n++] = *q;
            continue;
        }
        q++;
        switch (*q) {
        case '"':
        case '\\':
        case '/':
            out[n++] = *q;
            break;
        case 'b':
            out[n++] = '\b';
            break;
        case 'f':
            out[n++] = '\f';
            break;
        case 'n':
            out[n++] = '\n';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case 't':
            out[n++] = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            if (e - q < 5 || hex4(q + 1, &cp) != 0) {
                jp->p = q;
                return jfail(jp, "bad \\u escape");
            }
            q += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && e - q >= 7 && q[1] == '\\' &&
                q[2] == 'u' && hex4(q + 3, &lo) == 0 && lo >= 0xdc00 &&
                lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                q += 6;
            }
            n += utf8_put(out + n, cp);
            break;
        }
        default:
            jp->p = q;
            return jfail(jp, "bad escape in string");
        }
    }
    out[n] = '\0';
    *ptr = out;
    *len = n;
    return WEIR_OK;
}

static int
parse_number(jparser *jp, weir_value *out)
{
    const char *s = jp->p;
    bool is_float = false;
    if (jp->p < jp->end && *jp->p == '-') {
        jp->p++;
    }
    if (jp->p >= jp->end || *jp->p < '0' || *jp->p > '9') {
        return jfail(jp, "bad number");
    }
    while (jp->p < jp->end) {
        char c = *jp->p;
        if (c >= '0' && c <= '9') {
            jp->p++;
        } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
            is_float = true;
            jp->p++;
        } else {
            break;
        }
    }
    char tmp[128];
    size_t n = (size_t)(jp->p - s);
    if (n >= sizeof(tmp)) {
        return jfail(jp, "number too long");
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *endp;
    if (!is_float) {
        errno = 0;
        long long v = strtoll(tmp, &endp, 10);
        if (errno == 0 && *endp == '\0') {
            *out = weir_value_int(v);
            return WEIR_OK;
        }
    }
    double d = strtod(tmp, &endp);
    if (*endp != '\0') {
        return jfail(jp, "bad number");
    }
    *out = weir_value_float(d);
    return WEIR_OK;
}

static int parse_value(jparser *jp, weir_value *out, int depth);

/* Grows an arena array by doubling (the old copy is left in the arena). */
static void *
grow(jparser *jp, void *old, size_t *cap, size_t len, size_t elem)
{
    if (len < *cap) {
        return old;
    }
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = weir_arena_alloc(jp->arena, ncap * elem);
    if (p == NULL) {
        jnomem(jp);
        return NULL;
    }
    if (len) {
        memcpy(p, old, len * elem);
    }
    *cap = ncap;
    return p;
}

static int
parse_array(jparser *jp, weir_value *out, int depth)
{
    weir_value *items = NULL;
    size_t len = 0, cap = 0;
    jp->p++;
    skip_ws(jp);
    if (jp->p < jp->end && *jp->p == ']') {
        jp->p++;
    } else {
        for (;;) {
            weir_value v;
            if (parse_value(jp, &v, depth + 1) != WEIR_OK) {
                return jp->rv;
            }
            if ((items = grow(jp, items, &cap, len, sizeof(*items))) == NULL) {
                return jp->rv;
            }
            items[len++] = v;
            skip_ws(jp);
            if (jp->p < jp->end && *jp->p == ',') {
                jp->p++;
                continue;
            }
            if (jp->p < jp->end && *jp->p == ']') {
                jp->p++;
                break;
            }
            return jfail(jp, "expected ',' or ']'");
        }
    }
    out->type = WEIR_TYPE_LIST;
    out->u.list.items = items;
    out->u.list.len = len;
    return WEIR_OK;
}

static int
parse_object(jparser *jp, weir_value *out, int depth)
{
    weir_member *members = NULL;
    size_t len = 0, cap = 0;
    jp->p++;
    skip_ws(jp);
    if (jp->p < jp->end && *jp->p == '}') {
        jp->p++;
    } else {
        for (;;) {
            weir_member m;
            skip_ws(jp);
            if (jp->p >= jp->end || *jp->p != '"') {
                return jfail(jp, "expected a member name");
            }
            if (parse_string(jp, &m.name, &m.name_len) != WEIR_OK) {
                return jp->rv;
            }
            skip_ws(jp);
            if (jp->p >= jp->end || *jp->p != ':') {
                return jfail(jp, "expected ':'");
            }
            jp->p++;
            if (parse_value(jp, &m.value, depth + 1) != WEIR_OK) {
                return jp->rv;
            }
            members = grow(jp, members, &cap, len, sizeof(*members));
            if (members == NULL) {
                return jp->rv;
            }
            members[len++] = m;
            skip_ws(jp);
            if (jp->p < jp->end && *jp->p == ',') {
                jp->p++;
                continue;
            }
            if (jp->p < jp->end && *jp->p == '}') {
                jp->p++;
                break;
            }
            return jfail(jp, "expected ',' or '}'");
        }
    }
    out->type = WEIR_TYPE_JSON;
    out->u.obj.members = members;
    out->u.obj.len = len;
    return WEIR_OK;
}

static bool
match_word(jparser *jp, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(jp->end - jp->p) >= n && memcmp(jp->p, word, n) == 0) {
        jp->p += n;
        return true;
    }
    return false;
}

static int
parse_value(jparser *jp, weir_value *out, int depth)
{
    if (depth > JSON_MAX_DEPTH) {
        return jfail(jp, "nested too deeply");
    }
    skip_ws(jp);
    if (jp->p >= jp->end) {
        return jfail(jp, "unexpected end");
    }
    switch (*jp->p) {
    case '{':
        return parse_object(jp, out, depth);
    case '[':
        return parse_array(jp, out, depth);
    case '"': {
        const char *s;
        size_t n;
        if (parse_string(jp, &s, &n) != WEIR_OK) {
            return jp->rv;
        }
        *out = weir_value_string(s, n);
        return WEIR_OK;
    }
    default:
        break;
    }
    if (match_word(jp, "true")) {
        *out = weir_value_bool(true);
    } else if (match_word(jp, "false")) {
        *out = weir_value_bool(false);
    } else if (match_word(jp, "null")) {
        *out = weir_value_null();
    } else {
        return parse_number(jp, out);
    }
    return WEIR_OK;
}

int
weir_json_parse(const char *text, size_t len, weir_arena *arena,
    weir_value *out, char *err, size_t errlen)
{
    jparser jp = {.p = text,
        .start = text,
        .end = text + len,
        .arena = arena,
        .err = err,
        .errlen = errlen};
    if (parse_value(&jp, out, 0) != WEIR_OK) {
        return jp.rv;
    }
    skip_ws(&jp);
    if (jp.p != jp.end) {
        return jfail(&jp, "trailing characters");
    }
    return WEIR_OK;
}

/* ------------------------------------------------------------ encoding */

/* Where JSON text goes: a heap buffer, an arena block, or only counted. */
typedef struct jout {
    weir_buf *buf; /* append here if set */
    char *dst;     /* else write here if set */
    size_t len;    /* bytes produced so far */
} jout;

static int
out_put(jout *o, const void *p, size_t n)
{
    if (o->buf != NULL) {
        return weir_buf_append(o->buf, p, n);
    }
    if (o->dst != NULL && n > 0) {
        memcpy(o->dst + o->len, p, n);
    }
    o->len += n;
    return WEIR_OK;
}

static int
out_put_cb(void *o, const void *p, size_t n)
{
    return out_put(o, p, n);
}

static int
put_string(jout *o, const char *s, size_t n)
{
    return weir_json_str_write(s, n, out_put_cb, o);
}

/* Shortest of %.15g..%.17g that reads back as the same double. */
int
weir_float_format(double f, char *out, size_t outlen)
{
    if (isnan(f) || isinf(f)) {
        return snprintf(
            out, outlen, "%s", isnan(f) ? "nan" : (f > 0 ? "inf" : "-inf"));
    }
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, outlen, "%.*g", prec, f);
        if (strtod(out, NULL) == f) {
            break;
        }
    }
    /* Keep it recognisably a float: 2.0, not 2. */
    if (strpbrk(out, ".eEn") == NULL && (size_t)n + 2 < outlen) {
        memcpy(out + n, ".0", 3);
        n += 2;
    }
    return n;
}

static int
to_json(const weir_value *v, jout *o)
{
    char num[64];
    int rv = WEIR_OK;
    switch (v->type) {
    case WEIR_TYPE_ANY:
    case WEIR_TYPE_NULL:
        return out_put(o, "null", 4);
    case WEIR_TYPE_BOOL:
        return v->u.b ? out_put(o, "true", 4) : out_put(o, "false", 5);
    case WEIR_TYPE_INT:
    case WEIR_TYPE_TIME:
        return out_put(o, num,
            (size_t)snprintf(num, sizeof(num), "%lld", (long long)v->u.i));
    case WEIR_TYPE_FLOAT:
        if (isnan(v->u.f) || isinf(v->u.f)) {
            return out_put(o, "null", 4);
        }
        weir_float_format(v->u.f, num, sizeof(num));
        return out_put(o, num, strlen(num));
    case WEIR_TYPE_STRING:
    case WEIR_TYPE_BYTES:
        return put_string(o, v->u.s.ptr, v->u.s.len);
    case WEIR_TYPE_LIST:
        rv = out_put(o, "[", 1);
        for (size_t i = 0; i < v->u.list.len && rv == WEIR_OK; i++) {
            if (i > 0) {
                rv = out_put(o, ",", 1);
            }
            if (rv == WEIR_OK) {
                rv = to_json(&v->u.list.items[i], o);
            }
        }
        return rv == WEIR_OK ? out_put(o, "]", 1) : rv;
    case WEIR_TYPE_JSON:
        rv = out_put(o, "{", 1);
        for (size_t i = 0; i < v->u.obj.len && rv == WEIR_OK; i++) {
            const weir_member *m = &v->u.obj.members[i];
            if (i > 0) {
                rv = out_put(o, ",", 1);
            }
            if (rv == WEIR_OK) {
                rv = put_string(o, m->name, m->name_len);
            }
            if (rv == WEIR_OK) {
                rv = out_put(o, ":", 1);
            }
            if (rv == WEIR_OK) {
                rv = to_json(&m->value, o);
            }
        }
        return rv == WEIR_OK ? out_put(o, "}", 1) : rv;
    }
    return WEIR_EINVAL;
}

int
weir_value_to_json(const weir_value *v, weir_buf *buf)
{
    jout o = {.buf = buf};
    return to_json(v, &o);
}

int
weir_value_json_arena(
    const weir_value *v, weir_arena *arena, const char **ptr, size_t *len)
{
    jout count = {0};
    (void)to_json(v, &count); /* counting cannot fail */
    char *dst = weir_arena_alloc(arena, count.len + 1);
    if (dst == NULL) {
        return WEIR_ENOMEM;
    }
    jout w = {.dst = dst};
    (void)to_json(v, &w);
    dst[w.len] = '\0';
    *ptr = dst;
    *len = w.len;
    return WEIR_OK;
}
