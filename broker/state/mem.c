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
