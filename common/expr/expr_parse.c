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

#include "common/array.h"
#include "common/err.h"
#include "common/expr/expr_int.h"

#define MAX_DEPTH 64   /* parser recursion: parentheses, calls, '!' */
#define MAX_HEIGHT 256 /* tree height: bounds evaluation's recursion */

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
    free(n->byteset);
    free(n->str);
    free(n);
}

static weir__node *
node_new(weir__parser *ps, weir__node_kind kind, unsigned column)
{
    weir__node *n = calloc(1, sizeof(*n));
    if (n == NULL) {
        WEIR__FAIL(ps, column, WEIR_ENOMEM, "out of memory");
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
deepen(weir__parser *ps, weir__node *n)
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
        return WEIR__FAIL(ps, n->column, WEIR_EPARSE, "expression too long");
    }
    return WEIR_OK;
}

static weir__node *parse_or(weir__parser *ps);
static weir__node *parse_add(weir__parser *ps);

/* Comma-separated expressions up to close ("(" or "[" is current). */
static int
parse_args(weir__parser *ps, weir__node *n, const char *close)
{
    size_t cap = 0;
    if (weir__lex(ps) != WEIR_OK) { /* the opening bracket */
        return ps->rv;
    }
    if (weir__is_punct(ps, close)) {
        return weir__lex(ps);
    }
    for (;;) {
        if (weir_array_reserve(
                &n->args, &cap, n->nargs + 1, sizeof(*n->args)) != WEIR_OK) {
            return WEIR__FAIL(ps, n->column, WEIR_ENOMEM, "out of memory");
        }
        weir__node *arg = parse_or(ps);
        if (arg == NULL) {
            return ps->rv;
        }
        n->args[n->nargs++] = arg;
        if (weir__is_punct(ps, ",")) {
            if (weir__lex(ps) != WEIR_OK) {
                return ps->rv;
            }
            continue;
        }
        return weir__expect(
            ps, close, close[0] == ')' ? "',' or ')'" : "',' or ']'");
    }
}

static weir__node *
parse_call(weir__parser *ps, weir__node *n, const weir__tok *name)
{
    n->kind = WEIR__N_CALL;
    n->fn = weir__func_lookup(name->p, name->len);
    if (n->fn == NULL) {
        WEIR__FAIL(ps, n->column, WEIR_EPARSE,
            "unknown function '%.*s' (expected one of %s)", (int)name->len,
            name->p, weir__func_names());
        return n;
    }
    if (parse_args(ps, n, ")") != WEIR_OK) {
        return n;
    }
    if (deepen(ps, n) != WEIR_OK) {
        return n;
    }
    if (n->nargs < n->fn->min_args || n->nargs > n->fn->max_args) {
        if (n->fn->min_args == n->fn->max_args) {
            WEIR__FAIL(ps, n->column, WEIR_EINVAL,
                "%s takes %zu argument%s, not %zu", n->fn->name,
                n->fn->min_args, n->fn->min_args == 1 ? "" : "s", n->nargs);
        } else {
            WEIR__FAIL(ps, n->column, WEIR_EINVAL,
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
parse_name(weir__parser *ps, weir__node *n)
{
    static const struct {
        const char *name;
        weir__node_kind kind;
    } names[] = {{"key", WEIR__N_KEY}, {"value", WEIR__N_VALUE},
        {"timestamp", WEIR__N_TIMESTAMP}, {"agg", WEIR__N_AGG},
        {"right", WEIR__N_RIGHT}, {"window_start", WEIR__N_WSTART},
        {"window_end", WEIR__N_WEND}};
    weir__tok name = ps->cur;
    if (weir__lex(ps) != WEIR_OK) {
        return n;
    }
    if (weir__is_punct(ps, "(")) {
        return parse_call(ps, n, &name);
    }
    if (name.len == 4 && memcmp(name.p, "true", 4) == 0) {
        n->lit = weir_value_bool(true);
        n->t = weir__st(WEIR_TYPE_BOOL);
        return n;
    }
    if (name.len == 5 && memcmp(name.p, "false", 5) == 0) {
        n->lit = weir_value_bool(false);
        n->t = weir__st(WEIR_TYPE_BOOL);
        return n;
    }
    if (name.len == 4 && memcmp(name.p, "null", 4) == 0) {
        n->lit = weir_value_null();
        n->t = weir__st(WEIR_TYPE_NULL);
        return n;
    }
    if (name.len == 7 && memcmp(name.p, "headers", 7) == 0) {
        n->kind = WEIR__N_HEADER;
        n->t = weir__st(WEIR_TYPE_STRING);
        if (!weir__is_punct(ps, "[")) {
            WEIR__FAIL(ps, ps->cur.column, WEIR_EPARSE,
                "expected '[' after headers (headers['name'])");
            return n;
        }
        if (weir__lex(ps) != WEIR_OK || (n->a = parse_or(ps)) == NULL) {
            return n;
        }
        if (deepen(ps, n) != WEIR_OK) {
            return n;
        }
        if (!weir_type_accepts(WEIR_TYPE_STRING, n->a->t.type)) {
            WEIR__FAIL(ps, n->a->column, WEIR_EINVAL,
                "header name must be a string, not %s",
                weir_type_name(n->a->t.type));
            return n;
        }
        weir__expect(ps, "]", "']'");
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
            n->t = weir__st(WEIR_TYPE_TIME);
            break;
        case WEIR__N_AGG:
            if (!env->has_agg) {
                WEIR__FAIL(ps, n->column, WEIR_EPARSE,
                    "'agg' is only defined in reduce");
            }
            n->t = env->agg;
            break;
        case WEIR__N_RIGHT:
            if (!env->has_right) {
                WEIR__FAIL(ps, n->column, WEIR_EPARSE,
                    "'right' is only defined in a join");
            }
            n->t = env->right;
            break;
        default:
            if (!env->windowed) {
                WEIR__FAIL(ps, n->column, WEIR_EPARSE,
                    "'%s' is only defined after a windowed aggregation",
                    names[i].name);
            }
            n->t = weir__st(WEIR_TYPE_TIME);
            break;
        }
        return n;
    }
    WEIR__FAIL(ps, n->column, WEIR_EPARSE,
        "unknown name '%.*s' (expected key, value, timestamp, headers, agg, "
        "right, window_start, window_end, true, false, null or a function "
        "call)",
        (int)name.len, name.p);
    return n;
}

/* A list literal: [a, b, ...], items of one common type. */
static weir__node *
parse_list(weir__parser *ps)
{
    weir__node *n = node_new(ps, WEIR__N_LIST, ps->cur.column);
    if (n == NULL) {
        return NULL;
    }
    if (parse_args(ps, n, "]") == WEIR_OK && deepen(ps, n) == WEIR_OK) {
        weir_stype t = weir__st(WEIR_TYPE_NULL);
        for (size_t i = 0; i < n->nargs; i++) {
            if (weir__type_unify(t, n->args[i]->t, &t) != 0) {
                WEIR__FAIL(ps, n->args[i]->column, WEIR_EINVAL,
                    "list item %zu is %s, expected %s like the items before",
                    i + 1, weir_type_name(n->args[i]->t.type),
                    weir_type_name(t.type));
                break;
            }
        }
        n->t.type = WEIR_TYPE_LIST;
        n->t.elem = t.type == WEIR_TYPE_NULL ? WEIR_TYPE_ANY : t.type;
    }
    if (ps->rv != WEIR_OK) {
        node_free(n);
        return NULL;
    }
    return n;
}

/* One member of an object literal: name (or 'name'): value. */
static weir__node *
parse_member(weir__parser *ps)
{
    weir__node *m = node_new(ps, WEIR__N_MEMBER, ps->cur.column);
    if (m == NULL) {
        return NULL;
    }
    if (ps->cur.kind == WEIR__T_STRING) {
        if (weir__string_lit(ps, m) == WEIR_OK) {
            m->lit = weir_value_null(); /* the name stays in m->str */
        }
    } else if (ps->cur.kind == WEIR__T_NAME) {
        if ((m->str = strndup(ps->cur.p, ps->cur.len)) == NULL) {
            WEIR__FAIL(ps, m->column, WEIR_ENOMEM, "out of memory");
        }
        m->str_len = ps->cur.len;
    } else {
        char d[40];
        WEIR__FAIL(ps, m->column, WEIR_EPARSE,
            "expected a member name, found %s",
            weir__tok_desc(&ps->cur, d, sizeof(d)));
    }
    if (ps->rv == WEIR_OK && weir__lex(ps) == WEIR_OK &&
        weir__expect(ps, ":", "':'") == WEIR_OK &&
        (m->a = parse_or(ps)) != NULL) {
        m->t = m->a->t;
        (void)deepen(ps, m);
    }
    if (ps->rv != WEIR_OK) {
        node_free(m);
        return NULL;
    }
    return m;
}

/* An object literal: {name: a, 'other name': b, ...}, a JSON object. */
static weir__node *
parse_object(weir__parser *ps)
{
    weir__node *n = node_new(ps, WEIR__N_OBJECT, ps->cur.column);
    if (n == NULL || weir__lex(ps) != WEIR_OK) {
        node_free(n);
        return NULL;
    }
    n->t = weir__st(WEIR_TYPE_JSON);
    size_t cap = 0;
    while (ps->rv == WEIR_OK && !weir__is_punct(ps, "}")) {
        if (n->nargs > 0 && weir__expect(ps, ",", "',' or '}'") != WEIR_OK) {
            break;
        }
        if (weir_array_reserve(
                &n->args, &cap, n->nargs + 1, sizeof(*n->args)) != WEIR_OK) {
            WEIR__FAIL(ps, n->column, WEIR_ENOMEM, "out of memory");
            break;
        }
        weir__node *m = parse_member(ps);
        if (m == NULL) {
            break;
        }
        n->args[n->nargs++] = m;
        for (size_t i = 0; i + 1 < n->nargs; i++) {
            if (n->args[i]->str_len == m->str_len &&
                memcmp(n->args[i]->str, m->str, m->str_len) == 0) {
                WEIR__FAIL(ps, m->column, WEIR_EINVAL,
                    "member '%.*s' appears twice", (int)m->str_len, m->str);
            }
        }
    }
    if (ps->rv == WEIR_OK && deepen(ps, n) == WEIR_OK) {
        weir__lex(ps); /* the closing brace */
    }
    if (ps->rv != WEIR_OK) {
        node_free(n);
        return NULL;
    }
    return n;
}

static weir__node *
parse_primary(weir__parser *ps)
{
    char d[40];
    if (weir__is_punct(ps, "(")) {
        if (weir__lex(ps) != WEIR_OK) {
            return NULL;
        }
        weir__node *n = parse_or(ps);
        if (n != NULL && weir__expect(ps, ")", "')'") != WEIR_OK) {
            node_free(n);
            return NULL;
        }
        return n;
    }
    if (weir__is_punct(ps, "[")) {
        return parse_list(ps);
    }
    if (weir__is_punct(ps, "{")) {
        return parse_object(ps);
    }
    weir__node *n = node_new(ps, WEIR__N_LIT, ps->cur.column);
    if (n == NULL) {
        return NULL;
    }
    switch (ps->cur.kind) {
    case WEIR__T_INT:
    case WEIR__T_FLOAT:
        if (weir__number_lit(ps, n) == WEIR_OK) {
            weir__lex(ps);
        }
        break;
    case WEIR__T_STRING:
        if (weir__string_lit(ps, n) == WEIR_OK) {
            weir__lex(ps);
        }
        break;
    case WEIR__T_NAME:
        parse_name(ps, n);
        break;
    default:
        WEIR__FAIL(ps, ps->cur.column, WEIR_EPARSE,
            "expected a value (literal, name or '('), found %s",
            weir__tok_desc(&ps->cur, d, sizeof(d)));
    }
    if (ps->rv != WEIR_OK) {
        node_free(n);
        return NULL;
    }
    return n;
}

/* Field access a.name and index a[i]. */
static weir__node *
parse_postfix(weir__parser *ps)
{
    weir__node *base = parse_primary(ps);
    while (
        base != NULL && (weir__is_punct(ps, ".") || weir__is_punct(ps, "["))) {
        bool dot = weir__is_punct(ps, ".");
        weir__node *n =
            node_new(ps, dot ? WEIR__N_FIELD : WEIR__N_INDEX, ps->cur.column);
        if (n == NULL) {
            node_free(base);
            return NULL;
        }
        n->a = base;
        base = n;
        weir_type bt = n->a->t.type;
        if (deepen(ps, n) != WEIR_OK || weir__lex(ps) != WEIR_OK) {
            break;
        }
        if (dot) {
            if (ps->cur.kind != WEIR__T_NAME) {
                char d[40];
                WEIR__FAIL(ps, ps->cur.column, WEIR_EPARSE,
                    "expected a field name after '.', found %s",
                    weir__tok_desc(&ps->cur, d, sizeof(d)));
                break;
            }
            if (!weir__type_dynamic(bt)) {
                WEIR__FAIL(ps, n->column, WEIR_EINVAL,
                    "field access on a %s (expected a json value)",
                    weir_type_name(bt));
                break;
            }
            n->str = strndup(ps->cur.p, ps->cur.len);
            if (n->str == NULL) {
                WEIR__FAIL(ps, n->column, WEIR_ENOMEM, "out of memory");
                break;
            }
            n->str_len = ps->cur.len;
            n->t = weir__st(WEIR_TYPE_JSON);
            if (weir__lex(ps) != WEIR_OK) {
                break;
            }
            continue;
        }
        if ((n->b = parse_or(ps)) == NULL || deepen(ps, n) != WEIR_OK) {
            break;
        }
        weir_type it = n->b->t.type;
        if (bt == WEIR_TYPE_LIST) {
            if (!weir_type_accepts(WEIR_TYPE_INT, it) ||
                it == WEIR_TYPE_FLOAT) {
                WEIR__FAIL(ps, n->b->column, WEIR_EINVAL,
                    "list index must be an int, not %s", weir_type_name(it));
                break;
            }
            n->t = weir__st(n->a->t.elem);
        } else if (weir__type_dynamic(bt)) {
            if (!weir__type_dynamic(it) && it != WEIR_TYPE_INT &&
                it != WEIR_TYPE_STRING) {
                WEIR__FAIL(ps, n->b->column, WEIR_EINVAL,
                    "index must be an int or a string, not %s",
                    weir_type_name(it));
                break;
            }
            n->t = weir__st(WEIR_TYPE_JSON);
        } else {
            WEIR__FAIL(ps, n->column, WEIR_EINVAL,
                "cannot index a %s (expected a list or json value)",
                weir_type_name(bt));
            break;
        }
        if (weir__expect(ps, "]", "']'") != WEIR_OK) {
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
parse_unary(weir__parser *ps)
{
    if (!weir__is_punct(ps, "!") && !weir__is_punct(ps, "-")) {
        return parse_postfix(ps);
    }
    bool not = weir__is_punct(ps, "!");
    weir__node *n =
        node_new(ps, not ? WEIR__N_NOT : WEIR__N_NEG, ps->cur.column);
    if (n == NULL || weir__lex(ps) != WEIR_OK) {
        node_free(n);
        return NULL;
    }
    if (++ps->depth > MAX_DEPTH) {
        WEIR__FAIL(ps, n->column, WEIR_EPARSE, "expression nested too deeply");
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
        n->t = weir__st(WEIR_TYPE_BOOL);
        if (!weir_type_accepts(WEIR_TYPE_BOOL, t) || t == WEIR_TYPE_NULL) {
            WEIR__FAIL(ps, n->a->column, WEIR_EINVAL,
                "'!' needs a bool, not %s", weir_type_name(t));
        }
    } else {
        n->t = weir__st(weir__type_dynamic(t) ? WEIR_TYPE_ANY : t);
        if (t != WEIR_TYPE_INT && t != WEIR_TYPE_FLOAT &&
            !weir__type_dynamic(t)) {
            WEIR__FAIL(ps, n->a->column, WEIR_EINVAL,
                "'-' needs a number, not %s", weir_type_name(t));
        }
    }
    if (ps->rv != WEIR_OK) {
        node_free(n);
        return NULL;
    }
    return n;
}

static const char *op_text[] = {
    "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"};

typedef weir__node *(*parse_fn)(weir__parser *ps);

/* One left-associative binary level over the listed operators. */
static weir__node *
parse_binary(weir__parser *ps, parse_fn next, const weir__op *ops, size_t nops,
    bool once)
{
    weir__node *left = next(ps);
    while (left != NULL) {
        size_t i;
        for (i = 0; i < nops && !weir__is_punct(ps, op_text[ops[i]]); i++) {
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
        if (weir__lex(ps) != WEIR_OK || (n->b = next(ps)) == NULL ||
            deepen(ps, n) != WEIR_OK) {
            break;
        }
        weir_type a = n->a->t.type, b = n->b->t.type, t;
        if (kind == WEIR__N_CMP) {
            n->t = weir__st(WEIR_TYPE_BOOL);
            if (!weir__type_comparable(n->op, a, b)) {
                WEIR__FAIL(ps, n->column, WEIR_EINVAL,
                    "cannot compare %s %s %s", weir_type_name(a),
                    op_text[n->op], weir_type_name(b));
                break;
            }
        } else if (weir__arith_type(n->op, a, b, &t) != 0) {
            WEIR__FAIL(ps, n->column, WEIR_EINVAL, "cannot compute %s %s %s",
                weir_type_name(a), op_text[n->op], weir_type_name(b));
            break;
        } else {
            n->t = weir__st(t);
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
parse_mul(weir__parser *ps)
{
    static const weir__op ops[] = {WEIR__OP_MUL, WEIR__OP_DIV, WEIR__OP_MOD};
    return parse_binary(ps, parse_unary, ops, 3, false);
}

static weir__node *
parse_add(weir__parser *ps)
{
    static const weir__op ops[] = {WEIR__OP_ADD, WEIR__OP_SUB};
    return parse_binary(ps, parse_mul, ops, 2, false);
}

static weir__node *
parse_cmp(weir__parser *ps)
{
    static const weir__op ops[] = {WEIR__OP_EQ, WEIR__OP_NE, WEIR__OP_LE,
        WEIR__OP_GE, WEIR__OP_LT, WEIR__OP_GT};
    weir__node *left = parse_binary(ps, parse_add, ops, 6, true);
    if (left == NULL || ps->cur.kind != WEIR__T_NAME || ps->cur.len != 2 ||
        memcmp(ps->cur.p, "in", 2) != 0) {
        return left;
    }
    /* a in list: membership by == */
    weir__node *n = node_new(ps, WEIR__N_IN, ps->cur.column);
    if (n == NULL) {
        node_free(left);
        return NULL;
    }
    n->a = left;
    n->t = weir__st(WEIR_TYPE_BOOL);
    if (weir__lex(ps) == WEIR_OK && (n->b = parse_add(ps)) != NULL &&
        deepen(ps, n) == WEIR_OK) {
        weir_stype lt = n->b->t;
        if (lt.type != WEIR_TYPE_LIST && !weir__type_dynamic(lt.type)) {
            WEIR__FAIL(ps, n->b->column, WEIR_EINVAL,
                "'in' needs a list, not %s", weir_type_name(lt.type));
        } else if (lt.type == WEIR_TYPE_LIST &&
                   !weir__type_comparable(WEIR__OP_EQ, left->t.type, lt.elem)) {
            WEIR__FAIL(ps, n->column, WEIR_EINVAL,
                "cannot look for a %s in a list of %s",
                weir_type_name(left->t.type), weir_type_name(lt.elem));
        }
    }
    if (ps->rv != WEIR_OK) {
        node_free(n);
        return NULL;
    }
    return n;
}

/* && and || levels: operands must be bools. */
static weir__node *
parse_logic(
    weir__parser *ps, parse_fn next, const char *opname, weir__node_kind kind)
{
    weir__node *left = next(ps);
    while (left != NULL && weir__is_punct(ps, opname)) {
        weir__node *n = node_new(ps, kind, ps->cur.column);
        if (n == NULL) {
            break;
        }
        n->a = left;
        left = n;
        n->t = weir__st(WEIR_TYPE_BOOL);
        if (weir__lex(ps) != WEIR_OK || (n->b = next(ps)) == NULL ||
            deepen(ps, n) != WEIR_OK) {
            break;
        }
        weir__node *bad = NULL;
        if (!weir_type_accepts(WEIR_TYPE_BOOL, n->a->t.type) ||
            n->a->t.type == WEIR_TYPE_NULL) {
            bad = n->a;
        } else if (!weir_type_accepts(WEIR_TYPE_BOOL, n->b->t.type) ||
                   n->b->t.type == WEIR_TYPE_NULL) {
            bad = n->b;
        }
        if (bad != NULL) {
            WEIR__FAIL(ps, bad->column, WEIR_EINVAL, "'%s' needs bools, not %s",
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
parse_and(weir__parser *ps)
{
    return parse_logic(ps, parse_cmp, "&&", WEIR__N_AND);
}

static weir__node *
parse_or(weir__parser *ps)
{
    if (++ps->depth > MAX_DEPTH) {
        WEIR__FAIL(
            ps, ps->cur.column, WEIR_EPARSE, "expression nested too deeply");
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
    weir__parser ps = {
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
    if (weir__lex(&ps) != WEIR_OK) {
        return ps.rv;
    }
    if (ps.cur.kind == WEIR__T_EOF) {
        return weir__expr_fail(
            err, ps.cur.column, WEIR_EPARSE, "empty expression");
    }
    weir__node *root = parse_or(&ps);
    if (root != NULL && ps.cur.kind != WEIR__T_EOF) {
        char d[40];
        WEIR__FAIL(&ps, ps.cur.column, WEIR_EPARSE,
            "expected an operator or the end, found %s",
            weir__tok_desc(&ps.cur, d, sizeof(d)));
    }
    weir_expr *expr = NULL;
    if (ps.rv == WEIR_OK && (expr = calloc(1, sizeof(*expr))) != NULL) {
        expr->text = strndup(text, len);
    }
    if (ps.rv == WEIR_OK && (expr == NULL || expr->text == NULL)) {
        WEIR__FAIL(&ps, 0, WEIR_ENOMEM, "out of memory");
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
