/*
 * The functions of the expression language: for each, a check (argument
 * types, literal arguments compiled once, the result type) and an eval.
 * This file: the lookup, shared helpers and the string functions; the
 * others are in expr_func_regex.c, expr_func_conv.c and expr_func_time.c.
 * String functions work on bytes (ASCII case mapping).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/expr/expr_int.h"

weir_stype
weir__st(weir_type t)
{
    weir_stype s = {t, WEIR_TYPE_ANY};
    return s;
}

int
weir__nomem(weir_expr_error *err)
{
    return weir__expr_fail(
        err, 0, WEIR_ENOMEM, "record too large for the arena");
}

/* Fails unless argument i can be a `want`. */
int
weir__arg_is(weir__node *n, size_t i, weir_type want, weir_expr_error *err)
{
    weir_type have = n->args[i]->t.type;
    if (weir_type_accepts(want, have)) {
        return WEIR_OK;
    }
    return weir__expr_fail(err, n->args[i]->column, WEIR_EINVAL,
        "%s: argument %zu is %s, expected %s", n->fn->name, i + 1,
        weir_type_name(have), weir_type_name(want));
}

/* Fails unless argument i is a string literal (regex, format). */
int
weir__arg_literal(
    weir__node *n, size_t i, const char *what, weir_expr_error *err)
{
    const weir__node *a = n->args[i];
    if (a->kind == WEIR__N_LIT && a->lit.type == WEIR_TYPE_STRING) {
        return WEIR_OK;
    }
    return weir__expr_fail(err, a->column, WEIR_EINVAL,
        "%s: argument %zu must be a string literal (%s)", n->fn->name, i + 1,
        what);
}

int
weir__text_arg(const weir__node *n, const weir_value *args, size_t i,
    const char **p, size_t *len, weir_expr_error *err)
{
    return weir__want_string(n, &args[i], i, p, len, err);
}

void
weir__set_string(weir_value *out, const char *p, size_t len)
{
    *out = weir_value_string(p, len);
}

int
weir__bad_conv(const weir__node *n, const weir_value *v, weir_expr_error *err)
{
    if (v->type == WEIR_TYPE_STRING) {
        return weir__expr_fail(err, n->column, WEIR_EINVAL,
            "%s: cannot convert '%.*s'", n->fn->name,
            (int)(v->u.s.len > 40 ? 40 : v->u.s.len), v->u.s.ptr);
    }
    return weir__expr_fail(err, n->column, WEIR_EINVAL,
        "%s: cannot convert a %s", n->fn->name, weir_type_name(v->type));
}

/* ------------------------------------------------------------ strings */

static int
check_str_to_str(weir__node *n, weir_expr_error *err)
{
    n->t = weir__st(WEIR_TYPE_STRING);
    return weir__arg_is(n, 0, WEIR_TYPE_STRING, err);
}

static int
eval_case(const weir__node *n, const weir_value *args, const weir_expr_ctx *ctx,
    weir_value *out, weir_expr_error *err, bool up)
{
    const char *s;
    size_t len;
    int rv = weir__text_arg(n, args, 0, &s, &len, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    char *p = weir_arena_alloc(ctx->arena, len + 1);
    if (p == NULL) {
        return weir__nomem(err);
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
    weir__set_string(out, p, len);
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
    int rv = weir__text_arg(n, args, 0, &s, &len, err);
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
    weir__set_string(out, s, len);
    return WEIR_OK;
}

static int
check_len(weir__node *n, weir_expr_error *err)
{
    weir_type t = n->args[0]->t.type;
    n->t = weir__st(WEIR_TYPE_INT);
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
                 ? weir__arg_is(n, i, WEIR_TYPE_TIME, err) /* reject floats */
                 : weir__arg_is(n, i, WEIR_TYPE_INT, err);
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
    int rv = weir__text_arg(n, args, 0, &s, &len, err);
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
    weir__set_string(out, s + start, take);
    return WEIR_OK;
}

static int
check_two_str_bool(weir__node *n, weir_expr_error *err)
{
    int rv = weir__arg_is(n, 0, WEIR_TYPE_STRING, err);
    if (rv == WEIR_OK) {
        rv = weir__arg_is(n, 1, WEIR_TYPE_STRING, err);
    }
    n->t = weir__st(WEIR_TYPE_BOOL);
    return rv;
}

typedef enum { FIND_CONTAINS, FIND_STARTS, FIND_ENDS } find_kind;

static int
eval_find(const weir__node *n, const weir_value *args, weir_value *out,
    weir_expr_error *err, find_kind kind)
{
    const char *s, *t;
    size_t slen, tlen;
    int rv = weir__text_arg(n, args, 0, &s, &slen, err);
    if (rv == WEIR_OK) {
        rv = weir__text_arg(n, args, 1, &t, &tlen, err);
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
        rv = weir__arg_is(n, i, WEIR_TYPE_STRING, err);
    }
    n->t = weir__st(WEIR_TYPE_STRING);
    return rv;
}

static int
eval_replace(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const char *s, *from, *to;
    size_t slen, flen, tlen;
    int rv = weir__text_arg(n, args, 0, &s, &slen, err);
    if (rv == WEIR_OK) {
        rv = weir__text_arg(n, args, 1, &from, &flen, err);
    }
    if (rv == WEIR_OK) {
        rv = weir__text_arg(n, args, 2, &to, &tlen, err);
    }
    if (rv != WEIR_OK) {
        return rv;
    }
    if (flen == 0) {
        weir__set_string(out, s, slen);
        return WEIR_OK;
    }
    size_t hits = 0;
    for (const char *p = s;
         (p = memmem(p, slen - (size_t)(p - s), from, flen)) != NULL;
         p += flen) {
        hits++;
    }
    if (hits == 0) {
        weir__set_string(out, s, slen);
        return WEIR_OK;
    }
    if (tlen > flen && hits > (SIZE_MAX - slen) / (tlen - flen + 1)) {
        return weir__nomem(err);
    }
    size_t olen = slen - hits * flen + hits * tlen;
    char *o = weir_arena_alloc(ctx->arena, olen + 1);
    if (o == NULL) {
        return weir__nomem(err);
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
    weir__set_string(out, o, k);
    return WEIR_OK;
}

const weir__func weir__funcs_str[] = {
    {"contains", 2, 2, false, check_two_str_bool, eval_contains},
    {"ends_with", 2, 2, false, check_two_str_bool, eval_ends_with},
    {"len", 1, 1, false, check_len, eval_len},
    {"lower", 1, 1, false, check_str_to_str, eval_lower},
    {"replace", 3, 3, false, check_replace, eval_replace},
    {"starts_with", 2, 2, false, check_two_str_bool, eval_starts_with},
    {"substr", 2, 3, false, check_substr, eval_substr},
    {"trim", 1, 1, false, check_str_to_str, eval_trim},
    {"upper", 1, 1, false, check_str_to_str, eval_upper},
};
const size_t weir__funcs_str_count =
    sizeof(weir__funcs_str) / sizeof(weir__funcs_str[0]);

const weir__func *
weir__builtin_lookup(const char *name, size_t len)
{
    static const struct {
        const weir__func *funcs;
        const size_t *count;
    } tables[] = {{weir__funcs_str, &weir__funcs_str_count},
        {weir__funcs_regex, &weir__funcs_regex_count},
        {weir__funcs_conv, &weir__funcs_conv_count},
        {weir__funcs_time, &weir__funcs_time_count}};
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        for (size_t i = 0; i < *tables[t].count; i++) {
            const weir__func *f = &tables[t].funcs[i];
            if (strlen(f->name) == len && memcmp(f->name, name, len) == 0) {
                return f;
            }
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

const weir__func *
weir__func_lookup(const char *name, size_t len)
{
    const weir__func *f = weir__builtin_lookup(name, len);
    return f != NULL ? f : weir__udf_lookup(name, len);
}
