/* Expression lexer and literals: tokens, string escapes, numbers. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/expr/expr_int.h"

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

static bool
is_name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

static const char *puncts[] = {"==", "!=", "<=", ">=", "&&", "||", "<", ">",
    "+", "-", "*", "/", "%", "!", "(", ")", "[", "]", ".", ",", "{", "}", ":"};

int
weir__lex(weir__parser *ps)
{
    const char *t = ps->text;
    while (ps->pos < ps->len && (t[ps->pos] == ' ' || t[ps->pos] == '\t' ||
                                    t[ps->pos] == '\n' || t[ps->pos] == '\r')) {
        ps->pos++;
    }
    weir__tok *k = &ps->cur;
    k->p = t + ps->pos;
    k->column = (unsigned)ps->pos + 1;
    k->len = 0;
    if (ps->pos >= ps->len) {
        k->kind = WEIR__T_EOF;
        return WEIR_OK;
    }
    char c = t[ps->pos];
    size_t start = ps->pos;
    if (c >= '0' && c <= '9') {
        k->kind = WEIR__T_INT;
        while (ps->pos < ps->len && t[ps->pos] >= '0' && t[ps->pos] <= '9') {
            ps->pos++;
        }
        if (ps->pos + 1 < ps->len && t[ps->pos] == '.' &&
            t[ps->pos + 1] >= '0' && t[ps->pos + 1] <= '9') {
            k->kind = WEIR__T_FLOAT;
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
                k->kind = WEIR__T_FLOAT;
                ps->pos = q;
                while (ps->pos < ps->len && t[ps->pos] >= '0' &&
                       t[ps->pos] <= '9') {
                    ps->pos++;
                }
            }
        }
        if (ps->pos < ps->len && is_name_char(t[ps->pos], false)) {
            return WEIR__FAIL(ps, k->column, WEIR_EPARSE, "malformed number");
        }
    } else if (is_name_char(c, true)) {
        k->kind = WEIR__T_NAME;
        while (ps->pos < ps->len && is_name_char(t[ps->pos], false)) {
            ps->pos++;
        }
    } else if (c == '\'' || c == '"') {
        k->kind = WEIR__T_STRING;
        ps->pos++;
        while (ps->pos < ps->len && t[ps->pos] != c) {
            if (t[ps->pos] == '\\' && ps->pos + 1 < ps->len) {
                ps->pos++;
            }
            ps->pos++;
        }
        if (ps->pos >= ps->len) {
            return WEIR__FAIL(ps, k->column, WEIR_EPARSE,
                "unterminated string (expected a closing %c)", c);
        }
        ps->pos++;
    } else {
        k->kind = WEIR__T_PUNCT;
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
                return WEIR__FAIL(ps, k->column, WEIR_EPARSE,
                    "unexpected byte 0x%02x", (unsigned char)c);
            }
            return WEIR__FAIL(ps, k->column, WEIR_EPARSE, "unexpected '%c'", c);
        }
    }
    k->len = ps->pos - start;
    return WEIR_OK;
}

bool
weir__is_punct(const weir__parser *ps, const char *p)
{
    return ps->cur.kind == WEIR__T_PUNCT && ps->cur.len == strlen(p) &&
           memcmp(ps->cur.p, p, ps->cur.len) == 0;
}

const char *
weir__tok_desc(const weir__tok *k, char *buf, size_t buflen)
{
    if (k->kind == WEIR__T_EOF) {
        return "the end";
    }
    int n = k->len > 24 ? 24 : (int)k->len;
    snprintf(buf, buflen, "'%.*s'", n, k->p);
    return buf;
}

int
weir__expect(weir__parser *ps, const char *p, const char *what)
{
    if (!weir__is_punct(ps, p)) {
        char d[40];
        return WEIR__FAIL(ps, ps->cur.column, WEIR_EPARSE,
            "expected %s, found %s", what,
            weir__tok_desc(&ps->cur, d, sizeof(d)));
    }
    return weir__lex(ps);
}

/* Unescapes a string literal token into an owned buffer. */
int
weir__string_lit(weir__parser *ps, weir__node *n)
{
    const char *s = ps->cur.p + 1;
    size_t len = ps->cur.len - 2;
    char *out = malloc(len + 1);
    if (out == NULL) {
        return WEIR__FAIL(ps, n->column, WEIR_ENOMEM, "out of memory");
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
    n->t = weir__st(WEIR_TYPE_STRING);
    return WEIR_OK;
}

int
weir__number_lit(weir__parser *ps, weir__node *n)
{
    char tmp[64];
    if (ps->cur.len >= sizeof(tmp)) {
        return WEIR__FAIL(ps, n->column, WEIR_EPARSE, "number too long");
    }
    memcpy(tmp, ps->cur.p, ps->cur.len);
    tmp[ps->cur.len] = '\0';
    errno = 0;
    if (ps->cur.kind == WEIR__T_INT) {
        char *end;
        long long v = strtoll(tmp, &end, 10);
        if (errno != 0 || *end != '\0') {
            return WEIR__FAIL(ps, n->column, WEIR_EPARSE,
                "integer out of range (expected at most %lld)",
                (long long)INT64_MAX);
        }
        n->lit = weir_value_int(v);
        n->t = weir__st(WEIR_TYPE_INT);
    } else {
        n->lit = weir_value_float(strtod(tmp, NULL));
        n->t = weir__st(WEIR_TYPE_FLOAT);
    }
    return WEIR_OK;
}
