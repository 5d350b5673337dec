#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"

static weir_log_level cur_level = WEIR_LOG_INFO;
static char debug_components[256];
static pthread_mutex_t debug_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t base_once = PTHREAD_ONCE_INIT;
static int64_t base_wall_ms;
static uint64_t base_mono_ms;

static void
base_init(void)
{
    base_wall_ms = weir_clock_wall_ms();
    base_mono_ms = weir_clock_mono_ms();
}

void
weir_log_set_level(weir_log_level level)
{
    cur_level = level;
}

static const struct {
    const char *name;
    weir_log_level level;
} level_names[] = {
    {"error", WEIR_LOG_ERROR},
    {"warn", WEIR_LOG_WARN},
    {"warning", WEIR_LOG_WARN},
    {"info", WEIR_LOG_INFO},
    {"debug", WEIR_LOG_DEBUG},
};

int
weir_log_level_parse(const char *name, weir_log_level *level)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcasecmp(name, level_names[i].name) == 0) {
            *level = level_names[i].level;
            return WEIR_OK;
        }
    }
    char *end;
    long n = strtol(name, &end, 10);
    if (*name != '\0' && *end == '\0' && n >= 0 && n <= 7) {
        *level = n <= 3   ? WEIR_LOG_ERROR
                 : n <= 5 ? WEIR_LOG_WARN
                 : n == 6 ? WEIR_LOG_INFO
                          : WEIR_LOG_DEBUG;
        return WEIR_OK;
    }
    return WEIR_EINVAL;
}

const char *
weir_log_level_name(weir_log_level level)
{
    switch (level) {
    case WEIR_LOG_ERROR:
        return "error";
    case WEIR_LOG_WARN:
        return "warn";
    case WEIR_LOG_INFO:
        return "info";
    case WEIR_LOG_DEBUG:
        return "debug";
    }
    return "info";
}

void
weir_log_set_debug(const char *components)
{
    pthread_mutex_lock(&debug_lock);
    snprintf(debug_components, sizeof(debug_components), "%s",
        components ? components : "");
    pthread_mutex_unlock(&debug_lock);
}

static bool
debug_listed(const char *component)
{
    bool found = false;
    size_t n = strlen(component);
    pthread_mutex_lock(&debug_lock);
    for (const char *p = debug_components; *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if ((len == 3 && strncmp(p, "all", 3) == 0) ||
            (len == n && strncmp(p, component, n) == 0)) {
            found = true;
            break;
        }
        p += len + (comma ? 1 : 0);
    }
    pthread_mutex_unlock(&debug_lock);
    return found;
}

bool
weir_log_enabled(weir_log_level level, const char *component)
{
    if (level <= cur_level)
        return true;
    return level == WEIR_LOG_DEBUG && debug_components[0] != '\0' &&
           debug_listed(component);
}

void
weir_log(weir_log_level level, const char *component, const char *fmt, ...)
{
    if (!weir_log_enabled(level, component))
        return;
    pthread_once(&base_once, base_init);

    int64_t ms = base_wall_ms + (int64_t)(weir_clock_mono_ms() - base_mono_ms);
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);

    char line[4096];
    size_t len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    int n = snprintf(line + len, sizeof(line) - len, ".%03dZ %s %s ",
        (int)(ms % 1000), weir_log_level_name(level), component);
    if (n > 0)
        len += (size_t)n;
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
    va_end(ap);
    if (n > 0)
        len += (size_t)n;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
