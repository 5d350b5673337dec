/* weir-broker: the binary. Everything else is in weir_broker_lib. */
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>

#include "broker/broker.h"
#include "common/conf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/signals.h"

static const weir_conf_entry entries[] = {
    WEIR_CONF_STR(weir_broker_opts, "listen", listen, "127.0.0.1:9092",
        "HOST:PORT to accept Kafka clients on (port 0: any free port)"),
    WEIR_CONF_STR(weir_broker_opts, "data-dir", data_dir, "weir-broker-data",
        "directory of the partition logs and the metadata journal"),
    WEIR_CONF_STR(weir_broker_opts, "admin", admin, "",
        "HOST:PORT of the HTTP status/metrics/fault API (empty: off)"),
    WEIR_CONF_INT(weir_broker_opts, "default-partitions", default_partitions,
        "1", 1, 10000, "partitions of auto-created topics"),
    WEIR_CONF_BOOL(weir_broker_opts, "auto-create-topics", auto_create_topics,
        "true", "create unknown topics named in Metadata requests"),
    WEIR_CONF_INT(weir_broker_opts, "transaction-max-timeout-ms",
        txn_max_timeout_ms, "900000", 1, 86400000,
        "largest transaction.timeout.ms a producer may ask for"),
    WEIR_CONF_INT(weir_broker_opts, "segment-bytes", segment_bytes,
        "1073741824", 4096, 68719476736LL, "log segment roll size"),
    WEIR_CONF_INT(weir_broker_opts, "message-max-bytes", message_max_bytes,
        WEIR_STRINGIFY(WEIR_BROKER_MESSAGE_MAX_BYTES), 1024, 2147483647,
        "largest record batch a topic accepts (Kafka's message.max.bytes; "
        "per topic: max.message.bytes); larger ones get MESSAGE_TOO_LARGE"),
    WEIR_CONF_STR(weir_broker_opts, "fsync", fsync, "interval",
        "never, interval (every second) or always (before acknowledging)"),
    WEIR_CONF_HIDDEN_STR(weir_broker_opts, "advertised-host", advertised_host,
        "", "host name put in Metadata and FindCoordinator answers"),
};

static const weir_conf_spec spec = {"weir-broker",
    "a single-node Kafka-protocol broker with real transactions", "[OPTIONS]",
    entries, sizeof(entries) / sizeof(entries[0])};

int
main(int argc, char **argv)
{
    weir_broker_opts opts = {0};
    int rv = weir_conf_load(&spec, &opts, argc, argv, NULL, NULL);
    if (rv != WEIR_OK) {
        weir_conf_free(&spec, &opts, NULL);
        return rv == WEIR_ESTOPPED ? 0 : 2;
    }
    /* Fetch and produce buffers are up to a few MB: keep them in the heap
     * instead of mapping and faulting in fresh pages for each request. */
    (void)mallopt(M_MMAP_THRESHOLD, 8 << 20);
    (void)mallopt(M_TRIM_THRESHOLD, 16 << 20);
    weir_broker *b = NULL;
    if ((rv = weir_signal_init()) != WEIR_OK ||
        (rv = weir_broker_open(&b, &opts)) != WEIR_OK) {
        weir_conf_free(&spec, &opts, NULL);
        return 1;
    }
    rv = weir_broker_run(b);
    weir_broker_close(b);
    weir_conf_free(&spec, &opts, NULL);
    return rv == WEIR_OK ? 0 : 1;
}
