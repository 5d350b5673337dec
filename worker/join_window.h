/*
 * Stream-stream join arithmetic (pure functions, no state). Two records
 * of the same key match when their times are at most within apart. Stream
 * time is the largest time seen; a record more than grace behind it is
 * late. A buffered record at ts is closed once ts + within + grace <
 * stream time: no record that is not late can match it any more (such a
 * record is at least stream time - grace, more than within after ts), so
 * forgetting it then loses nothing, whenever that happens.
 */
#ifndef WEIR_WORKER_JOIN_WINDOW_H
#define WEIR_WORKER_JOIN_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

static inline bool
weir_join_matches(int64_t a, int64_t b, int64_t within_ms)
{
    return a - b <= within_ms && b - a <= within_ms;
}

static inline bool
weir_join_late(int64_t ts, int64_t grace_ms, int64_t stream_time)
{
    return ts + grace_ms < stream_time;
}

static inline bool
weir_join_closed(
    int64_t ts, int64_t within_ms, int64_t grace_ms, int64_t stream_time)
{
    return ts + within_ms + grace_ms < stream_time;
}

#endif
