/* User-defined functions: the registry, their check and eval, and the
 * plugin loader. */
#include "common/expr/udf.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/expr/expr_int.h"

typedef struct udf_entry udf_entry;
struct udf_entry {
    weir__func f; /* first: a call node's fn points here */
    weir_udf udf; /* name owned */
    udf_entry *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static udf_entry *entries;

static bool
valid_name(const char *s)
{
    if (s == NULL || !((*s >= 'a' && *s <= 'z') || *s == '_')) {
        return false;
    }
    for (size_t n = 0; *s; s++, n++) {
        if (n > 64 || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
                          *s == '_')) {
            return false;
        }
    }
    return true;
}

static bool
valid_type(weir_type t)
{
    return t >= WEIR_TYPE_ANY && t <= WEIR_TYPE_TIME;
}

static int
check_udf(weir__node *n, weir_expr_error *err)
{
    const udf_entry *e = (const udf_entry *)n->fn;
    for (size_t i = 0; i < n->nargs; i++) {
        int rv = weir__arg_is(n, i, e->udf.args[i], err);
        if (rv != WEIR_OK) {
            return rv;
        }
    }
    n->t = weir__st(e->udf.result);
    return WEIR_OK;
}

static int
eval_udf(const weir__node *n, const weir_value *args, const weir_expr_ctx *ctx,
    weir_value *out, weir_expr_error *err)
{
    const udf_entry *e = (const udf_entry *)n->fn;
    char msg[200] = "";
    weir_udf_ctx uctx = {.alloc = weir_arena_alloc,
        .arena = ctx->arena,
        .opaque = e->udf.opaque,
        .err = msg,
        .errlen = sizeof(msg)};
    *out = weir_value_null();
    if (e->udf.fn(&uctx, args, n->nargs, out) != 0) {
        msg[sizeof(msg) - 1] = '\0';
        return weir__expr_fail(err, n->column, WEIR_EINVAL, "%s: %s",
            e->udf.name, msg[0] ? msg : "failed");
    }
    weir_type want = e->udf.result;
    bool ok = out->type == want || out->type == WEIR_TYPE_NULL ||
              weir__type_dynamic(want) ||
              (want == WEIR_TYPE_FLOAT && out->type == WEIR_TYPE_INT);
    if (!ok || !valid_type(out->type) || out->type == WEIR_TYPE_ANY) {
        return weir__expr_fail(err, n->column, WEIR_EINVAL,
            "%s: returned a %s, declared %s", e->udf.name,
            weir_type_name(out->type), weir_type_name(want));
    }
    if (want == WEIR_TYPE_FLOAT && out->type == WEIR_TYPE_INT) {
        *out = weir_value_float((double)out->u.i);
    }
    return WEIR_OK;
}

const weir__func *
weir__udf_lookup(const char *name, size_t len)
{
    pthread_mutex_lock(&lock);
    const udf_entry *e = entries;
    while (e != NULL && !(strlen(e->udf.name) == len &&
                            memcmp(e->udf.name, name, len) == 0)) {
        e = e->next;
    }
    pthread_mutex_unlock(&lock);
    return e != NULL ? &e->f : NULL;
}

int
weir_udf_register(const weir_udf *udf)
{
    if (udf == NULL || !valid_name(udf->name) || udf->fn == NULL ||
        udf->max_args > WEIR_UDF_MAX_ARGS || udf->min_args > udf->max_args ||
        !valid_type(udf->result)) {
        return WEIR_EINVAL;
    }
    for (size_t i = 0; i < udf->max_args; i++) {
        if (!valid_type(udf->args[i])) {
            return WEIR_EINVAL;
        }
    }
    size_t len = strlen(udf->name);
    if (weir__builtin_lookup(udf->name, len) != NULL ||
        weir__udf_lookup(udf->name, len) != NULL) {
        return WEIR_EEXIST;
    }
    udf_entry *e = calloc(1, sizeof(*e));
    char *name = strdup(udf->name);
    if (e == NULL || name == NULL) {
        free(e);
        free(name);
        return WEIR_ENOMEM;
    }
    e->udf = *udf;
    e->udf.name = name;
    e->f.name = name;
    e->f.min_args = udf->min_args;
    e->f.max_args = udf->max_args;
    e->f.lazy = false;
    e->f.check = check_udf;
    e->f.eval = eval_udf;
    pthread_mutex_lock(&lock);
    e->next = entries;
    entries = e;
    pthread_mutex_unlock(&lock);
    return WEIR_OK;
}

void
weir_udf_clear(void)
{
    pthread_mutex_lock(&lock);
    udf_entry *e = entries;
    entries = NULL;
    pthread_mutex_unlock(&lock);
    while (e != NULL) {
        udf_entry *next = e->next;
        free((char *)e->udf.name);
        free(e);
        e = next;
    }
}

/* The plugin's registrations, so that one bad function fails the load. */
static int load_status;

static int
register_from_plugin(const weir_udf *udf)
{
    int rv = weir_udf_register(udf);
    if (rv != WEIR_OK && load_status == WEIR_OK) {
        load_status = rv;
    }
    return rv;
}

int
weir_udf_load(const char *path, char *err, size_t errlen)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        const char *why = dlerror();
        snprintf(err, errlen, "plugin %s: %s", path, why ? why : "cannot open");
        return WEIR_ENOTFOUND;
    }
    int (*init)(int, int (*)(const weir_udf *));
    *(void **)&init = dlsym(h, "weir_plugin_init");
    if (init == NULL) {
        snprintf(err, errlen, "plugin %s: no weir_plugin_init", path);
        dlclose(h);
        return WEIR_ENOTFOUND;
    }
    /* Plugins load one at a time: load_status is only used in here. */
    static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&load_lock);
    load_status = WEIR_OK;
    int rc = init(WEIR_UDF_API_VERSION, register_from_plugin);
    int status = load_status;
    pthread_mutex_unlock(&load_lock);
    if (rc != 0) {
        snprintf(
            err, errlen, "plugin %s: weir_plugin_init refused (%d)", path, rc);
        return WEIR_EINVAL;
    }
    if (status != WEIR_OK) {
        snprintf(err, errlen,
            "plugin %s: a function could not be registered: %s", path,
            weir_strerror(status));
        return WEIR_EINVAL;
    }
    return WEIR_OK; /* never dlclose: parsed expressions point into it */
}

int
weir_udf_load_list(const char *paths, char *err, size_t errlen)
{
    for (const char *p = paths; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char path[4096];
        if (len >= sizeof(path)) {
            snprintf(err, errlen, "plugin path too long: %.64s...", p);
            return WEIR_EINVAL;
        }
        memcpy(path, p, len);
        path[len] = '\0';
        if (len > 0) {
            int rv = weir_udf_load(path, err, errlen);
            if (rv != WEIR_OK)
                return rv;
        }
        p = comma ? comma + 1 : p + len;
    }
    return WEIR_OK;
}
