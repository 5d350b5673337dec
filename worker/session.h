/*
 * Session window arithmetic (pure functions, no state). A session of one
 * key spans [start, end], the times of its first and last records. A
 * record at ts joins every session within gap of it (start - gap <= ts <=
 * end + gap), merging them into one. A session closes when stream time
 * passes end + gap + grace; a record whose own session would be closed
 * then (ts + gap + grace < stream time) is late. So every record taken
 * lies after every closed session: those are final. (A record within gap
 * after a closed session opens a new one.)
 */
#ifndef WEIR_WORKER_SESSION_H
#define WEIR_WORKER_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct weir_session {
    int64_t start, end;
} weir_session;

/* True when a record at ts joins the session s. */
bool weir_session_joins(weir_session s, int64_t ts, int64_t gap_ms);

/* True when the session s is closed at stream_time. */
bool weir_session_closed(
    weir_session s, int64_t gap_ms, int64_t grace_ms, int64_t stream_time);

/*
 * A record at ts among the sessions of its key (sorted by time, disjoint):
 * *first and *n name the run of them it joins (when n is 0, *first is
 * where a new session goes), and the result is the session they merge
 * into with ts.
 */
weir_session weir_session_merge(const weir_session *sessions, size_t count,
    int64_t ts, int64_t gap_ms, size_t *first, size_t *n);

#endif
