/*
 * The one place that frames weir messages (proto/cluster.proto) on NNG
 * sockets. Every message travels in an Envelope {version, type, request_id,
 * token, body}; the body is unpacked with the descriptor its type names.
 *
 * Decoding never trusts its input: oversized, truncated or garbage bytes,
 * unknown versions and unknown types are errors (and counted), never
 * crashes.
 */
#ifndef WEIR_WIRE_H
#define WEIR_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "proto/cluster.pb-c.h"

#define WEIR_WIRE_VERSION 1
#define WEIR_WIRE_MAX_BYTES (16u * 1024u * 1024u)

typedef Weir__Cluster__MsgType weir_msg_type;

typedef struct weir_wire_msg {
    weir_msg_type type;
    uint64_t request_id;
    char *token;            /* owned; "" when absent */
    ProtobufCMessage *body; /* owned; unpacked per type */
} weir_wire_msg;

typedef struct weir_wire_stats {
    uint64_t decoded;
    uint64_t rejected_oversized;
    uint64_t rejected_malformed;
    uint64_t rejected_version;
    uint64_t rejected_type;
} weir_wire_stats;

/* The message descriptor for a type, or NULL for an unknown type. */
const ProtobufCMessageDescriptor *weir_wire_descriptor(weir_msg_type type);

/*
 * Packs body into an envelope. *out is malloc'd, caller frees.
 * WEIR_EINVAL if body's descriptor does not match type, WEIR_ETOOBIG over
 * the size limit.
 */
int weir_wire_encode(weir_msg_type type, uint64_t request_id, const char *token,
    const ProtobufCMessage *body, uint8_t **out, size_t *len);

/*
 * Unpacks an envelope and its body into msg (fini with weir_wire_msg_fini).
 * WEIR_ETOOBIG, WEIR_EPROTO (malformed), WEIR_EUNSUPPORTED (unknown version
 * or type; msg->type and request_id are still filled so an error reply can
 * be sent). err (may be NULL) receives a one-line reason.
 */
int weir_wire_decode(const uint8_t *buf, size_t len, weir_wire_msg *msg,
    char *err, size_t errsize);

void weir_wire_msg_fini(weir_wire_msg *msg);

/* Sends one message on an NNG socket (blocking, honours send timeouts). */
int weir_wire_send(nng_socket sock, weir_msg_type type, uint64_t request_id,
    const char *token, const ProtobufCMessage *body);

/* Receives and decodes one message (blocking, honours receive timeouts). */
int weir_wire_recv(
    nng_socket sock, weir_wire_msg *msg, char *err, size_t errsize);

/* Sends an Error reply. */
int weir_wire_send_error(nng_socket sock, uint64_t request_id,
    Weir__Cluster__ErrorCode code, const char *message);

/*
 * Request/reply on a REQ socket: sends, receives the reply. An Error reply
 * becomes WEIR_EAUTH (unauthorized), WEIR_ENOTFOUND, WEIR_EEXIST,
 * WEIR_EINVAL, WEIR_ESTATE (stale epoch), WEIR_EUNSUPPORTED or WEIR_EPROTO,
 * with its message in err; reply is then empty.
 */
int weir_wire_call(nng_socket sock, weir_msg_type type, const char *token,
    const ProtobufCMessage *body, weir_wire_msg *reply, char *err,
    size_t errsize);

/* Process-wide counters (relaxed atomics). */
void weir_wire_stats_get(weir_wire_stats *stats);

/* Maps an NNG error to a weir error. */
int weir_wire_nng_err(int nng_rv);

#endif
