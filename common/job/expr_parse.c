/*
 * Expression parser and type checker: recursive descent over
 *
 *   or      := and ('||' and)*
 *   and     := cmp ('&&' cmp)*
 *   cmp     := add (('=='|'!='|'<'|'<='|'>'|'>=') add)?
 *   add     := mul (('+'|'-') mul)*
 *   mul     := unary (('*'|'/'|'%') unary)*
 *   unary   := ('!'|'-') unary | postfix
 *   postfix := primary ('.' name | '[' or ']')*
 *   primary := literal | name | name '(' args ')' | '(' or ')'
 *
 * Each node is typed as it is built, so the first error stops the parse
 * with its column.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/job/internal.h"

#define MAX_DEPTH 64   /* parser recursion: parentheses, calls, '!' */
#define MAX_HEIGHT 256 /* tree height: bounds evaluation's recursion */

typedef enum tok_kind {
    T_EOF,
    T_INT,
    T_FLOAT,
    T_STRING,
    T_NAME,
    T_PUNCT,
} tok_kind;

typedef struct tok {
    tok_kind kind;
    const char *p; /* start in the text */
    size_t len;
    unsigned column;
} tok;

typedef struct parser {
    const char *text;
    size_t len;
    size_t pos;
    tok cur;
    const weir_expr_env *env;
    weir_expr_error *err;
    int rv;
    int depth;
} parser;

int
weir__expr_fail(
    weir_expr_error *err, unsigned column, int rv, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        err->column = column;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return rv;
}

#define FAIL(ps, col, code, ...)                                               \
    ((ps)->rv == WEIR_OK                                                       \
            ? ((ps)->rv = weir__expr_fail((ps)->err, col, code, __VA_ARGS__))  \
            : (ps)->rv)

static bool
is_name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

static const char *puncts[] = {"==", "!=", "<=", ">=", "&&", "||", "<", ">",
    "+", "-", "*", "/", "%", "!", "(", ")", "[", "]", ".", ","};

static int
lex(parser *ps)
{
    const char *t = ps->text;
    while (ps->pos < ps->len && (t[ps->pos] == ' ' || t[ps->pos] == '\t' ||
                                    t[ps->pos] == '\n' || t[ps->pos] == '\r')) {
        ps->pos++;
    }
    tok *k = &ps->cur;
    k->p = t + ps->pos;
    k->column = (unsigned)ps->pos + 1;
    k->len = 0;
    if (ps->pos >= ps->len) {
        k->kind = T_EOF;
        return WEIR_OK;
    }
    char c = t[ps->pos];
    size_t start = ps->pos;
    if (c >= '0' && c <= '9') {
        k->kind = T_INT;
        while (ps->pos < ps->len && t[ps->pos] >= '0' && t[ps->pos] <= '9') {
            ps->pos++;
        }
        if (ps->pos + 1 < ps->len && t[ps->pos] == '.' &&
            t[ps->pos + 1] >= '0' && t[ps->pos + 1] <= '9') {
            k->kind = T_FLOAT;
            ps->pos++;
            while (
                ps->pos < ps->len && t[ps->pos] >= '0' && t[ps->pos] <= '9') {
                ps->pos++;
            }
        }
        if (ps->pos < ps->len && (t[ps->pos] == 'e' || t[ps->pos] == 'E')) {
            size_t q = ps->pos + 1;
            if (q < ps->len && (t[q] == '+' || t[q] == '-')) {
                q++;
            }
            if (q < ps->len && t[q] >= '0' && t[q] <= '9') {
                k->kind = T_FLOAT;
                ps->pos = q;
                while (ps->pos < ps->len && t[ps->pos] >= '0' &&
                       t[ps->pos] <= '9') {
                    ps->pos++;
                }
            }
        }
        if (ps->pos < ps->len && is_name_char(t[ps->pos], false)) {
            return FAIL(ps, k->column, WEIR_EPARSE, "malformed number");
        }
    } else if (is_name_char(c, true)) {
        k->kind = T_NAME;
        while (ps->pos < ps->len && is_name_char(t[ps->pos], false)) {
            ps->pos++;
        }
    } else if (c == '\'' || c == '"') {
        k->kind = T_STRING;
        ps->pos++;
        while (ps->pos < ps->len && t[ps->pos] != c) {
            if (t[ps->pos] == '\\' && ps->pos + 1 < ps->len) {
                ps->pos++;
            }
            ps->pos++;
        }
        if (ps->pos >= ps->len) {
            return FAIL(ps, k->column, WEIR_EPARSE,
                "unterminated string (expected a closing %c)", c);
        }
        ps->pos++;
    } else {
        k->kind = T_PUNCT;
        for (size_t i = 0; i < sizeof(puncts) / sizeof(puncts[0]); i++) {
            size_t n = strlen(puncts[i]);
            if (ps->len - ps->pos >= n &&
                memcmp(t + ps->pos, puncts[i], n) == 0) {
                ps->pos += n;
                break;
            }
        }
        if (ps->pos == start) {
            if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) {
                return FAIL(ps, k->column, WEIR_EPARSE,
                    "unexpected byte 0x%02x", (unsigned char)c);
            }
            return FAIL(ps, k->column, WEIR_EPARSE, "unexpected '%c'", c);
        }
    }
    k->len = ps->pos - start;
    return WEIR_OK;
}

static bool
is_punct(const parser *ps, const char *p)
{
    return ps->cur.kind == T_PUNCT && ps->cur.len == strlen(p) &&
           memcmp(ps->cur.p, p, ps->cur.len) == 0;
}

static const char *
tok_desc(const tok *k, char *buf, size_t buflen)
{
    if (k->kind == T_EOF) {
        return "the end";
    }
    int n = k->len > 24 ? 24 : (int)k->len;
    snprintf(buf, buflen, "'%.*s'", n, k->p);
    return buf;
}

static int
expect(parser *ps, const char *p, const char *what)
{
    if (!is_punct(ps, p)) {
        char d[40];
        return FAIL(ps, ps->cur.column, WEIR_EPARSE, "expected %s, found %s",
            what, tok_desc(&ps->cur, d, sizeof(d)));
    }
    return lex(ps);
}

/* ------------------------------------------------------------ nodes */

static void
node_free(weir__node *n)
{
    if (n == NULL) {
        return;
    }
    node_free(n->a);
    node_free(n->b);
    for (size_t i = 0; i < n->nargs; i++) {
        node_free(n->args[i]);
    }
    free(n->args);
    if (n->re != NULL) {
        regfree(n->re);
        free(n->re);
    }
    free(n->fmt);
    free(n->str);
    free(n);
}

static weir__node *
node_new(parser *ps, weir__node_kind kind, unsigned column)
{
    weir__node *n = calloc(1, sizeof(*n));
    if (n == NULL) {
        FAIL(ps, column, WEIR_ENOMEM, "out of memory");
        return NULL;
    }
    n->kind = kind;
    n->column = column;
    n->group = -1;
    n->depth = 1;
    return n;
}

/* Sets n->depth from its children; fails past MAX_HEIGHT. */
static int
deepen(parser *ps, weir__node *n)
{
    unsigned d = 0;
    if (n->a != NULL && n->a->depth > d) {
        d = n->a->depth;
    }
    if (n->b != NULL && n->b->depth > d) {
        d = n->b->depth;
    }
    for (size_t i = 0; i < n->nargs; i++) {
        if (n->args[i]->depth > d) {
            d = n->args[i]->depth;
        }
    }
    n->depth = d + 1;
    if (n->depth > MAX_HEIGHT) {
        return FAIL(ps, n->column, WEIR_EPARSE, "expression too long");
    }
    return WEIR_OK;
}

static weir_stype
stype(weir_type t)
{
    weir_stype s = {t, WEIR_TYPE_ANY};
    return s;
}

bool
weir__type_dynamic(weir_type t)
{
    return t == WEIR_TYPE_ANY || t == WEIR_TYPE_JSON;
}

bool
weir__type_accepts(weir_type want, weir_type have)
{
    if (want == have || weir__type_dynamic(want) || weir__type_dynamic(have) ||
        have == WEIR_TYPE_NULL) {
        return true;
    }
    if (want == WEIR_TYPE_FLOAT && have == WEIR_TYPE_INT) {
        return true;
    }
    if (want == WEIR_TYPE_STRING && have == WEIR_TYPE_BYTES) {
        return true;
    }
    return false;
}

static bool
numeric(weir_type t)
{
    return t == WEIR_TYPE_INT || t == WEIR_TYPE_FLOAT || t == WEIR_TYPE_TIME;
}

static bool
textual(weir_type t)
{
    return t == WEIR_TYPE_STRING || t == WEIR_TYPE_BYTES;
}

/* Unescapes a string literal token into an owned buffer. */
static int
string_lit(parser *ps, weir__node *n)
{
    const char *s = ps->cur.p + 1;
    size_t len = ps->cur.len - 2;
    char *out = malloc(len + 1);
    if (out == NULL) {
        return FAIL(ps, n->column, WEIR_ENOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\' || i + 1 == len) {
            out[k++] = s[i];
            continue;
        }
        char c = s[++i];
        switch (c) {
        case 'n':
            out[k++] = '\n';
            break;
        case 't':
            out[k++] = '\t';
            break;
        case 'r':
            out[k++] = '\r';
            break;
        case '\\':
        case '\'':
        case '"':
            out[k++] = c;
            break;
        default: /* unknown escapes stay as written: '\[' is a regex */
            out[k++] = '\\';
            out[k++] = c;
        }
    }
    out[k] = '\0';
    n->str = out;
    n->str_len = k;
    n->lit = weir_value_string(out, k);
    n->t = stype(WEIR_TYPE_STRING);
    return WEIR_OK;
}

static int
number_lit(parser *ps, weir__node *n)
{
    char tmp[64];
    if (ps->cur.len >= sizeof(tmp)) {
        return FAIL(ps, n->column, WEIR_EPARSE, "number too long");
    }
    memcpy(tmp, ps->cur.p, ps->cur.len);
    tmp[ps->cur.len] = '\0';
    errno = 0;
    if (ps->cur.kind == T_INT) {
        char *end;
        long long v = strtoll(tmp, &end, 10);
        if (errno != 0 || *end != '\0') {
            return FAIL(ps, n->column, WEIR_EPARSE,
                "integer out of range (expected at most %lld)",
                (long long)INT64_MAX);
        }
        n->lit = weir_value_int(v);
        n->t = stype(WEIR_TYPE_INT);
    } else {
        n->lit = weir_value_float(strtod(tmp, NULL));
        n->t = stype(WEIR_TYPE_FLOAT);
    }
    return WEIR_OK;
}

static weir__node *parse_or(parser *ps);

static int
parse_args(parser *ps, weir__node *n)
{
    size_t cap = 0;
    if (lex(ps) != WEIR_OK) { /* the '(' */
        return ps->rv;
    }
    if (is_punct(ps, ")")) {
        return lex(ps);
    }
    for (;;) {
        if (n->nargs == cap) {
            cap = cap ? cap * 2 : 4;
            weir__node **args = realloc(n->args, cap * sizeof(*args));
            if (args == NULL) {
                return FAIL(ps, n->column, WEIR_ENOMEM, "out of memory");
            }
            n->args = args;
        }
        weir__node *arg = parse_or(ps);
        if (arg == NULL) {
            return ps->rv;
        }
        n->args[n->nargs++] = arg;
        if (is_punct(ps, ",")) {
            if (lex(ps) != WEIR_OK) {
                return ps->rv;
            }
            continue;
        }
        return expect(ps, ")", "',' or ')'");
    }
}

static weir__node *
parse_call(parser *ps, weir__node *n, const tok *name)
{
    n->kind = WEIR__N_CALL;
    n->fn = weir__func_lookup(name->p, name->len);
    if (n->fn == NULL) {
        FAIL(ps, n->column, WEIR_EPARSE,
            "unknown function '%.*s' (expected one of %s)", (int)name->len,
            name->p, weir__func_names());
        return n;
    }
    if (parse_args(ps, n) != WEIR_OK) {
        return n;
    }
    if (deepen(ps, n) != WEIR_OK) {
        return n;
    }
    if (n->nargs < n->fn->min_args || n->nargs > n->fn->max_args) {
        if (n->fn->min_args == n->fn->max_args) {
            FAIL(ps, n->column, WEIR_EINVAL, "%s takes %zu argument%s, not %zu",
                n->fn->name, n->fn->min_args, n->fn->min_args == 1 ? "" : "s",
                n->nargs);
        } else {
            FAIL(ps, n->column, WEIR_EINVAL,
                "%s takes %zu to %zu arguments, not %zu", n->fn->name,
                n->fn->min_args, n->fn->max_args, n->nargs);
        }
        return n;
    }
    int rv = n->fn->check(n, ps->err);
    if (rv != WEIR_OK) {
        ps->rv = rv;
    }
    return n;
}

static weir__node *
parse_name(parser *ps, weir__node *n)
{
    static const struct {
        const char *name;
        weir__node_kind kind;
    } names[] = {{"key", WEIR__N_KEY}, {"value", WEIR__N_VALUE},
        {"timestamp", WEIR__N_TIMESTAMP}, {"agg", WEIR__N_AGG},
        {"window_start", WEIR__N_WSTART}, {"window_end", WEIR__N_WEND}};
    tok name = ps->cur;
    if (lex(ps) != WEIR_OK) {
        return n;
    }
    if (is_punct(ps, "(")) {
        return parse_call(ps, n, &name);
    }
    if (name.len == 4 && memcmp(name.p, "true", 4) == 0) {
        n->lit = weir_value_bool(true);
        n->t = stype(WEIR_TYPE_BOOL);
        return n;
    }
    if (name.len == 5 && memcmp(name.p, "false", 5) == 0) {
        n->lit = weir_value_bool(false);
        n->t = stype(WEIR_TYPE_BOOL);
        return n;
    }
    if (name.len == 4 && memcmp(name.p, "null", 4) == 0) {
        n->lit = weir_value_null();
        n->t = stype(WEIR_TYPE_NULL);
        return n;
    }
    if (name.len == 7 && memcmp(name.p, "headers", 7) == 0) {
        n->kind = WEIR__N_HEADER;
        n->t = stype(WEIR_TYPE_STRING);
        if (!is_punct(ps, "[")) {
            FAIL(ps, ps->cur.column, WEIR_EPARSE,
                "expected '[' after headers (headers['name'])");
            return n;
        }
        if (lex(ps) != WEIR_OK || (n->a = parse_or(ps)) == NULL) {
            return n;
        }
        if (deepen(ps, n) != WEIR_OK) {
            return n;
        }
        if (!weir__type_accepts(WEIR_TYPE_STRING, n->a->t.type)) {
            FAIL(ps, n->a->column, WEIR_EINVAL,
                "header name must be a string, not %s",
                weir_type_name(n->a->t.type));
            return n;
        }
        expect(ps, "]", "']'");
        return n;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (name.len != strlen(names[i].name) ||
            memcmp(name.p, names[i].name, name.len) != 0) {
            continue;
        }
        const weir_expr_env *env = ps->env;
        n->kind = names[i].kind;
        switch (n->kind) {
        case WEIR__N_KEY:
            n->t = env->key;
            break;
        case WEIR__N_VALUE:
            n->t = env->value;
            break;
        case WEIR__N_TIMESTAMP:
            n->t = stype(WEIR_TYPE_TIME);
            break;
        case WEIR__N_AGG:
            if (!env->has_agg) {
                FAIL(ps, n->column, WEIR_EPARSE,
                    "'agg' is only defined in reduce");
            }
            n->t = env->agg;
            break;
        default:
            if (!env->windowed) {
                FAIL(ps, n->column, WEIR_EPARSE,
                    "'%s' is only defined after a windowed aggregation",
                    names[i].name);
            }
            n->t = stype(WEIR_TYPE_TIME);
            break;
        }
        return n;
    }
    FAIL(ps, n->column, WEIR_EPARSE,
        "unknown name '%.*s' (expected key, value, timestamp, headers, agg, "
        "window_start, window_end, true, false, null or a function call)",
        (int)name.len, name.p);
    return n;
}

static weir__node *
parse_primary(parser *ps)
{
    char d[40];
    if (is_punct(ps, "(")) {
        if (lex(ps) != WEIR_OK) {
            return NULL;
        }
        weir__node *n = parse_or(ps);
        if (n != NULL && expect(ps, ")", "')'") != WEIR_OK) {
            node_free(n);
            return NULL;
        }
        return n;
    }
    weir__node *n = node_new(ps, WEIR__N_LIT, ps->cur.column);
    if (n == NULL) {
        return NULL;
    }
    switch (ps->cur.kind) {
    case T_INT:
    case T_FLOAT:
        if (number_lit(ps, n) == WEIR_OK) {
            lex(ps);
        }
        break;
    case T_STRING:
        if (string_lit(ps, n) == WEIR_OK) {
            lex(ps);
        }
        break;
    case T_NAME:
        parse_name(ps, n);
        break;
    default:
        FAIL(ps, ps->cur.column, WEIR_EPARSE,
            "expected a value (literal, name or '('), found %s",
            tok_desc(&ps->cur, d, sizeof(d)));
    }
    if (ps->rv != WEIR_OK) {
        node_free(n);
        return NULL;
    }
    return n;
}

/* Field access a.name and index a[i]. */
static weir__node *
parse_postfix(parser *ps)
{
    weir__node *base = parse_primary(ps);
    while (base != NULL && (is_punct(ps, ".") || is_punct(ps, "["))) {
        bool dot = is_punct(ps, ".");
        weir__node *n =
            node_new(ps, dot ? WEIR__N_FIELD : WEIR__N_INDEX, ps->cur.column);
        if (n == NULL) {
            node_free(base);
            return NULL;
        }
        n->a = base;
        base = n;
        weir_type bt = n->a->t.type;
        if (deepen(ps, n) != WEIR_OK || lex(ps) != WEIR_OK) {
            break;
        }
        if (dot) {
            if (ps->cur.kind != T_NAME) {
                char d[40];
                FAIL(ps, ps->cur.column, WEIR_EPARSE,
                    "expected a field name after '.', found %s",
                    tok_desc(&ps->cur, d, sizeof(d)));
                break;
            }
            if (!weir__type_dynamic(bt)) {
                FAIL(ps, n->column, WEIR_EINVAL,
                    "field access on a %s (expected a json value)",
                    weir_type_name(bt));
                break;
            }
            n->str = strndup(ps->cur.p, ps->cur.len);
            if (n->str == NULL) {
                FAIL(ps, n->column, WEIR_ENOMEM, "out of memory");
                break;
            }
            n->str_len = ps->cur.len;
            n->t = stype(WEIR_TYPE_JSON);
            if (lex(ps) != WEIR_OK) {
                break;
            }
            continue;
        }
        if ((n->b = parse_or(ps)) == NULL || deepen(ps, n) != WEIR_OK) {
            break;
        }
        weir_type it = n->b->t.type;
        if (bt == WEIR_TYPE_LIST) {
            if (!weir__type_accepts(WEIR_TYPE_INT, it) ||
                it == WEIR_TYPE_FLOAT) {
                FAIL(ps, n->b->column, WEIR_EINVAL,
                    "list index must be an int, not %s", weir_type_name(it));
                break;
            }
            n->t = stype(n->a->t.elem);
        } else if (weir__type_dynamic(bt)) {
            if (!weir__type_dynamic(it) && it != WEIR_TYPE_INT &&
                it != WEIR_TYPE_STRING) {
                FAIL(ps, n->b->column, WEIR_EINVAL,
                    "index must be an int or a string, not %s",
                    weir_type_name(it));
                break;
            }
            n->t = stype(WEIR_TYPE_JSON);
        } else {
            FAIL(ps, n->column, WEIR_EINVAL,
                "cannot index a %s (expected a list or json value)",
                weir_type_name(bt));
            break;
        }
        if (expect(ps, "]", "']'") != WEIR_OK) {
            break;
        }
    }
    if (ps->rv != WEIR_OK) {
        node_free(base);
        return NULL;
    }
    return base;
}

static weir__node *
parse_unary(parser *ps)
{
    if (!is_punct(ps, "!") && !is_punct(ps, "-")) {
        return parse_postfix(ps);
    }
    bool not = is_punct(ps, "!");
    weir__node *n =
        node_new(ps, not ? WEIR__N_NOT : WEIR__N_NEG, ps->cur.column);
    if (n == NULL || lex(ps) != WEIR_OK) {
        node_free(n);
        return NULL;
    }
    if (++ps->depth > MAX_DEPTH) {
        FAIL(ps, n->column, WEIR_EPARSE, "expression nested too deeply");
        node_free(n);
        return NULL;
    }
    n->a = parse_unary(ps);
    ps->depth--;
    if (n->a == NULL) {
        node_free(n);
        return NULL;
    }
    weir_type t = n->a->t.type;
    deepen(ps, n);
    if (not ) {
        n->t = stype(WEIR_TYPE_BOOL);
        if (!weir__type_accepts(WEIR_TYPE_BOOL, t) || t == WEIR_TYPE_NULL) {
            FAIL(ps, n->a->column, WEIR_EINVAL, "'!' needs a bool, not %s",
                weir_type_name(t));
        }
    } else {
        n->t = stype(weir__type_dynamic(t) ? WEIR_TYPE_ANY : t);
        if (t != WEIR_TYPE_INT && t != WEIR_TYPE_FLOAT &&
            !weir__type_dynamic(t)) {
            FAIL(ps, n->a->column, WEIR_EINVAL, "'-' needs a number, not %s",
                weir_type_name(t));
        }
    }
    if (ps->rv != WEIR_OK) {
        node_free(n);
        return NULL;
    }
    return n;
}

/* Result type of a op b, or -1 with a message when it cannot be typed. */
int
weir__arith_type(weir__op op, weir_type a, weir_type b, weir_type *out)
{
    if (weir__type_dynamic(a) || weir__type_dynamic(b)) {
        *out = WEIR_TYPE_ANY;
        return 0;
    }
    if (op == WEIR__OP_ADD && textual(a) && textual(b)) {
        *out = a == WEIR_TYPE_BYTES || b == WEIR_TYPE_BYTES ? WEIR_TYPE_BYTES
                                                            : WEIR_TYPE_STRING;
        return 0;
    }
    if (!numeric(a) || !numeric(b)) {
        return -1;
    }
    if (a == WEIR_TYPE_TIME || b == WEIR_TYPE_TIME) {
        if (a == WEIR_TYPE_FLOAT || b == WEIR_TYPE_FLOAT) {
            return -1;
        }
        if (op == WEIR__OP_ADD &&
            !(a == WEIR_TYPE_TIME && b == WEIR_TYPE_TIME)) {
            *out = WEIR_TYPE_TIME;
        } else if (op == WEIR__OP_SUB && a == WEIR_TYPE_TIME) {
            *out = b == WEIR_TYPE_TIME ? WEIR_TYPE_INT : WEIR_TYPE_TIME;
        } else if (op == WEIR__OP_SUB) {
            return -1; /* int - time */
        } else {
            *out = WEIR_TYPE_INT;
        }
        return 0;
    }
    *out = a == WEIR_TYPE_FLOAT || b == WEIR_TYPE_FLOAT ? WEIR_TYPE_FLOAT
                                                        : WEIR_TYPE_INT;
    return 0;
}

static bool
comparable(weir__op op, weir_type a, weir_type b)
{
    if (weir__type_dynamic(a) || weir__type_dynamic(b)) {
        return true;
    }
    if (a == WEIR_TYPE_NULL || b == WEIR_TYPE_NULL) {
        return op == WEIR__OP_EQ || op == WEIR__OP_NE;
    }
    return a == b || (numeric(a) && numeric(b)) || (textual(a) && textual(b));
}

static const char *op_text[] = {
    "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"};

typedef weir__node *(*parse_fn)(parser *ps);

/* One left-associative binary level over the listed operators. */
static weir__node *
parse_binary(
    parser *ps, parse_fn next, const weir__op *ops, size_t nops, bool once)
{
    weir__node *left = next(ps);
    while (left != NULL) {
        size_t i;
        for (i = 0; i < nops && !is_punct(ps, op_text[ops[i]]); i++) {
        }
        if (i == nops) {
            break;
        }
        weir__node_kind kind =
            ops[i] <= WEIR__OP_GE ? WEIR__N_CMP : WEIR__N_ARITH;
        weir__node *n = node_new(ps, kind, ps->cur.column);
        if (n == NULL) {
            break;
        }
        n->op = ops[i];
        n->a = left;
        left = n;
        if (lex(ps) != WEIR_OK || (n->b = next(ps)) == NULL ||
            deepen(ps, n) != WEIR_OK) {
            break;
        }
        weir_type a = n->a->t.type, b = n->b->t.type, t;
        if (kind == WEIR__N_CMP) {
            n->t = stype(WEIR_TYPE_BOOL);
            if (!comparable(n->op, a, b)) {
                FAIL(ps, n->column, WEIR_EINVAL, "cannot compare %s %s %s",
                    weir_type_name(a), op_text[n->op], weir_type_name(b));
                break;
            }
        } else if (weir__arith_type(n->op, a, b, &t) != 0) {
            FAIL(ps, n->column, WEIR_EINVAL, "cannot compute %s %s %s",
                weir_type_name(a), op_text[n->op], weir_type_name(b));
            break;
        } else {
            n->t = stype(t);
        }
        if (once) {
            break;
        }
    }
    if (ps->rv != WEIR_OK) {
        node_free(left);
        return NULL;
    }
    return left;
}

static weir__node *
parse_mul(parser *ps)
{
    static const weir__op ops[] = {WEIR__OP_MUL, WEIR__OP_DIV, WEIR__OP_MOD};
    return parse_binary(ps, parse_unary, ops, 3, false);
}

static weir__node *
parse_add(parser *ps)
{
    static const weir__op ops[] = {WEIR__OP_ADD, WEIR__OP_SUB};
    return parse_binary(ps, parse_mul, ops, 2, false);
}

static weir__node *
parse_cmp(parser *ps)
{
    static const weir__op ops[] = {WEIR__OP_EQ, WEIR__OP_NE, WEIR__OP_LE,
        WEIR__OP_GE, WEIR__OP_LT, WEIR__OP_GT};
    return parse_binary(ps, parse_add, ops, 6, true);
}

/* && and || levels: operands must be bools. */
static weir__node *
parse_logic(parser *ps, parse_fn next, const char *opname, weir__node_kind kind)
{
    weir__node *left = next(ps);
    while (left != NULL && is_punct(ps, opname)) {
        weir__node *n = node_new(ps, kind, ps->cur.column);
        if (n == NULL) {
            break;
        }
        n->a = left;
        left = n;
        n->t = stype(WEIR_TYPE_BOOL);
        if (lex(ps) != WEIR_OK || (n->b = next(ps)) == NULL ||
            deepen(ps, n) != WEIR_OK) {
            break;
        }
        weir__node *bad = NULL;
        if (!weir__type_accepts(WEIR_TYPE_BOOL, n->a->t.type) ||
            n->a->t.type == WEIR_TYPE_NULL) {
            bad = n->a;
        } else if (!weir__type_accepts(WEIR_TYPE_BOOL, n->b->t.type) ||
                   n->b->t.type == WEIR_TYPE_NULL) {
            bad = n->b;
        }
        if (bad != NULL) {
            FAIL(ps, bad->column, WEIR_EINVAL, "'%s' needs bools, not %s",
                opname, weir_type_name(bad->t.type));
            break;
        }
    }
    if (ps->rv != WEIR_OK) {
        node_free(left);
        return NULL;
    }
    return left;
}

static weir__node *
parse_and(parser *ps)
{
    return parse_logic(ps, parse_cmp, "&&", WEIR__N_AND);
}

static weir__node *
parse_or(parser *ps)
{
    if (++ps->depth > MAX_DEPTH) {
        FAIL(ps, ps->cur.column, WEIR_EPARSE, "expression nested too deeply");
        return NULL;
    }
    weir__node *n = parse_logic(ps, parse_and, "||", WEIR__N_OR);
    ps->depth--;
    return n;
}

int
weir_expr_parse(const char *text, size_t len, const weir_expr_env *env,
    weir_expr **out, weir_expr_error *err)
{
    static const weir_expr_env empty;
    parser ps = {
        .text = text, .len = len, .env = env ? env : &empty, .err = err};
    *out = NULL;
    if (err != NULL) {
        err->column = 0;
        err->msg[0] = '\0';
    }
    if (memchr(text, '\0', len) != NULL) {
        return weir__expr_fail(err, (unsigned)(strlen(text) + 1), WEIR_EPARSE,
            "unexpected NUL byte");
    }
    if (lex(&ps) != WEIR_OK) {
        return ps.rv;
    }
    if (ps.cur.kind == T_EOF) {
        return weir__expr_fail(
            err, ps.cur.column, WEIR_EPARSE, "empty expression");
    }
    weir__node *root = parse_or(&ps);
    if (root != NULL && ps.cur.kind != T_EOF) {
        char d[40];
        FAIL(&ps, ps.cur.column, WEIR_EPARSE,
            "expected an operator or the end, found %s",
            tok_desc(&ps.cur, d, sizeof(d)));
    }
    weir_expr *expr = NULL;
    if (ps.rv == WEIR_OK && (expr = calloc(1, sizeof(*expr))) != NULL) {
        expr->text = strndup(text, len);
    }
    if (ps.rv == WEIR_OK && (expr == NULL || expr->text == NULL)) {
        FAIL(&ps, 0, WEIR_ENOMEM, "out of memory");
    }
    if (ps.rv != WEIR_OK) {
        node_free(root);
        if (expr != NULL) {
            free(expr->text);
            free(expr);
        }
        return ps.rv;
    }
    expr->root = root;
    *out = expr;
    return WEIR_OK;
}

void
weir_expr_free(weir_expr *expr)
{
    if (expr == NULL) {
        return;
    }
    node_free(expr->root);
    free(expr->text);
    free(expr);
}

weir_stype
weir_expr_type(const weir_expr *expr)
{
    return expr->root->t;
}

const char *
weir_expr_text(const weir_expr *expr)
{
    return expr->text;
}
