/* weir-coordinator: a thin main over weir_coordinator_lib. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/conf.h"
#include "common/err.h"
#include "common/expr/udf.h"
#include "common/log.h"
#include "common/signals.h"
#include "coordinator/coordinator.h"

typedef struct config {
    char *listen;
    char *http;
    char *data_dir;
    char *bootstrap;
    char *token;
    char *tls_cert;
    char *tls_key;
    int64_t heartbeat_interval_ms;
    int64_t session_timeout_ms;
    int64_t join_window_ms;
    int64_t stuck_task_ms;
    int64_t default_partitions;
    int64_t replication_factor;
    int64_t kafka_timeout_ms;
    char *plugins;
} config;

static const weir_conf_entry entries[] = {
    WEIR_CONF_STR(config, "listen", listen, "tcp://127.0.0.1:7700",
        "control socket URL for workers and weirctl (tcp:// or tls+tcp://)"),
    WEIR_CONF_STR(config, "http", http, "127.0.0.1:7780",
        "HTTP address for /metrics, /api/... and /healthz; empty: none"),
    WEIR_CONF_STR(config, "data-dir", data_dir, NULL,
        "directory for the durable coordinator state (required)"),
    WEIR_CONF_STR(config, "bootstrap", bootstrap, NULL,
        "Kafka bootstrap servers HOST:PORT[,...] (required); told to workers"),
    WEIR_CONF_INT(config, "heartbeat-interval-ms", heartbeat_interval_ms, "500",
        10, 60000, "how often workers heartbeat"),
    WEIR_CONF_INT(config, "session-timeout-ms", session_timeout_ms, "3000", 100,
        600000, "a worker silent this long is dead and its tasks move"),
    WEIR_CONF_INT(config, "stuck-task-ms", stuck_task_ms, "15000", 100,
        86400000,
        "a task not running for this long (unassigned, restoring, fenced, "
        "failed...) is stuck and its job shown degraded"),
    WEIR_CONF_STR(config, "plugins", plugins, NULL,
        "comma-separated plugin shared objects (user-defined functions) to "
        "load before compiling jobs"),
    WEIR_CONF_STR(config, "token", token, NULL,
        "shared secret every control and HTTP request must carry"),
    WEIR_CONF_STR(config, "tls-cert", tls_cert, NULL,
        "PEM certificate for a tls+tcp:// listener"),
    WEIR_CONF_STR(config, "tls-key", tls_key, NULL,
        "PEM private key for a tls+tcp:// listener"),
    WEIR_CONF_INT(config, "default-partitions", default_partitions, "4", 1,
        10000, "partitions of a job's source topic when it does not exist"),
    WEIR_CONF_INT(config, "replication-factor", replication_factor, "-1", -1,
        16,
        "replication factor of the topics the coordinator creates; -1: the "
        "cluster's default.replication.factor"),
    WEIR_CONF_HIDDEN_INT(config, "join-window-ms", join_window_ms, "300", 0,
        60000, "joins within this window make one rebalance"),
    WEIR_CONF_HIDDEN_INT(config, "kafka-timeout-ms", kafka_timeout_ms, "10000",
        100, 600000, "timeout of Kafka metadata and admin calls"),
};

static const weir_conf_spec spec = {"weir-coordinator",
    "Weir coordinator: jobs, worker membership, task assignment and "
    "failover.",
    "[OPTIONS]", entries, sizeof(entries) / sizeof(entries[0])};

int
main(int argc, char **argv)
{
    config c = {0};
    int rv = weir_conf_load(&spec, &c, argc, argv, NULL, NULL);
    if (rv != WEIR_OK) {
        weir_conf_free(&spec, &c, NULL);
        return rv == WEIR_ESTOPPED ? 0 : 2;
    }
    if (!c.data_dir || !c.data_dir[0] || !c.bootstrap || !c.bootstrap[0]) {
        fprintf(stderr, "weir-coordinator: --data-dir and --bootstrap are "
                        "required (see --help)\n");
        weir_conf_free(&spec, &c, NULL);
        return 2;
    }
    if (c.replication_factor == 0) {
        fprintf(stderr, "weir-coordinator: --replication-factor must be -1 "
                        "(the cluster's default) or at least 1\n");
        weir_conf_free(&spec, &c, NULL);
        return 2;
    }
    char err[512] = "";
    if (weir_udf_load_list(c.plugins, err, sizeof(err)) != WEIR_OK) {
        fprintf(stderr, "weir-coordinator: %s\n", err);
        weir_conf_free(&spec, &c, NULL);
        return 2;
    }
    weir_signal_init();
    weir_coord_opts o = {.listen = c.listen,
        .http = c.http,
        .data_dir = c.data_dir,
        .bootstrap = c.bootstrap,
        .token = c.token,
        .tls_cert = c.tls_cert,
        .tls_key = c.tls_key,
        .heartbeat_interval_ms = (uint32_t)c.heartbeat_interval_ms,
        .session_timeout_ms = (uint32_t)c.session_timeout_ms,
        .join_window_ms = (uint32_t)c.join_window_ms,
        .stuck_task_ms = (uint32_t)c.stuck_task_ms,
        .default_partitions = (uint32_t)c.default_partitions,
        .replication_factor = (int)c.replication_factor,
        .kafka_timeout_ms = (int)c.kafka_timeout_ms};
    weir_coord *co = NULL;
    rv = weir_coord_start(&co, &o, err, sizeof(err));
    if (rv != WEIR_OK) {
        weir_log_error("coordinator", "cannot start: %s",
            err[0] ? err : weir_strerror(rv));
        weir_conf_free(&spec, &c, NULL);
        return 1;
    }
    weir_log_info("coordinator", "ready listen=%s http=%s",
        weir_coord_listen_url(co), weir_coord_http_addr(co));
    while (!weir_signal_wait(1000))
        ;
    weir_log_info("coordinator", "stopping");
    weir_coord_stop(co);
    weir_coord_free(co);
    weir_conf_free(&spec, &c, NULL);
    weir_log_info("coordinator", "stopped");
    return 0;
}
