/* Generic protobuf-c message -> JSON, driven by the descriptors. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "common/err.h"
#include "common/json_str.h"
#include "weirctl.h"

static int
file_put(void *out, const void *p, size_t n)
{
    return fwrite(p, 1, n, out) == n ? WEIR_OK : WEIR_EIO;
}

static void
json_str(const char *s, size_t n, FILE *out)
{
    weir_json_str_write(s, n, file_put, out);
}

static void print_msg(const ProtobufCMessage *msg, FILE *out);

static void
print_value(const ProtobufCFieldDescriptor *f, const void *p, FILE *out)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        fprintf(out, "%" PRId32, *(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        fprintf(out, "%" PRIu32, *(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        fprintf(out, "%" PRId64, *(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        fprintf(out, "%" PRIu64, *(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        fprintf(
            out, "%.9g", isfinite(*(const float *)p) ? *(const float *)p : 0.0);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        fprintf(out, "%.17g",
            isfinite(*(const double *)p) ? *(const double *)p : 0.0);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        fputs(*(const protobuf_c_boolean *)p ? "true" : "false", out);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
            f->descriptor, *(const int *)p);
        if (v)
            json_str(v->name, strlen(v->name), out);
        else
            fprintf(out, "%d", *(const int *)p);
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        json_str(s ? s : "", s ? strlen(s) : 0, out);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        json_str((const char *)b->data, b->len, out);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        if (m)
            print_msg(m, out);
        else
            fputs("null", out);
        break;
    }
    }
}

static size_t
value_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4;
    }
}

static void
print_msg(const ProtobufCMessage *msg, FILE *out)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    fputc('{', out);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)msg;
        if (i)
            fputc(',', out);
        json_str(f->name, strlen(f->name), out);
        fputc(':', out);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            const char *arr = *(char *const *)(base + f->offset);
            fputc('[', out);
            for (size_t k = 0; k < n; k++) {
                if (k)
                    fputc(',', out);
                print_value(f, arr + k * value_size(f), out);
            }
            fputc(']', out);
        } else {
            print_value(f, base + f->offset, out);
        }
    }
    fputc('}', out);
}

void
weirctl_json_print(const ProtobufCMessage *msg, FILE *out)
{
    print_msg(msg, out);
    fputc('\n', out);
}
