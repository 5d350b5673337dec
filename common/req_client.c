/* The coordinator's clients' REQ socket: see req_client.h. */
#include "common/req_client.h"

#include <stdio.h>
#include <string.h>

#include <nng/protocol/reqrep0/req.h>

#include "common/err.h"
#include "common/wire.h"

static int
fail(weir_req_client *c, int nng_rv, char *err, size_t errlen, const char *what,
    const char *url)
{
    if (url != NULL)
        snprintf(err, errlen, "%s %s: %s", what, url, nng_strerror(nng_rv));
    else
        snprintf(err, errlen, "%s: %s", what, nng_strerror(nng_rv));
    weir_req_client_close(c);
    return weir_wire_nng_err(nng_rv);
}

static int
tls_setup(weir_req_client *c, nng_dialer d, const char *ca)
{
    int rv = nng_tls_config_alloc(&c->tls, NNG_TLS_MODE_CLIENT);
    if (rv != 0)
        return rv;
    if (ca != NULL && ca[0] != '\0')
        rv = nng_tls_config_ca_file(c->tls, ca);
    else
        rv = nng_tls_config_auth_mode(c->tls, NNG_TLS_AUTH_MODE_NONE);
    return rv != 0 ? rv : nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, c->tls);
}

/*
 * Connects to the URL's TCP address and hangs up, within timeout_ms: a
 * refused or unreachable address fails now. NNG's own blocking dial would
 * also wait for the peer's protocol handshake, with a fixed 10 s timeout,
 * whatever timeout the caller asked for.
 */
static int
probe(const char *url, int timeout_ms)
{
    char tcp[512];
    snprintf(tcp, sizeof(tcp), "%s", strncmp(url, "tls+", 4) ? url : url + 4);
    nng_stream_dialer *sd = NULL;
    nng_aio *aio = NULL;
    int rv = nng_stream_dialer_alloc(&sd, tcp);
    if (rv == 0)
        rv = nng_aio_alloc(&aio, NULL, NULL);
    if (rv == 0) {
        nng_aio_set_timeout(aio, timeout_ms);
        nng_stream_dialer_dial(sd, aio);
        nng_aio_wait(aio);
        if ((rv = nng_aio_result(aio)) == 0)
            nng_stream_free(nng_aio_get_output(aio, 0));
    }
    nng_aio_free(aio);
    nng_stream_dialer_free(sd);
    return rv;
}

int
weir_req_client_open(
    weir_req_client *c, const weir_req_client_opts *o, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    int rv = nng_req0_open(&c->sock);
    if (rv != 0)
        return fail(c, rv, err, errlen, "socket", NULL);
    c->open = true;
    weir_req_client_set_timeout(c, o->timeout_ms);
    nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    if (o->reconnect_min_ms > 0)
        nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, o->reconnect_min_ms);
    if (o->reconnect_max_ms > 0)
        nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, o->reconnect_max_ms);
    nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, WEIR_WIRE_MAX_BYTES);
    nng_dialer d;
    if ((rv = nng_dialer_create(&d, c->sock, o->url)) != 0)
        return fail(c, rv, err, errlen, "coordinator URL", o->url);
    if (strncmp(o->url, "tls+", 4) == 0 && (rv = tls_setup(c, d, o->tls_ca)))
        return fail(c, rv, err, errlen, "tls", NULL);
    if ((o->dial_now && (rv = probe(o->url, o->timeout_ms)) != 0) ||
        (rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0)
        return fail(
            c, rv, err, errlen, "cannot reach the coordinator at", o->url);
    return WEIR_OK;
}

void
weir_req_client_set_timeout(weir_req_client *c, int timeout_ms)
{
    nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO, timeout_ms);
    nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, timeout_ms);
}

void
weir_req_client_close(weir_req_client *c)
{
    if (c->open)
        nng_close(c->sock);
    if (c->tls != NULL)
        nng_tls_config_free(c->tls);
    memset(c, 0, sizeof(*c));
}
