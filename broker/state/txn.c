/*
 * Transaction coordinator: the state of each transactional.id, ending
 * transactions (markers into every partition, then pending offsets made
 * visible), timeouts and crash recovery. Every state change is journaled
 * before it is acted on, so a restart finishes what a crash interrupted.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/state/topic.h"
#include "broker/state/txn.h"
#include "broker/state/persist.h"
#include "common/crash.h"
#include "common/err.h"
#include "common/log.h"

const char *
weir__txn_state_name(weir_txn_state st)
{
    switch (st) {
    case WEIR_TXN_EMPTY:
        return "Empty";
    case WEIR_TXN_ONGOING:
        return "Ongoing";
    case WEIR_TXN_PREPARE_COMMIT:
        return "PrepareCommit";
    case WEIR_TXN_PREPARE_ABORT:
        return "PrepareAbort";
    case WEIR_TXN_COMPLETE_COMMIT:
        return "CompleteCommit";
    case WEIR_TXN_COMPLETE_ABORT:
        return "CompleteAbort";
    }
    return "Unknown";
}

/*
 * The transaction state machine (Kafka's TransactionState), as the table
 * below allows it:
 *
 *   Empty ----------> Ongoing          AddPartitions / AddOffsets
 *   Ongoing --------> PrepareCommit    EndTxn(commit)
 *   Ongoing --------> PrepareAbort     EndTxn(abort), timeout, new epoch
 *   PrepareCommit --> CompleteCommit   markers written, offsets applied
 *   PrepareAbort ---> CompleteAbort    markers written
 *   Complete* ------> Ongoing          the next transaction
 *   Complete* ------> Empty            InitProducerId
 *   PrepareCommit --> Empty            InitProducerId of a commit left
 *                                      prepared by a failed write
 *
 * Staying in a state is always allowed. A new transaction starts Empty.
 */
#define B(s) (1u << (s))
static const unsigned allowed[] = {
    [WEIR_TXN_EMPTY] = B(WEIR_TXN_ONGOING),
    [WEIR_TXN_ONGOING] = B(WEIR_TXN_PREPARE_COMMIT) | B(WEIR_TXN_PREPARE_ABORT),
    [WEIR_TXN_PREPARE_COMMIT] = B(WEIR_TXN_COMPLETE_COMMIT) | B(WEIR_TXN_EMPTY),
    [WEIR_TXN_PREPARE_ABORT] = B(WEIR_TXN_COMPLETE_ABORT),
    [WEIR_TXN_COMPLETE_COMMIT] = B(WEIR_TXN_ONGOING) | B(WEIR_TXN_EMPTY),
    [WEIR_TXN_COMPLETE_ABORT] = B(WEIR_TXN_ONGOING) | B(WEIR_TXN_EMPTY),
};
#undef B

/* The one transition function: the only writer of txn->state. */
int
weir__txn_set_state(weir_broker *b, weir_txn *txn, weir_txn_state to)
{
    weir_txn_state from = txn->state;
    /* While the journal is replayed, a record holds a state reached by a
     * checked transition before the restart: it is restored as written. */
    if (!b->replaying && from != to) {
        if ((unsigned)from > WEIR_TXN_COMPLETE_ABORT ||
            (unsigned)to > WEIR_TXN_COMPLETE_ABORT ||
            !(allowed[from] & (1u << to))) {
            weir_log_error("broker", "invalid transition txn=%s from=%s to=%s",
                txn->id, weir__txn_state_name(from), weir__txn_state_name(to));
            return WEIR_ESTATE;
        }
        weir_log_debug("broker", "state txn=%s from=%s to=%s", txn->id,
            weir__txn_state_name(from), weir__txn_state_name(to));
    }
    txn->state = to;
    return WEIR_OK;
}

weir_txn *
weir__txn_find(weir_broker *b, const char *id, size_t len)
{
    for (size_t i = 0; i < b->n_txns; i++) {
        weir_txn *t = b->txns[i];
        if (strlen(t->id) == len && memcmp(t->id, id, len) == 0)
            return t;
    }
    return NULL;
}

weir_txn *
weir__txn_find_pid(weir_broker *b, int64_t pid)
{
    for (size_t i = 0; i < b->n_txns; i++)
        if (b->txns[i]->pid == pid)
            return b->txns[i];
    return NULL;
}

int64_t
weir__pid_alloc(weir_broker *b)
{
    int64_t pid = b->next_pid;
    if (weir__state_next_pid(b, pid + 1) != WEIR_OK)
        return -1;
    b->next_pid = pid + 1;
    return pid;
}

static void
clear_contents(weir_txn *txn)
{
    for (size_t i = 0; i < txn->n_parts; i++)
        free(txn->parts[i].topic);
    for (size_t i = 0; i < txn->n_groups; i++)
        free(txn->groups[i]);
    for (size_t i = 0; i < txn->n_offsets; i++) {
        free(txn->offsets[i].group);
        free(txn->offsets[i].topic);
        free(txn->offsets[i].metadata);
    }
    free(txn->parts);
    free(txn->groups);
    free(txn->offsets);
    txn->parts = NULL;
    txn->groups = NULL;
    txn->offsets = NULL;
    txn->n_parts = txn->n_groups = txn->n_offsets = 0;
}

void
weir__txn_free(weir_txn *txn)
{
    if (!txn)
        return;
    clear_contents(txn);
    free(txn->id);
    free(txn);
}

/* Makes the pending offsets of a committing txn the groups' offsets. */
static int
apply_offsets(weir_broker *b, weir_txn *txn)
{
    for (size_t i = 0; i < txn->n_offsets; i++) {
        weir_offset *o = &txn->offsets[i];
        weir_group *g = weir__group_get(b, o->group, strlen(o->group), true);
        if (!g)
            return WEIR_ENOMEM;
        int rv = weir__group_commit(
            g, o->topic, o->partition, o->offset, o->leader_epoch, o->metadata);
        if (rv == WEIR_OK)
            rv = weir__state_offsets(b, o->group, o, 1);
        if (rv != WEIR_OK)
            return rv;
    }
    return WEIR_OK;
}

int
weir__txn_end(weir_broker *b, weir_txn *txn, bool commit)
{
    int rv;
    weir_txn_state prepared =
        commit ? WEIR_TXN_PREPARE_COMMIT : WEIR_TXN_PREPARE_ABORT;
    if (txn->state != prepared) {
        if ((rv = weir__txn_set_state(b, txn, prepared)) != WEIR_OK)
            return rv;
        if ((rv = weir__state_txn(b, txn)) != WEIR_OK)
            return rv;
    }
    WEIR_CRASH_POINT("broker.txn.prepared");
    for (size_t i = 0; i < txn->n_parts; i++) {
        weir_tp *tp = &txn->parts[i];
        weir_kstr name = {tp->topic, (int32_t)strlen(tp->topic)};
        weir_part *part = weir__part_find(b, name, tp->partition);
        if (!part)
            continue; /* topic deleted meanwhile */
        rv = weir__part_write_marker(b, part, txn->pid, txn->epoch, commit);
        if (rv != WEIR_OK)
            return rv;
        WEIR_CRASH_POINT("broker.txn.marker");
    }
    if (commit && (rv = apply_offsets(b, txn)) != WEIR_OK)
        return rv;
    WEIR_CRASH_POINT("broker.txn.offsets");
    clear_contents(txn);
    rv = weir__txn_set_state(
        b, txn, commit ? WEIR_TXN_COMPLETE_COMMIT : WEIR_TXN_COMPLETE_ABORT);
    if (rv != WEIR_OK)
        return rv;
    if ((rv = weir__state_txn(b, txn)) != WEIR_OK)
        return rv;
    if (commit)
        b->metrics.txn_committed++;
    else
        b->metrics.txn_aborted++;
    b->changed = true;
    weir_log_debug("broker", "txn %s pid=%lld epoch=%d %s", txn->id,
        (long long)txn->pid, (int)txn->epoch, commit ? "committed" : "aborted");
    return WEIR_OK;
}

void
weir__txn_expire(weir_broker *b, int64_t now_ms)
{
    for (size_t i = 0; i < b->n_txns; i++) {
        weir_txn *txn = b->txns[i];
        if (txn->state != WEIR_TXN_ONGOING ||
            now_ms - txn->start_ms <= txn->timeout_ms)
            continue;
        weir_log_info("broker",
            "txn %s timed out after %lld ms: aborting with epoch bump", txn->id,
            (long long)(now_ms - txn->start_ms));
        if (txn->epoch < INT16_MAX - 1)
            txn->epoch++;
        if (weir__txn_end(b, txn, false) == WEIR_OK)
            b->metrics.txn_timed_out++;
    }
}

void
weir__txn_recover(weir_broker *b)
{
    for (size_t i = 0; i < b->n_txns; i++) {
        weir_txn *txn = b->txns[i];
        if (txn->state != WEIR_TXN_PREPARE_COMMIT &&
            txn->state != WEIR_TXN_PREPARE_ABORT)
            continue;
        bool commit = txn->state == WEIR_TXN_PREPARE_COMMIT;
        weir_log_info("broker", "completing %s of txn %s after restart",
            commit ? "commit" : "abort", txn->id);
        (void)weir__txn_end(b, txn, commit);
    }
}

bool
weir__txn_has_pending(
    weir_broker *b, weir_kstr group, weir_kstr topic, int32_t partition)
{
    for (size_t i = 0; i < b->n_txns; i++) {
        weir_txn *txn = b->txns[i];
        for (size_t k = 0; k < txn->n_offsets; k++) {
            weir_offset *o = &txn->offsets[k];
            if (o->partition == partition && weir_kstr_eq(group, o->group) &&
                weir_kstr_eq(topic, o->topic))
                return true;
        }
    }
    return false;
}
