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
weir_member *weir__member_find(weir_group *g, weir_kstr id);
weir_member *weir__member_find_cstr(weir_group *g, const char *id);
/* Adds a member with a fresh id (<client.id>-<UUID>-<seq>); NULL on ENOMEM. */
weir_member *weir__member_new(
    weir_broker *b, weir_group *g, weir_kstr client_id);
/* Removes m from g (and as leader) and frees it. */
void weir__member_remove(weir_group *g, weir_member *m);
/* Index of protocol name among m's protocols, -1 if m has none such. */
int32_t weir__member_protocol_index(const weir_member *m, const char *name);
/* LeaveGroup of member mid (KERR_*): removes it and rebalances. */
int16_t weir__member_leave(weir_broker *b, weir_group *g, weir_kstr mid);

/* Starts a rebalance: every member must join again. */
void weir__group_rebalance_start(weir_broker *b, weir_group *g, uint64_t now);
/* Finishes a rebalance when every member joined (or force: timed out). */
void weir__group_rebalance_try_complete(
    weir_broker *b, weir_group *g, bool force);
/* Expires members past their session timeout, finishes rebalances. */
void weir__group_tick(weir_broker *b, uint64_t now_ms);

#endif
