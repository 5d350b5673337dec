/*
 * weirctl sql: SQL statements typed in (libedit's line editing), given
 * with --execute/-e or read from --file. Stream and table declarations are
 * kept for the session; each CREATE ... AS SELECT is submitted as a job
 * named after what it creates, with the declarations and the fused
 * streams it reads (a CREATE STREAM ... AS without KAFKA_TOPIC waits for
 * the query that reads it); SELECT ... FROM table WHERE key = 'x' is a
 * pull query of that table's store, refused when the WHERE names another
 * column than the key of a table declared or created in the session.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <editline/readline.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/file.h"
#include "common/job/job.h"
#include "weirctl.h"

#define MAX_RELATIONS 256

typedef struct session {
    const weirctl_sql_io *io;
    weir_buf decls; /* the declarations, as typed */
    weir_buf chain; /* fused streams waiting for their reader */
    char chain_names[MAX_RELATIONS][256];
    size_t n_chain;
    /* relation -> the job that made it (its store is the name) */
    char rel[MAX_RELATIONS][256], job[MAX_RELATIONS][256];
    size_t n_rel;
    /* table -> its key column, for the tables declared or created in
     * this session whose key column the statement names */
    char keyed[MAX_RELATIONS][256], key_column[MAX_RELATIONS][256];
    size_t n_keyed;
} session;

static void
lower(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < size; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

static void
remember(session *s, const char *rel, const char *job)
{
    if (s->n_rel == MAX_RELATIONS)
        return;
    lower(s->rel[s->n_rel], sizeof(s->rel[0]), rel);
    snprintf(s->job[s->n_rel++], sizeof(s->job[0]), "%s", job);
}

static const char *
job_of(const session *s, const char *rel)
{
    char l[256];
    lower(l, sizeof(l), rel);
    for (size_t i = s->n_rel; i-- > 0;)
        if (strcmp(s->rel[i], l) == 0)
            return s->job[i];
    return NULL;
}

static void
remember_key(session *s, const weir_sql_statement *st)
{
    if (!st->key_column[0] || s->n_keyed == MAX_RELATIONS)
        return;
    lower(s->keyed[s->n_keyed], sizeof(s->keyed[0]), st->name);
    snprintf(s->key_column[s->n_keyed++], sizeof(s->key_column[0]), "%s",
        st->key_column);
}

/* A pull query looks up one key: its WHERE must name the table's key
 * column when the session knows it (else the worker looks the value up
 * as a key). 0, or 1 with the error printed at the column. */
static int
check_key_column(const session *s, const weir_sql_statement *st)
{
    char l[256];
    lower(l, sizeof(l), st->name);
    for (size_t i = s->n_keyed; i-- > 0;) {
        if (strcmp(s->keyed[i], l) != 0)
            continue;
        const char *col = strrchr(st->key_column, '.'); /* t.col */
        col = col ? col + 1 : st->key_column;
        if (strcasecmp(col, s->key_column[i]) == 0)
            return 0;
        fprintf(stderr,
            "sql:%u:%u: error: in SELECT ... FROM %s: %s is not the key "
            "column of %s; a pull query looks up the key: WHERE %s = "
            "'value'\n",
            st->line, st->column, st->name, st->key_column, st->name,
            s->key_column[i]);
        return 1;
    }
    return 0;
}

/* Runs the statements of text; non-zero when one failed. */
static int
run_text(session *s, const char *text, size_t len)
{
    weir_sql_statement *st = NULL;
    size_t n = 0;
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    int rv = weir_sql_statements(text, len, "sql", &st, &n, &errs);
    if (rv != WEIR_OK) {
        weir_job_errors_print(&errs, stderr);
        weir_job_errors_fini(&errs);
        return 1;
    }
    weir_job_errors_fini(&errs);
    int failed = 0;
    for (size_t i = 0; i < n && !failed; i++) {
        const char *t = text + st[i].start;
        size_t tl = st[i].end - st[i].start;
        char name[256];
        lower(name, sizeof(name), st[i].name);
        switch (st[i].kind) {
        case WEIR_SQL_SOURCE:
            if (weir_buf_append(&s->decls, t, tl) != WEIR_OK ||
                weir_buf_append(&s->decls, "\n", 1) != WEIR_OK)
                return 1;
            remember_key(s, &st[i]);
            printf("declared %s\n", st[i].name);
            break;
        case WEIR_SQL_CREATE_AS:
            if (st[i].fused) {
                if (weir_buf_append(&s->chain, t, tl) != WEIR_OK ||
                    weir_buf_append(&s->chain, "\n", 1) != WEIR_OK)
                    return 1;
                if (s->n_chain < MAX_RELATIONS)
                    snprintf(s->chain_names[s->n_chain++],
                        sizeof(s->chain_names[0]), "%s", st[i].name);
                printf("%s: fused into the query that reads it\n", st[i].name);
                break;
            }
            weir_buf job;
            weir_buf_init(&job);
            if (weir_buf_append(&job, s->decls.data, s->decls.len) ||
                weir_buf_append(&job, s->chain.data, s->chain.len) ||
                weir_buf_append(&job, t, tl) || weir_buf_append(&job, "", 1)) {
                weir_buf_fini(&job);
                return 1;
            }
            failed = s->io->submit(s->io->ctx, job.data, name);
            weir_buf_fini(&job);
            if (!failed) {
                for (size_t k = 0; k < s->n_chain; k++)
                    remember(s, s->chain_names[k], name);
                remember(s, st[i].name, name);
                remember_key(s, &st[i]);
                weir_buf_clear(&s->chain);
                s->n_chain = 0;
            }
            break;
        case WEIR_SQL_PULL: {
            const char *job = job_of(s, st[i].name);
            failed = check_key_column(s, &st[i]);
            if (!failed)
                failed =
                    s->io->pull(s->io->ctx, job ? job : name, name, st[i].key);
            break;
        }
        }
    }
    free(st);
    return failed;
}

/* Whether text ends a statement: a ';' outside quotes and comments is its
 * last non-blank character. */
static bool
complete(const char *text)
{
    char q = 0, last = 0;
    for (const char *p = text; *p; p++) {
        if (q) {
            q = *p == q ? 0 : q;
            continue;
        }
        if (*p == '-' && p[1] == '-') {
            p += strcspn(p, "\n");
            if (!*p)
                break;
            continue;
        }
        if (*p == '\'' || *p == '"' || *p == '`')
            q = *p;
        if (!isspace((unsigned char)*p))
            last = *p;
    }
    return !q && last == ';';
}

static int
interactive(session *s)
{
    weir_buf buf;
    weir_buf_init(&buf);
    bool tty = isatty(0);
    for (;;) {
        char *line = tty ? readline(buf.len ? "   ...> " : "weir> ") : NULL;
        if (!tty) { /* piped: plain lines */
            static char l[65536];
            line = fgets(l, sizeof(l), stdin) ? strdup(l) : NULL;
            if (line)
                line[strcspn(line, "\n")] = '\0';
        }
        if (!line)
            break;
        if (tty && *line)
            add_history(line);
        if (weir_buf_append(&buf, line, strlen(line)) ||
            weir_buf_append(&buf, "\n", 1) || weir_buf_append(&buf, "", 1)) {
            free(line);
            break;
        }
        buf.len--; /* keep it a string */
        free(line);
        if (complete(buf.data)) {
            (void)run_text(s, buf.data, buf.len);
            weir_buf_clear(&buf);
        }
    }
    weir_buf_fini(&buf);
    return 0;
}

int
weirctl_sql(const weirctl_sql_io *io, const char *file, const char *execute)
{
    session *s = calloc(1, sizeof(*s));
    if (!s)
        return 1;
    s->io = io;
    weir_buf_init(&s->decls);
    weir_buf_init(&s->chain);
    int rv = 0;
    if (file) {
        char *text;
        size_t len;
        if (weir_file_read(file, (size_t)16 << 20, &text, &len) != WEIR_OK) {
            fprintf(stderr, "weirctl: cannot read %s\n", file);
            rv = 1;
        } else {
            rv = run_text(s, text, len);
            free(text);
        }
    }
    if (rv == 0 && execute)
        rv = run_text(s, execute, strlen(execute));
    if (rv == 0 && !file && !execute)
        rv = interactive(s);
    weir_buf_fini(&s->decls);
    weir_buf_fini(&s->chain);
    free(s);
    return rv;
}
