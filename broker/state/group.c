/* Consumer groups: committed offsets (membership is in member.c). */
#include <stdlib.h>
#include <string.h>

#include "broker/state/member.h"
#include "broker/state/mem.h"
#include "common/array.h"
#include "common/err.h"
#include "common/log.h"

const char *
weir__group_state_name(weir_group_state st)
{
    switch (st) {
    case WEIR_GROUP_EMPTY:
        return "Empty";
    case WEIR_GROUP_PREPARING:
        return "PreparingRebalance";
    case WEIR_GROUP_AWAITING_SYNC:
        return "CompletingRebalance";
    case WEIR_GROUP_STABLE:
        return "Stable";
    }
    return "Dead";
}

/*
 * The group state machine (Kafka's classic group), as the table below
 * allows it:
 *
 *   Empty ---------------> PreparingRebalance   a member joins
 *   Stable --------------> PreparingRebalance   a join, leave or expiry
 *   CompletingRebalance -> PreparingRebalance   the same before SyncGroup
 *   PreparingRebalance --> CompletingRebalance  every member joined
 *   CompletingRebalance -> Stable               the leader's SyncGroup
 *   any -----------------> Empty                the last member is gone
 *
 * Staying in a state is always allowed. A new group starts Empty.
 */
#define B(s) (1u << (s))
static const unsigned allowed[] = {
    [WEIR_GROUP_EMPTY] = B(WEIR_GROUP_PREPARING),
    [WEIR_GROUP_PREPARING] = B(WEIR_GROUP_AWAITING_SYNC) | B(WEIR_GROUP_EMPTY),
    [WEIR_GROUP_AWAITING_SYNC] =
        B(WEIR_GROUP_STABLE) | B(WEIR_GROUP_PREPARING) | B(WEIR_GROUP_EMPTY),
    [WEIR_GROUP_STABLE] = B(WEIR_GROUP_PREPARING) | B(WEIR_GROUP_EMPTY),
};
#undef B

/* The one transition function: the only writer of g->state. */
int
weir__group_set_state(weir_group *g, weir_group_state to)
{
    weir_group_state from = g->state;
    if (from == to)
        return WEIR_OK;
    if (!(allowed[from] & (1u << to))) {
        weir_log_error("broker", "invalid transition group=%s from=%s to=%s",
            g->id, weir__group_state_name(from), weir__group_state_name(to));
        return WEIR_ESTATE;
    }
    weir_log_debug("broker", "state group=%s from=%s to=%s", g->id,
        weir__group_state_name(from), weir__group_state_name(to));
    g->state = to;
    return WEIR_OK;
}

weir_group *
weir__group_get(weir_broker *b, const char *id, size_t len, bool create)
{
    for (size_t i = 0; i < b->n_groups; i++) {
        weir_group *g = b->groups[i];
        if (strlen(g->id) == len && memcmp(g->id, id, len) == 0)
            return g;
    }
    if (!create)
        return NULL;
    weir_group *g = calloc(1, sizeof(*g));
    if (!g || !(g->id = weir__strndup(id, len)) ||
        weir_array_append(&b->groups, &b->n_groups, &g, sizeof(g)) != WEIR_OK) {
        if (g)
            free(g->id);
        free(g);
        return NULL;
    }
    return g;
}

weir_offset *
weir__group_offset(
    weir_group *g, const char *topic, size_t len, int32_t partition)
{
    for (size_t i = 0; i < g->n_offsets; i++) {
        weir_offset *o = &g->offsets[i];
        if (o->partition == partition && strlen(o->topic) == len &&
            memcmp(o->topic, topic, len) == 0)
            return o;
    }
    return NULL;
}

int
weir__group_commit(weir_group *g, const char *topic, int32_t partition,
    int64_t offset, int32_t leader_epoch, const char *metadata)
{
    char *meta = weir__strdup(metadata ? metadata : "");
    if (!meta)
        return WEIR_ENOMEM;
    weir_offset *o = weir__group_offset(g, topic, strlen(topic), partition);
    if (!o) {
        char *t = weir__strdup(topic);
        if (!t || weir_array_reserve(&g->offsets, &g->cap_offsets,
                      g->n_offsets + 1, sizeof(*g->offsets)) != WEIR_OK) {
            free(t);
            free(meta);
            return WEIR_ENOMEM;
        }
        o = &g->offsets[g->n_offsets++];
        memset(o, 0, sizeof(*o));
        o->topic = t;
        o->partition = partition;
    }
    free(o->metadata);
    o->metadata = meta;
    o->offset = offset;
    o->leader_epoch = leader_epoch;
    return WEIR_OK;
}

void
weir__group_free(weir_group *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_offsets; i++) {
        free(g->offsets[i].topic);
        free(g->offsets[i].metadata);
    }
    free(g->offsets);
    for (size_t i = 0; i < g->n_members; i++)
        weir__member_free(g->members[i]);
    free(g->members);
    free(g->protocol);
    free(g->protocol_type);
    free(g->leader);
    free(g->id);
    free(g);
}
