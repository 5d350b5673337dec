/*
 * The SQL subset's grammar (lemon, Debian's package: SQLite's parser
 * generator). Statements are built into p->cur (sql_int.h); a statement
 * is appended to p->stmts when its last token reduces.
 */
%name weir__sql_parser
%token_prefix SQL_T_
%token_type {weir__sql_token}
%extra_argument {weir__sql_parse *p}
%start_symbol input

%include {
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/err.h"
#include "common/job/sql_int.h"

/* Begins a statement at token t. */
static void
start_stmt(weir__sql_parse *p, const weir__sql_token *t)
{
    weir__sql_stmt_free(p->cur);
    p->cur = calloc(1, sizeof(*p->cur));
    if (p->cur == NULL) {
        p->oom = true;
    } else {
        p->cur->pos = t->pos;
        p->cur->start = t->offset;
    }
}

/* Ends the statement being built as kind, named name. */
static void
end_stmt(weir__sql_parse *p, weir__sql_stmt_kind kind, char *name)
{
    weir__sql_stmt *s = p->cur;
    p->cur = NULL;
    if (s == NULL) {
        free(name);
        return;
    }
    s->kind = kind;
    s->name = name;
    if (weir_array_append(&p->stmts, &p->n_stmts, &s, sizeof(s)) != WEIR_OK) {
        p->oom = true;
        weir__sql_stmt_free(s);
    }
}

static void
add_column(weir__sql_parse *p, char *name, char *type, bool key,
    weir__sql_pos pos)
{
    weir__sql_column c = {name, type, key, pos};
    if (p->cur == NULL || weir_array_append(&p->cur->columns,
                              &p->cur->n_columns, &c, sizeof(c)) != WEIR_OK) {
        p->oom = p->cur != NULL;
        free(name);
        free(type);
    }
}

static void
add_prop(weir__sql_parse *p, char *name, const weir__sql_token *v,
    bool number)
{
    weir__sql_prop pr = {weir__sql_upper(p, name), NULL, number, v->pos};
    free(name);
    pr.value = weir__sql_strdup(p, v->text);
    if (p->cur == NULL || pr.name == NULL || pr.value == NULL ||
        weir_array_append(
            &p->cur->props, &p->cur->n_props, &pr, sizeof(pr)) != WEIR_OK) {
        p->oom = p->oom || p->cur != NULL;
        free(pr.name);
        free(pr.value);
    }
}

static void
add_item(weir__sql_parse *p, weir__sql_expr *e, char *alias)
{
    weir__sql_item it = {e, alias};
    if (p->cur == NULL || e == NULL ||
        weir_array_append(
            &p->cur->items, &p->cur->n_items, &it, sizeof(it)) != WEIR_OK) {
        p->oom = p->oom || (p->cur != NULL && e != NULL);
        weir__sql_expr_free(e);
        free(alias);
    }
}

static weir__sql_expr *
binary(weir__sql_parse *p, const char *op, weir__sql_expr *a,
    weir__sql_expr *b, weir__sql_pos pos)
{
    weir__sql_expr *e = weir__sql_expr_new(p, SQL_E_BINARY, NULL, op);
    if (e != NULL) {
        e->pos = a != NULL ? a->pos : pos;
    }
    return weir__sql_expr_add(p, weir__sql_expr_add(p, e, a), b);
}

static weir__sql_expr *
unary(weir__sql_parse *p, const char *op, weir__sql_expr *a,
    const weir__sql_token *t)
{
    weir__sql_expr *e = weir__sql_expr_new(p, SQL_E_UNARY, t, op);
    return weir__sql_expr_add(p, e, a);
}

static void
set_from(weir__sql_from *f, char *name, char *alias, weir__sql_pos pos)
{
    free(f->name);
    free(f->alias);
    f->name = name;
    f->alias = alias;
    f->pos = pos;
}
}

%syntax_error {
    if (!p->failed) {
        if (yymajor == 0) {
            weir__sql_error(p, TOKEN.pos,
                "syntax error: the statement ends too soon (a missing ';'?)");
        } else {
            weir__sql_error(p, TOKEN.pos, "syntax error near '%.*s'",
                (int)(TOKEN.len > 40 ? 40 : TOKEN.len), TOKEN.text);
        }
    }
    p->failed = true;
}
%parse_failure { p->failed = true; }
%stack_overflow {
    weir__sql_error(p, (weir__sql_pos){0, 0}, "statement nested too deeply");
    p->failed = true;
}
%stack_size 200

/* Keywords that are not reserved: usable as names. */
%fallback ID KEY PRIMARY SIZE ADVANCE GRACE PERIOD CHANGES FINAL TUMBLING
    HOPPING SESSION INNER OUTER FULL WITHIN.

%left OR.
%left AND.
%right NOT.
%nonassoc IS IN.
%nonassoc EQ NE LT LE GT GE.
%left PLUS MINUS CONCAT.
%left STAR SLASH PERCENT.
%right UMINUS.

%type ident {char *}
%destructor ident { free($$); }
%type type {char *}
%destructor type { free($$); }
%type alias {char *}
%destructor alias { free($$); }
%type expr {weir__sql_expr *}
%destructor expr { weir__sql_expr_free($$); }
%type exprlist {weir__sql_expr *}
%destructor exprlist { weir__sql_expr_free($$); }
%type whens {weir__sql_expr *}
%destructor whens { weir__sql_expr_free($$); }
%type keyspec {bool}
%type dur {uint64_t}
%type jtype {weir__sql_join_kind}

input ::= stmts.
stmts ::= .
stmts ::= stmts stmt SEMI(S). {
    if (p->n_stmts > 0) {
        p->stmts[p->n_stmts - 1]->end = S.offset + 1;
    }
}
stmts ::= stmts SEMI.

begin ::= CREATE(C). { start_stmt(p, &C); }

/* A SELECT alone is a pull query (weirctl sql); its statement starts at
 * SELECT. Inside CREATE ... AS the statement has begun already. */
select ::= SELECT(S). {
    if (p->cur == NULL) {
        start_stmt(p, &S);
    }
}
stmt ::= query. { end_stmt(p, SQL_S_SELECT, NULL); }

stmt ::= begin STREAM ident(N) LP columns RP WITH LP props RP.
    { end_stmt(p, SQL_S_STREAM, N); }
stmt ::= begin TABLE ident(N) LP columns RP WITH LP props RP.
    { end_stmt(p, SQL_S_TABLE, N); }
stmt ::= begin STREAM ident(N) opt_with AS query.
    { end_stmt(p, SQL_S_CSAS, N); }
stmt ::= begin TABLE ident(N) opt_with AS query.
    { end_stmt(p, SQL_S_CTAS, N); }

ident(A) ::= ID(X). { A = weir__sql_ident(p, &X); }

columns ::= column.
columns ::= columns COMMA column.
column ::= ID(N) type(T) keyspec(K). {
    add_column(p, weir__sql_ident(p, &N), T, K, N.pos);
}
keyspec(A) ::= . { A = false; }
keyspec(A) ::= KEY. { A = true; }
keyspec(A) ::= PRIMARY KEY. { A = true; }
type(A) ::= ident(X). { A = weir__sql_upper(p, X); free(X); }
type(A) ::= ident(X) LT type(Y) GT. {
    char *x = weir__sql_upper(p, X);
    A = NULL;
    if (x != NULL && Y != NULL &&
        (A = malloc(strlen(x) + strlen(Y) + 3)) != NULL) {
        strcpy(A, x);
        strcat(A, "<");
        strcat(A, Y);
        strcat(A, ">");
    } else {
        p->oom = true;
    }
    free(x);
    free(X);
    free(Y);
}

opt_with ::= .
opt_with ::= WITH LP props RP.
props ::= prop.
props ::= props COMMA prop.
prop ::= ident(N) EQ STRING(V). { add_prop(p, N, &V, false); }
prop ::= ident(N) EQ INTEGER(V). { add_prop(p, N, &V, true); }

query ::= select items FROM source join window where group partition emit.

items ::= STAR. { if (p->cur) p->cur->select_star = true; }
items ::= itemlist.
itemlist ::= item.
itemlist ::= itemlist COMMA item.
item ::= expr(E). { add_item(p, E, NULL); }
item ::= expr(E) AS ident(A). { add_item(p, E, A); }

alias(A) ::= . { A = NULL; }
alias(A) ::= ident(X). { A = X; }
alias(A) ::= AS ident(X). { A = X; }

source ::= ID(N) alias(A). {
    if (p->cur) {
        set_from(&p->cur->from, weir__sql_ident(p, &N), A, N.pos);
    } else {
        free(A);
    }
}

join ::= .
join ::= jtype(T) JOIN ID(N) alias(A) within ON expr(E). {
    if (p->cur) {
        p->cur->join = T;
        set_from(&p->cur->join_with, weir__sql_ident(p, &N), A, N.pos);
        weir__sql_expr_free(p->cur->join_on);
        p->cur->join_on = E;
    } else {
        free(A);
        weir__sql_expr_free(E);
    }
}
jtype(A) ::= . { A = SQL_J_INNER; }
jtype(A) ::= INNER. { A = SQL_J_INNER; }
jtype(A) ::= LEFT. { A = SQL_J_LEFT; }
jtype(A) ::= LEFT OUTER. { A = SQL_J_LEFT; }
jtype(A) ::= FULL. { A = SQL_J_OUTER; }
jtype(A) ::= FULL OUTER. { A = SQL_J_OUTER; }
within ::= .
within ::= WITHIN dur(D). {
    if (p->cur) { p->cur->has_within = true; p->cur->within_ms = D; }
}
within ::= WITHIN dur(D) GRACE PERIOD dur(G). {
    if (p->cur) {
        p->cur->has_within = true;
        p->cur->within_ms = D;
        p->cur->join_grace_ms = G;
    }
}

dur(A) ::= INTEGER(N) ID(U). {
    A = 0;
    (void)weir__sql_duration(p, &N, &U, &A);
}

window ::= .
window ::= WINDOW(W) TUMBLING LP SIZE dur(S) grace RP. {
    if (p->cur) {
        p->cur->window.kind = SQL_W_TUMBLING;
        p->cur->window.size_ms = S;
        p->cur->window.pos = W.pos;
    }
}
window ::= WINDOW(W) HOPPING LP SIZE dur(S) COMMA ADVANCE BY dur(A) grace RP. {
    if (p->cur) {
        p->cur->window.kind = SQL_W_HOPPING;
        p->cur->window.size_ms = S;
        p->cur->window.advance_ms = A;
        p->cur->window.pos = W.pos;
    }
}
window ::= WINDOW(W) SESSION LP dur(G) grace RP. {
    if (p->cur) {
        p->cur->window.kind = SQL_W_SESSION;
        p->cur->window.gap_ms = G;
        p->cur->window.pos = W.pos;
    }
}
grace ::= .
grace ::= COMMA GRACE PERIOD dur(G). {
    if (p->cur) {
        p->cur->window.grace_ms = G;
        p->cur->window.has_grace = true;
    }
}

where ::= .
where ::= WHERE expr(E). {
    if (p->cur) { weir__sql_expr_free(p->cur->where); p->cur->where = E; }
    else weir__sql_expr_free(E);
}

group ::= .
group ::= GROUP(G) BY grouplist. { if (p->cur) p->cur->group_pos = G.pos; }
grouplist ::= groupitem.
grouplist ::= grouplist COMMA groupitem.
groupitem ::= expr(E). {
    if (p->cur == NULL || E == NULL ||
        weir_array_append(&p->cur->group_by, &p->cur->n_group_by, &E,
            sizeof(E)) != WEIR_OK) {
        p->oom = p->oom || (p->cur != NULL && E != NULL);
        weir__sql_expr_free(E);
    }
}

partition ::= .
partition ::= PARTITION BY expr(E). {
    if (p->cur) {
        weir__sql_expr_free(p->cur->partition_by);
        p->cur->partition_by = E;
    } else {
        weir__sql_expr_free(E);
    }
}

emit ::= .
emit ::= EMIT CHANGES.
emit ::= EMIT FINAL. { if (p->cur) p->cur->emit_final = true; }

expr(A) ::= expr(X) OR(T) expr(Y). { A = binary(p, "OR", X, Y, T.pos); }
expr(A) ::= expr(X) AND(T) expr(Y). { A = binary(p, "AND", X, Y, T.pos); }
expr(A) ::= NOT(T) expr(X). { A = unary(p, "NOT", X, &T); }
expr(A) ::= expr(X) EQ(T) expr(Y). { A = binary(p, "=", X, Y, T.pos); }
expr(A) ::= expr(X) NE(T) expr(Y). { A = binary(p, "!=", X, Y, T.pos); }
expr(A) ::= expr(X) LT(T) expr(Y). { A = binary(p, "<", X, Y, T.pos); }
expr(A) ::= expr(X) LE(T) expr(Y). { A = binary(p, "<=", X, Y, T.pos); }
expr(A) ::= expr(X) GT(T) expr(Y). { A = binary(p, ">", X, Y, T.pos); }
expr(A) ::= expr(X) GE(T) expr(Y). { A = binary(p, ">=", X, Y, T.pos); }
expr(A) ::= expr(X) PLUS(T) expr(Y). { A = binary(p, "+", X, Y, T.pos); }
expr(A) ::= expr(X) MINUS(T) expr(Y). { A = binary(p, "-", X, Y, T.pos); }
expr(A) ::= expr(X) CONCAT(T) expr(Y). { A = binary(p, "||", X, Y, T.pos); }
expr(A) ::= expr(X) STAR(T) expr(Y). { A = binary(p, "*", X, Y, T.pos); }
expr(A) ::= expr(X) SLASH(T) expr(Y). { A = binary(p, "/", X, Y, T.pos); }
expr(A) ::= expr(X) PERCENT(T) expr(Y). { A = binary(p, "%", X, Y, T.pos); }
expr(A) ::= MINUS(T) expr(X). [UMINUS] { A = unary(p, "-", X, &T); }
expr(A) ::= expr(X) IS NULL. {
    A = weir__sql_expr_add(p, weir__sql_expr_new(p, SQL_E_IS_NULL, NULL, NULL), X);
    if (A) A->pos = A->args[0]->pos;
}
expr(A) ::= expr(X) IS NOT NULL. {
    A = weir__sql_expr_add(p, weir__sql_expr_new(p, SQL_E_IS_NULL, NULL, NULL), X);
    if (A) { A->negated = true; A->pos = A->args[0]->pos; }
}
expr(A) ::= expr(X) IN LP exprlist(L) RP. {
    A = L;
    if (A) {
        A->kind = SQL_E_IN;
        /* X goes first */
        if (weir__sql_expr_add(p, A, X) != NULL) {
            memmove(A->args + 1, A->args, (A->n_args - 1) * sizeof(*A->args));
            A->args[0] = X;
            A->pos = X->pos;
        } else {
            A = NULL;
        }
    } else {
        weir__sql_expr_free(X);
    }
}
expr(A) ::= expr(X) NOT IN LP exprlist(L) RP. {
    A = L;
    if (A) {
        A->kind = SQL_E_IN;
        A->negated = true;
        if (weir__sql_expr_add(p, A, X) != NULL) {
            memmove(A->args + 1, A->args, (A->n_args - 1) * sizeof(*A->args));
            A->args[0] = X;
            A->pos = X->pos;
        } else {
            A = NULL;
        }
    } else {
        weir__sql_expr_free(X);
    }
}
expr(A) ::= LP expr(X) RP. { A = X; }
expr(A) ::= INTEGER(T). { A = weir__sql_expr_new(p, SQL_E_INT, &T, T.text); }
expr(A) ::= FLOAT(T). { A = weir__sql_expr_new(p, SQL_E_FLOAT, &T, T.text); }
expr(A) ::= STRING(T). { A = weir__sql_expr_new(p, SQL_E_STRING, &T, T.text); }
expr(A) ::= TRUE(T). { A = weir__sql_expr_new(p, SQL_E_BOOL, &T, "true"); }
expr(A) ::= FALSE(T). { A = weir__sql_expr_new(p, SQL_E_BOOL, &T, "false"); }
expr(A) ::= NULL(T). { A = weir__sql_expr_new(p, SQL_E_NULL, &T, NULL); }
expr(A) ::= ID(N). {
    char *n = weir__sql_ident(p, &N);
    A = weir__sql_expr_new(p, SQL_E_COLUMN, &N, n);
    free(n);
}
expr(A) ::= ID(Q) DOT ID(N). {
    char *n = weir__sql_ident(p, &N), *q = weir__sql_ident(p, &Q);
    A = weir__sql_expr_new(p, SQL_E_COLUMN, &Q, n);
    if (A != NULL) {
        A->qual = q;
        q = NULL;
    }
    free(n);
    free(q);
}
expr(A) ::= ID(F) LP RP. {
    char *f = weir__sql_upper(p, F.text);
    A = weir__sql_expr_new(p, SQL_E_CALL, &F, f);
    free(f);
}
expr(A) ::= ID(F) LP STAR RP. {
    char *f = weir__sql_upper(p, F.text);
    A = weir__sql_expr_new(p, SQL_E_CALL, &F, f);
    if (A) A->star = true;
    free(f);
}
expr(A) ::= ID(F) LP exprlist(L) RP. {
    char *f = weir__sql_upper(p, F.text);
    A = L;
    if (A != NULL) {
        free(A->text);
        A->text = f;
        A->pos = F.pos;
        f = NULL;
    }
    free(f);
}
expr(A) ::= CAST(C) LP expr(X) AS type(T) RP. {
    A = weir__sql_expr_add(p, weir__sql_expr_new(p, SQL_E_CAST, &C, T), X);
    free(T);
}
expr(A) ::= CASE(C) whens(W) END. {
    A = W;
    if (A) A->pos = C.pos;
}
expr(A) ::= CASE(C) whens(W) ELSE expr(E) END. {
    A = weir__sql_expr_add(p, W, E);
    if (A) { A->has_else = true; A->pos = C.pos; }
}
whens(A) ::= WHEN expr(C) THEN expr(V). {
    A = weir__sql_expr_add(p,
        weir__sql_expr_add(p, weir__sql_expr_new(p, SQL_E_CASE, NULL, NULL), C), V);
}
whens(A) ::= whens(W) WHEN expr(C) THEN expr(V). {
    A = weir__sql_expr_add(p, weir__sql_expr_add(p, W, C), V);
}
exprlist(A) ::= expr(X). {
    A = weir__sql_expr_add(p, weir__sql_expr_new(p, SQL_E_CALL, NULL, NULL), X);
}
exprlist(A) ::= exprlist(L) COMMA expr(X). { A = weir__sql_expr_add(p, L, X); }
