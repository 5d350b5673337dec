/*
 * Allocation helpers of the broker: string copies and array growth.
 */
#ifndef WEIR_BROKER_STATE_MEM_H
#define WEIR_BROKER_STATE_MEM_H

#include <stddef.h>

char *weir__strdup(const char *s);
char *weir__strndup(const char *s, size_t n);
/* Grows *arr (element size sz) to hold at least n elements. */
int weir__grow(void *arrp, size_t *cap, size_t n, size_t sz);

#endif
