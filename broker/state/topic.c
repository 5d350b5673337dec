/* Topics and their partitions: names, creation, deletion, lookup. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/state/topic.h"
#include "broker/state/persist.h"
#include "broker/state/mem.h"
#include "common/array.h"
#include "common/err.h"
#include "common/log.h"

const weir_topic_conf weir__topic_conf_default = {false, -1, -1, 0, 0, 0, 0};

bool
weir__topic_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > 249)
        return false;
    if ((len == 1 && name[0] == '.') ||
        (len == 2 && name[0] == '.' && name[1] == '.'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

weir_topic *
weir__topic_find(weir_broker *b, const char *name, size_t len)
{
    for (size_t i = 0; i < b->n_topics; i++) {
        weir_topic *t = b->topics[i];
        if (strlen(t->name) == len && memcmp(t->name, name, len) == 0)
            return t;
    }
    return NULL;
}

void
weir__topic_free(weir_topic *topic, bool destroy)
{
    if (!topic)
        return;
    for (int32_t i = 0; i < topic->n_parts; i++) {
        weir_part *p = &topic->parts[i];
        if (destroy && p->log) {
            (void)weir_plog_destroy(p->log);
            p->log = NULL;
        }
        weir__part_fini(p);
    }
    free(topic->parts);
    free(topic->name);
    free(topic);
}

int
weir__topic_open(weir_broker *b, const char *name, int32_t n_parts,
    const weir_topic_conf *conf)
{
    int rv = WEIR_ENOMEM;
    weir_topic *t = calloc(1, sizeof(*t));
    if (!t)
        return WEIR_ENOMEM;
    t->name = weir__strdup(name);
    t->parts = calloc((size_t)n_parts, sizeof(*t->parts));
    t->conf = *conf;
    if (!t->name || !t->parts)
        goto fail;
    t->n_parts = n_parts;
    weir_plog_opts lo = {0};
    lo.segment_bytes =
        (uint64_t)(conf->segment_bytes > 0 ? conf->segment_bytes
                                           : b->opts.segment_bytes);
    lo.fsync = b->fsync;
    lo.retention_ms = conf->retention_ms;
    lo.retention_bytes = conf->retention_bytes;
    lo.compact = conf->compact;
    lo.segment_ms = conf->segment_ms;
    lo.delete_retention_ms = conf->delete_retention_ms;
    for (int32_t i = 0; i < n_parts; i++) {
        weir_part *p = &t->parts[i];
        p->topic = t;
        p->id = i;
        char dir[4096];
        (void)snprintf(dir, sizeof(dir), "%s/topics/%s-%d", b->opts.data_dir,
            name, (int)i);
        if ((rv = weir_plog_open(&p->log, dir, &lo)) != WEIR_OK)
            goto fail;
        if ((rv = weir__part_recover(p)) != WEIR_OK)
            goto fail;
    }
    if ((rv = weir_array_append(&b->topics, &b->n_topics, &t, sizeof(t))) !=
        WEIR_OK)
        goto fail;
    b->changed = true;
    return WEIR_OK;
fail:
    weir_log_error(
        "broker", "cannot open topic %s: %s", name, weir_strerror(rv));
    weir__topic_free(t, false);
    return rv;
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int
weir__topic_create(weir_broker *b, const char *name, int32_t n_parts,
    const weir_topic_conf *conf)
{
    if (weir__topic_find(b, name, strlen(name)))
        return WEIR_EEXIST;
    /* Leftovers of a deleted topic of that name (a crash between the
     * journal record and the removal) must not come back to life. */
    for (int32_t i = 0; i < n_parts; i++) {
        char dir[4096];
        (void)snprintf(dir, sizeof(dir), "%s/topics/%s-%d", b->opts.data_dir,
            name, (int)i);
        (void)nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    }
    int rv = weir__topic_open(b, name, n_parts, conf);
    if (rv != WEIR_OK)
        return rv;
    weir_topic *t = b->topics[b->n_topics - 1];
    if ((rv = weir__state_topic(b, t)) != WEIR_OK) {
        b->n_topics--;
        weir__topic_free(t, true);
        return rv;
    }
    weir_log_info("broker", "created topic %s partitions=%d%s", name,
        (int)n_parts, conf->compact ? " cleanup.policy=compact" : "");
    return WEIR_OK;
}

int
weir__topic_delete(weir_broker *b, const char *name)
{
    for (size_t i = 0; i < b->n_topics; i++) {
        weir_topic *t = b->topics[i];
        if (strcmp(t->name, name) != 0)
            continue;
        int rv = weir__state_topic_delete(b, name);
        if (rv != WEIR_OK)
            return rv;
        b->topics[i] = b->topics[--b->n_topics];
        weir__topic_free(t, true);
        weir_log_info("broker", "deleted topic %s", name);
        b->changed = true;
        return WEIR_OK;
    }
    return WEIR_ENOTFOUND;
}

int64_t
weir__topic_max_message_bytes(const weir_broker *b, const weir_topic *t)
{
    if (t && t->conf.max_message_bytes > 0)
        return t->conf.max_message_bytes;
    return b->opts.message_max_bytes > 0 ? b->opts.message_max_bytes
                                         : WEIR_BROKER_MESSAGE_MAX_BYTES;
}
