/*
 * Pull queries through the coordinator: GET
 *   /api/jobs/{job}/stores/{store}/keys/{key}[?from=T&to=T]
 *   /api/jobs/{job}/stores/{store}[?prefix=P&limit=N]
 * is parsed (query_parse.c) and routed to the workers that hold the key's
 * partition (query_route.c) on the HTTP thread that received it, under
 * the read side of the coordinator's cluster lock (http.c), then answered
 * asynchronously (query_forward.c): NNG request contexts on one kept
 * socket per worker ask the owner first, then its standbys (the answer
 * then says "stale": true); no thread of ours waits for a worker.
 *
 * A route may be stale by the time a worker answers (a rebalance moved
 * the partition): a worker answers only for tasks it holds and serves
 * committed state only, so a moved partition is "no task" there, and the
 * next worker is asked; when none holds it the answer is 503 (retry), not
 * 404.
 */
#ifndef WEIR_COORDINATOR_QUERY_H
#define WEIR_COORDINATOR_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "common/http_server.h"

#define WEIR_QUERY_MAX_ASK 4      /* the owner and up to 3 standbys */
#define WEIR_QUERY_LIMIT_MAX 1000 /* rows of a scan */

typedef struct weir_query_target {
    uint32_t partition;
    /* The newest changelog checkpoint a worker reported for the task (-1:
     * none): how far a standby's answer may lag. */
    int64_t newest;
    size_t n; /* workers to ask, the owner first */
    char worker[WEIR_QUERY_MAX_ASK][128];
    char address[WEIR_QUERY_MAX_ASK][256];
} weir_query_target;

typedef struct weir_query {
    struct weir_query *next;
    weir_http_req *req; /* answered by the forwarder */
    char *job, *store, *key, *prefix;
    bool scan, has_range;
    uint32_t limit;
    int64_t from_ms, to_ms;
    weir_query_target *targets; /* the partitions to ask */
    size_t n_targets;
} weir_query;

/* query_parse.c: 0 when uri is no pull query, 1 with *out parsed, -1 for
 * a malformed one (why says what, for a 400). */
int weir_query_parse(
    const char *uri, weir_query **out, char *why, size_t whylen);
void weir_query_free(weir_query *q);

/* query_route.c: fills q's targets. WEIR_ENOTFOUND (404) or WEIR_EINVAL
 * (400), why says what. Reads cl only: the caller holds the loop thread or
 * the read side of the cluster lock. */
int weir_cluster_query_route(
    const weir_cluster *cl, weir_query *q, char *why, size_t whylen);

/* query_forward.c: answers r with {"error": msg}. */
void weir_query_reply_error(weir_http_req *r, uint16_t status, const char *msg);

/* Thread-safe: submit from any thread, its callbacks run on NNG's. */
typedef struct weir_query_forwarder weir_query_forwarder;
/* timeout_ms: how long one worker may take to answer. */
int weir_query_forwarder_new(weir_query_forwarder **out, int timeout_ms);
/* Takes q: its request is answered later, from an NNG thread (at once
 * with 503 once the forwarder is stopping). */
void weir_query_forwarder_submit(weir_query_forwarder *f, weir_query *q);
/* Refuses new queries (503), aborts those in flight (503) and waits until
 * every one is answered; then submit still answers 503, until free.
 * NULL-safe. */
void weir_query_forwarder_stop(weir_query_forwarder *f);
/* After stop, once nothing can submit any more; NULL-safe. */
void weir_query_forwarder_free(weir_query_forwarder *f);

#endif
