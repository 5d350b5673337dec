/*
 * Levelled logging, one line format for every process:
 *
 *   ts level component message key=value...
 *
 * ts is UTC wall time at process start advanced by the monotonic clock, so
 * it reads as a date yet never goes backwards. Lines go to stderr with one
 * write(2) each, so threads never interleave within a line.
 * Thread-safe.
 */
#ifndef WEIR_LOG_H
#define WEIR_LOG_H

#include <stdbool.h>

typedef enum weir_log_level {
    WEIR_LOG_ERROR = 3,
    WEIR_LOG_WARN = 4,
    WEIR_LOG_INFO = 6,
    WEIR_LOG_DEBUG = 7,
} weir_log_level;

void weir_log_set_level(weir_log_level level);
/* "error", "warn", "info", "debug" (or syslog numbers). WEIR_EINVAL if not. */
int weir_log_level_parse(const char *name, weir_log_level *level);
const char *weir_log_level_name(weir_log_level level);
/*
 * Comma-separated components whose debug lines are shown even when the
 * level is above debug ("all" for every component). NULL clears.
 */
void weir_log_set_debug(const char *components);
bool weir_log_enabled(weir_log_level level, const char *component);

void weir_log(weir_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define weir_log_error(c, ...) weir_log(WEIR_LOG_ERROR, c, __VA_ARGS__)
#define weir_log_warn(c, ...) weir_log(WEIR_LOG_WARN, c, __VA_ARGS__)
#define weir_log_info(c, ...) weir_log(WEIR_LOG_INFO, c, __VA_ARGS__)
#define weir_log_debug(c, ...)                                                 \
    do {                                                                       \
        if (weir_log_enabled(WEIR_LOG_DEBUG, c))                               \
            weir_log(WEIR_LOG_DEBUG, c, __VA_ARGS__);                          \
    } while (0)

#endif
