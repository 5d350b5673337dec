/* Expressions of compiled operators: the environment a worker parses
 * them in, from the types the compiler recorded in the Operator. */
#include <string.h>

#include "common/err.h"
#include "common/expr/expr.h"

void
weir_expr_env_from_op(const Weir__Topology__Operator *op, weir_expr_env *env)
{
    memset(env, 0, sizeof(*env));
    env->key.type = (weir_type)op->key_type;
    env->key.elem = (weir_type)op->key_elem_type;
    env->value.type = (weir_type)op->value_type;
    env->value.elem = (weir_type)op->value_elem_type;
    env->windowed = op->windowed;
    if (op->kind == WEIR__TOPOLOGY__OP_KIND__OP_REDUCE) {
        env->has_agg = true;
        env->agg = env->value;
    }
    if (op->kind == WEIR__TOPOLOGY__OP_KIND__OP_STREAM_TABLE_JOIN ||
        op->kind == WEIR__TOPOLOGY__OP_KIND__OP_STREAM_STREAM_JOIN) {
        env->has_right = true;
        env->right.type = (weir_type)op->right_type;
        env->right.elem = (weir_type)op->right_elem_type;
    }
}

int
weir_expr_parse_op(const Weir__Topology__Operator *op,
    const Weir__Topology__Expr *e, weir_expr **out, weir_expr_error *err)
{
    weir_expr_env env;
    weir_expr_env_from_op(op, &env);
    const char *text = e != NULL && e->text != NULL ? e->text : "";
    return weir_expr_parse(text, strlen(text), &env, out, err);
}
