/*
 * The worker's own encoding of values in state stores and their
 * changelogs: one tag byte, then the payload. Exact round trip for every
 * scalar type (an INT stays an INT, a TIME a TIME); lists and JSON objects
 * travel as JSON text.
 *
 *   'n'            null          'b' 0|1         bool
 *   'i' be64       int           'f' be64 bits   float
 *   't' be64       time          's' bytes       string
 *   'y' bytes      bytes         'l' / 'j' text  list / JSON object
 *
 * Aggregate states are an 8-byte big-endian record count followed by the
 * tagged aggregate (the count makes avg possible).
 */
#ifndef WEIR_WORKER_CODEC_H
#define WEIR_WORKER_CODEC_H

#include <stdint.h>

#include "common/value/value.h"

/* Appends the encoding of v to buf. WEIR_ENOMEM. */
int weir_codec_encode(const weir_value *v, weir_buf *buf);

/*
 * Decodes data (len bytes). Strings and bytes point into data; lists and
 * objects are built in the arena. WEIR_ECORRUPT on malformed input.
 */
int weir_codec_decode(
    const void *data, size_t len, weir_arena *arena, weir_value *out);

void weir_codec_put_be64(void *p, uint64_t v);
uint64_t weir_codec_get_be64(const void *p);
/* A time (ms, maybe negative) as 8 bytes that sort as the times do:
 * big-endian with the sign bit flipped (window and session keys). */
void weir_codec_put_time(void *p, int64_t ms);
int64_t weir_codec_get_time(const void *p);
void weir_codec_put_be32(void *p, uint32_t v);
uint32_t weir_codec_get_be32(const void *p);

#endif
