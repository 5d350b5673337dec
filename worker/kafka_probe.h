/*
 * Whether this worker reaches Kafka: a thread asks for metadata every two
 * seconds, so the control thread can tell the coordinator (which gives no
 * tasks to a worker that cannot reach Kafka) without ever waiting itself.
 */
#ifndef WEIR_WORKER_KAFKA_PROBE_H
#define WEIR_WORKER_KAFKA_PROBE_H

#include <stddef.h>

#include "proto/cluster.pb-c.h"

typedef struct weir_kafka_probe weir_kafka_probe;

int weir_kafka_probe_start(weir_kafka_probe **out, const char *bootstrap);
void weir_kafka_probe_stop(weir_kafka_probe *p); /* NULL-safe */

/* The last answer (KAFKA_UNKNOWN before the first); why when unreachable.
 * NULL p: unknown. */
Weir__Cluster__KafkaState weir_kafka_probe_state(
    weir_kafka_probe *p, char *why, size_t whylen);

#endif
