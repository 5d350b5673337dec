/* Manually assigned consumer: part of the Kafka adapter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "kafka.h"
#include "kafka_common.h"

#define BATCH_MAX 256
#define DEFAULT_QUEUE_KB 512 /* per partition, when the caller gives none */

struct weir_kafka_consumer {
    rd_kafka_t *rk;
    rd_kafka_queue_t *q; /* the consumer queue, read in batches */
    rd_kafka_message_t *batch[BATCH_MAX];
    size_t n_batch, next; /* unread: batch[next..n_batch) */
    /* A partition to wake the fetcher through, and the deepest the
     * prefetch queue has been since the last wake-up (see wake_fetcher). */
    char wake_topic[256];
    int32_t wake_partition;
    size_t queue_high;
};

static void
drop_batch(weir_kafka_consumer *c)
{
    while (c->next < c->n_batch)
        rd_kafka_message_destroy(c->batch[c->next++]);
    c->next = c->n_batch = 0;
}

static int
consumer_new(weir_kafka_consumer **cp, const char *bootstrap,
    const char *client_id, const char *group_id, bool read_committed, bool bulk,
    int queue_kb)
{
    weir_kafka_consumer *c = calloc(1, sizeof(*c));
    if (!c)
        return WEIR_ENOMEM;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rv = weir__kafka_conf_base(conf, bootstrap, client_id);
    const char *kv[][2] = {
        {"group.id", group_id},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
        {"auto.offset.reset", "earliest"},
        {"isolation.level",
            read_committed ? "read_committed" : "read_uncommitted"},
        {"fetch.max.bytes", "1048576"},
        {"max.partition.fetch.bytes", "131072"},
        /* A fetch answer holds at least one whole batch, however large:
         * take any a broker may hold (a batch's size is an int32) rather
         * than stall on it. Memory is bounded by the fetch and queue
         * budgets, not by this. */
        {"receive.message.max.bytes", "2147483647"},
        {"fetch.wait.max.ms", "20"},
        {"fetch.error.backoff.ms", "50"},
    };
    /* Steady state: small queues keep 8 tasks near 60 MB. */
    for (size_t i = 0; rv == WEIR_OK && i < sizeof(kv) / sizeof(kv[0]); i++)
        rv = weir__kafka_conf_set(conf, kv[i][0], kv[i][1]);
    const char *bulk_kv[][2] = {
        {"queued.max.messages.kbytes", "16384"},
        {"queued.min.messages", "20000"},
        {"fetch.max.bytes", "8388608"},
        {"max.partition.fetch.bytes", "4194304"},
    };
    for (size_t i = 0;
         bulk && rv == WEIR_OK && i < sizeof(bulk_kv) / sizeof(bulk_kv[0]); i++)
        rv = weir__kafka_conf_set(conf, bulk_kv[i][0], bulk_kv[i][1]);
    if (!bulk && rv == WEIR_OK) {
        /* The byte budget, and a record budget for small records: each
         * queued record costs librdkafka some 400 bytes of its own. */
        if (queue_kb <= 0)
            queue_kb = DEFAULT_QUEUE_KB;
        int records = queue_kb < 1000
                          ? 10000
                          : (queue_kb < 10000 ? queue_kb * 10 : 100000);
        char kb[32], msgs[32];
        snprintf(kb, sizeof(kb), "%d", queue_kb);
        snprintf(msgs, sizeof(msgs), "%d", records);
        rv = weir__kafka_conf_set(conf, "queued.max.messages.kbytes", kb);
        if (rv == WEIR_OK)
            rv = weir__kafka_conf_set(conf, "queued.min.messages", msgs);
    }
    if (rv != WEIR_OK) {
        rd_kafka_conf_destroy(conf);
        free(c);
        return rv;
    }
    char err[256];
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!c->rk) {
        weir_log_error("kafka", "consumer create failed err=\"%s\"", err);
        rd_kafka_conf_destroy(conf);
        free(c);
        return WEIR_EKAFKA;
    }
    rd_kafka_poll_set_consumer(c->rk);
    c->q = rd_kafka_queue_get_consumer(c->rk);
    *cp = c;
    return WEIR_OK;
}

int
weir_kafka_consumer_new(weir_kafka_consumer **cp, const char *bootstrap,
    const char *client_id, const char *group_id, bool read_committed)
{
    return consumer_new(
        cp, bootstrap, client_id, group_id, read_committed, false, 0);
}

int
weir_kafka_consumer_new_sized(weir_kafka_consumer **cp, const char *bootstrap,
    const char *client_id, const char *group_id, bool read_committed,
    int queue_kb)
{
    return consumer_new(
        cp, bootstrap, client_id, group_id, read_committed, false, queue_kb);
}

int
weir_kafka_consumer_new_bulk(weir_kafka_consumer **cp, const char *bootstrap,
    const char *client_id, const char *group_id)
{
    return consumer_new(cp, bootstrap, client_id, group_id, true, true, 0);
}

void
weir_kafka_consumer_free(weir_kafka_consumer *c)
{
    if (!c)
        return;
    drop_batch(c);
    if (c->q)
        rd_kafka_queue_destroy(c->q);
    /* Never a group member: nothing to leave, no offsets to commit. */
    rd_kafka_destroy_flags(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    free(c);
}

static rd_kafka_topic_partition_list_t *
tp_list(const weir_kafka_tp *tps, size_t n)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, tps[i].topic, tps[i].partition)
            ->offset = tps[i].offset;
    return l;
}

int
weir_kafka_consumer_assign(
    weir_kafka_consumer *c, const weir_kafka_tp *tps, size_t n)
{
    /* Learn the leaders first: a fresh client would otherwise wait for
     * its metadata refresh timer (about a second) before fetching. */
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(tps[k].topic, tps[i].topic) == 0;
        if (!seen)
            weir__kafka_warm(c->rk, tps[i].topic);
    }
    drop_batch(c); /* read before the seek */
    c->queue_high = 0;
    c->wake_topic[0] = '\0';
    if (n > 0) {
        snprintf(c->wake_topic, sizeof(c->wake_topic), "%s", tps[0].topic);
        c->wake_partition = tps[0].partition;
    }
    rd_kafka_topic_partition_list_t *l = tp_list(tps, n);
    rd_kafka_resp_err_t err = rd_kafka_assign(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err) {
        weir_log_error("kafka", "assign failed err=%s", rd_kafka_err2name(err));
        return weir__kafka_resp_err(err);
    }
    return WEIR_OK;
}

int
weir_kafka_consumer_pause(
    weir_kafka_consumer *c, const char *topic, int32_t partition, bool pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (!l)
        return WEIR_ENOMEM;
    rd_kafka_topic_partition_list_add(l, topic, partition);
    rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(c->rk, l)
                                    : rd_kafka_resume_partitions(c->rk, l);
    if (!err)
        err = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        weir_log_warn("kafka", "%s failed topic=%s partition=%d err=%s",
            pause ? "pause" : "resume", topic, partition,
            rd_kafka_err2name(err));
    return weir__kafka_resp_err(err);
}

int
weir_kafka_consumer_committed(
    weir_kafka_consumer *c, weir_kafka_tp *tps, size_t n, int timeout_ms)
{
    rd_kafka_topic_partition_list_t *l = tp_list(tps, n);
    rd_kafka_resp_err_t err = rd_kafka_committed(c->rk, l, timeout_ms);
    int rv = weir__kafka_resp_err(err);
    for (int i = 0; rv == WEIR_OK && i < l->cnt; i++) {
        if (l->elems[i].err) {
            weir_log_warn("kafka", "committed offset fetch topic=%s err=%s",
                l->elems[i].topic, rd_kafka_err2name(l->elems[i].err));
            rv = weir__kafka_resp_err(l->elems[i].err);
            break;
        }
        tps[i].offset = l->elems[i].offset;
    }
    if (err)
        weir_log_warn(
            "kafka", "committed offsets failed err=%s", rd_kafka_err2name(err));
    rd_kafka_topic_partition_list_destroy(l);
    return rv;
}

int
weir_kafka_consumer_commit(
    weir_kafka_consumer *c, const weir_kafka_tp *tps, size_t n)
{
    rd_kafka_topic_partition_list_t *l = tp_list(tps, n);
    rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, l, 0);
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        weir_log_warn(
            "kafka", "offset commit failed err=%s", rd_kafka_err2name(err));
    return weir__kafka_resp_err(err);
}

/* librdkafka 2.0 stops fetching a partition whose prefetch queue reached
 * queued.max.messages.kbytes and looks at it again only when its broker
 * thread next wakes up: up to a second later when nothing else is in
 * flight (later versions added fetch.queue.backoff.ms for this). Once the
 * queue has drained to half its depth, a watermark query (one small
 * request to the same broker thread) wakes it so that it fetches again
 * before the queue runs dry. Costs one round trip per half queue. */
static void
wake_fetcher(weir_kafka_consumer *c)
{
    enum { WAKE_MIN_DEPTH = 256 };
    size_t depth = rd_kafka_queue_length(c->q);
    if (depth > c->queue_high)
        c->queue_high = depth;
    if (!c->wake_topic[0] || c->queue_high < WAKE_MIN_DEPTH ||
        depth > c->queue_high / 2)
        return;
    c->queue_high = depth;
    int64_t lo, hi;
    (void)rd_kafka_query_watermark_offsets(
        c->rk, c->wake_topic, c->wake_partition, &lo, &hi, 100);
}

int
weir_kafka_consumer_poll(
    weir_kafka_consumer *c, int timeout_ms, weir_kafka_msg *msg)
{
    if (c->next == c->n_batch) {
        wake_fetcher(c);
        /* One lock round trip for many records. */
        c->next = 0;
        ssize_t got =
            rd_kafka_consume_batch_queue(c->q, timeout_ms, c->batch, BATCH_MAX);
        c->n_batch = got > 0 ? (size_t)got : 0;
        if (c->n_batch == 0)
            return WEIR_EAGAIN;
    }
    rd_kafka_message_t *m = c->batch[c->next++];
    memset(msg, 0, sizeof(*msg));
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        msg->topic = NULL;
        msg->partition = m->partition;
        msg->offset = m->offset;
        /* The topic name lives in the message: copy what callers need. */
        static _Thread_local char topic[256];
        snprintf(topic, sizeof(topic), "%s", rd_kafka_topic_name(m->rkt));
        msg->topic = topic;
        rd_kafka_message_destroy(m);
        return WEIR_ECLOSED;
    }
    if (m->err) {
        weir_log_warn("kafka", "consume error err=%s msg=\"%s\"",
            rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        return WEIR_EKAFKA;
    }
    msg->topic = rd_kafka_topic_name(m->rkt);
    msg->partition = m->partition;
    msg->offset = m->offset;
    msg->timestamp_ms = rd_kafka_message_timestamp(m, NULL);
    msg->key = m->key;
    msg->key_len = m->key_len;
    msg->value = m->payload;
    msg->value_len = m->len;
    msg->impl = m;
    return WEIR_OK;
}

void
weir_kafka_msg_release(weir_kafka_msg *msg)
{
    if (msg && msg->impl) {
        rd_kafka_message_destroy(msg->impl);
        msg->impl = NULL;
    }
}

int
weir_kafka_consumer_watermarks(weir_kafka_consumer *c, const char *topic,
    int32_t partition, int64_t *low, int64_t *high, int timeout_ms)
{
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        c->rk, topic, partition, low, high, timeout_ms);
    return weir__kafka_resp_err(err);
}

bool
weir_kafka_msg_header(const weir_kafka_msg *msg, const char *name,
    const void **value, size_t *len)
{
    rd_kafka_headers_t *hdrs = NULL;
    if (!msg->impl || rd_kafka_message_headers(msg->impl, &hdrs) || !hdrs)
        return false;
    return rd_kafka_header_get_last(hdrs, name, value, len) ==
           RD_KAFKA_RESP_ERR_NO_ERROR;
}

int64_t
weir_kafka_consumer_cached_high(
    weir_kafka_consumer *c, const char *topic, int32_t partition)
{
    int64_t lo = -1, hi = -1;
    if (rd_kafka_get_watermark_offsets(c->rk, topic, partition, &lo, &hi))
        return -1;
    return hi;
}
