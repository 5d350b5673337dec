/*
 * A consumer group: its committed offsets (weir_offset, also used for a
 * transaction's pending ones), its generation, protocol and leader, and its
 * members (state/member.h).
 */
#ifndef WEIR_BROKER_STATE_GROUP_H
#define WEIR_BROKER_STATE_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/state/core.h"

typedef struct weir_offset {
    char *group; /* pending txn offsets only */
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;
} weir_offset;

typedef struct weir_member weir_member;

typedef enum weir_group_state {
    WEIR_GROUP_EMPTY,
    WEIR_GROUP_PREPARING,
    WEIR_GROUP_AWAITING_SYNC,
    WEIR_GROUP_STABLE,
} weir_group_state;

typedef struct weir_group {
    char *id;
    weir_offset *offsets; /* committed */
    size_t n_offsets, cap_offsets;
    weir_group_state state;
    int32_t generation;
    char *protocol;
    char *protocol_type; /* kept when the group becomes empty, as Kafka */
    char *leader;
    weir_member **members;
    size_t n_members;
    uint64_t rebalance_deadline_ms; /* monotonic */
    uint64_t member_seq;
} weir_group;

/* Kafka's name of a group state ("Dead" for none of them). */
const char *weir__group_state_name(weir_group_state st);
/*
 * The one transition function (table and diagram in group.c): moves g to
 * state to, or refuses an illegal transition with WEIR_ESTATE and an error
 * log line (a programming error; the state is unchanged).
 */
int weir__group_set_state(weir_group *g, weir_group_state to);

weir_group *weir__group_get(
    weir_broker *b, const char *id, size_t len, bool create);
weir_offset *weir__group_offset(
    weir_group *g, const char *topic, size_t len, int32_t partition);
/* Stores a committed offset (no journaling). */
int weir__group_commit(weir_group *g, const char *topic, int32_t partition,
    int64_t offset, int32_t leader_epoch, const char *metadata);
void weir__group_free(weir_group *g);

#endif
