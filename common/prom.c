/* Prometheus text exposition: see prom.h. */
#include "common/prom.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/err.h"

int
weir_prom_family(
    weir_buf *out, const char *name, const char *type, const char *help)
{
    return weir_buf_printf(
        out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name or name{labels} */
static int
series(weir_buf *out, const char *name, const char *labels)
{
    return labels && labels[0] ? weir_buf_printf(out, "%s{%s} ", name, labels)
                               : weir_buf_printf(out, "%s ", name);
}

int
weir_prom_u64(
    weir_buf *out, const char *name, const char *labels, uint64_t value)
{
    int rv = series(out, name, labels);
    return rv ? rv : weir_buf_printf(out, "%" PRIu64 "\n", value);
}

int
weir_prom_i64(
    weir_buf *out, const char *name, const char *labels, int64_t value)
{
    int rv = series(out, name, labels);
    return rv ? rv : weir_buf_printf(out, "%" PRId64 "\n", value);
}

int
weir_prom_f64(weir_buf *out, const char *name, const char *labels, double value)
{
    int rv = series(out, name, labels);
    if (rv)
        return rv;
    if (isnan(value))
        return weir_buf_printf(out, "NaN\n");
    if (isinf(value))
        return weir_buf_printf(out, "%s\n", value > 0 ? "+Inf" : "-Inf");
    char text[32];
    snprintf(text, sizeof(text), "%.15g", value);
    if (strtod(text, NULL) != value)
        snprintf(text, sizeof(text), "%.17g", value);
    return weir_buf_printf(out, "%s\n", text);
}

int
weir_prom_histogram(weir_buf *out, const char *name, const char *labels,
    const double *bounds, const uint64_t *counts, size_t n, double sum)
{
    const char *sep = labels && labels[0] ? "," : "";
    labels = labels ? labels : "";
    uint64_t cum = 0;
    int rv = WEIR_OK;
    for (size_t i = 0; i < n && rv == WEIR_OK; i++) {
        cum += counts[i];
        if (i + 1 < n)
            rv = weir_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n",
                name, labels, sep, bounds[i], cum);
        else
            rv =
                weir_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n",
                    name, labels, sep, cum);
    }
    char sum_name[256], count_name[256];
    snprintf(sum_name, sizeof(sum_name), "%s_sum", name);
    snprintf(count_name, sizeof(count_name), "%s_count", name);
    if (rv == WEIR_OK)
        rv = weir_prom_f64(out, sum_name, labels, sum);
    if (rv == WEIR_OK)
        rv = weir_prom_u64(out, count_name, labels, cum);
    return rv;
}

int
weir_prom_label_value(weir_buf *out, const char *value)
{
    int rv = WEIR_OK;
    for (const char *p = value ? value : ""; *p && rv == WEIR_OK; p++) {
        if (*p == '\\' || *p == '"')
            rv = weir_buf_printf(out, "\\%c", *p);
        else if (*p == '\n')
            rv = weir_buf_printf(out, "\\n");
        else
            rv = weir_buf_append(out, p, 1);
    }
    return rv;
}
