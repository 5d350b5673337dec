#include "wire.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static atomic_uint_fast64_t n_decoded, n_oversized, n_malformed, n_version,
    n_type, next_request_id = 1;

static const struct {
    weir_msg_type type;
    const ProtobufCMessageDescriptor *desc;
} types[] = {
    {WEIR__CLUSTER__MSG_TYPE__MSG_ERROR, &weir__cluster__error__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_HELLO, &weir__cluster__hello__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_WELCOME, &weir__cluster__welcome__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_HEARTBEAT,
        &weir__cluster__heartbeat__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_HEARTBEAT_REPLY,
        &weir__cluster__heartbeat_reply__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_LEAVE, &weir__cluster__leave__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_ACK, &weir__cluster__ack__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_JOB_SUBMIT,
        &weir__cluster__job_submit__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_JOB_SUBMIT_REPLY,
        &weir__cluster__job_submit_reply__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_JOB_LIST,
        &weir__cluster__job_list__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_JOB_LIST_REPLY,
        &weir__cluster__job_list_reply__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_JOB_DESCRIBE,
        &weir__cluster__job_describe__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_JOB_DESCRIBE_REPLY,
        &weir__cluster__job_describe_reply__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_JOB_CANCEL,
        &weir__cluster__job_cancel__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_WORKER_LIST,
        &weir__cluster__worker_list__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_WORKER_LIST_REPLY,
        &weir__cluster__worker_list_reply__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_WORKER_DRAIN,
        &weir__cluster__worker_drain__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_STATUS, &weir__cluster__status__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_STATUS_REPLY,
        &weir__cluster__status_reply__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_STORE_QUERY,
        &weir__cluster__store_query__descriptor},
    {WEIR__CLUSTER__MSG_TYPE__MSG_STORE_QUERY_REPLY,
        &weir__cluster__store_query_reply__descriptor},
};

const ProtobufCMessageDescriptor *
weir_wire_descriptor(weir_msg_type type)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (types[i].type == type)
            return types[i].desc;
    return NULL;
}

static void
set_err(char *err, size_t errsize, const char *msg)
{
    if (err && errsize > 0)
        snprintf(err, errsize, "%s", msg);
}

int
weir_wire_encode(weir_msg_type type, uint64_t request_id, const char *token,
    const ProtobufCMessage *body, uint8_t **out, size_t *len)
{
    const ProtobufCMessageDescriptor *desc = weir_wire_descriptor(type);
    if (!desc || !body || body->descriptor != desc)
        return WEIR_EINVAL;
    size_t body_len = protobuf_c_message_get_packed_size(body);
    if (body_len > WEIR_WIRE_MAX_BYTES - 64)
        return WEIR_ETOOBIG;
    uint8_t *body_buf = malloc(body_len ? body_len : 1);
    if (!body_buf)
        return WEIR_ENOMEM;
    protobuf_c_message_pack(body, body_buf);

    Weir__Cluster__Envelope env = WEIR__CLUSTER__ENVELOPE__INIT;
    env.version = WEIR_WIRE_VERSION;
    env.type = type;
    env.request_id = request_id;
    env.token = (char *)(token ? token : "");
    env.body.data = body_buf;
    env.body.len = body_len;
    size_t n = weir__cluster__envelope__get_packed_size(&env);
    int rv = WEIR_OK;
    if (n > WEIR_WIRE_MAX_BYTES) {
        rv = WEIR_ETOOBIG;
    } else if (!(*out = malloc(n))) {
        rv = WEIR_ENOMEM;
    } else {
        weir__cluster__envelope__pack(&env, *out);
        *len = n;
    }
    free(body_buf);
    return rv;
}

int
weir_wire_decode(const uint8_t *buf, size_t len, weir_wire_msg *msg, char *err,
    size_t errsize)
{
    memset(msg, 0, sizeof(*msg));
    if (len > WEIR_WIRE_MAX_BYTES) {
        atomic_fetch_add_explicit(&n_oversized, 1, memory_order_relaxed);
        set_err(err, errsize, "message exceeds the size limit");
        return WEIR_ETOOBIG;
    }
    Weir__Cluster__Envelope *env =
        weir__cluster__envelope__unpack(NULL, len, buf);
    if (!env) {
        atomic_fetch_add_explicit(&n_malformed, 1, memory_order_relaxed);
        set_err(err, errsize, "malformed envelope");
        return WEIR_EPROTO;
    }
    int rv = WEIR_OK;
    msg->type = env->type;
    msg->request_id = env->request_id;
    if (!(msg->token = strdup(env->token ? env->token : ""))) {
        rv = WEIR_ENOMEM;
        goto out;
    }
    if (env->version != WEIR_WIRE_VERSION) {
        atomic_fetch_add_explicit(&n_version, 1, memory_order_relaxed);
        set_err(err, errsize, "unsupported wire version");
        rv = WEIR_EUNSUPPORTED;
        goto out;
    }
    const ProtobufCMessageDescriptor *desc = weir_wire_descriptor(env->type);
    if (!desc) {
        atomic_fetch_add_explicit(&n_type, 1, memory_order_relaxed);
        set_err(err, errsize, "unknown message type");
        rv = WEIR_EUNSUPPORTED;
        goto out;
    }
    msg->body =
        protobuf_c_message_unpack(desc, NULL, env->body.len, env->body.data);
    if (!msg->body) {
        atomic_fetch_add_explicit(&n_malformed, 1, memory_order_relaxed);
        set_err(err, errsize, "malformed message body");
        rv = WEIR_EPROTO;
        goto out;
    }
    atomic_fetch_add_explicit(&n_decoded, 1, memory_order_relaxed);
out:
    weir__cluster__envelope__free_unpacked(env, NULL);
    return rv;
}

void
weir_wire_msg_fini(weir_wire_msg *msg)
{
    if (!msg)
        return;
    if (msg->body)
        protobuf_c_message_free_unpacked(msg->body, NULL);
    free(msg->token);
    memset(msg, 0, sizeof(*msg));
}

int
weir_wire_nng_err(int nng_rv)
{
    switch (nng_rv) {
    case 0:
        return WEIR_OK;
    case NNG_ETIMEDOUT:
        return WEIR_ETIMEDOUT;
    case NNG_ECLOSED:
        return WEIR_ECLOSED;
    case NNG_ENOMEM:
        return WEIR_ENOMEM;
    case NNG_EMSGSIZE:
        return WEIR_ETOOBIG;
    case NNG_EAGAIN:
        return WEIR_EAGAIN;
    case NNG_ESTATE:
        return WEIR_ESTATE;
    default:
        return WEIR_EIO;
    }
}

int
weir_wire_send(nng_socket sock, weir_msg_type type, uint64_t request_id,
    const char *token, const ProtobufCMessage *body)
{
    uint8_t *buf;
    size_t len;
    int rv = weir_wire_encode(type, request_id, token, body, &buf, &len);
    if (rv != WEIR_OK)
        return rv;
    rv = weir_wire_nng_err(nng_send(sock, buf, len, 0));
    free(buf);
    return rv;
}

int
weir_wire_recv(nng_socket sock, weir_wire_msg *msg, char *err, size_t errsize)
{
    void *buf;
    size_t len;
    memset(msg, 0, sizeof(*msg));
    int rv = nng_recv(sock, &buf, &len, NNG_FLAG_ALLOC);
    if (rv != 0) {
        set_err(err, errsize, nng_strerror(rv));
        return weir_wire_nng_err(rv);
    }
    rv = weir_wire_decode(buf, len, msg, err, errsize);
    nng_free(buf, len);
    return rv;
}

int
weir_wire_send_error(nng_socket sock, uint64_t request_id,
    Weir__Cluster__ErrorCode code, const char *message)
{
    Weir__Cluster__Error e = WEIR__CLUSTER__ERROR__INIT;
    e.code = code;
    e.message = (char *)(message ? message : "");
    return weir_wire_send(
        sock, WEIR__CLUSTER__MSG_TYPE__MSG_ERROR, request_id, "", &e.base);
}

static int
error_code_to_err(Weir__Cluster__ErrorCode code)
{
    switch (code) {
    case WEIR__CLUSTER__ERROR_CODE__ERR_UNAUTHORIZED:
        return WEIR_EAUTH;
    case WEIR__CLUSTER__ERROR_CODE__ERR_NOT_FOUND:
        return WEIR_ENOTFOUND;
    case WEIR__CLUSTER__ERROR_CODE__ERR_ALREADY_EXISTS:
        return WEIR_EEXIST;
    case WEIR__CLUSTER__ERROR_CODE__ERR_INVALID:
        return WEIR_EINVAL;
    case WEIR__CLUSTER__ERROR_CODE__ERR_STALE_EPOCH:
        return WEIR_ESTATE;
    case WEIR__CLUSTER__ERROR_CODE__ERR_UNSUPPORTED:
        return WEIR_EUNSUPPORTED;
    default:
        return WEIR_EPROTO;
    }
}

int
weir_wire_call(nng_socket sock, weir_msg_type type, const char *token,
    const ProtobufCMessage *body, weir_wire_msg *reply, char *err,
    size_t errsize)
{
    uint64_t id = atomic_fetch_add(&next_request_id, 1);
    memset(reply, 0, sizeof(*reply));
    int rv = weir_wire_send(sock, type, id, token, body);
    if (rv != WEIR_OK) {
        set_err(err, errsize, weir_strerror(rv));
        return rv;
    }
    if ((rv = weir_wire_recv(sock, reply, err, errsize)) != WEIR_OK)
        return rv;
    if (reply->type == WEIR__CLUSTER__MSG_TYPE__MSG_ERROR) {
        Weir__Cluster__Error *e = (Weir__Cluster__Error *)reply->body;
        rv = error_code_to_err(e->code);
        set_err(err, errsize, e->message);
        weir_wire_msg_fini(reply);
        return rv;
    }
    if (reply->request_id != id) {
        weir_wire_msg_fini(reply);
        set_err(err, errsize, "reply does not match the request");
        return WEIR_EPROTO;
    }
    return WEIR_OK;
}

void
weir_wire_stats_get(weir_wire_stats *stats)
{
    stats->decoded = atomic_load(&n_decoded);
    stats->rejected_oversized = atomic_load(&n_oversized);
    stats->rejected_malformed = atomic_load(&n_malformed);
    stats->rejected_version = atomic_load(&n_version);
    stats->rejected_type = atomic_load(&n_type);
}
