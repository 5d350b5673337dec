#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"

static volatile sig_atomic_t stopping;
static int pipe_fds[2] = {-1, -1};

void
weir_signal_request_stop(void)
{
    int saved = errno;
    stopping = 1;
    if (pipe_fds[1] >= 0) {
        ssize_t w = write(pipe_fds[1], "x", 1);
        (void)w;
    }
    errno = saved;
}

static void
on_signal(int sig)
{
    (void)sig;
    weir_signal_request_stop();
}

int
weir_signal_init(void)
{
    if (pipe_fds[0] < 0) {
        if (pipe(pipe_fds) != 0)
            return WEIR_EIO;
        for (int i = 0; i < 2; i++) {
            fcntl(pipe_fds[i], F_SETFL, O_NONBLOCK);
            fcntl(pipe_fds[i], F_SETFD, FD_CLOEXEC);
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return WEIR_OK;
}

bool
weir_signal_stopping(void)
{
    return stopping != 0;
}

int
weir_signal_fd(void)
{
    return pipe_fds[0];
}

bool
weir_signal_wait(int ms)
{
    struct pollfd pfd = {.fd = weir_signal_fd(), .events = POLLIN};
    if (pfd.fd < 0) {
        weir_clock_sleep_ms((uint64_t)ms);
        return weir_signal_stopping();
    }
    (void)poll(&pfd, 1, ms);
    return weir_signal_stopping();
}
