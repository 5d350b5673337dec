/*
 * One Kafka request being handled (weir_kreq) and the decoding of its frame:
 * header, API, version, and the body checked against its schema. Shared by
 * the I/O loop and the fuzz target.
 */
#ifndef WEIR_BROKER_PROTOCOL_REQUEST_H
#define WEIR_BROKER_PROTOCOL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/protocol/kcodec.h"
#include "broker/protocol/kschema.h"

/* One request being handled. */
typedef struct weir_kreq {
    int16_t api_key, version;
    int32_t corr_id;
    bool flex;
    weir_kstr client_id;
    weir_kr body;
    bool retry;           /* handled before and parked; now retried */
    bool expired;         /* parked past its deadline: answer now */
    uint64_t deadline_ms; /* set by a handler that parks (monotonic) */
    char *park_member;    /* handler scratch kept across retries (owned) */
    int16_t forced_err;   /* fault injection: answer with this error */
} weir_kreq;

/*
 * Decodes a request frame (after the size): header, API, version and the
 * body against its schema. On WEIR_OK req->body is positioned at the body.
 * WEIR_EPROTO (malformed) or WEIR_EUNSUPPORTED (unknown API or version),
 * with why set to a log message; *apip is set when the API is known.
 */
int weir__request_decode(const uint8_t *frame, size_t len, weir_kreq *req,
    const weir_kapi **apip, char *why, size_t why_size);

#endif
