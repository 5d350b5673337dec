/* broker/part.c on a real partition log: idempotence (duplicates answered
 * with their original offset, gaps and stale epochs rejected), the last
 * stable offset under an open transaction, abort markers feeding the
 * aborted-transaction index, and all of it rebuilt from the log after a
 * reopen. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/storage/batch.h"
#include "broker/protocol/kerr.h"
#include "broker/state/topic.h"
#include "broker/state/txn.h"
#include "broker/state/persist.h"
#include "broker/state/mem.h"
#include "common/err.h"

static char dir[64];

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static weir_broker *
open_broker(void)
{
    weir_broker *b = calloc(1, sizeof(*b));
    assert_non_null(b);
    b->opts.data_dir = dir;
    b->opts.segment_bytes = 1 << 20;
    b->opts.txn_max_timeout_ms = 60000;
    b->fsync = WEIR_FSYNC_NEVER;
    b->next_pid = 1000;
    b->lock_fd = -1;
    assert_int_equal(weir__state_open(b), WEIR_OK);
    return b;
}

static int
setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/weir-part-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* Appends a batch of n records; returns the Kafka error, *off the offset. */
static int16_t
produce(weir_broker *b, weir_part *p, int64_t pid, int16_t epoch, int32_t seq,
    int n, bool txn, int64_t *off)
{
    uint8_t buf[4096];
    weir_record_in recs[8];
    for (int i = 0; i < n; i++)
        recs[i] = (weir_record_in){"k", 1, "value", 5, 1000};
    weir_batch_opts o = {pid, epoch, seq, txn, false};
    size_t len = weir_batch_build(buf, sizeof(buf), &o, recs, (size_t)n);
    assert_true(len > 0);
    return weir__part_produce(b, p, buf, len, off);
}

static void
test_idempotence(void **state)
{
    (void)state;
    weir_broker *b = open_broker();
    assert_int_equal(
        weir__topic_create(b, "idem", 1, &weir__topic_conf_default), WEIR_OK);
    weir_part *p = &b->topics[0]->parts[0];
    int64_t off;
    assert_int_equal(produce(b, p, 7, 0, 0, 2, false, &off), KERR_NONE);
    assert_int_equal(off, 0);
    assert_int_equal(produce(b, p, 7, 0, 2, 3, false, &off), KERR_NONE);
    assert_int_equal(off, 2);
    /* A retried batch is acknowledged with its original offset. */
    assert_int_equal(produce(b, p, 7, 0, 0, 2, false, &off), KERR_NONE);
    assert_int_equal(off, 0);
    assert_int_equal(weir__part_hw(p), 5);
    /* A gap is rejected, nothing appended. */
    assert_int_equal(produce(b, p, 7, 0, 9, 1, false, &off),
        KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(weir__part_hw(p), 5);
    /* A new epoch starts at sequence 0; the old epoch is fenced. */
    assert_int_equal(produce(b, p, 7, 1, 3, 1, false, &off),
        KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(produce(b, p, 7, 1, 0, 1, false, &off), KERR_NONE);
    assert_int_equal(off, 5);
    assert_int_equal(
        produce(b, p, 7, 0, 5, 1, false, &off), KERR_INVALID_PRODUCER_EPOCH);
    /* Plain (non-idempotent) batches always append. */
    assert_int_equal(produce(b, p, -1, -1, -1, 1, false, &off), KERR_NONE);
    assert_int_equal(produce(b, p, -1, -1, -1, 1, false, &off), KERR_NONE);
    assert_int_equal(weir__part_hw(p), 8);
    weir_broker_close(b);

    /* Reopened: the sequence state is rebuilt from the log. */
    b = open_broker();
    p = &b->topics[0]->parts[0];
    assert_int_equal(weir__part_hw(p), 8);
    assert_int_equal(produce(b, p, 7, 1, 0, 1, false, &off), KERR_NONE);
    assert_int_equal(off, 5);
    assert_int_equal(produce(b, p, 7, 1, 1, 1, false, &off), KERR_NONE);
    assert_int_equal(off, 8);
    weir_broker_close(b);
}

static void
test_compacted_sequences(void **state)
{
    (void)state;
    weir_broker *b = open_broker();
    weir_topic_conf conf = weir__topic_conf_default;
    conf.compact = true;
    assert_int_equal(weir__topic_create(b, "cl", 1, &conf), WEIR_OK);
    weir_part *p = &b->topics[0]->parts[0];
    int64_t off;
    assert_int_equal(produce(b, p, 8, 0, 0, 2, false, &off), KERR_NONE);
    assert_int_equal(produce(b, p, 8, 0, 5, 1, false, &off),
        KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    weir_broker_close(b);
    /* Reopened from a compacted log: the newest batches may be gone, so
     * one forward gap is accepted; duplicates and going back are not. */
    b = open_broker();
    p = &b->topics[0]->parts[0];
    assert_int_equal(produce(b, p, 8, 0, 0, 2, false, &off), KERR_NONE);
    assert_int_equal(off, 0); /* duplicate */
    assert_int_equal(produce(b, p, 8, 0, 1, 1, false, &off),
        KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(produce(b, p, 8, 0, 7, 1, false, &off), KERR_NONE);
    assert_int_equal(off, 2);
    assert_int_equal(produce(b, p, 8, 0, 9, 1, false, &off),
        KERR_OUT_OF_ORDER_SEQUENCE_NUMBER); /* strict again */
    weir_broker_close(b);
}

static weir_txn *
add_txn(weir_broker *b, const char *id, int64_t pid)
{
    weir_txn *txn = calloc(1, sizeof(*txn));
    assert_non_null(txn);
    txn->id = weir__strdup(id);
    txn->pid = pid;
    txn->timeout_ms = 60000;
    txn->state = WEIR_TXN_ONGOING;
    txn->parts = calloc(1, sizeof(*txn->parts));
    txn->parts[0].topic = weir__strdup("tx");
    txn->parts[0].partition = 0;
    txn->n_parts = 1;
    b->txns = realloc(b->txns, (b->n_txns + 1) * sizeof(*b->txns));
    b->txns[b->n_txns++] = txn;
    return txn;
}

static void
test_transactions(void **state)
{
    (void)state;
    weir_broker *b = open_broker();
    assert_int_equal(
        weir__topic_create(b, "tx", 1, &weir__topic_conf_default), WEIR_OK);
    weir_part *p = &b->topics[0]->parts[0];
    weir_txn *txn = add_txn(b, "t1", 50);
    int64_t off;
    assert_int_equal(produce(b, p, 9, 0, 0, 2, false, &off), KERR_NONE);
    /* A transactional batch of an unknown producer or a wrong epoch. */
    assert_int_equal(produce(b, p, 51, 0, 0, 1, true, &off),
        KERR_INVALID_PRODUCER_ID_MAPPING);
    assert_int_equal(
        produce(b, p, 50, 1, 0, 1, true, &off), KERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(produce(b, p, 50, 0, 0, 2, true, &off), KERR_NONE);
    assert_int_equal(off, 2);
    assert_int_equal(produce(b, p, 9, 0, 2, 1, false, &off), KERR_NONE);
    /* The open transaction holds the LSO at its first offset. */
    assert_int_equal(weir__part_hw(p), 5);
    assert_int_equal(weir__part_lso(p), 2);
    /* Abort: a marker, the LSO moves, the index records the range. */
    assert_int_equal(weir__txn_end(b, txn, false), WEIR_OK);
    assert_int_equal(weir__part_hw(p), 6);
    assert_int_equal(weir__part_lso(p), 6);
    assert_int_equal(p->n_aborted, 1);
    assert_int_equal(p->aborted[0].pid, 50);
    assert_int_equal(p->aborted[0].first_offset, 2);
    assert_int_equal(p->aborted[0].last_offset, 5);
    assert_int_equal(txn->state, WEIR_TXN_COMPLETE_ABORT);
    /* Not ongoing any more: its batches are refused. */
    assert_int_equal(
        produce(b, p, 50, 0, 2, 1, true, &off), KERR_INVALID_TXN_STATE);
    /* A second transaction left open across a reopen. */
    txn->state = WEIR_TXN_ONGOING;
    txn->parts = calloc(1, sizeof(*txn->parts));
    txn->parts[0].topic = weir__strdup("tx");
    txn->n_parts = 1;
    assert_int_equal(produce(b, p, 50, 0, 2, 1, true, &off), KERR_NONE);
    assert_int_equal(off, 6);
    assert_int_equal(weir__state_txn(b, txn), WEIR_OK);
    weir_broker_close(b);

    b = open_broker();
    p = &b->topics[0]->parts[0];
    assert_int_equal(b->n_txns, 1);
    assert_int_equal(b->txns[0]->state, WEIR_TXN_ONGOING);
    assert_int_equal(weir__part_hw(p), 7);
    assert_int_equal(weir__part_lso(p), 6);
    assert_int_equal(p->n_aborted, 1);
    assert_int_equal(p->aborted[0].first_offset, 2);
    /* Commit: marker written, nothing added to the aborted index. */
    assert_int_equal(weir__txn_end(b, b->txns[0], true), WEIR_OK);
    assert_int_equal(weir__part_lso(p), 8);
    assert_int_equal(p->n_aborted, 1);
    weir_broker_close(b);
}

static void
test_timeout(void **state)
{
    (void)state;
    weir_broker *b = open_broker();
    assert_int_equal(
        weir__topic_create(b, "tx", 1, &weir__topic_conf_default), WEIR_OK);
    weir_part *p = &b->topics[0]->parts[0];
    weir_txn *txn = add_txn(b, "slow", 60);
    txn->start_ms = 1000;
    txn->timeout_ms = 500;
    int64_t off;
    assert_int_equal(produce(b, p, 60, 0, 0, 1, true, &off), KERR_NONE);
    weir__txn_expire(b, 1400); /* not yet */
    assert_int_equal(txn->state, WEIR_TXN_ONGOING);
    weir__txn_expire(b, 1600);
    assert_int_equal(txn->state, WEIR_TXN_COMPLETE_ABORT);
    assert_int_equal(txn->epoch, 1); /* bumped: the old producer is fenced */
    assert_int_equal(weir__part_lso(p), weir__part_hw(p));
    assert_int_equal(p->n_aborted, 1);
    assert_int_equal(b->metrics.txn_timed_out, 1);
    weir_broker_close(b);
}

static void
test_journal_rewrite(void **state)
{
    (void)state;
    weir_broker *b = open_broker();
    weir_topic_conf conf = weir__topic_conf_default;
    conf.compact = true;
    conf.segment_bytes = 8192;
    assert_int_equal(weir__topic_create(b, "a", 2, &conf), WEIR_OK);
    assert_int_equal(
        weir__topic_create(b, "b", 1, &weir__topic_conf_default), WEIR_OK);
    assert_int_equal(weir__topic_delete(b, "b"), WEIR_OK);
    weir_group *g = weir__group_get(b, "grp", 3, true);
    for (int i = 0; i < 50; i++) {
        weir_offset o = {NULL, "a", i % 2, i, -1, "m"};
        assert_int_equal(
            weir__group_commit(g, "a", i % 2, i, -1, "m"), WEIR_OK);
        assert_int_equal(weir__state_offsets(b, "grp", &o, 1), WEIR_OK);
    }
    weir_txn *txn = add_txn(b, "t", weir__pid_alloc(b));
    txn->parts[0].topic[0] = 'a';
    txn->offsets = calloc(1, sizeof(*txn->offsets));
    txn->offsets[0] =
        (weir_offset){weir__strdup("grp"), weir__strdup("a"), 1, 99, -1, NULL};
    txn->n_offsets = 1;
    assert_int_equal(weir__state_txn(b, txn), WEIR_OK);
    int64_t next_pid = b->next_pid;
    b->rewrite_bytes = 1;
    assert_int_equal(weir__state_maybe_rewrite(b), WEIR_OK);
    uint64_t size = weir_journal_size(b->journal);
    assert_int_equal(weir__state_maybe_rewrite(b), WEIR_OK);
    weir_broker_close(b);

    b = open_broker();
    assert_int_equal(b->n_topics, 1);
    assert_string_equal(b->topics[0]->name, "a");
    assert_int_equal(b->topics[0]->n_parts, 2);
    assert_true(b->topics[0]->conf.compact);
    assert_int_equal(b->topics[0]->conf.segment_bytes, 8192);
    assert_true(b->next_pid >= next_pid);
    g = weir__group_get(b, "grp", 3, false);
    assert_non_null(g);
    assert_int_equal(g->n_offsets, 2);
    assert_int_equal(weir__group_offset(g, "a", 1, 0)->offset, 48);
    assert_int_equal(weir__group_offset(g, "a", 1, 1)->offset, 49);
    assert_int_equal(b->n_txns, 1);
    assert_int_equal(b->txns[0]->n_offsets, 1);
    assert_int_equal(b->txns[0]->offsets[0].offset, 99);
    assert_true(weir_journal_size(b->journal) <= size);
    weir_broker_close(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_idempotence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_compacted_sequences, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_rewrite, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
