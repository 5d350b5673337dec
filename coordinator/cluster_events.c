/*
 * Cluster events for the dashboard's events list (/api/events): a bounded
 * ring of the most recent rebalances, fencings, failovers, joins and
 * leaves, drains, job submissions and cancellations, and dead-lettered
 * records, each with its wall time. Counted per kind for /metrics
 * (weir_cluster_events_total). Event-loop thread only, like all of cl.
 */
#include "cluster_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/json_str.h"

static const char *const names[WEIR__EVENT_KINDS] = {"rebalance", "fenced",
    "failover", "joined", "left", "drain", "submit", "cancel", "dlq"};

const char *
weir__cluster_event_name(weir__event_kind kind)
{
    return (unsigned)kind < WEIR__EVENT_KINDS ? names[kind] : "unknown";
}

static weir__event *
newest(weir_cluster *cl)
{
    if (cl->n_events == 0)
        return NULL;
    return &cl->events[(cl->events_head + cl->n_events - 1) % WEIR__EVENTS_MAX];
}

static weir__event *
push(weir_cluster *cl, weir__event_kind kind)
{
    weir__event *e;
    if (cl->n_events < WEIR__EVENTS_MAX) {
        e = &cl->events[(cl->events_head + cl->n_events++) % WEIR__EVENTS_MAX];
    } else {
        e = &cl->events[cl->events_head];
        cl->events_head = (cl->events_head + 1) % WEIR__EVENTS_MAX;
    }
    memset(e, 0, sizeof(*e));
    e->seq = ++cl->events_seq;
    e->wall_ms = weir_clock_wall_ms();
    e->kind = kind;
    e->count = 1;
    cl->events_total[kind]++;
    return e;
}

void
weir__cluster_event(
    weir_cluster *cl, weir__event_kind kind, const char *fmt, ...)
{
    weir__event *e = push(cl, kind);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof(e->text), fmt, ap);
    va_end(ap);
}

void
weir__cluster_event_dlq(
    weir_cluster *cl, const weir__task *t, const char *worker, uint64_t n)
{
    char text[sizeof(((weir__event *)0)->text)];
    snprintf(text, sizeof(text),
        "records dead-lettered job=%s task=%u_%u worker=%s",
        cl->jobs[t->job].topo->job, t->sub, t->part, worker);
    weir__event *e = newest(cl);
    if (e && e->kind == WEIR__EVENT_DLQ && strcmp(e->text, text) == 0) {
        e->count += n;
        e->wall_ms = weir_clock_wall_ms();
        return;
    }
    e = push(cl, WEIR__EVENT_DLQ);
    e->count = n;
    memcpy(e->text, text, sizeof(text));
}

char *
weir_cluster_json_events(const weir_cluster *cl)
{
    weir_buf b;
    weir_buf_init(&b);
    int64_t now = weir_clock_wall_ms();
    (void)weir_buf_printf(&b, "[");
    /* newest first: what a reader wants on top */
    for (size_t i = cl->n_events; i-- > 0;) {
        const weir__event *e =
            &cl->events[(cl->events_head + i) % WEIR__EVENTS_MAX];
        (void)weir_buf_printf(&b,
            "%s{\"seq\":%llu,\"wall_ms\":%lld,\"age_ms\":%lld,"
            "\"kind\":\"%s\",\"count\":%llu,\"text\":",
            i + 1 == cl->n_events ? "" : ",", (unsigned long long)e->seq,
            (long long)e->wall_ms,
            (long long)(now > e->wall_ms ? now - e->wall_ms : 0),
            weir__cluster_event_name(e->kind), (unsigned long long)e->count);
        (void)weir_json_str_append(&b, e->text, strlen(e->text));
        (void)weir_buf_printf(&b, "}");
    }
    (void)weir_buf_printf(&b, "]\n");
    if (b.failed) {
        weir_buf_fini(&b);
        return NULL;
    }
    return b.data;
}
