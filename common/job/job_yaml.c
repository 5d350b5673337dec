/*
 * The job compiler's YAML accessors: errors at a node's line and column,
 * mapping lookups, scalars, key checks and integers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/job/job_int.h"

void
weir__jc_error(weir__jc *jc, const yaml_node_t *at, const char *fmt, ...)
{
    va_list ap;
    char msg[512];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    unsigned line = 0, column = 0;
    if (at != NULL) {
        line = (unsigned)at->start_mark.line + 1;
        column = (unsigned)at->start_mark.column + 1;
    }
    if (weir__job_error(jc->errs, line, column, "%s", msg) != WEIR_OK) {
        jc->oom = true;
    }
}

yaml_node_t *
weir__jc_node(weir__jc *jc, int index)
{
    return yaml_document_get_node(&jc->doc, index);
}

yaml_node_t *
weir__jc_get(weir__jc *jc, const yaml_node_t *map, const char *key)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE) {
        return NULL;
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = weir__jc_node(jc, p->key);
        if (k != NULL && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0) {
            return weir__jc_node(jc, p->value);
        }
    }
    return NULL;
}

bool
weir__jc_is_null(const yaml_node_t *n)
{
    if (n == NULL) {
        return true;
    }
    if (n->type != YAML_SCALAR_NODE ||
        n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    const char *s = (const char *)n->data.scalar.value;
    return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0;
}

const char *
weir__jc_node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

const char *
weir__jc_scalar(weir__jc *jc, const yaml_node_t *n, const char *what)
{
    if (n == NULL) {
        return NULL;
    }
    if (n->type != YAML_SCALAR_NODE) {
        weir__jc_error(jc, n, "%s: expected a scalar, found %s", what,
            weir__jc_node_kind(n));
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

static void
join_names(char *buf, size_t len, const char *const *names)
{
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; names[i] != NULL && k < len; i++) {
        int n = snprintf(buf + k, len - k, "%s%s", i ? ", " : "", names[i]);
        if (n < 0) {
            break;
        }
        k += (size_t)n;
    }
}

bool
weir__jc_keys(weir__jc *jc, const yaml_node_t *n, const char *what,
    const char *const *allowed)
{
    if (n == NULL || n->type != YAML_MAPPING_NODE) {
        if (n != NULL) {
            weir__jc_error(jc, n, "%s: expected a mapping, found %s", what,
                weir__jc_node_kind(n));
        }
        return false;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = weir__jc_node(jc, p->key);
        const char *name = weir__jc_scalar(jc, k, what);
        if (name == NULL) {
            continue;
        }
        bool known = false;
        for (size_t i = 0; allowed[i] != NULL && !known; i++) {
            known = strcmp(allowed[i], name) == 0;
        }
        if (!known) {
            char list[400];
            join_names(list, sizeof(list), allowed);
            weir__jc_error(jc, k, "%s: unknown key '%s' (expected one of: %s)",
                what, name, list);
            continue;
        }
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = weir__jc_node(jc, q->key);
            if (k2 != NULL && k2->type == YAML_SCALAR_NODE &&
                strcmp((const char *)k2->data.scalar.value, name) == 0) {
                weir__jc_error(
                    jc, k, "%s: key '%s' given more than once", what, name);
                break;
            }
        }
    }
    return true;
}

bool
weir__jc_bool(weir__jc *jc, const yaml_node_t *n, const char *what, bool *out)
{
    const char *s = weir__jc_scalar(jc, n, what);
    if (s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
        *out = s[0] == 't';
        return true;
    }
    if (s != NULL) {
        weir__jc_error(
            jc, n, "%s: expected true or false, found '%s'", what, s);
    }
    return false;
}

bool
weir__jc_uint(weir__jc *jc, const yaml_node_t *n, const char *what,
    unsigned long min, unsigned long max, unsigned long *out)
{
    const char *s = weir__jc_scalar(jc, n, what);
    if (s == NULL) {
        return false;
    }
    unsigned long v = 0;
    bool ok = *s != '\0' && strlen(s) <= 12;
    for (const char *p = s; ok && *p; p++) {
        ok = *p >= '0' && *p <= '9';
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (!ok || v < min || v > max) {
        weir__jc_error(jc, n,
            "%s: expected an integer from %lu to %lu, found '%s'", what, min,
            max, s);
        return false;
    }
    *out = v;
    return true;
}
