/*
 * The coordinator's control socket and event loop. NNG REP contexts
 * receive requests on NNG's threads and only enqueue them; the loop thread
 * handles every request, ticks the cluster, saves the durable state when it
 * changed, and only then sends the replies of that batch.
 */
#include "server_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <nng/protocol/reqrep0/rep.h>

#include "common/clock.h"
#include "common/conf.h"
#include "common/data_dir.h"
#include "common/err.h"
#include "common/file.h"
#include "common/log.h"

#define LOGC "coordinator"
#define TICK_MS 20

static void
ctx_recv(weir__rctx *c)
{
    c->sending = false;
    nng_ctx_recv(c->ctx, c->aio);
}

/* NNG thread: a receive or a send finished. */
static void
ctx_cb(void *arg)
{
    weir__rctx *c = arg;
    weir_coord *co = c->co;
    int rv = nng_aio_result(c->aio);
    if (c->sending) {
        if (rv != 0)
            nng_msg_free(nng_aio_get_msg(c->aio));
        if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
            return;
        ctx_recv(c);
        return;
    }
    if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
        return;
    if (rv != 0) {
        ctx_recv(c);
        return;
    }
    c->req = nng_aio_get_msg(c->aio);
    weir__work *w = calloc(1, sizeof(*w));
    if (w)
        w->rctx = c;
    if (!w || !weir__coord_enqueue(co, w)) {
        free(w);
        nng_msg_free(c->req);
        c->req = NULL;
        if (w)
            return; /* closing: leave the context idle */
        ctx_recv(c);
    }
}

bool
weir__coord_enqueue(weir_coord *co, weir__work *w)
{
    pthread_mutex_lock(&co->mu);
    bool ok = !co->closing;
    if (ok) {
        w->next = NULL;
        if (co->tail)
            co->tail->next = w;
        else
            co->head = w;
        co->tail = w;
        pthread_cond_signal(&co->cv);
    }
    pthread_mutex_unlock(&co->mu);
    return ok;
}

/* The queued control requests; *http when HTTP requests wait too. */
static weir__work *
take_all(weir_coord *co, bool *stop, bool *http)
{
    pthread_mutex_lock(&co->mu);
    if (!co->head && !co->http_pending && !co->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&co->cv, &co->mu, &ts);
    }
    weir__work *w = co->head;
    co->head = co->tail = NULL;
    *http = co->http_pending;
    co->http_pending = false;
    *stop = co->stop && !w;
    pthread_mutex_unlock(&co->mu);
    return w;
}

/* Saves the state if it changed; false when it could not be saved (logged
 * when that starts and when it ends, not on every try). */
static bool
save_if_dirty(weir_coord *co)
{
    if (!weir_cluster_dirty(co->cl))
        return true;
    if (weir_cluster_save(co->cl, co->state_path) == WEIR_OK) {
        pthread_rwlock_wrlock(&co->cl_lock);
        weir_cluster_clean(co->cl);
        pthread_rwlock_unlock(&co->cl_lock);
        if (co->save_error[0])
            weir_log_info(LOGC, "state saved again path=%s", co->state_path);
        co->save_error[0] = '\0';
        return true;
    }
    char why[sizeof(co->save_error)];
    snprintf(why, sizeof(why),
        "cannot save the coordinator state %s: %s (the request's effect is "
        "not durable: it applies once the state can be saved)",
        co->state_path, strerror(errno));
    if (strcmp(why, co->save_error) != 0)
        weir_log_error(LOGC, "%s (requests fail until it can)", why);
    snprintf(co->save_error, sizeof(co->save_error), "%s", why);
    return false;
}

/* The reply of a request whose effect is not durable becomes an error. */
static void
fail_reply(weir_coord *co, weir__rctx *c)
{
    uint8_t *out = NULL;
    size_t outlen = 0;
    nng_msg *m = NULL;
    if (weir__coord_reply_fail(nng_msg_body(c->reply), nng_msg_len(c->reply),
            co->save_error, &out, &outlen) == WEIR_OK &&
        nng_msg_alloc(&m, 0) == 0 && nng_msg_append(m, out, outlen) != 0) {
        nng_msg_free(m);
        m = NULL;
    }
    free(out);
    nng_msg_free(c->reply);
    c->reply = m;
}

/* The encoded reply out (taken) as c's message to send. */
static void
set_reply(weir__rctx *c, int rv, uint8_t *out, size_t outlen)
{
    c->reply = NULL;
    if (rv == WEIR_OK && nng_msg_alloc(&c->reply, 0) == 0 &&
        nng_msg_append(c->reply, out, outlen) != 0) {
        nng_msg_free(c->reply);
        c->reply = NULL;
    }
    free(out);
}

/* Handles a request; a submit goes on to the Kafka thread (deferred). */
static void
handle_ctl(weir_coord *co, weir__work *w)
{
    weir__rctx *c = w->rctx;
    uint8_t *out = NULL;
    size_t outlen = 0;
    weir__plan_job *pj = NULL;
    int rv = weir__coord_handle(
        co, nng_msg_body(c->req), nng_msg_len(c->req), &out, &outlen, &pj);
    nng_msg_free(c->req);
    c->req = NULL;
    if (pj) {
        pj->rctx = c;
        w->deferred = true;
        weir__kafka_thread_plan(co->kt, pj);
        return;
    }
    set_reply(c, rv, out, outlen);
}

/* A job the Kafka thread planned: submitted now, answered after the save. */
static void
finish_submit(weir_coord *co, weir__work *w)
{
    uint8_t *out = NULL;
    size_t outlen = 0;
    int rv = weir__coord_submit_finish(co, w->planned, &out, &outlen);
    w->planned = NULL;
    set_reply(w->rctx, rv, out, outlen);
}

static void *
loop_main(void *arg)
{
    weir_coord *co = arg;
    for (;;) {
        bool stop, http;
        weir__work *batch = take_all(co, &stop, &http);
        if (stop)
            break;
        /* Changes to the cluster: under the write lock (pull queries are
         * routed meanwhile on HTTP threads, under the read lock). */
        pthread_rwlock_wrlock(&co->cl_lock);
        for (weir__work *w = batch; w; w = w->next) {
            if (w->planned)
                finish_submit(co, w);
            else
                handle_ctl(co, w);
        }
        weir_cluster_tick(co->cl, weir_clock_mono_ms());
        pthread_rwlock_unlock(&co->cl_lock);
        bool durable = save_if_dirty(co);
        while (batch) {
            weir__work *w = batch;
            batch = w->next;
            weir__rctx *c = w->rctx;
            if (w->deferred) {
                free(w);
                continue;
            }
            if (!durable && c->reply)
                fail_reply(co, c);
            if (c->reply) {
                nng_aio_set_msg(c->aio, c->reply);
                c->reply = NULL;
                c->sending = true;
                nng_ctx_send(c->ctx, c->aio);
            } else {
                ctx_recv(c);
            }
            free(w);
        }
        if (http)
            weir__http_answer_all(co);
    }
    save_if_dirty(co);
    return NULL;
}

/* A PEM file's text, or NULL. */
static char *
read_text(const char *path)
{
    char *text;
    size_t len;
    return weir_file_read(path, 1 << 20, &text, &len) == WEIR_OK ? text : NULL;
}

static int
tls_setup(weir_coord *co, char *err, size_t errsize)
{
    char *cert = read_text(co->opts.tls_cert);
    char *key = read_text(co->opts.tls_key);
    int rv = WEIR_EIO;
    if (!cert || !key) {
        snprintf(err, errsize, "cannot read %s",
            !cert ? co->opts.tls_cert : co->opts.tls_key);
        goto out;
    }
    int nrv = nng_tls_config_alloc(&co->tls, NNG_TLS_MODE_SERVER);
    if (nrv == 0)
        nrv = nng_tls_config_own_cert(co->tls, cert, key, NULL);
    if (nrv == 0)
        nrv = nng_listener_set_ptr(co->listener, NNG_OPT_TLS_CONFIG, co->tls);
    if (nrv != 0) {
        snprintf(err, errsize, "tls: %s", nng_strerror(nrv));
        goto out;
    }
    rv = WEIR_OK;
out:
    free(cert);
    free(key);
    return rv;
}

static int
listen_start(weir_coord *co, char *err, size_t errsize)
{
    int nrv = nng_rep0_open(&co->sock);
    if (nrv != 0) {
        snprintf(err, errsize, "socket: %s", nng_strerror(nrv));
        return WEIR_EIO;
    }
    co->sock_open = true;
    /* a little over the wire limit: oversized messages get an error
     * reply; anything far larger drops the connection */
    nng_socket_set_size(
        co->sock, NNG_OPT_RECVMAXSZ, WEIR_WIRE_MAX_BYTES + 1024 * 1024);
    for (int i = 0; i < WEIR__N_CTX; i++) {
        weir__rctx *c = &co->ctxs[i];
        c->co = co;
        if ((nrv = nng_aio_alloc(&c->aio, ctx_cb, c)) != 0 ||
            (nrv = nng_ctx_open(&c->ctx, co->sock)) != 0) {
            snprintf(err, errsize, "context: %s", nng_strerror(nrv));
            return WEIR_EIO;
        }
    }
    if ((nrv = nng_listener_create(&co->listener, co->sock, co->opts.listen)) !=
        0) {
        snprintf(
            err, errsize, "listen %s: %s", co->opts.listen, nng_strerror(nrv));
        return WEIR_EIO;
    }
    if (strncmp(co->opts.listen, "tls+", 4) == 0) {
        int rv = tls_setup(co, err, errsize);
        if (rv != WEIR_OK)
            return rv;
    }
    if ((nrv = nng_listener_start(co->listener, 0)) != 0) {
        snprintf(
            err, errsize, "listen %s: %s", co->opts.listen, nng_strerror(nrv));
        return WEIR_EIO;
    }
    snprintf(co->listen_url, sizeof(co->listen_url), "%s", co->opts.listen);
    for (int i = 0; i < WEIR__N_CTX; i++)
        ctx_recv(&co->ctxs[i]);
    return WEIR_OK;
}

static int
copy_opts(weir_coord *co, const weir_coord_opts *o)
{
    co->opts = *o;
    const char **s[] = {&co->opts.listen, &co->opts.http, &co->opts.data_dir,
        &co->opts.bootstrap, &co->opts.token, &co->opts.tls_cert,
        &co->opts.tls_key};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        const char *v = *s[i] ? *s[i] : "";
        if (!(*s[i] = strdup(v)))
            return WEIR_ENOMEM;
    }
    return WEIR_OK;
}

static int
state_open(weir_coord *co, char *err, size_t errsize)
{
    int rv = weir_data_dir_lock(
        co->opts.data_dir, "coordinator", &co->lock_fd, err, errsize);
    if (rv != WEIR_OK)
        return rv;
    snprintf(co->state_path, sizeof(co->state_path), "%s/coordinator.state",
        co->opts.data_dir);
    weir_cluster_opts copts = {
        .heartbeat_interval_ms = co->opts.heartbeat_interval_ms,
        .session_timeout_ms = co->opts.session_timeout_ms,
        .join_window_ms = co->opts.join_window_ms,
        .stuck_task_ms = co->opts.stuck_task_ms,
        .bootstrap = co->opts.bootstrap};
    if (!(co->cl = weir_cluster_new(&copts)))
        return WEIR_ENOMEM;
    rv = weir_cluster_load(co->cl, co->state_path, weir_clock_mono_ms());
    if (rv == WEIR_ENOTFOUND)
        return WEIR_OK;
    if (rv != WEIR_OK) {
        snprintf(err, errsize, "state file %s: %s", co->state_path,
            weir_strerror(rv));
        return rv;
    }
    weir_log_info(LOGC, "state loaded path=%s generation=%llu", co->state_path,
        (unsigned long long)weir_cluster_generation(co->cl));
    return WEIR_OK;
}

int
weir_coord_start(
    weir_coord **cop, const weir_coord_opts *opts, char *err, size_t errsize)
{
    if (!opts->listen || !opts->listen[0] || !opts->data_dir ||
        !opts->data_dir[0] || !opts->bootstrap || !opts->bootstrap[0]) {
        snprintf(err, errsize,
            "--listen, --data-dir and --bootstrap are "
            "required");
        return WEIR_EINVAL;
    }
    const char *tcp = strstr(opts->listen, "tcp://");
    if ((tcp && weir_conf_hostport("listen", tcp + 6, NULL, 0, NULL, err,
                    errsize) != WEIR_OK) ||
        (opts->http && opts->http[0] &&
            weir_conf_hostport(
                "http", opts->http, NULL, 0, NULL, err, errsize) != WEIR_OK))
        return WEIR_EINVAL;
    if (strncmp(opts->listen, "tls+", 4) == 0 &&
        (!opts->tls_cert || !opts->tls_cert[0] || !opts->tls_key ||
            !opts->tls_key[0])) {
        snprintf(err, errsize,
            "a tls+tcp:// listener needs --tls-cert and "
            "--tls-key");
        return WEIR_EINVAL;
    }
    weir_coord *co = calloc(1, sizeof(*co));
    if (!co)
        return WEIR_ENOMEM;
    pthread_mutex_init(&co->mu, NULL);
    pthread_cond_init(&co->cv, NULL);
    pthread_rwlock_init(&co->cl_lock, NULL);
    co->lock_fd = -1;
    co->started_ms = weir_clock_mono_ms();
    int rv = copy_opts(co, opts);
    if (rv != WEIR_OK)
        goto fail;
    if ((rv = state_open(co, err, errsize)) != WEIR_OK)
        goto fail;
    weir_kafka_admin_opts ko = {.bootstrap = co->opts.bootstrap,
        .default_partitions = co->opts.default_partitions,
        .replication_factor = co->opts.replication_factor,
        .timeout_ms = co->opts.kafka_timeout_ms};
    if ((rv = weir_kafka_admin_new(&co->ka, &ko, err, errsize)) != WEIR_OK ||
        (rv = weir__kafka_thread_start(co, &co->kt)) != WEIR_OK)
        goto fail;
    if ((rv = listen_start(co, err, errsize)) != WEIR_OK)
        goto fail;
    if (co->opts.http[0] && (rv = weir__http_start(co, err, errsize)) != 0)
        goto fail;
    /* a restart must not count our own downtime against the workers */
    pthread_rwlock_wrlock(&co->cl_lock); /* queries may be routed already */
    weir_cluster_touch_all(co->cl, weir_clock_mono_ms());
    pthread_rwlock_unlock(&co->cl_lock);
    if (pthread_create(&co->thread, NULL, loop_main, co) != 0) {
        rv = WEIR_ENOMEM;
        goto fail;
    }
    co->thread_started = true;
    *cop = co;
    return WEIR_OK;
fail:
    weir_coord_stop(co);
    weir_coord_free(co);
    return rv;
}

void
weir_coord_stop(weir_coord *co)
{
    if (!co)
        return;
    pthread_mutex_lock(&co->mu);
    co->closing = true;
    co->stop = true;
    pthread_cond_signal(&co->cv);
    pthread_mutex_unlock(&co->mu);
    if (co->thread_started) {
        pthread_join(co->thread, NULL);
        co->thread_started = false;
    }
    /* After the loop: what the Kafka thread still hands back is refused. */
    weir__kafka_thread_stop(co->kt);
    co->kt = NULL;
    weir__http_stop(co);
    if (co->sock_open) {
        nng_close(co->sock);
        co->sock_open = false;
    }
    for (int i = 0; i < WEIR__N_CTX; i++) {
        if (co->ctxs[i].aio)
            nng_aio_stop(co->ctxs[i].aio);
        if (co->ctxs[i].req) {
            nng_msg_free(co->ctxs[i].req);
            co->ctxs[i].req = NULL;
        }
    }
}

void
weir_coord_free(weir_coord *co)
{
    if (!co)
        return;
    for (int i = 0; i < WEIR__N_CTX; i++)
        nng_aio_free(co->ctxs[i].aio);
    if (co->tls)
        nng_tls_config_free(co->tls);
    weir_kafka_admin_free(co->ka);
    weir_cluster_free(co->cl);
    const char *s[] = {co->opts.listen, co->opts.http, co->opts.data_dir,
        co->opts.bootstrap, co->opts.token, co->opts.tls_cert,
        co->opts.tls_key};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        free((char *)s[i]);
    if (co->lock_fd >= 0)
        close(co->lock_fd);
    pthread_mutex_destroy(&co->mu);
    pthread_cond_destroy(&co->cv);
    pthread_rwlock_destroy(&co->cl_lock);
    free(co);
}

const char *
weir_coord_listen_url(const weir_coord *co)
{
    return co->listen_url;
}

const char *
weir_coord_http_addr(const weir_coord *co)
{
    return co->http_addr;
}
