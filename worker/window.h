/*
 * Window arithmetic for windowed aggregations (pure functions, no state).
 * Tumbling windows are hopping windows whose advance equals their size.
 * A window [start, start + size) closes when stream time reaches
 * start + size + grace; a record for a closed window is late.
 */
#ifndef WEIR_WORKER_WINDOW_H
#define WEIR_WORKER_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The starts of every window of size size_ms advancing by advance_ms that
 * holds ts, oldest first, into starts (at most max). Returns how many
 * windows hold ts (it may exceed max: only max are written); 0 when size
 * or advance is not positive, or when ts falls in a gap between windows
 * (advance > size).
 */
size_t weir_window_starts(int64_t ts, int64_t size_ms, int64_t advance_ms,
    int64_t *starts, size_t max);

/* True when the window starting at start is closed at stream_time. */
bool weir_window_closed(
    int64_t start, int64_t size_ms, int64_t grace_ms, int64_t stream_time);

#endif
