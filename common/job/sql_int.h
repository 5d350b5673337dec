/*
 * Internal to common/job/sql_*.c: the SQL subset's syntax tree. A .sql
 * job is parsed (sql_lex.c, the grammar sql_parse.y) into statements,
 * translated (sql_gen.c, sql_expr.c) into the job file the YAML compiler
 * takes, and compiled by it (sql_compile.c), its errors mapped back to
 * the SQL they came from.
 */
#ifndef WEIR_JOB_SQL_INT_H
#define WEIR_JOB_SQL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/job/job.h"

/* A position in the SQL text (1-based). */
typedef struct weir__sql_pos {
    unsigned line, column;
} weir__sql_pos;

/* A token: its text (owned by the token list) and position. */
typedef struct weir__sql_token {
    char *text;
    size_t len;
    weir__sql_pos pos;
    size_t offset; /* in bytes, in the SQL text */
} weir__sql_token;

typedef enum weir__sql_expr_kind {
    SQL_E_INT,     /* text: the digits */
    SQL_E_FLOAT,   /* text: the number */
    SQL_E_STRING,  /* text: the value, unescaped */
    SQL_E_BOOL,    /* text: "true" or "false" */
    SQL_E_NULL,    /* */
    SQL_E_COLUMN,  /* text: name; qual: the relation (or NULL) */
    SQL_E_CALL,    /* text: function (upper case); args; star: COUNT(*) */
    SQL_E_BINARY,  /* text: the operator (SQL spelling); args[0..1] */
    SQL_E_UNARY,   /* text: "-" or "NOT"; args[0] */
    SQL_E_IS_NULL, /* args[0]; negated: IS NOT NULL */
    SQL_E_IN,      /* args[0] IN (args[1..]); negated: NOT IN */
    SQL_E_CASE,    /* args: when, then, when, then, ..., [else] */
    SQL_E_CAST,    /* args[0]; text: the type (upper case) */
} weir__sql_expr_kind;

typedef struct weir__sql_expr {
    weir__sql_expr_kind kind;
    char *text;
    char *qual;
    struct weir__sql_expr **args;
    size_t n_args;
    bool star, negated, has_else;
    weir__sql_pos pos;
} weir__sql_expr;

typedef struct weir__sql_column {
    char *name;
    char *type; /* upper case, e.g. VARCHAR, ARRAY<VARCHAR> */
    bool key;   /* KEY or PRIMARY KEY */
    weir__sql_pos pos;
} weir__sql_column;

typedef struct weir__sql_prop {
    char *name;  /* upper case */
    char *value; /* a string's value or a number's text */
    bool number;
    weir__sql_pos pos;
} weir__sql_prop;

typedef struct weir__sql_item {
    weir__sql_expr *expr;
    char *alias; /* NULL: none */
} weir__sql_item;

typedef enum weir__sql_window_kind {
    SQL_W_NONE,
    SQL_W_TUMBLING,
    SQL_W_HOPPING,
    SQL_W_SESSION,
} weir__sql_window_kind;

typedef struct weir__sql_window {
    weir__sql_window_kind kind;
    uint64_t size_ms, advance_ms, gap_ms, grace_ms;
    bool has_grace;
    weir__sql_pos pos;
} weir__sql_window;

typedef enum weir__sql_stmt_kind {
    SQL_S_STREAM, /* CREATE STREAM name (columns) WITH (...) */
    SQL_S_TABLE,  /* CREATE TABLE name (columns) WITH (...) */
    SQL_S_CSAS,   /* CREATE STREAM name [WITH] AS SELECT */
    SQL_S_CTAS,   /* CREATE TABLE name [WITH] AS SELECT */
    SQL_S_SELECT, /* SELECT ... alone: a pull query (weirctl sql) */
} weir__sql_stmt_kind;

typedef enum weir__sql_join_kind {
    SQL_J_NONE,
    SQL_J_INNER,
    SQL_J_LEFT,
    SQL_J_OUTER,
} weir__sql_join_kind;

typedef struct weir__sql_from {
    char *name, *alias;
    weir__sql_pos pos;
} weir__sql_from;

typedef struct weir__sql_stmt {
    weir__sql_stmt_kind kind;
    char *name;
    weir__sql_pos pos;
    size_t start, end; /* its bytes in the SQL text, ';' included */
    weir__sql_column *columns;
    size_t n_columns;
    weir__sql_prop *props;
    size_t n_props;
    /* AS SELECT */
    weir__sql_item *items;
    size_t n_items;
    bool select_star;
    weir__sql_from from;
    weir__sql_join_kind join;
    weir__sql_from join_with;
    weir__sql_expr *join_on;
    uint64_t within_ms, join_grace_ms;
    bool has_within;
    weir__sql_window window;
    weir__sql_expr *where;
    weir__sql_expr **group_by;
    size_t n_group_by;
    weir__sql_pos group_pos;
    weir__sql_expr *partition_by;
    bool emit_final;
} weir__sql_stmt;

/* What the parser builds: the statements, or the first syntax error. */
typedef struct weir__sql_parse {
    weir__sql_stmt **stmts;
    size_t n_stmts;
    weir_job_errors *errs;
    bool failed; /* a syntax error (reported) */
    bool oom;
    /* the statement being built */
    weir__sql_stmt *cur;
} weir__sql_parse;

/* sql_lex.c: splits text into tokens and feeds them to the parser.
 * Errors (bad characters, unterminated strings, syntax) go to p->errs. */
int weir__sql_parse_text(const char *text, size_t len, weir__sql_parse *p);
void weir__sql_parse_free(weir__sql_parse *p);

/* sql_ast.c: constructors used by the grammar (NULL when out of memory,
 * which they note in p). */
weir__sql_expr *weir__sql_expr_new(weir__sql_parse *p, weir__sql_expr_kind kind,
    const weir__sql_token *tok, const char *text);
weir__sql_expr *weir__sql_expr_add(
    weir__sql_parse *p, weir__sql_expr *e, weir__sql_expr *arg);
void weir__sql_expr_free(weir__sql_expr *e);
char *weir__sql_strdup(weir__sql_parse *p, const char *s);
/* An identifier's text: a quoted one unquoted, others as written. */
char *weir__sql_ident(weir__sql_parse *p, const weir__sql_token *tok);
char *weir__sql_upper(weir__sql_parse *p, const char *s);
/* A duration "n unit" in ms; false (error noted) for an unknown unit. */
bool weir__sql_duration(weir__sql_parse *p, const weir__sql_token *n,
    const weir__sql_token *unit, uint64_t *ms);
void weir__sql_error(weir__sql_parse *p, weir__sql_pos pos, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
void weir__sql_stmt_free(weir__sql_stmt *s);

/* sql_expr.c: the expression in Weir's expression language (malloc'd),
 * columns resolved by resolve (which writes the column's expression into
 * buf, returns false for an unknown column after reporting it). */
typedef bool (*weir__sql_resolve_fn)(
    void *ctx, const weir__sql_expr *col, char *buf, size_t bufsize);
char *weir__sql_expr_text(weir__sql_parse *p, const weir__sql_expr *e,
    weir__sql_resolve_fn resolve, void *ctx);
/* s as a string literal of Weir's expressions: '...', backslashes and
 * quotes escaped (malloc'd; NULL when out of memory). */
char *weir__sql_literal(const char *s);
/* A ksqlDB (Java) time format as strftime, e.g. yyyy-MM-dd -> %Y-%m-%d. */
char *weir__sql_time_format(const char *java);

/* Where a line of the generated job file came from. */
typedef struct weir__sql_origin {
    weir__sql_pos pos;
    const weir__sql_stmt *stmt; /* NULL: the file's header */
} weir__sql_origin;

/* sql_gen.c: the job file for the statements (malloc'd YAML; NULL on an
 * error, reported), and per line of it where it came from (lines[i] for
 * line i + 1, malloc'd). */
char *weir__sql_generate(weir__sql_parse *p, const char *job,
    weir__sql_origin **lines, size_t *n_lines);

/* sql_compile.c: compiles SQL text (weir_job_compile on a .sql path). */
int weir__sql_compile(const char *sql, size_t len, const char *path,
    Weir__Topology__Topology **out, weir_job_errors *errs);

#endif
