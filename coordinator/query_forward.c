/*
 * Answers pull queries without a thread of ours waiting: each query is a
 * small state machine driven by one NNG aio. It asks each target
 * partition's workers in turn (the owner, then its standbys) through an
 * NNG request context on one req socket per worker address, kept open and
 * shared by the queries in flight (so several requests to a worker are
 * outstanding at once), and replies to the HTTP request with JSON from the
 * callback of the last answer.
 *
 * Threads: submit runs on the HTTP thread that took the request; the
 * callbacks on NNG's. A query's state (fwd) is touched by one of them at a
 * time (the aio serialises them); the peers and the count of queries in
 * flight are shared, under f->mu.
 */
#include <pthread.h>
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

#define MAX_PEERS 64

/* A worker's req socket (dialed without blocking: NNG reconnects it). */
typedef struct peer {
    char address[256];
    nng_socket sock;
    bool open;
    int users;         /* queries with a context open on it */
    uint64_t last_use; /* f->uses when last taken: the oldest goes first */
} peer;

struct weir_query_forwarder {
    pthread_mutex_t mu;  /* guards what follows */
    pthread_cond_t idle; /* n_inflight dropped to 0 */
    peer peers[MAX_PEERS];
    uint64_t uses;
    int n_inflight;
    bool stopping;
    int timeout_ms; /* immutable */
};

/* One query in flight. */
typedef struct fwd {
    weir_query_forwarder *f;
    weir_query *q;
    nng_aio *aio;
    nng_ctx ctx;
    peer *peer; /* taken while ctx is open */
    bool receiving;
    size_t t, i; /* the target, and which of its workers is asked */
    bool moved;  /* a worker of target t said it has no task for it */
    /* the answer so far */
    weir_buf b;
    int rv;
    bool stale, many;
    size_t rows;
} fwd;

static void ask(fwd *fw);

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

/* The socket to address, taken (peer_put gives it back): WEIR_ECLOSED
 * when stopping, WEIR_EIO when it cannot be opened or all are taken. */
static int
peer_take(weir_query_forwarder *f, const char *address, peer **out)
{
    int rv = WEIR_OK;
    peer *p = NULL, *unused = NULL, *idle = NULL;
    pthread_mutex_lock(&f->mu);
    if (f->stopping) {
        rv = WEIR_ECLOSED;
        goto out;
    }
    for (size_t i = 0; i < MAX_PEERS && !p; i++) {
        peer *c = &f->peers[i];
        if (c->open && strcmp(c->address, address) == 0)
            p = c;
        else if (!c->open)
            unused = unused ? unused : c;
        else if (!c->users && (!idle || c->last_use < idle->last_use))
            idle = c; /* the least recently used idle one */
    }
    peer *spare = unused ? unused : idle;
    if (!p && spare) {
        if (spare->open) /* no context on it: no callback of ours waits */
            nng_close(spare->sock);
        spare->open = false;
        if (nng_req0_open(&spare->sock) == 0) {
            if (nng_dial(spare->sock, address, NULL, NNG_FLAG_NONBLOCK) == 0) {
                snprintf(spare->address, sizeof(spare->address), "%s", address);
                spare->open = true;
                spare->users = 0;
                p = spare;
            } else {
                nng_close(spare->sock);
            }
        }
    }
    if (!p) {
        rv = WEIR_EIO;
        goto out;
    }
    p->users++;
    p->last_use = ++f->uses;
    *out = p;
out:
    pthread_mutex_unlock(&f->mu);
    return rv;
}

static void
peer_put(weir_query_forwarder *f, peer *p)
{
    pthread_mutex_lock(&f->mu);
    p->users--;
    pthread_mutex_unlock(&f->mu);
}

/* Closes the query's context and gives its socket back. */
static void
ctx_done(fwd *fw)
{
    if (!fw->peer)
        return;
    nng_ctx_close(fw->ctx);
    peer_put(fw->f, fw->peer);
    fw->peer = NULL;
}

/* Replies (status 200: the rows or the value; else the error in fw->b)
 * and frees the query. */
static void
finish(fwd *fw, uint16_t status)
{
    weir_query_forwarder *f = fw->f;
    int rv = fw->rv;
    if (rv == WEIR_OK && status == 200 && fw->many)
        rv = weir_buf_append(&fw->b, "]", 1);
    if (rv == WEIR_OK && status == 200)
        rv = weir_buf_printf(
            &fw->b, ",\"stale\":%s", fw->stale ? "true" : "false");
    if (rv == WEIR_OK)
        rv = weir_buf_append(&fw->b, "}\n", 2);
    if (rv == WEIR_OK)
        reply_json(fw->q->req, status, &fw->b);
    else
        weir_http_reply(fw->q->req, 500, "text/plain", "out of memory\n", 14);
    ctx_done(fw);
    weir_buf_fini(&fw->b);
    weir_query_free(fw->q);
    nng_aio_reap(fw->aio); /* may be its own callback */
    free(fw);
    pthread_mutex_lock(&f->mu);
    if (--f->n_inflight == 0)
        pthread_cond_broadcast(&f->idle);
    pthread_mutex_unlock(&f->mu);
}

/* Replaces the answer by {"error": msg and finishes with status. */
static void
fail(fwd *fw, uint16_t status, const char *msg)
{
    weir_buf_clear(&fw->b);
    fw->rv = weir_buf_append(&fw->b, "{\"error\":", 9);
    if (fw->rv == WEIR_OK)
        fw->rv = weir_json_str_append(&fw->b, msg, strlen(msg));
    finish(fw, status);
}

/* The worker being asked gave no answer: the next one is. */
static void
ask_next(fwd *fw, const char *why)
{
    const weir_query_target *tg = &fw->q->targets[fw->t];
    weir_log_warn("query", "no answer worker=%s address=%s err=\"%s\"",
        tg->worker[fw->i], tg->address[fw->i], why);
    ctx_done(fw);
    fw->i++;
    ask(fw);
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

/* One key's answer (its value, or its windows) into b. */
static int
key_json(weir_buf *b, const weir_query_target *tg, size_t who,
    const Weir__Cluster__StoreQueryReply *r)
{
    const Weir__Cluster__StoreRow *row0 = r->rows[0];
    int rv = weir_buf_printf(b, "\"key\":%s,", row0->key_json);
    if (rv == WEIR_OK && row0->windowed) {
        rv = weir_buf_append(b, "\"windows\":[", 11);
        for (size_t i = 0; rv == WEIR_OK && i < r->n_rows; i++) {
            rv = weir_buf_append(b, i ? ",{" : "{", i ? 2 : 1);
            if (rv == WEIR_OK)
                rv = row_json(b, r->rows[i], false);
            if (rv == WEIR_OK)
                rv = weir_buf_append(b, "}", 1);
        }
        if (rv == WEIR_OK)
            rv = weir_buf_append(b, "]", 1);
    } else if (rv == WEIR_OK) {
        rv = weir_buf_printf(b, "\"value\":%s", row0->value_json);
    }
    if (rv == WEIR_OK)
        rv = weir_buf_printf(b, ",\"partition\":%u,\"owner\":", tg->partition);
    if (rv == WEIR_OK)
        rv = weir_json_str_append(b, tg->worker[who], strlen(tg->worker[who]));
    if (rv == WEIR_OK)
        rv = weir_buf_printf(b, ",\"offset\":%lld", (long long)r->offset);
    /* A standby's answer: how far behind the newest checkpoint the
     * workers reported it is (in changelog records). */
    if (rv == WEIR_OK && (r->stale || who > 0) && tg->newest >= 0)
        rv = weir_buf_printf(b, ",\"lag\":%lld",
            (long long)(tg->newest > r->offset ? tg->newest - r->offset : 0));
    return rv;
}

/* A worker's answer for target fw->t: into the answer, then on to the
 * next target or the reply. Takes r. */
static void
got_reply(fwd *fw, Weir__Cluster__StoreQueryReply *r)
{
    weir_query *q = fw->q;
    const weir_query_target *tg = &q->targets[fw->t];
    size_t who = fw->i;
    if (r->status == 404 && r->error && strstr(r->error, "no task")) {
        /* The partition moved since it was routed: ask on. */
        weir__cluster__store_query_reply__free_unpacked(r, NULL);
        fw->moved = true;
        fw->i++;
        ask(fw);
        return;
    }
    bool last = fw->t + 1 >= q->n_targets;
    if (r->status == 404 && !q->scan && !last) {
        /* A key looked for on every partition: not on this one. */
        weir__cluster__store_query_reply__free_unpacked(r, NULL);
        fw->t++;
        fw->i = 0;
        fw->moved = false;
        ask(fw);
        return;
    }
    if (r->status != 200 || (!fw->many && r->n_rows == 0)) {
        uint16_t status = r->status != 200 ? (uint16_t)r->status : 500;
        char msg[512];
        snprintf(msg, sizeof(msg), "%s",
            r->error && r->error[0] ? r->error : "an empty answer");
        weir__cluster__store_query_reply__free_unpacked(r, NULL);
        fail(fw, status, msg);
        return;
    }
    fw->stale = fw->stale || r->stale || who > 0;
    if (!fw->many) {
        if (fw->rv == WEIR_OK)
            fw->rv = key_json(&fw->b, tg, who, r);
        weir__cluster__store_query_reply__free_unpacked(r, NULL);
        finish(fw, 200); /* the key's partition answered */
        return;
    }
    for (size_t i = 0;
         fw->rv == WEIR_OK && i < r->n_rows && fw->rows < q->limit;
         i++, fw->rows++) {
        fw->rv =
            weir_buf_append(&fw->b, fw->rows ? ",{" : "{", fw->rows ? 2 : 1);
        if (fw->rv == WEIR_OK)
            fw->rv = row_json(&fw->b, r->rows[i], true);
        if (fw->rv == WEIR_OK)
            fw->rv =
                weir_buf_printf(&fw->b, ",\"partition\":%u}", tg->partition);
    }
    weir__cluster__store_query_reply__free_unpacked(r, NULL);
    if (last || fw->rv != WEIR_OK) {
        finish(fw, 200);
        return;
    }
    fw->t++;
    fw->i = 0;
    fw->moved = false;
    ask(fw);
}

/* The request for target fw->t as an NNG message, or NULL. */
static nng_msg *
request(const weir_query *q, const weir_query_target *tg)
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
    uint8_t *buf = NULL;
    size_t len = 0;
    nng_msg *m = NULL;
    if (weir_wire_encode(WEIR__CLUSTER__MSG_TYPE__MSG_STORE_QUERY, 0, NULL,
            &sq.base, &buf, &len) == WEIR_OK &&
        nng_msg_alloc(&m, 0) == 0 && nng_msg_append(m, buf, len) != 0) {
        nng_msg_free(m);
        m = NULL;
    }
    free(buf);
    return m;
}

/* Asks target fw->t's worker fw->i, or, when none is left, fails. */
static void
ask(fwd *fw)
{
    const weir_query_target *tg = &fw->q->targets[fw->t];
    if (fw->i >= tg->n) {
        char msg[200];
        snprintf(msg, sizeof(msg),
            fw->moved ? "partition %u is moving between workers: retry"
                      : "no worker answered for partition %u",
            tg->partition);
        fail(fw, 503, msg);
        return;
    }
    int rv = peer_take(fw->f, tg->address[fw->i], &fw->peer);
    if (rv == WEIR_ECLOSED) {
        fail(fw, 503, "the coordinator is stopping");
        return;
    }
    if (rv != WEIR_OK) {
        fw->peer = NULL;
        ask_next(fw, "cannot dial");
        return;
    }
    nng_msg *m = request(fw->q, tg);
    if (!m || nng_ctx_open(&fw->ctx, fw->peer->sock) != 0) {
        nng_msg_free(m);
        peer_put(fw->f, fw->peer);
        fw->peer = NULL;
        ask_next(fw, m ? "cannot open a context" : "out of memory");
        return;
    }
    fw->receiving = false;
    nng_aio_set_timeout(fw->aio, fw->f->timeout_ms);
    nng_aio_set_msg(fw->aio, m);
    nng_ctx_send(fw->ctx, fw->aio);
}

/* The aio's callback: the request sent, or the answer received. */
static void
on_io(void *arg)
{
    fwd *fw = arg;
    int nrv = nng_aio_result(fw->aio);
    if (nrv != 0) {
        if (!fw->receiving) /* the message is still ours */
            nng_msg_free(nng_aio_get_msg(fw->aio));
        ask_next(fw, nng_strerror(nrv));
        return;
    }
    if (!fw->receiving) {
        fw->receiving = true;
        nng_ctx_recv(fw->ctx, fw->aio);
        return;
    }
    nng_msg *m = nng_aio_get_msg(fw->aio);
    weir_wire_msg wm;
    char err[200];
    int rv = weir_wire_decode(
        nng_msg_body(m), nng_msg_len(m), &wm, err, sizeof(err));
    nng_msg_free(m);
    if (rv != WEIR_OK ||
        wm.type != WEIR__CLUSTER__MSG_TYPE__MSG_STORE_QUERY_REPLY) {
        if (rv == WEIR_OK)
            snprintf(err, sizeof(err), "not a StoreQueryReply");
        weir_wire_msg_fini(&wm);
        ask_next(fw, err);
        return;
    }
    Weir__Cluster__StoreQueryReply *r =
        (Weir__Cluster__StoreQueryReply *)wm.body;
    wm.body = NULL;
    weir_wire_msg_fini(&wm);
    ctx_done(fw);
    got_reply(fw, r);
}

int
weir_query_forwarder_new(weir_query_forwarder **out, int timeout_ms)
{
    weir_query_forwarder *f = calloc(1, sizeof(*f));
    if (!f)
        return WEIR_ENOMEM;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->idle, NULL);
    f->timeout_ms = timeout_ms;
    *out = f;
    return WEIR_OK;
}

void
weir_query_forwarder_submit(weir_query_forwarder *f, weir_query *q)
{
    fwd *fw = calloc(1, sizeof(*fw));
    if (!fw || nng_aio_alloc(&fw->aio, on_io, fw) != 0) {
        free(fw);
        weir_query_reply_error(q->req, 500, "out of memory");
        weir_query_free(q);
        return;
    }
    pthread_mutex_lock(&f->mu);
    bool stopping = f->stopping;
    f->n_inflight += !stopping;
    pthread_mutex_unlock(&f->mu);
    if (stopping) {
        nng_aio_free(fw->aio);
        free(fw);
        weir_query_reply_error(q->req, 503, "the coordinator is stopping");
        weir_query_free(q);
        return;
    }
    fw->f = f;
    fw->q = q;
    fw->many = q->scan;
    weir_buf_init(&fw->b);
    fw->rv = weir_buf_append(&fw->b, "{", 1);
    if (fw->rv == WEIR_OK && fw->many)
        fw->rv = weir_buf_append(&fw->b, "\"rows\":[", 8);
    ask(fw);
}

void
weir_query_forwarder_stop(weir_query_forwarder *f)
{
    if (!f)
        return;
    nng_socket socks[MAX_PEERS];
    size_t n = 0;
    pthread_mutex_lock(&f->mu);
    f->stopping = true;
    for (size_t i = 0; i < MAX_PEERS; i++) {
        if (f->peers[i].open) {
            socks[n++] = f->peers[i].sock;
            f->peers[i].open = false;
        }
    }
    pthread_mutex_unlock(&f->mu);
    /* Outside the lock: closing completes the queries' aios (ECLOSED),
     * whose callbacks take it and reply 503. */
    for (size_t i = 0; i < n; i++)
        nng_close(socks[i]);
    pthread_mutex_lock(&f->mu);
    while (f->n_inflight > 0)
        pthread_cond_wait(&f->idle, &f->mu);
    pthread_mutex_unlock(&f->mu);
}

void
weir_query_forwarder_free(weir_query_forwarder *f)
{
    if (!f)
        return;
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->idle);
    free(f);
}
