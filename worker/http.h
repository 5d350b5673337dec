/*
 * The worker's optional HTTP listener (--http HOST:PORT): GET /metrics
 * (Prometheus text, worker/metrics.h) and GET /healthz ("ok"); any other
 * path is 404, any other method 405.
 *
 * Threading: requests are answered on NNG's HTTP threads from the
 * runtime's report (under the lock the heartbeat takes), never by a stream
 * thread or the control thread, and never waiting for either.
 */
#ifndef WEIR_WORKER_HTTP_H
#define WEIR_WORKER_HTTP_H

#include <stddef.h>

typedef struct weir_runtime weir_runtime;
typedef struct weir_control weir_control;
typedef struct weir_worker_http weir_worker_http;

/*
 * Listens at addr (HOST:PORT; port 0 picks a free one); *bound (bound_len
 * bytes) receives the HOST:PORT it listens at. rt and ctl (ctl may be
 * NULL: Kafka reachability unknown) must outlive the listener. WEIR_EINVAL
 * for a bad address, WEIR_EIO when it cannot listen (err says why).
 */
int weir_worker_http_start(weir_worker_http **out, const char *addr,
    weir_runtime *rt, weir_control *ctl, char *bound, size_t bound_len,
    char *err, size_t errlen);

/* Stops listening and frees; NULL-safe. Call before freeing rt or ctl. */
void weir_worker_http_stop(weir_worker_http *h);

#endif
