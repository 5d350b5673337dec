/* Static typing rules shared by the parser and the evaluator. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/expr/expr_int.h"

bool
weir__type_dynamic(weir_type t)
{
    return t == WEIR_TYPE_ANY || t == WEIR_TYPE_JSON;
}

bool
weir_type_accepts(weir_type want, weir_type have)
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

bool
weir__type_numeric(weir_type t)
{
    return t == WEIR_TYPE_INT || t == WEIR_TYPE_FLOAT || t == WEIR_TYPE_TIME;
}

bool
weir__type_textual(weir_type t)
{
    return t == WEIR_TYPE_STRING || t == WEIR_TYPE_BYTES;
}

/* Result type of a op b, or -1 with a message when it cannot be typed. */
int
weir__arith_type(weir__op op, weir_type a, weir_type b, weir_type *out)
{
    if (weir__type_dynamic(a) || weir__type_dynamic(b)) {
        *out = WEIR_TYPE_ANY;
        return 0;
    }
    if (op == WEIR__OP_ADD && weir__type_textual(a) && weir__type_textual(b)) {
        *out = a == WEIR_TYPE_BYTES || b == WEIR_TYPE_BYTES ? WEIR_TYPE_BYTES
                                                            : WEIR_TYPE_STRING;
        return 0;
    }
    if (!weir__type_numeric(a) || !weir__type_numeric(b)) {
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

bool
weir__type_comparable(weir__op op, weir_type a, weir_type b)
{
    if (weir__type_dynamic(a) || weir__type_dynamic(b)) {
        return true;
    }
    if (a == WEIR_TYPE_NULL || b == WEIR_TYPE_NULL) {
        return op == WEIR__OP_EQ || op == WEIR__OP_NE;
    }
    return a == b || (weir__type_numeric(a) && weir__type_numeric(b)) ||
           (weir__type_textual(a) && weir__type_textual(b));
}

/* The common type of two branches, or -1. */
int
weir__type_unify(weir_stype a, weir_stype b, weir_stype *out)
{
    if ((a.type == b.type && (a.type != WEIR_TYPE_LIST || a.elem == b.elem)) ||
        b.type == WEIR_TYPE_NULL) {
        *out = a;
    } else if (a.type == WEIR_TYPE_NULL) {
        *out = b;
    } else if (weir__type_dynamic(a.type) || weir__type_dynamic(b.type)) {
        *out = weir__st(WEIR_TYPE_ANY);
    } else if (a.type == WEIR_TYPE_LIST && b.type == WEIR_TYPE_LIST) {
        out->type = WEIR_TYPE_LIST;
        out->elem = WEIR_TYPE_ANY;
    } else if ((a.type == WEIR_TYPE_INT && b.type == WEIR_TYPE_FLOAT) ||
               (a.type == WEIR_TYPE_FLOAT && b.type == WEIR_TYPE_INT)) {
        *out = weir__st(WEIR_TYPE_FLOAT);
    } else {
        return -1;
    }
    return 0;
}
