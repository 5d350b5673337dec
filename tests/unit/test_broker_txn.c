/* The transaction coordinator through its real request handlers:
 * InitProducerId (new ids, fencing bumps, KIP-360 self bumps and their
 * retries, stale epochs, timeouts), AddPartitionsToTxn, EndTxn states and
 * retries, and a new owner aborting the previous epoch's transaction; and
 * its state machine through weir__txn_set_state, every pair of states. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/storage/batch.h"
#include "broker/handlers/handler.h"
#include "broker/state/topic.h"
#include "broker/state/persist.h"
#include "broker/state/txn.h"
#include "common/err.h"

static char dir[64];
static weir_broker *b;

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int
setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/weir-txn-XXXXXX");
    assert_non_null(mkdtemp(dir));
    b = calloc(1, sizeof(*b));
    b->opts.data_dir = dir;
    b->opts.segment_bytes = 1 << 20;
    b->opts.txn_max_timeout_ms = 60000;
    b->fsync = WEIR_FSYNC_NEVER;
    b->next_pid = 1000;
    b->lock_fd = -1;
    assert_int_equal(weir__state_open(b), WEIR_OK);
    assert_int_equal(
        weir__topic_create(b, "t", 2, &weir__topic_conf_default), WEIR_OK);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    weir_broker_close(b);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* Runs handler on body (as request version v) and returns the response. */
static weir_kw
call(weir_handler_fn fn, int16_t v, bool flex, weir_kw *body)
{
    weir_kreq req = {0};
    req.version = v;
    req.flex = flex;
    weir_kr_init(&req.body, body->buf, body->len);
    weir_kw resp;
    weir_kw_init(&resp);
    assert_int_equal(fn(b, &req, &resp), WEIR_OK);
    weir_kw_fini(body);
    return resp;
}

static int16_t
init_pid(const char *id, int32_t timeout_ms, int64_t pid, int16_t epoch,
    int16_t v, int64_t *out_pid, int16_t *out_epoch)
{
    bool flex = v >= 2;
    weir_kw w;
    weir_kw_init(&w);
    weir_kw_str(&w, flex, id);
    weir_kw_i32(&w, timeout_ms);
    if (v >= 3) {
        weir_kw_i64(&w, pid);
        weir_kw_i16(&w, epoch);
    }
    weir_kw_tags(&w, flex);
    weir_kw resp = call(weir__h_init_producer_id, v, flex, &w);
    weir_kr r;
    weir_kr_init(&r, resp.buf, resp.len);
    (void)weir_kr_i32(&r);
    int16_t err = weir_kr_i16(&r);
    *out_pid = weir_kr_i64(&r);
    *out_epoch = weir_kr_i16(&r);
    assert_true(weir_kr_ok(&r));
    weir_kw_fini(&resp);
    return err;
}

static int16_t
add_partition(const char *id, int64_t pid, int16_t epoch, int32_t part)
{
    weir_kw w;
    weir_kw_init(&w);
    weir_kw_str(&w, false, id);
    weir_kw_i64(&w, pid);
    weir_kw_i16(&w, epoch);
    weir_kw_array(&w, false, 1);
    weir_kw_str(&w, false, "t");
    weir_kw_array(&w, false, 1);
    weir_kw_i32(&w, part);
    weir_kw resp = call(weir__h_add_partitions, 0, false, &w);
    weir_kr r;
    weir_kr_init(&r, resp.buf, resp.len);
    (void)weir_kr_i32(&r);
    assert_int_equal(weir_kr_array(&r, false, false, 1), 1);
    (void)weir_kr_str(&r, false, false);
    assert_int_equal(weir_kr_array(&r, false, false, 1), 1);
    assert_int_equal(weir_kr_i32(&r), part);
    int16_t err = weir_kr_i16(&r);
    assert_true(weir_kr_ok(&r));
    weir_kw_fini(&resp);
    return err;
}

static int16_t
end_txn(const char *id, int64_t pid, int16_t epoch, bool commit)
{
    weir_kw w;
    weir_kw_init(&w);
    weir_kw_str(&w, false, id);
    weir_kw_i64(&w, pid);
    weir_kw_i16(&w, epoch);
    weir_kw_bool(&w, commit);
    weir_kw resp = call(weir__h_end_txn, 1, false, &w);
    weir_kr r;
    weir_kr_init(&r, resp.buf, resp.len);
    (void)weir_kr_i32(&r);
    int16_t err = weir_kr_i16(&r);
    weir_kw_fini(&resp);
    return err;
}

static int16_t
produce_txn(int64_t pid, int16_t epoch, int32_t seq, int32_t part)
{
    uint8_t buf[512];
    weir_record_in rec = {"k", 1, "v", 1, 1};
    weir_batch_opts o = {pid, epoch, seq, true, false};
    size_t len = weir_batch_build(buf, sizeof(buf), &o, &rec, 1);
    int64_t off;
    return weir__part_produce(b, &b->topics[0]->parts[part], buf, len, &off);
}

static void
test_init_producer_id(void **state)
{
    (void)state;
    int64_t pid, pid2;
    int16_t epoch, epoch2;
    assert_int_equal(init_pid("a", 1000, -1, -1, 4, &pid, &epoch), KERR_NONE);
    assert_true(pid >= 1000);
    assert_int_equal(epoch, 0);
    /* A new owner (no pid given) bumps the epoch. */
    assert_int_equal(init_pid("a", 1000, -1, -1, 1, &pid2, &epoch2), KERR_NONE);
    assert_true(pid2 == pid);
    assert_int_equal(epoch2, 1);
    /* The old owner's epoch 0 is fenced, by version. */
    assert_int_equal(
        init_pid("a", 1000, pid, 0, 4, &pid2, &epoch2), KERR_PRODUCER_FENCED);
    assert_int_equal(init_pid("a", 1000, pid, 0, 3, &pid2, &epoch2),
        KERR_INVALID_PRODUCER_EPOCH);
    /* KIP-360: the owner bumps itself; a retry of that bump (its answer
     * lost) gets the same epoch again instead of being fenced. */
    assert_int_equal(init_pid("a", 1000, pid, 1, 4, &pid2, &epoch2), KERR_NONE);
    assert_int_equal(epoch2, 2);
    assert_int_equal(init_pid("a", 1000, pid, 1, 4, &pid2, &epoch2), KERR_NONE);
    assert_int_equal(epoch2, 2);
    /* After a fresh init by a new owner, the old epoch cannot retry. */
    assert_int_equal(init_pid("a", 1000, -1, -1, 4, &pid2, &epoch2), KERR_NONE);
    assert_int_equal(epoch2, 3);
    assert_int_equal(
        init_pid("a", 1000, pid, 2, 4, &pid2, &epoch2), KERR_PRODUCER_FENCED);
    /* Timeouts above the broker's maximum are refused. */
    assert_int_equal(init_pid("b", 120000, -1, -1, 4, &pid2, &epoch2),
        KERR_INVALID_TRANSACTION_TIMEOUT);
    /* Idempotent producers (no transactional id) get fresh ids. */
    assert_int_equal(init_pid(NULL, 0, -1, -1, 4, &pid2, &epoch2), KERR_NONE);
    assert_true(pid2 != pid);
    assert_int_equal(epoch2, 0);
}

static void
test_end_txn(void **state)
{
    (void)state;
    int64_t pid;
    int16_t epoch;
    assert_int_equal(init_pid("x", 5000, -1, -1, 4, &pid, &epoch), KERR_NONE);
    assert_int_equal(end_txn("x", pid, epoch, true), KERR_INVALID_TXN_STATE);
    assert_int_equal(add_partition("x", pid, epoch, 0), KERR_NONE);
    assert_int_equal(
        add_partition("x", pid, epoch, 7), KERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(add_partition("x", pid + 1, epoch, 0),
        KERR_INVALID_PRODUCER_ID_MAPPING);
    assert_int_equal(add_partition("x", pid, (int16_t)(epoch + 1), 0),
        KERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(produce_txn(pid, epoch, 0, 0), KERR_NONE);
    /* Not added: refused. */
    assert_int_equal(produce_txn(pid, epoch, 1, 1), KERR_INVALID_TXN_STATE);
    weir_part *p = &b->topics[0]->parts[0];
    assert_int_equal(weir__part_lso(p), 0);
    assert_int_equal(end_txn("x", pid, (int16_t)(epoch + 1), true),
        KERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(end_txn("x", pid, epoch, true), KERR_NONE);
    assert_int_equal(weir__part_lso(p), 2); /* record + COMMIT marker */
    /* A retried commit succeeds; an abort now is a state error. */
    assert_int_equal(end_txn("x", pid, epoch, true), KERR_NONE);
    assert_int_equal(end_txn("x", pid, epoch, false), KERR_INVALID_TXN_STATE);
    assert_int_equal(b->metrics.txn_committed, 1);
}

static void
test_new_owner_aborts(void **state)
{
    (void)state;
    int64_t pid, pid2;
    int16_t epoch, epoch2;
    assert_int_equal(init_pid("z", 5000, -1, -1, 4, &pid, &epoch), KERR_NONE);
    assert_int_equal(add_partition("z", pid, epoch, 1), KERR_NONE);
    assert_int_equal(produce_txn(pid, epoch, 0, 1), KERR_NONE);
    weir_part *p = &b->topics[0]->parts[1];
    assert_int_equal(weir__part_lso(p), 0);
    assert_int_equal(init_pid("z", 5000, -1, -1, 4, &pid2, &epoch2), KERR_NONE);
    assert_int_equal(epoch2, epoch + 1);
    /* The open transaction was aborted: LSO past the ABORT marker. */
    assert_int_equal(weir__part_lso(p), 2);
    assert_int_equal(p->n_aborted, 1);
    /* The zombie can neither produce nor end its transaction. */
    assert_int_equal(
        produce_txn(pid, epoch, 1, 1), KERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(
        end_txn("z", pid, epoch, true), KERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(b->metrics.txn_aborted, 1);
}

/* Every transition the state machine allows (txn.c's diagram), by hand:
 * from (row) to (column), both in enum order: Empty, Ongoing, PrepareCommit,
 * PrepareAbort, CompleteCommit, CompleteAbort. Staying is always allowed. */
#define N_TXN_STATES (WEIR_TXN_COMPLETE_ABORT + 1)
static const bool txn_allowed[N_TXN_STATES][N_TXN_STATES] = {
    [WEIR_TXN_EMPTY] = {true, true, false, false, false, false},
    [WEIR_TXN_ONGOING] = {false, true, true, true, false, false},
    [WEIR_TXN_PREPARE_COMMIT] = {true, false, true, false, true, false},
    [WEIR_TXN_PREPARE_ABORT] = {false, false, false, true, false, true},
    [WEIR_TXN_COMPLETE_COMMIT] = {true, true, false, false, true, false},
    [WEIR_TXN_COMPLETE_ABORT] = {true, true, false, false, false, true},
};

static void
test_state_transitions(void **state)
{
    (void)state;
    weir_txn txn = {.id = "s"};
    for (int from = 0; from < N_TXN_STATES; from++) {
        for (int to = 0; to < N_TXN_STATES; to++) {
            txn.state = (weir_txn_state)from;
            int rv = weir__txn_set_state(b, &txn, (weir_txn_state)to);
            if (txn_allowed[from][to]) {
                assert_int_equal(rv, WEIR_OK);
                assert_int_equal(txn.state, to);
            } else {
                /* Refused, and the state is left as it was. */
                assert_int_equal(rv, WEIR_ESTATE);
                assert_int_equal(txn.state, from);
            }
        }
    }
    /* A state outside the enum is refused too. */
    txn.state = WEIR_TXN_ONGOING;
    assert_int_equal(weir__txn_set_state(b, &txn, (weir_txn_state)N_TXN_STATES),
        WEIR_ESTATE);
    assert_int_equal(txn.state, WEIR_TXN_ONGOING);
    /* While the journal is replayed, a journaled state is restored as
     * written, even one no transition leads to from here. */
    b->replaying = true;
    txn.state = WEIR_TXN_EMPTY;
    assert_int_equal(
        weir__txn_set_state(b, &txn, WEIR_TXN_COMPLETE_ABORT), WEIR_OK);
    assert_int_equal(txn.state, WEIR_TXN_COMPLETE_ABORT);
    b->replaying = false;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_producer_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_txn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_owner_aborts, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_state_transitions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
