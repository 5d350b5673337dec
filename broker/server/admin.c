/*
 * --admin: HTTP status, metrics and fault injection on NNG's HTTP server.
 * NNG calls the handler on its own threads; the handler only queues the
 * request and wakes the I/O loop through a pipe. The loop answers it
 * (weir__admin_process), so all broker state stays single-threaded.
 *
 *   GET  /status                       JSON: topics, partitions, LSO, txns
 *   GET  /metrics                      Prometheus text
 *   POST /fault/drop                   drop every client connection now
 *   POST /fault/delay?api=NAME&ms=N    delay each NAME request N ms (0 off)
 *   POST /fault/fail?api=NAME&count=K&error=CODE[&client=PREFIX]
 *                                      answer the next K NAME requests (of
 *                                      clients whose client.id starts with
 *                                      PREFIX) with error CODE
 *   POST /fault/lose?api=NAME&count=K  handle the next K NAME requests but
 *                                      drop the answer and the connection
 *   POST /fault/pause?ms=N             handle no request for N ms
 *   POST /fault/crash                  exit at once, without flushing
 *   POST /fault/clear                  remove all faults
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/state/topic.h"
#include "broker/state/txn.h"
#include "broker/state/mem.h"
#include "broker/server/server.h"
#include "broker/server/admin.h"
#include "common/clock.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/http_server.h"
#include "common/json_str.h"
#include "common/log.h"
#include "common/prom.h"

struct weir_admin {
    weir_http_server *http;
    int pipe[2]; /* written by notify: wakes the I/O loop */
};

static void
notify(void *ctx)
{
    weir_admin *a = ctx;
    ssize_t n = write(a->pipe[1], "x", 1);
    (void)n; /* a full pipe already wakes the loop */
}

int
weir__admin_open(weir_broker *b)
{
    weir_admin *a = calloc(1, sizeof(*a));
    if (!a)
        return WEIR_ENOMEM;
    a->pipe[0] = a->pipe[1] = -1;
    char err[512];
    int rv = WEIR_EIO;
    if (pipe2(a->pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        snprintf(err, sizeof(err), "pipe: %s", strerror(errno));
    else
        rv = weir_http_server_open(
            &a->http, b->opts.admin, notify, NULL, a, err, sizeof(err));
    if (rv != WEIR_OK) {
        weir_log_error(
            "broker", "cannot serve --admin %s: %s", b->opts.admin, err);
        weir__admin_close(a);
        return rv;
    }
    b->admin = a;
    weir_log_info("broker", "admin listen=%s", b->opts.admin);
    return WEIR_OK;
}

void
weir__admin_close(weir_admin *a)
{
    if (!a)
        return;
    weir_http_server_close(a->http);
    if (a->pipe[0] >= 0)
        close(a->pipe[0]);
    if (a->pipe[1] >= 0)
        close(a->pipe[1]);
    free(a);
}

int
weir__admin_fd(const weir_admin *a)
{
    return a->pipe[0];
}

/* ------------------------------------------------------------ responses */

/* Response bodies are built in a weir_buf, whose first failure sticks:
 * answer() checks it once. */

static void
out_json_str(weir_buf *w, const char *s)
{
    (void)weir_json_str_append(w, s, strlen(s));
}

static void
status_json(weir_broker *b, weir_buf *w)
{
    int64_t now = weir_clock_wall_ms();
    weir_buf_printf(w, "{\"listen\":\"%s:%d\",\"connections\":%zu,\"topics\":[",
        b->adv_host, b->port, weir__server_conn_count(b->server));
    for (size_t i = 0; i < b->n_topics; i++) {
        weir_topic *t = b->topics[i];
        weir_buf_printf(w, "%s{\"name\":", i ? "," : "");
        out_json_str(w, t->name);
        weir_buf_printf(w, ",\"compact\":%s,\"partitions\":[",
            t->conf.compact ? "true" : "false");
        for (int32_t k = 0; k < t->n_parts; k++) {
            weir_part *p = &t->parts[k];
            weir_buf_printf(w,
                "%s{\"partition\":%d,\"log_start_offset\":%lld,"
                "\"high_watermark\":%lld,\"last_stable_offset\":%lld,"
                "\"aborted_txns\":%zu,\"producers\":[",
                k ? "," : "", (int)k, (long long)weir_plog_start_offset(p->log),
                (long long)weir__part_hw(p), (long long)weir__part_lso(p),
                p->n_aborted);
            for (size_t i = 0; i < p->n_prods; i++) {
                const weir_producer *pr = &p->prods[i];
                weir_buf_printf(w,
                    "%s{\"producer_id\":%lld,\"epoch\":%d,"
                    "\"last_sequence\":%d,\"open_txn_first_offset\":%lld}",
                    i ? "," : "", (long long)pr->pid, (int)pr->epoch,
                    pr->n_batches ? (int)pr->recent[0].last_seq : -1,
                    (long long)pr->txn_first_offset);
            }
            weir_buf_printf(w, "]}");
        }
        weir_buf_printf(w, "]}");
    }
    weir_buf_printf(w, "],\"transactions\":[");
    for (size_t i = 0; i < b->n_txns; i++) {
        weir_txn *txn = b->txns[i];
        weir_buf_printf(w, "%s{\"transactional_id\":", i ? "," : "");
        out_json_str(w, txn->id);
        weir_buf_printf(w,
            ",\"producer_id\":%lld,\"epoch\":%d,\"state\":\"%s\","
            "\"timeout_ms\":%d,\"partitions\":%zu,\"pending_offsets\":%zu",
            (long long)txn->pid, (int)txn->epoch,
            weir__txn_state_name(txn->state), (int)txn->timeout_ms,
            txn->n_parts, txn->n_offsets);
        if (txn->state == WEIR_TXN_ONGOING)
            weir_buf_printf(
                w, ",\"age_ms\":%lld", (long long)(now - txn->start_ms));
        weir_buf_printf(w, "}");
    }
    weir_buf_printf(w, "],\"groups\":[");
    for (size_t i = 0; i < b->n_groups; i++) {
        weir_group *g = b->groups[i];
        weir_buf_printf(w, "%s{\"group\":", i ? "," : "");
        out_json_str(w, g->id);
        weir_buf_printf(w,
            ",\"generation\":%d,\"members\":%zu,\"offsets\":%zu}",
            (int)g->generation, g->n_members, g->n_offsets);
    }
    weir_buf_printf(w, "]}\n");
}

static void
per_api(weir_buf *w, const char *name, const char *help, const uint64_t *counts)
{
    weir_prom_family(w, name, "counter", help);
    for (int k = 0; k < WEIR_API_KEY_MAX; k++) {
        if (!weir_kapi_find((int16_t)k))
            continue;
        char label[96];
        snprintf(
            label, sizeof(label), "api=\"%s\"", weir_kapi_name((int16_t)k));
        weir_prom_u64(w, name, label, counts[k]);
    }
}

static void
metrics_text(weir_broker *b, weir_buf *w)
{
    weir_metrics *m = &b->metrics;
    per_api(w, "weir_broker_requests_total", "Requests handled, by API.",
        m->requests);
    per_api(w, "weir_broker_errors_total",
        "Requests answered with an error, by API.", m->errors);
    size_t open = 0;
    for (size_t i = 0; i < b->n_txns; i++)
        open += b->txns[i]->state == WEIR_TXN_ONGOING;
    const struct {
        const char *name, *type, *help;
        uint64_t value;
    } simple[] = {
        {"weir_broker_bytes_in_total", "counter", "Bytes received.",
            m->bytes_in},
        {"weir_broker_bytes_out_total", "counter", "Bytes sent.", m->bytes_out},
        {"weir_broker_connections", "gauge", "Open client connections.",
            weir__server_conn_count(b->server)},
        {"weir_broker_malformed_requests_total", "counter",
            "Requests refused as malformed (the connection is closed).",
            m->malformed},
        {"weir_broker_open_transactions", "gauge",
            "Transactions begun and not yet ended.", open},
    };
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
        weir_prom_family(w, simple[i].name, simple[i].type, simple[i].help);
        weir_prom_u64(w, simple[i].name, "", simple[i].value);
    }
    weir_prom_family(w, "weir_broker_transactions_total", "counter",
        "Transactions ended, by result.");
    weir_prom_u64(w, "weir_broker_transactions_total", "result=\"commit\"",
        m->txn_committed);
    weir_prom_u64(w, "weir_broker_transactions_total", "result=\"abort\"",
        m->txn_aborted);
    weir_prom_u64(w, "weir_broker_transactions_total", "result=\"timeout\"",
        m->txn_timed_out);
}

/* Value of query parameter name in uri, copied into buf; false if none. */
static bool
query(const char *uri, const char *name, char *buf, size_t size)
{
    const char *q = strchr(uri, '?');
    size_t nl = strlen(name);
    while (q) {
        q++;
        if (strncmp(q, name, nl) == 0 && q[nl] == '=') {
            const char *v = q + nl + 1;
            size_t len = strcspn(v, "&");
            if (len >= size)
                return false;
            memcpy(buf, v, len);
            buf[len] = '\0';
            return true;
        }
        q = strchr(q, '&');
    }
    return false;
}

static int
api_by_name(const char *name)
{
    size_t n;
    const weir_kapi *apis = weir_kapi_list(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(apis[i].name, name) == 0)
            return apis[i].key;
    char *end;
    long k = strtol(name, &end, 10);
    if (*end == '\0' && end != name && weir_kapi_find((int16_t)k))
        return (int)k;
    return -1;
}

/* Applies a fault request; returns the HTTP status and writes a message. */
static uint16_t
fault(weir_broker *b, const char *path, const char *uri, weir_buf *w)
{
    char api_s[64] = "", ms_s[32] = "0", count_s[32] = "1", err_s[32] = "";
    int64_t ms = 0;
    if (query(uri, "ms", ms_s, sizeof(ms_s)))
        ms = strtoll(ms_s, NULL, 10);
    if (strcmp(path, "/fault/drop") == 0) {
        b->faults.drop_now = true;
        weir_buf_printf(
            w, "{\"dropped\":%zu}\n", weir__server_conn_count(b->server));
        return 200;
    }
    if (strcmp(path, "/fault/pause") == 0 && ms >= 0) {
        b->faults.paused_until_ms = weir_clock_mono_ms() + (uint64_t)ms;
        weir_log_info(
            "broker", "fault: pausing request handling %lld ms", (long long)ms);
        weir_buf_printf(w, "{\"paused_ms\":%lld}\n", (long long)ms);
        return 200;
    }
    if (strcmp(path, "/fault/crash") == 0) {
        weir_log_info("broker", "fault: crashing now");
        _exit(3);
    }
    if (strcmp(path, "/fault/clear") == 0) {
        memset(&b->faults, 0, sizeof(b->faults));
        weir_buf_printf(w, "{\"cleared\":true}\n");
        return 200;
    }
    int api = query(uri, "api", api_s, sizeof(api_s)) ? api_by_name(api_s) : -1;
    if (api < 0) {
        weir_buf_printf(
            w, "{\"error\":\"api=NAME (e.g. Produce) required\"}\n");
        return 400;
    }
    if (strcmp(path, "/fault/delay") == 0 && ms >= 0) {
        b->faults.delay_ms[api] = ms;
        weir_log_info(
            "broker", "fault: delaying %s by %lld ms", api_s, (long long)ms);
        weir_buf_printf(
            w, "{\"api\":\"%s\",\"delay_ms\":%lld}\n", api_s, (long long)ms);
        return 200;
    }
    if (strcmp(path, "/fault/fail") == 0 &&
        query(uri, "error", err_s, sizeof(err_s))) {
        (void)query(uri, "count", count_s, sizeof(count_s));
        b->faults.fail_count[api] = (int32_t)strtol(count_s, NULL, 10);
        b->faults.fail_code[api] = (int16_t)strtol(err_s, NULL, 10);
        char *client = b->faults.fail_client[api];
        if (!query(uri, "client", client, sizeof(b->faults.fail_client[api])))
            client[0] = '\0';
        weir_log_info("broker",
            "fault: failing the next %d %s with %d client_prefix=%s",
            (int)b->faults.fail_count[api], api_s,
            (int)b->faults.fail_code[api], client);
        weir_buf_printf(w, "{\"api\":\"%s\",\"count\":%d,\"error\":%d}\n",
            api_s, (int)b->faults.fail_count[api],
            (int)b->faults.fail_code[api]);
        return 200;
    }
    if (strcmp(path, "/fault/lose") == 0) {
        (void)query(uri, "count", count_s, sizeof(count_s));
        b->faults.lose_count[api] = (int32_t)strtol(count_s, NULL, 10);
        weir_log_info("broker", "fault: losing the answers of the next %d %s",
            (int)b->faults.lose_count[api], api_s);
        weir_buf_printf(w, "{\"api\":\"%s\",\"lose\":%d}\n", api_s,
            (int)b->faults.lose_count[api]);
        return 200;
    }
    weir_buf_printf(w, "{\"error\":\"unknown fault or missing parameter\"}\n");
    return 400;
}

static void
answer(weir_broker *b, weir_http_req *r)
{
    weir_buf w;
    weir_buf_init(&w);
    uint16_t status = 200;
    const char *ctype = "application/json";
    bool get = strcmp(r->method, "GET") == 0;
    if (get && strcmp(r->path, "/status") == 0) {
        status_json(b, &w);
    } else if (get && strcmp(r->path, "/metrics") == 0) {
        metrics_text(b, &w);
        ctype = "text/plain; version=0.0.4";
    } else if (strcmp(r->method, "POST") == 0 &&
               strncmp(r->path, "/fault/", 7) == 0) {
        status = fault(b, r->path, r->uri, &w);
    } else {
        status = 404;
        weir_buf_printf(&w, "{\"error\":\"not found\"}\n");
    }
    if (w.failed) {
        static const char oom[] = "out of memory\n";
        weir_http_reply(r, 500, "text/plain", oom, sizeof(oom) - 1);
    } else {
        weir_http_reply(r, status, ctype, w.data, w.len);
    }
    weir_buf_fini(&w);
}

void
weir__admin_process(weir_broker *b)
{
    weir_admin *a = b->admin;
    char drain[64];
    while (read(a->pipe[0], drain, sizeof(drain)) > 0) {
    }
    weir_http_req *r = weir_http_server_take(a->http);
    while (r) {
        weir_http_req *next = r->next;
        answer(b, r);
        r = next;
    }
}
