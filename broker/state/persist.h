/*
 * The broker's state in the journal: one record per change (topics,
 * committed offsets, the next producer id, transactions), replayed on open
 * and rewritten as a snapshot when the journal grows.
 */
#ifndef WEIR_BROKER_STATE_PERSIST_H
#define WEIR_BROKER_STATE_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "broker/state/core.h"

typedef struct weir_offset weir_offset;

int weir__state_open(weir_broker *b);
int weir__state_topic(weir_broker *b, const weir_topic *topic);
int weir__state_topic_delete(weir_broker *b, const char *name);
int weir__state_offsets(
    weir_broker *b, const char *group, const weir_offset *offs, size_t n);
int weir__state_next_pid(weir_broker *b, int64_t next_pid);
int weir__state_txn(weir_broker *b, const weir_txn *txn);
int weir__state_maybe_rewrite(weir_broker *b);

#endif
