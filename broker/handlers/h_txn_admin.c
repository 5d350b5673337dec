/*
 * Handlers: the transaction admin API Kafka's admin client and
 * kafka-transactions use — ListTransactions, DescribeTransactions (the
 * coordinator's view of each transactional.id), DescribeProducers (each
 * partition's producers and their open transactions) and WriteTxnMarkers
 * (here only sent by an operator aborting a hanging transaction: weir-broker
 * is its own transaction coordinator and writes its markers directly).
 * All four are flexible in every version weir-broker accepts.
 */
#include <string.h>

#include "broker/handlers/handler.h"
#include "broker/state/part.h"
#include "broker/state/txn.h"
#include "common/clock.h"
#include "common/err.h"

enum { KERR_TRANSACTIONAL_ID_NOT_FOUND = 105 };

/* Every state name Kafka knows, for ListTransactions' unknown filters. */
static const char *const kafka_states[] = {"Empty", "Ongoing", "PrepareCommit",
    "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead",
    "PrepareEpochFence"};

static bool
known_state(weir_kstr s)
{
    for (size_t i = 0; i < sizeof(kafka_states) / sizeof(kafka_states[0]); i++)
        if (weir_kstr_eq(s, kafka_states[i]))
            return true;
    return false;
}

/* A filter read in place: its element count and where it starts. */
typedef struct filter {
    weir_kr r;
    int32_t n;
} filter;

static bool
state_wanted(const filter *f, const char *state)
{
    weir_kr r = f->r;
    for (int32_t i = 0; i < f->n; i++)
        if (weir_kstr_eq(weir_kr_str(&r, true, false), state))
            return true;
    return f->n <= 0;
}

static bool
pid_wanted(const filter *f, int64_t pid)
{
    weir_kr r = f->r;
    for (int32_t i = 0; i < f->n; i++)
        if (weir_kr_i64(&r) == pid)
            return true;
    return f->n <= 0;
}

static bool
txn_listed(const weir_txn *t, const filter *states, const filter *pids,
    int64_t min_age_ms, int64_t now)
{
    return state_wanted(states, weir__txn_state_name(t->state)) &&
           pid_wanted(pids, t->pid) &&
           (min_age_ms < 0 || now - t->start_ms > min_age_ms);
}

int
weir__h_list_transactions(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    filter states, pids;
    states.n = weir_kr_array(r, true, true, 1);
    states.r = *r;
    for (int32_t i = 0; i < states.n; i++)
        (void)weir_kr_str(r, true, false);
    pids.n = weir_kr_array(r, true, true, 8);
    pids.r = *r;
    weir_kr_skip(r, 8 * (size_t)(pids.n > 0 ? pids.n : 0));
    int64_t min_age_ms = req->version >= 1 ? weir_kr_i64(r) : -1;
    weir_kr_tags(r, true);
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;

    weir_kw_i32(w, 0); /* ThrottleTimeMs */
    weir_kw_i16(w, req->forced_err);
    int32_t unknown = 0;
    weir_kr s = states.r;
    for (int32_t i = 0; i < states.n; i++)
        unknown += !known_state(weir_kr_str(&s, true, false));
    weir_kw_array(w, true, unknown);
    s = states.r;
    for (int32_t i = 0; i < states.n; i++) {
        weir_kstr name = weir_kr_str(&s, true, false);
        if (!known_state(name))
            weir_kw_strn(w, true, name.ptr, name.len);
    }
    int64_t now = weir_clock_wall_ms();
    int32_t n = 0;
    for (size_t i = 0; req->forced_err == KERR_NONE && i < b->n_txns; i++)
        n += txn_listed(b->txns[i], &states, &pids, min_age_ms, now);
    weir_kw_array(w, true, n);
    for (size_t i = 0; req->forced_err == KERR_NONE && i < b->n_txns; i++) {
        const weir_txn *t = b->txns[i];
        if (!txn_listed(t, &states, &pids, min_age_ms, now))
            continue;
        weir_kw_str(w, true, t->id);
        weir_kw_i64(w, t->pid);
        weir_kw_str(w, true, weir__txn_state_name(t->state));
        weir_kw_tags(w, true);
    }
    weir_kw_tags(w, true);
    return WEIR_OK;
}

/* The partitions of txn grouped by topic, as DescribeTransactions lists
 * them (a transaction's partitions are few: quadratic is fine). */
static void
write_txn_partitions(weir_kw *w, const weir_txn *t)
{
    int32_t topics = 0;
    for (size_t i = 0; i < t->n_parts; i++) {
        bool first = true;
        for (size_t k = 0; k < i && first; k++)
            first = strcmp(t->parts[k].topic, t->parts[i].topic) != 0;
        topics += first;
    }
    weir_kw_array(w, true, topics);
    for (size_t i = 0; i < t->n_parts; i++) {
        bool first = true;
        for (size_t k = 0; k < i && first; k++)
            first = strcmp(t->parts[k].topic, t->parts[i].topic) != 0;
        if (!first)
            continue;
        int32_t n = 0;
        for (size_t k = i; k < t->n_parts; k++)
            n += strcmp(t->parts[k].topic, t->parts[i].topic) == 0;
        weir_kw_str(w, true, t->parts[i].topic);
        weir_kw_array(w, true, n);
        for (size_t k = i; k < t->n_parts; k++)
            if (strcmp(t->parts[k].topic, t->parts[i].topic) == 0)
                weir_kw_i32(w, t->parts[k].partition);
        weir_kw_tags(w, true);
    }
}

int
weir__h_describe_transactions(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int32_t n = weir_kr_array(r, true, false, 1);
    weir_kw_i32(w, 0); /* ThrottleTimeMs */
    weir_kw_array(w, true, n);
    for (int32_t i = 0; i < n; i++) {
        weir_kstr id = weir_kr_str(r, true, false);
        if (!weir_kr_ok(r))
            return WEIR_EPROTO;
        const weir_txn *t = weir__txn_find(b, id.ptr, (size_t)id.len);
        int16_t err = req->forced_err;
        if (err == KERR_NONE && !t)
            err = KERR_TRANSACTIONAL_ID_NOT_FOUND;
        if (err != KERR_NONE)
            t = NULL;
        weir_kw_i16(w, err);
        weir_kw_strn(w, true, id.ptr, id.len);
        weir_kw_str(w, true, t ? weir__txn_state_name(t->state) : "");
        weir_kw_i32(w, t ? t->timeout_ms : -1);
        bool started = t && t->state != WEIR_TXN_EMPTY;
        weir_kw_i64(w, started ? t->start_ms : -1);
        weir_kw_i64(w, t ? t->pid : -1);
        weir_kw_i16(w, t ? t->epoch : -1);
        if (t)
            write_txn_partitions(w, t);
        else
            weir_kw_array(w, true, 0);
        weir_kw_tags(w, true);
    }
    weir_kr_tags(r, true);
    weir_kw_tags(w, true);
    return weir_kr_ok(r) ? WEIR_OK : WEIR_EPROTO;
}

static void
write_producers(weir_kw *w, const weir_part *p)
{
    weir_kw_array(w, true, (int32_t)p->n_prods);
    for (size_t i = 0; i < p->n_prods; i++) {
        const weir_producer *pr = &p->prods[i];
        weir_kw_i64(w, pr->pid);
        weir_kw_i32(w, pr->epoch);
        weir_kw_i32(w, pr->n_batches ? pr->recent[0].last_seq : -1);
        weir_kw_i64(w, pr->last_timestamp);
        weir_kw_i32(w, pr->coordinator_epoch);
        weir_kw_i64(w, pr->txn_first_offset);
        weir_kw_tags(w, true);
    }
}

int
weir__h_describe_producers(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int32_t nt = weir_kr_array(r, true, false, 2);
    weir_kw_i32(w, 0); /* ThrottleTimeMs */
    weir_kw_array(w, true, nt);
    for (int32_t i = 0; i < nt; i++) {
        weir_kstr topic = weir_kr_str(r, true, false);
        int32_t np = weir_kr_array(r, true, false, 4);
        if (!weir_kr_ok(r))
            return WEIR_EPROTO;
        weir_kw_strn(w, true, topic.ptr, topic.len);
        weir_kw_array(w, true, np);
        for (int32_t k = 0; k < np; k++) {
            int32_t id = weir_kr_i32(r);
            const weir_part *p = weir__part_find(b, topic, id);
            int16_t err = req->forced_err;
            if (err == KERR_NONE && !p)
                err = KERR_UNKNOWN_TOPIC_OR_PARTITION;
            weir_kw_i32(w, id);
            weir_kw_i16(w, err);
            weir_kw_str(w, true, NULL); /* ErrorMessage */
            if (err == KERR_NONE)
                write_producers(w, p);
            else
                weir_kw_array(w, true, 0);
            weir_kw_tags(w, true);
        }
        weir_kr_tags(r, true);
        weir_kw_tags(w, true);
    }
    weir_kr_tags(r, true);
    weir_kw_tags(w, true);
    return weir_kr_ok(r) ? WEIR_OK : WEIR_EPROTO;
}

/* Writes one partition's marker; a Kafka error code. */
static int16_t
write_marker(weir_broker *b, weir_kstr topic, int32_t id, int64_t pid,
    int16_t epoch, bool commit)
{
    weir_part *p = weir__part_find(b, topic, id);
    if (!p)
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    for (size_t i = 0; i < p->n_prods; i++)
        if (p->prods[i].pid == pid && p->prods[i].epoch > epoch)
            return KERR_INVALID_PRODUCER_EPOCH;
    int rv = weir__part_write_marker(b, p, pid, epoch, commit);
    return rv == WEIR_OK ? KERR_NONE : KERR_KAFKA_STORAGE_ERROR;
}

int
weir__h_write_txn_markers(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int32_t nm = weir_kr_array(r, true, false, 16);
    weir_kw_array(w, true, nm);
    for (int32_t m = 0; m < nm; m++) {
        int64_t pid = weir_kr_i64(r);
        int16_t epoch = weir_kr_i16(r);
        bool commit = weir_kr_bool(r);
        int32_t nt = weir_kr_array(r, true, false, 2);
        if (!weir_kr_ok(r))
            return WEIR_EPROTO;
        weir_kw_i64(w, pid);
        weir_kw_array(w, true, nt);
        for (int32_t t = 0; t < nt; t++) {
            weir_kstr topic = weir_kr_str(r, true, false);
            int32_t np = weir_kr_array(r, true, false, 4);
            if (!weir_kr_ok(r))
                return WEIR_EPROTO;
            weir_kw_strn(w, true, topic.ptr, topic.len);
            weir_kw_array(w, true, np);
            for (int32_t k = 0; k < np; k++) {
                int32_t id = weir_kr_i32(r);
                int16_t err = req->forced_err;
                if (err == KERR_NONE)
                    err = write_marker(b, topic, id, pid, epoch, commit);
                weir_kw_i32(w, id);
                weir_kw_i16(w, err);
                weir_kw_tags(w, true);
            }
            weir_kr_tags(r, true);
            weir_kw_tags(w, true);
        }
        (void)weir_kr_i32(
            r); /* CoordinatorEpoch: one coordinator, never moves */
        weir_kr_tags(r, true);
        weir_kw_tags(w, true);
    }
    weir_kr_tags(r, true);
    weir_kw_tags(w, true);
    return weir_kr_ok(r) ? WEIR_OK : WEIR_EPROTO;
}
