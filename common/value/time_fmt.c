/* Times and durations as the job language writes them. */
#include "common/value/time_fmt.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int64_t
tm_to_ms(const struct tm *tm, long gmtoff)
{
    int64_t days = days_from_civil((int64_t)tm->tm_year + 1900,
        (unsigned)tm->tm_mon + 1, (unsigned)tm->tm_mday);
    int64_t secs = days * 86400 + (int64_t)tm->tm_hour * 3600 +
                   (int64_t)tm->tm_min * 60 + tm->tm_sec - gmtoff;
    return secs * 1000;
}

static bool
only_blanks(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
        s++;
    }
    return *s == '\0';
}

int
weir_time_parse_fmt(const char *s, const char *fmt, int64_t *ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_mday = 1;
    const char *end = strptime(s, fmt, &tm);
    if (end == NULL || !only_blanks(end) || tm.tm_mon < 0 || tm.tm_mon > 11 ||
        tm.tm_mday < 1 || tm.tm_mday > 31) {
        return WEIR_EPARSE;
    }
    *ms = tm_to_ms(&tm, tm.tm_gmtoff);
    return WEIR_OK;
}

/* Reads exactly n digits. */
static bool
digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

int
weir_time_parse_iso(const char *s, int64_t *ms)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
    long off = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
        *p++ != '-' || !digits(&p, 2, &d)) {
        return WEIR_EPARSE;
    }
    if (*p == 'T' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi)) {
            return WEIR_EPARSE;
        }
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &sec)) {
                return WEIR_EPARSE;
            }
            if (*p == '.' || *p == ',') {
                p++;
                int scale = 100, n = 0;
                while (*p >= '0' && *p <= '9') {
                    frac += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                    n++;
                }
                if (n == 0) {
                    return WEIR_EPARSE;
                }
            }
        }
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
            if (!digits(&p, 2, &oh)) {
                return WEIR_EPARSE;
            }
            if (*p == ':') {
                p++;
            }
            if (*p != '\0' && !digits(&p, 2, &om)) {
                return WEIR_EPARSE;
            }
            off = sign * (oh * 3600L + om * 60L);
        }
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
        mi > 59 || sec > 60) {
        return WEIR_EPARSE;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *ms = tm_to_ms(&tm, off) + frac;
    return WEIR_OK;
}

int
weir_time_format(
    int64_t ms, const char *fmt, char *out, size_t cap, size_t *len)
{
    /* Years past 9999 or before 0 are out of range for the formats. */
    if (ms < -62167219200000LL || ms > 253402300799999LL) {
        return WEIR_EINVAL;
    }
    int64_t secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
    time_t t = (time_t)secs;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        return WEIR_EINVAL;
    }
    if (*fmt == '\0') {
        out[0] = '\0';
        *len = 0;
        return WEIR_OK;
    }
    size_t n = strftime(out, cap, fmt, &tm);
    if (n == 0) {
        return WEIR_EINVAL;
    }
    *len = n;
    return WEIR_OK;
}

int
weir_duration_parse(const char *s, uint64_t *ms)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"min", 60000},
        {"h", 3600000}, {"d", 86400000}, {"", 1}};
    char *end;
    if (*s == '\0' || *s == ' ') {
        return WEIR_EPARSE;
    }
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno != 0 || isnan(v)) {
        return WEIR_EPARSE;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) == 0) {
            double r = v * units[i].ms;
            if (r < 0) {
                return WEIR_EINVAL;
            }
            if (r > 9.0e15 || r != floor(r)) {
                return r > 9.0e15 ? WEIR_EINVAL : WEIR_EPARSE;
            }
            *ms = (uint64_t)r;
            return WEIR_OK;
        }
    }
    return WEIR_EPARSE;
}
