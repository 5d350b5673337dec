/* One syncer thread for the interval fsyncs of every log. */
#include "broker/storage/store_sync.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

struct weir__sync_token {
    int pending; /* its jobs queued or running */
    bool failed; /* a finished job failed, not yet reported */
};

typedef struct job {
    struct job *next;
    int fd;
    weir__sync_token *tok;
} job;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static job *head, *tail;
static bool started, start_failed;

static void *
syncer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (head == NULL)
            pthread_cond_wait(&work_cv, &mu);
        job *j = head;
        head = j->next;
        if (head == NULL)
            tail = NULL;
        pthread_mutex_unlock(&mu);
        int rv;
        do {
            rv = fdatasync(j->fd);
        } while (rv != 0 && errno == EINTR);
        if (rv != 0)
            weir_log_error("broker", "background fsync failed err=%d", errno);
        close(j->fd);
        pthread_mutex_lock(&mu);
        j->tok->pending--;
        if (rv != 0)
            j->tok->failed = true;
        free(j);
        pthread_cond_broadcast(&done_cv);
    }
    return NULL;
}

/* Called with mu held. */
static bool
ensure_started(void)
{
    if (!started && !start_failed) {
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &attr, syncer, NULL) == 0)
            started = true;
        else
            start_failed = true;
        pthread_attr_destroy(&attr);
    }
    return started;
}

weir__sync_token *
weir__sync_token_new(void)
{
    return calloc(1, sizeof(weir__sync_token));
}

void
weir__sync_token_free(weir__sync_token *tok)
{
    if (tok == NULL)
        return;
    weir__sync_wait(tok);
    free(tok);
}

int
weir__sync_start(weir__sync_token *tok, int fd)
{
    job *j = NULL;
    int rv = WEIR_OK;

    pthread_mutex_lock(&mu);
    if (!ensure_started() || (j = malloc(sizeof(*j))) == NULL ||
        (j->fd = dup(fd)) < 0) {
        free(j);
        pthread_mutex_unlock(&mu);
        /* No thread, memory or descriptor: sync here and now. */
        while ((rv = fdatasync(fd)) != 0 && errno == EINTR)
            ;
        return rv == 0 ? WEIR_OK : WEIR_EIO;
    }
    j->tok = tok;
    j->next = NULL;
    tok->pending++;
    if (tail != NULL)
        tail->next = j;
    else
        head = j;
    tail = j;
    pthread_cond_signal(&work_cv);
    pthread_mutex_unlock(&mu);
    return rv;
}

bool
weir__sync_busy(weir__sync_token *tok)
{
    pthread_mutex_lock(&mu);
    bool busy = tok->pending > 0;
    pthread_mutex_unlock(&mu);
    return busy;
}

bool
weir__sync_failed(weir__sync_token *tok)
{
    pthread_mutex_lock(&mu);
    bool failed = tok->failed;
    tok->failed = false;
    pthread_mutex_unlock(&mu);
    return failed;
}

void
weir__sync_wait(weir__sync_token *tok)
{
    pthread_mutex_lock(&mu);
    while (tok->pending > 0)
        pthread_cond_wait(&done_cv, &mu);
    pthread_mutex_unlock(&mu);
}
