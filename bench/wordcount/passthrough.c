/*
 * The floor of the word count benchmark: a raw librdkafka transactional
 * consume -> produce passthrough with the same commit interval as Weir. One
 * consumer reads every input partition (read_committed), one transactional
 * producer copies each record to the output topic, and every interval the
 * consumer positions are sent to the transaction and it is committed.
 *
 *   wordcount-passthrough BOOTSTRAP INPUT OUTPUT PARTITIONS INTERVAL_MS [GROUP]
 *
 * GROUP (default bench-passthrough) is both the consumer group the offsets
 * are committed to and the transactional.id.
 * Exits when every partition reached its end; prints "records=N ms=T".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

static long long
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
die_err(const char *what, rd_kafka_error_t *e)
{
    if (!e)
        return;
    fprintf(stderr, "%s: %s\n", what, rd_kafka_error_string(e));
    exit(1);
}

static rd_kafka_conf_t *
conf(const char *bs)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char err[256];
    rd_kafka_conf_set(c, "bootstrap.servers", bs, err, sizeof(err));
    return c;
}

/* Learns a topic's leaders up front, as Weir's Kafka adapter does: a
 * fresh client would otherwise wait for its metadata refresh timer. */
static void
warm(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    if (rkt && rd_kafka_metadata(rk, 0, rkt, &md, 5000) == 0)
        rd_kafka_metadata_destroy(md);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
}

static void
set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char err[256];
    if (rd_kafka_conf_set(c, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "%s: %s\n", k, err);
        exit(1);
    }
}

int
main(int argc, char **argv)
{
    if (argc != 6 && argc != 7) {
        fprintf(stderr,
            "usage: %s BOOTSTRAP INPUT OUTPUT PARTITIONS "
            "INTERVAL_MS [GROUP]\n",
            argv[0]);
        return 2;
    }
    const char *bs = argv[1], *in = argv[2], *out = argv[3];
    const char *group = argc == 7 ? argv[6] : "bench-passthrough";
    int parts = atoi(argv[4]);
    long long interval = atoll(argv[5]);
    char err[256];

    rd_kafka_conf_t *pc = conf(bs);
    set(pc, "transactional.id", group);
    set(pc, "linger.ms", "5");
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof(err));
    rd_kafka_conf_t *cc = conf(bs);
    set(cc, "group.id", group);
    set(cc, "enable.auto.commit", "false");
    set(cc, "isolation.level", "read_committed");
    set(cc, "enable.partition.eof", "true");
    set(cc, "auto.offset.reset", "earliest");
    set(cc, "fetch.wait.max.ms", "20"); /* as Weir: sees the end sooner */
    /* librdkafka 2.0 idles a partition for a second once this many
     * records are queued: keep the whole input in reach instead. */
    set(cc, "queued.min.messages", "10000000");
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof(err));
    if (!p || !c) {
        fprintf(stderr, "client: %s\n", err);
        return 1;
    }
    rd_kafka_poll_set_consumer(c);
    die_err("init", rd_kafka_init_transactions(p, 30000));
    warm(c, in);
    warm(p, out);
    rd_kafka_topic_partition_list_t *as =
        rd_kafka_topic_partition_list_new(parts);
    for (int i = 0; i < parts; i++)
        rd_kafka_topic_partition_list_add(as, in, i)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c, as);
    rd_kafka_consumer_group_metadata_t *md =
        rd_kafka_consumer_group_metadata_new(group);
    long long *pos = calloc((size_t)parts, sizeof(*pos));
    int eof = 0;
    long long records = 0, t0 = now_ms(), last = t0;
    int in_txn = 0;
    while (eof < parts) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 10);
        if (m) {
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                eof++;
            } else if (!m->err) {
                if (!in_txn) {
                    die_err("begin", rd_kafka_begin_transaction(p));
                    in_txn = 1;
                }
                while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(out),
                           RD_KAFKA_V_KEY(m->key, m->key_len),
                           RD_KAFKA_V_VALUE(m->payload, m->len),
                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                           RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                    rd_kafka_poll(p, 10);
                pos[m->partition] = m->offset + 1;
                records++;
            }
            rd_kafka_message_destroy(m);
        }
        if (in_txn && (now_ms() - last >= interval || eof == parts)) {
            rd_kafka_topic_partition_list_t *o =
                rd_kafka_topic_partition_list_new(parts);
            for (int i = 0; i < parts; i++)
                if (pos[i] > 0)
                    rd_kafka_topic_partition_list_add(o, in, i)->offset =
                        pos[i];
            die_err("offsets",
                rd_kafka_send_offsets_to_transaction(p, o, md, 30000));
            rd_kafka_topic_partition_list_destroy(o);
            die_err("commit", rd_kafka_commit_transaction(p, 30000));
            in_txn = 0;
            last = now_ms();
        }
    }
    printf("records=%lld ms=%lld\n", records, now_ms() - t0);
    rd_kafka_consumer_group_metadata_destroy(md);
    rd_kafka_topic_partition_list_destroy(as);
    free(pos);
    rd_kafka_destroy(c);
    rd_kafka_destroy(p);
    return 0;
}
