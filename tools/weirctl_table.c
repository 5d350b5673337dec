/* Aligned text tables for weirctl's human output. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/err.h"
#include "weirctl.h"

struct weirctl_table {
    int ncols;
    char **cells; /* rows * ncols, row 0 is the header */
    size_t rows, cap;
};

weirctl_table *
weirctl_table_new(int ncols, const char *const *header)
{
    weirctl_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->ncols = ncols;
    char line[1024] = "";
    for (int i = 0; i < ncols; i++) {
        strncat(line, header[i], sizeof(line) - strlen(line) - 2);
        if (i + 1 < ncols)
            strcat(line, "\t");
    }
    weirctl_table_row(t, "%s", line);
    return t;
}

void
weirctl_table_row(weirctl_table *t, const char *fmt, ...)
{
    if (!t)
        return;
    if (weir_array_reserve(&t->cells, &t->cap, t->rows + 1,
            (size_t)t->ncols * sizeof(*t->cells)) != WEIR_OK)
        return;
    char *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    char *p = line;
    for (int i = 0; i < t->ncols; i++) {
        size_t len = strcspn(p, "\t");
        t->cells[t->rows * (size_t)t->ncols + (size_t)i] = strndup(p, len);
        p += len;
        if (*p == '\t')
            p++;
    }
    free(line);
    t->rows++;
}

void
weirctl_table_print(const weirctl_table *t, FILE *out)
{
    if (!t)
        return;
    size_t *w = calloc((size_t)t->ncols, sizeof(*w));
    if (!w)
        return;
    for (size_t r = 0; r < t->rows; r++)
        for (int i = 0; i < t->ncols; i++) {
            const char *c = t->cells[r * (size_t)t->ncols + (size_t)i];
            size_t n = c ? strlen(c) : 0;
            if (n > w[i])
                w[i] = n;
        }
    for (size_t r = 0; r < t->rows; r++) {
        for (int i = 0; i < t->ncols; i++) {
            const char *c = t->cells[r * (size_t)t->ncols + (size_t)i];
            if (i + 1 < t->ncols)
                fprintf(out, "%-*s  ", (int)w[i], c ? c : "");
            else
                fprintf(out, "%s\n", c ? c : "");
        }
    }
    free(w);
}

void
weirctl_table_free(weirctl_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->rows * (size_t)t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}
