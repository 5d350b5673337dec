/*
 * Handler: DescribeConfigs (v1-v3) for topics and the broker, which Kafka's
 * admin tools (TopicCommand --describe, ConfigCommand) and admin clients
 * ask for. A topic reports the settings weir-broker keeps per topic (those
 * left to a built-in default of the log are not listed); the broker
 * reports the few settings it has. Anything else is not listed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "broker/handlers/handler.h"
#include "broker/state/topic.h"
#include "common/err.h"

enum { RES_TOPIC = 2, RES_BROKER = 4 };
/* ConfigSource and ConfigType values (DescribeConfigsResponse.json). */
enum { SRC_TOPIC = 1, SRC_STATIC_BROKER = 4, SRC_DEFAULT = 5 };
enum { TYPE_STRING = 2, TYPE_LONG = 5, TYPE_INT = 3 };

typedef struct cfg {
    const char *name;
    char value[64];
    int8_t source, type;
    /* The broker-wide setting a topic setting overrides, with the value
     * topics get by default (a synonym, as Kafka lists it); NULL none. */
    const char *broker_name;
    char broker_value[64];
} cfg;

/* Topic settings and the broker settings behind them (Kafka's names). */
static const char *const broker_names[][2] = {
    {"cleanup.policy", "log.cleanup.policy"},
    {"retention.ms", "log.retention.ms"},
    {"retention.bytes", "log.retention.bytes"},
    {"segment.bytes", "log.segment.bytes"},
    {"segment.ms", "log.roll.ms"},
    {"delete.retention.ms", "log.cleaner.delete.retention.ms"},
};

/* Fills the broker-wide synonym of a topic setting whose default is
 * dflt. */
static void
synonym(cfg *c, const char *dflt)
{
    for (size_t i = 0; i < sizeof(broker_names) / sizeof(broker_names[0]); i++)
        if (strcmp(broker_names[i][0], c->name) == 0)
            c->broker_name = broker_names[i][1];
    snprintf(c->broker_value, sizeof(c->broker_value), "%s", dflt);
}

/* The requested keys: a nullable string array read in place. */
typedef struct keys {
    weir_kr r; /* at the first key */
    int32_t n; /* -1: every config */
} keys;

static bool
wanted(const keys *k, const char *name)
{
    if (k->n < 0)
        return true;
    weir_kr r = k->r;
    for (int32_t i = 0; i < k->n; i++) {
        weir_kstr s = weir_kr_str(&r, false, false);
        if (s.len >= 0 && (size_t)s.len == strlen(name) &&
            memcmp(s.ptr, name, (size_t)s.len) == 0)
            return true;
    }
    return false;
}

static void
set_long(cfg *c, const char *name, int64_t v, int64_t dflt, int8_t set_src)
{
    char d[32];
    c->name = name;
    snprintf(c->value, sizeof(c->value), "%" PRId64, v);
    c->source = v == dflt ? SRC_DEFAULT : set_src;
    c->type = TYPE_LONG;
    snprintf(d, sizeof(d), "%" PRId64, dflt);
    if (set_src == SRC_TOPIC)
        synonym(c, d);
}

static size_t
topic_configs(const weir_broker *b, const weir_topic *t, cfg *out)
{
    const weir_topic_conf *c = &t->conf, *d = &weir__topic_conf_default;
    size_t n = 0;
    out[n].name = "cleanup.policy";
    snprintf(out[n].value, sizeof(out[n].value), "%s",
        c->compact ? "compact" : "delete");
    out[n].source = c->compact == d->compact ? SRC_DEFAULT : SRC_TOPIC;
    out[n].type = TYPE_STRING;
    synonym(&out[n++], d->compact ? "compact" : "delete");
    set_long(
        &out[n++], "retention.ms", c->retention_ms, d->retention_ms, SRC_TOPIC);
    set_long(&out[n++], "retention.bytes", c->retention_bytes,
        d->retention_bytes, SRC_TOPIC);
    /* 0: left to the log's built-in default, which is not listed */
    if (c->segment_bytes != 0)
        set_long(&out[n++], "segment.bytes", c->segment_bytes, d->segment_bytes,
            SRC_TOPIC);
    if (c->segment_ms != 0)
        set_long(
            &out[n++], "segment.ms", c->segment_ms, d->segment_ms, SRC_TOPIC);
    if (c->delete_retention_ms != 0)
        set_long(&out[n++], "delete.retention.ms", c->delete_retention_ms,
            d->delete_retention_ms, SRC_TOPIC);
    /* Always listed, as Kafka does: the limit in force (the topic's, or
     * the broker's message.max.bytes) is what producers must fit in. */
    int64_t broker_max = weir__topic_max_message_bytes(b, NULL);
    set_long(&out[n], "max.message.bytes", weir__topic_max_message_bytes(b, t),
        broker_max, SRC_TOPIC);
    if (c->max_message_bytes == 0)
        out[n].source = SRC_DEFAULT;
    n++;
    return n;
}

static size_t
broker_configs(const weir_broker *b, cfg *out)
{
    size_t n = 0;
    set_long(&out[n], "num.partitions", b->opts.default_partitions, -1,
        SRC_STATIC_BROKER);
    out[n++].type = TYPE_INT;
    out[n].name = "log.dirs";
    snprintf(out[n].value, sizeof(out[n].value), "%s",
        b->opts.data_dir ? b->opts.data_dir : "");
    out[n].source = SRC_STATIC_BROKER;
    out[n++].type = TYPE_STRING;
    return n;
}

static void
write_configs(weir_kw *w, int16_t v, const cfg *cs, size_t n, const keys *k,
    bool synonyms)
{
    int32_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += wanted(k, cs[i].name);
    weir_kw_array(w, false, m);
    for (size_t i = 0; i < n; i++) {
        if (!wanted(k, cs[i].name))
            continue;
        weir_kw_str(w, false, cs[i].name);
        weir_kw_str(w, false, cs[i].value);
        weir_kw_bool(w, false); /* ReadOnly */
        weir_kw_i8(w, cs[i].source);
        weir_kw_bool(w, false); /* IsSensitive */
        /* Synonyms, most specific first: the topic's own setting, then
         * the broker-wide default it overrides. */
        bool own = cs[i].source != SRC_DEFAULT || !cs[i].broker_name;
        bool wide = cs[i].broker_name != NULL;
        weir_kw_array(w, false, synonyms ? own + wide : 0);
        if (synonyms && own) {
            weir_kw_str(w, false, cs[i].name);
            weir_kw_str(w, false, cs[i].value);
            weir_kw_i8(w, cs[i].source);
        }
        if (synonyms && wide) {
            weir_kw_str(w, false, cs[i].broker_name);
            weir_kw_str(w, false, cs[i].broker_value);
            weir_kw_i8(w, SRC_DEFAULT);
        }
        if (v >= 3) {
            weir_kw_i8(w, cs[i].type);
            weir_kw_str(w, false, NULL); /* Documentation */
        }
    }
}

int
weir__h_describe_configs(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int16_t v = req->version;
    int32_t n = weir_kr_array(r, false, false, 4);
    /* IncludeSynonyms follows the resources: skip over them once. */
    weir_kr res = *r;
    for (int32_t i = 0; i < n; i++) {
        weir_kr_skip(r, 1);
        (void)weir_kr_str(r, false, false);
        int32_t nk = weir_kr_array(r, false, true, 2);
        for (int32_t k = 0; k < nk; k++)
            (void)weir_kr_str(r, false, false);
    }
    bool synonyms = weir_kr_bool(r);
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;

    weir_kw_i32(w, 0); /* ThrottleTimeMs */
    weir_kw_array(w, false, n);
    for (int32_t i = 0; i < n; i++) {
        int8_t type = (int8_t)weir_kr_i8(&res);
        weir_kstr name = weir_kr_str(&res, false, false);
        keys k;
        k.n = weir_kr_array(&res, false, true, 2);
        k.r = res;
        for (int32_t j = 0; j < k.n; j++)
            (void)weir_kr_str(&res, false, false);
        cfg cs[8] = {0};
        size_t nc = 0;
        int16_t err = req->forced_err;
        const char *msg = NULL;
        if (err == KERR_NONE && type == RES_TOPIC) {
            const weir_topic *t =
                weir__topic_find(b, name.ptr, (size_t)name.len);
            if (t)
                nc = topic_configs(b, t, cs);
            else
                err = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        } else if (err == KERR_NONE && type == RES_BROKER) {
            nc = broker_configs(b, cs);
        } else if (err == KERR_NONE) {
            err = KERR_INVALID_REQUEST;
            msg = "weir-broker describes topic and broker configs only";
        }
        weir_kw_i16(w, err);
        weir_kw_str(w, false, msg);
        weir_kw_i8(w, type);
        weir_kw_strn(w, false, name.ptr, name.len);
        write_configs(w, v, cs, err == KERR_NONE ? nc : 0, &k, synonyms);
    }
    return WEIR_OK;
}
