#include "window.h"

/* Floor division for negative times (before 1970) too. */
static int64_t
floor_to(int64_t ts, int64_t step)
{
    int64_t r = ts % step;
    return r < 0 ? ts - r - step : ts - r;
}

size_t
weir_window_starts(int64_t ts, int64_t size_ms, int64_t advance_ms,
    int64_t *starts, size_t max)
{
    if (size_ms <= 0 || advance_ms <= 0)
        return 0;
    int64_t last = floor_to(ts, advance_ms);
    int64_t first = last;
    while (first - advance_ms > ts - size_ms)
        first -= advance_ms;
    size_t n = 0;
    for (int64_t s = first; s <= last; s += advance_ms) {
        if (ts >= s + size_ms)
            continue; /* advance > size: ts falls in a gap */
        if (n < max)
            starts[n] = s;
        n++;
    }
    return n;
}

bool
weir_window_closed(
    int64_t start, int64_t size_ms, int64_t grace_ms, int64_t stream_time)
{
    return start + size_ms + grace_ms <= stream_time;
}
