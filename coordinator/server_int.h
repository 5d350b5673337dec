/*
 * Internals of the coordinator process shared by server.c (control socket
 * and event loop), handlers.c (one function per request type) and http.c.
 */
#ifndef WEIR_COORDINATOR_SERVER_INT_H
#define WEIR_COORDINATOR_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "cluster.h"
#include "common/http_server.h"
#include "common/wire.h"
#include "coordinator.h"
#include "kafka_admin.h"
#include "kafka_thread.h"

#define WEIR__N_CTX 32

typedef struct weir__work weir__work;

/* One REP context: receives a request, the loop answers it. */
typedef struct weir__rctx {
    weir_coord *co;
    nng_aio *aio;
    nng_ctx ctx;
    bool sending;
    nng_msg *req;   /* received, owned until handled */
    nng_msg *reply; /* built by the loop, sent after the state is saved */
} weir__rctx;

/* A queued control request for the loop, or a submitted job the Kafka
 * thread has planned (planned set: rctx is the request to answer). */
struct weir__work {
    weir__work *next;
    weir__rctx *rctx;
    weir__plan_job *planned;
    bool deferred; /* handled: its answer waits for the Kafka thread */
};

typedef struct weir__rejects {
    atomic_uint_fast64_t malformed, unsupported, oversized, unauthorized;
    atomic_uint_fast64_t http_unauthorized;
} weir__rejects;

struct weir_coord {
    weir_coord_opts opts; /* strings owned */
    char state_path[4096];
    char listen_url[512];
    char http_addr[256];
    nng_socket sock;
    bool sock_open;
    nng_listener listener;
    nng_tls_config *tls;
    weir__rctx ctxs[WEIR__N_CTX];
    weir_http_server *http;
    struct weir_query_forwarder *queries; /* answers pull queries */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu; /* guards the queue and closing */
    pthread_cond_t cv;
    weir__work *head, *tail;
    bool http_pending; /* HTTP requests wait in http's queue */
    bool closing;      /* callbacks stop enqueueing */
    bool stop;         /* the loop returns once the queue is empty */
    /* Owned by the loop thread once started, which changes it only
     * under cl_lock's write side (and reads it without the lock: it is
     * the only writer). Other threads read it under the read side: the
     * HTTP threads routing pull queries (http.c take_query). */
    weir_cluster *cl;
    pthread_rwlock_t cl_lock;
    weir_kafka_admin *ka; /* used by the Kafka thread only */
    weir__kafka_thread *kt;
    uint64_t started_ms;
    weir__rejects rejects;
    int lock_fd;           /* flock on <data-dir>/.lock */
    char save_error[4400]; /* why the state cannot be saved; "" when it can */
};

/* Enqueues work for the loop; false when closing (caller cleans up). */
bool weir__coord_enqueue(weir_coord *co, weir__work *w);

/*
 * Handles one decoded control request on the loop thread; returns the
 * encoded reply (malloc'd) in *out. Never fails without a reply unless
 * out of memory.
 */
int weir__coord_handle(weir_coord *co, const uint8_t *req, size_t len,
    uint8_t **out, size_t *outlen, weir__plan_job **deferred);

/* A job submit whose answer waits for Kafka: weir__coord_handle returns
 * WEIR_EAGAIN and no reply, and *deferred, to hand to the Kafka thread.
 * Once planned, this submits it and encodes the reply; frees pj. */
int weir__coord_submit_finish(
    weir_coord *co, weir__plan_job *pj, uint8_t **out, size_t *outlen);

/* An encoded reply replaced by an ERR_INTERNAL error with message, for the
 * same request (the state its answer depends on could not be saved). */
int weir__coord_reply_fail(const uint8_t *reply, size_t len,
    const char *message, uint8_t **out, size_t *outlen);

/* HTTP (http.c). */
int weir__http_start(weir_coord *co, char *err, size_t errsize);
void weir__http_stop(weir_coord *co);
/* Answers the queued HTTP requests on the loop thread. */
void weir__http_answer_all(weir_coord *co);

#endif
