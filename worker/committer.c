#include "committer.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "common/err.h"

struct weir_committer {
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int (*fn)(void *); /* the call started and not finished; NULL idle */
    void *arg;
    bool quit;
    int rv; /* the last call's result */
};

static void *
loop(void *arg)
{
    weir_committer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->fn && !c->quit)
            pthread_cond_wait(&c->cv, &c->mu);
        if (!c->fn)
            break; /* quit, nothing pending */
        int (*fn)(void *) = c->fn;
        void *fn_arg = c->arg;
        pthread_mutex_unlock(&c->mu);
        int rv = fn(fn_arg);
        pthread_mutex_lock(&c->mu);
        c->fn = NULL;
        c->rv = rv;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int
weir_committer_new(weir_committer **cp)
{
    weir_committer *c = calloc(1, sizeof(*c));
    if (!c)
        return WEIR_ENOMEM;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->tid, NULL, loop, c) != 0) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return WEIR_ENOMEM;
    }
    *cp = c;
    return WEIR_OK;
}

void
weir_committer_start(weir_committer *c, int (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&c->mu);
    c->fn = fn;
    c->arg = arg;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

bool
weir_committer_done(weir_committer *c, int wait_ms, int *rv)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->mu);
    while (c->fn && wait_ms > 0 &&
           pthread_cond_timedwait(&c->cv, &c->mu, &until) == 0)
        ;
    bool done = !c->fn;
    *rv = c->rv;
    pthread_mutex_unlock(&c->mu);
    return done;
}

int
weir_committer_wait(weir_committer *c)
{
    pthread_mutex_lock(&c->mu);
    while (c->fn)
        pthread_cond_wait(&c->cv, &c->mu);
    int rv = c->rv;
    pthread_mutex_unlock(&c->mu);
    return rv;
}

void
weir_committer_free(weir_committer *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->quit = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->tid, NULL); /* finishes a call in flight first */
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
