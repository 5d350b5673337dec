/*
 * Answers pull queries off the event loop: a few threads take routed
 * queries, ask each partition's owner (then its standbys) over NNG with a
 * timeout, and reply to the HTTP request with JSON.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json_str.h"
#include "common/log.h"
#include "common/wire.h"
#include "query.h"

#define MAX_CONNS 64

typedef struct conn {
    char address[256];
    nng_socket sock;
} conn;

typedef struct fwd_thread {
    struct weir_query_forwarder *f;
    pthread_t tid;
    conn conns[MAX_CONNS]; /* one socket per worker address, reused */
    size_t n_conns;
} fwd_thread;

struct weir_query_forwarder {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    weir_query *head, *tail;
    bool stopping;
    int timeout_ms;
    fwd_thread *threads;
    int n_threads;
};

static void
reply_json(weir_http_req *r, uint16_t status, weir_buf *b)
{
    weir_http_reply(
        r, status, "application/json", b->data ? b->data : "", b->len);
}

void
weir_query_reply_error(weir_http_req *r, uint16_t status, const char *msg)
{
    weir_buf b;
    weir_buf_init(&b);
    if (weir_buf_append(&b, "{\"error\":", 9) == WEIR_OK &&
        weir_json_str_append(&b, msg, strlen(msg)) == WEIR_OK &&
        weir_buf_append(&b, "}\n", 2) == WEIR_OK)
        reply_json(r, status, &b);
    else
        weir_http_reply(r, 500, "text/plain", "out of memory\n", 14);
    weir_buf_fini(&b);
}

/* The thread's socket to address, dialed on first use. */
static nng_socket *
sock_for(fwd_thread *th, const char *address)
{
    for (size_t i = 0; i < th->n_conns; i++)
        if (strcmp(th->conns[i].address, address) == 0)
            return &th->conns[i].sock;
    if (th->n_conns == MAX_CONNS) { /* forget the oldest */
        nng_close(th->conns[0].sock);
        memmove(th->conns, th->conns + 1, (MAX_CONNS - 1) * sizeof(conn));
        th->n_conns--;
    }
    conn *c = &th->conns[th->n_conns];
    int ms = th->f->timeout_ms;
    if (nng_req0_open(&c->sock) != 0)
        return NULL;
    if (nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, ms) != 0 ||
        nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO, ms) != 0 ||
        nng_dial(c->sock, address, NULL, NNG_FLAG_NONBLOCK) != 0) {
        nng_close(c->sock);
        return NULL;
    }
    snprintf(c->address, sizeof(c->address), "%s", address);
    th->n_conns++;
    return &c->sock;
}

static void
drop_sock(fwd_thread *th, const char *address)
{
    for (size_t i = 0; i < th->n_conns; i++) {
        if (strcmp(th->conns[i].address, address) == 0) {
            nng_close(th->conns[i].sock);
            th->conns[i] = th->conns[--th->n_conns];
            return;
        }
    }
}

/* Asks a partition's workers in turn; *reply from the first that answers
 * (its index in *who), or an error status. */
static int
ask(fwd_thread *th, const weir_query *q, const weir_query_target *tg,
    Weir__Cluster__StoreQueryReply **reply, size_t *who)
{
    Weir__Cluster__StoreQuery sq = WEIR__CLUSTER__STORE_QUERY__INIT;
    sq.job = q->job;
    sq.store = q->store;
    sq.partition = tg->partition;
    sq.key = q->key ? q->key : "";
    sq.scan = q->scan;
    sq.prefix = q->prefix;
    sq.limit = q->limit;
    sq.has_range = q->has_range;
    sq.from_ms = q->from_ms;
    sq.to_ms = q->to_ms;
    for (size_t i = 0; i < tg->n; i++) {
        nng_socket *s = sock_for(th, tg->address[i]);
        weir_wire_msg m;
        char err[200];
        if (!s || weir_wire_call(*s, WEIR__CLUSTER__MSG_TYPE__MSG_STORE_QUERY,
                      NULL, &sq.base, &m, err, sizeof(err)) != WEIR_OK) {
            weir_log_warn("query", "no answer worker=%s address=%s err=\"%s\"",
                tg->worker[i], tg->address[i], s ? err : "cannot dial");
            drop_sock(th, tg->address[i]);
            continue;
        }
        if (m.type != WEIR__CLUSTER__MSG_TYPE__MSG_STORE_QUERY_REPLY) {
            weir_wire_msg_fini(&m);
            continue;
        }
        Weir__Cluster__StoreQueryReply *r =
            (Weir__Cluster__StoreQueryReply *)m.body;
        m.body = NULL;
        weir_wire_msg_fini(&m);
        /* A worker without the task (it moved) is no answer: ask on. */
        if (r->status == 404 && i + 1 < tg->n && strstr(r->error, "no task")) {
            weir__cluster__store_query_reply__free_unpacked(r, NULL);
            continue;
        }
        *reply = r;
        *who = i;
        return WEIR_OK;
    }
    return WEIR_EIO;
}

static int
row_json(weir_buf *b, const Weir__Cluster__StoreRow *row, bool with_key)
{
    int rv = WEIR_OK;
    if (with_key)
        rv = weir_buf_printf(b, "\"key\":%s,", row->key_json);
    if (rv == WEIR_OK && row->windowed)
        rv = weir_buf_printf(b, "\"start\":%lld,\"end\":%lld,",
            (long long)row->window_start_ms, (long long)row->window_end_ms);
    if (rv == WEIR_OK)
        rv = weir_buf_printf(b, "\"value\":%s", row->value_json);
    return rv;
}

static void
answer(fwd_thread *th, weir_query *q)
{
    weir_buf b;
    weir_buf_init(&b);
    int rv = WEIR_OK;
    bool stale = false, many = q->scan;
    size_t rows = 0;
    uint16_t status = 200;
    rv = weir_buf_append(&b, "{", 1);
    if (many)
        rv = weir_buf_append(&b, "\"rows\":[", 8);
    for (size_t t = 0; rv == WEIR_OK && t < q->n_targets; t++) {
        const weir_query_target *tg = &q->targets[t];
        Weir__Cluster__StoreQueryReply *r = NULL;
        size_t who = 0;
        if (ask(th, q, tg, &r, &who) != WEIR_OK) {
            status = 503;
            weir_buf_clear(&b);
            rv = weir_buf_printf(&b,
                "{\"error\":\"no worker answered for partition %u\"",
                tg->partition);
            many = false;
            break;
        }
        if (r->status == 404 && !q->scan && t + 1 < q->n_targets) {
            /* A key looked for on every partition: not on this one. */
            weir__cluster__store_query_reply__free_unpacked(r, NULL);
            continue;
        }
        if (r->status != 200) {
            status = (uint16_t)r->status;
            weir_buf_clear(&b);
            rv = weir_buf_append(&b, "{\"error\":", 9);
            if (rv == WEIR_OK)
                rv = weir_json_str_append(&b, r->error ? r->error : "",
                    r->error ? strlen(r->error) : 0);
            many = false;
            weir__cluster__store_query_reply__free_unpacked(r, NULL);
            break;
        }
        stale = stale || r->stale || who > 0;
        if (!many) {
            const Weir__Cluster__StoreRow *row0 = r->rows[0];
            rv = weir_buf_printf(&b, "\"key\":%s,", row0->key_json);
            if (rv == WEIR_OK && row0->windowed) {
                rv = weir_buf_append(&b, "\"windows\":[", 11);
                for (size_t i = 0; rv == WEIR_OK && i < r->n_rows; i++) {
                    rv = weir_buf_append(&b, i ? ",{" : "{", i ? 2 : 1);
                    if (rv == WEIR_OK)
                        rv = row_json(&b, r->rows[i], false);
                    if (rv == WEIR_OK)
                        rv = weir_buf_append(&b, "}", 1);
                }
                if (rv == WEIR_OK)
                    rv = weir_buf_append(&b, "]", 1);
            } else if (rv == WEIR_OK) {
                rv = weir_buf_printf(&b, "\"value\":%s", row0->value_json);
            }
            if (rv == WEIR_OK)
                rv = weir_buf_printf(
                    &b, ",\"partition\":%u,\"owner\":", tg->partition);
            if (rv == WEIR_OK)
                rv = weir_json_str_append(
                    &b, tg->worker[who], strlen(tg->worker[who]));
            if (rv == WEIR_OK)
                rv = weir_buf_printf(
                    &b, ",\"offset\":%lld", (long long)r->offset);
            /* A standby's answer: how far behind the newest checkpoint
             * the workers reported it is (in changelog records). */
            if (rv == WEIR_OK && (r->stale || who > 0) && tg->newest >= 0)
                rv = weir_buf_printf(&b, ",\"lag\":%lld",
                    (long long)(tg->newest > r->offset ? tg->newest - r->offset
                                                       : 0));
        } else {
            for (size_t i = 0;
                 rv == WEIR_OK && i < r->n_rows && rows < q->limit;
                 i++, rows++) {
                rv = weir_buf_append(&b, rows ? ",{" : "{", rows ? 2 : 1);
                if (rv == WEIR_OK)
                    rv = row_json(&b, r->rows[i], true);
                if (rv == WEIR_OK)
                    rv = weir_buf_printf(
                        &b, ",\"partition\":%u}", tg->partition);
            }
        }
        weir__cluster__store_query_reply__free_unpacked(r, NULL);
        if (!many)
            break; /* the key's partition answered */
    }
    if (rv == WEIR_OK && many)
        rv = weir_buf_append(&b, "]", 1);
    if (rv == WEIR_OK && status == 200)
        rv = weir_buf_printf(&b, ",\"stale\":%s", stale ? "true" : "false");
    if (rv == WEIR_OK)
        rv = weir_buf_append(&b, "}\n", 2);
    if (rv == WEIR_OK)
        reply_json(q->req, status, &b);
    else
        weir_http_reply(q->req, 500, "text/plain", "out of memory\n", 14);
    weir_buf_fini(&b);
}

static void *
run(void *arg)
{
    fwd_thread *th = arg;
    weir_query_forwarder *f = th->f;
    for (;;) {
        pthread_mutex_lock(&f->mu);
        while (!f->head && !f->stopping)
            pthread_cond_wait(&f->cv, &f->mu);
        weir_query *q = f->head;
        if (q) {
            f->head = q->next;
            if (!f->head)
                f->tail = NULL;
        }
        bool stop = f->stopping;
        pthread_mutex_unlock(&f->mu);
        if (!q && stop)
            break;
        if (stop)
            weir_query_reply_error(q->req, 503, "the coordinator is stopping");
        else
            answer(th, q);
        weir_query_free(q);
    }
    for (size_t i = 0; i < th->n_conns; i++)
        nng_close(th->conns[i].sock);
    return NULL;
}

int
weir_query_forwarder_start(
    weir_query_forwarder **out, int threads, int timeout_ms)
{
    weir_query_forwarder *f = calloc(1, sizeof(*f));
    if (!f || !(f->threads = calloc((size_t)threads, sizeof(*f->threads)))) {
        free(f);
        return WEIR_ENOMEM;
    }
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->timeout_ms = timeout_ms;
    for (int i = 0; i < threads; i++) {
        f->threads[i].f = f;
        if (pthread_create(&f->threads[i].tid, NULL, run, &f->threads[i]))
            break;
        f->n_threads++;
    }
    *out = f;
    return f->n_threads ? WEIR_OK : WEIR_ENOMEM;
}

void
weir_query_forwarder_submit(weir_query_forwarder *f, weir_query *q)
{
    q->next = NULL;
    pthread_mutex_lock(&f->mu);
    if (f->tail)
        f->tail->next = q;
    else
        f->head = q;
    f->tail = q;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

void
weir_query_forwarder_stop(weir_query_forwarder *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->stopping = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    for (int i = 0; i < f->n_threads; i++)
        pthread_join(f->threads[i].tid, NULL);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f->threads);
    free(f);
}
