/*
 * User-defined functions for the expression language, registered by the
 * process or by plugins: shared objects loaded with weir_udf_load.
 *
 * A plugin exports one C function,
 *
 *   int weir_plugin_init(int api_version,
 *       int (*register_fn)(const weir_udf *udf));
 *
 * that checks api_version == WEIR_UDF_API_VERSION, calls register_fn once
 * per function and returns 0 (non-zero refuses the load). A plugin needs
 * only this header and common/value/value.h; it builds values by filling
 * the struct fields and allocates result memory with ctx->alloc, never by
 * calling the library (whose symbols a weir binary does not export).
 *
 * Functions are typed: each argument has a static type (WEIR_TYPE_ANY
 * accepts any), the result has one, and the parser checks calls against
 * them like built-in functions. A name may not shadow a built-in function
 * or another registered one.
 *
 * Threading: register and load at startup, before expressions are parsed;
 * registration takes a lock, so concurrent parsing is safe. A function may
 * be called from several threads at once.
 */
#ifndef WEIR_EXPR_UDF_H
#define WEIR_EXPR_UDF_H

#include <stddef.h>

#include "common/value/value.h"

#define WEIR_UDF_API_VERSION 1
#define WEIR_UDF_MAX_ARGS 8

/* What a function call sees besides its arguments. */
typedef struct weir_udf_ctx {
    /* Result memory (strings, lists) that lives as long as the record. */
    void *(*alloc)(weir_arena *arena, size_t bytes);
    weir_arena *arena;
    void *opaque; /* weir_udf.opaque */
    char *err;    /* message buffer for a failed call */
    size_t errlen;
} weir_udf_ctx;

/*
 * Computes *out from args (types as declared; any may be null). Returns 0,
 * or non-zero with a message in ctx->err: the record is then a bad record
 * (on_error applies).
 */
typedef int (*weir_udf_fn)(const weir_udf_ctx *ctx, const weir_value *args,
    size_t nargs, weir_value *out);

typedef struct weir_udf {
    const char *name;                  /* [a-z_][a-z0-9_]*, copied */
    size_t min_args;                   /* 0..max_args */
    size_t max_args;                   /* at most WEIR_UDF_MAX_ARGS */
    weir_type args[WEIR_UDF_MAX_ARGS]; /* static type of each argument */
    weir_type result;                  /* static type of the result */
    weir_udf_fn fn;
    void *opaque;
} weir_udf;

/*
 * Registers a function (the struct is copied). Errors: WEIR_EINVAL (bad
 * name, arity or type), WEIR_EEXIST (a built-in or registered function
 * has the name), WEIR_ENOMEM.
 */
int weir_udf_register(const weir_udf *udf);

/*
 * Loads a plugin (dlopen) and runs its weir_plugin_init. The object stays
 * loaded for the life of the process. A refused load may leave the
 * functions registered before the refusal in place. Errors (message in err):
 * WEIR_ENOTFOUND (cannot open, or no weir_plugin_init), WEIR_EINVAL (the
 * plugin refused or registered a bad function).
 */
int weir_udf_load(const char *path, char *err, size_t errlen);

/*
 * Loads every plugin of a comma-separated list of paths (a --plugins flag),
 * in order; NULL or "" loads none. Stops at the first failure, with
 * weir_udf_load's error and message.
 */
int weir_udf_load_list(const char *paths, char *err, size_t errlen);

/*
 * Forgets every registered function (tests). No expression that calls one
 * may exist any more.
 */
void weir_udf_clear(void);

#endif
