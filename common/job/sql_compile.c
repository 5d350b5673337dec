/*
 * A .sql job: parsed (sql_lex.c, sql_parse.y), translated into a job file
 * (sql_gen.c) and compiled by the YAML compiler into the same Topology;
 * an error it finds in the generated file is reported at the SQL it came
 * from, named by its statement. The job is named after the file.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/job/job_int.h"
#include "common/job/sql_int.h"

/* The job's name: the file's base name without .sql, made a valid name. */
static char *
job_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".sql") == 0)
        n -= 4;
    char *name = strndup(n ? base : "job", n ? n : 3);
    for (char *c = name; c && *c; c++)
        if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
            !(*c >= '0' && *c <= '9') && *c != '.' && *c != '_' && *c != '-')
            *c = '_';
    return name;
}

static const char *
stmt_word(const weir__sql_stmt *s)
{
    return s->kind == SQL_S_STREAM || s->kind == SQL_S_CSAS ? "STREAM"
                                                            : "TABLE";
}

/* Operators name the SQL they came from, not the generated file. */
static void
map_operators(
    Weir__Topology__Topology *t, const weir__sql_origin *lines, size_t n)
{
    for (size_t i = 0; i < t->n_subtopologies; i++) {
        Weir__Topology__Subtopology *st = t->subtopologies[i];
        for (size_t k = 0; k < st->n_operators; k++) {
            Weir__Topology__Operator *op = st->operators[k];
            if (op->line >= 1 && op->line <= n) {
                op->column = lines[op->line - 1].pos.column;
                op->line = lines[op->line - 1].pos.line;
            }
        }
    }
}

/* A message about a step of the generated file, in the SQL's words. */
static const char *
sql_words(const char *msg, const char **clause)
{
    static const struct {
        const char *step, *clause;
    } steps[] = {{"filter: ", "WHERE: "}, {"map_values: ", "SELECT: "},
        {"flat_map_values: ", "EXPLODE: "}, {"group_by: ", "GROUP BY: "},
        {"map: ", "SELECT: "}, {"join: ", "JOIN: "}, {"window: ", "WINDOW: "},
        {"count: ", "COUNT: "}, {"aggregate: ", ""}, {"to: ", ""},
        {"select_key: ", "JOIN ... ON: "}};
    *clause = "";
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        size_t n = strlen(steps[i].step);
        if (strncmp(msg, steps[i].step, n) == 0) {
            *clause = steps[i].clause;
            return msg + n;
        }
    }
    return msg;
}

/* Moves the generated file's errors to the SQL they came from. */
static void
map_errors(weir_job_errors *from, const weir__sql_origin *lines, size_t n,
    weir_job_errors *to)
{
    for (size_t i = 0; i < from->count; i++) {
        const weir_job_error *e = &from->items[i];
        const weir__sql_origin *o =
            e->line >= 1 && e->line <= n ? &lines[e->line - 1] : NULL;
        const char *clause;
        const char *msg = sql_words(e->msg, &clause);
        if (o && o->stmt)
            weir__job_error(to, o->pos.line, o->pos.column,
                "in CREATE %s %s: %s%s", stmt_word(o->stmt), o->stmt->name,
                clause, msg);
        else
            weir__job_error(
                to, o ? o->pos.line : 0, o ? o->pos.column : 0, "%s", e->msg);
    }
}

int
weir__sql_compile(const char *sql, size_t len, const char *path,
    Weir__Topology__Topology **out, weir_job_errors *errs)
{
    *out = NULL;
    weir__sql_parse p = {.errs = errs};
    int rv = weir__sql_parse_text(sql, len, &p);
    char *job = rv == WEIR_OK ? job_name(path ? path : "job.sql") : NULL;
    weir__sql_origin *lines = NULL;
    size_t n_lines = 0;
    char *yaml = NULL;
    if (rv == WEIR_OK && !job)
        rv = WEIR_ENOMEM;
    if (rv == WEIR_OK) {
        yaml = weir__sql_generate(&p, job, &lines, &n_lines);
        rv = p.oom ? WEIR_ENOMEM : yaml ? WEIR_OK : WEIR_EPARSE;
    }
    if (rv == WEIR_OK) {
        weir_job_errors yerrs;
        weir_job_errors_init(&yerrs);
        rv = weir__job_compile_yaml(yaml, strlen(yaml), path, out, &yerrs);
        map_errors(&yerrs, lines, n_lines, errs);
        weir_job_errors_fini(&yerrs);
        if (rv == WEIR_OK)
            map_operators(*out, lines, n_lines);
        if (rv == WEIR_OK) { /* the job's spec is the SQL as written */
            char *spec = strndup(sql, len);
            if (!spec) {
                weir_job_free(*out);
                *out = NULL;
                rv = WEIR_ENOMEM;
            } else {
                free((*out)->spec_yaml);
                (*out)->spec_yaml = spec;
            }
        }
    }
    free(yaml);
    free(lines);
    free(job);
    weir__sql_parse_free(&p);
    if (rv != WEIR_OK)
        weir__job_errors_sort(errs);
    return rv;
}

/* A pull query's key: WHERE col = literal (either side); the column's
 * name and position into st. */
static bool
pull_key(const weir__sql_stmt *s, weir_sql_statement *st)
{
    const weir__sql_expr *w = s->where;
    if (s->join != SQL_J_NONE || s->window.kind != SQL_W_NONE ||
        s->n_group_by || s->partition_by || !w || w->kind != SQL_E_BINARY ||
        strcmp(w->text, "=") != 0)
        return false;
    for (int i = 0; i < 2; i++) {
        const weir__sql_expr *c = w->args[i], *v = w->args[1 - i];
        if (c->kind == SQL_E_COLUMN &&
            (v->kind == SQL_E_STRING || v->kind == SQL_E_INT)) {
            snprintf(st->key, sizeof(st->key), "%s", v->text);
            snprintf(st->key_column, sizeof(st->key_column), "%s", c->text);
            st->line = c->pos.line;
            st->column = c->pos.column;
            return true;
        }
    }
    return false;
}

/* A table's key column, as sql_gen.c names it: the PRIMARY KEY column;
 * for a GROUP BY of a column, the select item that is that column (its
 * alias, or the column's name), else the column itself. Unknown ("") for
 * a GROUP BY of an expression. */
static void
table_key(const weir__sql_stmt *s, weir_sql_statement *st)
{
    const char *key = NULL;
    if (s->kind == SQL_S_TABLE) {
        for (size_t i = 0; i < s->n_columns && !key; i++)
            key = s->columns[i].key ? s->columns[i].name : NULL;
    } else if (s->kind == SQL_S_CTAS && s->n_group_by == 1) {
        const weir__sql_expr *g = s->group_by[0];
        for (size_t i = 0; i < s->n_items && !key && g->kind == SQL_E_COLUMN;
             i++) {
            const weir__sql_expr *e = s->items[i].expr;
            if (e->kind == SQL_E_COLUMN && strcasecmp(e->text, g->text) == 0)
                key = s->items[i].alias ? s->items[i].alias : e->text;
        }
        if (!key && g->kind == SQL_E_COLUMN)
            key = g->text;
    }
    if (key) {
        snprintf(st->key_column, sizeof(st->key_column), "%s", key);
        st->line = s->pos.line;
        st->column = s->pos.column;
    }
}

int
weir_sql_statements(const char *text, size_t len, const char *path,
    weir_sql_statement **out, size_t *n, weir_job_errors *errs)
{
    *out = NULL;
    *n = 0;
    weir_job_errors_fini(errs);
    if (!(errs->path = strdup(path ? path : "<sql>")))
        return WEIR_ENOMEM;
    weir__sql_parse p = {.errs = errs};
    int rv = weir__sql_parse_text(text, len, &p);
    if (rv == WEIR_OK && p.n_stmts &&
        !(*out = calloc(p.n_stmts, sizeof(**out))))
        rv = WEIR_ENOMEM;
    for (size_t i = 0; rv == WEIR_OK && i < p.n_stmts; i++) {
        const weir__sql_stmt *s = p.stmts[i];
        weir_sql_statement *st = &(*out)[i];
        st->start = s->start;
        st->end = s->end;
        if (s->kind == SQL_S_SELECT) {
            st->kind = WEIR_SQL_PULL;
            snprintf(st->name, sizeof(st->name), "%s", s->from.name);
            if (!pull_key(s, st)) {
                weir__job_error(errs, s->pos.line, s->pos.column,
                    "a pull query is SELECT ... FROM table WHERE keycolumn "
                    "= 'value'");
                rv = WEIR_EPARSE;
            }
        } else {
            st->kind = s->kind == SQL_S_STREAM || s->kind == SQL_S_TABLE
                           ? WEIR_SQL_SOURCE
                           : WEIR_SQL_CREATE_AS;
            snprintf(st->name, sizeof(st->name), "%s", s->name);
            bool topic = false;
            for (size_t k = 0; k < s->n_props; k++)
                topic = topic || strcmp(s->props[k].name, "KAFKA_TOPIC") == 0;
            st->fused = s->kind == SQL_S_CSAS && !topic;
            table_key(s, st);
        }
    }
    *n = rv == WEIR_OK ? p.n_stmts : 0;
    if (rv != WEIR_OK) {
        free(*out);
        *out = NULL;
    }
    weir__sql_parse_free(&p);
    return rv;
}
