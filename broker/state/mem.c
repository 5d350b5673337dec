#include <stdlib.h>
#include <string.h>

#include "broker/state/mem.h"
#include "common/err.h"

char *
weir__strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

char *
weir__strdup(const char *s)
{
    return s ? weir__strndup(s, strlen(s)) : NULL;
}

int
weir__grow(void *arrp, size_t *cap, size_t n, size_t sz)
{
    void **arr = arrp;
    if (n <= *cap)
        return WEIR_OK;
    size_t ncap = *cap ? *cap : 4;
    while (ncap < n)
        ncap *= 2;
    void *p = realloc(*arr, ncap * sz);
    if (!p)
        return WEIR_ENOMEM;
    *arr = p;
    *cap = ncap;
    return WEIR_OK;
}
