/*
 * Runtime values of the expression language and of records, and the topic
 * formats they are decoded from and encoded to. They live in an arena
 * (common/arena.h).
 *
 * A value is a small tagged struct; strings, bytes and lists point at memory
 * owned by someone else: the record being processed or the arena. An arena
 * is a bump allocator that the stream thread resets once per record, so
 * evaluation does no per-record malloc once the arena has grown to its
 * working size.
 *
 * JSON values are decoded into the same struct: objects have type
 * WEIR_TYPE_JSON (members in obj), arrays WEIR_TYPE_LIST, and scalars the
 * matching scalar type. A *static* type of WEIR_TYPE_JSON (or ANY) therefore
 * means "any of these, checked when evaluated".
 *
 * Threading: values and arenas belong to one thread; nothing here locks.
 */
#ifndef WEIR_VALUE_VALUE_H
#define WEIR_VALUE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "proto/topology.pb-c.h"

/* Numbered like weir.topology.ValueType so the two convert by a cast. */
typedef enum weir_type {
    WEIR_TYPE_ANY = 0,
    WEIR_TYPE_NULL = 1,
    WEIR_TYPE_BOOL = 2,
    WEIR_TYPE_INT = 3,
    WEIR_TYPE_FLOAT = 4,
    WEIR_TYPE_STRING = 5,
    WEIR_TYPE_BYTES = 6,
    WEIR_TYPE_LIST = 7,
    WEIR_TYPE_JSON = 8, /* runtime: a JSON object */
    WEIR_TYPE_TIME = 9, /* milliseconds since the epoch, UTC */
} weir_type;

/* Topic formats: WEIR__TOPOLOGY__FORMAT__FORMAT_STRING and friends. */
typedef Weir__Topology__Format weir_format;

typedef struct weir_value weir_value;
typedef struct weir_member weir_member;

struct weir_value {
    weir_type type; /* never ANY at runtime */
    union {
        bool b;
        int64_t i; /* INT, and TIME in ms */
        double f;
        struct {
            const char *ptr; /* not NUL-terminated */
            size_t len;
        } s; /* STRING, BYTES */
        struct {
            weir_value *items;
            size_t len;
        } list;
        struct {
            weir_member *members;
            size_t len;
        } obj; /* JSON object, members in document order */
    } u;
};

struct weir_member {
    const char *name;
    size_t name_len;
    weir_value value;
};

/* Lowercase name of a type ("string"); never NULL. */
const char *weir_type_name(weir_type type);
/* "string", "bytes", "int64", "json"; NULL for an unknown format. */
const char *weir_format_name(weir_format fmt);
/* Parses a format name. WEIR_EINVAL if unknown. */
int weir_format_parse(const char *name, weir_format *fmt);

/* Constructors: no allocation; strings are borrowed. */
weir_value weir_value_null(void);
weir_value weir_value_bool(bool b);
weir_value weir_value_int(int64_t i);
weir_value weir_value_float(double f);
weir_value weir_value_time(int64_t ms);
weir_value weir_value_string(const char *ptr, size_t len);
weir_value weir_value_bytes(const void *ptr, size_t len);

/*
 * Equality and order. Numbers compare by value across INT/FLOAT/TIME,
 * strings and bytes bytewise, lists and objects structurally. Values of
 * unrelated types are unequal; weir_value_compare orders them by type.
 */
bool weir_value_equal(const weir_value *a, const weir_value *b);
int weir_value_compare(const weir_value *a, const weir_value *b);

/* ------------------------------------------------------------ formats */

/*
 * Decodes a key or value of a topic. `type` is the static type the
 * compiler expects (Operator.key_type / value_type of OP_SOURCE), and
 * shapes the result: FORMAT_STRING -> STRING, FORMAT_BYTES -> BYTES,
 * FORMAT_INT64 -> INT (TIME if type is TIME), FORMAT_JSON -> whatever the
 * document holds (checked against type unless type is ANY or JSON).
 * data == NULL (a Kafka null key or tombstone) decodes to NULL.
 * The result points into data (strings, and JSON strings without escapes)
 * and into the arena (JSON structure): keep both while it is used.
 * Errors: WEIR_EPARSE (message in err, which may be NULL) for malformed
 * input, WEIR_ENOMEM if the arena is exhausted.
 */
int weir_value_decode(weir_format fmt, weir_type type, const void *data,
    size_t len, weir_arena *arena, weir_value *out, char *err, size_t errlen);

/*
 * Appends the encoding of v in fmt to buf (buf is not cleared):
 * FORMAT_STRING: strings as is, numbers in decimal, bools "true"/"false",
 *   times in ms, lists and objects as JSON text, NULL as "" (but see
 *   weir_value_is_kafka_null);
 * FORMAT_BYTES: strings and bytes as is, else as FORMAT_STRING;
 * FORMAT_INT64: INT or TIME (or an integral FLOAT) as 8 bytes big-endian;
 * FORMAT_JSON: JSON text; strings and bytes become JSON strings, with
 *   bytes that are not UTF-8 escaped as \u00XX, so the text is valid JSON.
 * Errors: WEIR_EINVAL (message in err) if v cannot take this format.
 */
int weir_value_encode(const weir_value *v, weir_format fmt, weir_buf *buf,
    char *err, size_t errlen);

/* True for NULL: the record should carry a Kafka null key/value. */
bool weir_value_is_kafka_null(const weir_value *v);

/* JSON text of any value (appended to buf). WEIR_ENOMEM on failure. */
int weir_value_to_json(const weir_value *v, weir_buf *buf);

/*
 * Parses JSON text into the arena; strings without escapes point into
 * text, which must outlive the value. WEIR_EPARSE with a message naming the
 * byte offset on malformed input (depth limit 64), WEIR_ENOMEM.
 */
int weir_json_parse(const char *text, size_t len, weir_arena *arena,
    weir_value *out, char *err, size_t errlen);

/*
 * Shortest %.15g..%.17g text of f that reads back as f, with ".0" added
 * to integral values so the text still reads as a float. Returns length.
 */
int weir_float_format(double f, char *out, size_t outlen);

/* JSON text of v in the arena (NUL-terminated). WEIR_ENOMEM. */
int weir_value_json_arena(
    const weir_value *v, weir_arena *arena, const char **ptr, size_t *len);

#endif
