/*
 * The Kafka API handlers: one function per API, grouped by family in
 * h_*.c, and the dispatch table from API key to handler (handlers.c).
 * Threading: the broker's I/O loop only.
 */
#ifndef WEIR_BROKER_HANDLERS_HANDLER_H
#define WEIR_BROKER_HANDLERS_HANDLER_H

#include <stdint.h>

#include "broker/protocol/kcodec.h"
#include "broker/protocol/kerr.h"
#include "broker/protocol/request.h"
#include "broker/state/core.h"

/*
 * A handler reads req->body and writes the response body into w. Returns
 * WEIR_OK (send it), WEIR_EAGAIN (park: retried when state changes or at
 * req->deadline_ms), WEIR_ESTOPPED (send nothing, acks=0), WEIR_EPROTO
 * (malformed: close the connection).
 */
typedef int (*weir_handler_fn)(weir_broker *b, weir_kreq *req, weir_kw *w);
weir_handler_fn weir__handler(int16_t api_key);

int weir__h_api_versions(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_metadata(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_create_topics(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_delete_topics(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_find_coordinator(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_produce(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_fetch(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_list_offsets(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_init_producer_id(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_add_partitions(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_add_offsets(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_end_txn(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_txn_offset_commit(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_list_transactions(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_describe_transactions(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_describe_producers(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_write_txn_markers(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_offset_commit(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_offset_fetch(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_join_group(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_sync_group(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_heartbeat(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_leave_group(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_describe_groups(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_list_groups(weir_broker *b, weir_kreq *req, weir_kw *w);
int weir__h_describe_configs(weir_broker *b, weir_kreq *req, weir_kw *w);

/* Counts a non-zero Kafka error answered for api; returns err. */
static inline int16_t
weir__kerr_count(weir_broker *b, int16_t api, int16_t err)
{
    if (err != 0 && api >= 0 && api < WEIR_API_KEY_MAX)
        b->metrics.errors[api]++;
    return err;
}

#endif
