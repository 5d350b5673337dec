/*
 * A task with several inputs (a join) takes its records in timestamp
 * order: the consumer's records wait in a queue per input, and the next
 * record is the oldest head among them. An input with nothing queued is
 * waited for (up to the job's max_task_idle_ms) unless its consumer has
 * reached the end of its partition: it may still hold older records. So
 * a table update older than a stream record is applied before it, on
 * every run and after every restart, when both are in the topics.
 */
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/clock.h"
#include "common/err.h"
#include "task_impl.h"

/* Past this many queued records the consumer is not read further until
 * records are processed (bounds the memory of a long wait). */
#define HELD_MAX 8192

static size_t
held_total(const weir_task *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_inputs; i++)
        n += t->inputs[i].n_held - t->inputs[i].held_head;
    return n;
}

static int
hold_one(weir_input *in, const weir_kafka_msg *m)
{
    if (in->held_head > 0 && in->held_head == in->n_held)
        in->held_head = in->n_held = 0; /* drained: start over */
    if (weir_array_reserve(
            &in->held, &in->held_cap, in->n_held + 1, sizeof(*m)) != WEIR_OK)
        return WEIR_ENOMEM;
    in->held[in->n_held++] = *m;
    return WEIR_OK;
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
    while (held_total(t) < HELD_MAX) {
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
            if (in->at_end || t->topo->max_task_idle_ms == 0)
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
    }
}
