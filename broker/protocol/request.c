/* Request header decoding and validation, shared by the I/O loop and the
 * fuzz target. */
#include <stdio.h>

#include "broker/protocol/request.h"
#include "common/err.h"

int
weir__request_decode(const uint8_t *frame, size_t len, weir_kreq *req,
    const weir_kapi **apip, char *why, size_t why_size)
{
    weir_kr r;
    weir_kr_init(&r, frame, len);
    *req = (weir_kreq){0};
    *apip = NULL;
    req->api_key = weir_kr_i16(&r);
    req->version = weir_kr_i16(&r);
    req->corr_id = weir_kr_i32(&r);
    req->client_id = weir_kr_str(&r, false, true);
    if (!weir_kr_ok(&r)) {
        (void)snprintf(why, why_size, "malformed request header");
        return WEIR_EPROTO;
    }
    const weir_kapi *api = weir_kapi_find(req->api_key);
    if (!api) {
        (void)snprintf(why, why_size, "unsupported API key %d (v%d)",
            (int)req->api_key, (int)req->version);
        return WEIR_EUNSUPPORTED;
    }
    *apip = api;
    /* An ApiVersions request of a version we do not know is answered (in
     * v0) with our versions, so its body is not decoded. */
    bool av_unsupported = req->api_key == WEIR_API_API_VERSIONS &&
                          req->version > api->max_version;
    if (!av_unsupported &&
        (req->version < api->min_version || req->version > api->max_version)) {
        (void)snprintf(why, why_size,
            "unsupported %s version %d (supported %d-%d)", api->name,
            (int)req->version, (int)api->min_version, (int)api->max_version);
        return WEIR_EUNSUPPORTED;
    }
    req->flex = !av_unsupported && req->version >= api->flex_version;
    weir_kr_tags(&r, req->flex);
    if (!weir_kr_ok(&r) ||
        (!av_unsupported && !weir_kschema_check(api, req->version, r.pos,
                                weir_kr_remaining(&r)))) {
        (void)snprintf(why, why_size, "malformed %s v%d request", api->name,
            (int)req->version);
        return WEIR_EPROTO;
    }
    req->body = r;
    return WEIR_OK;
}
