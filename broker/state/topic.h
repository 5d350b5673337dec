/*
 * A topic: its settings (CreateTopics configs) and its partitions, created,
 * deleted and looked up by name. Creation and deletion are journaled.
 */
#ifndef WEIR_BROKER_STATE_TOPIC_H
#define WEIR_BROKER_STATE_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/state/core.h"
#include "broker/state/part.h"

/* Per-topic settings (CreateTopics configs); 0 = the broker's default. */
typedef struct weir_topic_conf {
    bool compact;                          /* cleanup.policy=compact */
    int64_t retention_ms, retention_bytes; /* -1 = unlimited */
    int64_t segment_bytes, segment_ms, delete_retention_ms;
    int64_t max_message_bytes; /* largest record batch; 0: the broker's */
} weir_topic_conf;

struct weir_topic {
    char *name;
    int32_t n_parts;
    weir_part *parts;
    weir_topic_conf conf;
};

bool weir__topic_name_valid(const char *name, size_t len);
/* The largest record batch the topic accepts (max.message.bytes); t NULL:
 * the broker's default for topics that set none. */
int64_t weir__topic_max_message_bytes(
    const weir_broker *b, const weir_topic *t);
weir_topic *weir__topic_find(weir_broker *b, const char *name, size_t len);
/* Creates (and journals) a topic. WEIR_EEXIST, WEIR_EIO... */
int weir__topic_create(weir_broker *b, const char *name, int32_t n_parts,
    const weir_topic_conf *conf);
int weir__topic_delete(weir_broker *b, const char *name);
/* Replay: open a topic's partitions without journaling. */
int weir__topic_open(weir_broker *b, const char *name, int32_t n_parts,
    const weir_topic_conf *conf);
/* The defaults of an auto-created topic: delete policy, no limits. */
extern const weir_topic_conf weir__topic_conf_default;
void weir__topic_free(weir_topic *topic, bool destroy);

#endif
