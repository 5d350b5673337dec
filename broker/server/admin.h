/*
 * The HTTP admin API (status, metrics, fault injection): served by NNG's
 * threads, which only queue requests; the I/O loop runs them.
 */
#ifndef WEIR_BROKER_SERVER_ADMIN_H
#define WEIR_BROKER_SERVER_ADMIN_H

#include "broker/state/core.h"

int weir__admin_open(weir_broker *b);
void weir__admin_close(weir_admin *a);
/* Runs admin requests queued by NNG's threads; returns the wake fd. */
void weir__admin_process(weir_broker *b);
int weir__admin_fd(const weir_admin *a);

#endif
