/* Handlers: ApiVersions, Metadata, CreateTopics, DeleteTopics,
 * FindCoordinator. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/handlers/handler.h"
#include "broker/state/topic.h"
#include "common/err.h"
#include "common/log.h"

#define NODE_ID 1

int
weir__h_api_versions(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    const weir_kapi *self = weir_kapi_find(WEIR_API_API_VERSIONS);
    /* An unsupported version is answered in v0 with the list, so the
     * client can pick one (KIP-511). */
    bool supported = req->version <= self->max_version;
    bool flex = supported && req->version >= self->flex_version;
    int16_t err = supported ? req->forced_err : KERR_UNSUPPORTED_VERSION;
    weir_kw_i16(w, err);
    size_t n;
    const weir_kapi *apis = weir_kapi_list(&n);
    weir_kw_array(w, flex, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        weir_kw_i16(w, apis[i].key);
        weir_kw_i16(w, apis[i].min_version);
        weir_kw_i16(w, apis[i].max_version);
        weir_kw_tags(w, flex);
    }
    if (supported && req->version >= 1)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    weir_kw_tags(w, flex);
    return WEIR_OK;
}

static void
write_topic_meta(
    weir_kw *w, int16_t v, const weir_topic *t, int16_t err, weir_kstr name)
{
    weir_kw_i16(w, err);
    if (t)
        weir_kw_str(w, false, t->name);
    else
        weir_kw_strn(w, false, name.ptr, name.len);
    if (v >= 1)
        weir_kw_bool(w, false); /* is_internal */
    int32_t n = t && err == KERR_NONE ? t->n_parts : 0;
    weir_kw_array(w, false, n);
    for (int32_t i = 0; i < n; i++) {
        weir_kw_i16(w, KERR_NONE);
        weir_kw_i32(w, i);
        weir_kw_i32(w, NODE_ID); /* leader */
        weir_kw_array(w, false, 1);
        weir_kw_i32(w, NODE_ID); /* replicas */
        weir_kw_array(w, false, 1);
        weir_kw_i32(w, NODE_ID); /* isr */
    }
}

int
weir__h_metadata(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int16_t v = req->version;
    int32_t n = weir_kr_array(r, false, true, 2);
    /* Requested names, then the flag that follows them. */
    weir_kr names = *r;
    for (int32_t i = 0; i < n; i++)
        (void)weir_kr_str(r, false, false);
    bool allow_auto = v >= 4 ? weir_kr_bool(r) : true;
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;

    if (v >= 3)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    weir_kw_array(w, false, 1);
    weir_kw_i32(w, NODE_ID);
    weir_kw_str(w, false, b->adv_host);
    weir_kw_i32(w, b->port);
    if (v >= 1)
        weir_kw_str(w, false, NULL); /* rack */
    if (v >= 2)
        weir_kw_str(w, false, "weir-broker");
    if (v >= 1)
        weir_kw_i32(w, NODE_ID);       /* controller */
    if (n < 0 || (v == 0 && n == 0)) { /* all topics */
        weir_kw_array(w, false, (int32_t)b->n_topics);
        for (size_t i = 0; i < b->n_topics; i++)
            write_topic_meta(
                w, v, b->topics[i], req->forced_err, (weir_kstr){NULL, -1});
        return WEIR_OK;
    }
    weir_kw_array(w, false, n);
    for (int32_t i = 0; i < n; i++) {
        weir_kstr name = weir_kr_str(&names, false, false);
        weir_topic *t = weir__topic_find(b, name.ptr, (size_t)name.len);
        int16_t err = req->forced_err;
        if (!t && err == KERR_NONE) {
            bool valid = weir__topic_name_valid(name.ptr, (size_t)name.len);
            err = valid ? KERR_UNKNOWN_TOPIC_OR_PARTITION
                        : KERR_INVALID_TOPIC_EXCEPTION;
            if (valid && allow_auto && b->opts.auto_create_topics) {
                char *cname = weir_kstr_dup(name);
                if (cname && weir__topic_create(b, cname,
                                 (int32_t)b->opts.default_partitions,
                                 &weir__topic_conf_default) == WEIR_OK) {
                    t = weir__topic_find(b, name.ptr, (size_t)name.len);
                    err = KERR_NONE;
                }
                free(cname);
            }
        }
        write_topic_meta(w, v, t, err, name);
    }
    return WEIR_OK;
}

/* Applies one CreateTopics config entry to conf; unknown keys are
 * accepted and ignored (as most Kafka configs have no meaning here). */
static int16_t
topic_config(weir_kstr key, weir_kstr val, weir_topic_conf *conf)
{
    static const struct {
        const char *key;
        size_t offset;
    } ints[] = {
        {"retention.ms", offsetof(weir_topic_conf, retention_ms)},
        {"retention.bytes", offsetof(weir_topic_conf, retention_bytes)},
        {"segment.bytes", offsetof(weir_topic_conf, segment_bytes)},
        {"segment.ms", offsetof(weir_topic_conf, segment_ms)},
        {"delete.retention.ms", offsetof(weir_topic_conf, delete_retention_ms)},
        {"max.message.bytes", offsetof(weir_topic_conf, max_message_bytes)},
    };
    char buf[64];
    if (val.len < 0)
        return KERR_NONE;
    if (val.len >= (int32_t)sizeof(buf))
        return KERR_INVALID_CONFIG;
    memcpy(buf, val.ptr, (size_t)val.len);
    buf[val.len] = '\0';
    if (weir_kstr_eq(key, "cleanup.policy")) {
        if (strcmp(buf, "compact") == 0 || strcmp(buf, "compact,delete") == 0 ||
            strcmp(buf, "delete,compact") == 0)
            conf->compact = true;
        else if (strcmp(buf, "delete") == 0)
            conf->compact = false;
        else
            return KERR_INVALID_CONFIG;
        return KERR_NONE;
    }
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        if (!weir_kstr_eq(key, ints[i].key))
            continue;
        char *end;
        long long v = strtoll(buf, &end, 10);
        if (*end != '\0' || end == buf)
            return KERR_INVALID_CONFIG;
        if (strcmp(ints[i].key, "segment.bytes") == 0 && v < 4096)
            return KERR_INVALID_CONFIG;
        if (strcmp(ints[i].key, "max.message.bytes") == 0 &&
            (v < 1 || v > 2147483647))
            return KERR_INVALID_CONFIG;
        *(int64_t *)((char *)conf + ints[i].offset) = v;
    }
    return KERR_NONE;
}

int
weir__h_create_topics(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int16_t v = req->version;
    int32_t n = weir_kr_array(r, false, false, 14);
    if (v >= 2)
        weir_kw_i32(w, 0);
    weir_kw_array(w, false, n);
    /* Topics come first in the request, then timeout and validate_only:
     * find validate_only by skipping over the topics once. */
    weir_kr topics = *r;
    for (int32_t i = 0; i < n; i++) {
        (void)weir_kr_str(r, false, false);
        weir_kr_skip(r, 6);
        int32_t na = weir_kr_array(r, false, false, 8);
        for (int32_t k = 0; k < na; k++) {
            weir_kr_skip(r, 4);
            int32_t nb = weir_kr_array(r, false, false, 4);
            weir_kr_skip(r, 4 * (size_t)(nb > 0 ? nb : 0));
        }
        int32_t nc = weir_kr_array(r, false, false, 4);
        for (int32_t k = 0; k < nc; k++) {
            (void)weir_kr_str(r, false, false);
            (void)weir_kr_str(r, false, true);
        }
    }
    (void)weir_kr_i32(r);
    bool validate_only = v >= 1 ? weir_kr_bool(r) : false;
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;

    for (int32_t i = 0; i < n; i++) {
        weir_kstr name = weir_kr_str(&topics, false, false);
        int32_t parts = weir_kr_i32(&topics);
        int16_t rf = weir_kr_i16(&topics);
        int32_t na = weir_kr_array(&topics, false, false, 8);
        for (int32_t k = 0; k < na; k++) {
            weir_kr_skip(&topics, 4);
            int32_t nb = weir_kr_array(&topics, false, false, 4);
            weir_kr_skip(&topics, 4 * (size_t)(nb > 0 ? nb : 0));
        }
        weir_topic_conf conf = weir__topic_conf_default;
        int16_t err = req->forced_err;
        const char *msg = NULL;
        int32_t nc = weir_kr_array(&topics, false, false, 4);
        for (int32_t k = 0; k < nc; k++) {
            weir_kstr key = weir_kr_str(&topics, false, false);
            weir_kstr val = weir_kr_str(&topics, false, true);
            if (err == KERR_NONE &&
                (err = topic_config(key, val, &conf)) != KERR_NONE)
                msg = "unsupported value for a topic config";
        }
        if (parts == -1)
            parts = na > 0 ? na : (int32_t)b->opts.default_partitions;
        if (err != KERR_NONE) {
        } else if (!weir__topic_name_valid(name.ptr, (size_t)name.len)) {
            err = KERR_INVALID_TOPIC_EXCEPTION;
            msg = "topic names use [a-zA-Z0-9._-], 1 to 249 characters";
        } else if (weir__topic_find(b, name.ptr, (size_t)name.len)) {
            err = KERR_TOPIC_ALREADY_EXISTS;
            msg = "topic already exists";
        } else if (parts <= 0 || parts > 10000) {
            err = KERR_INVALID_PARTITIONS;
            msg = "partitions must be in [1, 10000]";
        } else if (rf != -1 && rf != 1) {
            err = KERR_INVALID_REPLICATION_FACTOR;
            msg = "weir-broker is a single node: replication factor 1";
        } else if (!validate_only) {
            char *cname = weir_kstr_dup(name);
            int rv = cname ? weir__topic_create(b, cname, parts, &conf)
                           : WEIR_ENOMEM;
            free(cname);
            if (rv != WEIR_OK) {
                err = KERR_KAFKA_STORAGE_ERROR;
                msg = weir_strerror(rv);
            }
        }
        weir_kw_strn(w, false, name.ptr, name.len);
        weir_kw_i16(w, weir__kerr_count(b, req->api_key, err));
        if (v >= 1)
            weir_kw_str(w, false, msg);
    }
    return WEIR_OK;
}

int
weir__h_delete_topics(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int32_t n = weir_kr_array(r, false, false, 2);
    if (req->version >= 1)
        weir_kw_i32(w, 0);
    weir_kw_array(w, false, n);
    for (int32_t i = 0; i < n; i++) {
        weir_kstr name = weir_kr_str(r, false, false);
        int16_t err = req->forced_err;
        if (err == KERR_NONE) {
            char *cname = weir_kstr_dup(name);
            int rv = cname ? weir__topic_delete(b, cname) : WEIR_ENOMEM;
            free(cname);
            err = rv == WEIR_OK          ? KERR_NONE
                  : rv == WEIR_ENOTFOUND ? KERR_UNKNOWN_TOPIC_OR_PARTITION
                                         : KERR_KAFKA_STORAGE_ERROR;
        }
        weir_kw_strn(w, false, name.ptr, name.len);
        weir_kw_i16(w, weir__kerr_count(b, req->api_key, err));
    }
    return weir_kr_ok(r) ? WEIR_OK : WEIR_EPROTO;
}

int
weir__h_find_coordinator(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    (void)weir_kr_str(r, false, false);
    int8_t type = req->version >= 1 ? weir_kr_i8(r) : 0;
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;
    int16_t err = req->forced_err;
    if (err == KERR_NONE && type != 0 && type != 1)
        err = KERR_INVALID_REQUEST;
    if (req->version >= 1)
        weir_kw_i32(w, 0);
    weir_kw_i16(w, weir__kerr_count(b, req->api_key, err));
    if (req->version >= 1)
        weir_kw_str(w, false, err ? weir__kerr_name(err) : NULL);
    weir_kw_i32(w, err ? -1 : NODE_ID);
    weir_kw_str(w, false, err ? "" : b->adv_host);
    weir_kw_i32(w, err ? -1 : b->port);
    return WEIR_OK;
}
