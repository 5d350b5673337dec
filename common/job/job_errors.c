/* Error lists of the job compiler. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/err.h"
#include "common/job/job_int.h"

void
weir_job_errors_init(weir_job_errors *errs)
{
    memset(errs, 0, sizeof(*errs));
}

void
weir_job_errors_fini(weir_job_errors *errs)
{
    if (errs == NULL) {
        return;
    }
    for (size_t i = 0; i < errs->count; i++) {
        free(errs->items[i].msg);
    }
    free(errs->items);
    free(errs->path);
    memset(errs, 0, sizeof(*errs));
}

void
weir_job_errors_print(const weir_job_errors *errs, FILE *fp)
{
    const char *path = errs->path != NULL ? errs->path : "<job>";
    for (size_t i = 0; i < errs->count; i++) {
        const weir_job_error *e = &errs->items[i];
        if (e->line == 0) {
            fprintf(fp, "%s: error: %s\n", path, e->msg);
        } else {
            fprintf(
                fp, "%s:%u:%u: error: %s\n", path, e->line, e->column, e->msg);
        }
    }
}

int
weir__job_error(
    weir_job_errors *errs, unsigned line, unsigned column, const char *fmt, ...)
{
    if (weir_array_reserve(&errs->items, &errs->cap, errs->count + 1,
            sizeof(*errs->items)) != WEIR_OK) {
        errs->lost = true;
        return WEIR_ENOMEM;
    }
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0) {
        errs->lost = true;
        return WEIR_ENOMEM;
    }
    weir_job_error *e = &errs->items[errs->count++];
    e->line = line;
    e->column = column;
    e->msg = msg;
    return WEIR_OK;
}

static bool
before(const weir_job_error *x, const weir_job_error *y)
{
    return x->line < y->line || (x->line == y->line && x->column < y->column);
}

void
weir__job_errors_sort(weir_job_errors *errs)
{
    /* Insertion sort: stable, and error lists are short. */
    for (size_t i = 1; i < errs->count; i++) {
        weir_job_error e = errs->items[i];
        size_t j = i;
        while (j > 0 && before(&e, &errs->items[j - 1])) {
            errs->items[j] = errs->items[j - 1];
            j--;
        }
        errs->items[j] = e;
    }
}
