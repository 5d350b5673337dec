/*
 * Consumer-group membership, Kafka's classic protocol (the JoinGroup,
 * SyncGroup, Heartbeat and LeaveGroup handlers are in handlers/h_group.c):
 * JoinGroup collects
 * the members of a rebalance, the first member becomes the leader and gets
 * everyone's subscriptions, computes the assignment (the client's range or
 * roundrobin assignor) and hands it back in SyncGroup; Heartbeat tells the
 * others when a new rebalance starts. The broker only relays assignments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "broker/protocol/kerr.h"
#include "broker/state/member.h"
#include "broker/state/mem.h"
#include "common/array.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

void
weir__member_free(weir_member *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_protocols; i++) {
        free(m->protocol_names[i]);
        free(m->protocol_meta[i]);
    }
    free(m->protocol_names);
    free(m->protocol_meta);
    free(m->protocol_meta_len);
    free(m->protocol_type);
    free(m->client_id);
    free(m->assignment);
    free(m->id);
    free(m);
}

weir_member *
weir__member_find(weir_group *g, weir_kstr id)
{
    for (size_t i = 0; g && i < g->n_members; i++)
        if (weir_kstr_eq(id, g->members[i]->id))
            return g->members[i];
    return NULL;
}

weir_member *
weir__member_find_cstr(weir_group *g, const char *id)
{
    weir_kstr k = {id, id ? (int32_t)strlen(id) : -1};
    return weir__member_find(g, k);
}

void
weir__member_remove(weir_group *g, weir_member *m)
{
    for (size_t i = 0; i < g->n_members; i++) {
        if (g->members[i] == m) {
            g->members[i] = g->members[--g->n_members];
            break;
        }
    }
    if (g->leader && strcmp(g->leader, m->id) == 0) {
        free(g->leader);
        g->leader = NULL;
    }
    weir__member_free(m);
}

void
weir__group_rebalance_start(weir_broker *b, weir_group *g, uint64_t now)
{
    if (g->state == WEIR_GROUP_PREPARING)
        return;
    int32_t max_rb = 0;
    for (size_t i = 0; i < g->n_members; i++) {
        weir_member *m = g->members[i];
        m->joined = false;
        if (m->rebalance_timeout_ms > max_rb)
            max_rb = m->rebalance_timeout_ms;
    }
    (void)weir__group_set_state(
        g, g->n_members ? WEIR_GROUP_PREPARING : WEIR_GROUP_EMPTY);
    g->rebalance_deadline_ms = now + (uint64_t)max_rb;
    b->changed = true;
    weir_log_debug(
        "broker", "group %s: rebalancing (%zu members)", g->id, g->n_members);
}

int32_t
weir__member_protocol_index(const weir_member *m, const char *name)
{
    for (size_t i = 0; i < m->n_protocols; i++)
        if (strcmp(m->protocol_names[i], name) == 0)
            return (int32_t)i;
    return -1;
}

/* Finishes a rebalance when every member joined (or force: timed out). */
void
weir__group_rebalance_try_complete(weir_broker *b, weir_group *g, bool force)
{
    if (g->state != WEIR_GROUP_PREPARING)
        return;
    for (size_t i = 0; i < g->n_members;) {
        weir_member *m = g->members[i];
        if (!m->joined && !force)
            return;
        if (!m->joined && force) {
            weir_log_info(
                "broker", "group %s: member %s did not rejoin", g->id, m->id);
            weir__member_remove(g, m);
            continue;
        }
        i++;
    }
    if (g->n_members == 0) {
        (void)weir__group_set_state(g, WEIR_GROUP_EMPTY);
        return;
    }
    if (!g->leader || !weir__member_find_cstr(g, g->leader)) {
        free(g->leader);
        g->leader = weir__strdup(g->members[0]->id);
    }
    weir_member *leader = weir__member_find_cstr(g, g->leader);
    free(g->protocol);
    g->protocol = NULL;
    for (size_t p = 0; leader && p < leader->n_protocols && !g->protocol; p++) {
        const char *name = leader->protocol_names[p];
        bool all = true;
        for (size_t i = 0; i < g->n_members && all; i++)
            all = weir__member_protocol_index(g->members[i], name) >= 0;
        if (all)
            g->protocol = weir__strdup(name);
    }
    for (size_t i = 0; i < g->n_members; i++) {
        free(g->members[i]->assignment);
        g->members[i]->assignment = NULL;
        g->members[i]->assignment_len = 0;
    }
    g->generation++;
    (void)weir__group_set_state(g, WEIR_GROUP_AWAITING_SYNC);
    b->changed = true;
    weir_log_info("broker",
        "group %s: generation %d with %zu members, leader %s, protocol %s",
        g->id, (int)g->generation, g->n_members, g->leader,
        g->protocol ? g->protocol : "-");
}

weir_member *
weir__member_new(weir_broker *b, weir_group *g, weir_kstr client_id)
{
    /* Kafka's <client.id>-<UUID>: never reused, also across restarts, so a
     * member from before a restart is unknown afterwards and rejoins. */
    uint64_t rnd[2] = {0, 0};
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        rnd[0] = weir_clock_mono_us() ^ ((uint64_t)weir_clock_wall_ms() << 20);
    char id[160];
    (void)snprintf(id, sizeof(id), "%.*s-%016llx%016llx-%llu",
        (int)(client_id.len > 0 && client_id.len < 64 ? client_id.len : 0),
        client_id.ptr ? client_id.ptr : "", (unsigned long long)rnd[0],
        (unsigned long long)rnd[1], (unsigned long long)++g->member_seq);
    weir_member *m = calloc(1, sizeof(*m));
    if (!m || !(m->id = weir__strdup(id)) ||
        weir_array_append(&g->members, &g->n_members, &m, sizeof(m)) !=
            WEIR_OK) {
        if (m)
            free(m->id);
        free(m);
        return NULL;
    }
    m->client_id = weir_kstr_dup(client_id);
    return m;
}

int16_t
weir__member_check(
    weir_group *g, weir_kstr member, int32_t generation, bool commit)
{
    if (commit) {
        /* Kafka's doCommitOffsets: a simple commit (generation -1) only
         * into a group without members; none while it awaits SyncGroup;
         * members of the current generation may commit while a rebalance
         * is prepared (the commit a consumer makes on revocation). */
        bool empty = true;
        for (size_t i = 0; i < g->n_members && empty; i++)
            empty = g->members[i]->n_protocols == 0;
        if (generation < 0 && empty)
            return KERR_NONE;
        if (g->state == WEIR_GROUP_AWAITING_SYNC)
            return KERR_REBALANCE_IN_PROGRESS;
    }
    weir_member *m = weir__member_find(g, member);
    if (!m)
        return KERR_UNKNOWN_MEMBER_ID;
    m->last_seen_ms = weir_clock_mono_ms();
    if (generation != g->generation)
        return KERR_ILLEGAL_GENERATION;
    if (!commit && g->state == WEIR_GROUP_PREPARING)
        return KERR_REBALANCE_IN_PROGRESS;
    return KERR_NONE;
}

int16_t
weir__member_leave(weir_broker *b, weir_group *g, weir_kstr mid)
{
    weir_member *m = g ? weir__member_find(g, mid) : NULL;
    if (!m)
        return KERR_UNKNOWN_MEMBER_ID;
    weir_log_info("broker", "group %s: member %s left", g->id, m->id);
    weir__member_remove(g, m);
    if (g->state == WEIR_GROUP_PREPARING)
        weir__group_rebalance_try_complete(b, g, false);
    else
        weir__group_rebalance_start(b, g, weir_clock_mono_ms());
    return KERR_NONE;
}

void
weir__group_tick(weir_broker *b, uint64_t now)
{
    for (size_t k = 0; k < b->n_groups; k++) {
        weir_group *g = b->groups[k];
        bool lost = false;
        for (size_t i = 0; i < g->n_members;) {
            weir_member *m = g->members[i];
            bool waiting = g->state == WEIR_GROUP_PREPARING && m->joined;
            if (!waiting &&
                now > m->last_seen_ms + (uint64_t)m->session_timeout_ms) {
                weir_log_info("broker", "group %s: member %s session timed out",
                    g->id, m->id);
                weir__member_remove(g, m);
                lost = true;
                continue;
            }
            i++;
        }
        if (lost && g->state != WEIR_GROUP_PREPARING)
            weir__group_rebalance_start(b, g, now);
        weir__group_rebalance_try_complete(
            b, g, now >= g->rebalance_deadline_ms);
    }
}
