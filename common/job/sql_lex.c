/*
 * The SQL subset's tokens, fed to the grammar (sql_parse.y) one by one.
 * Identifiers and keywords are case-insensitive; "quoted" and `quoted`
 * identifiers keep their case; strings are '...' with '' for a quote;
 * comments are -- to the end of the line and / * ... * /.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/array.h"
#include "common/err.h"
#include "common/job/sql_int.h"
#include "sql_parse.h"

void *weir__sql_parserAlloc(void *(*alloc)(size_t));
void weir__sql_parser(
    void *parser, int major, weir__sql_token tok, weir__sql_parse *p);
void weir__sql_parserFree(void *parser, void (*release)(void *));

static const struct keyword {
    const char *word;
    int token;
} keywords[] = {{"ADVANCE", SQL_T_ADVANCE}, {"AND", SQL_T_AND},
    {"AS", SQL_T_AS}, {"BY", SQL_T_BY}, {"CASE", SQL_T_CASE},
    {"CAST", SQL_T_CAST}, {"CHANGES", SQL_T_CHANGES}, {"CREATE", SQL_T_CREATE},
    {"ELSE", SQL_T_ELSE}, {"EMIT", SQL_T_EMIT}, {"END", SQL_T_END},
    {"FALSE", SQL_T_FALSE}, {"FINAL", SQL_T_FINAL}, {"FROM", SQL_T_FROM},
    {"FULL", SQL_T_FULL}, {"GRACE", SQL_T_GRACE}, {"GROUP", SQL_T_GROUP},
    {"HOPPING", SQL_T_HOPPING}, {"IN", SQL_T_IN}, {"INNER", SQL_T_INNER},
    {"IS", SQL_T_IS}, {"JOIN", SQL_T_JOIN}, {"KEY", SQL_T_KEY},
    {"LEFT", SQL_T_LEFT}, {"NOT", SQL_T_NOT}, {"NULL", SQL_T_NULL},
    {"ON", SQL_T_ON}, {"OR", SQL_T_OR}, {"OUTER", SQL_T_OUTER},
    {"PARTITION", SQL_T_PARTITION}, {"PERIOD", SQL_T_PERIOD},
    {"PRIMARY", SQL_T_PRIMARY}, {"SELECT", SQL_T_SELECT},
    {"SESSION", SQL_T_SESSION}, {"SIZE", SQL_T_SIZE}, {"STREAM", SQL_T_STREAM},
    {"TABLE", SQL_T_TABLE}, {"THEN", SQL_T_THEN}, {"TRUE", SQL_T_TRUE},
    {"TUMBLING", SQL_T_TUMBLING}, {"WHEN", SQL_T_WHEN}, {"WHERE", SQL_T_WHERE},
    {"WINDOW", SQL_T_WINDOW}, {"WITH", SQL_T_WITH}, {"WITHIN", SQL_T_WITHIN}};

typedef struct lexer {
    const char *start, *s, *end;
    weir__sql_pos pos;
    weir__sql_parse *p;
    char **texts; /* every token's text, freed at the end */
    size_t n_texts;
} lexer;

static void
advance(lexer *lx, size_t n)
{
    for (size_t i = 0; i < n && lx->s < lx->end; i++, lx->s++) {
        if (*lx->s == '\n') {
            lx->pos.line++;
            lx->pos.column = 1;
        } else if (((unsigned char)*lx->s & 0xc0) != 0x80) {
            lx->pos.column++; /* characters, not bytes (as YAML counts) */
        }
    }
}

/* Skips blanks and comments; false at an unterminated comment. */
static bool
skip_space(lexer *lx)
{
    for (;;) {
        if (lx->s < lx->end && isspace((unsigned char)*lx->s)) {
            advance(lx, 1);
        } else if (lx->end - lx->s >= 2 && lx->s[0] == '-' && lx->s[1] == '-') {
            while (lx->s < lx->end && *lx->s != '\n')
                advance(lx, 1);
        } else if (lx->end - lx->s >= 2 && lx->s[0] == '/' && lx->s[1] == '*') {
            weir__sql_pos at = lx->pos;
            advance(lx, 2);
            while (
                lx->end - lx->s >= 2 && !(lx->s[0] == '*' && lx->s[1] == '/'))
                advance(lx, 1);
            if (lx->end - lx->s < 2) {
                weir__sql_error(lx->p, at, "unterminated comment");
                return false;
            }
            advance(lx, 2);
        } else {
            return true;
        }
    }
}

/* A copy of n bytes at s, freed with the lexer. */
static char *
token_text(lexer *lx, const char *s, size_t n)
{
    char *t = malloc(n + 1);
    if (t == NULL ||
        weir_array_append(&lx->texts, &lx->n_texts, &t, sizeof(t)) != WEIR_OK) {
        free(t);
        lx->p->oom = true;
        return NULL;
    }
    memcpy(t, s, n);
    t[n] = '\0';
    return t;
}

/* A quoted run starting at lx->s (the quote q): its length including the
 * quotes; 0 when unterminated. */
static size_t
quoted_len(const lexer *lx, char q)
{
    const char *e = lx->s + 1;
    while (e < lx->end) {
        if (*e == q && (e + 1 >= lx->end || e[1] != q))
            return (size_t)(e - lx->s) + 1;
        e += *e == q ? 2 : 1;
    }
    return 0;
}

/* The value of a '...' string: quotes stripped, '' made '. */
static char *
string_value(lexer *lx, size_t n)
{
    char *t = token_text(lx, lx->s + 1, n - 2);
    if (t == NULL)
        return NULL;
    char *w = t;
    for (const char *r = t; *r; r++) {
        *w++ = *r;
        if (*r == '\'' && r[1] == '\'')
            r++;
    }
    *w = '\0';
    return t;
}

static int
keyword(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
        if (strlen(keywords[i].word) == n &&
            strncasecmp(keywords[i].word, s, n) == 0)
            return keywords[i].token;
    return SQL_T_ID;
}

/* The next token: its code (0 at the end, -1 on an error, reported). */
static int
next(lexer *lx, weir__sql_token *tok)
{
    if (!skip_space(lx))
        return -1;
    memset(tok, 0, sizeof(*tok));
    tok->pos = lx->pos;
    tok->offset = (size_t)(lx->s - lx->start);
    if (lx->s >= lx->end) {
        tok->text = "";
        return 0;
    }
    const char *s = lx->s;
    char c = *s;
    size_t n = 1;
    int code;
    if (isalpha((unsigned char)c) || c == '_') {
        while (s + n < lx->end && (isalnum((unsigned char)s[n]) || s[n] == '_'))
            n++;
        code = keyword(s, n);
    } else if (isdigit((unsigned char)c)) {
        code = SQL_T_INTEGER;
        while (s + n < lx->end && isdigit((unsigned char)s[n]))
            n++;
        if (s + n + 1 < lx->end && s[n] == '.' &&
            isdigit((unsigned char)s[n + 1])) {
            code = SQL_T_FLOAT;
            n++;
            while (s + n < lx->end && isdigit((unsigned char)s[n]))
                n++;
        }
        if (s + n < lx->end && (s[n] == 'e' || s[n] == 'E')) {
            size_t m = n + 1;
            if (s + m < lx->end && (s[m] == '+' || s[m] == '-'))
                m++;
            if (s + m < lx->end && isdigit((unsigned char)s[m])) {
                code = SQL_T_FLOAT;
                for (n = m; s + n < lx->end && isdigit((unsigned char)s[n]);)
                    n++;
            }
        }
    } else if (c == '\'' || c == '"' || c == '`') {
        n = quoted_len(lx, c);
        if (n == 0) {
            weir__sql_error(lx->p, lx->pos, "unterminated %s",
                c == '\'' ? "string" : "quoted name");
            return -1;
        }
        code = c == '\'' ? SQL_T_STRING : SQL_T_ID;
        tok->text = c == '\'' ? string_value(lx, n) : token_text(lx, s, n);
        tok->len = n;
        advance(lx, n);
        return tok->text ? code : -1;
    } else {
        static const struct op {
            const char *text;
            int code;
        } ops[] = {{"||", SQL_T_CONCAT}, {"!=", SQL_T_NE}, {"<>", SQL_T_NE},
            {"<=", SQL_T_LE}, {">=", SQL_T_GE}, {"(", SQL_T_LP},
            {")", SQL_T_RP}, {",", SQL_T_COMMA}, {";", SQL_T_SEMI},
            {".", SQL_T_DOT}, {"*", SQL_T_STAR}, {"+", SQL_T_PLUS},
            {"-", SQL_T_MINUS}, {"/", SQL_T_SLASH}, {"%", SQL_T_PERCENT},
            {"=", SQL_T_EQ}, {"<", SQL_T_LT}, {">", SQL_T_GT}};
        code = -1;
        for (size_t i = 0; code < 0 && i < sizeof(ops) / sizeof(ops[0]); i++) {
            size_t l = strlen(ops[i].text);
            if ((size_t)(lx->end - s) >= l && memcmp(s, ops[i].text, l) == 0) {
                code = ops[i].code;
                n = l;
            }
        }
        if (code < 0) {
            weir__sql_error(lx->p, lx->pos, "unexpected character '%c'",
                isprint((unsigned char)c) ? c : '?');
            return -1;
        }
    }
    tok->text = token_text(lx, s, n);
    tok->len = n;
    advance(lx, n);
    return tok->text ? code : -1;
}

int
weir__sql_parse_text(const char *text, size_t len, weir__sql_parse *p)
{
    lexer lx = {text, text, text + len, {1, 1}, p, NULL, 0};
    void *parser = weir__sql_parserAlloc(malloc);
    if (parser == NULL)
        return WEIR_ENOMEM;
    weir__sql_token tok;
    int code;
    do {
        code = next(&lx, &tok);
        if (code < 0)
            break;
        weir__sql_parser(parser, code, tok, p);
    } while (code != 0 && !p->failed && !p->oom);
    weir__sql_parserFree(parser, free);
    for (size_t i = 0; i < lx.n_texts; i++)
        free(lx.texts[i]);
    free(lx.texts);
    if (code < 0)
        p->failed = true;
    if (p->oom)
        return WEIR_ENOMEM;
    return p->failed || p->errs->count > 0 ? WEIR_EPARSE : WEIR_OK;
}

void
weir__sql_parse_free(weir__sql_parse *p)
{
    for (size_t i = 0; i < p->n_stmts; i++)
        weir__sql_stmt_free(p->stmts[i]);
    free(p->stmts);
    weir__sql_stmt_free(p->cur);
    p->stmts = NULL;
    p->n_stmts = 0;
    p->cur = NULL;
}
