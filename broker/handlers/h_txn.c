/* Handlers: InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
 * TxnOffsetCommit (the transaction coordinator's API). */
#include <stdlib.h>
#include <string.h>

#include "broker/handlers/handler.h"
#include "broker/state/part.h"
#include "broker/state/txn.h"
#include "broker/state/persist.h"
#include "common/array.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

static int
txn_add(weir_broker *b, weir_kstr id, int64_t pid, int32_t timeout_ms,
    weir_txn **out)
{
    weir_txn *txn = calloc(1, sizeof(*txn));
    if (!txn || !(txn->id = weir_kstr_dup(id)) ||
        weir_array_append(&b->txns, &b->n_txns, &txn, sizeof(txn)) != WEIR_OK) {
        if (txn)
            free(txn->id);
        free(txn);
        return WEIR_ENOMEM;
    }
    txn->pid = pid;
    txn->prev_epoch = -1;
    txn->timeout_ms = timeout_ms; /* calloc: state WEIR_TXN_EMPTY */
    *out = txn;
    return WEIR_OK;
}

/* Starts a new epoch (or a new producer id when epochs run out). */
static int
txn_bump(weir_broker *b, weir_txn *txn)
{
    if (txn->epoch >= INT16_MAX - 1) {
        int64_t pid = weir__pid_alloc(b);
        if (pid < 0)
            return WEIR_EIO;
        txn->pid = pid;
        txn->epoch = 0;
    } else {
        txn->epoch++;
    }
    return WEIR_OK;
}

int
weir__h_init_producer_id(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    bool flex = req->flex;
    weir_kstr id = weir_kr_str(r, flex, true);
    int32_t timeout_ms = weir_kr_i32(r);
    int64_t want_pid = req->version >= 3 ? weir_kr_i64(r) : -1;
    int16_t want_epoch = req->version >= 3 ? weir_kr_i16(r) : -1;
    weir_kr_tags(r, flex);
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;
    int16_t err = req->forced_err;
    int16_t fenced =
        req->version >= 4 ? KERR_PRODUCER_FENCED : KERR_INVALID_PRODUCER_EPOCH;
    int64_t pid = -1;
    int16_t epoch = -1;
    if (err != KERR_NONE) {
    } else if (id.len <= 0) {
        /* Idempotent producer: a new id, or the next epoch of its own. */
        if (want_pid >= 0 && want_epoch >= 0 && want_epoch < INT16_MAX - 1) {
            pid = want_pid;
            epoch = (int16_t)(want_epoch + 1);
        } else if ((pid = weir__pid_alloc(b)) >= 0) {
            epoch = 0;
        } else {
            err = KERR_KAFKA_STORAGE_ERROR;
        }
    } else if (timeout_ms <= 0 || timeout_ms > b->opts.txn_max_timeout_ms) {
        err = KERR_INVALID_TRANSACTION_TIMEOUT;
    } else {
        weir_txn *txn = weir__txn_find(b, id.ptr, (size_t)id.len);
        if (!txn) {
            int64_t npid = weir__pid_alloc(b);
            if (npid < 0 || txn_add(b, id, npid, timeout_ms, &txn) != WEIR_OK)
                err = KERR_KAFKA_STORAGE_ERROR;
        } else if (want_pid == txn->pid && want_epoch == txn->prev_epoch &&
                   want_epoch >= 0 && txn->state == WEIR_TXN_EMPTY) {
            /* A retry of the bump we just made (its answer was lost):
             * answer it again instead of fencing the caller (KIP-360). */
        } else if (want_pid >= 0 &&
                   (want_pid != txn->pid || want_epoch != txn->epoch)) {
            err = fenced;
        } else {
            /* Only a producer bumping its own epoch may retry that bump;
             * a new owner's init leaves nothing for the old one to reuse. */
            txn->prev_epoch = want_pid >= 0 ? txn->epoch : -1;
            /* A new owner: abort the previous epoch's transaction with a
             * bumped epoch, fencing the old producer. */
            bool ongoing = txn->state == WEIR_TXN_ONGOING ||
                           txn->state == WEIR_TXN_PREPARE_ABORT;
            if (txn_bump(b, txn) != WEIR_OK ||
                (ongoing && weir__txn_end(b, txn, false) != WEIR_OK))
                err = KERR_KAFKA_STORAGE_ERROR;
            else if (ongoing)
                weir_log_info("broker",
                    "txn %s: aborted the open transaction of the previous "
                    "epoch",
                    txn->id);
        }
        if (err == KERR_NONE) {
            txn->timeout_ms = timeout_ms;
            if (weir__txn_set_state(b, txn, WEIR_TXN_EMPTY) != WEIR_OK ||
                weir__state_txn(b, txn) != WEIR_OK)
                err = KERR_KAFKA_STORAGE_ERROR;
            pid = txn->pid;
            epoch = txn->epoch;
            weir_log_debug("broker", "InitProducerId %s -> pid=%lld epoch=%d",
                txn->id, (long long)pid, (int)epoch);
        }
    }
    weir_kw_i32(w, 0);
    weir_kw_i16(w, weir__kerr_count(b, req->api_key, err));
    weir_kw_i64(w, err == KERR_NONE ? pid : -1);
    weir_kw_i16(w, err == KERR_NONE ? epoch : -1);
    weir_kw_tags(w, flex);
    return WEIR_OK;
}

/* Common checks of a request made on behalf of a transactional producer. */
static int16_t
txn_check(
    weir_broker *b, weir_kstr id, int64_t pid, int16_t epoch, weir_txn **out)
{
    weir_txn *txn =
        id.len > 0 ? weir__txn_find(b, id.ptr, (size_t)id.len) : NULL;
    *out = txn;
    if (!txn || txn->pid != pid)
        return KERR_INVALID_PRODUCER_ID_MAPPING;
    if (txn->epoch != epoch)
        return KERR_INVALID_PRODUCER_EPOCH;
    if (txn->state == WEIR_TXN_PREPARE_COMMIT ||
        txn->state == WEIR_TXN_PREPARE_ABORT)
        return KERR_CONCURRENT_TRANSACTIONS;
    return KERR_NONE;
}

/* Starts the next transaction unless one is ongoing (txn_check has ruled
 * out the prepared states, so the transition is always allowed). */
static void
txn_begin(weir_broker *b, weir_txn *txn)
{
    if (txn->state != WEIR_TXN_ONGOING &&
        weir__txn_set_state(b, txn, WEIR_TXN_ONGOING) == WEIR_OK)
        txn->start_ms = weir_clock_wall_ms();
}

static int
txn_add_part(weir_txn *txn, weir_kstr topic, int32_t partition)
{
    for (size_t i = 0; i < txn->n_parts; i++)
        if (txn->parts[i].partition == partition &&
            weir_kstr_eq(topic, txn->parts[i].topic))
            return WEIR_OK;
    weir_tp tp = {.topic = weir_kstr_dup(topic), .partition = partition};
    if (!tp.topic || weir_array_append(&txn->parts, &txn->n_parts, &tp,
                         sizeof(tp)) != WEIR_OK) {
        free(tp.topic);
        return WEIR_ENOMEM;
    }
    return WEIR_OK;
}

int
weir__h_add_partitions(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    weir_kstr id = weir_kr_str(r, false, false);
    int64_t pid = weir_kr_i64(r);
    int16_t epoch = weir_kr_i16(r);
    weir_kr topics = *r;
    int32_t nt = weir_kr_array(r, false, false, 6);
    /* First pass: the common error (or a missing partition). */
    weir_txn *txn = NULL;
    int16_t err = req->forced_err;
    if (err == KERR_NONE)
        err = txn_check(b, id, pid, epoch, &txn);
    bool missing = false;
    for (int32_t i = 0; i < nt && weir_kr_ok(r); i++) {
        weir_kstr topic = weir_kr_str(r, false, false);
        int32_t np = weir_kr_array(r, false, false, 4);
        for (int32_t k = 0; k < np; k++)
            if (!weir__part_find(b, topic, weir_kr_i32(r)))
                missing = true;
    }
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;
    bool add = err == KERR_NONE && !missing;
    weir_kw_i32(w, 0);
    nt = weir_kr_array(&topics, false, false, 6);
    weir_kw_array(w, false, nt);
    for (int32_t i = 0; i < nt; i++) {
        weir_kstr topic = weir_kr_str(&topics, false, false);
        int32_t np = weir_kr_array(&topics, false, false, 4);
        weir_kw_strn(w, false, topic.ptr, topic.len);
        weir_kw_array(w, false, np);
        for (int32_t k = 0; k < np; k++) {
            int32_t idx = weir_kr_i32(&topics);
            int16_t perr = err;
            if (perr == KERR_NONE && missing)
                perr = weir__part_find(b, topic, idx)
                           ? KERR_OPERATION_NOT_ATTEMPTED
                           : KERR_UNKNOWN_TOPIC_OR_PARTITION;
            if (add && txn_add_part(txn, topic, idx) != WEIR_OK)
                perr = KERR_UNKNOWN_SERVER_ERROR;
            weir_kw_i32(w, idx);
            weir_kw_i16(w, weir__kerr_count(b, req->api_key, perr));
        }
    }
    if (add) {
        txn_begin(b, txn);
        if (weir__state_txn(b, txn) != WEIR_OK)
            return WEIR_EIO;
    }
    return WEIR_OK;
}

int
weir__h_add_offsets(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    weir_kstr id = weir_kr_str(r, false, false);
    int64_t pid = weir_kr_i64(r);
    int16_t epoch = weir_kr_i16(r);
    weir_kstr group = weir_kr_str(r, false, false);
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;
    weir_txn *txn = NULL;
    int16_t err = req->forced_err;
    if (err == KERR_NONE)
        err = txn_check(b, id, pid, epoch, &txn);
    if (err == KERR_NONE && group.len <= 0)
        err = KERR_INVALID_GROUP_ID;
    if (err == KERR_NONE) {
        bool have = false;
        for (size_t i = 0; i < txn->n_groups; i++)
            have = have || weir_kstr_eq(group, txn->groups[i]);
        if (!have) {
            char *g = weir_kstr_dup(group);
            if (!g || weir_array_append(&txn->groups, &txn->n_groups, &g,
                          sizeof(g)) != WEIR_OK) {
                free(g);
                err = KERR_UNKNOWN_SERVER_ERROR;
            }
        }
        if (err == KERR_NONE) {
            txn_begin(b, txn);
            if (weir__state_txn(b, txn) != WEIR_OK)
                err = KERR_KAFKA_STORAGE_ERROR;
        }
    }
    weir_kw_i32(w, 0);
    weir_kw_i16(w, weir__kerr_count(b, req->api_key, err));
    return WEIR_OK;
}

int
weir__h_end_txn(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    weir_kstr id = weir_kr_str(r, false, false);
    int64_t pid = weir_kr_i64(r);
    int16_t epoch = weir_kr_i16(r);
    bool commit = weir_kr_bool(r);
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;
    weir_txn *txn = NULL;
    int16_t err = req->forced_err;
    if (err == KERR_NONE)
        err = txn_check(b, id, pid, epoch, &txn);
    if (err == KERR_NONE) {
        switch (txn->state) {
        case WEIR_TXN_ONGOING:
            if (weir__txn_end(b, txn, commit) != WEIR_OK)
                err = KERR_KAFKA_STORAGE_ERROR;
            break;
        case WEIR_TXN_COMPLETE_COMMIT:
            err = commit ? KERR_NONE : KERR_INVALID_TXN_STATE;
            break;
        case WEIR_TXN_COMPLETE_ABORT:
            err = commit ? KERR_INVALID_TXN_STATE : KERR_NONE;
            break;
        default:
            err = KERR_INVALID_TXN_STATE;
        }
    }
    if (err != KERR_NONE)
        weir_log_debug("broker", "EndTxn %.*s pid=%lld epoch=%d: error %s",
            (int)(id.len > 0 ? id.len : 0), id.ptr, (long long)pid, (int)epoch,
            weir__kerr_name(err));
    weir_kw_i32(w, 0);
    weir_kw_i16(w, weir__kerr_count(b, req->api_key, err));
    return WEIR_OK;
}

static int
txn_add_offset(weir_txn *txn, weir_kstr group, weir_kstr topic,
    int32_t partition, int64_t offset, int32_t leader_epoch, weir_kstr meta)
{
    weir_offset *o = NULL;
    for (size_t i = 0; i < txn->n_offsets && !o; i++)
        if (txn->offsets[i].partition == partition &&
            weir_kstr_eq(topic, txn->offsets[i].topic) &&
            weir_kstr_eq(group, txn->offsets[i].group))
            o = &txn->offsets[i];
    if (!o) {
        weir_offset no = {.partition = partition};
        no.group = weir_kstr_dup(group);
        no.topic = weir_kstr_dup(topic);
        if (!no.group || !no.topic ||
            weir_array_append(
                &txn->offsets, &txn->n_offsets, &no, sizeof(no)) != WEIR_OK) {
            free(no.group);
            free(no.topic);
            return WEIR_ENOMEM;
        }
        o = &txn->offsets[txn->n_offsets - 1];
    }
    free(o->metadata);
    o->metadata = meta.len >= 0 ? weir_kstr_dup(meta) : NULL;
    o->offset = offset;
    o->leader_epoch = leader_epoch;
    return WEIR_OK;
}

int
weir__h_txn_offset_commit(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    bool flex = req->flex;
    int16_t v = req->version;
    weir_kstr id = weir_kr_str(r, flex, false);
    weir_kstr group = weir_kr_str(r, flex, false);
    int64_t pid = weir_kr_i64(r);
    int16_t epoch = weir_kr_i16(r);
    if (v >= 3) {
        (void)weir_kr_i32(r);
        (void)weir_kr_str(r, flex, false);
        (void)weir_kr_str(r, flex, true);
    }
    weir_txn *txn = NULL;
    int16_t err = req->forced_err;
    if (err == KERR_NONE)
        err = txn_check(b, id, pid, epoch, &txn);
    if (err == KERR_NONE) {
        bool have = false;
        for (size_t i = 0; i < txn->n_groups; i++)
            have = have || weir_kstr_eq(group, txn->groups[i]);
        if (!have || txn->state != WEIR_TXN_ONGOING)
            err = KERR_INVALID_TXN_STATE;
    }
    bool changed = false;
    weir_kw_i32(w, 0);
    int32_t nt = weir_kr_array(r, flex, false, 3);
    weir_kw_array(w, flex, nt);
    for (int32_t i = 0; i < nt && weir_kr_ok(r); i++) {
        weir_kstr topic = weir_kr_str(r, flex, false);
        int32_t np = weir_kr_array(r, flex, false, 12);
        weir_kw_strn(w, flex, topic.ptr, topic.len);
        weir_kw_array(w, flex, np);
        for (int32_t k = 0; k < np && weir_kr_ok(r); k++) {
            int32_t idx = weir_kr_i32(r);
            int64_t offset = weir_kr_i64(r);
            int32_t le = v >= 2 ? weir_kr_i32(r) : -1;
            weir_kstr meta = weir_kr_str(r, flex, true);
            weir_kr_tags(r, flex);
            int16_t perr = err;
            if (perr == KERR_NONE && weir_kr_ok(r)) {
                if (txn_add_offset(txn, group, topic, idx, offset, le, meta) !=
                    WEIR_OK)
                    perr = KERR_UNKNOWN_SERVER_ERROR;
                else
                    changed = true;
            }
            weir_kw_i32(w, idx);
            weir_kw_i16(w, weir__kerr_count(b, req->api_key, perr));
            weir_kw_tags(w, flex);
        }
        weir_kr_tags(r, flex);
        weir_kw_tags(w, flex);
    }
    weir_kr_tags(r, flex);
    weir_kw_tags(w, flex);
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;
    if (changed && weir__state_txn(b, txn) != WEIR_OK)
        return WEIR_EIO;
    return WEIR_OK;
}
