/* Shared inside common/expr/ only: not part of the public API. */
#ifndef WEIR_EXPR_EXPR_INT_H
#define WEIR_EXPR_EXPR_INT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/expr/expr.h"
#include "common/value/value.h"

typedef enum weir__node_kind {
    WEIR__N_LIT,
    WEIR__N_KEY,
    WEIR__N_VALUE,
    WEIR__N_TIMESTAMP,
    WEIR__N_AGG,
    WEIR__N_WSTART,
    WEIR__N_WEND,
    WEIR__N_HEADER, /* headers[a] */
    WEIR__N_FIELD,  /* a.name */
    WEIR__N_INDEX,  /* a[b] */
    WEIR__N_NOT,
    WEIR__N_NEG,
    WEIR__N_AND,
    WEIR__N_OR,
    WEIR__N_CMP, /* op: one of the WEIR__OP_ comparison tokens */
    WEIR__N_ARITH,
    WEIR__N_CALL,
    WEIR__N_LIST,   /* [args...] */
    WEIR__N_IN,     /* a in b */
    WEIR__N_RIGHT,  /* a join's other side */
    WEIR__N_OBJECT, /* {name: a, ...}: args are N_MEMBER */
    WEIR__N_MEMBER, /* str: the name, a: the value */
} weir__node_kind;

typedef enum weir__op {
    WEIR__OP_EQ,
    WEIR__OP_NE,
    WEIR__OP_LT,
    WEIR__OP_LE,
    WEIR__OP_GT,
    WEIR__OP_GE,
    WEIR__OP_ADD,
    WEIR__OP_SUB,
    WEIR__OP_MUL,
    WEIR__OP_DIV,
    WEIR__OP_MOD,
} weir__op;

typedef struct weir__node weir__node;
typedef struct weir__func weir__func;

struct weir__node {
    weir__node_kind kind;
    weir_stype t;
    unsigned column; /* 1-based, of the node's first character */
    weir__op op;
    weir_value lit; /* N_LIT; strings point at str */
    char *str;      /* owned: literal string text, field name */
    size_t str_len;
    weir__node *a, *b; /* operands, field/index base */
    weir__node **args; /* N_CALL */
    size_t nargs;
    const weir__func *fn;
    regex_t *re;       /* compiled regex literal argument, owned */
    uint8_t *byteset;  /* split: the pattern as a 256-bit byte set, owned */
    bool byteset_plus; /* ... followed by a "+" */
    char *fmt;         /* owned time format */
    int group;      /* regex_extract: group, or -1 when computed at run time */
    unsigned depth; /* height of the subtree, bounded by the parser */
};

/* A function of the language. check fills n->t and compiles n->re/fmt. */
struct weir__func {
    const char *name;
    size_t min_args, max_args;
    bool lazy; /* eval gets args == NULL and evaluates n->args itself */
    int (*check)(weir__node *n, weir_expr_error *err);
    int (*eval)(const weir__node *n, const weir_value *args,
        const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err);
};

struct weir_expr {
    weir__node *root;
    char *text;
};

/* Most arguments a variadic function (concat, coalesce) takes. */
#define WEIR__MANY_ARGS 64

/* The function tables, one per expr_func_*.c file. */
extern const weir__func weir__funcs_str[], weir__funcs_regex[],
    weir__funcs_conv[], weir__funcs_time[];
extern const size_t weir__funcs_str_count, weir__funcs_regex_count,
    weir__funcs_conv_count, weir__funcs_time_count;

/* Helpers of the function files (expr_func.c). */
weir_stype weir__st(weir_type t);
int weir__nomem(weir_expr_error *err);
/* Fails unless argument i can be a `want`. */
int weir__arg_is(weir__node *n, size_t i, weir_type want, weir_expr_error *err);
/* Fails unless argument i is a string literal (regex, format). */
int weir__arg_literal(
    weir__node *n, size_t i, const char *what, weir_expr_error *err);
int weir__text_arg(const weir__node *n, const weir_value *args, size_t i,
    const char **p, size_t *len, weir_expr_error *err);
void weir__set_string(weir_value *out, const char *p, size_t len);
int weir__bad_conv(
    const weir__node *n, const weir_value *v, weir_expr_error *err);

/* Built-in functions only (expr_func.c), registered ones only (udf.c). */
const weir__func *weir__builtin_lookup(const char *name, size_t len);
const weir__func *weir__udf_lookup(const char *name, size_t len);

/* The function table lookup; NULL if name is not a function. */
const weir__func *weir__func_lookup(const char *name, size_t len);
/* Comma-separated function names for "expected" messages. */
const char *weir__func_names(void);

/* Sets err (column may be 0) and returns rv. */
int weir__expr_fail(weir_expr_error *err, unsigned column, int rv,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Evaluates a node (expr_eval.c); used by the functions. */
int weir__node_eval(const weir__node *n, const weir_expr_ctx *ctx,
    weir_value *out, weir_expr_error *err);

/*
 * Result type of a op b for the arithmetic operators (also used at run
 * time on the values' types); -1 when the operation has no meaning.
 */
int weir__arith_type(weir__op op, weir_type a, weir_type b, weir_type *out);

/* True if the static type is only known at run time (ANY or JSON). */
bool weir__type_dynamic(weir_type t);

/* Strings of the value as text: STRING or BYTES; else an error. */
int weir__want_string(const weir__node *n, const weir_value *v, size_t argi,
    const char **ptr, size_t *len, weir_expr_error *err);
int weir__want_int(const weir__node *n, const weir_value *v, size_t argi,
    int64_t *out, weir_expr_error *err);
int weir__want_bool(const weir__node *n, const weir_value *v, const char *what,
    bool *out, weir_expr_error *err);

/* The text form of any value, in the arena (to_string semantics). */
int weir__value_text(
    const weir_value *v, weir_arena *arena, const char **ptr, size_t *len);

/* ------------------------------------------------------------ parser */

typedef enum weir__tok_kind {
    WEIR__T_EOF,
    WEIR__T_INT,
    WEIR__T_FLOAT,
    WEIR__T_STRING,
    WEIR__T_NAME,
    WEIR__T_PUNCT,
} weir__tok_kind;

typedef struct weir__tok {
    weir__tok_kind kind;
    const char *p; /* start in the text */
    size_t len;
    unsigned column;
} weir__tok;

typedef struct weir__parser {
    const char *text;
    size_t len;
    size_t pos;
    weir__tok cur;
    const weir_expr_env *env;
    weir_expr_error *err;
    int rv;
    int depth;
} weir__parser;

#define WEIR__FAIL(ps, col, code, ...)                                         \
    ((ps)->rv == WEIR_OK                                                       \
            ? ((ps)->rv = weir__expr_fail((ps)->err, col, code, __VA_ARGS__))  \
            : (ps)->rv)

/* expr_lex.c: the next token into ps->cur. */
int weir__lex(weir__parser *ps);
bool weir__is_punct(const weir__parser *ps, const char *p);
/* "'text'" or "the end", for messages. */
const char *weir__tok_desc(const weir__tok *k, char *buf, size_t buflen);
/* Consumes punctuation p or fails with "expected <what>". */
int weir__expect(weir__parser *ps, const char *p, const char *what);
/* Literal tokens into n (owned copies). */
int weir__string_lit(weir__parser *ps, weir__node *n);
int weir__number_lit(weir__parser *ps, weir__node *n);

/* expr_type.c */
bool weir__type_numeric(weir_type t);
bool weir__type_textual(weir_type t);
bool weir__type_comparable(weir__op op, weir_type a, weir_type b);
/* The common type of two branches (if, coalesce, list items), or -1. */
int weir__type_unify(weir_stype a, weir_stype b, weir_stype *out);

#endif
