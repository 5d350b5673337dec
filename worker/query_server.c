#include "query_server.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "common/err.h"
#include "common/log.h"
#include "common/wire.h"

struct weir_query_server {
    weir_runtime *rt;
    nng_socket sock;
    pthread_t tid;
    atomic_bool stopping;
};

static void
answer(weir_query_server *qs, const weir_wire_msg *m)
{
    if (m->type != WEIR__CLUSTER__MSG_TYPE__MSG_STORE_QUERY) {
        (void)weir_wire_send_error(qs->sock, m->request_id,
            WEIR__CLUSTER__ERROR_CODE__ERR_UNSUPPORTED, "only StoreQuery");
        return;
    }
    Weir__Cluster__StoreQueryReply r;
    int rv = weir_runtime_store_query(
        qs->rt, (const Weir__Cluster__StoreQuery *)m->body, &r);
    if (rv != WEIR_OK && !r.status) {
        r.status = 500;
        r.error = (char *)weir_strerror(rv);
    }
    (void)weir_wire_send(qs->sock,
        WEIR__CLUSTER__MSG_TYPE__MSG_STORE_QUERY_REPLY, m->request_id, NULL,
        &r.base);
    weir_runtime_store_query_fini(&r);
}

static void *
serve(void *arg)
{
    weir_query_server *qs = arg;
    while (!atomic_load(&qs->stopping)) {
        weir_wire_msg m;
        char err[200];
        int rv = weir_wire_recv(qs->sock, &m, err, sizeof(err));
        if (rv == WEIR_ETIMEDOUT)
            continue;
        if (rv == WEIR_ECLOSED)
            break;
        if (rv != WEIR_OK) {
            /* Malformed: answered so that the asker is not left waiting. */
            weir_log_warn("query", "rejected request err=\"%s\"", err);
            (void)weir_wire_send_error(
                qs->sock, 0, WEIR__CLUSTER__ERROR_CODE__ERR_MALFORMED, err);
            continue;
        }
        answer(qs, &m);
        weir_wire_msg_fini(&m);
    }
    return NULL;
}

int
weir_query_server_start(weir_query_server **out, weir_runtime *rt,
    const char *url, char *bound, size_t bound_len, char *err, size_t errlen)
{
    weir_query_server *qs = calloc(1, sizeof(*qs));
    if (!qs)
        return WEIR_ENOMEM;
    qs->rt = rt;
    nng_listener l;
    int rv = nng_rep0_open(&qs->sock);
    if (rv == 0)
        rv = nng_socket_set_ms(qs->sock, NNG_OPT_RECVTIMEO, 200);
    if (rv == 0)
        rv = nng_listen(qs->sock, url, &l, 0);
    if (rv != 0) {
        snprintf(err, errlen, "listen %s: %s", url, nng_strerror(rv));
        if (nng_socket_id(qs->sock) > 0)
            nng_close(qs->sock);
        free(qs);
        return WEIR_EIO;
    }
    /* The port it got (url may say 0). */
    int port = 0;
    (void)nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port);
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    size_t hl = strcspn(host, ":");
    snprintf(bound, bound_len, "tcp://%.*s:%d", (int)hl, host, port);
    if (pthread_create(&qs->tid, NULL, serve, qs) != 0) {
        nng_close(qs->sock);
        free(qs);
        return WEIR_ENOMEM;
    }
    *out = qs;
    return WEIR_OK;
}

void
weir_query_server_stop(weir_query_server *qs)
{
    if (!qs)
        return;
    atomic_store(&qs->stopping, true);
    pthread_join(qs->tid, NULL);
    nng_close(qs->sock);
    free(qs);
}
