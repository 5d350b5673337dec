/* Regular-expression functions: split, regex_extract, regex_match (POSIX
 * extended syntax, compiled once when the expression is parsed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/job/internal.h"

static int
compile_regex(weir__node *n, size_t i, weir_expr_error *err)
{
    int rv = weir__arg_literal(n, i, "a regular expression", err);
    if (rv != WEIR_OK) {
        return rv;
    }
    n->re = calloc(1, sizeof(*n->re));
    if (n->re == NULL) {
        return weir__nomem(err);
    }
    int rc = regcomp(n->re, n->args[i]->str, REG_EXTENDED);
    if (rc != 0) {
        char msg[128];
        regerror(rc, n->re, msg, sizeof(msg));
        free(n->re);
        n->re = NULL;
        return weir__expr_fail(err, n->args[i]->column, WEIR_EPARSE,
            "%s: bad regular expression: %s", n->fn->name, msg);
    }
    return WEIR_OK;
}

/* Runs n->re on s; pm has nmatch slots. 0 on a match. */
static int
run_regex(const weir__node *n, const char *s, size_t len, size_t nmatch,
    regmatch_t *pm)
{
    pm[0].rm_so = 0;
    pm[0].rm_eo = (regoff_t)len;
    return regexec(n->re, len ? s : "", nmatch, pm, REG_STARTEND);
}

/* ------------------------------------------------------------ regex */

static int
check_split(weir__node *n, weir_expr_error *err)
{
    int rv = weir__arg_is(n, 0, WEIR_TYPE_STRING, err);
    if (rv == WEIR_OK) {
        rv = compile_regex(n, 1, err);
    }
    n->t.type = WEIR_TYPE_LIST;
    n->t.elem = WEIR_TYPE_STRING;
    return rv;
}

static int
eval_split(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const char *s;
    size_t len;
    int rv = weir__text_arg(n, args, 0, &s, &len, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    size_t cap = 16, count = 0;
    weir_value *items = weir_arena_alloc(ctx->arena, cap * sizeof(*items));
    if (items == NULL) {
        return weir__nomem(err);
    }
    size_t piece = 0, pos = 0;
    while (pos <= len) {
        regmatch_t pm[1];
        if (run_regex(n, s + pos, len - pos, 1, pm) != 0) {
            break;
        }
        size_t so = pos + (size_t)pm[0].rm_so, eo = pos + (size_t)pm[0].rm_eo;
        if (eo == so) { /* an empty match splits nothing: step over a byte */
            if (so >= len) {
                break;
            }
            pos = so + 1;
            continue;
        }
        if (count == cap) {
            weir_value *more =
                weir_arena_alloc(ctx->arena, 2 * cap * sizeof(*items));
            if (more == NULL) {
                return weir__nomem(err);
            }
            memcpy(more, items, cap * sizeof(*items));
            items = more;
            cap *= 2;
        }
        items[count++] = weir_value_string(s + piece, so - piece);
        piece = pos = eo;
    }
    if (count == cap) {
        weir_value *more =
            weir_arena_alloc(ctx->arena, (cap + 1) * sizeof(*items));
        if (more == NULL) {
            return weir__nomem(err);
        }
        memcpy(more, items, cap * sizeof(*items));
        items = more;
    }
    items[count++] = weir_value_string(s + piece, len - piece);
    out->type = WEIR_TYPE_LIST;
    out->u.list.items = items;
    out->u.list.len = count;
    return WEIR_OK;
}

static int
check_regex_extract(weir__node *n, weir_expr_error *err)
{
    int rv = weir__arg_is(n, 0, WEIR_TYPE_STRING, err);
    if (rv == WEIR_OK) {
        rv = compile_regex(n, 1, err);
    }
    n->t = weir__st(WEIR_TYPE_STRING);
    if (rv != WEIR_OK) {
        return rv;
    }
    if (n->nargs < 3) {
        n->group = n->re->re_nsub > 0 ? 1 : 0;
        return WEIR_OK;
    }
    const weir__node *g = n->args[2];
    if (g->kind != WEIR__N_LIT || g->lit.type != WEIR_TYPE_INT) {
        return weir__expr_fail(err, g->column, WEIR_EINVAL,
            "regex_extract: argument 3 must be an int literal (the group)");
    }
    if (g->lit.u.i < 0 || (uint64_t)g->lit.u.i > n->re->re_nsub) {
        return weir__expr_fail(err, g->column, WEIR_EINVAL,
            "regex_extract: the expression has %zu group%s, not %lld",
            (size_t)n->re->re_nsub, n->re->re_nsub == 1 ? "" : "s",
            (long long)g->lit.u.i);
    }
    n->group = (int)g->lit.u.i;
    return WEIR_OK;
}

#define MAX_GROUPS 10

static int
eval_regex_extract(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const char *s;
    size_t len;
    int rv = weir__text_arg(n, args, 0, &s, &len, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    regmatch_t pm[MAX_GROUPS];
    size_t nm = (size_t)n->group + 1;
    if (nm > MAX_GROUPS) {
        return weir__expr_fail(err, n->column, WEIR_EINVAL,
            "regex_extract: at most %d groups", MAX_GROUPS - 1);
    }
    if (run_regex(n, s, len, nm, pm) != 0 || pm[n->group].rm_so < 0) {
        *out = weir_value_null(); /* no match */
        return WEIR_OK;
    }
    weir__set_string(out, s + pm[n->group].rm_so,
        (size_t)(pm[n->group].rm_eo - pm[n->group].rm_so));
    return WEIR_OK;
}

static int
check_regex_match(weir__node *n, weir_expr_error *err)
{
    int rv = weir__arg_is(n, 0, WEIR_TYPE_STRING, err);
    if (rv == WEIR_OK) {
        rv = compile_regex(n, 1, err);
    }
    n->t = weir__st(WEIR_TYPE_BOOL);
    return rv;
}

static int
eval_regex_match(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const char *s;
    size_t len;
    int rv = weir__text_arg(n, args, 0, &s, &len, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    regmatch_t pm[1];
    *out = weir_value_bool(run_regex(n, s, len, 1, pm) == 0);
    return WEIR_OK;
}

const weir__func weir__funcs_regex[] = {
    {"regex_extract", 2, 3, false, check_regex_extract, eval_regex_extract},
    {"regex_match", 2, 2, false, check_regex_match, eval_regex_match},
    {"split", 2, 2, false, check_split, eval_split},
};
const size_t weir__funcs_regex_count =
    sizeof(weir__funcs_regex) / sizeof(weir__funcs_regex[0]);
