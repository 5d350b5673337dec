#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "log.h"

static char **
str_field(void *conf, const weir_conf_entry *e)
{
    return (char **)((char *)conf + e->offset);
}

static int
parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return WEIR_OK;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return WEIR_OK;
        }
    }
    return WEIR_EINVAL;
}

static int
set_value(const weir_conf_spec *spec, void *conf, const weir_conf_entry *e,
    const char *text, const char *from)
{
    switch (e->type) {
    case WEIR_CONF_STRING: {
        char **p = str_field(conf, e);
        char *copy = text ? strdup(text) : NULL;
        if (text && !copy)
            return WEIR_ENOMEM;
        free(*p);
        *p = copy;
        return WEIR_OK;
    }
    case WEIR_CONF_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(text ? text : "0", &end, 0);
        if (errno != 0 || end == text || *end != '\0' ||
            (e->min != e->max && (v < e->min || v > e->max))) {
            if (e->min != e->max)
                fprintf(stderr,
                    "%s: %s: --%s expects an integer in [%lld, %lld], got "
                    "'%s'\n",
                    spec->prog, from, e->name, (long long)e->min,
                    (long long)e->max, text);
            else
                fprintf(stderr, "%s: %s: --%s expects an integer, got '%s'\n",
                    spec->prog, from, e->name, text);
            return WEIR_EINVAL;
        }
        *(int64_t *)((char *)conf + e->offset) = v;
        return WEIR_OK;
    }
    case WEIR_CONF_BOOL: {
        bool b = false;
        if (text && parse_bool(text, &b) != WEIR_OK) {
            fprintf(stderr, "%s: %s: --%s expects true or false, got '%s'\n",
                spec->prog, from, e->name, text);
            return WEIR_EINVAL;
        }
        *(bool *)((char *)conf + e->offset) = b;
        return WEIR_OK;
    }
    }
    return WEIR_EINVAL;
}

static void
env_name(const char *name, char *out, size_t size)
{
    size_t n = (size_t)snprintf(out, size, "WEIR_");
    for (const char *p = name; *p != '\0' && n + 1 < size; p++)
        out[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[n] = '\0';
}

static const weir_conf_entry *
find_entry(const weir_conf_spec *spec, const char *name, size_t len)
{
    for (size_t i = 0; i < spec->n_entries; i++) {
        const weir_conf_entry *e = &spec->entries[i];
        if (strlen(e->name) == len && strncmp(e->name, name, len) == 0)
            return e;
    }
    return NULL;
}

static int
apply_log(const weir_conf_spec *spec, const char *level, const char *debug)
{
    if (level) {
        weir_log_level lvl;
        if (weir_log_level_parse(level, &lvl) != WEIR_OK) {
            fprintf(stderr,
                "%s: --log-level expects error, warn, info or debug, got "
                "'%s'\n",
                spec->prog, level);
            return WEIR_EINVAL;
        }
        weir_log_set_level(lvl);
    }
    if (debug) {
        weir_log_set_debug(debug);
    }
    return WEIR_OK;
}

int
weir_conf_load(const weir_conf_spec *spec, void *conf, int argc, char **argv,
    int *nargs, char ***args)
{
    int rv;
    char envbuf[128];
    const char *log_level = getenv("WEIR_LOG_LEVEL");
    const char *debug = getenv("WEIR_DEBUG");
    char **pos = calloc((size_t)argc + 1, sizeof(*pos));
    int npos = 0;
    if (!pos)
        return WEIR_ENOMEM;

    for (size_t i = 0; i < spec->n_entries; i++) {
        const weir_conf_entry *e = &spec->entries[i];
        if ((rv = set_value(spec, conf, e, e->def, "default")) != WEIR_OK)
            goto fail;
        env_name(e->name, envbuf, sizeof(envbuf));
        const char *v = getenv(envbuf);
        if (v && (rv = set_value(spec, conf, e, v, envbuf)) != WEIR_OK)
            goto fail;
    }

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                pos[npos++] = argv[i];
            break;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            pos[npos++] = argv[i];
            continue;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const char *value = eq ? eq + 1 : NULL;

        if (len == 4 && strncmp(name, "help", 4) == 0) {
            weir_conf_print_help(spec, stdout);
            rv = WEIR_ESTOPPED;
            goto fail;
        }
        if (len == 13 && strncmp(name, "help-markdown", 13) == 0) {
            weir_conf_print_markdown(spec, stdout);
            rv = WEIR_ESTOPPED;
            goto fail;
        }
        bool is_log = len == 9 && strncmp(name, "log-level", 9) == 0;
        bool is_debug = len == 5 && strncmp(name, "debug", 5) == 0;
        const weir_conf_entry *e = NULL;
        if (!is_log && !is_debug && !(e = find_entry(spec, name, len))) {
            fprintf(stderr, "%s: unknown option '--%.*s' (see --help)\n",
                spec->prog, (int)len, name);
            rv = WEIR_EINVAL;
            goto fail;
        }
        if (!value && e && e->type == WEIR_CONF_BOOL) {
            bool b;
            if (i + 1 < argc && parse_bool(argv[i + 1], &b) == WEIR_OK)
                value = argv[++i];
            else
                value = "true";
        } else if (!value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: option '--%.*s' needs a value\n",
                    spec->prog, (int)len, name);
                rv = WEIR_EINVAL;
                goto fail;
            }
            value = argv[++i];
        }
        if (is_log)
            log_level = value;
        else if (is_debug)
            debug = value;
        else if ((rv = set_value(spec, conf, e, value, "command line")) !=
                 WEIR_OK)
            goto fail;
    }
    if ((rv = apply_log(spec, log_level, debug)) != WEIR_OK)
        goto fail;
    if (nargs)
        *nargs = npos;
    if (args)
        *args = pos;
    else
        free(pos);
    return WEIR_OK;
fail:
    free(pos);
    return rv;
}

void
weir_conf_free(const weir_conf_spec *spec, void *conf, char **args)
{
    free(args);
    if (!conf)
        return;
    for (size_t i = 0; i < spec->n_entries; i++) {
        const weir_conf_entry *e = &spec->entries[i];
        if (e->type == WEIR_CONF_STRING) {
            char **p = str_field(conf, e);
            free(*p);
            *p = NULL;
        }
    }
}

static const char *
type_hint(weir_conf_type type)
{
    switch (type) {
    case WEIR_CONF_STRING:
        return "STR";
    case WEIR_CONF_INT:
        return "N";
    case WEIR_CONF_BOOL:
        return "BOOL";
    }
    return "";
}

void
weir_conf_print_help(const weir_conf_spec *spec, FILE *out)
{
    char envbuf[128];
    fprintf(out, "usage: %s %s\n\n%s\n\noptions:\n", spec->prog, spec->usage,
        spec->summary);
    for (size_t i = 0; i < spec->n_entries; i++) {
        const weir_conf_entry *e = &spec->entries[i];
        if (e->hidden)
            continue;
        env_name(e->name, envbuf, sizeof(envbuf));
        fprintf(
            out, "  --%s %s\n      %s", e->name, type_hint(e->type), e->doc);
        if (e->def)
            fprintf(out, " (default: %s)", e->def);
        if (e->type == WEIR_CONF_INT && e->min != e->max)
            fprintf(out, " [%lld..%lld]", (long long)e->min, (long long)e->max);
        fprintf(out, " [env %s]\n", envbuf);
    }
    fprintf(out,
        "  --log-level LEVEL\n      error, warn, info or debug (default: "
        "info) [env WEIR_LOG_LEVEL]\n"
        "  --debug COMPONENTS\n      comma-separated components to log at "
        "debug level, or all [env WEIR_DEBUG]\n"
        "  --help\n      print this help and exit\n");
}

void
weir_conf_print_markdown(const weir_conf_spec *spec, FILE *out)
{
    char envbuf[128];
    fprintf(out,
        "### %s\n\n%s\n\n| flag | env | type | default | doc |\n"
        "|---|---|---|---|---|\n",
        spec->prog, spec->summary);
    for (size_t i = 0; i < spec->n_entries; i++) {
        const weir_conf_entry *e = &spec->entries[i];
        if (e->hidden)
            continue;
        env_name(e->name, envbuf, sizeof(envbuf));
        fprintf(out, "| `--%s` | `%s` | %s | %s | %s |\n", e->name, envbuf,
            type_hint(e->type), e->def ? e->def : "", e->doc);
    }
    fprintf(out, "| `--log-level` | `WEIR_LOG_LEVEL` | STR | info | error, "
                 "warn, info or debug |\n\n");
}

int
weir_conf_hostport(const char *flag, const char *value, char *host,
    size_t hostlen, int *port, char *err, size_t errlen)
{
    const char *colon = value ? strrchr(value, ':') : NULL;
    if (colon == NULL || colon == value) {
        snprintf(err, errlen, "--%s wants HOST:PORT, got '%s'", flag,
            value ? value : "");
        return WEIR_EINVAL;
    }
    const char *p = colon + 1;
    long n = 0;
    bool digits = *p != '\0';
    for (; *p && digits; p++) {
        digits = *p >= '0' && *p <= '9';
        n = n * 10 + (*p - '0');
        if (n > 65535)
            break;
    }
    if (!digits || n > 65535 || *p != '\0') {
        snprintf(err, errlen,
            "--%s %s: the port must be a number from 0 to 65535", flag, value);
        return WEIR_EINVAL;
    }
    size_t hl = (size_t)(colon - value);
    if (host != NULL) {
        if (hl >= hostlen) {
            snprintf(err, errlen, "--%s %s: host name too long", flag, value);
            return WEIR_EINVAL;
        }
        memcpy(host, value, hl);
        host[hl] = '\0';
    }
    if (port != NULL)
        *port = (int)n;
    return WEIR_OK;
}
