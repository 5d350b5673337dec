/* Regular-expression functions: split, regex_extract, regex_match (POSIX
 * extended syntax, compiled once when the expression is parsed). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/expr/expr_int.h"

#define RE_MAX_LEN 1024
#define RE_MAX_SIZE 20000 /* atoms after expanding repetitions */
#define RE_MAX_DEPTH 32

/*
 * glibc's regcomp expands repetitions ("a{100}", and "x+" as "xx*") into
 * copies, so nested or stacked ones ("(a{100}){100}", "a+++++...") make it
 * use memory exponential in the pattern's length, and back-references make
 * matching exponential. Patterns come from job files: estimate the
 * expanded size first and refuse what would blow up. NULL if acceptable,
 * else why not.
 */
static const char *
regex_too_complex(const char *re)
{
    uint64_t total[RE_MAX_DEPTH + 1] = {0}, last[RE_MAX_DEPTH + 1] = {0};
    int depth = 0;
    if (strlen(re) > RE_MAX_LEN) {
        return "longer than 1024 bytes";
    }
    bool quantified = false; /* the previous token was a quantifier */
    for (const char *p = re; *p; p++) {
        uint64_t atom = 0, factor = 0;
        bool quantifier = *p == '+' || *p == '*' || *p == '?' || *p == '{';
        if (quantifier && quantified) {
            return "stacks quantifiers (such as '+*')";
        }
        quantified = quantifier;
        switch (*p) {
        case '\\':
            if (p[1] >= '1' && p[1] <= '9') {
                return "back-references are not supported";
            }
            if (p[1] != '\0') {
                p++;
            }
            atom = 1;
            break;
        case '[':
            p++;
            if (*p == '^') {
                p++;
            }
            if (*p == ']') {
                p++;
            }
            while (*p && *p != ']') {
                if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
                    char close = p[1];
                    p += 2;
                    while (*p && !(p[0] == close && p[1] == ']')) {
                        p++;
                    }
                    if (*p) {
                        p++;
                    }
                }
                if (*p) {
                    p++;
                }
            }
            if (*p == '\0') {
                return NULL; /* unterminated: regcomp reports it */
            }
            atom = 1;
            break;
        case '(':
            if (depth == RE_MAX_DEPTH) {
                return "groups nested too deeply";
            }
            depth++;
            total[depth] = last[depth] = 0;
            continue;
        case ')':
            if (depth == 0) {
                atom = 1;
                break;
            }
            atom = total[depth] ? total[depth] : 1;
            depth--;
            break;
        case '|':
            last[depth] = 0;
            continue;
        case '+':
            factor = 2;
            break;
        case '{': {
            char *end;
            unsigned long lo = strtoul(p + 1, &end, 10), hi = lo;
            if (*end == ',') {
                hi = end[1] == '}' ? lo + 1 : strtoul(end + 1, &end, 10);
                if (*end == ',') {
                    end++;
                }
            }
            factor = (hi > lo ? hi : lo) + 1;
            if (factor > 1001) {
                return "a repetition count above 1000";
            }
            if (*end == '}') {
                p = end; /* skip the bounds */
            }
            break;
        }
        case '*':
        case '?':
            factor = 2; /* counted like '+', to be safe */
            break;
        default:
            atom = 1;
            break;
        }
        if (factor > 0) {
            total[depth] += last[depth] * (factor - 1);
            last[depth] *= factor;
        } else if (atom > 0) {
            total[depth] += atom;
            last[depth] = atom;
        }
        if (total[depth] > RE_MAX_SIZE || last[depth] > RE_MAX_SIZE) {
            return "too complex (repetitions expand too far)";
        }
    }
    return NULL;
}

static int
compile_regex(weir__node *n, size_t i, weir_expr_error *err)
{
    int rv = weir__arg_literal(n, i, "a regular expression", err);
    if (rv != WEIR_OK) {
        return rv;
    }
    const char *why = regex_too_complex(n->args[i]->str);
    if (why != NULL) {
        return weir__expr_fail(err, n->args[i]->column, WEIR_EPARSE,
            "%s: regular expression %s", n->fn->name, why);
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

/*
 * Argument i as the subject of a regex: a NUL-terminated copy in the arena.
 * glibc's regexec honours REG_STARTEND, but sanitizer interceptors measure
 * the subject with strlen, so it must be terminated.
 */
static int
regex_subject(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, const char **s, size_t *len, weir_expr_error *err)
{
    int rv = weir__text_arg(n, args, 0, s, len, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    char *copy = weir_arena_alloc(ctx->arena, *len + 1);
    if (copy == NULL) {
        return weir__nomem(err);
    }
    memcpy(copy, *s, *len);
    copy[*len] = '\0';
    *s = copy;
    return WEIR_OK;
}

/*
 * Runs n->re on s[from, len); pm has nmatch slots, offsets relative to s,
 * which is NUL-terminated (regex_subject). '^' matches only at the start of
 * s. 0 on a match.
 */
static int
run_regex(const weir__node *n, const char *s, size_t from, size_t len,
    size_t nmatch, regmatch_t *pm)
{
    pm[0].rm_so = (regoff_t)from;
    pm[0].rm_eo = (regoff_t)len;
    return regexec(
        n->re, s, nmatch, pm, REG_STARTEND | (from > 0 ? REG_NOTBOL : 0));
}

/*
 * The fast path of split: a pattern that is one bracket expression
 * ("[^a-z0-9]" or "[,;]", no character classes) or one ordinary character,
 * optionally followed by '+', becomes a byte set, so splitting needs no
 * regexec. In the C locale this is exactly what regcomp matches, on every
 * byte (tests/unit/test_expr_eval.c compares the two on random bytes).
 */
static bool
byteset_compile(const char *re, uint8_t set[32], bool *plus)
{
    memset(set, 0, 32);
    const char *p = re;
    bool negate = false;
    if (*p == '[') {
        p++;
        if (*p == '^') {
            negate = true;
            p++;
        }
        bool first = true;
        while (*p != '\0' && (first || *p != ']')) {
            unsigned char lo = (unsigned char)*p, hi = lo;
            if (lo == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
                return false; /* classes, collating elements */
            }
            if (p[1] == '-' && p[2] != ']' && p[2] != '\0') {
                hi = (unsigned char)p[2];
                if (hi == '[' || hi < lo) {
                    return false;
                }
                p += 2;
            }
            for (unsigned c = lo; c <= hi; c++) {
                set[c >> 3] |= (uint8_t)(1u << (c & 7));
            }
            p++;
            first = false;
        }
        if (*p != ']') {
            return false;
        }
        p++;
    } else if (*p != '\0' && strchr("\\^$.[]()|*+?{}", *p) == NULL) {
        set[(unsigned char)*p >> 3] |= (uint8_t)(1u << (*p & 7));
        p++;
    } else {
        return false;
    }
    *plus = *p == '+';
    if (*p == '+') {
        p++;
    }
    if (*p != '\0') {
        return false;
    }
    if (negate) {
        for (int i = 0; i < 32; i++) {
            set[i] = (uint8_t)~set[i];
        }
        /* NUL included: glibc's regexec (REG_STARTEND) matches a NUL
         * byte with a negated bracket too, and the two paths agree. */
    }
    return true;
}

static bool
in_set(const uint8_t *set, unsigned char c)
{
    return (set[c >> 3] >> (c & 7)) & 1;
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
    uint8_t set[32];
    bool plus;
    if (rv == WEIR_OK && byteset_compile(n->args[1]->str, set, &plus)) {
        if ((n->byteset = malloc(sizeof(set))) == NULL) {
            return weir__nomem(err);
        }
        memcpy(n->byteset, set, sizeof(set));
        n->byteset_plus = plus;
    }
    return rv;
}

static int
eval_split(const weir__node *n, const weir_value *args,
    const weir_expr_ctx *ctx, weir_value *out, weir_expr_error *err)
{
    const char *s;
    size_t len;
    int rv = n->byteset != NULL ? weir__text_arg(n, args, 0, &s, &len, err)
                                : regex_subject(n, args, ctx, &s, &len, err);
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
        size_t so, eo;
        if (n->byteset != NULL) {
            for (so = pos;
                 so < len && !in_set(n->byteset, (unsigned char)s[so]); so++) {
            }
            if (so == len) {
                break;
            }
            eo = so + 1;
            while (n->byteset_plus && eo < len &&
                   in_set(n->byteset, (unsigned char)s[eo])) {
                eo++;
            }
        } else {
            regmatch_t pm[1];
            if (run_regex(n, s, pos, len, 1, pm) != 0) {
                break;
            }
            so = (size_t)pm[0].rm_so;
            eo = (size_t)pm[0].rm_eo;
        }
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
    int rv = regex_subject(n, args, ctx, &s, &len, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    regmatch_t pm[MAX_GROUPS];
    size_t nm = (size_t)n->group + 1;
    if (nm > MAX_GROUPS) {
        return weir__expr_fail(err, n->column, WEIR_EINVAL,
            "regex_extract: at most %d groups", MAX_GROUPS - 1);
    }
    if (run_regex(n, s, 0, len, nm, pm) != 0 || pm[n->group].rm_so < 0) {
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
    int rv = regex_subject(n, args, ctx, &s, &len, err);
    if (rv != WEIR_OK) {
        return rv;
    }
    regmatch_t pm[1];
    *out = weir_value_bool(run_regex(n, s, 0, len, 1, pm) == 0);
    return WEIR_OK;
}

const weir__func weir__funcs_regex[] = {
    {"regex_extract", 2, 3, false, check_regex_extract, eval_regex_extract},
    {"regex_match", 2, 2, false, check_regex_match, eval_regex_match},
    {"split", 2, 2, false, check_split, eval_split},
};
const size_t weir__funcs_regex_count =
    sizeof(weir__funcs_regex) / sizeof(weir__funcs_regex[0]);
