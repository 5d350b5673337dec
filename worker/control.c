/*
 * The worker's control thread (see control.h): Hello, heartbeats with the
 * runtime's report, assignments applied through weir_runtime_assign,
 * reconnects with backoff, Leave on stop.
 */
#include "control.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/req_client.h"
#include "worker/kafka_probe.h"
#include "common/wire.h"
#include "ownership.h"
#include "runtime.h"

#define LOGC "control"
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define LEAVE_TIMEOUT_MS 1000

struct weir_control {
    weir_runtime *rt;
    char *coordinator, *worker_id, *address, *token, *bootstrap, *tls_ca;
    char *query_address;
    uint32_t capacity;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* guards stop (for interruptible sleeps) and
                           setting probe */
    pthread_cond_t cv;
    bool stop;
    atomic_bool connected;
    weir_req_client req;
    char instance[33];       /* random per process start */
    weir_kafka_probe *probe; /* once the bootstrap is known */
    /* control thread only */
    bool registered;
    uint64_t epoch;
    uint64_t generation; /* of the assignment the runtime runs */
    uint32_t interval_ms;
    uint32_t session_ms;
    uint32_t failures;
    Weir__Cluster__KafkaState told_kafka; /* in the last hello/heartbeat */
};

static bool
stopping(weir_control *ctl)
{
    pthread_mutex_lock(&ctl->mu);
    bool s = ctl->stop;
    pthread_mutex_unlock(&ctl->mu);
    return s;
}

/* Sleeps up to ms; returns true when a stop was requested. */
static bool
nap(weir_control *ctl, uint64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ctl->mu);
    while (!ctl->stop)
        if (pthread_cond_timedwait(&ctl->cv, &ctl->mu, &ts) != 0)
            break;
    bool s = ctl->stop;
    pthread_mutex_unlock(&ctl->mu);
    return s;
}

/*
 * Sleeps up to ms like nap, but wakes early once the probe's answer
 * differs from what the coordinator was last told: it gives tasks only to
 * workers known to reach Kafka, so a worker that learned the bootstrap
 * from Welcome says so at once rather than a heartbeat interval later.
 * Returns true when a stop was requested. Control thread.
 */
static bool
rest(weir_control *ctl, uint64_t ms)
{
    char why[8];
    uint64_t until = weir_clock_mono_ms() + ms;
    for (;;) {
        uint64_t now = weir_clock_mono_ms();
        if (now >= until)
            return false;
        if (nap(ctl, until - now < 50 ? until - now : 50))
            return true;
        if (ctl->registered && ctl->probe &&
            weir_kafka_probe_state(ctl->probe, why, sizeof(why)) !=
                ctl->told_kafka)
            return false;
    }
}

static void
failure(weir_control *ctl, const char *what, int rv, const char *err)
{
    atomic_store(&ctl->connected, false);
    if (ctl->failures++ % 20 == 0)
        weir_log_warn(LOGC,
            "%s failed coordinator=%s: %s (tasks keep running; retrying)", what,
            ctl->coordinator, err && err[0] ? err : weir_strerror(rv));
}

/* The coordinator accepted a message sent at sent_ms: our membership is
 * current until it could expire the session (weir_runtime_set_lease). */
static void
renew_lease(weir_control *ctl, uint64_t sent_ms)
{
    weir_runtime_set_lease(
        ctl->rt, weir_ownership_lease(sent_ms, ctl->session_ms));
}

static int
say_hello(weir_control *ctl)
{
    uint64_t sent_ms = weir_clock_mono_ms();
    Weir__Cluster__TaskCheckpoint **local = NULL;
    size_t n_local = 0;
    if (weir_runtime_report(ctl->rt, NULL, NULL, &local, &n_local) != WEIR_OK) {
        local = NULL;
        n_local = 0;
    }
    Weir__Cluster__Hello h = WEIR__CLUSTER__HELLO__INIT;
    h.worker_id = ctl->worker_id;
    h.address = ctl->address;
    h.query_address = ctl->query_address;
    h.capacity = ctl->capacity;
    h.token = ctl->token;
    h.n_local_state = n_local;
    h.local_state = local;
    h.instance = ctl->instance;
    char kafka_why[256];
    h.kafka = weir_kafka_probe_state(ctl->probe, kafka_why, sizeof(kafka_why));
    h.kafka_error = kafka_why;
    ctl->told_kafka = h.kafka;
    weir_wire_msg reply;
    char err[512] = "";
    int rv = weir_wire_call(ctl->req.sock, WEIR__CLUSTER__MSG_TYPE__MSG_HELLO,
        ctl->token, &h.base, &reply, err, sizeof(err));
    weir_runtime_report_free(NULL, 0, local, n_local);
    if (rv != WEIR_OK) {
        failure(ctl, "hello", rv, err);
        return rv;
    }
    if (reply.type != WEIR__CLUSTER__MSG_TYPE__MSG_WELCOME) {
        weir_wire_msg_fini(&reply);
        failure(ctl, "hello", WEIR_EPROTO, "unexpected reply");
        return WEIR_EPROTO;
    }
    Weir__Cluster__Welcome *w = (Weir__Cluster__Welcome *)reply.body;
    ctl->epoch = w->member_epoch;
    if (w->heartbeat_interval_ms >= 10)
        ctl->interval_ms = w->heartbeat_interval_ms;
    if (w->session_timeout_ms > 0)
        ctl->session_ms = w->session_timeout_ms;
    renew_lease(ctl, sent_ms);
    const char *bootstrap = ctl->bootstrap ? ctl->bootstrap : w->bootstrap;
    if (bootstrap && bootstrap[0]) {
        weir_runtime_set_bootstrap(ctl->rt, bootstrap);
        weir_kafka_probe *probe = NULL;
        if (!ctl->probe &&
            weir_kafka_probe_start(&probe, bootstrap) == WEIR_OK) {
            pthread_mutex_lock(&ctl->mu); /* weir_control_kafka_state */
            ctl->probe = probe;
            pthread_mutex_unlock(&ctl->mu);
        }
    }
    ctl->registered = true;
    weir_log_info(LOGC,
        "registered worker=%s epoch=%llu heartbeat_ms=%u session_ms=%u "
        "bootstrap=%s",
        ctl->worker_id, (unsigned long long)ctl->epoch, ctl->interval_ms,
        w->session_timeout_ms, bootstrap ? bootstrap : "");
    weir_wire_msg_fini(&reply);
    return WEIR_OK;
}

static void
apply(weir_control *ctl, const Weir__Cluster__HeartbeatReply *r)
{
    if (!r->assignment_changed || !r->assignment)
        return;
    int rv = weir_runtime_assign(
        ctl->rt, r->assignment, r->topologies, r->n_topologies);
    if (rv != WEIR_OK) {
        weir_log_error(LOGC, "cannot apply assignment generation=%llu: %s",
            (unsigned long long)r->assignment->generation, weir_strerror(rv));
        return;
    }
    ctl->generation = r->assignment->generation;
    weir_log_info(LOGC,
        "assignment generation=%llu active=%zu standby=%zu drain=%d",
        (unsigned long long)ctl->generation, r->assignment->n_active,
        r->assignment->n_standby, r->drain);
}

/*
 * The coordinator declared this worker dead: its tasks have new owners
 * whose producers fence ours. Stop them now rather than at the first
 * fenced commit; the next assignment brings back whatever is still ours.
 */
static void
drop_all(weir_control *ctl)
{
    Weir__Cluster__Assignment none = WEIR__CLUSTER__ASSIGNMENT__INIT;
    if (weir_runtime_assign(ctl->rt, &none, NULL, 0) != WEIR_OK)
        weir_log_error(LOGC, "cannot drop the stale assignment");
    ctl->generation = 0;
}

static int
heartbeat(weir_control *ctl)
{
    Weir__Cluster__TaskStatus **tasks = NULL;
    Weir__Cluster__TaskCheckpoint **local = NULL;
    size_t n_tasks = 0, n_local = 0;
    if (weir_runtime_report(ctl->rt, &tasks, &n_tasks, &local, &n_local) !=
        WEIR_OK) {
        tasks = NULL;
        local = NULL;
        n_tasks = n_local = 0;
    }
    Weir__Cluster__Heartbeat hb = WEIR__CLUSTER__HEARTBEAT__INIT;
    hb.worker_id = ctl->worker_id;
    hb.member_epoch = ctl->epoch;
    hb.known_generation = ctl->generation;
    hb.n_tasks = n_tasks;
    hb.tasks = tasks;
    hb.n_local_state = n_local;
    hb.local_state = local;
    char kafka_why[256];
    hb.kafka = weir_kafka_probe_state(ctl->probe, kafka_why, sizeof(kafka_why));
    hb.kafka_error = kafka_why;
    ctl->told_kafka = hb.kafka;
    hb.sent_at_ms = (uint64_t)weir_clock_wall_ms();
    uint64_t sent_ms = weir_clock_mono_ms();
    weir_wire_msg reply;
    char err[512] = "";
    int rv =
        weir_wire_call(ctl->req.sock, WEIR__CLUSTER__MSG_TYPE__MSG_HEARTBEAT,
            ctl->token, &hb.base, &reply, err, sizeof(err));
    weir_runtime_report_free(tasks, n_tasks, local, n_local);
    if (rv == WEIR_ESTATE) {
        weir_log_warn(LOGC,
            "member epoch %llu is stale: dropping active tasks, registering "
            "again",
            (unsigned long long)ctl->epoch);
        weir_runtime_set_lease(ctl->rt, 0);
        drop_all(ctl);
        ctl->registered = false;
        return rv;
    }
    if (rv != WEIR_OK) {
        failure(ctl, "heartbeat", rv, err);
        return rv;
    }
    renew_lease(ctl, sent_ms);
    if (reply.type == WEIR__CLUSTER__MSG_TYPE__MSG_HEARTBEAT_REPLY)
        apply(ctl, (Weir__Cluster__HeartbeatReply *)reply.body);
    weir_wire_msg_fini(&reply);
    if (!atomic_load(&ctl->connected) && ctl->failures > 0)
        weir_log_info(LOGC, "coordinator reachable again");
    ctl->failures = 0;
    atomic_store(&ctl->connected, true);
    return WEIR_OK;
}

static void
say_leave(weir_control *ctl)
{
    weir_req_client_set_timeout(&ctl->req, LEAVE_TIMEOUT_MS);
    Weir__Cluster__Leave lv = WEIR__CLUSTER__LEAVE__INIT;
    lv.worker_id = ctl->worker_id;
    lv.member_epoch = ctl->epoch;
    weir_wire_msg reply;
    char err[256] = "";
    int rv = weir_wire_call(ctl->req.sock, WEIR__CLUSTER__MSG_TYPE__MSG_LEAVE,
        ctl->token, &lv.base, &reply, err, sizeof(err));
    if (rv == WEIR_OK)
        weir_wire_msg_fini(&reply);
    weir_log_info(LOGC, "leave worker=%s: %s", ctl->worker_id,
        rv == WEIR_OK ? "ok" : (err[0] ? err : weir_strerror(rv)));
}

static void *
control_main(void *arg)
{
    weir_control *ctl = arg;
    uint64_t backoff = BACKOFF_MIN_MS;
    /* With --bootstrap the hello says whether Kafka answers: wait for the
     * probe's first answer (bounded), so no task comes before it. */
    char why[8];
    for (int i = 0; i < 30 && ctl->probe &&
                    weir_kafka_probe_state(ctl->probe, why, sizeof(why)) ==
                        WEIR__CLUSTER__KAFKA_STATE__KAFKA_UNKNOWN;
         i++)
        if (nap(ctl, 100))
            return NULL;
    while (!stopping(ctl)) {
        uint64_t t0 = weir_clock_mono_ms();
        int rv = ctl->registered ? heartbeat(ctl) : say_hello(ctl);
        uint64_t wait;
        if (rv == WEIR_OK) {
            backoff = BACKOFF_MIN_MS;
            uint64_t spent = weir_clock_mono_ms() - t0;
            wait = spent < ctl->interval_ms ? ctl->interval_ms - spent : 0;
        } else if (rv == WEIR_ESTATE) {
            wait = 0; /* Hello at once */
        } else {
            wait = backoff;
            backoff =
                backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        }
        if (ctl->registered && wait > ctl->interval_ms)
            wait = ctl->interval_ms; /* never miss the session for backoff */
        if (wait && rest(ctl, wait))
            break;
    }
    if (ctl->registered)
        say_leave(ctl);
    return NULL;
}

static char *
dup_opt(const char *s)
{
    return s && s[0] ? strdup(s) : NULL;
}

int
weir_control_start(
    weir_control **ctlp, weir_runtime *rt, const weir_control_opts *opts)
{
    if (!rt || !opts || !opts->coordinator || !opts->coordinator[0] ||
        !opts->worker_id || !opts->worker_id[0])
        return WEIR_EINVAL;
    weir_control *ctl = calloc(1, sizeof(*ctl));
    if (!ctl)
        return WEIR_ENOMEM;
    ctl->rt = rt;
    ctl->coordinator = strdup(opts->coordinator);
    ctl->worker_id = strdup(opts->worker_id);
    ctl->address = strdup(opts->address ? opts->address : "");
    ctl->query_address = strdup(opts->query_address ? opts->query_address : "");
    ctl->token = strdup(opts->token ? opts->token : "");
    ctl->bootstrap = dup_opt(opts->bootstrap);
    ctl->tls_ca = dup_opt(opts->tls_ca);
    ctl->capacity = opts->capacity ? opts->capacity : 1;
    ctl->interval_ms = 500;
    ctl->session_ms = 3000;
    pthread_mutex_init(&ctl->mu, NULL);
    pthread_cond_init(&ctl->cv, NULL);
    int rv = WEIR_ENOMEM;
    if (!ctl->coordinator || !ctl->worker_id || !ctl->address ||
        !ctl->query_address || !ctl->token ||
        (opts->bootstrap && opts->bootstrap[0] && !ctl->bootstrap) ||
        (opts->tls_ca && opts->tls_ca[0] && !ctl->tls_ca))
        goto fail;
    char err[256];
    weir_req_client_opts ro = {.url = ctl->coordinator,
        .tls_ca = ctl->tls_ca,
        .timeout_ms =
            (int)(ctl->interval_ms * 4 > 2000 ? ctl->interval_ms * 4 : 2000),
        .reconnect_min_ms = BACKOFF_MIN_MS,
        .reconnect_max_ms = 2000};
    if ((rv = weir_req_client_open(&ctl->req, &ro, err, sizeof(err))) !=
        WEIR_OK) {
        weir_log_error(LOGC, "%s", err);
        goto fail;
    }
    uint64_t rnd[2] = {weir_clock_mono_us(), (uint64_t)getpid()};
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        rnd[1] ^= (uint64_t)weir_clock_wall_ms();
    snprintf(ctl->instance, sizeof(ctl->instance), "%016llx%016llx",
        (unsigned long long)rnd[0], (unsigned long long)rnd[1]);
    /* Told at hello: a worker that cannot reach Kafka gets no tasks. */
    if (ctl->bootstrap &&
        (rv = weir_kafka_probe_start(&ctl->probe, ctl->bootstrap)) != WEIR_OK)
        goto fail;
    /* No task starts before the coordinator has accepted us. */
    weir_runtime_set_lease(rt, 0);
    if (pthread_create(&ctl->thread, NULL, control_main, ctl) != 0) {
        rv = WEIR_ENOMEM;
        goto fail;
    }
    ctl->started = true;
    *ctlp = ctl;
    return WEIR_OK;
fail:
    weir_control_free(ctl);
    return rv;
}

void
weir_control_stop(weir_control *ctl)
{
    if (!ctl || !ctl->started)
        return;
    pthread_mutex_lock(&ctl->mu);
    ctl->stop = true;
    pthread_cond_signal(&ctl->cv);
    pthread_mutex_unlock(&ctl->mu);
    pthread_join(ctl->thread, NULL);
    ctl->started = false;
}

void
weir_control_free(weir_control *ctl)
{
    if (!ctl)
        return;
    weir_control_stop(ctl);
    weir_kafka_probe_stop(ctl->probe);
    weir_req_client_close(&ctl->req);
    free(ctl->coordinator);
    free(ctl->worker_id);
    free(ctl->address);
    free(ctl->query_address);
    free(ctl->token);
    free(ctl->bootstrap);
    free(ctl->tls_ca);
    pthread_mutex_destroy(&ctl->mu);
    pthread_cond_destroy(&ctl->cv);
    free(ctl);
}

bool
weir_control_connected(const weir_control *ctl)
{
    return ctl && atomic_load(&ctl->connected);
}

Weir__Cluster__KafkaState
weir_control_kafka_state(weir_control *ctl)
{
    if (!ctl)
        return WEIR__CLUSTER__KAFKA_STATE__KAFKA_UNKNOWN;
    char why[8];
    pthread_mutex_lock(&ctl->mu);
    Weir__Cluster__KafkaState s =
        weir_kafka_probe_state(ctl->probe, why, sizeof(why));
    pthread_mutex_unlock(&ctl->mu);
    return s;
}
