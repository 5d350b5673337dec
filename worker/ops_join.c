/*
 * Tables and stream-table joins. A table's store holds its topic's
 * records as they are (key and value bytes): the topic is the store's
 * changelog, so nothing is written for it at commit, and a restore replays
 * the topic up to the task's committed offset (task_restore.c).
 */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "task_impl.h"

typedef Weir__Topology__Operator op_pb;

static int
table_error(weir_task *t, const weir_op *op, const char *what, const char *err)
{
    t->err_op = op->pb->name;
    snprintf(t->err_msg, sizeof(t->err_msg), "%s: %s", what, err);
    return WEIR_EINVAL;
}

int
weir__ops_table_update(weir_task *t, const weir_op *op, const weir_kafka_msg *m)
{
    const op_pb *pb = op->pb;
    if (!m->key) /* a row needs a key: dropped, as Kafka Streams does */
        return WEIR_OK;
    char err[200];
    weir_value v;
    /* Checked now, so that a bad row is a bad record of the table's
     * topic and never of the stream records joined with it. */
    if (weir_value_decode(pb->key_format, (weir_type)pb->key_type, m->key,
            m->key_len, &t->arena, &v, err, sizeof(err)) != WEIR_OK)
        return table_error(t, op, "decode key", err);
    if (m->value &&
        weir_value_decode(pb->value_format, (weir_type)pb->value_type, m->value,
            m->value_len, &t->arena, &v, err, sizeof(err)) != WEIR_OK)
        return table_error(t, op, "decode", err);
    return weir__task_state_put(
        t, op->store, m->key, m->key_len, m->value, m->value_len);
}

int
weir__ops_table_get(weir_task *t, const weir_op *op, const weir_value *key,
    weir_value *right, bool *found)
{
    const op_pb *pb = op->pb;
    *found = false;
    *right = weir_value_null();
    if (weir_value_is_kafka_null(key))
        return WEIR_OK; /* no key, no row */
    char err[200];
    weir_buf_clear(&t->kbuf);
    if (weir_value_encode(key, pb->key_format, &t->kbuf, err, sizeof(err)) !=
        WEIR_OK)
        return table_error(t, op, "encode the key for the table", err);
    const char *val = NULL;
    size_t vlen = 0;
    int rv = weir_store_get(t->store, (size_t)op->store, t->kbuf.data,
        t->kbuf.len, &val, &vlen, found);
    if (rv != WEIR_OK || !*found)
        return rv;
    /* The store's buffer lasts until its next call: the record's arena
     * keeps what `right` points at for the rest of the pipeline. */
    char *copy = weir_arena_alloc(&t->arena, vlen ? vlen : 1);
    if (!copy)
        return WEIR_ENOMEM;
    memcpy(copy, val, vlen);
    if (weir_value_decode(pb->value_format, (weir_type)pb->right_type, copy,
            vlen, &t->arena, right, err, sizeof(err)) != WEIR_OK)
        return table_error(t, op, "decode the table's value", err);
    return WEIR_OK;
}
