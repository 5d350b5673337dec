/*
 * Clean shutdown on SIGINT/SIGTERM: the handler only records the request
 * and makes weir_signal_fd() readable; loops check weir_signal_stopping()
 * (or poll the fd), finish their current unit of work and return.
 */
#ifndef WEIR_SIGNALS_H
#define WEIR_SIGNALS_H

#include <stdbool.h>

/* Installs the handlers and ignores SIGPIPE. Call once from main. */
int weir_signal_init(void);
bool weir_signal_stopping(void);
/* Requests a stop as if a signal had arrived (async-signal-safe). */
void weir_signal_request_stop(void);
/* Readable once a stop was requested; -1 before weir_signal_init. */
int weir_signal_fd(void);
/* Waits up to ms for a stop request; true when one came. */
bool weir_signal_wait(int ms);

#endif
