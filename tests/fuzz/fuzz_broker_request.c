/*
 * libFuzzer target for weir-broker's request decoder: each input is one
 * request frame (after the size). It is decoded and, when valid, handled
 * by the real handler against a broker opened on a temporary data dir
 * with one topic, as the I/O loop would. Nothing may crash, leak or read
 * out of bounds; malformed input must be rejected by the decoder.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/handlers/handler.h"
#include "broker/state/topic.h"
#include "broker/state/persist.h"
#include "common/err.h"
#include "common/log.h"

static weir_broker *broker;
static char dir[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
cleanup(void)
{
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    weir_log_set_level(WEIR_LOG_ERROR);
    snprintf(dir, sizeof(dir), "/tmp/weir-fuzz-broker-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    atexit(cleanup);
    broker = calloc(1, sizeof(*broker));
    broker->opts.data_dir = dir;
    broker->opts.segment_bytes = 1 << 20;
    broker->opts.default_partitions = 2;
    broker->opts.auto_create_topics = false;
    broker->opts.txn_max_timeout_ms = 60000;
    broker->fsync = WEIR_FSYNC_NEVER;
    broker->next_pid = 1000;
    broker->lock_fd = -1;
    broker->adv_host = strdup("127.0.0.1");
    if (weir__state_open(broker) != WEIR_OK ||
        weir__topic_create(broker, "t", 2, &weir__topic_conf_default) !=
            WEIR_OK)
        abort();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The decoder reads from the buffer and handlers may rewrite record
     * batches in place (base offsets), so work on a copy. */
    uint8_t *frame = malloc(size ? size : 1);
    if (!frame)
        return 0;
    memcpy(frame, data, size);
    char *member = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        weir_kreq req;
        const weir_kapi *api;
        char why[160];
        if (weir__request_decode(frame, size, &req, &api, why, sizeof(why)) !=
            WEIR_OK)
            break;
        /* Topic creation and deletion would fill the disk: decode only. */
        if (req.api_key == WEIR_API_CREATE_TOPICS ||
            req.api_key == WEIR_API_DELETE_TOPICS)
            break;
        req.expired = true; /* parked requests answer at once */
        req.retry = attempt > 0;
        req.park_member = member;
        member = NULL;
        weir_kw w;
        weir_kw_init(&w);
        int rv = weir__handler(req.api_key)(broker, &req, &w);
        weir_kw_fini(&w);
        member = req.park_member;
        if (rv != WEIR_EAGAIN)
            break;
    }
    free(member);
    free(frame);
    return 0;
}
