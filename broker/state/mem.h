/*
 * Allocation helpers of the broker: string copies (arrays grow through
 * common/array.h).
 */
#ifndef WEIR_BROKER_STATE_MEM_H
#define WEIR_BROKER_STATE_MEM_H

#include <stddef.h>

char *weir__strdup(const char *s);
char *weir__strndup(const char *s, size_t n);

#endif
