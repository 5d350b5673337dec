/*
 * Declarative configuration: each process describes its settings in one
 * table (name, type, default, range, doc). Values come from defaults, then
 * the environment (WEIR_<NAME>, dashes as underscores, upper case), then
 * command-line flags (--name VALUE or --name=VALUE), later ones winning.
 * --help, --log-level and --debug exist for every process.
 *
 * Field types in the process's config struct: WEIR_CONF_STRING -> char *
 * (owned, freed by weir_conf_free), WEIR_CONF_INT -> int64_t,
 * WEIR_CONF_BOOL -> bool.
 */
#ifndef WEIR_CONF_H
#define WEIR_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum weir_conf_type {
    WEIR_CONF_STRING,
    WEIR_CONF_INT,
    WEIR_CONF_BOOL,
} weir_conf_type;

typedef struct weir_conf_entry {
    const char *name; /* "listen": --listen, WEIR_LISTEN */
    weir_conf_type type;
    const char *def;  /* default as text; NULL: string is NULL, int 0 */
    int64_t min, max; /* ints only; min == max means unbounded */
    size_t offset;    /* of the field in the config struct */
    const char *doc;
    bool hidden; /* test-only knob: accepted, not listed by --help */
} weir_conf_entry;

#define WEIR_CONF_STR(T, name, field, def, doc)                                \
    {                                                                          \
        name, WEIR_CONF_STRING, def, 0, 0, offsetof(T, field), doc, false      \
    }
#define WEIR_CONF_INT(T, name, field, def, min, max, doc)                      \
    {                                                                          \
        name, WEIR_CONF_INT, def, min, max, offsetof(T, field), doc, false     \
    }
#define WEIR_CONF_BOOL(T, name, field, def, doc)                               \
    {                                                                          \
        name, WEIR_CONF_BOOL, def, 0, 0, offsetof(T, field), doc, false        \
    }
#define WEIR_CONF_HIDDEN_STR(T, name, field, def, doc)                         \
    {                                                                          \
        name, WEIR_CONF_STRING, def, 0, 0, offsetof(T, field), doc, true       \
    }
#define WEIR_CONF_HIDDEN_INT(T, name, field, def, min, max, doc)               \
    {                                                                          \
        name, WEIR_CONF_INT, def, min, max, offsetof(T, field), doc, true      \
    }

typedef struct weir_conf_spec {
    const char *prog;    /* "weir-broker" */
    const char *summary; /* one line: what the program does */
    const char *usage;   /* after the program name: "[OPTIONS] JOB.yaml" */
    const weir_conf_entry *entries;
    size_t n_entries;
} weir_conf_spec;

/*
 * Fills conf from defaults, environment and argv. Positional arguments are
 * returned in *args (pointers into argv, array owned by conf: freed by
 * weir_conf_free through the spec) and their count in *nargs; either may be
 * NULL when the program takes none.
 * Returns WEIR_OK; WEIR_ESTOPPED after printing --help (exit 0);
 * WEIR_EINVAL after printing one error line to stderr (exit 2).
 * Also applies --log-level and --debug to the log module.
 */
int weir_conf_load(const weir_conf_spec *spec, void *conf, int argc,
    char **argv, int *nargs, char ***args);

/* Frees the strings conf owns and the positional array. NULL-safe. */
void weir_conf_free(const weir_conf_spec *spec, void *conf, char **args);

/*
 * Splits a HOST:PORT setting (HOST not empty, "[v6]" allowed; PORT decimal
 * 0..65535, 0 meaning any free port). WEIR_EINVAL with err naming flag and
 * what is wrong. host may be NULL when only checking.
 */
int weir_conf_hostport(const char *flag, const char *value, char *host,
    size_t hostlen, int *port, char *err, size_t errlen);

void weir_conf_print_help(const weir_conf_spec *spec, FILE *out);
/* A markdown table of every visible setting, for docs/configuration.md. */
void weir_conf_print_markdown(const weir_conf_spec *spec, FILE *out);

#endif
