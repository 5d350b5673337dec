/*
 * The worker's link to the coordinator: one control thread that says Hello,
 * heartbeats every interval with the runtime's task report, applies the
 * target assignments the coordinator sends (weir_runtime_assign), and says
 * Leave on a clean stop.
 *
 * A coordinator outage never stops processing: while the coordinator is
 * unreachable the runtime keeps its current assignment and the control
 * thread reconnects with exponential backoff (100 ms doubling to 5 s).
 * ERR_STALE_EPOCH (the coordinator declared this worker dead or restarted
 * without knowing it) makes the control thread say Hello again; the new
 * assignment then comes with the next heartbeat reply.
 *
 * Threading: weir_control_start spawns the control thread, which is the
 * only caller of weir_runtime_assign and weir_runtime_report for this link.
 * start/stop/free are called from one thread (the worker's main).
 */
#ifndef WEIR_WORKER_CONTROL_H
#define WEIR_WORKER_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/cluster.pb-c.h"

typedef struct weir_runtime weir_runtime;
typedef struct weir_control weir_control;

typedef struct weir_control_opts {
    const char *coordinator;   /* "tcp://127.0.0.1:7700" (or tls+tcp://) */
    const char *worker_id;     /* unique name of this worker */
    const char *address;       /* advertised address, informational; may be
                                  NULL */
    uint32_t capacity;         /* relative task capacity, >= 1 */
    const char *token;         /* shared secret, NULL or "" when none */
    const char *bootstrap;     /* overrides Welcome's bootstrap; NULL: use the
                                  coordinator's */
    const char *tls_ca;        /* CA file for tls+tcp:// URLs; NULL: none */
    const char *query_address; /* where pull queries are answered; "" none */
} weir_control_opts;

/*
 * Starts the control thread. Strings in opts are copied. Returns WEIR_OK,
 * WEIR_EINVAL (bad options), WEIR_ENOMEM or WEIR_EIO (socket setup).
 * Reaching the coordinator is not required to start: the thread keeps
 * trying in the background.
 */
int weir_control_start(
    weir_control **ctlp, weir_runtime *rt, const weir_control_opts *opts);

/*
 * Stops the control thread: sends Leave (best effort, short timeout) when
 * registered, then joins the thread. Tasks keep whatever state the runtime
 * gives them; stopping the runtime is the caller's job. NULL-safe.
 */
void weir_control_stop(weir_control *ctl);

/* Frees a stopped control link. NULL-safe. */
void weir_control_free(weir_control *ctl);

/* True once a Welcome was received and the last heartbeat succeeded. */
bool weir_control_connected(const weir_control *ctl);

/* What the heartbeat tells about Kafka (worker/kafka_probe.h): the
 * probe's last answer, KAFKA_UNKNOWN before there is one or for a NULL
 * ctl. Thread-safe. */
Weir__Cluster__KafkaState weir_control_kafka_state(weir_control *ctl);

#endif
