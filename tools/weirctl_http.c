/* weirctl's HTTP GET (NNG's client), for commands served over HTTP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "weirctl.h"

int
weirctl_http_get(const char *url_text, const char *token, int timeout_ms,
    int *status, char **body, size_t *len)
{
    nng_url *url = NULL;
    nng_http_client *cli = NULL;
    nng_http_req *req = NULL;
    nng_http_res *res = NULL;
    nng_aio *aio = NULL;
    *body = NULL;
    *len = 0;
    int rv = nng_url_parse(&url, url_text);
    if (rv == 0)
        rv = nng_http_client_alloc(&cli, url);
    if (rv == 0)
        rv = nng_http_req_alloc(&req, url);
    if (rv == 0)
        rv = nng_http_res_alloc(&res);
    if (rv == 0)
        rv = nng_aio_alloc(&aio, NULL, NULL);
    if (rv == 0 && token && token[0]) {
        char auth[512];
        snprintf(auth, sizeof(auth), "Bearer %s", token);
        rv = nng_http_req_set_header(req, "Authorization", auth);
    }
    if (rv == 0) {
        nng_aio_set_timeout(aio, timeout_ms);
        nng_http_client_transact(cli, req, res, aio);
        nng_aio_wait(aio);
        rv = nng_aio_result(aio);
    }
    if (rv == 0) {
        void *data;
        size_t n;
        *status = nng_http_res_get_status(res);
        nng_http_res_get_data(res, &data, &n);
        if ((*body = malloc(n + 1)) != NULL) {
            memcpy(*body, data, n);
            (*body)[n] = '\0';
            *len = n;
        } else {
            rv = NNG_ENOMEM;
        }
    }
    if (aio)
        nng_aio_free(aio);
    if (res)
        nng_http_res_free(res);
    if (req)
        nng_http_req_free(req);
    if (cli)
        nng_http_client_free(cli);
    if (url)
        nng_url_free(url);
    if (rv != 0)
        fprintf(stderr, "weirctl: GET %s: %s\n", url_text, nng_strerror(rv));
    return rv;
}
