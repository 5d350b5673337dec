/* An HTTP server answered on the owner's thread: see http_server.h. */
#include "common/http_server.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/supplemental/http/http.h>

#include "common/err.h"

struct weir_http_server {
    nng_http_server *srv;
    nng_http_handler *handler;
    weir_http_notify_fn notify;
    weir_http_take_fn take; /* may be NULL */
    void *ctx;
    pthread_mutex_t mu; /* guards the queue and closing */
    weir_http_req *head, *tail;
    bool closing;
};

static void
req_free(weir_http_req *r)
{
    if (r == NULL)
        return;
    free(r->method);
    free(r->uri);
    free(r->path);
    free(r->token);
    free(r);
}

static char *
request_token(nng_http_req *req)
{
    const char *h = nng_http_req_get_header(req, "Authorization");
    if (h && strncmp(h, "Bearer ", 7) == 0)
        return strdup(h + 7);
    if ((h = nng_http_req_get_header(req, "X-Weir-Token")))
        return strdup(h);
    const char *uri = nng_http_req_get_uri(req);
    const char *q = uri ? strchr(uri, '?') : NULL;
    while (q) {
        q++;
        if (strncmp(q, "token=", 6) == 0)
            return strndup(q + 6, strcspn(q + 6, "&"));
        q = strchr(q, '&');
    }
    return NULL;
}

/* 503, for requests that arrive or wait while the server closes. */
static void
refuse(nng_aio *aio)
{
    static const char body[] = "shutting down\n";
    nng_http_res *res;
    if (nng_http_res_alloc(&res) != 0) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    nng_http_res_set_status(res, 503);
    nng_http_res_set_header(res, "Content-Type", "text/plain");
    nng_http_res_copy_data(res, body, sizeof(body) - 1);
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

static void
on_request(nng_aio *aio)
{
    nng_http_req *hreq = nng_aio_get_input(aio, 0);
    nng_http_handler *h = nng_aio_get_input(aio, 1);
    weir_http_server *s = nng_http_handler_get_data(h);
    weir_http_req *r = calloc(1, sizeof(*r));
    const char *uri = nng_http_req_get_uri(hreq);
    if (r != NULL) {
        r->aio = aio;
        r->method = strdup(nng_http_req_get_method(hreq));
        r->uri = strdup(uri ? uri : "/");
        r->path = r->uri ? strndup(r->uri, strcspn(r->uri, "?")) : NULL;
        r->token = request_token(hreq);
    }
    if (r == NULL || !r->method || !r->uri || !r->path) {
        req_free(r);
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    if (s->take && s->take(s->ctx, r))
        return;
    pthread_mutex_lock(&s->mu);
    bool closing = s->closing;
    if (!closing) {
        if (s->tail)
            s->tail->next = r;
        else
            s->head = r;
        s->tail = r;
    }
    pthread_mutex_unlock(&s->mu);
    if (closing) {
        req_free(r);
        refuse(aio);
        return;
    }
    s->notify(s->ctx);
}

int
weir_http_server_open(weir_http_server **out, const char *addr,
    weir_http_notify_fn notify, weir_http_take_fn take, void *ctx, char *err,
    size_t errlen)
{
    *out = NULL;
    weir_http_server *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return WEIR_ENOMEM;
    pthread_mutex_init(&s->mu, NULL);
    s->notify = notify;
    s->take = take;
    s->ctx = ctx;
    char text[512];
    snprintf(text, sizeof(text), "http://%s", addr);
    nng_url *url = NULL;
    int rv = nng_url_parse(&url, text);
    if (rv != 0) {
        snprintf(err, errlen, "%s: %s", addr, nng_strerror(rv));
        weir_http_server_close(s);
        return WEIR_EINVAL;
    }
    if ((rv = nng_http_server_hold(&s->srv, url)) != 0 ||
        (rv = nng_http_handler_alloc(&s->handler, "/", on_request)) != 0 ||
        (rv = nng_http_handler_set_method(s->handler, NULL)) != 0 ||
        (rv = nng_http_handler_set_tree(s->handler)) != 0 ||
        (rv = nng_http_handler_set_data(s->handler, s, NULL)) != 0 ||
        (rv = nng_http_server_add_handler(s->srv, s->handler)) != 0) {
        snprintf(err, errlen, "%s: %s", addr, nng_strerror(rv));
        nng_url_free(url);
        weir_http_server_close(s);
        return WEIR_EIO;
    }
    s->handler = NULL; /* the server owns it now */
    nng_url_free(url);
    if ((rv = nng_http_server_start(s->srv)) != 0) {
        snprintf(err, errlen, "%s: %s", addr, nng_strerror(rv));
        weir_http_server_close(s);
        return WEIR_EIO;
    }
    *out = s;
    return WEIR_OK;
}

int
weir_http_server_addr(weir_http_server *s, char *buf, size_t len)
{
    nng_sockaddr sa;
    char host[INET6_ADDRSTRLEN] = "";
    if (nng_http_server_get_addr(s->srv, &sa) != 0)
        return WEIR_EIO;
    if (sa.s_family == NNG_AF_INET &&
        inet_ntop(AF_INET, &sa.s_in.sa_addr, host, sizeof(host))) {
        snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(sa.s_in.sa_port));
        return WEIR_OK;
    }
    if (sa.s_family == NNG_AF_INET6 &&
        inet_ntop(AF_INET6, sa.s_in6.sa_addr, host, sizeof(host))) {
        snprintf(buf, len, "[%s]:%u", host, (unsigned)ntohs(sa.s_in6.sa_port));
        return WEIR_OK;
    }
    return WEIR_EIO;
}

weir_http_req *
weir_http_server_take(weir_http_server *s)
{
    pthread_mutex_lock(&s->mu);
    weir_http_req *r = s->head;
    s->head = s->tail = NULL;
    pthread_mutex_unlock(&s->mu);
    return r;
}

void
weir_http_reply(weir_http_req *r, uint16_t status, const char *type,
    const void *body, size_t len)
{
    nng_http_res *res = NULL;
    int rv = nng_http_res_alloc(&res);
    if (rv == 0 &&
        ((rv = nng_http_res_set_status(res, status)) != 0 ||
            (rv = nng_http_res_set_header(res, "Content-Type", type)) != 0 ||
            (rv = nng_http_res_set_header(res, "Cache-Control", "no-store")) !=
                0 ||
            (rv = nng_http_res_copy_data(res, body, len)) != 0)) {
        nng_http_res_free(res);
    }
    if (rv != 0) {
        nng_aio_finish(r->aio, rv);
    } else {
        nng_aio_set_output(r->aio, 0, res);
        nng_aio_finish(r->aio, 0);
    }
    req_free(r);
}

void
weir_http_server_close(weir_http_server *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->closing = true;
    weir_http_req *r = s->head;
    s->head = s->tail = NULL;
    pthread_mutex_unlock(&s->mu);
    while (r) {
        weir_http_req *next = r->next;
        refuse(r->aio);
        req_free(r);
        r = next;
    }
    if (s->handler)
        nng_http_handler_free(s->handler);
    if (s->srv) {
        nng_http_server_stop(s->srv);
        nng_http_server_release(s->srv);
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}
