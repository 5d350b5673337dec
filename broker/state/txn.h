/*
 * The transaction coordinator: one weir_txn per transactional.id, with its
 * producer id and epoch, the partitions and groups it touched, and its
 * offsets to commit. Every state change is journaled.
 */
#ifndef WEIR_BROKER_STATE_TXN_H
#define WEIR_BROKER_STATE_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/protocol/kcodec.h"
#include "broker/state/core.h"
#include "broker/state/group.h"

typedef enum weir_txn_state {
    WEIR_TXN_EMPTY,
    WEIR_TXN_ONGOING,
    WEIR_TXN_PREPARE_COMMIT,
    WEIR_TXN_PREPARE_ABORT,
    WEIR_TXN_COMPLETE_COMMIT,
    WEIR_TXN_COMPLETE_ABORT,
} weir_txn_state;

typedef struct weir_tp {
    char *topic;
    int32_t partition;
} weir_tp;

typedef struct weir_txn {
    char *id;
    int64_t pid;
    int16_t epoch;
    int16_t prev_epoch; /* before the last InitProducerId bump; -1 none */
    int32_t timeout_ms;
    weir_txn_state state;
    int64_t start_ms; /* wall clock when it became ongoing */
    weir_tp *parts;
    size_t n_parts;
    char **groups;
    size_t n_groups;
    weir_offset *offsets;
    size_t n_offsets;
} weir_txn;

weir_txn *weir__txn_find(weir_broker *b, const char *id, size_t len);
weir_txn *weir__txn_find_pid(weir_broker *b, int64_t pid);
/* Allocates (and journals) a fresh producer id. -1 on journal failure. */
int64_t weir__pid_alloc(weir_broker *b);
/* Ends txn (commit or abort) with markers at epoch; journals each step. */
int weir__txn_end(weir_broker *b, weir_txn *txn, bool commit);
/* Aborts transactions past their timeout (with an epoch bump). */
void weir__txn_expire(weir_broker *b, int64_t now_ms);
/* Completes transactions left prepared by a crash (after replay). */
void weir__txn_recover(weir_broker *b);
bool weir__txn_has_pending(
    weir_broker *b, weir_kstr group, weir_kstr topic, int32_t partition);
void weir__txn_free(weir_txn *txn);
const char *weir__txn_state_name(weir_txn_state st);
/*
 * The one transition function (table and diagram in txn.c): moves txn to
 * state to, or refuses an illegal transition with WEIR_ESTATE and an error
 * log line (a programming error; the state is unchanged). While the journal
 * is replayed (b->replaying) a journaled state is restored as written.
 */
int weir__txn_set_state(weir_broker *b, weir_txn *txn, weir_txn_state to);

#endif
