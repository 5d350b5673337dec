/* weir-broker's lifetime: open the data dir, serve, upkeep, close. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/state/topic.h"
#include "broker/state/txn.h"
#include "broker/state/member.h"
#include "broker/state/persist.h"
#include "broker/server/server.h"
#include "broker/server/admin.h"
#include "common/clock.h"
#include "common/conf.h"
#include "common/data_dir.h"
#include "common/err.h"
#include "common/log.h"
#include "common/signals.h"

#define MAINTAIN_EVERY_MS 100

static int
parse_fsync(const char *s, weir_fsync_mode *mode)
{
    if (!s || strcmp(s, "interval") == 0)
        *mode = WEIR_FSYNC_INTERVAL;
    else if (strcmp(s, "never") == 0)
        *mode = WEIR_FSYNC_NEVER;
    else if (strcmp(s, "always") == 0)
        *mode = WEIR_FSYNC_ALWAYS;
    else
        return WEIR_EINVAL;
    return WEIR_OK;
}

int
weir_broker_open(weir_broker **bp, const weir_broker_opts *opts)
{
    weir_broker *b = calloc(1, sizeof(*b));
    if (!b)
        return WEIR_ENOMEM;
    b->opts = *opts;
    b->next_pid = 1000;
    b->lock_fd = -1;
    int rv = WEIR_EINVAL;
    /* Paths under the data dir are built in PATH_MAX buffers. */
    if (!opts->data_dir || strlen(opts->data_dir) > 3000 ||
        (opts->admin && strlen(opts->admin) > 400)) {
        weir_log_error("broker", "--data-dir or --admin is too long");
        goto fail;
    }
    char why[4400];
    if (opts->admin && opts->admin[0] &&
        weir_conf_hostport(
            "admin", opts->admin, NULL, 0, NULL, why, sizeof(why)) != WEIR_OK) {
        weir_log_error("broker", "%s", why);
        goto fail;
    }
    rv = parse_fsync(opts->fsync, &b->fsync);
    if (rv != WEIR_OK) {
        weir_log_error("broker", "--fsync wants never|interval|always, got %s",
            opts->fsync);
        goto fail;
    }
    if ((rv = weir_data_dir_lock(opts->data_dir, "broker", &b->lock_fd, why,
             sizeof(why))) != WEIR_OK) {
        weir_log_error("broker", "%s", why);
        goto fail;
    }
    if ((rv = weir__state_open(b)) != WEIR_OK) {
        weir_log_error("broker", "cannot open the data dir %s: %s",
            opts->data_dir, weir_strerror(rv));
        goto fail;
    }
    if ((rv = weir__server_open(b)) != WEIR_OK)
        goto fail;
    if (opts->admin && opts->admin[0] && (rv = weir__admin_open(b)) != WEIR_OK)
        goto fail;
    weir_log_info("broker",
        "opened %s: %zu topics, %zu transactional ids, %zu groups",
        opts->data_dir, b->n_topics, b->n_txns, b->n_groups);
    *bp = b;
    return WEIR_OK;
fail:
    weir_broker_close(b);
    return rv;
}

static void
maintain(weir_broker *b)
{
    uint64_t now = weir_clock_mono_ms();
    if (now - b->last_maintain_ms < MAINTAIN_EVERY_MS)
        return;
    b->last_maintain_ms = now;
    int64_t wall = weir_clock_wall_ms();
    weir__txn_expire(b, wall);
    weir__group_tick(b, now);
    for (size_t i = 0; i < b->n_topics; i++) {
        weir_topic *t = b->topics[i];
        for (int32_t k = 0; k < t->n_parts; k++) {
            weir_part *p = &t->parts[k];
            (void)weir_plog_maintain(p->log, wall, weir__part_lso(p));
            weir__part_prune(p);
        }
    }
    (void)weir__state_maybe_rewrite(b);
    if (b->fsync == WEIR_FSYNC_INTERVAL && now - b->last_sync_ms >= 1000) {
        b->last_sync_ms = now;
        (void)weir_journal_sync(b->journal);
    }
}

int
weir_broker_run(weir_broker *b)
{
    weir_log_info("broker", "ready listen=%s:%d", b->adv_host, b->port);
    while (!weir_signal_stopping()) {
        int rv = weir__server_poll(b, MAINTAIN_EVERY_MS);
        if (rv != WEIR_OK)
            return rv;
        maintain(b);
    }
    weir_log_info("broker", "stopping");
    return WEIR_OK;
}

void
weir_broker_close(weir_broker *b)
{
    if (!b)
        return;
    weir__admin_close(b->admin);
    weir__server_close(b->server);
    for (size_t i = 0; i < b->n_topics; i++)
        weir__topic_free(b->topics[i], false);
    free(b->topics);
    for (size_t i = 0; i < b->n_txns; i++)
        weir__txn_free(b->txns[i]);
    free(b->txns);
    for (size_t i = 0; i < b->n_groups; i++)
        weir__group_free(b->groups[i]);
    free(b->groups);
    weir_journal_close(b->journal);
    if (b->lock_fd >= 0)
        close(b->lock_fd);
    free(b->adv_host);
    free(b);
}
