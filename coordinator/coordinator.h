/*
 * The coordinator process as a library: the NNG REP control socket, the
 * HTTP server and the one event-loop thread that owns all cluster state
 * (cluster.h). NNG callbacks only enqueue work for the loop (libuv,
 * redis); the loop handles requests in arrival order, ticks the cluster's
 * clock every few tens of milliseconds, and writes the durable state to
 * the data dir whenever it changed before it answers.
 */
#ifndef WEIR_COORDINATOR_COORDINATOR_H
#define WEIR_COORDINATOR_COORDINATOR_H

#include <stdbool.h>
#include <stdint.h>

typedef struct weir_coord weir_coord;

typedef struct weir_coord_opts {
    const char *listen;    /* "tcp://127.0.0.1:7700" or "tls+tcp://..." */
    const char *http;      /* "127.0.0.1:7780"; NULL or "" for none */
    const char *data_dir;  /* durable state; created if missing */
    const char *bootstrap; /* Kafka bootstrap, given to workers */
    const char *token;     /* shared secret; NULL or "" for none */
    const char *tls_cert;  /* PEM files for tls+tcp:// */
    const char *tls_key;
    uint32_t heartbeat_interval_ms;
    uint32_t session_timeout_ms;
    uint32_t join_window_ms;
    uint32_t stuck_task_ms;      /* see weir_cluster_opts */
    uint32_t default_partitions; /* for source topics that do not exist */
    int replication_factor;      /* for topics the coordinator creates */
    int kafka_timeout_ms;
} weir_coord_opts;

/*
 * Loads the durable state, binds the control socket and the HTTP server
 * and starts the event loop. Errors: WEIR_EINVAL (options), WEIR_ECORRUPT
 * (unreadable state file), WEIR_EIO (cannot bind: reason in err),
 * WEIR_ENOMEM.
 */
int weir_coord_start(
    weir_coord **cop, const weir_coord_opts *opts, char *err, size_t errsize);

/* Stops serving, saves the state, joins the loop. NULL-safe. */
void weir_coord_stop(weir_coord *co);
void weir_coord_free(weir_coord *co); /* NULL-safe */

/* The bound control URL and HTTP address (for the ready line). */
const char *weir_coord_listen_url(const weir_coord *co);
const char *weir_coord_http_addr(const weir_coord *co);

#endif
