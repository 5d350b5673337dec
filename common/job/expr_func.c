/*
 * The functions of the expression language: for each, a check (argument
 * types, literal arguments compiled once, the result type) and an eval.
 * String functions work on bytes (ASCII case mapping); times are ms UTC.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/job/internal.h"
#include "common/job/time_fmt.h"

static weir_stype
st(weir_type t)
{
    weir_stype s = {t, WEIR_TYPE_ANY};
    return s;
}

static int
nomem(weir_expr_error *err)
{
    return weir__expr_fail(
        err, 0, WEIR_ENOMEM, "record too large for the arena");
}

/* Fails unless argument i can be a `want`. */
static int
arg_is(weir__node *n, size_t i, weir_type want, weir_expr_error *err)
{
    weir_type have = n->args[i]->t.type;
    if (weir__type_accepts(want, have)) {
        return WEIR_OK;
    }
    return weir__expr_fail(err, n->args[i]->column, WEIR_EINVAL,
        "%s: argument %zu is %s, expected %s", n->fn->name, i + 1,
        weir_type_name(have), weir_type_name(want));
}

/* Fails unless argument i is a string literal (regex, format). */
static int
arg_literal(weir__node *n, size_t i, const char *what, weir_expr_error *err)
{
    const weir__node *a = n->args[i];
    if (a->kind == WEIR__N_LIT && a->lit.type == WEIR_TYPE_STRING) {
        return WEIR_OK;
    }
    return weir__expr_fail(err, a->column, WEIR_EINVAL,
        "%s: argument %zu must be a string literal (%s)", n->fn->name, i + 1,
        what);
}

static int
compile_regex(weir__node *n, size_t i, weir_expr_error *err)
{
    int rv = arg_literal(n, i, "a regular expression", err);
    if (rv != WEIR_OK) {
        return rv;
    }
    n->re = calloc(1, sizeof(*n->re));
    if (n->re == NULL) {
        return nomem(err);
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

static int
text_arg(const weir__node *n, const weir_value *args, size_t i, const char **p,
    size_t *len, weir_expr_error *err)
{
    return weir__want_string(n, &args[i], i, p, len, err);
}

static void
set_string(weir_value *out, const char *p, size_t len)
{
    *out = weir_value_string(p, len);
}

/* ------------------------------------------------------------ strings */

static int
check_str_to_str(weir__node *n, weir_expr_error *err)
{
    n->t = st(WEIR_TYPE_STRING);
    return arg_is(n, 0, WEIR_TYPE_STRING, err);
}

static int
eval_case(const weir__node *n, const weir_value *args, const weir_expr_ctx *ctx,
    weir_value *out, weir_expr_error *err, bool up)
{
    const char *s;
    size_t len;
    int rv = text_arg(n, args, 0, &s, &len, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    char *p = weir_arena_alloc(ctx->arena, len + 1);
    if (p == NULL) {
        return nomem(err);
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (up && c >= 'a' && c <= 'z') {
            c = (char)(c - 'a' + 'A');
        } else if (!up && c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        p[i] = c;
    }
    p[len] = '\0';
    set_string(out, p, len);
    return WEIR_OK;
}

static int
eval_lower(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    return eval_case(n, args, ctx, out, err, false);
}

static int
eval_upper(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    return eval_case(n, args, ctx, out, err, true);
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

static int
eval_trim(const weir__node *n, const weir_value *args, const weir_expr_ctx *ctx,
    weir_value *out, weir_expr_error *err)
{
    const char *s;
    size_t len;
    int rv = text_arg(n, args, 0, &s, &len, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    while (len > 0 && is_space(s[0])) {
        s++;
        len--;
    }
    while (len > 0 && is_space(s[len - 1])) {
        len--;
    }
    set_string(out, s, len);
    return WEIR_OK;
}

static int
check_len(weir__node *n, weir_expr_error *err)
{
    weir_type t = n->args[0]->t.type;
    n->t = st(WEIR_TYPE_INT);
    if (t == WEIR_TYPE_STRING || t == WEIR_TYPE_BYTES || t == WEIR_TYPE_LIST ||
        weir__type_dynamic(t)) {
        return WEIR_OK;
    }
    return weir__expr_fail(err, n->args[0]->column, WEIR_EINVAL,
        "len: argument 1 is %s, expected a string, bytes, list or json",
        weir_type_name(t));
}

static int
eval_len(const weir__node *n, const weir_value *args, const weir_expr_ctx *ctx,
    weir_value *out, weir_expr_error *err)
{
    const weir_value *v = &args[0];
    switch (v->type) {
    case WEIR_TYPE_STRING:
    case WEIR_TYPE_BYTES:
        *out = weir_value_int((int64_t)v->u.s.len);
        return WEIR_OK;
    case WEIR_TYPE_LIST:
        *out = weir_value_int((int64_t)v->u.list.len);
        return WEIR_OK;
    case WEIR_TYPE_JSON:
        *out = weir_value_int((int64_t)v->u.obj.len);
        return WEIR_OK;
    default:
        return weir__expr_fail(err, n->column, WEIR_EINVAL,
            "len: argument 1 is %s", weir_type_name(v->type));
    }
}

static int
check_substr(weir__node *n, weir_expr_error *err)
{
    int rv = check_str_to_str(n, err);
    for (size_t i = 1; i < n->nargs && rv == WEIR_OK; i++) {
        rv = n->args[i]->t.type == WEIR_TYPE_FLOAT
                 ? arg_is(n, i, WEIR_TYPE_TIME, err) /* reject floats */
                 : arg_is(n, i, WEIR_TYPE_INT, err);
    }
    return rv;
}

static int
eval_substr(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const char *s;
    size_t len;
    int64_t start, count = INT64_MAX;
    int rv = text_arg(n, args, 0, &s, &len, err);
    if (rv == WEIR_OK) {
        rv = weir__want_int(n, &args[1], 1, &start, err);
    }
    if (rv == WEIR_OK && n->nargs > 2) {
        rv = weir__want_int(n, &args[2], 2, &count, err);
    }
    if (rv != WEIR_OK) {
        return rv;
    }
    if (count < 0) {
        return weir__expr_fail(
            err, n->column, WEIR_EINVAL, "substr: negative length");
    }
    if (start < 0) {
        start = (int64_t)len + start < 0 ? 0 : (int64_t)len + start;
    }
    if ((uint64_t)start > len) {
        start = (int64_t)len;
    }
    size_t rest = len - (size_t)start;
    size_t take = (uint64_t)count < rest ? (size_t)count : rest;
    set_string(out, s + start, take);
    return WEIR_OK;
}

static int
check_two_str_bool(weir__node *n, weir_expr_error *err)
{
    int rv = arg_is(n, 0, WEIR_TYPE_STRING, err);
    if (rv == WEIR_OK) {
        rv = arg_is(n, 1, WEIR_TYPE_STRING, err);
    }
    n->t = st(WEIR_TYPE_BOOL);
    return rv;
}

typedef enum { FIND_CONTAINS, FIND_STARTS, FIND_ENDS } find_kind;

static int
eval_find(const weir__node *n, const weir_value *args, weir_value *out,
    weir_expr_error *err, find_kind kind)
{
    const char *s, *t;
    size_t slen, tlen;
    int rv = text_arg(n, args, 0, &s, &slen, err);
    if (rv == WEIR_OK) {
        rv = text_arg(n, args, 1, &t, &tlen, err);
    }
    if (rv != WEIR_OK) {
        return rv;
    }
    bool r = false;
    if (tlen <= slen) {
        switch (kind) {
        case FIND_STARTS:
            r = tlen == 0 || memcmp(s, t, tlen) == 0;
            break;
        case FIND_ENDS:
            r = tlen == 0 || memcmp(s + slen - tlen, t, tlen) == 0;
            break;
        default:
            r = tlen == 0 || memmem(s, slen, t, tlen) != NULL;
            break;
        }
    }
    *out = weir_value_bool(r);
    return WEIR_OK;
}

static int
eval_contains(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    return eval_find(n, args, out, err, FIND_CONTAINS);
}

static int
eval_starts_with(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    return eval_find(n, args, out, err, FIND_STARTS);
}

static int
eval_ends_with(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    return eval_find(n, args, out, err, FIND_ENDS);
}

static int
check_replace(weir__node *n, weir_expr_error *err)
{
    int rv = WEIR_OK;
    for (size_t i = 0; i < 3 && rv == WEIR_OK; i++) {
        rv = arg_is(n, i, WEIR_TYPE_STRING, err);
    }
    n->t = st(WEIR_TYPE_STRING);
    return rv;
}

static int
eval_replace(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const char *s, *from, *to;
    size_t slen, flen, tlen;
    int rv = text_arg(n, args, 0, &s, &slen, err);
    if (rv == WEIR_OK) {
        rv = text_arg(n, args, 1, &from, &flen, err);
    }
    if (rv == WEIR_OK) {
        rv = text_arg(n, args, 2, &to, &tlen, err);
    }
    if (rv != WEIR_OK) {
        return rv;
    }
    if (flen == 0) {
        set_string(out, s, slen);
        return WEIR_OK;
    }
    size_t hits = 0;
    for (const char *p = s;
         (p = memmem(p, slen - (size_t)(p - s), from, flen)) != NULL;
         p += flen) {
        hits++;
    }
    if (hits == 0) {
        set_string(out, s, slen);
        return WEIR_OK;
    }
    if (tlen > flen && hits > (SIZE_MAX - slen) / (tlen - flen + 1)) {
        return nomem(err);
    }
    size_t olen = slen - hits * flen + hits * tlen;
    char *o = weir_arena_alloc(ctx->arena, olen + 1);
    if (o == NULL) {
        return nomem(err);
    }
    size_t k = 0;
    const char *p = s;
    const char *q;
    while ((q = memmem(p, slen - (size_t)(p - s), from, flen)) != NULL) {
        memcpy(o + k, p, (size_t)(q - p));
        k += (size_t)(q - p);
        if (tlen) {
            memcpy(o + k, to, tlen);
        }
        k += tlen;
        p = q + flen;
    }
    memcpy(o + k, p, slen - (size_t)(p - s));
    k += slen - (size_t)(p - s);
    o[k] = '\0';
    set_string(out, o, k);
    return WEIR_OK;
}

/* ------------------------------------------------------------ regex */

static int
check_split(weir__node *n, weir_expr_error *err)
{
    int rv = arg_is(n, 0, WEIR_TYPE_STRING, err);
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
    int rv = text_arg(n, args, 0, &s, &len, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    size_t cap = 16, count = 0;
    weir_value *items = weir_arena_alloc(ctx->arena, cap * sizeof(*items));
    if (items == NULL) {
        return nomem(err);
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
                return nomem(err);
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
            return nomem(err);
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
    int rv = arg_is(n, 0, WEIR_TYPE_STRING, err);
    if (rv == WEIR_OK) {
        rv = compile_regex(n, 1, err);
    }
    n->t = st(WEIR_TYPE_STRING);
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
    int rv = text_arg(n, args, 0, &s, &len, err);
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
    set_string(out, s + pm[n->group].rm_so,
        (size_t)(pm[n->group].rm_eo - pm[n->group].rm_so));
    return WEIR_OK;
}

static int
check_regex_match(weir__node *n, weir_expr_error *err)
{
    int rv = arg_is(n, 0, WEIR_TYPE_STRING, err);
    if (rv == WEIR_OK) {
        rv = compile_regex(n, 1, err);
    }
    n->t = st(WEIR_TYPE_BOOL);
    return rv;
}

static int
eval_regex_match(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const char *s;
    size_t len;
    int rv = text_arg(n, args, 0, &s, &len, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    regmatch_t pm[1];
    *out = weir_value_bool(run_regex(n, s, len, 1, pm) == 0);
    return WEIR_OK;
}

/* ------------------------------------------------------------ conversion */

int
weir__value_text(
    const weir_value *v, weir_arena *arena, const char **ptr, size_t *len)
{
    char num[64];
    int n;
    switch (v->type) {
    case WEIR_TYPE_STRING:
    case WEIR_TYPE_BYTES:
        *ptr = v->u.s.ptr;
        *len = v->u.s.len;
        return WEIR_OK;
    case WEIR_TYPE_BOOL:
        *ptr = v->u.b ? "true" : "false";
        *len = strlen(*ptr);
        return WEIR_OK;
    case WEIR_TYPE_NULL:
    case WEIR_TYPE_ANY:
        *ptr = "null";
        *len = 4;
        return WEIR_OK;
    case WEIR_TYPE_INT:
    case WEIR_TYPE_TIME:
        n = snprintf(num, sizeof(num), "%lld", (long long)v->u.i);
        break;
    case WEIR_TYPE_FLOAT:
        n = weir__float_format(v->u.f, num, sizeof(num));
        break;
    default: {
        weir_buf buf;
        weir_buf_init(&buf);
        int rv = weir_value_to_json(v, &buf);
        if (rv == WEIR_OK) {
            *ptr = weir_arena_strdup(arena, buf.data, buf.len);
            *len = buf.len;
            rv = *ptr != NULL ? WEIR_OK : WEIR_ENOMEM;
        }
        weir_buf_fini(&buf);
        return rv;
    }
    }
    *ptr = weir_arena_strdup(arena, num, (size_t)n);
    *len = (size_t)n;
    return *ptr != NULL ? WEIR_OK : WEIR_ENOMEM;
}

static int
check_any_to_str(weir__node *n, weir_expr_error *err)
{
    n->t = st(WEIR_TYPE_STRING);
    return WEIR_OK;
}

static int
eval_to_string(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const char *p;
    size_t len;
    if (weir__value_text(&args[0], ctx->arena, &p, &len) != WEIR_OK) {
        return nomem(err);
    }
    set_string(out, p, len);
    return WEIR_OK;
}

static int
eval_to_json(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    weir_buf buf;
    weir_buf_init(&buf);
    int rv = weir_value_to_json(&args[0], &buf);
    const char *p = NULL;
    if (rv == WEIR_OK) {
        p = weir_arena_strdup(ctx->arena, buf.data ? buf.data : "", buf.len);
    }
    size_t len = buf.len;
    weir_buf_fini(&buf);
    if (p == NULL) {
        return nomem(err);
    }
    set_string(out, p, len);
    return WEIR_OK;
}

static int
eval_concat(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    size_t total = 0;
    const char *stack_p[8];
    size_t stack_l[8];
    const char **ps = stack_p;
    size_t *ls = stack_l;
    if (n->nargs > 8) {
        ps = weir_arena_alloc(ctx->arena, n->nargs * sizeof(*ps));
        ls = weir_arena_alloc(ctx->arena, n->nargs * sizeof(*ls));
        if (ps == NULL || ls == NULL) {
            return nomem(err);
        }
    }
    for (size_t i = 0; i < n->nargs; i++) {
        if (args[i].type == WEIR_TYPE_NULL) {
            ps[i] = "";
            ls[i] = 0;
        } else if (weir__value_text(&args[i], ctx->arena, &ps[i], &ls[i]) !=
                   WEIR_OK) {
            return nomem(err);
        }
        total += ls[i];
    }
    char *o = weir_arena_alloc(ctx->arena, total + 1);
    if (o == NULL) {
        return nomem(err);
    }
    size_t k = 0;
    for (size_t i = 0; i < n->nargs; i++) {
        if (ls[i]) {
            memcpy(o + k, ps[i], ls[i]);
        }
        k += ls[i];
    }
    o[k] = '\0';
    set_string(out, o, k);
    return WEIR_OK;
}

static int
check_to_num(weir__node *n, weir_expr_error *err, weir_type result)
{
    weir_type t = n->args[0]->t.type;
    n->t = st(result);
    if (t == WEIR_TYPE_LIST || t == WEIR_TYPE_BYTES || t == WEIR_TYPE_NULL) {
        return weir__expr_fail(err, n->args[0]->column, WEIR_EINVAL,
            "%s: cannot convert a %s", n->fn->name, weir_type_name(t));
    }
    return WEIR_OK;
}

static int
check_to_int(weir__node *n, weir_expr_error *err)
{
    return check_to_num(n, err, WEIR_TYPE_INT);
}

static int
check_to_float(weir__node *n, weir_expr_error *err)
{
    return check_to_num(n, err, WEIR_TYPE_FLOAT);
}

static int
bad_conv(const weir__node *n, const weir_value *v, weir_expr_error *err)
{
    if (v->type == WEIR_TYPE_STRING) {
        return weir__expr_fail(err, n->column, WEIR_EINVAL,
            "%s: cannot convert '%.*s'", n->fn->name,
            (int)(v->u.s.len > 40 ? 40 : v->u.s.len), v->u.s.ptr);
    }
    return weir__expr_fail(err, n->column, WEIR_EINVAL,
        "%s: cannot convert a %s", n->fn->name, weir_type_name(v->type));
}

static int
eval_to_int(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const weir_value *v = &args[0];
    switch (v->type) {
    case WEIR_TYPE_INT:
    case WEIR_TYPE_TIME:
        *out = weir_value_int(v->u.i);
        return WEIR_OK;
    case WEIR_TYPE_BOOL:
        *out = weir_value_int(v->u.b ? 1 : 0);
        return WEIR_OK;
    case WEIR_TYPE_FLOAT:
        if (!(v->u.f > -9.2e18 && v->u.f < 9.2e18)) {
            return bad_conv(n, v, err);
        }
        *out = weir_value_int((int64_t)v->u.f);
        return WEIR_OK;
    case WEIR_TYPE_STRING: {
        char *s = weir_arena_strdup(ctx->arena, v->u.s.ptr, v->u.s.len);
        if (s == NULL) {
            return nomem(err);
        }
        char *end;
        errno = 0;
        long long i = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || strlen(s) != v->u.s.len) {
            return bad_conv(n, v, err);
        }
        *out = weir_value_int(i);
        return WEIR_OK;
    }
    default:
        return bad_conv(n, v, err);
    }
}

static int
eval_to_float(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const weir_value *v = &args[0];
    switch (v->type) {
    case WEIR_TYPE_INT:
    case WEIR_TYPE_TIME:
        *out = weir_value_float((double)v->u.i);
        return WEIR_OK;
    case WEIR_TYPE_FLOAT:
        *out = *v;
        return WEIR_OK;
    case WEIR_TYPE_BOOL:
        *out = weir_value_float(v->u.b ? 1 : 0);
        return WEIR_OK;
    case WEIR_TYPE_STRING: {
        char *s = weir_arena_strdup(ctx->arena, v->u.s.ptr, v->u.s.len);
        if (s == NULL) {
            return nomem(err);
        }
        char *end;
        double d = strtod(s, &end);
        if (end == s || *end != '\0' || strlen(s) != v->u.s.len) {
            return bad_conv(n, v, err);
        }
        *out = weir_value_float(d);
        return WEIR_OK;
    }
    default:
        return bad_conv(n, v, err);
    }
}

static int
check_parse_json(weir__node *n, weir_expr_error *err)
{
    n->t = st(WEIR_TYPE_JSON);
    return arg_is(n, 0, WEIR_TYPE_STRING, err);
}

static int
eval_parse_json(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const char *s;
    size_t len;
    char msg[160];
    int rv = text_arg(n, args, 0, &s, &len, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    rv = weir_json_parse(s, len, ctx->arena, out, msg, sizeof(msg));
    if (rv != WEIR_OK) {
        return weir__expr_fail(err, n->column,
            rv == WEIR_ENOMEM ? WEIR_ENOMEM : WEIR_EINVAL, "parse_json: %s",
            msg);
    }
    return WEIR_OK;
}

/* ------------------------------------------------------------ control */

/* The common type of two branches, or -1. */
static int
unify(weir_stype a, weir_stype b, weir_stype *out)
{
    if (a.type == b.type && (a.type != WEIR_TYPE_LIST || a.elem == b.elem)) {
        *out = a;
    } else if (a.type == WEIR_TYPE_NULL) {
        *out = b;
    } else if (b.type == WEIR_TYPE_NULL) {
        *out = a;
    } else if (weir__type_dynamic(a.type) || weir__type_dynamic(b.type)) {
        *out = st(WEIR_TYPE_ANY);
    } else if (a.type == WEIR_TYPE_LIST && b.type == WEIR_TYPE_LIST) {
        out->type = WEIR_TYPE_LIST;
        out->elem = WEIR_TYPE_ANY;
    } else if ((a.type == WEIR_TYPE_INT && b.type == WEIR_TYPE_FLOAT) ||
               (a.type == WEIR_TYPE_FLOAT && b.type == WEIR_TYPE_INT)) {
        *out = st(WEIR_TYPE_FLOAT);
    } else {
        return -1;
    }
    return 0;
}

static int
unify_args(weir__node *n, size_t first, weir_expr_error *err)
{
    weir_stype t = n->args[first]->t;
    for (size_t i = first + 1; i < n->nargs; i++) {
        if (unify(t, n->args[i]->t, &t) != 0) {
            return weir__expr_fail(err, n->args[i]->column, WEIR_EINVAL,
                "%s: argument %zu is %s, expected %s like argument %zu",
                n->fn->name, i + 1, weir_type_name(n->args[i]->t.type),
                weir_type_name(t.type), first + 1);
        }
    }
    n->t = t;
    return WEIR_OK;
}

/* Converts an int branch result to the float the node promised. */
static void
coerce(const weir__node *n, weir_value *out)
{
    if (n->t.type == WEIR_TYPE_FLOAT && out->type == WEIR_TYPE_INT) {
        *out = weir_value_float((double)out->u.i);
    }
}

static int
check_if(weir__node *n, weir_expr_error *err)
{
    int rv = arg_is(n, 0, WEIR_TYPE_BOOL, err);
    if (rv == WEIR_OK && n->args[0]->t.type == WEIR_TYPE_NULL) {
        rv = weir__expr_fail(
            err, n->args[0]->column, WEIR_EINVAL, "if: the condition is null");
    }
    return rv == WEIR_OK ? unify_args(n, 1, err) : rv;
}

static int
eval_if(const weir__node *n, const weir_value *args, const weir_expr_ctx *ctx,
    weir_value *out, weir_expr_error *err)
{
    weir_value c;
    bool b;
    int rv = weir__node_eval(n->args[0], ctx, &c, err);
    if (rv == WEIR_OK) {
        rv = weir__want_bool(n, &c, "if: the condition", &b, err);
    }
    if (rv == WEIR_OK) {
        rv = weir__node_eval(n->args[b ? 1 : 2], ctx, out, err);
    }
    if (rv == WEIR_OK) {
        coerce(n, out);
    }
    return rv;
}

static int
check_coalesce(weir__node *n, weir_expr_error *err)
{
    return unify_args(n, 0, err);
}

static int
eval_coalesce(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    *out = weir_value_null();
    for (size_t i = 0; i < n->nargs; i++) {
        int rv = weir__node_eval(n->args[i], ctx, out, err);
        if (rv != WEIR_OK) {
            return rv;
        }
        if (out->type != WEIR_TYPE_NULL) {
            break;
        }
    }
    coerce(n, out);
    return WEIR_OK;
}

static int
check_is_null(weir__node *n, weir_expr_error *err)
{
    n->t = st(WEIR_TYPE_BOOL);
    return WEIR_OK;
}

static int
eval_is_null(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    *out = weir_value_bool(args[0].type == WEIR_TYPE_NULL);
    return WEIR_OK;
}

static int
check_abs(weir__node *n, weir_expr_error *err)
{
    weir_type t = n->args[0]->t.type;
    if (t == WEIR_TYPE_INT || t == WEIR_TYPE_FLOAT) {
        n->t = st(t);
        return WEIR_OK;
    }
    if (weir__type_dynamic(t)) {
        n->t = st(WEIR_TYPE_ANY);
        return WEIR_OK;
    }
    return weir__expr_fail(err, n->args[0]->column, WEIR_EINVAL,
        "abs: argument 1 is %s, expected a number", weir_type_name(t));
}

static int
eval_abs(const weir__node *n, const weir_value *args, const weir_expr_ctx *ctx,
    weir_value *out, weir_expr_error *err)
{
    const weir_value *v = &args[0];
    if (v->type == WEIR_TYPE_FLOAT) {
        *out = weir_value_float(v->u.f < 0 ? -v->u.f : v->u.f);
    } else if (v->type == WEIR_TYPE_INT && v->u.i != INT64_MIN) {
        *out = weir_value_int(v->u.i < 0 ? -v->u.i : v->u.i);
    } else {
        return bad_conv(n, v, err);
    }
    return WEIR_OK;
}

/* ------------------------------------------------------------ time */

static int
check_time_arg(weir__node *n, size_t i, weir_expr_error *err)
{
    weir_type t = n->args[i]->t.type;
    if (t == WEIR_TYPE_TIME || t == WEIR_TYPE_INT || weir__type_dynamic(t)) {
        return WEIR_OK;
    }
    return weir__expr_fail(err, n->args[i]->column, WEIR_EINVAL,
        "%s: argument %zu is %s, expected a time or int (ms)", n->fn->name,
        i + 1, weir_type_name(t));
}

static int
want_time(const weir__node *n, const weir_value *v, size_t i, int64_t *ms,
    weir_expr_error *err)
{
    if (v->type == WEIR_TYPE_TIME || v->type == WEIR_TYPE_INT) {
        *ms = v->u.i;
        return WEIR_OK;
    }
    return weir__expr_fail(err, n->column, WEIR_EINVAL,
        "%s: argument %zu is %s, expected a time", n->fn->name, i + 1,
        v->type == WEIR_TYPE_NULL ? "null" : weir_type_name(v->type));
}

static int
check_parse_time(weir__node *n, weir_expr_error *err)
{
    int rv = arg_is(n, 0, WEIR_TYPE_STRING, err);
    n->t = st(WEIR_TYPE_TIME);
    if (rv == WEIR_OK && n->nargs > 1) {
        rv = arg_literal(n, 1, "a strptime format", err);
        if (rv == WEIR_OK && (n->fmt = strdup(n->args[1]->str)) == NULL) {
            rv = nomem(err);
        }
    }
    return rv;
}

static int
eval_parse_time(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const char *s;
    size_t len;
    int64_t ms;
    int rv = text_arg(n, args, 0, &s, &len, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    char *z = weir_arena_strdup(ctx->arena, s, len);
    if (z == NULL) {
        return nomem(err);
    }
    rv = n->fmt != NULL ? weir_time_parse_fmt(z, n->fmt, &ms)
                        : weir_time_parse_iso(z, &ms);
    if (rv != WEIR_OK || strlen(z) != len) {
        return weir__expr_fail(err, n->column, WEIR_EINVAL,
            "parse_time: cannot parse '%.*s'%s%s", (int)(len > 40 ? 40 : len),
            s, n->fmt ? " with format " : " as ISO-8601", n->fmt ? n->fmt : "");
    }
    *out = weir_value_time(ms);
    return WEIR_OK;
}

static int
check_format_time(weir__node *n, weir_expr_error *err)
{
    int rv = check_time_arg(n, 0, err);
    n->t = st(WEIR_TYPE_STRING);
    if (rv == WEIR_OK && n->nargs > 1) {
        rv = arg_literal(n, 1, "a strftime format", err);
        if (rv == WEIR_OK && (n->fmt = strdup(n->args[1]->str)) == NULL) {
            rv = nomem(err);
        }
    }
    return rv;
}

static int
eval_format_time(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    int64_t ms;
    int rv = want_time(n, &args[0], 0, &ms, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    const char *fmt = n->fmt != NULL ? n->fmt : WEIR_TIME_DEFAULT_FORMAT;
    size_t cap = 64 + 4 * strlen(fmt);
    char *o = weir_arena_alloc(ctx->arena, cap);
    if (o == NULL) {
        return nomem(err);
    }
    size_t len;
    if (weir_time_format(ms, fmt, o, cap, &len) != WEIR_OK) {
        return weir__expr_fail(err, n->column, WEIR_EINVAL,
            "format_time: time %lld out of range", (long long)ms);
    }
    set_string(out, o, len);
    return WEIR_OK;
}

static int
check_to_time(weir__node *n, weir_expr_error *err)
{
    weir_type t = n->args[0]->t.type;
    n->t = st(WEIR_TYPE_TIME);
    if (t == WEIR_TYPE_STRING || t == WEIR_TYPE_INT || t == WEIR_TYPE_TIME ||
        t == WEIR_TYPE_FLOAT || weir__type_dynamic(t)) {
        return WEIR_OK;
    }
    return weir__expr_fail(err, n->args[0]->column, WEIR_EINVAL,
        "to_time: argument 1 is %s, expected ms or an ISO-8601 string",
        weir_type_name(t));
}

static int
eval_to_time(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const weir_value *v = &args[0];
    if (v->type == WEIR_TYPE_STRING) {
        return eval_parse_time(n, args, ctx, out, err);
    }
    if (v->type == WEIR_TYPE_FLOAT) {
        if (!(v->u.f > -9.2e18 && v->u.f < 9.2e18)) {
            return bad_conv(n, v, err);
        }
        *out = weir_value_time((int64_t)v->u.f);
        return WEIR_OK;
    }
    int64_t ms;
    int rv = want_time(n, v, 0, &ms, err);
    if (rv == WEIR_OK) {
        *out = weir_value_time(ms);
    }
    return rv;
}

static int
check_timestamp(weir__node *n, weir_expr_error *err)
{
    n->t = st(WEIR_TYPE_TIME);
    return WEIR_OK;
}

static int
eval_timestamp(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    *out = weir_value_time(ctx->timestamp_ms);
    return WEIR_OK;
}

static int
check_floor_time(weir__node *n, weir_expr_error *err)
{
    int rv = check_time_arg(n, 0, err);
    if (rv == WEIR_OK) {
        rv = arg_is(n, 1, WEIR_TYPE_INT, err);
    }
    if (rv == WEIR_OK && n->args[1]->t.type == WEIR_TYPE_FLOAT) {
        rv = weir__expr_fail(err, n->args[1]->column, WEIR_EINVAL,
            "floor_time: argument 2 must be an int (ms)");
    }
    n->t = st(WEIR_TYPE_TIME);
    return rv;
}

static int
eval_floor_time(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    int64_t ms, unit;
    int rv = want_time(n, &args[0], 0, &ms, err);
    if (rv == WEIR_OK) {
        rv = weir__want_int(n, &args[1], 1, &unit, err);
    }
    if (rv != WEIR_OK) {
        return rv;
    }
    if (unit <= 0) {
        return weir__expr_fail(
            err, n->column, WEIR_EINVAL, "floor_time: unit must be positive");
    }
    int64_t r = ms % unit;
    if (r < 0) {
        r += unit;
    }
    *out = weir_value_time(ms - r);
    return WEIR_OK;
}

/* ------------------------------------------------------------ table */

#define MANY 64

static const weir__func funcs[] = {
    {"abs", 1, 1, false, check_abs, eval_abs},
    {"coalesce", 1, MANY, true, check_coalesce, eval_coalesce},
    {"concat", 1, MANY, false, check_any_to_str, eval_concat},
    {"contains", 2, 2, false, check_two_str_bool, eval_contains},
    {"ends_with", 2, 2, false, check_two_str_bool, eval_ends_with},
    {"floor_time", 2, 2, false, check_floor_time, eval_floor_time},
    {"format_time", 1, 2, false, check_format_time, eval_format_time},
    {"if", 3, 3, true, check_if, eval_if},
    {"is_null", 1, 1, false, check_is_null, eval_is_null},
    {"len", 1, 1, false, check_len, eval_len},
    {"lower", 1, 1, false, check_str_to_str, eval_lower},
    {"parse_json", 1, 1, false, check_parse_json, eval_parse_json},
    {"parse_time", 1, 2, false, check_parse_time, eval_parse_time},
    {"regex_extract", 2, 3, false, check_regex_extract, eval_regex_extract},
    {"regex_match", 2, 2, false, check_regex_match, eval_regex_match},
    {"replace", 3, 3, false, check_replace, eval_replace},
    {"split", 2, 2, false, check_split, eval_split},
    {"starts_with", 2, 2, false, check_two_str_bool, eval_starts_with},
    {"substr", 2, 3, false, check_substr, eval_substr},
    {"timestamp", 0, 0, false, check_timestamp, eval_timestamp},
    {"to_float", 1, 1, false, check_to_float, eval_to_float},
    {"to_int", 1, 1, false, check_to_int, eval_to_int},
    {"to_json", 1, 1, false, check_any_to_str, eval_to_json},
    {"to_string", 1, 1, false, check_any_to_str, eval_to_string},
    {"to_time", 1, 1, false, check_to_time, eval_to_time},
    {"trim", 1, 1, false, check_str_to_str, eval_trim},
    {"upper", 1, 1, false, check_str_to_str, eval_upper},
};

const weir__func *
weir__func_lookup(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
        if (strlen(funcs[i].name) == len &&
            memcmp(funcs[i].name, name, len) == 0) {
            return &funcs[i];
        }
    }
    return NULL;
}

const char *
weir__func_names(void)
{
    return "abs, coalesce, concat, contains, ends_with, floor_time, "
           "format_time, if, is_null, len, lower, parse_json, parse_time, "
           "regex_extract, regex_match, replace, split, starts_with, substr, "
           "timestamp, to_float, to_int, to_json, to_string, to_time, trim, "
           "upper";
}
