/* weirctl internals: output helpers shared by the command files. */
#ifndef WEIR_TOOLS_WEIRCTL_H
#define WEIR_TOOLS_WEIRCTL_H

#include <stdbool.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

/* Any protobuf message as JSON (field names as in the .proto, enums by
 * name, 64-bit integers as numbers), followed by a newline. */
void weirctl_json_print(const ProtobufCMessage *msg, FILE *out);

/* A text table: set the header, add rows, print with aligned columns. */
typedef struct weirctl_table weirctl_table;
weirctl_table *weirctl_table_new(int ncols, const char *const *header);
/* Adds a row of ncols printf-formatted cells separated by '\t' in fmt. */
void weirctl_table_row(weirctl_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void weirctl_table_print(const weirctl_table *t, FILE *out);
void weirctl_table_free(weirctl_table *t);

/* GET url (http://...): *status and the body (malloc'd, NUL-terminated).
 * Non-zero (an NNG error, printed) when no answer came. */
int weirctl_http_get(const char *url, const char *token, int timeout_ms,
    int *status, char **body, size_t *len);

/* weirctl sql (weirctl_sql.c): what it does with statements. */
typedef struct weirctl_sql_io {
    void *ctx;
    /* Submits SQL text as job name; non-zero on failure (printed). */
    int (*submit)(void *ctx, const char *sql, const char *name);
    /* Prints a pull query's answer; non-zero on failure (printed). */
    int (*pull)(void *ctx, const char *job, const char *store, const char *key);
} weirctl_sql_io;
/* Runs --file, then --execute, or else reads statements from the
 * terminal; non-zero when a statement failed. */
int weirctl_sql(
    const weirctl_sql_io *io, const char *file, const char *execute);

#endif
