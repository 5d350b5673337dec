/* Values, arenas and buffers: the small pieces everything else uses. */
#include "common/value/value.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

const char *
weir_type_name(weir_type type)
{
    switch (type) {
    case WEIR_TYPE_ANY:
        return "any";
    case WEIR_TYPE_NULL:
        return "null";
    case WEIR_TYPE_BOOL:
        return "bool";
    case WEIR_TYPE_INT:
        return "int";
    case WEIR_TYPE_FLOAT:
        return "float";
    case WEIR_TYPE_STRING:
        return "string";
    case WEIR_TYPE_BYTES:
        return "bytes";
    case WEIR_TYPE_LIST:
        return "list";
    case WEIR_TYPE_JSON:
        return "json";
    case WEIR_TYPE_TIME:
        return "time";
    }
    return "unknown";
}

static const struct {
    const char *name;
    weir_format fmt;
} formats[] = {
    {"string", WEIR__TOPOLOGY__FORMAT__FORMAT_STRING},
    {"bytes", WEIR__TOPOLOGY__FORMAT__FORMAT_BYTES},
    {"int64", WEIR__TOPOLOGY__FORMAT__FORMAT_INT64},
    {"json", WEIR__TOPOLOGY__FORMAT__FORMAT_JSON},
};

const char *
weir_format_name(weir_format fmt)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (formats[i].fmt == fmt) {
            return formats[i].name;
        }
    }
    return NULL;
}

int
weir_format_parse(const char *name, weir_format *fmt)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (strcmp(formats[i].name, name) == 0) {
            *fmt = formats[i].fmt;
            return WEIR_OK;
        }
    }
    return WEIR_EINVAL;
}

weir_value
weir_value_null(void)
{
    weir_value v = {.type = WEIR_TYPE_NULL};
    return v;
}

weir_value
weir_value_bool(bool b)
{
    weir_value v = {.type = WEIR_TYPE_BOOL, .u.b = b};
    return v;
}

weir_value
weir_value_int(int64_t i)
{
    weir_value v = {.type = WEIR_TYPE_INT, .u.i = i};
    return v;
}

weir_value
weir_value_float(double f)
{
    weir_value v = {.type = WEIR_TYPE_FLOAT, .u.f = f};
    return v;
}

weir_value
weir_value_time(int64_t ms)
{
    weir_value v = {.type = WEIR_TYPE_TIME, .u.i = ms};
    return v;
}

weir_value
weir_value_string(const char *ptr, size_t len)
{
    weir_value v = {.type = WEIR_TYPE_STRING};
    v.u.s.ptr = ptr;
    v.u.s.len = len;
    return v;
}

weir_value
weir_value_bytes(const void *ptr, size_t len)
{
    weir_value v = {.type = WEIR_TYPE_BYTES};
    v.u.s.ptr = ptr;
    v.u.s.len = len;
    return v;
}

static bool
is_number(weir_type t)
{
    return t == WEIR_TYPE_INT || t == WEIR_TYPE_FLOAT || t == WEIR_TYPE_TIME;
}

static int
cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0) {
        return c < 0 ? -1 : 1;
    }
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

static int
cmp_numbers(const weir_value *a, const weir_value *b)
{
    if (a->type != WEIR_TYPE_FLOAT && b->type != WEIR_TYPE_FLOAT) {
        return a->u.i < b->u.i ? -1 : (a->u.i > b->u.i ? 1 : 0);
    }
    double x = a->type == WEIR_TYPE_FLOAT ? a->u.f : (double)a->u.i;
    double y = b->type == WEIR_TYPE_FLOAT ? b->u.f : (double)b->u.i;
    return x < y ? -1 : (x > y ? 1 : 0);
}

int
weir_value_compare(const weir_value *a, const weir_value *b)
{
    if (is_number(a->type) && is_number(b->type)) {
        return cmp_numbers(a, b);
    }
    bool a_str = a->type == WEIR_TYPE_STRING || a->type == WEIR_TYPE_BYTES;
    bool b_str = b->type == WEIR_TYPE_STRING || b->type == WEIR_TYPE_BYTES;
    if (a_str && b_str) {
        return cmp_bytes(a->u.s.ptr, a->u.s.len, b->u.s.ptr, b->u.s.len);
    }
    if (a->type != b->type) {
        return a->type < b->type ? -1 : 1;
    }
    switch (a->type) {
    case WEIR_TYPE_BOOL:
        return (int)a->u.b - (int)b->u.b;
    case WEIR_TYPE_LIST:
        for (size_t i = 0; i < a->u.list.len && i < b->u.list.len; i++) {
            int c =
                weir_value_compare(&a->u.list.items[i], &b->u.list.items[i]);
            if (c != 0) {
                return c;
            }
        }
        return a->u.list.len < b->u.list.len
                   ? -1
                   : (a->u.list.len > b->u.list.len ? 1 : 0);
    case WEIR_TYPE_JSON:
        for (size_t i = 0; i < a->u.obj.len && i < b->u.obj.len; i++) {
            const weir_member *x = &a->u.obj.members[i];
            const weir_member *y = &b->u.obj.members[i];
            int c = cmp_bytes(x->name, x->name_len, y->name, y->name_len);
            if (c == 0) {
                c = weir_value_compare(&x->value, &y->value);
            }
            if (c != 0) {
                return c;
            }
        }
        return a->u.obj.len < b->u.obj.len
                   ? -1
                   : (a->u.obj.len > b->u.obj.len ? 1 : 0);
    default:
        return 0;
    }
}

bool
weir_value_equal(const weir_value *a, const weir_value *b)
{
    bool a_str = a->type == WEIR_TYPE_STRING || a->type == WEIR_TYPE_BYTES;
    bool b_str = b->type == WEIR_TYPE_STRING || b->type == WEIR_TYPE_BYTES;
    bool related = a->type == b->type || (a_str && b_str) ||
                   (is_number(a->type) && is_number(b->type));
    return related && weir_value_compare(a, b) == 0;
}

bool
weir_value_is_kafka_null(const weir_value *v)
{
    return v->type == WEIR_TYPE_NULL;
}
