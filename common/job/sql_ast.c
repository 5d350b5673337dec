/* The SQL syntax tree's constructors and destructors (sql_int.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/array.h"
#include "common/err.h"
#include "common/job/job_int.h"
#include "common/job/sql_int.h"

void
weir__sql_error(weir__sql_parse *p, weir__sql_pos pos, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    weir__job_error(p->errs, pos.line, pos.column, "%s", msg);
}

char *
weir__sql_strdup(weir__sql_parse *p, const char *s)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        p->oom = true;
    return d;
}

char *
weir__sql_upper(weir__sql_parse *p, const char *s)
{
    char *u = weir__sql_strdup(p, s);
    for (char *c = u; c && *c; c++)
        *c = (char)toupper((unsigned char)*c);
    return u;
}

char *
weir__sql_ident(weir__sql_parse *p, const weir__sql_token *tok)
{
    const char *t = tok->text;
    if (t[0] != '"' && t[0] != '`')
        return weir__sql_strdup(p, t);
    size_t n = strlen(t);
    char *d = malloc(n);
    if (!d) {
        p->oom = true;
        return NULL;
    }
    char *w = d;
    for (size_t i = 1; i + 1 < n; i++) {
        *w++ = t[i];
        if (t[i] == t[0] && t[i + 1] == t[0])
            i++;
    }
    *w = '\0';
    return d;
}

weir__sql_expr *
weir__sql_expr_new(weir__sql_parse *p, weir__sql_expr_kind kind,
    const weir__sql_token *tok, const char *text)
{
    weir__sql_expr *e = calloc(1, sizeof(*e));
    if (!e || (text && !(e->text = strdup(text)))) {
        free(e);
        p->oom = true;
        return NULL;
    }
    e->kind = kind;
    if (tok)
        e->pos = tok->pos;
    return e;
}

weir__sql_expr *
weir__sql_expr_add(weir__sql_parse *p, weir__sql_expr *e, weir__sql_expr *arg)
{
    if (!e || !arg ||
        weir_array_append(&e->args, &e->n_args, &arg, sizeof(arg)) != WEIR_OK) {
        p->oom = p->oom || (e && arg);
        weir__sql_expr_free(e);
        weir__sql_expr_free(arg);
        return NULL;
    }
    return e;
}

void
weir__sql_expr_free(weir__sql_expr *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_args; i++)
        weir__sql_expr_free(e->args[i]);
    free(e->args);
    free(e->text);
    free(e->qual);
    free(e);
}

bool
weir__sql_duration(weir__sql_parse *p, const weir__sql_token *n,
    const weir__sql_token *unit, uint64_t *ms)
{
    static const struct {
        const char *name;
        uint64_t ms;
    } units[] = {{"MILLISECOND", 1}, {"MILLISECONDS", 1}, {"SECOND", 1000},
        {"SECONDS", 1000}, {"MINUTE", 60000}, {"MINUTES", 60000},
        {"HOUR", 3600000}, {"HOURS", 3600000}, {"DAY", 86400000},
        {"DAYS", 86400000}};
    unsigned long long v = strtoull(n->text, NULL, 10);
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(unit->text, units[i].name) == 0) {
            if (v > UINT64_MAX / units[i].ms) {
                weir__sql_error(p, n->pos, "duration too long");
                return false;
            }
            *ms = v * units[i].ms;
            return true;
        }
    }
    weir__sql_error(p, unit->pos,
        "unknown time unit '%s' (expected MILLISECONDS, SECONDS, MINUTES, "
        "HOURS or DAYS)",
        unit->text);
    return false;
}

void
weir__sql_stmt_free(weir__sql_stmt *s)
{
    if (!s)
        return;
    free(s->name);
    for (size_t i = 0; i < s->n_columns; i++) {
        free(s->columns[i].name);
        free(s->columns[i].type);
    }
    free(s->columns);
    for (size_t i = 0; i < s->n_props; i++) {
        free(s->props[i].name);
        free(s->props[i].value);
    }
    free(s->props);
    for (size_t i = 0; i < s->n_items; i++) {
        weir__sql_expr_free(s->items[i].expr);
        free(s->items[i].alias);
    }
    free(s->items);
    free(s->from.name);
    free(s->from.alias);
    free(s->join_with.name);
    free(s->join_with.alias);
    weir__sql_expr_free(s->join_on);
    weir__sql_expr_free(s->where);
    for (size_t i = 0; i < s->n_group_by; i++)
        weir__sql_expr_free(s->group_by[i]);
    free(s->group_by);
    weir__sql_expr_free(s->partition_by);
    free(s);
}
