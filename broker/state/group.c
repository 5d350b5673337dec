/* Consumer groups: committed offsets (membership is in member.c). */
#include <stdlib.h>
#include <string.h>

#include "broker/state/member.h"
#include "broker/state/mem.h"
#include "common/err.h"

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
    weir_group **ng = realloc(b->groups, (b->n_groups + 1) * sizeof(*ng));
    if (ng)
        b->groups = ng;
    if (!g || !ng || !(g->id = weir__strndup(id, len))) {
        free(g);
        return NULL;
    }
    b->groups[b->n_groups++] = g;
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
        if (!t || weir__grow(&g->offsets, &g->cap_offsets, g->n_offsets + 1,
                      sizeof(*g->offsets)) != WEIR_OK) {
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
