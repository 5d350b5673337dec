#include "session.h"

bool
weir_session_joins(weir_session s, int64_t ts, int64_t gap_ms)
{
    return s.start - gap_ms <= ts && ts <= s.end + gap_ms;
}

bool
weir_session_closed(
    weir_session s, int64_t gap_ms, int64_t grace_ms, int64_t stream_time)
{
    return s.end + gap_ms + grace_ms < stream_time;
}

weir_session
weir_session_merge(const weir_session *sessions, size_t count, int64_t ts,
    int64_t gap_ms, size_t *first, size_t *n)
{
    weir_session m = {ts, ts};
    *first = 0;
    *n = 0;
    for (size_t i = 0; i < count; i++) {
        if (!weir_session_joins(sessions[i], ts, gap_ms)) {
            if (sessions[i].end < ts)
                *first = i + 1;
            continue;
        }
        if (*n == 0)
            *first = i;
        (*n)++;
        if (sessions[i].start < m.start)
            m.start = sessions[i].start;
        if (sessions[i].end > m.end)
            m.end = sessions[i].end;
    }
    return m;
}
