/*
 * The expression language of job files (docs/job-spec.md): a small typed
 * language over a record's key, value (with JSON field access), timestamp
 * and headers, plus `agg` in reductions, `right` in joins and
 * `window_start`/`window_end` after windowed aggregations. Object literals
 * build JSON: {page: value.page, country: right.country}.
 *
 *   split(lower(value), '[^a-z0-9]+')      value != ''
 *   value.user.id                           headers['trace'] == 'x'
 *   format_time(window_start, '%Y-%m-%d %H:%M:%S')
 *   value.status in [500, 502, 503]
 *
 * An expression is parsed once into a typed tree (regular expressions and
 * time formats compiled then) and type-checked against the types of the
 * record it will see; evaluation walks the tree and allocates only from
 * the caller's arena.
 *
 * Functions beyond the built-in ones come from common/expr/udf.h.
 *
 * Threading: a parsed expression is immutable; any number of threads may
 * evaluate it at once, each with its own context and arena.
 */
#ifndef WEIR_EXPR_EXPR_H
#define WEIR_EXPR_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/value/value.h"

typedef struct weir_expr weir_expr;

/* A static type: the type, and the element type when it is a LIST. */
typedef struct weir_stype {
    weir_type type;
    weir_type elem; /* LIST only; ANY when unknown */
} weir_stype;

/* What an expression can refer to, with static types. */
typedef struct weir_expr_env {
    weir_stype key;
    weir_stype value;
    bool has_agg; /* `agg` (reduce: the aggregate so far) */
    weir_stype agg;
    bool windowed;  /* `window_start`, `window_end` */
    bool has_right; /* `right` (joins: the other side's value) */
    weir_stype right;
} weir_expr_env;

/* A parse, type or evaluation error: message and 1-based column in text. */
typedef struct weir_expr_error {
    unsigned column; /* 0 when not tied to a position (evaluation) */
    char msg[256];
} weir_expr_error;

/* True if a value of static type `have` may be used where `want` is. */
bool weir_type_accepts(weir_type want, weir_type have);

/*
 * Parses and type-checks `text` (len bytes; need not be NUL-terminated).
 * On success *out owns the tree (free with weir_expr_free).
 * Errors: WEIR_EPARSE (syntax, unknown name, bad regex or literal),
 * WEIR_EINVAL (type error), WEIR_ENOMEM; err gets message and column.
 */
int weir_expr_parse(const char *text, size_t len, const weir_expr_env *env,
    weir_expr **out, weir_expr_error *err);

/* Accepts NULL. */
void weir_expr_free(weir_expr *expr);

/* The static result type. */
weir_stype weir_expr_type(const weir_expr *expr);

/* The source text (NUL-terminated copy held by the tree). */
const char *weir_expr_text(const weir_expr *expr);

/*
 * Looks up a header by name; returns true and sets *value and *len (which stay
 * valid during the evaluation) when present. For librdkafka, wrap
 * rd_kafka_header_get_last.
 */
typedef bool (*weir_header_fn)(
    void *opaque, const char *name, const void **value, size_t *len);

/* The record an expression is evaluated on. Unused fields may be zero. */
typedef struct weir_expr_ctx {
    const weir_value *key;   /* NULL reads as null */
    const weir_value *value; /* NULL reads as null */
    int64_t timestamp_ms;
    weir_header_fn header; /* NULL: no headers */
    void *header_opaque;
    const weir_value *agg;   /* reduce only */
    const weir_value *right; /* joins only; NULL reads as null */
    int64_t window_start_ms; /* windowed results only */
    int64_t window_end_ms;
    weir_arena *arena; /* required: results are allocated here */
} weir_expr_ctx;

/*
 * Evaluates expr on ctx. The result may point into the context's values,
 * into the arena and into the expression's literals: it is valid until the
 * arena is reset, the record released or the expression freed. A runtime error
 * (null where a value is needed, a JSON field of the wrong type, division by
 * zero, an unparsable time, ...) returns WEIR_EINVAL with a message in err;
 * WEIR_ENOMEM when the arena is full. Both are per-record errors: the caller
 * applies on_error.
 */
int weir_expr_eval(const weir_expr *expr, const weir_expr_ctx *ctx,
    weir_value *out, weir_expr_error *err);

/* ------------------------------------------------------------ topology */

/*
 * The environment of a compiled operator (from its key_type, value_type,
 * *_elem_type and windowed fields; agg = the value type for OP_REDUCE;
 * right = right_type for joins).
 */
void weir_expr_env_from_op(
    const Weir__Topology__Operator *op, weir_expr_env *env);

/*
 * Parses one of op's expressions (op->predicate, op->key, op->value or
 * op->window->time) as the worker does when a task starts.
 * Errors as weir_expr_parse; a compiled topology never fails here.
 */
int weir_expr_parse_op(const Weir__Topology__Operator *op,
    const Weir__Topology__Expr *e, weir_expr **out, weir_expr_error *err);

#endif
