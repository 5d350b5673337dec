/*
 * A worker's pull-query server: an NNG rep socket answering StoreQuery
 * (the control wire format) on a thread of its own, from the runtime's
 * stores (weir_runtime_store_query). The coordinator routes queries here.
 */
#ifndef WEIR_WORKER_QUERY_SERVER_H
#define WEIR_WORKER_QUERY_SERVER_H

#include <stddef.h>

#include "runtime.h"

typedef struct weir_query_server weir_query_server;

/*
 * Listens at url (tcp://HOST:PORT; port 0 picks one); *bound (bound_len
 * bytes) receives the URL it listens at, to advertise. WEIR_EIO when it
 * cannot listen (err says why).
 */
int weir_query_server_start(weir_query_server **out, weir_runtime *rt,
    const char *url, char *bound, size_t bound_len, char *err, size_t errlen);
/* Stops and frees; NULL-safe. */
void weir_query_server_stop(weir_query_server *qs);

#endif
