/*
 * SQL statements into the job file the YAML compiler takes (docs/sql.md).
 * CREATE STREAM/TABLE with columns declare sources; each CREATE ... AS
 * SELECT continues the job's one pipeline: the first reads a source, each
 * next one reads the relation the previous one made (fused into the same
 * pipeline; written to its topic first when it names KAFKA_TOPIC or when
 * no query reads it). Every relation's columns are expressions over the
 * pipeline's record (key, value, right, window_start...), so a query's
 * expressions are translated by substituting them.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/array.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/job/sql_int.h"

typedef struct col {
    char *name;
    char *expr; /* over the pipeline's record */
} col;

typedef struct rel {
    const weir__sql_stmt *stmt;
    const char *name;
    bool source, table;
    col *cols;
    size_t n_cols;
    /* A source: how a column reads a value ("value" or "right"): */
    const char *value_format; /* KAFKA, JSON or DELIMITED */
    char *time;               /* TIMESTAMP= as an expression, or NULL */
    bool read;                /* a query reads it */
} rel;

typedef struct gen {
    weir__sql_parse *p;
    weir_buf yaml;
    weir__sql_origin *lines;
    size_t n_lines;
    const weir__sql_stmt *stmt; /* being translated */
    rel *rels;
    size_t n_rels;
    rel *end; /* the relation at the end of the pipeline */
    bool failed;
} gen;

/* Appends one line of YAML that came from pos. */
static void line(gen *g, weir__sql_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
line(gen *g, weir__sql_pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rv = weir_buf_vprintf(&g->yaml, fmt, ap);
    va_end(ap);
    weir__sql_origin o = {pos, g->stmt};
    if (rv != WEIR_OK || weir_buf_append(&g->yaml, "\n", 1) != WEIR_OK ||
        weir_array_append(&g->lines, &g->n_lines, &o, sizeof(o)) != WEIR_OK)
        g->p->oom = g->failed = true;
}

static void error(gen *g, weir__sql_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
error(gen *g, weir__sql_pos pos, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    weir__sql_error(g->p, pos, "%s", msg);
    g->failed = true;
}

/* A YAML single-quoted scalar of s (in a static-lifetime buffer of the
 * caller). */
static const char *
quote(weir_buf *b, const char *s)
{
    weir_buf_clear(b);
    int rv = weir_buf_append(b, "'", 1);
    for (; rv == WEIR_OK && *s; s++)
        rv =
            *s == '\'' ? weir_buf_append(b, "''", 2) : weir_buf_append(b, s, 1);
    if (rv == WEIR_OK)
        rv = weir_buf_append(b, "'", 1);
    if (rv == WEIR_OK)
        rv = weir_buf_append(b, "", 1);
    return rv == WEIR_OK ? b->data : "''";
}

static char *
dup_lower(const char *s)
{
    char *d = strdup(s);
    for (char *c = d; c && *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return d;
}

static const weir__sql_prop *
prop(const weir__sql_stmt *s, const char *name)
{
    for (size_t i = 0; i < s->n_props; i++)
        if (strcmp(s->props[i].name, name) == 0)
            return &s->props[i];
    return NULL;
}

static rel *
find_rel(gen *g, const char *name)
{
    for (size_t i = 0; i < g->n_rels; i++)
        if (strcasecmp(g->rels[i].name, name) == 0)
            return &g->rels[i];
    return NULL;
}

static bool
add_col(gen *g, rel *r, const char *name, char *expr)
{
    col c = {strdup(name), expr};
    if (!c.name || !expr ||
        weir_array_append(&r->cols, &r->n_cols, &c, sizeof(c)) != WEIR_OK) {
        free(c.name);
        free(expr);
        g->p->oom = g->failed = true;
        return false;
    }
    return true;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *
fmt(const char *f, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, f);
    if (vasprintf(&s, f, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* A name usable after a '.' in an expression (else ['...'] is used). */
static bool
plain_name(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

/* The expression reading field name of var (a JSON object). */
static char *
field(const char *var, const char *name)
{
    if (plain_name(name))
        return fmt("%s.%s", var, name);
    char *lit = weir__sql_literal(name);
    char *out = lit ? fmt("%s[%s]", var, lit) : NULL;
    free(lit);
    return out;
}

/* The conversion a declared type needs from text (DELIMITED), or "". */
static const char *
from_text(const char *type)
{
    if (!strcmp(type, "INT") || !strcmp(type, "INTEGER") ||
        !strcmp(type, "BIGINT"))
        return "to_int";
    if (!strcmp(type, "DOUBLE"))
        return "to_float";
    if (!strcmp(type, "TIMESTAMP"))
        return "to_time";
    return "";
}

static bool
known_type(const char *t)
{
    static const char *const types[] = {"VARCHAR", "STRING", "INT", "INTEGER",
        "BIGINT", "DOUBLE", "BOOLEAN", "TIMESTAMP"};
    size_t n = strlen(t);
    if (strncmp(t, "ARRAY<", 6) == 0 && n > 7 && t[n - 1] == '>') {
        char inner[256];
        snprintf(inner, sizeof(inner), "%.*s", (int)(n - 7), t + 6);
        return known_type(inner);
    }
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(t, types[i]) == 0)
            return true;
    return false;
}

/* The column's expression in a source whose value is var ("value" or
 * "right"); the key column is key. */
static char *
source_col(const char *format, const weir__sql_column *c, size_t index,
    size_t n_values, const char *var)
{
    if (c->key)
        return strdup("key");
    const char *conv = from_text(c->type);
    if (!strcmp(format, "JSON")) {
        if (!strcmp(c->type, "VARCHAR") || !strcmp(c->type, "STRING"))
            conv = "to_string";
        /* JSON numbers as the declared type; a missing field is null. */
        char *f = field(var, c->name), *e = NULL;
        if (f && *conv)
            e = fmt("if(is_null(%s), null, %s(%s))", f, conv, f);
        if (f && !*conv)
            return f;
        free(f);
        return e;
    }
    if (!strcmp(format, "KAFKA"))
        return strdup(var);
    if (n_values == 1)
        return *conv ? fmt("%s(%s)", conv, var) : strdup(var);
    return *conv ? fmt("%s(split(%s, ',')[%zu])", conv, var, index)
                 : fmt("split(%s, ',')[%zu]", var, index);
}

/* The YAML format of a KAFKA-format column of type t (NULL: none). */
static const char *
kafka_format(const char *t)
{
    if (!strcmp(t, "VARCHAR") || !strcmp(t, "STRING"))
        return "string";
    if (!strcmp(t, "INT") || !strcmp(t, "INTEGER") || !strcmp(t, "BIGINT"))
        return "int64";
    return NULL;
}

static bool
check_format(gen *g, const weir__sql_prop *pr)
{
    if (!pr || !strcmp(pr->value, "KAFKA") || !strcmp(pr->value, "JSON") ||
        !strcmp(pr->value, "DELIMITED"))
        return true;
    error(g, pr->pos, "%s: expected 'KAFKA', 'JSON' or 'DELIMITED', found '%s'",
        pr->name, pr->value);
    return false;
}

static const char *const source_props[] = {"KAFKA_TOPIC", "KEY_FORMAT",
    "VALUE_FORMAT", "PARTITIONS", "TIMESTAMP", "TIMESTAMP_FORMAT", NULL};

static bool
check_props(gen *g, const weir__sql_stmt *s)
{
    bool ok = true;
    for (size_t i = 0; i < s->n_props; i++) {
        const weir__sql_prop *pr = &s->props[i];
        size_t k = 0;
        while (source_props[k] && strcmp(source_props[k], pr->name))
            k++;
        if (!source_props[k]) {
            error(g, pr->pos,
                "unknown property %s (expected KAFKA_TOPIC, KEY_FORMAT, "
                "VALUE_FORMAT, PARTITIONS, TIMESTAMP or TIMESTAMP_FORMAT)",
                pr->name);
            ok = false;
        } else if ((strcmp(pr->name, "PARTITIONS") == 0) != pr->number) {
            error(g, pr->pos, "%s: expected %s", pr->name,
                pr->number ? "a string in quotes" : "a number");
            ok = false;
        }
        if (pr->name && (!strcmp(pr->name, "VALUE_FORMAT") ||
                            !strcmp(pr->name, "KEY_FORMAT"))) {
            for (char *c = pr->value; *c; c++)
                *c = (char)toupper((unsigned char)*c);
            ok = check_format(g, pr) && ok;
        }
    }
    return ok;
}

static const char *
format_of(const weir__sql_stmt *s, const char *name, const char *dflt)
{
    const weir__sql_prop *pr = prop(s, name);
    return pr ? pr->value : dflt;
}

/* The event time TIMESTAMP= names, over the relation's columns. */
static char *
time_of(gen *g, const weir__sql_stmt *s, const rel *r)
{
    const weir__sql_prop *ts = prop(s, "TIMESTAMP");
    const weir__sql_prop *tf = prop(s, "TIMESTAMP_FORMAT");
    if (!ts) {
        if (tf)
            error(g, tf->pos, "TIMESTAMP_FORMAT needs TIMESTAMP");
        return NULL;
    }
    for (size_t i = 0; i < r->n_cols; i++) {
        if (strcasecmp(r->cols[i].name, ts->value) != 0)
            continue;
        char *f = tf ? weir__sql_time_format(tf->value) : NULL;
        char *lit = f ? weir__sql_literal(f) : NULL;
        char *e =
            tf ? (lit ? fmt("parse_time(%s, %s)", r->cols[i].expr, lit) : NULL)
               : fmt("to_time(%s)", r->cols[i].expr);
        free(f);
        free(lit);
        if (!e)
            g->p->oom = g->failed = true;
        return e;
    }
    error(g, ts->pos, "TIMESTAMP: no column '%s'", ts->value);
    return NULL;
}

static rel *
new_rel(gen *g, const weir__sql_stmt *s)
{
    if (find_rel(g, s->name)) {
        error(g, s->pos, "'%s' is created twice", s->name);
        return NULL;
    }
    rel r = {.stmt = s, .name = s->name};
    if (weir_array_append(&g->rels, &g->n_rels, &r, sizeof(r)) != WEIR_OK) {
        g->p->oom = g->failed = true;
        return NULL;
    }
    return &g->rels[g->n_rels - 1];
}

/* CREATE STREAM/TABLE with columns: a source of the job. */
static void
declare(gen *g, const weir__sql_stmt *s)
{
    g->stmt = s;
    const weir__sql_prop *topic = prop(s, "KAFKA_TOPIC");
    if (!check_props(g, s))
        return;
    if (!topic) {
        error(g, s->pos, "CREATE %s %s: WITH (KAFKA_TOPIC='...') is required",
            s->kind == SQL_S_TABLE ? "TABLE" : "STREAM", s->name);
        return;
    }
    const char *vf = format_of(s, "VALUE_FORMAT", "JSON");
    const char *kf = format_of(s, "KEY_FORMAT", "KAFKA");
    const weir__sql_column *key = NULL;
    size_t n_values = 0;
    for (size_t i = 0; i < s->n_columns; i++) {
        const weir__sql_column *c = &s->columns[i];
        if (!known_type(c->type)) {
            error(g, c->pos,
                "column %s: unknown type %s (expected VARCHAR, STRING, INT, "
                "BIGINT, DOUBLE, BOOLEAN, TIMESTAMP or ARRAY<...>)",
                c->name, c->type);
            return;
        }
        if (c->key && key) {
            error(g, c->pos, "column %s: a second key column (one only)",
                c->name);
            return;
        }
        key = c->key ? c : key;
        n_values += !c->key;
    }
    if (s->kind == SQL_S_TABLE && !key) {
        error(g, s->pos, "CREATE TABLE %s: a table needs a PRIMARY KEY column",
            s->name);
        return;
    }
    const weir__sql_column *one = NULL;
    for (size_t i = 0; i < s->n_columns && !one; i++)
        one = s->columns[i].key ? NULL : &s->columns[i];
    const char *yvf = !strcmp(vf, "JSON") ? "json" : "string";
    if (!strcmp(vf, "KAFKA") &&
        (n_values != 1 || !(yvf = kafka_format(one->type)))) {
        error(g, s->pos,
            "VALUE_FORMAT='KAFKA' holds one VARCHAR or BIGINT column (use "
            "JSON or DELIMITED for more)");
        return;
    }
    const char *ykf = !strcmp(kf, "JSON") ? "json" : "string";
    if (!strcmp(kf, "KAFKA") && key && kafka_format(key->type))
        ykf = kafka_format(key->type);
    rel *r = new_rel(g, s);
    if (!r)
        return;
    r->source = true;
    r->table = s->kind == SQL_S_TABLE;
    r->value_format = vf;
    for (size_t i = 0, v = 0; i < s->n_columns; i++) {
        const weir__sql_column *c = &s->columns[i];
        if (!add_col(g, r, c->name,
                source_col(vf, c, c->key ? 0 : v++, n_values, "value")))
            return;
    }
    r->time = time_of(g, s, r);
    weir_buf q;
    weir_buf_init(&q);
    char *name = dup_lower(s->name);
    const weir__sql_prop *parts = prop(s, "PARTITIONS");
    line(g, s->pos, "  %s: { topic: %s, key: %s, value: %s%s%s%s }",
        name ? name : "?", quote(&q, topic->value), ykf, yvf,
        parts ? ", partitions: " : "", parts ? parts->value : "",
        r->table ? ", table: true" : "");
    free(name);
    weir_buf_fini(&q);
}

/* The columns a query's expressions may name. */
typedef struct entry {
    const char *qual, *alias; /* the relation's name and alias (or NULL) */
    const char *name;
    const char *expr; /* NULL: not available here (why in the message) */
} entry;

typedef struct scope {
    gen *g;
    entry *e;
    size_t n;
    bool windowed;    /* WINDOWSTART, WINDOWEND */
    const char *lost; /* why an unavailable column is */
    char **owned;     /* expressions made here, freed with the scope */
    size_t n_owned;
} scope;

/* Keeps s until the scope is freed; returns it (NULL: out of memory). */
static char *
scope_own(scope *sc, char *s)
{
    if (!s ||
        weir_array_append(&sc->owned, &sc->n_owned, &s, sizeof(s)) != WEIR_OK) {
        free(s);
        sc->g->p->oom = sc->g->failed = true;
        return NULL;
    }
    return s;
}

static void
scope_free(scope *sc)
{
    for (size_t i = 0; i < sc->n_owned; i++)
        free(sc->owned[i]);
    free(sc->owned);
    free(sc->e);
    sc->owned = NULL;
    sc->e = NULL;
    sc->n = sc->n_owned = 0;
}

static void
scope_add(scope *sc, const char *qual, const char *alias, const char *name,
    const char *expr)
{
    entry e = {qual, alias, name, expr};
    if (weir_array_append(&sc->e, &sc->n, &e, sizeof(e)) != WEIR_OK)
        sc->g->p->oom = sc->g->failed = true;
}

static bool
resolve(void *ctx, const weir__sql_expr *c, char *buf, size_t size)
{
    scope *sc = ctx;
    static const struct {
        const char *name, *expr;
        bool windowed;
    } pseudo[] = {{"ROWTIME", "timestamp", false},
        {"WINDOWSTART", "window_start", true},
        {"WINDOWEND", "window_end", true}};
    const entry *found = NULL;
    for (size_t i = 0; i < sc->n; i++) {
        const entry *e = &sc->e[i];
        if (strcasecmp(e->name, c->text) != 0 ||
            (c->qual && strcasecmp(c->qual, e->qual) != 0 &&
                (!e->alias || strcasecmp(c->qual, e->alias) != 0)))
            continue;
        if (found &&
            (!found->expr || !e->expr || strcmp(found->expr, e->expr) != 0)) {
            error(
                sc->g, c->pos, "column %s is ambiguous (qualify it)", c->text);
            return false;
        }
        found = e;
    }
    if (!found && !c->qual) {
        for (size_t i = 0; i < sizeof(pseudo) / sizeof(pseudo[0]); i++) {
            if (strcasecmp(c->text, pseudo[i].name) == 0 &&
                (!pseudo[i].windowed || sc->windowed)) {
                snprintf(buf, size, "%s", pseudo[i].expr);
                return true;
            }
        }
    }
    if (!found) {
        error(sc->g, c->pos, "unknown column %s%s%s", c->qual ? c->qual : "",
            c->qual ? "." : "", c->text);
        return false;
    }
    if (!found->expr) {
        error(sc->g, c->pos, "column %s is not available here (%s)", c->text,
            sc->lost ? sc->lost : "?");
        return false;
    }
    if (snprintf(buf, size, "%s", found->expr) >= (int)size) {
        error(sc->g, c->pos, "column %s: expression too long", c->text);
        return false;
    }
    return true;
}

static char *
text(gen *g, scope *sc, const weir__sql_expr *e)
{
    char *t = weir__sql_expr_text(g->p, e, resolve, sc);
    if (!t)
        g->failed = true;
    return t;
}

static void
scope_of(scope *sc, const rel *r, const char *alias)
{
    for (size_t i = 0; i < r->n_cols; i++)
        scope_add(sc, r->name, alias, r->cols[i].name, r->cols[i].expr);
}

static bool
is_call(const weir__sql_expr *e, const char *name)
{
    return e->kind == SQL_E_CALL && e->text && !strcmp(e->text, name);
}

static bool
is_aggregate(const weir__sql_expr *e)
{
    return is_call(e, "COUNT") || is_call(e, "SUM") || is_call(e, "MIN") ||
           is_call(e, "MAX") || is_call(e, "AVG");
}

/* JOIN ... ON a.k = b.k: the other source's columns join the scope (its
 * value read as `right`), the stream re-keyed by its side of ON first. */
static void
join(gen *g, const weir__sql_stmt *s, scope *sc)
{
    rel *other = find_rel(g, s->join_with.name);
    if (!other || !other->source) {
        error(g, s->join_with.pos, "JOIN: '%s' is not a declared %s",
            s->join_with.name, other ? "source (CREATE ... WITH)" : "source");
        return;
    }
    if (other->read) {
        error(g, s->join_with.pos, "JOIN: '%s' is read twice", other->name);
        return;
    }
    other->read = true;
    if (other->table == s->has_within) {
        error(g, s->join_with.pos,
            other->table ? "JOIN: WITHIN is for joining a stream; %s is a "
                           "table"
                         : "JOIN: joining the stream %s needs WITHIN n "
                           "unit",
            other->name);
        return;
    }
    const weir__sql_expr *on = s->join_on;
    if (!on || on->kind != SQL_E_BINARY || strcmp(on->text, "=") != 0 ||
        on->args[0]->kind != SQL_E_COLUMN ||
        on->args[1]->kind != SQL_E_COLUMN) {
        error(g, on ? on->pos : s->join_with.pos,
            "JOIN ... ON: expected a column of each side, equal (a.k = b.k)");
        return;
    }
    /* Which side of = is the other source's? Its key column. */
    scope right = {.g = g};
    for (size_t i = 0; i < other->n_cols; i++)
        scope_add(&right, other->name, s->join_with.alias, other->cols[i].name,
            other->cols[i].expr);
    int r = -1;
    for (int k = 0; k < 2 && r < 0; k++) {
        const weir__sql_expr *c = on->args[k];
        if (c->qual ? strcasecmp(c->qual, other->name) == 0 ||
                          (s->join_with.alias &&
                              strcasecmp(c->qual, s->join_with.alias) == 0)
                    : false)
            r = k;
    }
    char rk[1024], *lk = NULL;
    if (r < 0 || !resolve(&right, on->args[r], rk, sizeof(rk)) ||
        strcmp(rk, "key") != 0 || !(lk = text(g, sc, on->args[1 - r]))) {
        if (!g->failed)
            error(g, on->pos,
                "JOIN ... ON: one side must be the key column (PRIMARY KEY "
                "or KEY) of %s, qualified (%s.col)",
                other->name, other->name);
        scope_free(&right);
        free(lk);
        return;
    }
    scope_free(&right);
    weir_buf q;
    weir_buf_init(&q);
    if (strcmp(lk, "key") != 0) {
        /* Re-keyed by the ON column: the old key is gone. */
        line(g, on->pos, "  - select_key: %s", quote(&q, lk));
        for (size_t i = 0; i < sc->n; i++)
            if (sc->e[i].expr && !strcmp(sc->e[i].expr, "key"))
                sc->e[i].expr = NULL;
        sc->lost = "the stream was re-keyed by its JOIN column";
    }
    free(lk);
    /* The join's value: every column of both sides, l0.., r0.. */
    weir_buf obj;
    weir_buf_init(&obj);
    int rv = weir_buf_append(&obj, "{", 1);
    size_t n = 0, base = sc->n;
    for (size_t i = 0; rv == WEIR_OK && i < base; i++) {
        if (!sc->e[i].expr || !strcmp(sc->e[i].expr, "key"))
            continue;
        rv = weir_buf_printf(
            &obj, "%sl%zu: %s", n++ ? ", " : "", i, sc->e[i].expr);
        sc->e[i].expr = scope_own(sc, fmt("value.l%zu", i));
    }
    const weir__sql_stmt *os = other->stmt;
    size_t n_values = 0;
    for (size_t i = 0; i < os->n_columns; i++)
        n_values += !os->columns[i].key;
    for (size_t i = 0, v = 0; rv == WEIR_OK && i < os->n_columns; i++) {
        const weir__sql_column *c = &os->columns[i];
        char *e = source_col(
            other->value_format, c, c->key ? 0 : v++, n_values, "right");
        if (!e) {
            rv = WEIR_ENOMEM;
            break;
        }
        if (!c->key)
            rv = weir_buf_printf(&obj, "%sr%zu: %s", n++ ? ", " : "", i, e);
        free(e);
        scope_add(sc, other->name, s->join_with.alias, c->name,
            scope_own(sc, c->key ? strdup("key") : fmt("value.r%zu", i)));
    }
    if (rv == WEIR_OK)
        rv = weir_buf_append(&obj, "}", 2);
    if (rv != WEIR_OK) {
        g->p->oom = g->failed = true;
    } else {
        static const char *const types[] = {"inner", "inner", "left", "outer"};
        char win[96] = "";
        if (s->has_within)
            snprintf(win, sizeof(win), ", within: %llums, grace: %llums",
                (unsigned long long)s->within_ms,
                (unsigned long long)s->join_grace_ms);
        char *name = dup_lower(other->name);
        line(g, s->join_with.pos,
            "  - join: { with: %s, type: %s%s, value: %s }", name ? name : "?",
            types[s->join], win, quote(&q, obj.data));
        free(name);
    }
    weir_buf_fini(&obj);
    weir_buf_fini(&q);
}

/* Whether a later query reads the relation s makes. */
static bool
read_later(const gen *g, const weir__sql_stmt *s)
{
    bool after = false;
    for (size_t i = 0; i < g->p->n_stmts; i++) {
        const weir__sql_stmt *t = g->p->stmts[i];
        if (after && (t->kind == SQL_S_CSAS || t->kind == SQL_S_CTAS) &&
            t->from.name && !strcasecmp(t->from.name, s->name))
            return true;
        after = after || t == s;
    }
    return false;
}

/* An output column: its name and expression (over the record before the
 * final map). */
typedef struct out_col {
    const char *name;
    char *expr;
    bool key;
} out_col;

/* The value the output columns make in the sink's format: one column is
 * the value itself; several a JSON object, or DELIMITED text. */
static char *
value_of(const out_col *c, size_t n, bool delimited)
{
    size_t values = 0;
    const out_col *one = NULL;
    for (size_t i = 0; i < n; i++)
        if (!c[i].key) {
            values++;
            one = &c[i];
        }
    if (values == 1)
        return strdup(one->expr);
    weir_buf b;
    weir_buf_init(&b);
    int rv =
        weir_buf_append(&b, delimited ? "concat(" : "{", 1 + 6 * delimited);
    size_t k = 0;
    for (size_t i = 0; rv == WEIR_OK && i < n; i++) {
        if (c[i].key)
            continue;
        if (delimited)
            rv = weir_buf_printf(&b, "%s%s", k++ ? ", ',', " : "", c[i].expr);
        else if (plain_name(c[i].name))
            rv = weir_buf_printf(
                &b, "%s%s: %s", k++ ? ", " : "", c[i].name, c[i].expr);
        else
            rv = weir_buf_printf(
                &b, "%s'%s': %s", k++ ? ", " : "", c[i].name, c[i].expr);
    }
    if (rv == WEIR_OK)
        rv = weir_buf_append(&b, delimited ? ")" : "}", 2);
    char *out = rv == WEIR_OK ? strdup(b.data) : NULL;
    weir_buf_fini(&b);
    return out;
}

/* The default name of an unaliased select item. */
static const char *
item_name(const weir__sql_item *it, size_t i, char *buf, size_t size)
{
    if (it->alias)
        return it->alias;
    if (it->expr->kind == SQL_E_COLUMN)
        return it->expr->text;
    snprintf(buf, size, "col%zu", i);
    return buf;
}

/* Shapes the record into the output columns (and PARTITION BY's key),
 * makes the new relation's columns; false on an error. */
static bool
shape(gen *g, const weir__sql_stmt *s, scope *sc, out_col *cols, size_t n,
    rel *out)
{
    bool delimited = !strcmp(format_of(s, "VALUE_FORMAT", ""), "DELIMITED");
    char *value = value_of(cols, n, delimited);
    char *key = s->partition_by ? text(g, sc, s->partition_by) : NULL;
    if (!value || (s->partition_by && !key)) {
        free(value);
        return false;
    }
    weir_buf q, q2;
    weir_buf_init(&q);
    weir_buf_init(&q2);
    size_t values = 0;
    for (size_t i = 0; i < n; i++)
        values += !cols[i].key;
    if (key)
        line(g, s->partition_by->pos, "  - map: { key: %s, value: %s }",
            quote(&q, key), quote(&q2, value));
    else if (strcmp(value, "value") != 0)
        line(g, s->pos, "  - map_values: %s", quote(&q, value));
    weir_buf_fini(&q);
    weir_buf_fini(&q2);
    free(value);
    free(key);
    for (size_t i = 0, v = 0; i < n && !g->failed; i++) {
        char *e = cols[i].key   ? strdup(s->partition_by ? "null" : "key")
                  : values == 1 ? strdup("value")
                  : delimited   ? fmt("split(value, ',')[%zu]", v)
                                : field("value", cols[i].name);
        v += !cols[i].key;
        add_col(g, out, cols[i].name, e);
    }
    return !g->failed;
}

/* A query without GROUP BY: the select list, EXPLODE or not. */
static bool
project(gen *g, const weir__sql_stmt *s, scope *sc, rel *out)
{
    if (s->window.kind != SQL_W_NONE) {
        error(g, s->window.pos, "WINDOW needs GROUP BY");
        return false;
    }
    if (s->select_star) {
        for (size_t i = 0; i < sc->n; i++)
            if (sc->e[i].expr &&
                !add_col(g, out, sc->e[i].name, strdup(sc->e[i].expr)))
                return false;
        return true;
    }
    out_col *cols = calloc(s->n_items ? s->n_items : 1, sizeof(*cols));
    if (!cols) {
        g->p->oom = g->failed = true;
        return false;
    }
    char buf[32];
    bool ok = true;
    const weir__sql_item *explode = NULL;
    for (size_t i = 0; ok && i < s->n_items; i++) {
        const weir__sql_item *it = &s->items[i];
        cols[i].name = item_name(it, i, buf, sizeof(buf));
        if (is_call(it->expr, "EXPLODE")) {
            if (explode || it->expr->n_args != 1) {
                error(g, it->expr->pos, "EXPLODE: one per query, of one array");
                ok = false;
                break;
            }
            explode = it;
            char *arr = text(g, sc, it->expr->args[0]);
            weir_buf q;
            weir_buf_init(&q);
            if (arr)
                line(g, it->expr->pos, "  - flat_map_values: %s",
                    quote(&q, arr));
            weir_buf_fini(&q);
            free(arr);
            cols[i].expr = strdup("value");
            ok = !g->failed;
            continue;
        }
        cols[i].expr = text(g, sc, it->expr);
        ok = cols[i].expr != NULL;
        cols[i].key = ok && !strcmp(cols[i].expr, "key");
    }
    if (ok && explode) {
        /* After flat_map_values the value is the element: every other
         * column must be the key. */
        for (size_t i = 0; ok && i < s->n_items; i++) {
            if (&s->items[i] != explode && !cols[i].key) {
                error(g, s->items[i].expr->pos,
                    "with EXPLODE the other columns must be the key");
                ok = false;
            }
        }
    }
    ok = ok && shape(g, s, sc, cols, s->n_items, out);
    for (size_t i = 0; i < s->n_items; i++)
        free(cols[i].expr);
    free(cols);
    return ok;
}

/* Whether two expressions are written alike (names case-insensitive). */
static bool
same_expr(const weir__sql_expr *a, const weir__sql_expr *b)
{
    if (a->kind != b->kind || a->n_args != b->n_args || a->star != b->star ||
        a->negated != b->negated || a->has_else != b->has_else ||
        !a->text != !b->text || (a->text && strcasecmp(a->text, b->text)) ||
        (a->qual && b->qual && strcasecmp(a->qual, b->qual)))
        return false;
    for (size_t i = 0; i < a->n_args; i++)
        if (!same_expr(a->args[i], b->args[i]))
            return false;
    return true;
}

/* A query with GROUP BY: group_by, window, the aggregation, then the
 * select list over the key, the aggregate and the window. */
static bool
aggregate(gen *g, const weir__sql_stmt *s, scope *sc, const rel *from, rel *out)
{
    if (s->n_group_by != 1) {
        error(g, s->group_pos,
            "GROUP BY: one expression (CONCAT several into one key)");
        return false;
    }
    const weir__sql_item *agg = NULL;
    for (size_t i = 0; i < s->n_items; i++) {
        if (!is_aggregate(s->items[i].expr))
            continue;
        if (agg) {
            error(g, s->items[i].expr->pos,
                "one aggregate per query (Weir aggregates once per GROUP BY)");
            return false;
        }
        agg = &s->items[i];
    }
    if (!agg || s->select_star) {
        error(g, s->group_pos,
            "GROUP BY: the select list needs one aggregate (COUNT, SUM, MIN, "
            "MAX or AVG)");
        return false;
    }
    const weir__sql_expr *a = agg->expr;
    bool count = !strcmp(a->text, "COUNT");
    if ((count && !a->star && a->n_args != 1) || (!count && a->n_args != 1)) {
        error(g, a->pos, "%s: expected %s", a->text,
            count ? "* or one column" : "one argument");
        return false;
    }
    weir_buf q;
    weir_buf_init(&q);
    char *group = text(g, sc, s->group_by[0]);
    char *arg = a->star ? NULL : text(g, sc, a->args[0]);
    char *store = dup_lower(s->name);
    bool ok = group && (a->star || arg) && store;
    if (ok && count && arg) { /* COUNT(col) counts non-null values */
        char *nn = fmt("%s != null", arg);
        ok = nn != NULL;
        if (ok)
            line(g, a->pos, "  - filter: %s", quote(&q, nn));
        free(nn);
    }
    if (ok)
        line(g, s->group_pos, "  - group_by: %s",
            !strcmp(group, "key") ? "key" : quote(&q, group));
    const weir__sql_window *w = &s->window;
    if (ok && w->kind != SQL_W_NONE) {
        char spec[160];
        if (w->kind == SQL_W_TUMBLING)
            snprintf(spec, sizeof(spec), "type: tumbling, size: %llums",
                (unsigned long long)w->size_ms);
        else if (w->kind == SQL_W_HOPPING)
            snprintf(spec, sizeof(spec),
                "type: hopping, size: %llums, advance: %llums",
                (unsigned long long)w->size_ms,
                (unsigned long long)w->advance_ms);
        else
            snprintf(spec, sizeof(spec), "type: session, gap: %llums",
                (unsigned long long)w->gap_ms);
        line(g, w->pos, "  - window: { %s, grace: %llums%s%s, emit: %s }", spec,
            (unsigned long long)w->grace_ms, from->time ? ", time: " : "",
            from->time ? quote(&q, from->time) : "",
            s->emit_final ? "final" : "update");
    } else if (ok && s->emit_final) {
        error(g, s->pos, "EMIT FINAL needs a WINDOW");
        ok = false;
    }
    if (ok && count)
        line(g, a->pos, "  - count: { store: %s }", store);
    else if (ok)
        line(g, a->pos, "  - aggregate: { function: %s, value: %s, store: %s }",
            !strcmp(a->text, "SUM")   ? "sum"
            : !strcmp(a->text, "MIN") ? "min"
            : !strcmp(a->text, "MAX") ? "max"
                                      : "avg",
            quote(&q, arg), store);
    /* After the aggregation: the group key, the aggregate, the window. */
    scope post = {.g = g, .windowed = w->kind != SQL_W_NONE};
    if (ok && s->group_by[0]->kind == SQL_E_COLUMN)
        scope_add(
            &post, s->from.name, s->from.alias, s->group_by[0]->text, "key");
    out_col *cols = calloc(s->n_items, sizeof(*cols));
    char buf[32];
    ok = ok && cols;
    for (size_t i = 0; ok && i < s->n_items; i++) {
        const weir__sql_item *it = &s->items[i];
        cols[i].name = item_name(it, i, buf, sizeof(buf));
        /* The GROUP BY expression itself is the key. */
        if (it != agg && same_expr(it->expr, s->group_by[0]))
            cols[i].expr = strdup("key");
        else
            cols[i].expr =
                it == agg ? strdup("value") : text(g, &post, it->expr);
        ok = cols[i].expr != NULL;
        cols[i].key = ok && !strcmp(cols[i].expr, "key");
    }
    /* ... and the select list's names of the key and the aggregate. */
    for (size_t i = 0; ok && i < s->n_items; i++)
        if (!strcmp(cols[i].expr, "key") || &s->items[i] == agg)
            scope_add(&post, s->name, NULL, cols[i].name, cols[i].expr);
    if (ok && s->partition_by) {
        /* PARTITION BY sees the result: the key, the window. */
        scope_free(sc);
        *sc = post;
        post = (scope){0};
    }
    ok = ok && shape(g, s, s->partition_by ? sc : &post, cols, s->n_items, out);
    for (size_t i = 0; cols && i < s->n_items; i++)
        free(cols[i].expr);
    free(cols);
    scope_free(&post);
    free(group);
    free(arg);
    free(store);
    weir_buf_fini(&q);
    return ok;
}

/* Writes the relation to its topic: KAFKA_TOPIC, or its own name when no
 * later query reads it. */
static void
sink(gen *g, const weir__sql_stmt *s)
{
    const weir__sql_prop *topic = prop(s, "KAFKA_TOPIC");
    if (!topic && read_later(g, s))
        return;
    char *name = topic ? strdup(topic->value) : dup_lower(s->name);
    const char *kf = format_of(s, "KEY_FORMAT", "KAFKA");
    const char *vf = format_of(s, "VALUE_FORMAT", "KAFKA");
    const weir__sql_prop *parts = prop(s, "PARTITIONS");
    weir_buf q;
    weir_buf_init(&q);
    /* KAFKA: the format follows the type (docs/job-spec.md, to:). */
    line(g, topic ? topic->pos : s->pos, "  - to: { topic: %s%s%s%s%s }",
        quote(&q, name ? name : ""),
        !strcmp(kf, "JSON")        ? ", key: json"
        : !strcmp(kf, "DELIMITED") ? ", key: string"
                                   : "",
        !strcmp(vf, "JSON")        ? ", value: json"
        : !strcmp(vf, "DELIMITED") ? ", value: string"
                                   : "",
        parts ? ", partitions: " : "", parts ? parts->value : "");
    weir_buf_fini(&q);
    free(name);
}

/* CREATE ... AS SELECT: the next stretch of the pipeline. */
static void
query(gen *g, const weir__sql_stmt *s)
{
    g->stmt = s;
    if (!check_props(g, s))
        return;
    if (prop(s, "TIMESTAMP_FORMAT") && !prop(s, "TIMESTAMP")) {
        error(g, prop(s, "TIMESTAMP_FORMAT")->pos,
            "TIMESTAMP_FORMAT needs TIMESTAMP");
        return;
    }
    rel *from = find_rel(g, s->from.name);
    if (!from) {
        error(g, s->from.pos, "unknown stream or table '%s'", s->from.name);
        return;
    }
    if (from->table) {
        error(g, s->from.pos,
            "FROM %s: a table source is read by a JOIN (Weir has no queries "
            "over a table's changes yet)",
            from->name);
        return;
    }
    if (g->end && from != g->end) {
        error(g, s->from.pos,
            "a job is one pipeline: this query must read %s, which the query "
            "before it makes (or go in a .sql job of its own)",
            g->end->name);
        return;
    }
    if (from->read) {
        error(g, s->from.pos, "%s is read by an earlier query", from->name);
        return;
    }
    from->read = true;
    if (!g->end) {
        char *name = dup_lower(from->name);
        line(g, s->from.pos, "  - from: %s", name ? name : "?");
        free(name);
    }
    scope sc = {.g = g};
    scope_of(&sc, from, s->from.alias);
    if (s->join != SQL_J_NONE)
        join(g, s, &sc);
    weir_buf q;
    weir_buf_init(&q);
    char *where = s->where && !g->failed ? text(g, &sc, s->where) : NULL;
    if (where)
        line(g, s->where->pos, "  - filter: %s", quote(&q, where));
    free(where);
    weir_buf_fini(&q);
    rel *out = g->failed ? NULL : new_rel(g, s);
    from = find_rel(g, s->from.name); /* new_rel may move the array */
    bool ok = out && (s->n_group_by ? aggregate(g, s, &sc, from, out)
                                    : project(g, s, &sc, out));
    scope_free(&sc);
    if (!ok)
        return;
    out = find_rel(g, s->name);
    out->time = time_of(g, s, out);
    sink(g, s);
    g->end = out;
}

static void
rels_free(gen *g)
{
    for (size_t i = 0; i < g->n_rels; i++) {
        for (size_t k = 0; k < g->rels[i].n_cols; k++) {
            free(g->rels[i].cols[k].name);
            free(g->rels[i].cols[k].expr);
        }
        free(g->rels[i].cols);
        free(g->rels[i].time);
    }
    free(g->rels);
}

char *
weir__sql_generate(weir__sql_parse *p, const char *job,
    weir__sql_origin **lines, size_t *n_lines)
{
    gen g = {.p = p};
    weir_buf_init(&g.yaml);
    weir__sql_pos top = {1, 1};
    line(&g, top, "job: %s", job);
    line(&g, top, "sources:");
    for (size_t i = 0; i < p->n_stmts && !g.failed; i++)
        if (p->stmts[i]->kind == SQL_S_STREAM ||
            p->stmts[i]->kind == SQL_S_TABLE)
            declare(&g, p->stmts[i]);
    g.stmt = NULL;
    line(&g, top, "pipeline:");
    bool any = false;
    for (size_t i = 0; i < p->n_stmts && !g.failed; i++) {
        const weir__sql_stmt *s = p->stmts[i];
        if (s->kind == SQL_S_SELECT)
            error(&g, s->pos,
                "a SELECT alone is a pull query: run it with weirctl sql (a "
                "job's queries are CREATE STREAM/TABLE ... AS SELECT)");
        if (s->kind == SQL_S_CSAS || s->kind == SQL_S_CTAS) {
            query(&g, s);
            any = true;
        }
    }
    if (!any && !g.failed)
        error(&g, top,
            "no query: a job needs a CREATE STREAM or TABLE ... AS SELECT");
    rels_free(&g);
    char *yaml = NULL;
    if (!g.failed && weir_buf_append(&g.yaml, "", 1) == WEIR_OK)
        yaml = strdup(g.yaml.data);
    weir_buf_fini(&g.yaml);
    if (!yaml) {
        free(g.lines);
        g.lines = NULL;
        g.n_lines = 0;
    }
    *lines = g.lines;
    *n_lines = g.n_lines;
    return yaml;
}
