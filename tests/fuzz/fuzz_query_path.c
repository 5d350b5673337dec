/*
 * libFuzzer target: pull-query paths (coordinator/query_parse.c). Any
 * bytes as a request URI: no crash or leak; what parses names a job and a
 * store, a key unless it is a scan, and a limit within bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *uri = malloc(size + 1);
    if (!uri)
        return 0;
    memcpy(uri, data, size);
    uri[size] = '\0';
    weir_query *q = NULL;
    char why[300];
    int rv = weir_query_parse(uri, &q, why, sizeof(why));
    if (rv == 1) {
        if (!q || !q->job[0] || !q->store[0] || q->scan == (q->key != NULL) ||
            q->limit < 1 || q->limit > WEIR_QUERY_LIMIT_MAX || !q->prefix)
            abort();
        weir_query_free(q);
    } else if (q) {
        abort();
    }
    free(uri);
    return 0;
}
