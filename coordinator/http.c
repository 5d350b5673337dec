/*
 * The coordinator's HTTP server (NNG's): /metrics (Prometheus text),
 * /api/jobs, /api/workers, /api/tasks, /api/events, /api/jobs/JOB/graph
 * (JSON), /healthz and the dashboard at / (dashboard.h). Handlers run on
 * NNG threads and only enqueue the request; the event loop renders the
 * answer from the state it owns. Pull queries (query.h) are the
 * exception: routed on the NNG thread under the read side of co->cl_lock
 * and answered asynchronously by the forwarder, without the loop's hop.
 *
 * With --token every request must carry it: "Authorization: Bearer T",
 * "X-Weir-Token: T", or "?token=T" (for a browser), except the
 * dashboard's static files (no cluster data in them).
 */
#include "server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/http_server.h"
#include "common/prom.h"
#include "common/log.h"
#include "dashboard.h"
#include "query.h"

#define LOGC "coordinator"
/* Pull queries: how long a worker may take. */
#define QUERY_TIMEOUT_MS 2000

static void
notify(void *ctx)
{
    weir_coord *co = ctx;
    pthread_mutex_lock(&co->mu);
    co->http_pending = true;
    pthread_cond_signal(&co->cv);
    pthread_mutex_unlock(&co->mu);
}

static void
reply_text(
    weir_http_req *r, uint16_t status, const char *type, const char *body)
{
    weir_http_reply(r, status, type, body, strlen(body));
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

static bool
http_token_ok(const weir_coord *co, const char *token)
{
    const char *want = co->opts.token;
    return !want[0] || (token && strcmp(token, want) == 0);
}

/* GET PATH on the state the loop owns: the body (malloc'd) and its type;
 * NULL and 404 for an unknown path. */
static char *
render(weir_coord *co, const char *path, const char **type, uint16_t *status)
{
    uint64_t now = weir_clock_mono_ms();
    *type = "application/json";
    *status = 200;
    if (strcmp(path, "/metrics") == 0) {
        *type = "text/plain; version=0.0.4";
        return join(
            (char *[]){weir_cluster_metrics(co->cl, now), rejects_metrics(co),
                weir__kafka_thread_metrics(co->kt)},
            3);
    }
    if (strcmp(path, "/api/jobs") == 0)
        return weir_cluster_json_jobs(co->cl);
    if (strcmp(path, "/api/workers") == 0)
        return weir_cluster_json_workers(co->cl, now);
    if (strcmp(path, "/api/tasks") == 0)
        return weir_cluster_json_tasks(co->cl, now);
    if (strcmp(path, "/api/events") == 0)
        return weir_cluster_json_events(co->cl);
    char job[256];
    int gp = weir_dashboard_graph_path(path, job, sizeof(job));
    if (gp > 0)
        return weir_dashboard_graph_json(co->cl, job, status);
    if (gp < 0) {
        *status = 400;
        return strdup("{\"error\":\"malformed job name: expected "
                      "/api/jobs/JOB/graph\"}\n");
    }
    *type = "text/plain";
    if (strcmp(path, "/healthz") == 0) {
        char why[256], *text = NULL;
        if (weir__kafka_thread_reachable(co->kt, why, sizeof(why)))
            return strdup("ok\n");
        *status = 503;
        return asprintf(&text, "kafka unreachable: %s\n", why) < 0 ? NULL
                                                                   : text;
    }
    *status = 404;
    return strdup("not found\n");
}

static void
answer(weir_coord *co, weir_http_req *r)
{
    /* The page and its scripts hold no cluster data: served without the
     * token, which the page then sends with each /api/ request. */
    const weir_dashboard_asset *asset = weir_dashboard_asset_find(r->path);
    if (asset && strcmp(r->method, "GET") == 0) {
        weir_http_reply(r, 200, asset->type, asset->data, asset->size);
        return;
    }
    if (!http_token_ok(co, r->token)) {
        atomic_fetch_add(&co->rejects.http_unauthorized, 1);
        reply_text(r, 401, "text/plain", "missing or wrong token\n");
        return;
    }
    if (strcmp(r->method, "GET") != 0) {
        reply_text(r, 405, "text/plain", "only GET\n");
        return;
    }
    const char *type;
    uint16_t status;
    char *body = render(co, r->path, &type, &status);
    if (!body) {
        reply_text(r, 500, "text/plain", "out of memory\n");
        return;
    }
    reply_text(r, status, type, body);
    free(body);
}

/*
 * On an NNG thread, before the request is queued for the loop: takes a
 * pull query (a GET with the token, as answer() would check) and routes
 * it under the read side of the cluster lock, then hands it to the
 * forwarder; anything else goes to the loop. Reads only co->opts (set
 * before the server starts) and, under the lock, co->cl.
 */
static bool
take_query(void *ctx, weir_http_req *r)
{
    weir_coord *co = ctx;
    weir_query *q = NULL;
    char why[300] = "";
    int qp = weir_query_parse(r->uri, &q, why, sizeof(why));
    if (qp == 0 || strcmp(r->method, "GET") != 0 ||
        !http_token_ok(co, r->token)) {
        weir_query_free(q); /* answered (or refused) by the loop */
        return false;
    }
    int rv = WEIR_EINVAL;
    if (qp > 0) {
        pthread_rwlock_rdlock(&co->cl_lock);
        rv = weir_cluster_query_route(co->cl, q, why, sizeof(why));
        pthread_rwlock_unlock(&co->cl_lock);
    }
    if (rv == WEIR_OK) {
        q->req = r;
        weir_query_forwarder_submit(co->queries, q);
        return true;
    }
    weir_query_free(q);
    weir_query_reply_error(r,
        rv == WEIR_EINVAL      ? 400
        : rv == WEIR_ENOTFOUND ? 404
                               : 500,
        why);
    return true;
}

void
weir__http_answer_all(weir_coord *co)
{
    weir_http_req *r = weir_http_server_take(co->http);
    while (r) {
        weir_http_req *next = r->next;
        answer(co, r);
        r = next;
    }
}

int
weir__http_start(weir_coord *co, char *err, size_t errsize)
{
    char why[512];
    /* The forwarder first: the server's threads use it at once. */
    int rv = weir_query_forwarder_new(&co->queries, QUERY_TIMEOUT_MS);
    if (rv != WEIR_OK)
        return rv;
    rv = weir_http_server_open(
        &co->http, co->opts.http, notify, take_query, co, why, sizeof(why));
    if (rv != WEIR_OK) {
        snprintf(err, errsize, "--http %s", why);
        return rv;
    }
    snprintf(co->http_addr, sizeof(co->http_addr), "%s", co->opts.http);
    return WEIR_OK;
}

void
weir__http_stop(weir_coord *co)
{
    /* The forwarder answers the queries it holds first (later ones get
     * 503 from it), and is freed once the server no longer calls it. */
    weir_query_forwarder_stop(co->queries);
    weir_http_server_close(co->http);
    co->http = NULL;
    weir_query_forwarder_free(co->queries);
    co->queries = NULL;
}
