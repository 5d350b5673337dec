/*
 * The coordinator's HTTP server (NNG's): /metrics (Prometheus text),
 * /api/jobs, /api/workers, /api/tasks (JSON), /healthz and a small
 * dashboard at /. Handlers run on NNG threads and only enqueue the request;
 * the event loop renders the answer from the state it owns.
 *
 * With --token every request must carry it: "Authorization: Bearer T",
 * "X-Weir-Token: T", or "?token=T" (for a browser).
 */
#include "server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/prom.h"
#include "common/log.h"

#define LOGC "coordinator"

static const struct {
    const char *path;
    weir__route route;
} routes[] = {
    {"/metrics", WEIR__ROUTE_METRICS},
    {"/api/jobs", WEIR__ROUTE_JOBS},
    {"/api/workers", WEIR__ROUTE_WORKERS},
    {"/api/tasks", WEIR__ROUTE_TASKS},
    {"/healthz", WEIR__ROUTE_HEALTHZ},
    {"/", WEIR__ROUTE_DASHBOARD},
};

static void
respond(nng_aio *aio, uint16_t status, const char *type, const char *body)
{
    nng_http_res *res;
    if (nng_http_res_alloc(&res) != 0) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    nng_http_res_set_status(res, status);
    nng_http_res_set_header(res, "Content-Type", type);
    nng_http_res_set_header(res, "Cache-Control", "no-store");
    if (body)
        nng_http_res_copy_data(res, body, strlen(body));
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

void
weir__http_refuse(nng_aio *aio)
{
    respond(aio, 503, "text/plain", "shutting down\n");
}

/* The token a request carries, or NULL. Returns a malloc'd copy. */
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
        if (strncmp(q, "token=", 6) == 0) {
            size_t n = strcspn(q + 6, "&");
            return strndup(q + 6, n);
        }
        q = strchr(q, '&');
    }
    return NULL;
}

static void
http_cb(nng_aio *aio)
{
    nng_http_handler *h = nng_aio_get_input(aio, 1);
    nng_http_req *req = nng_aio_get_input(aio, 0);
    weir_coord *co = nng_http_handler_get_data(h);
    const char *uri = nng_http_req_get_uri(req);
    size_t plen = uri ? strcspn(uri, "?") : 0;
    weir__work *w = calloc(1, sizeof(*w));
    if (!w) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    w->http_aio = aio;
    w->route = WEIR__ROUTE_DASHBOARD;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strlen(routes[i].path) == plen &&
            strncmp(routes[i].path, uri, plen) == 0)
            w->route = routes[i].route;
    w->auth = request_token(req);
    if (!weir__coord_enqueue(co, w)) {
        free(w->auth);
        free(w);
        weir__http_refuse(aio);
    }
}

static char *
rejects_metrics(weir_coord *co)
{
    weir_wire_stats ws;
    weir_wire_stats_get(&ws);
    static const char *const reasons[] = {
        "malformed", "oversized", "unsupported", "unauthorized"};
    const unsigned long long counts[] = {atomic_load(&co->rejects.malformed),
        atomic_load(&co->rejects.oversized),
        atomic_load(&co->rejects.unsupported),
        atomic_load(&co->rejects.unauthorized)};
    weir_buf b;
    weir_buf_init(&b);
    int rv = weir_prom_family(&b, "weir_rejected_requests_total", "counter",
        "Control requests rejected, by reason.");
    for (size_t i = 0; i < 4 && rv == WEIR_OK; i++) {
        char label[64];
        snprintf(label, sizeof(label), "reason=\"%s\"", reasons[i]);
        rv =
            weir_prom_u64(&b, "weir_rejected_requests_total", label, counts[i]);
    }
    if (rv == WEIR_OK)
        rv = weir_prom_family(&b, "weir_http_rejected_total", "counter",
            "HTTP requests rejected, by reason.");
    if (rv == WEIR_OK)
        rv = weir_prom_u64(&b, "weir_http_rejected_total",
            "reason=\"unauthorized\"",
            atomic_load(&co->rejects.http_unauthorized));
    if (rv == WEIR_OK)
        rv = weir_prom_family(&b, "weir_control_messages_decoded_total",
            "counter", "Control messages decoded.");
    if (rv == WEIR_OK)
        rv = weir_prom_u64(
            &b, "weir_control_messages_decoded_total", "", ws.decoded);
    if (rv != WEIR_OK) {
        weir_buf_fini(&b);
        return NULL;
    }
    return b.data;
}

/* The texts one after another; takes them (any may be NULL: then NULL). */
static char *
join(char **texts, size_t n)
{
    weir_buf b;
    weir_buf_init(&b);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        ok = ok && texts[i] &&
             weir_buf_append(&b, texts[i], strlen(texts[i])) == WEIR_OK;
        free(texts[i]);
    }
    if (!ok) {
        weir_buf_fini(&b);
        return NULL;
    }
    return b.data;
}

static char *
dashboard(weir_coord *co)
{
    Weir__Cluster__StatusReply st;
    weir_cluster_status(co->cl, weir_clock_mono_ms() - co->started_ms, &st);
    char *head = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&head, &len);
    if (!f)
        return NULL;
    fprintf(f,
        "<!doctype html><html><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"refresh\" content=\"2\"><title>weir</title>"
        "<style>body{font-family:sans-serif}pre{background:#f4f4f4;"
        "padding:8px}</style></head><body><h1>weir coordinator</h1>"
        "<p>generation %llu &middot; %u workers &middot; %u jobs &middot; "
        "%u tasks (%u unassigned) &middot; %llu rebalances</p>"
        "<h2>jobs</h2><pre>",
        (unsigned long long)st.generation, st.workers, st.jobs, st.tasks,
        st.unassigned_tasks, (unsigned long long)st.rebalances);
    fclose(f);
    /* JSON contains no '<' from us; job names might: escape crudely */
    char *parts[3] = {weir_cluster_json_jobs(co->cl),
        weir_cluster_json_workers(co->cl, weir_clock_mono_ms()),
        weir_cluster_json_tasks(co->cl)};
    for (int i = 0; i < 3; i++)
        for (char *p = parts[i]; p && *p; p++)
            if (*p == '<' || *p == '>' || *p == '&')
                *p = '?';
    char *texts[] = {head, parts[0], strdup("</pre><h2>workers</h2><pre>"),
        parts[1], strdup("</pre><h2>tasks</h2><pre>"), parts[2],
        strdup("</pre></body></html>\n")};
    return join(texts, sizeof(texts) / sizeof(texts[0]));
}

static bool
http_token_ok(const weir_coord *co, const char *token)
{
    const char *want = co->opts.token;
    return !want[0] || (token && strcmp(token, want) == 0);
}

void
weir__http_answer(weir_coord *co, weir__work *w)
{
    if (!http_token_ok(co, w->auth)) {
        atomic_fetch_add(&co->rejects.http_unauthorized, 1);
        respond(w->http_aio, 401, "text/plain", "missing or wrong token\n");
        return;
    }
    uint64_t now = weir_clock_mono_ms();
    char *body = NULL;
    const char *type = "application/json";
    switch (w->route) {
    case WEIR__ROUTE_METRICS:
        body = join(
            (char *[]){weir_cluster_metrics(co->cl, now), rejects_metrics(co)},
            2);
        type = "text/plain; version=0.0.4";
        break;
    case WEIR__ROUTE_JOBS:
        body = weir_cluster_json_jobs(co->cl);
        break;
    case WEIR__ROUTE_WORKERS:
        body = weir_cluster_json_workers(co->cl, now);
        break;
    case WEIR__ROUTE_TASKS:
        body = weir_cluster_json_tasks(co->cl);
        break;
    case WEIR__ROUTE_HEALTHZ:
        body = strdup("ok\n");
        type = "text/plain";
        break;
    case WEIR__ROUTE_DASHBOARD:
        body = dashboard(co);
        type = "text/html; charset=utf-8";
        break;
    }
    if (!body) {
        respond(w->http_aio, 500, "text/plain", "out of memory\n");
        return;
    }
    respond(w->http_aio, 200, type, body);
    free(body);
}

int
weir__http_start(weir_coord *co, char *err, size_t errsize)
{
    char url_text[512];
    snprintf(url_text, sizeof(url_text), "http://%s", co->opts.http);
    nng_url *url;
    int nrv = nng_url_parse(&url, url_text);
    if (nrv != 0) {
        snprintf(
            err, errsize, "--http %s: %s", co->opts.http, nng_strerror(nrv));
        return WEIR_EINVAL;
    }
    nrv = nng_http_server_hold(&co->http, url);
    nng_url_free(url);
    for (size_t i = 0; nrv == 0 && i < sizeof(routes) / sizeof(routes[0]);
         i++) {
        nng_http_handler *h;
        if ((nrv = nng_http_handler_alloc(&h, routes[i].path, http_cb)) != 0)
            break;
        nng_http_handler_set_data(h, co, NULL);
        if ((nrv = nng_http_server_add_handler(co->http, h)) != 0)
            nng_http_handler_free(h);
    }
    if (nrv == 0)
        nrv = nng_http_server_start(co->http);
    if (nrv != 0) {
        snprintf(err, errsize, "http %s: %s", co->opts.http, nng_strerror(nrv));
        if (co->http)
            nng_http_server_release(co->http);
        co->http = NULL;
        return WEIR_EIO;
    }
    snprintf(co->http_addr, sizeof(co->http_addr), "%s", co->opts.http);
    return WEIR_OK;
}

void
weir__http_stop(weir_coord *co)
{
    if (!co->http)
        return;
    nng_http_server_stop(co->http);
    nng_http_server_release(co->http);
    co->http = NULL;
}
