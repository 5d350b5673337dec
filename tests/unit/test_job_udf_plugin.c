/*
 * A plugin for test_job_udf.c, built as a shared object: what a user's
 * plugin looks like. It uses only the headers, never the library.
 */
#include <string.h>

#include "common/expr/udf.h"

int weir_plugin_init(int api_version, int (*register_fn)(const weir_udf *));

/* reverse(s): the bytes of s backwards. */
static int
reverse(const weir_udf_ctx *ctx, const weir_value *args, size_t nargs,
    weir_value *out)
{
    (void)nargs;
    if (args[0].type == WEIR_TYPE_NULL) {
        out->type = WEIR_TYPE_NULL;
        return 0;
    }
    size_t len = args[0].u.s.len;
    char *p = ctx->alloc(ctx->arena, len + 1);
    if (p == NULL) {
        strncpy(ctx->err, "out of memory", ctx->errlen);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        p[i] = args[0].u.s.ptr[len - 1 - i];
    }
    out->type = WEIR_TYPE_STRING;
    out->u.s.ptr = p;
    out->u.s.len = len;
    return 0;
}

/* checked_add(a, b[, c]): int sum; fails on negative arguments. */
static int
checked_add(const weir_udf_ctx *ctx, const weir_value *args, size_t nargs,
    weir_value *out)
{
    int64_t sum = 0;
    for (size_t i = 0; i < nargs; i++) {
        if (args[i].type != WEIR_TYPE_INT || args[i].u.i < 0) {
            strncpy(ctx->err, "negative or null argument", ctx->errlen);
            return -1;
        }
        sum += args[i].u.i;
    }
    out->type = WEIR_TYPE_INT;
    out->u.i = sum + *(const int64_t *)ctx->opaque;
    return 0;
}

/* liar(): declared a string, returns a bool. */
static int
liar(const weir_udf_ctx *ctx, const weir_value *args, size_t nargs,
    weir_value *out)
{
    (void)ctx;
    (void)args;
    (void)nargs;
    out->type = WEIR_TYPE_BOOL;
    out->u.b = true;
    return 0;
}

static const int64_t zero = 0;

int
weir_plugin_init(int api_version, int (*register_fn)(const weir_udf *))
{
    if (api_version != WEIR_UDF_API_VERSION) {
        return -1;
    }
    weir_udf r = {.name = "reverse",
        .min_args = 1,
        .max_args = 1,
        .args = {WEIR_TYPE_STRING},
        .result = WEIR_TYPE_STRING,
        .fn = reverse};
    weir_udf a = {.name = "checked_add",
        .min_args = 2,
        .max_args = 3,
        .args = {WEIR_TYPE_INT, WEIR_TYPE_INT, WEIR_TYPE_INT},
        .result = WEIR_TYPE_INT,
        .fn = checked_add,
        .opaque = (void *)&zero};
    weir_udf l = {.name = "liar", .result = WEIR_TYPE_STRING, .fn = liar};
    if (register_fn(&r) != 0 || register_fn(&a) != 0 || register_fn(&l) != 0) {
        return -2;
    }
    return 0;
}
