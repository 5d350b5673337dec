/*
 * One function per control request type, run on the event loop. Each
 * decodes nothing itself (weir__coord_handle did) and returns the reply
 * message to encode, or an Error.
 */
#include "server_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/job/job.h"
#include "common/log.h"

#define LOGC "coordinator"

/* A reply under construction: a message, or an error code and text. */
typedef struct reply {
    weir_msg_type type;
    ProtobufCMessage *body;
    Weir__Cluster__ErrorCode code;
    char message[1024];
    char *long_message; /* heap, when set: replaces message (job errors) */
    weir__plan_job *deferred; /* a submit that waits for the Kafka thread */
    char name[256];           /* a job name the body points at */
    char kafka_error[256];    /* the status reply points at it */
} reply;

static void fail(reply *r, Weir__Cluster__ErrorCode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(reply *r, Weir__Cluster__ErrorCode code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
    r->code = code;
}

static Weir__Cluster__ErrorCode
code_of(int err)
{
    switch (err) {
    case WEIR_ENOTFOUND:
        return WEIR__CLUSTER__ERROR_CODE__ERR_NOT_FOUND;
    case WEIR_EEXIST:
        return WEIR__CLUSTER__ERROR_CODE__ERR_ALREADY_EXISTS;
    case WEIR_EINVAL:
        return WEIR__CLUSTER__ERROR_CODE__ERR_INVALID;
    case WEIR_ESTATE:
        return WEIR__CLUSTER__ERROR_CODE__ERR_STALE_EPOCH;
    default:
        return WEIR__CLUSTER__ERROR_CODE__ERR_INTERNAL;
    }
}

/* The most of a job's error list one reply carries (the wire takes 16 MiB):
 * past it the list is cut at a line and the rest counted. */
#define JOB_ERRORS_MAX_BYTES ((size_t)256 << 10)

/* The error list as text, cut after the last whole line within
 * JOB_ERRORS_MAX_BYTES with a count of the lines left out. NULL: none. */
static char *
error_text(const weir_job_errors *errs)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    weir_job_errors_print(errs, f);
    fclose(f);
    while (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    if (len <= JOB_ERRORS_MAX_BYTES)
        return buf;
    size_t keep = JOB_ERRORS_MAX_BYTES;
    while (keep > 0 && buf[keep - 1] != '\n')
        keep--;
    size_t rest = 1;
    for (size_t i = keep; i < len; i++)
        rest += buf[i] == '\n';
    char *cut = NULL;
    if (asprintf(
            &cut, "%.*s... and %zu more error lines", (int)keep, buf, rest) < 0)
        cut = NULL;
    free(buf);
    return cut;
}

/* Compiles the YAML; errors become one message, line by line. */
static Weir__Topology__Topology *
compile(const Weir__Cluster__JobSubmit *js, reply *r)
{
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    Weir__Topology__Topology *topo = NULL;
    const char *yaml = js->yaml ? js->yaml : "";
    const char *path = js->path && js->path[0] ? js->path : "<job>";
    int rv = weir_job_compile(yaml, strlen(yaml), path, &topo, &errs);
    if (rv != WEIR_OK) {
        fail(
            r, WEIR__CLUSTER__ERROR_CODE__ERR_INVALID, "%s", weir_strerror(rv));
        r->long_message = error_text(&errs);
        topo = NULL;
    }
    weir_job_errors_fini(&errs);
    return topo;
}

/* Compiles and checks a submitted job; Kafka's part (topics, task counts)
 * is deferred to the Kafka thread. */
static void
on_submit(weir_coord *co, const Weir__Cluster__JobSubmit *js, reply *r)
{
    Weir__Topology__Topology *topo = compile(js, r);
    if (!topo)
        return;
    /* Refuse a duplicate before touching Kafka. */
    if (weir_cluster_job_active(co->cl, topo->job)) {
        fail(r, WEIR__CLUSTER__ERROR_CODE__ERR_ALREADY_EXISTS,
            "job %s already exists (cancel it first)", topo->job);
        weir_job_free(topo);
        return;
    }
    weir__plan_job *pj = calloc(1, sizeof(*pj));
    if (pj)
        pj->sub_tasks = calloc(topo->n_subtopologies + 1, sizeof(uint32_t));
    if (!pj || !pj->sub_tasks) {
        free(pj);
        weir_job_free(topo);
        fail(r, WEIR__CLUSTER__ERROR_CODE__ERR_INTERNAL, "out of memory");
        return;
    }
    pj->topo = topo;
    r->deferred = pj;
}

/* The union of every reply body a handler may build. */
typedef struct bodies {
    Weir__Cluster__Welcome welcome;
    Weir__Cluster__HeartbeatReply hb;
    Weir__Cluster__Ack ack;
    Weir__Cluster__JobListReply jobs;
    Weir__Cluster__JobDescribeReply describe;
    Weir__Cluster__WorkerListReply workers;
    Weir__Cluster__StatusReply status;
} bodies;

static void
ok(reply *r, weir_msg_type type, ProtobufCMessage *body)
{
    r->type = type;
    r->body = body;
}

static void
dispatch(weir_coord *co, const weir_wire_msg *m, reply *r, bodies *b)
{
    uint64_t now = weir_clock_mono_ms();
    int rv;
    switch (m->type) {
    case WEIR__CLUSTER__MSG_TYPE__MSG_HELLO:
        weir__cluster__welcome__init(&b->welcome);
        rv = weir_cluster_hello(
            co->cl, (Weir__Cluster__Hello *)m->body, now, &b->welcome);
        if (rv == WEIR_EEXIST)
            return fail(r, WEIR__CLUSTER__ERROR_CODE__ERR_ALREADY_EXISTS,
                "worker id %s is in use by a live worker (another "
                "process): give this one another --id, or stop that one",
                ((Weir__Cluster__Hello *)m->body)->worker_id);
        if (rv != WEIR_OK)
            return fail(r, code_of(rv), "hello: %s", weir_strerror(rv));
        return ok(r, WEIR__CLUSTER__MSG_TYPE__MSG_WELCOME, &b->welcome.base);
    case WEIR__CLUSTER__MSG_TYPE__MSG_HEARTBEAT:
        weir__cluster__heartbeat_reply__init(&b->hb);
        rv = weir_cluster_heartbeat(co->cl, (Weir__Cluster__Heartbeat *)m->body,
            now, weir_clock_wall_ms(), &b->hb);
        if (rv == WEIR_ESTATE)
            return fail(r, WEIR__CLUSTER__ERROR_CODE__ERR_STALE_EPOCH,
                "member epoch is not current: send Hello");
        if (rv != WEIR_OK)
            return fail(r, code_of(rv), "heartbeat: %s", weir_strerror(rv));
        return ok(r, WEIR__CLUSTER__MSG_TYPE__MSG_HEARTBEAT_REPLY, &b->hb.base);
    case WEIR__CLUSTER__MSG_TYPE__MSG_LEAVE:
        rv = weir_cluster_leave(co->cl, (Weir__Cluster__Leave *)m->body, now);
        if (rv != WEIR_OK)
            return fail(r, WEIR__CLUSTER__ERROR_CODE__ERR_STALE_EPOCH,
                "leave: member epoch is not current");
        weir__cluster__ack__init(&b->ack);
        return ok(r, WEIR__CLUSTER__MSG_TYPE__MSG_ACK, &b->ack.base);
    case WEIR__CLUSTER__MSG_TYPE__MSG_JOB_SUBMIT:
        return on_submit(co, (Weir__Cluster__JobSubmit *)m->body, r);
    case WEIR__CLUSTER__MSG_TYPE__MSG_JOB_LIST:
        weir_cluster_job_list(co->cl, &b->jobs);
        return ok(
            r, WEIR__CLUSTER__MSG_TYPE__MSG_JOB_LIST_REPLY, &b->jobs.base);
    case WEIR__CLUSTER__MSG_TYPE__MSG_JOB_DESCRIBE: {
        const char *job = ((Weir__Cluster__JobDescribe *)m->body)->job;
        rv = weir_cluster_job_describe(co->cl, job, now, &b->describe);
        if (rv != WEIR_OK)
            return fail(r, code_of(rv), "job %s: %s", job ? job : "",
                weir_strerror(rv));
        return ok(r, WEIR__CLUSTER__MSG_TYPE__MSG_JOB_DESCRIBE_REPLY,
            &b->describe.base);
    }
    case WEIR__CLUSTER__MSG_TYPE__MSG_JOB_CANCEL: {
        const char *job = ((Weir__Cluster__JobCancel *)m->body)->job;
        rv = weir_cluster_cancel(co->cl, job, now);
        if (rv == WEIR_ESTATE)
            return fail(r, WEIR__CLUSTER__ERROR_CODE__ERR_INVALID,
                "job %s is already cancelled", job);
        if (rv != WEIR_OK)
            return fail(r, code_of(rv), "job %s: %s", job ? job : "",
                weir_strerror(rv));
        weir__cluster__ack__init(&b->ack);
        return ok(r, WEIR__CLUSTER__MSG_TYPE__MSG_ACK, &b->ack.base);
    }
    case WEIR__CLUSTER__MSG_TYPE__MSG_WORKER_LIST:
        weir_cluster_worker_list(co->cl, now, &b->workers);
        return ok(r, WEIR__CLUSTER__MSG_TYPE__MSG_WORKER_LIST_REPLY,
            &b->workers.base);
    case WEIR__CLUSTER__MSG_TYPE__MSG_WORKER_DRAIN: {
        const char *id = ((Weir__Cluster__WorkerDrain *)m->body)->worker_id;
        rv = weir_cluster_drain(co->cl, id, now);
        if (rv != WEIR_OK)
            return fail(r, code_of(rv), "worker %s: %s", id ? id : "",
                rv == WEIR_ENOTFOUND ? "not found or not alive"
                                     : weir_strerror(rv));
        weir__cluster__ack__init(&b->ack);
        return ok(r, WEIR__CLUSTER__MSG_TYPE__MSG_ACK, &b->ack.base);
    }
    case WEIR__CLUSTER__MSG_TYPE__MSG_STATUS:
        weir_cluster_status(co->cl, now - co->started_ms, &b->status);
        if (co->kt && !weir__kafka_thread_reachable(
                          co->kt, r->kafka_error, sizeof(r->kafka_error)))
            b->status.kafka_error = r->kafka_error;
        return ok(
            r, WEIR__CLUSTER__MSG_TYPE__MSG_STATUS_REPLY, &b->status.base);
    default:
        atomic_fetch_add(&co->rejects.unsupported, 1);
        return fail(r, WEIR__CLUSTER__ERROR_CODE__ERR_UNSUPPORTED,
            "message type %d is not a request", (int)m->type);
    }
}

static void
release(reply *r, bodies *b)
{
    free(r->long_message);
    if (!r->body)
        return;
    if (r->body == &b->hb.base)
        weir_cluster_reply_fini(&b->hb);
    else
        weir_cluster_view_free(r->body);
}

static bool
token_ok(const weir_coord *co, const char *token)
{
    const char *want = co->opts.token;
    if (!want[0])
        return true;
    size_t n = strlen(want), m = token ? strlen(token) : 0;
    unsigned diff = n != m;
    for (size_t i = 0; i < n && i < m; i++)
        diff |= (unsigned)(want[i] ^ token[i]);
    return diff == 0;
}

/* The reply (or its error) as a wire message answering request_id. */
static int
encode(const reply *r, uint64_t request_id, uint8_t **out, size_t *outlen)
{
    if (r->code == WEIR__CLUSTER__ERROR_CODE__ERR_NONE && r->body) {
        int rv =
            weir_wire_encode(r->type, request_id, "", r->body, out, outlen);
        if (rv != WEIR_ETOOBIG)
            return rv;
    }
    Weir__Cluster__Error e = WEIR__CLUSTER__ERROR__INIT;
    e.code = r->code != WEIR__CLUSTER__ERROR_CODE__ERR_NONE
                 ? r->code
                 : WEIR__CLUSTER__ERROR_CODE__ERR_INTERNAL;
    e.message = r->long_message ? r->long_message
                : r->body && r->code == WEIR__CLUSTER__ERROR_CODE__ERR_NONE
                    ? "reply too large"
                    : (char *)r->message;
    return weir_wire_encode(WEIR__CLUSTER__MSG_TYPE__MSG_ERROR, request_id, "",
        &e.base, out, outlen);
}

int
weir__coord_handle(weir_coord *co, const uint8_t *req, size_t len,
    uint8_t **out, size_t *outlen, weir__plan_job **deferred)
{
    *deferred = NULL;
    weir_wire_msg m;
    char why[256] = "";
    reply r = {.code = WEIR__CLUSTER__ERROR_CODE__ERR_NONE};
    bodies b;
    int rv = weir_wire_decode(req, len, &m, why, sizeof(why));
    if (rv == WEIR_ETOOBIG) {
        atomic_fetch_add(&co->rejects.oversized, 1);
        fail(&r, WEIR__CLUSTER__ERROR_CODE__ERR_MALFORMED, "%s", why);
    } else if (rv == WEIR_EUNSUPPORTED) {
        atomic_fetch_add(&co->rejects.unsupported, 1);
        fail(&r, WEIR__CLUSTER__ERROR_CODE__ERR_UNSUPPORTED, "%s", why);
    } else if (rv != WEIR_OK) {
        atomic_fetch_add(&co->rejects.malformed, 1);
        fail(&r, WEIR__CLUSTER__ERROR_CODE__ERR_MALFORMED, "%s", why);
    } else if (!token_ok(co, m.token)) {
        atomic_fetch_add(&co->rejects.unauthorized, 1);
        fail(&r, WEIR__CLUSTER__ERROR_CODE__ERR_UNAUTHORIZED,
            "missing or wrong token");
    } else {
        dispatch(co, &m, &r, &b);
    }
    if (r.code != WEIR__CLUSTER__ERROR_CODE__ERR_NONE && rv == WEIR_OK &&
        r.code != WEIR__CLUSTER__ERROR_CODE__ERR_STALE_EPOCH)
        weir_log_warn(LOGC, "request rejected type=%d: %.1000s", (int)m.type,
            r.long_message ? r.long_message : r.message);
    else if (rv != WEIR_OK)
        weir_log_warn(LOGC, "request rejected: %s", r.message);
    int erv;
    if (r.deferred) {
        r.deferred->request_id = m.request_id;
        *deferred = r.deferred;
        erv = WEIR_EAGAIN;
    } else {
        erv = encode(&r, m.request_id, out, outlen);
    }
    release(&r, &b);
    weir_wire_msg_fini(&m);
    return erv;
}

int
weir__coord_submit_finish(
    weir_coord *co, weir__plan_job *pj, uint8_t **out, size_t *outlen)
{
    reply r = {.code = WEIR__CLUSTER__ERROR_CODE__ERR_NONE};
    Weir__Cluster__JobSubmitReply body;
    const Weir__Topology__Topology *topo = pj->topo;
    int rv = pj->rv;
    if (rv != WEIR_OK) {
        fail(&r, WEIR__CLUSTER__ERROR_CODE__ERR_INTERNAL, "%s",
            pj->err[0] ? pj->err : weir_strerror(rv));
    } else if ((rv = weir_cluster_submit(co->cl, topo, pj->sub_tasks,
                    topo->n_subtopologies, weir_clock_wall_ms(),
                    weir_clock_mono_ms())) != WEIR_OK) {
        fail(&r, code_of(rv), "submit %s: %s", topo->job,
            rv == WEIR_EEXIST ? "already exists (cancel it first)"
                              : weir_strerror(rv));
    } else {
        weir__cluster__job_submit_reply__init(&body);
        snprintf(r.name, sizeof(r.name), "%s", topo->job);
        body.job = r.name;
        for (size_t s = 0; s < topo->n_subtopologies; s++)
            body.tasks += pj->sub_tasks[s];
        ok(&r, WEIR__CLUSTER__MSG_TYPE__MSG_JOB_SUBMIT_REPLY, &body.base);
    }
    if (r.code != WEIR__CLUSTER__ERROR_CODE__ERR_NONE)
        weir_log_warn(LOGC, "submit rejected job=%s: %s", topo->job, r.message);
    rv = encode(&r, pj->request_id, out, outlen);
    weir__plan_job_free(pj);
    return rv;
}

int
weir__coord_reply_fail(const uint8_t *reply, size_t len, const char *message,
    uint8_t **out, size_t *outlen)
{
    weir_wire_msg m;
    char why[128];
    int rv = weir_wire_decode(reply, len, &m, why, sizeof(why));
    if (rv != WEIR_OK)
        return rv;
    Weir__Cluster__Error e = WEIR__CLUSTER__ERROR__INIT;
    e.code = WEIR__CLUSTER__ERROR_CODE__ERR_INTERNAL;
    e.message = (char *)message;
    rv = weir_wire_encode(WEIR__CLUSTER__MSG_TYPE__MSG_ERROR, m.request_id, "",
        &e.base, out, outlen);
    weir_wire_msg_fini(&m);
    return rv;
}
