/*
 * The Kafka listener and its connections: reads frames, dispatches them to
 * the handlers, parks requests that wait, writes answers. Polled by the I/O
 * loop (server/broker.c), which it runs on.
 */
#ifndef WEIR_BROKER_SERVER_SERVER_H
#define WEIR_BROKER_SERVER_SERVER_H

#include <stddef.h>

#include "broker/state/core.h"

int weir__server_open(weir_broker *b);
void weir__server_close(weir_server *s);
int weir__server_poll(weir_broker *b, int timeout_ms);
size_t weir__server_conn_count(const weir_server *s);
void weir__server_drop_all(weir_broker *b);

#endif
