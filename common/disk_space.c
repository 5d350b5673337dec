#include "disk_space.h"

#include <sys/statvfs.h>

#include "clock.h"
#include "log.h"
#include "signals.h"

#define WAIT_LOG_EVERY_MS 10000

int64_t
weir_disk_free_bytes(const char *path)
{
    struct statvfs st;
    if (statvfs(path, &st) != 0)
        return -1;
    return (int64_t)st.f_bavail * (int64_t)st.f_frsize;
}

bool
weir_disk_has_room(const char *path, int64_t min_bytes)
{
    int64_t free_bytes = weir_disk_free_bytes(path);
    return free_bytes < 0 || free_bytes >= min_bytes;
}

bool
weir_disk_wait_for_room(const char *path, int64_t min_bytes, const char *who)
{
    uint64_t logged_ms = 0;
    while (!weir_disk_has_room(path, min_bytes)) {
        uint64_t now = weir_clock_mono_ms();
        if (!logged_ms || now - logged_ms >= WAIT_LOG_EVERY_MS) {
            weir_log_error(who,
                "data dir low on space: waiting dir=%s free_mb=%lld "
                "min_free_disk_mb=%lld",
                path, (long long)(weir_disk_free_bytes(path) >> 20),
                (long long)(min_bytes >> 20));
            logged_ms = now;
        }
        if (weir_signal_wait(500))
            return false;
    }
    if (logged_ms)
        weir_log_info(who, "data dir has room again dir=%s free_mb=%lld", path,
            (long long)(weir_disk_free_bytes(path) >> 20));
    return true;
}
