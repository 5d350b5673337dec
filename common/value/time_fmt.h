/*
 * Times and durations as the job language writes them. Times are int64
 * milliseconds since the epoch, always UTC.
 * Reentrant; no locale or time zone state is read or changed.
 */
#ifndef WEIR_VALUE_TIME_FMT_H
#define WEIR_VALUE_TIME_FMT_H

#include <stddef.h>
#include <stdint.h>

#define WEIR_TIME_DEFAULT_FORMAT "%Y-%m-%d %H:%M:%S"

/*
 * Parses s (NUL-terminated) with a strptime format; %z offsets are
 * honoured, trailing blanks allowed. WEIR_EPARSE if s does not match.
 */
int weir_time_parse_fmt(const char *s, const char *fmt, int64_t *ms);

/*
 * Parses ISO-8601: "2022-01-01", "2022-01-01T12:00:00", with optional
 * ".fff" fraction (ms), and "Z" or "+hh:mm"/"-hhmm"; ' ' may replace 'T'.
 * No zone means UTC. WEIR_EPARSE otherwise.
 */
int weir_time_parse_iso(const char *s, int64_t *ms);

/*
 * Formats ms with a strftime format in UTC into out (cap bytes, NUL
 * terminated), *len the length. WEIR_EINVAL if out of range or too long.
 */
int weir_time_format(
    int64_t ms, const char *fmt, char *out, size_t cap, size_t *len);

/*
 * Parses a duration: an integer of milliseconds, or a number with a unit
 * ms, s, m, h, d ("500ms", "10s", "1m", "1.5h"). WEIR_EPARSE otherwise,
 * WEIR_EINVAL when negative or too large.
 */
int weir_duration_parse(const char *s, uint64_t *ms);

#endif
