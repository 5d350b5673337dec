/*
 * The broker's one I/O loop: a poll() over the listener, the client
 * connections, the signal fd and the admin queue. Each connection has a
 * read buffer of request frames and a write buffer of responses; requests
 * of one connection are handled one at a time, in order (as Kafka does), so
 * a parked request (Fetch long-poll, JoinGroup, SyncGroup, an injected
 * delay) holds back the ones behind it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "broker/handlers/handler.h"
#include "broker/state/mem.h"
#include "broker/server/server.h"
#include "broker/server/admin.h"
#include "common/array.h"
#include "common/clock.h"
#include "common/conf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/signals.h"

#define MAX_FRAME (100u << 20)
#define WBUF_HIGH (16u << 20)

typedef struct weir_conn {
    int fd;
    char peer[64];
    uint8_t *rbuf;
    size_t rpos, rlen, rcap;
    weir_kw *outq; /* responses waiting to be sent, oldest at out_head */
    size_t out_head, n_out, cap_out;
    size_t out_off;     /* bytes of outq[out_head] already sent */
    size_t out_pending; /* bytes queued and not sent */
    bool parked;
    uint64_t park_deadline_ms;
    char *park_member;
    uint64_t hold_until_ms; /* injected delay of the frame at rpos */
    int rcvlowat;           /* the socket's SO_RCVLOWAT */
    bool dead;
} weir_conn;

struct weir_server {
    int lfd;
    weir_conn **conns;
    size_t n_conns, cap_conns;
    struct pollfd *pfds;
    size_t cap_pfds;
};

static int
set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL, 0);
    return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -1 : 0;
}

int
weir__server_open(weir_broker *b)
{
    char host[256], err[512], port[8];
    int port_n;
    if (weir_conf_hostport("listen", b->opts.listen, host, sizeof(host),
            &port_n, err, sizeof(err)) != WEIR_OK) {
        weir_log_error("broker", "%s", err);
        return WEIR_EINVAL;
    }
    snprintf(port, sizeof(port), "%d", port_n);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) {
        weir_log_error("broker", "cannot resolve --listen %s", b->opts.listen);
        return WEIR_EINVAL;
    }
    weir_server *s = calloc(1, sizeof(*s));
    if (!s) {
        freeaddrinfo(ai);
        return WEIR_ENOMEM;
    }
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s->lfd < 0 ||
        setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(s->lfd, ai->ai_addr, ai->ai_addrlen) < 0 ||
        listen(s->lfd, 128) < 0 || set_nonblock(s->lfd) < 0) {
        weir_log_error("broker", "cannot listen on %s: %s", b->opts.listen,
            strerror(errno));
        freeaddrinfo(ai);
        if (s->lfd >= 0)
            close(s->lfd);
        free(s);
        return WEIR_EIO;
    }
    freeaddrinfo(ai);
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    getsockname(s->lfd, (struct sockaddr *)&sa, &sl);
    b->port = ntohs(sa.sin_port);
    const char *adv = b->opts.advertised_host && b->opts.advertised_host[0]
                          ? b->opts.advertised_host
                          : host;
    if (strcmp(adv, "0.0.0.0") == 0 || adv[0] == '\0')
        adv = "127.0.0.1";
    free(b->adv_host);
    b->adv_host = weir__strdup(adv);
    b->server = s;
    return b->adv_host ? WEIR_OK : WEIR_ENOMEM;
}

static void
conn_free(weir_conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->rbuf);
    for (size_t i = c->out_head; i < c->n_out; i++)
        weir_kw_fini(&c->outq[i]);
    free(c->outq);
    free(c->park_member);
    free(c);
}

void
weir__server_close(weir_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_conns; i++)
        conn_free(s->conns[i]);
    free(s->conns);
    free(s->pfds);
    if (s->lfd >= 0)
        close(s->lfd);
    free(s);
}

size_t
weir__server_conn_count(const weir_server *s)
{
    return s ? s->n_conns : 0;
}

void
weir__server_drop_all(weir_broker *b)
{
    weir_server *s = b->server;
    weir_log_info("broker", "dropping %zu client connections", s->n_conns);
    for (size_t i = 0; i < s->n_conns; i++)
        s->conns[i]->dead = true;
}

static void
accept_all(weir_broker *b)
{
    weir_server *s = b->server;
    for (;;) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);
        int fd = accept4(
            s->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                weir_log_warn("broker", "accept: %s", strerror(errno));
            return;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        weir_conn *c = calloc(1, sizeof(*c));
        if (!c || weir_array_reserve(&s->conns, &s->cap_conns, s->n_conns + 1,
                      sizeof(*s->conns)) != WEIR_OK) {
            free(c);
            close(fd);
            return;
        }
        c->fd = fd;
        c->rcvlowat = 1;
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
        (void)snprintf(
            c->peer, sizeof(c->peer), "%s:%d", ip, ntohs(sa.sin_port));
        s->conns[s->n_conns++] = c;
        b->metrics.connections_accepted++;
        weir_log_debug("broker", "connection from %s", c->peer);
    }
}

static size_t
iov_bytes(const struct iovec *iov, int n)
{
    size_t t = 0;
    for (int i = 0; i < n; i++)
        t += iov[i].iov_len;
    return t;
}

/*
 * Fills iov with the unsent part of response w (off bytes already sent) up
 * to the first file attachment. When that attachment comes first, returns
 * 0 with *file pointing to it and *skip its bytes already sent.
 */
static int
response_iov(const weir_kw *w, size_t off, struct iovec *iov, int max,
    const weir_kw_att **file, size_t *skip)
{
    int n = 0;
    size_t pos = 0; /* position in the logical stream */
    size_t bpos = 0;
    *file = NULL;
    for (size_t i = 0; i <= w->n_atts && n < max; i++) {
        const weir_kw_att *a = i < w->n_atts ? &w->atts[i] : NULL;
        size_t bend = a ? a->at : w->len;
        if (bend > bpos && pos + (bend - bpos) > off) {
            size_t sk = off > pos ? off - pos : 0;
            iov[n].iov_base = w->buf + bpos + sk;
            iov[n].iov_len = bend - bpos - sk;
            n++;
        }
        pos += bend - bpos;
        bpos = bend;
        if (a == NULL || n >= max)
            break;
        if (pos + a->len > off) {
            size_t sk = off > pos ? off - pos : 0;
            if (a->data == NULL) {
                if (n == 0) {
                    *file = a;
                    *skip = sk;
                }
                break;
            }
            iov[n].iov_base = a->data + sk;
            iov[n].iov_len = a->len - sk;
            n++;
        }
        pos += a->len;
    }
    return n;
}

/* Sends part of a file attachment; bytes sent or -1 with errno. sendfile
 * has no MSG_NOSIGNAL: a peer gone is EPIPE because weir-broker ignores
 * SIGPIPE (weir_signal_init). */
static ssize_t
send_file_part(int sock, const weir_kw_att *a, size_t skip)
{
    if (a == NULL) {
        errno = EINVAL; /* nothing left, yet the response is unsent */
        return -1;
    }
    off_t off = (off_t)(a->off + skip);
    ssize_t n = sendfile(sock, a->fd, &off, a->len - skip);
    if (n == 0) {
        errno = EIO; /* the file is shorter than the range: cannot be */
        return -1;
    }
    return n;
}

static void
flush_conn(weir_conn *c)
{
    while (c->out_head < c->n_out && !c->dead) {
        weir_kw *w = &c->outq[c->out_head];
        struct iovec iov[64];
        const weir_kw_att *file;
        size_t skip = 0;
        ssize_t sent;
        int n = response_iov(w, c->out_off, iov, 64, &file, &skip);
        if (n > 0) {
            struct msghdr msg = {0};
            msg.msg_iov = iov;
            msg.msg_iovlen = (size_t)n;
            /* More follows (a file part, or the next response): let the
             * kernel fill segments instead of sending a short one. */
            bool more = c->out_off + iov_bytes(iov, n) < weir_kw_total(w);
            sent = sendmsg(c->fd, &msg, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
        } else {
            sent = send_file_part(c->fd, file, skip);
        }
        if (sent < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            weir_log_debug(
                "broker", "send to %s: %s", c->peer, strerror(errno));
            c->dead = true;
            return;
        }
        c->out_off += (size_t)sent;
        c->out_pending -= (size_t)sent;
        if (c->out_off == weir_kw_total(w)) {
            weir_kw_fini(w);
            c->out_head++;
            c->out_off = 0;
        }
    }
    if (c->out_head == c->n_out)
        c->out_head = c->n_out = 0;
}

/* Queues response w (taking its buffers) and sends what the socket takes. */
static void
queue_response(weir_broker *b, weir_conn *c, weir_kw *w)
{
    b->metrics.bytes_out += weir_kw_total(w);
    if (c->out_head > 0 && c->n_out == c->cap_out) {
        memmove(c->outq, c->outq + c->out_head,
            (c->n_out - c->out_head) * sizeof(*c->outq));
        c->n_out -= c->out_head;
        c->out_head = 0;
    }
    if (weir_array_reserve(
            &c->outq, &c->cap_out, c->n_out + 1, sizeof(*c->outq)) != WEIR_OK) {
        c->dead = true;
        return;
    }
    c->out_pending += weir_kw_total(w);
    c->outq[c->n_out++] = *w;
    weir_kw_init(w);
    flush_conn(c);
}

/* Handles the frame at c->rpos (len bytes after the size). Returns true
 * when it is done with (answered or dropped), false when parked. */
/* Whether a request from client (its client.id) is one a fault with
 * this client.id prefix applies to. */
static bool
fault_matches(const char *prefix, weir_kstr client)
{
    size_t n = strlen(prefix);
    return n == 0 || (client.len >= 0 && (size_t)client.len >= n &&
                         memcmp(client.ptr, prefix, n) == 0);
}

static bool
handle_frame(
    weir_broker *b, weir_conn *c, uint8_t *frame, size_t len, bool retry)
{
    weir_kreq req;
    const weir_kapi *api;
    char why[160];
    int drv = weir__request_decode(frame, len, &req, &api, why, sizeof(why));
    if (drv != WEIR_OK) {
        weir_log_warn(
            "broker", "%s from %s: closing the connection", why, c->peer);
        if (drv == WEIR_EPROTO)
            b->metrics.malformed++;
        c->dead = true;
        return true;
    }
    bool is_av = req.api_key == WEIR_API_API_VERSIONS;
    uint64_t now = weir_clock_mono_ms();
    if (!retry) {
        int64_t delay = b->faults.delay_ms[req.api_key];
        if (delay > 0 && c->hold_until_ms == 0) {
            c->hold_until_ms = now + (uint64_t)delay;
            return false;
        }
        c->hold_until_ms = 0;
        b->metrics.requests[req.api_key]++;
        if (b->faults.fail_count[req.api_key] > 0 &&
            fault_matches(b->faults.fail_client[req.api_key], req.client_id)) {
            b->faults.fail_count[req.api_key]--;
            req.forced_err = b->faults.fail_code[req.api_key];
            weir_log_info("broker", "fault: failing %s with error %d",
                api->name, (int)req.forced_err);
        }
    }
    req.retry = retry;
    req.expired = retry && now >= c->park_deadline_ms;
    req.park_member = c->park_member;
    c->park_member = NULL;
    if (retry)
        req.deadline_ms = c->park_deadline_ms;

    weir_kw w;
    weir_kw_init(&w);
    size_t size_pos = weir_kw_placeholder(&w);
    weir_kw_i32(&w, req.corr_id);
    weir_kw_tags(&w, req.flex && !is_av);
    int rv = weir__handler(req.api_key)(b, &req, &w);
    if (rv == WEIR_EAGAIN) {
        c->parked = true;
        c->park_deadline_ms = req.deadline_ms;
        c->park_member = req.park_member;
        weir_kw_fini(&w);
        return false;
    }
    free(req.park_member);
    c->parked = false;
    if (rv == WEIR_OK && !w.err && b->faults.lose_count[req.api_key] > 0) {
        b->faults.lose_count[req.api_key]--;
        weir_log_info("broker",
            "fault: %s handled, answer lost, connection %s dropped", api->name,
            c->peer);
        c->dead = true;
    } else if (rv == WEIR_OK && !w.err) {
        weir_kw_patch_i32(&w, size_pos, (int32_t)(weir_kw_total(&w) - 4));
        queue_response(b, c, &w);
    } else if (rv != WEIR_ESTOPPED) {
        weir_log_warn("broker", "%s v%d from %s failed (%s): closing",
            api->name, (int)req.version, c->peer,
            w.err ? "out of memory" : weir_strerror(rv));
        if (rv == WEIR_EPROTO)
            b->metrics.malformed++;
        c->dead = true;
    }
    weir_kw_fini(&w);
    return true;
}

/* Handles the complete frames buffered on c, in order, until one parks. */
static void
process_conn(weir_broker *b, weir_conn *c, bool retry)
{
    while (!c->dead && c->rlen - c->rpos >= 4) {
        if (b->faults.paused_until_ms > weir_clock_mono_ms())
            return;
        if (c->out_pending > WBUF_HIGH)
            return;
        uint8_t *p = c->rbuf + c->rpos;
        uint32_t size = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                        (uint32_t)p[2] << 8 | p[3];
        if (size > MAX_FRAME || size < 8) {
            weir_log_warn("broker", "bad request size %u from %s: closing",
                size, c->peer);
            b->metrics.malformed++;
            c->dead = true;
            return;
        }
        if (c->rlen - c->rpos - 4 < size)
            break;
        if (c->hold_until_ms && c->hold_until_ms > weir_clock_mono_ms())
            return;
        if (!handle_frame(b, c, p + 4, size, retry && c->parked))
            return;
        retry = false;
        c->rpos += 4 + size;
        b->metrics.bytes_in += 4 + size;
    }
    if (c->rpos == c->rlen) {
        c->rpos = c->rlen = 0;
        if (c->rcap > (4u << 20)) {
            /* Idle after a large request: give the memory back. */
            free(c->rbuf);
            c->rbuf = NULL;
            c->rcap = 0;
        }
    }
}

/* Lets poll() wake this connection only once the rest of a partly read
 * request has arrived (or a good part of a large one), not for every
 * segment of it: a 1 MB Produce otherwise wakes the loop a dozen times. */
static void
set_rcvlowat(weir_conn *c)
{
    enum { LOWAT_MAX = 256 * 1024 }; /* well under the receive buffer */
    int want = 1;
    size_t have = c->rlen - c->rpos;
    if (have >= 4) {
        const uint8_t *p = c->rbuf + c->rpos;
        size_t size =
            (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        if (size <= MAX_FRAME && 4 + size > have)
            want = 4 + size - have > LOWAT_MAX ? LOWAT_MAX
                                               : (int)(4 + size - have);
    }
    if (want != c->rcvlowat &&
        setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof(want)) == 0)
        c->rcvlowat = want;
}

static void
read_conn(weir_broker *b, weir_conn *c)
{
    for (;;) {
        if (c->rpos > 0 && c->rpos == c->rlen)
            c->rpos = c->rlen = 0;
        /* Room for the rest of the frame being read (one allocation per
         * large request), or at least 64 KiB. */
        size_t want = 65536, have = c->rlen - c->rpos;
        if (have >= 4) {
            const uint8_t *p = c->rbuf + c->rpos;
            size_t size = (size_t)p[0] << 24 | (size_t)p[1] << 16 |
                          (size_t)p[2] << 8 | p[3];
            if (size <= MAX_FRAME && 4 + size > have + want)
                want = 4 + size - have;
        }
        if (c->rcap - c->rlen < want) {
            if (c->rpos > 0) {
                memmove(c->rbuf, c->rbuf + c->rpos, have);
                c->rlen = have;
                c->rpos = 0;
            }
            if (c->rcap - c->rlen < want) {
                size_t cap = c->rcap ? c->rcap * 2 : 131072;
                if (cap < c->rlen + want)
                    cap = c->rlen + want;
                if (cap > MAX_FRAME + 65536 + 4)
                    cap = MAX_FRAME + 65536 + 4;
                if (cap <= c->rlen)
                    return; /* full: wait until frames are handled */
                uint8_t *nb = realloc(c->rbuf, cap);
                if (!nb) {
                    c->dead = true;
                    return;
                }
                c->rbuf = nb;
                c->rcap = cap;
            }
        }
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
        if (n == 0) {
            weir_log_debug("broker", "%s closed the connection", c->peer);
            c->dead = true;
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                weir_log_debug(
                    "broker", "recv from %s: %s", c->peer, strerror(errno));
                c->dead = true;
            }
            break;
        }
        c->rlen += (size_t)n;
        if ((size_t)n < 65536)
            break;
    }
    if (!c->parked)
        process_conn(b, c, false);
    if (!c->dead)
        set_rcvlowat(c);
}

static void
reap_dead(weir_server *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n_conns; i++) {
        if (s->conns[i]->dead)
            conn_free(s->conns[i]);
        else
            s->conns[k++] = s->conns[i];
    }
    s->n_conns = k;
}

/* Retries parked and held requests whose time or data has come. */
static void
retry_parked(weir_broker *b)
{
    weir_server *s = b->server;
    for (int round = 0; round < 8; round++) {
        bool changed = b->changed;
        b->changed = false;
        uint64_t now = weir_clock_mono_ms();
        for (size_t i = 0; i < s->n_conns; i++) {
            weir_conn *c = s->conns[i];
            if (c->dead)
                continue;
            if (c->parked && (changed || now >= c->park_deadline_ms))
                process_conn(b, c, true);
            else if (!c->parked && (c->hold_until_ms ? now >= c->hold_until_ms
                                                     : c->rlen > c->rpos))
                process_conn(b, c, false);
        }
        if (!b->changed)
            break;
    }
}

static int
next_timeout(weir_broker *b, int max_ms)
{
    weir_server *s = b->server;
    if (b->changed)
        return 0; /* upkeep changed state: retry parked requests now */
    uint64_t now = weir_clock_mono_ms();
    uint64_t next = now + (uint64_t)max_ms;
    for (size_t i = 0; i < s->n_conns; i++) {
        weir_conn *c = s->conns[i];
        if (c->parked && c->park_deadline_ms < next)
            next = c->park_deadline_ms;
        if (c->hold_until_ms && c->hold_until_ms < next)
            next = c->hold_until_ms;
    }
    if (b->faults.paused_until_ms > now && b->faults.paused_until_ms < next)
        next = b->faults.paused_until_ms;
    return next <= now ? 0 : (int)(next - now);
}

int
weir__server_poll(weir_broker *b, int timeout_ms)
{
    weir_server *s = b->server;
    size_t n = 3 + s->n_conns;
    if (weir_array_reserve(&s->pfds, &s->cap_pfds, n, sizeof(*s->pfds)) !=
        WEIR_OK)
        return WEIR_ENOMEM;
    struct pollfd *p = s->pfds;
    p[0] = (struct pollfd){s->lfd, POLLIN, 0};
    p[1] = (struct pollfd){weir_signal_fd(), POLLIN, 0};
    p[2] = (struct pollfd){b->admin ? weir__admin_fd(b->admin) : -1, POLLIN, 0};
    size_t nc = s->n_conns;
    for (size_t i = 0; i < nc; i++) {
        weir_conn *c = s->conns[i];
        short ev = 0;
        if (c->out_pending <= WBUF_HIGH)
            ev |= POLLIN;
        if (c->out_pending > 0)
            ev |= POLLOUT;
        p[3 + i] = (struct pollfd){c->fd, ev, 0};
    }
    int rv = poll(p, 3 + nc, next_timeout(b, timeout_ms));
    if (rv < 0 && errno != EINTR) {
        weir_log_error("broker", "poll: %s", strerror(errno));
        return WEIR_EIO;
    }
    if (rv > 0) {
        for (size_t i = 0; i < nc; i++) {
            weir_conn *c = s->conns[i];
            short re = p[3 + i].revents;
            if (re & POLLOUT)
                flush_conn(c);
            if (re & (POLLIN | POLLHUP | POLLERR))
                read_conn(b, c);
        }
        if (p[2].revents & POLLIN)
            weir__admin_process(b);
        if (p[0].revents & POLLIN)
            accept_all(b);
    }
    if (b->faults.drop_now) {
        b->faults.drop_now = false;
        weir__server_drop_all(b);
    }
    retry_parked(b);
    reap_dead(s);
    return WEIR_OK;
}
