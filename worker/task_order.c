/*
 * A task with several inputs (a join) takes its records in timestamp
 * order: the consumer's records wait in a queue per input, and the next
 * record is the oldest head among them. An input with nothing queued is
 * waited for unless its consumer has reached the end of its partition:
 * it may still hold older records. Records the broker is known to have
 * (below the high watermark of the last fetch) are waited for until they
 * come; otherwise the wait lasts up to the job's max_task_idle_ms. So
 * a table update older than a stream record is applied before it, on
 * every run and after every restart, when both are in the topics.
 */
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/clock.h"
#include "common/err.h"
#include "task_impl.h"

/* An input with this many records queued has its partition paused until
 * it is down to half (bounds the memory of a long wait). Inputs are paused
 * one by one, so a backlog in one never stops the others from being read:
 * the record they may hold that goes first is always fetched. */
#define HELD_MAX 8192

static size_t
held(const weir_input *in)
{
    return in->n_held - in->held_head;
}

static size_t
held_total(const weir_task *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_inputs; i++)
        n += held(&t->inputs[i]);
    return n;
}

static int
hold_one(weir_input *in, const weir_kafka_msg *m)
{
    if (in->held_head > 0 && in->held_head >= in->n_held / 2) {
        /* Mostly consumed: the rest moves to the front. */
        memmove(in->held, in->held + in->held_head, held(in) * sizeof(*m));
        in->n_held -= in->held_head;
        in->held_head = 0;
    }
    if (weir_array_reserve(
            &in->held, &in->held_cap, in->n_held + 1, sizeof(*m)) != WEIR_OK)
        return WEIR_ENOMEM;
    in->held[in->n_held++] = *m;
    return WEIR_OK;
}

/* Pauses an input's partition when its queue is full, resumes it when
 * down to half. */
static void
pace(weir_task *t, weir_input *in)
{
    bool full = held(in) >= HELD_MAX, low = held(in) <= HELD_MAX / 2;
    if ((full && !in->paused) || (low && in->paused)) {
        in->paused = full;
        (void)weir_kafka_consumer_pause(
            t->cons, in->topic, (int32_t)t->partition, full);
    }
}

/* Whether every input still being read has a full queue. */
static bool
all_full(const weir_task *t)
{
    for (size_t i = 0; i < t->n_inputs; i++)
        if (held(&t->inputs[i]) < HELD_MAX)
            return false;
    return true;
}

/* Whether input a's next record goes before input b's: the older one;
 * on a tie a table's (its row is in place for the stream's record). */
static bool
before(const weir_input *a, const weir_input *b)
{
    int64_t ta = a->held[a->held_head].timestamp_ms;
    int64_t tb = b->held[b->held_head].timestamp_ms;
    return ta < tb || (ta == tb && a->table && !b->table);
}

/* Moves what the consumer has into the input queues; waits up to poll_ms
 * for the first record when nothing is queued. */
static int
fill(weir_task *t, int poll_ms)
{
    /* Block only when nothing could go: nothing held, or waiting for an
     * input (the stream thread would spin otherwise). */
    int wait = held_total(t) && !t->order_waiting ? 0 : poll_ms;
    while (!all_full(t)) {
        weir_kafka_msg m;
        int prv = weir_kafka_consumer_poll(t->cons, wait, &m);
        wait = 0;
        if (prv == WEIR_EAGAIN)
            return WEIR_OK;
        int i = weir__task_input_index(t, m.topic);
        if (prv == WEIR_ECLOSED) {
            if (i >= 0) {
                t->inputs[i].high = m.offset;
                t->inputs[i].at_end = true;
            }
            continue;
        }
        if (prv != WEIR_OK)
            return WEIR_OK; /* logged; the consumer retries by itself */
        if (i < 0 || m.partition != (int32_t)t->partition) {
            weir_kafka_msg_release(&m);
            continue;
        }
        t->inputs[i].at_end = false;
        if (hold_one(&t->inputs[i], &m) != WEIR_OK) {
            weir_kafka_msg_release(&m);
            return WEIR_ENOMEM;
        }
        pace(t, &t->inputs[i]);
    }
    return WEIR_OK;
}

int
weir__task_next_ordered(weir_task *t, int poll_ms, weir_kafka_msg *m)
{
    int rv = fill(t, poll_ms);
    if (rv != WEIR_OK)
        return rv;
    uint64_t now = weir_clock_mono_ms();
    int best = -1;
    bool waiting = false;
    for (size_t i = 0; i < t->n_inputs; i++) {
        weir_input *in = &t->inputs[i];
        if (in->held_head == in->n_held) {
            if (in->at_end)
                continue;
            /* Records the broker has and the consumer has not fetched
             * yet (behind a fetch backoff, say) are waited for however
             * long it takes: the next of them may go first. */
            if (weir_kafka_consumer_cached_high(
                    t->cons, in->topic, (int32_t)t->partition) > in->position) {
                waiting = true;
                continue;
            }
            if (t->topo->max_task_idle_ms == 0)
                continue;
            if (in->empty_since == 0)
                in->empty_since = now;
            waiting =
                waiting || now - in->empty_since < t->topo->max_task_idle_ms;
            continue;
        }
        in->empty_since = 0;
        if (best < 0 || before(in, &t->inputs[best]))
            best = (int)i;
    }
    t->order_waiting = waiting;
    if (best < 0 || waiting)
        return WEIR_EAGAIN;
    weir_input *in = &t->inputs[best];
    *m = in->held[in->held_head++];
    pace(t, in);
    return WEIR_OK;
}

void
weir__task_drop_held(weir_task *t)
{
    for (size_t i = 0; t->inputs && i < t->n_inputs; i++) {
        weir_input *in = &t->inputs[i];
        for (size_t k = in->held_head; k < in->n_held; k++)
            weir_kafka_msg_release(&in->held[k]);
        in->held_head = in->n_held = 0;
        in->at_end = false;
        in->empty_since = 0;
        if (in->paused && t->cons)
            (void)weir_kafka_consumer_pause(
                t->cons, in->topic, (int32_t)t->partition, false);
        in->paused = false;
    }
}
