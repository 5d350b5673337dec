/*
 * Process lifetime for tests and tools: start a binary with its output
 * captured to a file, wait for a line or a port, stop it (SIGTERM, then
 * SIGKILL), kill it, pause and resume it. Not thread-safe: one owner.
 */
#ifndef WEIR_TESTS_LIB_PROC_H
#define WEIR_TESTS_LIB_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct weir_proc weir_proc;

/*
 * Starts argv[0] (searched in PATH) with argv. env: extra "NAME=value"
 * entries added to the inherited environment, NULL-terminated, may be NULL.
 * stdout and stderr go to log_path (created or truncated).
 */
int weir_proc_start(weir_proc **procp, char *const argv[], char *const env[],
    const char *log_path);

/*
 * Waits until a line of the output contains needle; copies that line into
 * line (if not NULL). WEIR_ETIMEDOUT, or WEIR_ECLOSED if the process exited.
 */
int weir_proc_wait_line(weir_proc *proc, const char *needle, int timeout_ms,
    char *line, size_t size);

/* Waits until something accepts TCP connections on host:port. */
int weir_proc_wait_port(const char *host, int port, int timeout_ms);

/* SIGTERM, then SIGKILL after timeout_ms. *status: waitpid status. */
int weir_proc_stop(weir_proc *proc, int timeout_ms, int *status);
int weir_proc_kill(weir_proc *proc);
int weir_proc_pause(weir_proc *proc);
int weir_proc_resume(weir_proc *proc);
/* Waits for the process to exit on its own. */
int weir_proc_wait_exit(weir_proc *proc, int timeout_ms, int *status);
bool weir_proc_alive(weir_proc *proc);
pid_t weir_proc_pid(const weir_proc *proc);
/* Kills the process if still running. NULL-safe. */
void weir_proc_free(weir_proc *proc);

/* A free TCP port on 127.0.0.1 at the moment of the call, or -1. */
int weir_port_pick(void);

#endif
