/*
 * An HTTP server (NNG's) whose requests are answered on the owner's
 * thread: NNG's threads only queue a request and call notify; the owner
 * takes the queue and answers each request, so the state it reads needs no
 * locks (a take function may answer some requests on NNG's thread
 * instead). Used by weir-broker's --admin and the coordinator's --http.
 */
#ifndef WEIR_HTTP_SERVER_H
#define WEIR_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

typedef struct weir_http_server weir_http_server;

typedef struct weir_http_req weir_http_req;
struct weir_http_req {
    weir_http_req *next;
    char *method; /* "GET", "POST", ... */
    char *uri;    /* as sent: path and query */
    char *path;   /* the uri without its query */
    /* The token the request carries: "Authorization: Bearer T",
     * "X-Weir-Token: T" or "?token=T" (for a browser); NULL if none. */
    char *token;
    nng_aio *aio; /* private */
};

/* Called on an NNG thread after a request was queued. */
typedef void (*weir_http_notify_fn)(void *ctx);

/* Called on an NNG thread with each request before it is queued: true
 * when it took r (then it answers r with weir_http_reply, from any
 * thread, exactly once); false to queue r for the owner. For requests the
 * owner's state is not needed for (the coordinator's pull queries). */
typedef bool (*weir_http_take_fn)(void *ctx, weir_http_req *r);

/*
 * Serves every path and method at addr (HOST:PORT); take may be NULL.
 * WEIR_EINVAL for a bad address, WEIR_EIO when it cannot listen, with err
 * saying why.
 */
int weir_http_server_open(weir_http_server **out, const char *addr,
    weir_http_notify_fn notify, weir_http_take_fn take, void *ctx, char *err,
    size_t errlen);

/* The HOST:PORT it listens at (the port chosen when addr said 0), in
 * buf (len bytes). WEIR_EIO when NNG cannot tell. */
int weir_http_server_addr(weir_http_server *s, char *buf, size_t len);

/* The queued requests, oldest first, linked through next; NULL if none. */
weir_http_req *weir_http_server_take(weir_http_server *s);

/* Answers r (body of len bytes; Cache-Control: no-store) and frees it. */
void weir_http_reply(weir_http_req *r, uint16_t status, const char *type,
    const void *body, size_t len);

/* Stops listening; queued requests and those arriving meanwhile get 503.
 * Accepts NULL. */
void weir_http_server_close(weir_http_server *s);

#endif
