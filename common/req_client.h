/*
 * The client side of the cluster protocol: an NNG REQ socket dialled to
 * the coordinator, over TCP or TLS (tls+tcp:// URLs), that never resends a
 * request (a submit is not idempotent). Requests go through weir_wire_call
 * on .sock. One owner thread.
 */
#ifndef WEIR_REQ_CLIENT_H
#define WEIR_REQ_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

typedef struct weir_req_client_opts {
    const char *url;
    const char *tls_ca; /* PEM file to verify the server; NULL or "": none */
    int timeout_ms;     /* send and receive */
    int reconnect_min_ms, reconnect_max_ms; /* 0: NNG's */
    /* Fail now (within timeout_ms) if the coordinator's address cannot be
     * reached. Either way NNG dials in the background; a request waits for
     * the connection at most timeout_ms. */
    bool dial_now;
} weir_req_client_opts;

typedef struct weir_req_client {
    nng_socket sock;
    nng_tls_config *tls;
    bool open;
} weir_req_client;

/*
 * Opens the socket and its dialer. On failure err says what failed (the
 * URL, TLS, reaching the coordinator) and the socket is closed. Returns
 * WEIR_OK or the error of weir_wire_nng_err.
 */
int weir_req_client_open(weir_req_client *c, const weir_req_client_opts *o,
    char *err, size_t errlen);

/* Send and receive timeout from now on. */
void weir_req_client_set_timeout(weir_req_client *c, int timeout_ms);

/* Accepts a client that was never opened (zeroed) or failed to open. */
void weir_req_client_close(weir_req_client *c);

#endif
