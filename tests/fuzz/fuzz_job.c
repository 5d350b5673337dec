/*
 * libFuzzer target: the job compiler must report errors for any input,
 * never crash or leak; what it accepts must print, pack, unpack and have
 * every expression parse again in its operator's environment.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/expr/expr.h"
#include "common/job/job.h"

/* fuzz_sql.c compiles this file for .sql jobs. */
#ifndef FUZZ_JOB_PATH
#define FUZZ_JOB_PATH "fuzz.yaml"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
reparse(const Weir__Topology__Topology *t)
{
    for (size_t s = 0; s < t->n_subtopologies; s++) {
        const Weir__Topology__Subtopology *sub = t->subtopologies[s];
        for (size_t k = 0; k < sub->n_operators; k++) {
            const Weir__Topology__Operator *op = sub->operators[k];
            const Weir__Topology__Expr *es[] = {op->predicate, op->key,
                op->value, op->window ? op->window->time : NULL};
            for (size_t i = 0; i < 4; i++) {
                weir_expr *e = NULL;
                weir_expr_error err;
                if (es[i] == NULL) {
                    continue;
                }
                if (weir_expr_parse_op(op, es[i], &e, &err) != 0) {
                    abort(); /* the compiler accepted what a worker rejects */
                }
                weir_expr_free(e);
            }
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (devnull == NULL) {
        devnull = fopen("/dev/null", "w");
    }
    Weir__Topology__Topology *t = NULL;
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    int rv =
        weir_job_compile((const char *)data, size, FUZZ_JOB_PATH, &t, &errs);
    if (rv == 0) {
        weir_job_print(t, devnull);
        weir_job_print_dot(t, devnull);
        reparse(t);
        size_t n = weir__topology__topology__get_packed_size(t);
        uint8_t *buf = malloc(n ? n : 1);
        weir__topology__topology__pack(t, buf);
        Weir__Topology__Topology *u =
            weir__topology__topology__unpack(NULL, n, buf);
        if (u == NULL) {
            abort();
        }
        weir_job_free(u);
        free(buf);
        weir_job_free(t);
    } else {
        weir_job_errors_print(&errs, devnull);
    }
    weir_job_errors_fini(&errs);
    return 0;
}
