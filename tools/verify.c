/*
 * weir-verify: proves exactly-once for a word-count job, or prints the first
 * violation. Reads the input and the output topic with
 * isolation.level=read_committed, counts each word of the committed input
 * (split(lower(value), '[^a-z0-9]+'), empty strings dropped) and checks that
 * each word's committed outputs are exactly 1, 2, ..., N in order, all in
 * one partition, where N is its number of input occurrences. With --emit
 * latest (a count emitting at most one update per key and commit) each
 * word's counts must rise strictly and end at exactly N.
 *
 *   weir-verify --bootstrap HOST:PORT --input TOPIC --output TOPIC
 *               [--emit update|latest]
 *
 * Exit status: 0 exact, 1 a violation (printed), 2 usage or Kafka errors.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "common/conf.h"
#include "common/err.h"

typedef struct verify_conf {
    char *bootstrap;
    char *input;
    char *output;
    char *emit;
    int64_t timeout_ms;
} verify_conf;

#define C verify_conf
static const weir_conf_entry entries[] = {
    WEIR_CONF_STR(
        C, "bootstrap", bootstrap, "127.0.0.1:9092", "Kafka bootstrap servers"),
    WEIR_CONF_STR(C, "input", input, "text-lines", "the job's input topic"),
    WEIR_CONF_STR(C, "output", output, "wordcounts", "the job's output topic"),
    WEIR_CONF_STR(C, "emit", emit, "update",
        "the count's emit mode: update (every count 1..N) or latest (rising "
        "strictly to N)"),
    WEIR_CONF_INT(C, "timeout-ms", timeout_ms, "60000", 1000, 3600000,
        "give up reading a topic after this long"),
};
#undef C

static const weir_conf_spec spec = {"weir-verify",
    "proves exactly-once for a word-count job (read_committed)", "[OPTIONS]",
    entries, sizeof(entries) / sizeof(entries[0])};

/* ------------------------------------------------------------ word table */

typedef struct word {
    char *text;
    size_t len;
    int64_t expected; /* input occurrences */
    int64_t seen;     /* last output count */
    int32_t partition;
} word;

typedef struct table {
    word *slots;
    size_t cap, n;
    bool latest;       /* --emit latest */
    long long outputs; /* output records checked */
} table;

static uint64_t
hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static word *
lookup(table *t, const char *s, size_t n, bool add)
{
    if (add && (t->n + 1) * 2 > t->cap) {
        table g = {calloc(t->cap ? t->cap * 2 : 1024, sizeof(word)),
            t->cap ? t->cap * 2 : 1024, 0, t->latest, t->outputs};
        if (!g.slots) {
            fprintf(stderr, "weir-verify: out of memory\n");
            exit(2);
        }
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slots[i].text)
                continue;
            size_t j = hash(t->slots[i].text, t->slots[i].len) & (g.cap - 1);
            while (g.slots[j].text)
                j = (j + 1) & (g.cap - 1);
            g.slots[j] = t->slots[i];
            g.n++;
        }
        free(t->slots);
        *t = g;
    }
    if (!t->cap)
        return NULL;
    size_t j = hash(s, n) & (t->cap - 1);
    while (t->slots[j].text) {
        if (t->slots[j].len == n && memcmp(t->slots[j].text, s, n) == 0)
            return &t->slots[j];
        j = (j + 1) & (t->cap - 1);
    }
    if (!add)
        return NULL;
    word *w = &t->slots[j];
    w->text = malloc(n + 1);
    if (!w->text) {
        fprintf(stderr, "weir-verify: out of memory\n");
        exit(2);
    }
    memcpy(w->text, s, n);
    w->text[n] = '\0';
    w->len = n;
    w->partition = -1;
    t->n++;
    return w;
}

/* ------------------------------------------------------------ reading */

typedef int (*record_fn)(
    table *t, int32_t partition, const rd_kafka_message_t *m);

/* Reads every committed record of topic, partition by partition order
 * preserved, until each partition reached its end. */
static int
read_topic(const verify_conf *cf, const char *topic, table *t, record_fn fn)
{
    char err[256];
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    const char *kv[][2] = {{"bootstrap.servers", cf->bootstrap},
        {"group.id", "weir-verify"}, {"enable.auto.commit", "false"},
        {"isolation.level", "read_committed"}, {"enable.partition.eof", "true"},
        {"auto.offset.reset", "earliest"}};
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
        if (rd_kafka_conf_set(kc, kv[i][0], kv[i][1], err, sizeof(err)) !=
            RD_KAFKA_CONF_OK) {
            fprintf(stderr, "weir-verify: %s: %s\n", kv[i][0], err);
            rd_kafka_conf_destroy(kc);
            return 2;
        }
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "weir-verify: %s\n", err);
        rd_kafka_conf_destroy(kc);
        return 2;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int rv = 0;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "weir-verify: no topic %s\n", topic);
        rv = 2;
    }
    int parts = rv == 0 ? md->topics[0].partition_cnt : 0;
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new(parts ? parts : 1);
    for (int p = 0; p < parts; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = 0;
    if (rv == 0)
        rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    int eof = 0;
    int64_t waited = 0;
    while (rv == 0 && eof < parts) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            if ((waited += 100) > cf->timeout_ms) {
                fprintf(stderr, "weir-verify: reading %s timed out\n", topic);
                rv = 2;
            }
            continue;
        }
        waited = 0;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            eof++;
        else if (m->err)
            fprintf(stderr, "weir-verify: %s: %s\n", topic,
                rd_kafka_message_errstr(m));
        else
            rv = fn(t, m->partition, m);
        rd_kafka_message_destroy(m);
    }
    rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return rv;
}

static int
count_input(table *t, int32_t partition, const rd_kafka_message_t *m)
{
    (void)partition;
    const unsigned char *v = m->payload;
    char buf[1024];
    size_t n = 0;
    for (size_t i = 0; i <= m->len; i++) {
        unsigned char c = i < m->len ? v[i] : ' ';
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (alnum && n < sizeof(buf)) {
            buf[n++] = (char)c;
            continue;
        }
        if (n > 0)
            lookup(t, buf, n, true)->expected++;
        n = 0;
    }
    return 0;
}

static int
check_output(table *t, int32_t partition, const rd_kafka_message_t *m)
{
    if (!m->key || !m->payload) {
        printf("violation: partition %d offset %lld: null key or value\n",
            partition, (long long)m->offset);
        return 1;
    }
    char num[32];
    if (m->len == 0 || m->len >= sizeof(num)) {
        printf("violation: partition %d offset %lld: value is not a count\n",
            partition, (long long)m->offset);
        return 1;
    }
    memcpy(num, m->payload, m->len);
    num[m->len] = '\0';
    char *end;
    long long n = strtoll(num, &end, 10);
    if (*end) {
        printf("violation: partition %d offset %lld: value '%s' is not a "
               "count\n",
            partition, (long long)m->offset, num);
        return 1;
    }
    word *w = lookup(t, m->key, m->key_len, false);
    if (!w) {
        printf("violation: word '%.*s' (partition %d offset %lld) is not in "
               "the committed input\n",
            (int)m->key_len, (const char *)m->key, partition,
            (long long)m->offset);
        return 1;
    }
    if (w->partition >= 0 && w->partition != partition) {
        printf("violation: word '%s' in partitions %d and %d\n", w->text,
            w->partition, partition);
        return 1;
    }
    w->partition = partition;
    if (t->latest && n <= w->seen) {
        printf("violation: word '%s': count %lld after %lld, repeated or "
               "going back (partition %d offset %lld)\n",
            w->text, n, (long long)w->seen, partition, (long long)m->offset);
        return 1;
    }
    if (!t->latest && n != w->seen + 1) {
        printf("violation: word '%s': %s, count %lld where %lld was next "
               "(partition %d offset %lld)\n",
            w->text, n <= w->seen ? "duplicate" : "gap", n,
            (long long)w->seen + 1, partition, (long long)m->offset);
        return 1;
    }
    if (n > w->expected) {
        printf("violation: word '%s': count %lld exceeds its %lld committed "
               "input occurrences\n",
            w->text, n, (long long)w->expected);
        return 1;
    }
    w->seen = n;
    t->outputs++;
    return 0;
}

int
main(int argc, char **argv)
{
    verify_conf cf;
    memset(&cf, 0, sizeof(cf));
    int rv = weir_conf_load(&spec, &cf, argc, argv, NULL, NULL);
    if (rv != WEIR_OK) {
        weir_conf_free(&spec, &cf, NULL);
        return rv == WEIR_ESTOPPED ? 0 : 2;
    }
    table t = {NULL, 0, 0, strcmp(cf.emit, "latest") == 0, 0};
    if (!t.latest && strcmp(cf.emit, "update") != 0) {
        fprintf(stderr, "weir-verify: --emit: expected update or latest\n");
        weir_conf_free(&spec, &cf, NULL);
        return 2;
    }
    int code = read_topic(&cf, cf.input, &t, count_input);
    if (code == 0)
        code = read_topic(&cf, cf.output, &t, check_output);
    for (size_t i = 0; code == 0 && i < t.cap; i++) {
        word *w = &t.slots[i];
        if (!w->text)
            continue;
        if (w->seen != w->expected) {
            printf("violation: word '%s': last count %lld, expected %lld\n",
                w->text, (long long)w->seen, (long long)w->expected);
            code = 1;
        }
    }
    if (code == 0)
        printf("exact: %zu words, %lld updates\n", t.n, t.outputs);
    for (size_t i = 0; i < t.cap; i++)
        free(t.slots[i].text);
    free(t.slots);
    weir_conf_free(&spec, &cf, NULL);
    return code;
}
