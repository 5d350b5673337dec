/*
 * The broker's metadata journal (broker/journal.h): topics, committed
 * offsets, the producer id counter and transaction states, as records of
 * one type byte followed by fields in the Kafka codec's encoding. Replayed
 * on start-up; rewritten from a snapshot when it grows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/state/topic.h"
#include "broker/state/txn.h"
#include "broker/state/persist.h"
#include "broker/state/mem.h"
#include "common/array.h"
#include "common/err.h"
#include "common/log.h"

enum {
    REC_TOPIC = 1,
    REC_TOPIC_DELETE = 2,
    REC_OFFSETS = 3,
    REC_NEXT_PID = 4,
    REC_TXN = 5,
};

#define REWRITE_BYTES (8u << 20)

/* Topics seen during replay; opened once the journal is read. */
typedef struct topic_def {
    char *name;
    int32_t n_parts;
    weir_topic_conf conf;
} topic_def;

typedef struct replay_ctx {
    weir_broker *b;
    topic_def *defs;
    size_t n_defs, cap_defs;
} replay_ctx;

static int
write_rec(weir_broker *b, weir_journal *j, weir_kw *w)
{
    int rv = w->err ? WEIR_ENOMEM
                    : weir_journal_append(j ? j : b->journal, w->buf, w->len,
                          b->fsync == WEIR_FSYNC_ALWAYS);
    weir_kw_fini(w);
    if (rv != WEIR_OK)
        weir_log_error(
            "broker", "journal append failed: %s", weir_strerror(rv));
    return rv;
}

static void
enc_topic(weir_kw *w, const weir_topic *t)
{
    weir_kw_i8(w, REC_TOPIC);
    weir_kw_str(w, false, t->name);
    weir_kw_i32(w, t->n_parts);
    weir_kw_bool(w, t->conf.compact);
    weir_kw_i64(w, t->conf.retention_ms);
    weir_kw_i64(w, t->conf.retention_bytes);
    weir_kw_i64(w, t->conf.segment_bytes);
    weir_kw_i64(w, t->conf.segment_ms);
    weir_kw_i64(w, t->conf.delete_retention_ms);
    weir_kw_i64(w, t->conf.max_message_bytes);
}

int
weir__state_topic(weir_broker *b, const weir_topic *t)
{
    weir_kw w;
    weir_kw_init(&w);
    enc_topic(&w, t);
    return write_rec(b, NULL, &w);
}

int
weir__state_topic_delete(weir_broker *b, const char *name)
{
    weir_kw w;
    weir_kw_init(&w);
    weir_kw_i8(&w, REC_TOPIC_DELETE);
    weir_kw_str(&w, false, name);
    return write_rec(b, NULL, &w);
}

static void
enc_offsets(weir_kw *w, const char *group, const weir_offset *offs, size_t n)
{
    weir_kw_i8(w, REC_OFFSETS);
    weir_kw_str(w, false, group);
    weir_kw_array(w, false, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        weir_kw_str(w, false, offs[i].topic);
        weir_kw_i32(w, offs[i].partition);
        weir_kw_i64(w, offs[i].offset);
        weir_kw_i32(w, offs[i].leader_epoch);
        weir_kw_str(w, false, offs[i].metadata);
    }
}

int
weir__state_offsets(
    weir_broker *b, const char *group, const weir_offset *offs, size_t n)
{
    weir_kw w;
    weir_kw_init(&w);
    enc_offsets(&w, group, offs, n);
    return write_rec(b, NULL, &w);
}

int
weir__state_next_pid(weir_broker *b, int64_t next_pid)
{
    weir_kw w;
    weir_kw_init(&w);
    weir_kw_i8(&w, REC_NEXT_PID);
    weir_kw_i64(&w, next_pid);
    return write_rec(b, NULL, &w);
}

static void
enc_txn(weir_kw *w, const weir_txn *txn)
{
    weir_kw_i8(w, REC_TXN);
    weir_kw_str(w, false, txn->id);
    weir_kw_i64(w, txn->pid);
    weir_kw_i16(w, txn->epoch);
    weir_kw_i32(w, txn->timeout_ms);
    weir_kw_i8(w, (int8_t)txn->state);
    weir_kw_i64(w, txn->start_ms);
    weir_kw_array(w, false, (int32_t)txn->n_parts);
    for (size_t i = 0; i < txn->n_parts; i++) {
        weir_kw_str(w, false, txn->parts[i].topic);
        weir_kw_i32(w, txn->parts[i].partition);
    }
    weir_kw_array(w, false, (int32_t)txn->n_groups);
    for (size_t i = 0; i < txn->n_groups; i++)
        weir_kw_str(w, false, txn->groups[i]);
    weir_kw_array(w, false, (int32_t)txn->n_offsets);
    for (size_t i = 0; i < txn->n_offsets; i++) {
        const weir_offset *o = &txn->offsets[i];
        weir_kw_str(w, false, o->group);
        weir_kw_str(w, false, o->topic);
        weir_kw_i32(w, o->partition);
        weir_kw_i64(w, o->offset);
        weir_kw_i32(w, o->leader_epoch);
        weir_kw_str(w, false, o->metadata);
    }
}

int
weir__state_txn(weir_broker *b, const weir_txn *txn)
{
    if (b->replaying)
        return WEIR_OK;
    weir_kw w;
    weir_kw_init(&w);
    enc_txn(&w, txn);
    return write_rec(b, NULL, &w);
}

/* ------------------------------------------------------------ replay */

static char *
dup_str(weir_kr *r)
{
    weir_kstr s = weir_kr_str(r, false, true);
    if (!weir_kr_ok(r) || s.len < 0)
        return NULL;
    return weir_kstr_dup(s);
}

static int
replay_topic(replay_ctx *c, weir_kr *r)
{
    topic_def d = {0};
    d.name = dup_str(r);
    d.n_parts = weir_kr_i32(r);
    d.conf.compact = weir_kr_bool(r);
    d.conf.retention_ms = weir_kr_i64(r);
    d.conf.retention_bytes = weir_kr_i64(r);
    if (weir_kr_remaining(r) >= 24) {
        d.conf.segment_bytes = weir_kr_i64(r);
        d.conf.segment_ms = weir_kr_i64(r);
        d.conf.delete_retention_ms = weir_kr_i64(r);
    }
    if (weir_kr_remaining(r) >= 8) /* journals written since the limit */
        d.conf.max_message_bytes = weir_kr_i64(r);
    if (!weir_kr_ok(r) || !d.name || d.n_parts <= 0 || d.n_parts > 100000) {
        free(d.name);
        return WEIR_ECORRUPT;
    }
    for (size_t i = 0; i < c->n_defs; i++) {
        if (strcmp(c->defs[i].name, d.name) == 0) {
            free(c->defs[i].name);
            c->defs[i] = d;
            return WEIR_OK;
        }
    }
    if (weir_array_reserve(&c->defs, &c->cap_defs, c->n_defs + 1, sizeof(d)) !=
        WEIR_OK) {
        free(d.name);
        return WEIR_ENOMEM;
    }
    c->defs[c->n_defs++] = d;
    return WEIR_OK;
}

static int
replay_topic_delete(replay_ctx *c, weir_kr *r)
{
    char *name = dup_str(r);
    if (!name)
        return WEIR_ECORRUPT;
    for (size_t i = 0; i < c->n_defs; i++) {
        if (strcmp(c->defs[i].name, name) == 0) {
            free(c->defs[i].name);
            c->defs[i] = c->defs[--c->n_defs];
            break;
        }
    }
    free(name);
    return WEIR_OK;
}

static int
replay_offsets(weir_broker *b, weir_kr *r)
{
    weir_kstr gid = weir_kr_str(r, false, false);
    int32_t n = weir_kr_array(r, false, false, 18);
    if (!weir_kr_ok(r))
        return WEIR_ECORRUPT;
    weir_group *g = weir__group_get(b, gid.ptr, (size_t)gid.len, true);
    if (!g)
        return WEIR_ENOMEM;
    for (int32_t i = 0; i < n; i++) {
        char *topic = dup_str(r);
        int32_t p = weir_kr_i32(r);
        int64_t off = weir_kr_i64(r);
        int32_t le = weir_kr_i32(r);
        char *meta = dup_str(r);
        int rv = WEIR_ECORRUPT;
        if (weir_kr_ok(r) && topic)
            rv = weir__group_commit(g, topic, p, off, le, meta);
        free(topic);
        free(meta);
        if (rv != WEIR_OK)
            return rv;
    }
    return WEIR_OK;
}

static int
replay_txn(weir_broker *b, weir_kr *r)
{
    weir_txn *txn = calloc(1, sizeof(*txn));
    if (!txn)
        return WEIR_ENOMEM;
    txn->id = dup_str(r);
    txn->pid = weir_kr_i64(r);
    txn->epoch = weir_kr_i16(r);
    txn->prev_epoch = -1;
    txn->timeout_ms = weir_kr_i32(r);
    (void)weir__txn_set_state(b, txn, (weir_txn_state)weir_kr_i8(r));
    txn->start_ms = weir_kr_i64(r);
    int32_t n = weir_kr_array(r, false, false, 6);
    if (n > 0 && !(txn->parts = calloc((size_t)n, sizeof(*txn->parts))))
        goto fail;
    for (int32_t i = 0; i < n && weir_kr_ok(r); i++, txn->n_parts++) {
        txn->parts[i].topic = dup_str(r);
        txn->parts[i].partition = weir_kr_i32(r);
    }
    n = weir_kr_array(r, false, false, 2);
    if (n > 0 && !(txn->groups = calloc((size_t)n, sizeof(*txn->groups))))
        goto fail;
    for (int32_t i = 0; i < n && weir_kr_ok(r); i++, txn->n_groups++)
        txn->groups[i] = dup_str(r);
    n = weir_kr_array(r, false, false, 22);
    if (n > 0 && !(txn->offsets = calloc((size_t)n, sizeof(*txn->offsets))))
        goto fail;
    for (int32_t i = 0; i < n && weir_kr_ok(r); i++, txn->n_offsets++) {
        weir_offset *o = &txn->offsets[i];
        o->group = dup_str(r);
        o->topic = dup_str(r);
        o->partition = weir_kr_i32(r);
        o->offset = weir_kr_i64(r);
        o->leader_epoch = weir_kr_i32(r);
        o->metadata = dup_str(r);
    }
    if (!weir_kr_ok(r) || !txn->id || txn->state > WEIR_TXN_COMPLETE_ABORT)
        goto fail;
    for (size_t i = 0; i < txn->n_parts; i++)
        if (!txn->parts[i].topic)
            goto fail;
    for (size_t i = 0; i < txn->n_offsets; i++)
        if (!txn->offsets[i].group || !txn->offsets[i].topic)
            goto fail;
    for (size_t i = 0; i < b->n_txns; i++) {
        if (strcmp(b->txns[i]->id, txn->id) == 0) {
            weir__txn_free(b->txns[i]);
            b->txns[i] = txn;
            return WEIR_OK;
        }
    }
    if (weir_array_append(&b->txns, &b->n_txns, &txn, sizeof(txn)) != WEIR_OK)
        goto fail;
    return WEIR_OK;
fail:
    weir__txn_free(txn);
    return WEIR_ECORRUPT;
}

static int
replay(void *arg, const uint8_t *rec, size_t len)
{
    replay_ctx *c = arg;
    weir_kr r;
    weir_kr_init(&r, rec, len);
    int8_t type = weir_kr_i8(&r);
    int rv;
    switch (type) {
    case REC_TOPIC:
        rv = replay_topic(c, &r);
        break;
    case REC_TOPIC_DELETE:
        rv = replay_topic_delete(c, &r);
        break;
    case REC_OFFSETS:
        rv = replay_offsets(c->b, &r);
        break;
    case REC_NEXT_PID: {
        int64_t pid = weir_kr_i64(&r);
        rv = weir_kr_ok(&r) ? WEIR_OK : WEIR_ECORRUPT;
        if (pid > c->b->next_pid)
            c->b->next_pid = pid;
        break;
    }
    case REC_TXN:
        rv = replay_txn(c->b, &r);
        break;
    default:
        rv = WEIR_ECORRUPT;
    }
    if (rv != WEIR_OK)
        weir_log_error("broker", "journal record type %d unreadable: %s",
            (int)type, weir_strerror(rv));
    return rv;
}

int
weir__state_open(weir_broker *b)
{
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/broker.journal", b->opts.data_dir);
    replay_ctx c = {b, NULL, 0, 0};
    b->replaying = true;
    int rv = weir_journal_open(&b->journal, path, replay, &c);
    for (size_t i = 0; i < c.n_defs && rv == WEIR_OK; i++) {
        topic_def *d = &c.defs[i];
        rv = weir__topic_open(b, d->name, d->n_parts, &d->conf);
    }
    for (size_t i = 0; i < c.n_defs; i++)
        free(c.defs[i].name);
    free(c.defs);
    b->replaying = false;
    if (rv == WEIR_OK)
        weir__txn_recover(b);
    return rv;
}

static int
snapshot(void *arg, weir_journal *out)
{
    weir_broker *b = arg;
    weir_kw w;
    int rv;
    weir_kw_init(&w);
    weir_kw_i8(&w, REC_NEXT_PID);
    weir_kw_i64(&w, b->next_pid);
    if ((rv = write_rec(b, out, &w)) != WEIR_OK)
        return rv;
    for (size_t i = 0; i < b->n_topics; i++) {
        weir_topic *t = b->topics[i];
        weir_kw_init(&w);
        enc_topic(&w, t);
        if ((rv = write_rec(b, out, &w)) != WEIR_OK)
            return rv;
    }
    for (size_t i = 0; i < b->n_groups; i++) {
        weir_group *g = b->groups[i];
        if (g->n_offsets == 0)
            continue;
        weir_kw_init(&w);
        enc_offsets(&w, g->id, g->offsets, g->n_offsets);
        if ((rv = write_rec(b, out, &w)) != WEIR_OK)
            return rv;
    }
    for (size_t i = 0; i < b->n_txns; i++) {
        weir_kw_init(&w);
        enc_txn(&w, b->txns[i]);
        if ((rv = write_rec(b, out, &w)) != WEIR_OK)
            return rv;
    }
    return WEIR_OK;
}

int
weir__state_maybe_rewrite(weir_broker *b)
{
    uint64_t limit = b->rewrite_bytes ? b->rewrite_bytes : REWRITE_BYTES;
    if (weir_journal_size(b->journal) < limit)
        return WEIR_OK;
    int rv = weir_journal_rewrite(b->journal, snapshot, b);
    if (rv == WEIR_OK)
        weir_log_info("broker", "journal rewritten: %llu bytes",
            (unsigned long long)weir_journal_size(b->journal));
    return rv;
}
