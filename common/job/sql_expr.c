/*
 * SQL expressions in Weir's expression language (docs/sql.md lists the
 * mapping): operators respelled (= ==, AND &&, || concat), ksqlDB's
 * functions onto Weir's (LCASE lower, SUBSTRING's 1-based position made
 * 0-based, REGEXP_EXTRACT's arguments reordered, Java time formats made
 * strftime ones), CASE into if(), columns resolved by the caller.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/job/sql_int.h"

typedef struct gen {
    weir__sql_parse *p;
    weir_buf out;
    weir__sql_resolve_fn resolve;
    void *ctx;
    bool failed;
} gen;

static void
put(gen *g, const char *s)
{
    if (weir_buf_append(&g->out, s, strlen(s)) != WEIR_OK)
        g->p->oom = g->failed = true;
}

char *
weir__sql_literal(const char *s)
{
    weir_buf b;
    weir_buf_init(&b);
    int rv = weir_buf_append(&b, "'", 1);
    for (; rv == WEIR_OK && *s; s++)
        rv = *s == '\'' || *s == '\\' ? weir_buf_printf(&b, "\\%c", *s)
                                      : weir_buf_append(&b, s, 1);
    if (rv == WEIR_OK)
        rv = weir_buf_append(&b, "'", 2);
    char *out = rv == WEIR_OK ? strdup(b.data) : NULL;
    weir_buf_fini(&b);
    return out;
}

static void
put_string(gen *g, const char *s)
{
    char *lit = weir__sql_literal(s);
    if (!lit)
        g->p->oom = g->failed = true;
    else
        put(g, lit);
    free(lit);
}

static void expr(gen *g, const weir__sql_expr *e);

static void
fail(gen *g, const weir__sql_expr *e, const char *fmt, const char *arg)
{
    if (!g->failed)
        weir__sql_error(g->p, e->pos, fmt, arg);
    g->failed = true;
}

/* args[from..] separated by commas. */
static void
args(gen *g, const weir__sql_expr *e, size_t from)
{
    for (size_t i = from; i < e->n_args; i++) {
        if (i > from)
            put(g, ", ");
        expr(g, e->args[i]);
    }
}

static bool
nargs(gen *g, const weir__sql_expr *e, size_t lo, size_t hi)
{
    if (e->n_args >= lo && e->n_args <= hi && !e->star)
        return true;
    char want[64];
    if (lo == hi)
        snprintf(want, sizeof(want), "%zu", lo);
    else
        snprintf(want, sizeof(want), "%zu to %zu", lo, hi);
    char msg[160];
    snprintf(msg, sizeof(msg), "%s: expected %s arguments", e->text, want);
    fail(g, e, "%s", msg);
    return false;
}

/* The literal string argument i (a format, a path) or NULL (reported). */
static const char *
literal(gen *g, const weir__sql_expr *e, size_t i)
{
    if (i < e->n_args && e->args[i]->kind == SQL_E_STRING)
        return e->args[i]->text;
    fail(g, e, "%s: expected a string literal here", e->text);
    return NULL;
}

/* A Java time format as a strftime literal. */
static void
put_format(gen *g, const weir__sql_expr *e, size_t i)
{
    const char *f = literal(g, e, i);
    char *s = f ? weir__sql_time_format(f) : NULL;
    if (f && !s)
        g->p->oom = g->failed = true;
    if (s)
        put_string(g, s);
    free(s);
}

/* '$.a.b[0]' as .a.b[0] after parse_json(...). */
static void
put_json_path(gen *g, const weir__sql_expr *e)
{
    const char *path = literal(g, e, 1);
    if (!path)
        return;
    if (path[0] != '$') {
        fail(g, e, "%s: a JSON path starts with '$'", e->text);
        return;
    }
    for (const char *s = path + 1; *s;) {
        if (*s == '[') {
            const char *close = strchr(s, ']');
            if (!close) {
                fail(g, e, "%s: unterminated '[' in the JSON path", e->text);
                return;
            }
            char idx[32];
            snprintf(idx, sizeof(idx), "%.*s", (int)(close - s + 1), s);
            put(g, idx);
            s = close + 1;
        } else if (*s == '.') {
            size_t n = strcspn(s + 1, ".[");
            char *name = strndup(s + 1, n);
            if (!name) {
                g->p->oom = g->failed = true;
                return;
            }
            put(g, "[");
            put_string(g, name);
            put(g, "]");
            free(name);
            s += 1 + n;
        } else {
            fail(g, e, "%s: expected '.' or '[' in the JSON path", e->text);
            return;
        }
    }
}

/* A literal delimiter as a regex that matches it. */
static void
put_delimiter(gen *g, const weir__sql_expr *e)
{
    const char *d = literal(g, e, 1);
    if (!d)
        return;
    weir_buf re;
    weir_buf_init(&re);
    for (; *d; d++) {
        if (strchr("\\^$.|?*+()[]{}", *d) &&
            weir_buf_append(&re, "\\", 1) != WEIR_OK)
            g->p->oom = g->failed = true;
        if (weir_buf_append(&re, d, 1) != WEIR_OK)
            g->p->oom = g->failed = true;
    }
    if (weir_buf_append(&re, "", 1) != WEIR_OK)
        g->p->oom = g->failed = true;
    if (!g->failed)
        put_string(g, re.data);
    weir_buf_fini(&re);
}

static const struct rename {
    const char *sql, *weir;
    size_t lo, hi;
} renames[] = {{"LCASE", "lower", 1, 1}, {"UCASE", "upper", 1, 1},
    {"TRIM", "trim", 1, 1}, {"LEN", "len", 1, 1}, {"CONCAT", "concat", 1, 64},
    {"REPLACE", "replace", 3, 3}, {"COALESCE", "coalesce", 1, 64},
    {"IFNULL", "coalesce", 2, 2}, {"REGEXP_SPLIT_TO_ARRAY", "split", 2, 2},
    {"ABS", "abs", 1, 1}};

static void
call(gen *g, const weir__sql_expr *e)
{
    const char *f = e->text ? e->text : "";
    for (size_t i = 0; i < sizeof(renames) / sizeof(renames[0]); i++) {
        if (strcmp(f, renames[i].sql) != 0)
            continue;
        if (nargs(g, e, renames[i].lo, renames[i].hi)) {
            put(g, renames[i].weir);
            put(g, "(");
            args(g, e, 0);
            put(g, ")");
        }
        return;
    }
    if (strcmp(f, "SUBSTRING") == 0 || strcmp(f, "SUBSTR") == 0) {
        if (!nargs(g, e, 2, 3))
            return;
        put(g, "substr(");
        expr(g, e->args[0]);
        put(g, ", ");
        expr(g, e->args[1]);
        put(g, " - 1"); /* 1-based in SQL */
        if (e->n_args == 3) {
            put(g, ", ");
            expr(g, e->args[2]);
        }
        put(g, ")");
    } else if (strcmp(f, "SPLIT") == 0) {
        if (!nargs(g, e, 2, 2))
            return;
        put(g, "split(");
        expr(g, e->args[0]);
        put(g, ", ");
        put_delimiter(g, e);
        put(g, ")");
    } else if (strcmp(f, "REGEXP_EXTRACT") == 0) {
        if (!nargs(g, e, 2, 3))
            return;
        put(g, "regex_extract(");
        expr(g, e->args[1]);
        put(g, ", ");
        expr(g, e->args[0]);
        if (e->n_args == 3) {
            put(g, ", ");
            expr(g, e->args[2]);
        }
        put(g, ")");
    } else if (strcmp(f, "PARSE_TIMESTAMP") == 0 ||
               strcmp(f, "FORMAT_TIMESTAMP") == 0) {
        if (!nargs(g, e, 2, 2))
            return;
        put(g, f[0] == 'P' ? "parse_time(" : "format_time(");
        expr(g, e->args[0]);
        put(g, ", ");
        put_format(g, e, 1);
        put(g, ")");
    } else if (strcmp(f, "EXTRACTJSONFIELD") == 0) {
        if (!nargs(g, e, 2, 2))
            return;
        put(g, "parse_json(");
        expr(g, e->args[0]);
        put(g, ")");
        put_json_path(g, e);
    } else if (strcmp(f, "COUNT") == 0 || strcmp(f, "SUM") == 0 ||
               strcmp(f, "MIN") == 0 || strcmp(f, "MAX") == 0 ||
               strcmp(f, "AVG") == 0) {
        fail(g, e,
            "%s: an aggregate goes in the select list of a query with GROUP "
            "BY, alone (not inside an expression)",
            f);
    } else if (strcmp(f, "EXPLODE") == 0) {
        fail(g, e, "%s: only as a whole item of the select list", f);
    } else {
        fail(g, e, "unknown function %s", f);
    }
}

static void
cast(gen *g, const weir__sql_expr *e)
{
    static const struct {
        const char *type, *fn;
    } casts[] = {{"VARCHAR", "to_string"}, {"STRING", "to_string"},
        {"INT", "to_int"}, {"INTEGER", "to_int"}, {"BIGINT", "to_int"},
        {"DOUBLE", "to_float"}, {"TIMESTAMP", "to_time"}};
    for (size_t i = 0; i < sizeof(casts) / sizeof(casts[0]); i++) {
        if (strcmp(e->text, casts[i].type) == 0) {
            put(g, casts[i].fn);
            put(g, "(");
            expr(g, e->args[0]);
            put(g, ")");
            return;
        }
    }
    if (strcmp(e->text, "BOOLEAN") == 0) {
        put(g, "(lower(to_string(");
        expr(g, e->args[0]);
        put(g, ")) == 'true')");
        return;
    }
    fail(g, e,
        "CAST: unknown type %s (expected VARCHAR, INT, BIGINT, DOUBLE, "
        "BOOLEAN or TIMESTAMP)",
        e->text);
}

static void
case_when(gen *g, const weir__sql_expr *e, size_t from)
{
    size_t pairs = (e->n_args - (e->has_else ? 1 : 0)) / 2;
    if (from >= pairs) {
        if (e->has_else)
            expr(g, e->args[e->n_args - 1]);
        else
            put(g, "null");
        return;
    }
    put(g, "if(");
    expr(g, e->args[2 * from]);
    put(g, ", ");
    expr(g, e->args[2 * from + 1]);
    put(g, ", ");
    case_when(g, e, from + 1);
    put(g, ")");
}

static void
binary(gen *g, const weir__sql_expr *e)
{
    static const struct {
        const char *sql, *weir;
    } ops[] = {{"OR", "||"}, {"AND", "&&"}, {"=", "=="}};
    if (strcmp(e->text, "||") == 0) {
        put(g, "concat(");
        args(g, e, 0);
        put(g, ")");
        return;
    }
    const char *op = e->text;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(op, ops[i].sql) == 0)
            op = ops[i].weir;
    put(g, "(");
    expr(g, e->args[0]);
    put(g, " ");
    put(g, op);
    put(g, " ");
    expr(g, e->args[1]);
    put(g, ")");
}

static void
expr(gen *g, const weir__sql_expr *e)
{
    if (g->failed)
        return;
    switch (e->kind) {
    case SQL_E_INT:
    case SQL_E_FLOAT:
    case SQL_E_BOOL:
        put(g, e->text);
        return;
    case SQL_E_STRING:
        put_string(g, e->text);
        return;
    case SQL_E_NULL:
        put(g, "null");
        return;
    case SQL_E_COLUMN: {
        char buf[1024];
        if (!g->resolve(g->ctx, e, buf, sizeof(buf))) {
            g->failed = true;
            return;
        }
        put(g, buf);
        return;
    }
    case SQL_E_CALL:
        call(g, e);
        return;
    case SQL_E_BINARY:
        binary(g, e);
        return;
    case SQL_E_UNARY:
        put(g, strcmp(e->text, "NOT") == 0 ? "!(" : "-(");
        expr(g, e->args[0]);
        put(g, ")");
        return;
    case SQL_E_IS_NULL:
        put(g, "(");
        expr(g, e->args[0]);
        put(g, e->negated ? " != null)" : " == null)");
        return;
    case SQL_E_IN:
        put(g, e->negated ? "!(" : "(");
        expr(g, e->args[0]);
        put(g, " in [");
        args(g, e, 1);
        put(g, "])");
        return;
    case SQL_E_CASE:
        case_when(g, e, 0);
        return;
    case SQL_E_CAST:
        cast(g, e);
        return;
    }
}

char *
weir__sql_expr_text(weir__sql_parse *p, const weir__sql_expr *e,
    weir__sql_resolve_fn resolve, void *ctx)
{
    gen g = {.p = p, .resolve = resolve, .ctx = ctx};
    weir_buf_init(&g.out);
    expr(&g, e);
    char *s = NULL;
    if (!g.failed && weir_buf_append(&g.out, "", 1) == WEIR_OK)
        s = strdup(g.out.data);
    if (!g.failed && !s)
        p->oom = true;
    weir_buf_fini(&g.out);
    return s;
}

char *
weir__sql_time_format(const char *java)
{
    static const struct {
        const char *java, *c;
    } fields[] = {{"yyyy", "%Y"}, {"yy", "%y"}, {"MMMM", "%B"}, {"MMM", "%b"},
        {"MM", "%m"}, {"dd", "%d"}, {"HH", "%H"}, {"hh", "%I"}, {"mm", "%M"},
        {"ss", "%S"}, {"EEEE", "%A"}, {"EEE", "%a"}, {"a", "%p"}, {"XXX", "%z"},
        {"Z", "%z"}, {"X", "%z"}, {"D", "%j"}};
    weir_buf b;
    weir_buf_init(&b);
    int rv = WEIR_OK;
    for (const char *s = java; *s && rv == WEIR_OK;) {
        if (*s == '\'') { /* quoted text: as is ('' is a quote) */
            s++;
            while (*s && rv == WEIR_OK) {
                if (*s == '\'' && s[1] != '\'')
                    break;
                rv = weir_buf_append(&b, s, 1);
                s += *s == '\'' ? 2 : 1;
            }
            s += *s == '\'';
            continue;
        }
        size_t k = 0, n = sizeof(fields) / sizeof(fields[0]);
        while (k < n && strncmp(s, fields[k].java, strlen(fields[k].java)))
            k++;
        if (k < n) {
            rv = weir_buf_append(&b, fields[k].c, 2);
            s += strlen(fields[k].java);
        } else {
            rv = *s == '%' ? weir_buf_append(&b, "%%", 2)
                           : weir_buf_append(&b, s, 1);
            s++;
        }
    }
    char *out = NULL;
    if (rv == WEIR_OK && weir_buf_append(&b, "", 1) == WEIR_OK)
        out = strdup(b.data);
    weir_buf_fini(&b);
    return out;
}
