/* The worker's /metrics and /healthz: see http.h. */
#include "worker/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/http_server.h"
#include "worker/control.h"
#include "worker/metrics.h"

struct weir_worker_http {
    weir_http_server *srv;
    weir_runtime *rt;
    weir_control *ctl;
};

#define TEXT "text/plain; charset=utf-8"
#define PROM_TEXT "text/plain; version=0.0.4; charset=utf-8"

static void
reply_text(weir_http_req *r, uint16_t status, const char *body)
{
    weir_http_reply(r, status, TEXT, body, strlen(body));
}

static void
reply_metrics(weir_worker_http *h, weir_http_req *r)
{
    weir_buf b;
    weir_buf_init(&b);
    if (weir_worker_metrics_write(
            &b, h->rt, weir_control_kafka_state(h->ctl)) != WEIR_OK)
        reply_text(r, 500, "out of memory\n");
    else
        weir_http_reply(r, 200, PROM_TEXT, b.data, b.len);
    weir_buf_fini(&b);
}

/* Answers every request here, on NNG's thread: nothing is queued. */
static bool
take(void *ctx, weir_http_req *r)
{
    weir_worker_http *h = ctx;
    bool known =
        strcmp(r->path, "/metrics") == 0 || strcmp(r->path, "/healthz") == 0;
    if (!known)
        reply_text(r, 404, "not found\n");
    else if (strcmp(r->method, "GET") != 0)
        reply_text(r, 405, "method not allowed\n");
    else if (strcmp(r->path, "/metrics") == 0)
        reply_metrics(h, r);
    else
        reply_text(r, 200, "ok\n");
    return true;
}

static void
notify(void *ctx)
{
    (void)ctx; /* take answers everything: nothing is ever queued */
}

int
weir_worker_http_start(weir_worker_http **out, const char *addr,
    weir_runtime *rt, weir_control *ctl, char *bound, size_t bound_len,
    char *err, size_t errlen)
{
    *out = NULL;
    weir_worker_http *h = calloc(1, sizeof(*h));
    if (!h)
        return WEIR_ENOMEM;
    h->rt = rt;
    h->ctl = ctl;
    int rv = weir_http_server_open(&h->srv, addr, notify, take, h, err, errlen);
    if (rv == WEIR_OK &&
        (rv = weir_http_server_addr(h->srv, bound, bound_len)) != WEIR_OK)
        snprintf(err, errlen, "%s: cannot tell the address listened at", addr);
    if (rv != WEIR_OK) {
        weir_worker_http_stop(h);
        return rv;
    }
    *out = h;
    return WEIR_OK;
}

void
weir_worker_http_stop(weir_worker_http *h)
{
    if (!h)
        return;
    weir_http_server_close(h->srv);
    free(h);
}
