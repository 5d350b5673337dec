/*
 * Prometheus text exposition (version 0.0.4), written the one way every
 * /metrics endpoint uses: a family's HELP and TYPE lines, then all of its
 * samples together, before the next family starts. Labels are given as
 * preformatted text ("job=\"wc\",partition=\"3\""), "" for none.
 */
#ifndef WEIR_PROM_H
#define WEIR_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
int weir_prom_family(
    weir_buf *out, const char *name, const char *type, const char *help);

/* name{labels} value: an integer, or a float. */
int weir_prom_u64(
    weir_buf *out, const char *name, const char *labels, uint64_t value);
int weir_prom_i64(
    weir_buf *out, const char *name, const char *labels, int64_t value);
int weir_prom_f64(
    weir_buf *out, const char *name, const char *labels, double value);

/*
 * A histogram's samples: name_bucket{labels,le="bound"} cumulative counts
 * for the n - 1 bounds and +Inf (counts[i] is the count in bucket i, not
 * cumulative; counts has n entries), name_sum and name_count.
 */
int weir_prom_histogram(weir_buf *out, const char *name, const char *labels,
    const double *bounds, const uint64_t *counts, size_t n, double sum);

/* Label text escaped for a label value: \\ \" and \n. Appends to out. */
int weir_prom_label_value(weir_buf *out, const char *value);

#endif
