/*
 * A member of a consumer group and the group's membership rules, Kafka's
 * classic protocol: rebalances, generations, session timeouts. The
 * JoinGroup/SyncGroup/Heartbeat/LeaveGroup handlers drive them.
 */
#ifndef WEIR_BROKER_STATE_MEMBER_H
#define WEIR_BROKER_STATE_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/protocol/kcodec.h"
#include "broker/state/core.h"
#include "broker/state/group.h"

typedef struct weir_member {
    char *id;
    char *client_id;
    int32_t session_timeout_ms, rebalance_timeout_ms;
    char *protocol_type;
    size_t n_protocols;
    char **protocol_names;
    uint8_t **protocol_meta;
    int32_t *protocol_meta_len;
    bool joined; /* joined the current rebalance */
    uint8_t *assignment;
    int32_t assignment_len;
    uint64_t last_seen_ms; /* monotonic */
} weir_member;

void weir__member_free(weir_member *m);
/* Error for a commit or heartbeat by member at generation (KERR_*). */
int16_t weir__member_check(
    weir_group *g, weir_kstr member, int32_t generation, bool commit);
/* Expires members past their session timeout, finishes rebalances. */
void weir__group_tick(weir_broker *b, uint64_t now_ms);

#endif
