#include "tests/lib/proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"

struct weir_proc {
    pid_t pid;
    bool exited;
    int status;
    char *log_path;
};

extern char **environ;

int
weir_proc_start(weir_proc **procp, char *const argv[], char *const env[],
    const char *log_path)
{
    weir_proc *proc = calloc(1, sizeof(*proc));
    if (!proc || !(proc->log_path = strdup(log_path))) {
        free(proc);
        return WEIR_ENOMEM;
    }
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        weir_proc_free(proc);
        return WEIR_EIO;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        weir_proc_free(proc);
        return WEIR_EIO;
    }
    if (pid == 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        for (size_t i = 0; env && env[i]; i++)
            putenv(env[i]);
        execvp(argv[0], argv);
        dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    proc->pid = pid;
    *procp = proc;
    return WEIR_OK;
}

static bool
reap(weir_proc *proc, int flags)
{
    if (proc->exited)
        return true;
    int status;
    pid_t r = waitpid(proc->pid, &status, flags);
    if (r == proc->pid) {
        proc->exited = true;
        proc->status = status;
    }
    return proc->exited;
}

bool
weir_proc_alive(weir_proc *proc)
{
    return !reap(proc, WNOHANG);
}

pid_t
weir_proc_pid(const weir_proc *proc)
{
    return proc->pid;
}

static bool
log_has_line(const char *path, const char *needle, char *line, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char buf[8192];
    bool found = false;
    while (fgets(buf, sizeof(buf), f)) {
        if (strstr(buf, needle)) {
            found = true;
            if (line && size > 0) {
                buf[strcspn(buf, "\n")] = '\0';
                snprintf(line, size, "%s", buf);
            }
            break;
        }
    }
    fclose(f);
    return found;
}

int
weir_proc_wait_line(weir_proc *proc, const char *needle, int timeout_ms,
    char *line, size_t size)
{
    uint64_t deadline = weir_clock_mono_ms() + (uint64_t)timeout_ms;
    for (;;) {
        if (log_has_line(proc->log_path, needle, line, size))
            return WEIR_OK;
        if (!weir_proc_alive(proc))
            return log_has_line(proc->log_path, needle, line, size)
                       ? WEIR_OK
                       : WEIR_ECLOSED;
        if (weir_clock_mono_ms() >= deadline)
            return WEIR_ETIMEDOUT;
        weir_clock_sleep_ms(10);
    }
}

int
weir_proc_wait_port(const char *host, int port, int timeout_ms)
{
    uint64_t deadline = weir_clock_mono_ms() + (uint64_t)timeout_ms;
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return WEIR_EINVAL;
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return WEIR_EIO;
        int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
        close(fd);
        if (rc == 0)
            return WEIR_OK;
        if (weir_clock_mono_ms() >= deadline)
            return WEIR_ETIMEDOUT;
        weir_clock_sleep_ms(10);
    }
}

int
weir_proc_wait_exit(weir_proc *proc, int timeout_ms, int *status)
{
    uint64_t deadline = weir_clock_mono_ms() + (uint64_t)timeout_ms;
    while (!reap(proc, WNOHANG)) {
        if (weir_clock_mono_ms() >= deadline)
            return WEIR_ETIMEDOUT;
        weir_clock_sleep_ms(5);
    }
    if (status)
        *status = proc->status;
    return WEIR_OK;
}

int
weir_proc_stop(weir_proc *proc, int timeout_ms, int *status)
{
    if (!proc->exited) {
        kill(proc->pid, SIGCONT);
        kill(proc->pid, SIGTERM);
    }
    if (weir_proc_wait_exit(proc, timeout_ms, status) == WEIR_OK)
        return WEIR_OK;
    weir_proc_kill(proc);
    if (status)
        *status = proc->status;
    return WEIR_ETIMEDOUT;
}

int
weir_proc_kill(weir_proc *proc)
{
    if (proc->exited)
        return WEIR_OK;
    kill(proc->pid, SIGKILL);
    reap(proc, 0);
    return WEIR_OK;
}

int
weir_proc_pause(weir_proc *proc)
{
    return kill(proc->pid, SIGSTOP) == 0 ? WEIR_OK : WEIR_ESTATE;
}

int
weir_proc_resume(weir_proc *proc)
{
    return kill(proc->pid, SIGCONT) == 0 ? WEIR_OK : WEIR_ESTATE;
}

void
weir_proc_free(weir_proc *proc)
{
    if (!proc)
        return;
    if (proc->pid > 0)
        weir_proc_kill(proc);
    free(proc->log_path);
    free(proc);
}

int
weir_port_pick(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}
