/*
 * Consumer-group membership, Kafka's classic protocol: JoinGroup collects
 * the members of a rebalance, the first member becomes the leader and gets
 * everyone's subscriptions, computes the assignment (the client's range or
 * roundrobin assignor) and hands it back in SyncGroup; Heartbeat tells the
 * others when a new rebalance starts. The broker only relays assignments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "broker/handlers/handler.h"
#include "broker/state/member.h"
#include "broker/state/mem.h"
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

static weir_member *
member_find(weir_group *g, weir_kstr id)
{
    for (size_t i = 0; g && i < g->n_members; i++)
        if (weir_kstr_eq(id, g->members[i]->id))
            return g->members[i];
    return NULL;
}

static weir_member *
member_find_c(weir_group *g, const char *id)
{
    weir_kstr k = {id, id ? (int32_t)strlen(id) : -1};
    return member_find(g, k);
}

static void
member_remove(weir_group *g, weir_member *m)
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

static void
rebalance_start(weir_broker *b, weir_group *g, uint64_t now)
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
    g->state = g->n_members ? WEIR_GROUP_PREPARING : WEIR_GROUP_EMPTY;
    g->rebalance_deadline_ms = now + (uint64_t)max_rb;
    b->changed = true;
    weir_log_debug(
        "broker", "group %s: rebalancing (%zu members)", g->id, g->n_members);
}

static int32_t
protocol_index(const weir_member *m, const char *name)
{
    for (size_t i = 0; i < m->n_protocols; i++)
        if (strcmp(m->protocol_names[i], name) == 0)
            return (int32_t)i;
    return -1;
}

/* Finishes a rebalance when every member joined (or force: timed out). */
static void
rebalance_try_complete(weir_broker *b, weir_group *g, bool force)
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
            member_remove(g, m);
            continue;
        }
        i++;
    }
    if (g->n_members == 0) {
        g->state = WEIR_GROUP_EMPTY;
        return;
    }
    if (!g->leader || !member_find_c(g, g->leader)) {
        free(g->leader);
        g->leader = weir__strdup(g->members[0]->id);
    }
    weir_member *leader = member_find_c(g, g->leader);
    free(g->protocol);
    g->protocol = NULL;
    for (size_t p = 0; leader && p < leader->n_protocols && !g->protocol; p++) {
        const char *name = leader->protocol_names[p];
        bool all = true;
        for (size_t i = 0; i < g->n_members && all; i++)
            all = protocol_index(g->members[i], name) >= 0;
        if (all)
            g->protocol = weir__strdup(name);
    }
    for (size_t i = 0; i < g->n_members; i++) {
        free(g->members[i]->assignment);
        g->members[i]->assignment = NULL;
        g->members[i]->assignment_len = 0;
    }
    g->generation++;
    g->state = WEIR_GROUP_AWAITING_SYNC;
    b->changed = true;
    weir_log_info("broker",
        "group %s: generation %d with %zu members, leader %s, protocol %s",
        g->id, (int)g->generation, g->n_members, g->leader,
        g->protocol ? g->protocol : "-");
}

static int
member_set_protocols(weir_member *m, weir_kr *r, int32_t n)
{
    for (size_t i = 0; i < m->n_protocols; i++) {
        free(m->protocol_names[i]);
        free(m->protocol_meta[i]);
    }
    free(m->protocol_names);
    free(m->protocol_meta);
    free(m->protocol_meta_len);
    m->n_protocols = 0;
    m->protocol_names = calloc((size_t)n + 1, sizeof(char *));
    m->protocol_meta = calloc((size_t)n + 1, sizeof(uint8_t *));
    m->protocol_meta_len = calloc((size_t)n + 1, sizeof(int32_t));
    if (!m->protocol_names || !m->protocol_meta || !m->protocol_meta_len)
        return WEIR_ENOMEM;
    for (int32_t i = 0; i < n; i++) {
        weir_kstr name = weir_kr_str(r, false, false);
        weir_kstr meta = weir_kr_bytes(r, false, false);
        if (!weir_kr_ok(r))
            return WEIR_EPROTO;
        m->protocol_names[i] = weir_kstr_dup(name);
        m->protocol_meta[i] = malloc((size_t)meta.len + 1);
        if (!m->protocol_names[i] || !m->protocol_meta[i])
            return WEIR_ENOMEM;
        memcpy(m->protocol_meta[i], meta.ptr, (size_t)meta.len);
        m->protocol_meta_len[i] = meta.len;
        m->n_protocols++;
    }
    return WEIR_OK;
}

/*
 * Kafka's group.supportsProtocols: the joining member (self, NULL when new)
 * must have the group's protocol type and at least one protocol that every
 * other member supports. r is positioned at the request's protocols.
 */
static bool
protocols_supported(weir_group *g, const weir_member *self, weir_kstr ptype,
    weir_kr r, int32_t np)
{
    bool others = false;
    for (size_t i = 0; i < g->n_members; i++) {
        const weir_member *o = g->members[i];
        if (o == self || o->n_protocols == 0)
            continue; /* itself, or a KIP-394 member yet to join */
        others = true;
        if (!weir_kstr_eq(ptype, o->protocol_type))
            return false;
    }
    if (!others)
        return true;
    for (int32_t p = 0; p < np && weir_kr_ok(&r); p++) {
        weir_kstr name = weir_kr_str(&r, false, false);
        (void)weir_kr_bytes(&r, false, false);
        bool all = true;
        for (size_t i = 0; i < g->n_members && all; i++) {
            const weir_member *o = g->members[i];
            if (o == self || o->n_protocols == 0)
                continue;
            bool has = false;
            for (size_t k = 0; k < o->n_protocols && !has; k++)
                has = weir_kstr_eq(name, o->protocol_names[k]);
            all = has;
        }
        if (all)
            return true;
    }
    return false;
}

static weir_member *
member_new(weir_broker *b, weir_group *g, weir_kstr client_id)
{
    weir_member *m = calloc(1, sizeof(*m));
    weir_member **nm = realloc(g->members, (g->n_members + 1) * sizeof(*nm));
    if (nm)
        g->members = nm;
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
    if (!m || !nm || !(m->id = weir__strdup(id))) {
        free(m);
        return NULL;
    }
    m->client_id = weir_kstr_dup(client_id);
    g->members[g->n_members++] = m;
    return m;
}

static void
join_response(weir_kw *w, int16_t v, int16_t err, weir_group *g, weir_member *m,
    const char *member_id)
{
    if (v >= 2)
        weir_kw_i32(w, 0);
    weir_kw_i16(w, err);
    weir_kw_i32(w, err ? -1 : g->generation);
    weir_kw_str(w, false, err || !g->protocol ? "" : g->protocol);
    weir_kw_str(w, false, err || !g->leader ? "" : g->leader);
    weir_kw_str(w, false, member_id ? member_id : "");
    bool leader = !err && m && g->leader && strcmp(g->leader, m->id) == 0;
    int32_t n = 0;
    for (size_t i = 0; leader && i < g->n_members; i++)
        n += g->members[i]->joined; /* not members still to join */
    weir_kw_array(w, false, n);
    for (size_t i = 0; leader && i < g->n_members; i++) {
        weir_member *o = g->members[i];
        if (!o->joined)
            continue;
        int32_t p = g->protocol ? protocol_index(o, g->protocol) : -1;
        weir_kw_str(w, false, o->id);
        if (v >= 5)
            weir_kw_str(w, false, NULL);
        if (p >= 0)
            weir_kw_bytes(
                w, false, o->protocol_meta[p], o->protocol_meta_len[p]);
        else
            weir_kw_bytes(w, false, "", 0);
    }
}

int
weir__h_join_group(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int16_t v = req->version;
    weir_kstr gid = weir_kr_str(r, false, false);
    int32_t session_ms = weir_kr_i32(r);
    int32_t rebalance_ms = v >= 1 ? weir_kr_i32(r) : session_ms;
    weir_kstr mid = weir_kr_str(r, false, false);
    if (v >= 5)
        (void)weir_kr_str(r, false, true);
    weir_kstr ptype = weir_kr_str(r, false, false);
    int32_t np = weir_kr_array(r, false, false, 6);
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;
    uint64_t now = weir_clock_mono_ms();
    int16_t err = req->forced_err;
    weir_group *g = NULL;
    weir_member *m = NULL;

    if (req->retry) {
        /* Parked: waiting for the rebalance to complete. */
        g = weir__group_get(b, gid.ptr, (size_t)gid.len, false);
        m = g ? member_find_c(g, req->park_member) : NULL;
        if (!m) {
            join_response(
                w, v, KERR_UNKNOWN_MEMBER_ID, g, NULL, req->park_member);
            return WEIR_OK;
        }
        rebalance_try_complete(b, g, now >= g->rebalance_deadline_ms);
        if (g->state == WEIR_GROUP_PREPARING) {
            req->deadline_ms = g->rebalance_deadline_ms + 50;
            return WEIR_EAGAIN;
        }
        m->last_seen_ms = now;
        join_response(w, v, KERR_NONE, g, m, m->id);
        return WEIR_OK;
    }
    if (err == KERR_NONE && gid.len <= 0)
        err = KERR_INVALID_GROUP_ID;
    if (err == KERR_NONE && (session_ms < 1000 || session_ms > 3600000))
        err = KERR_INVALID_SESSION_TIMEOUT;
    if (err == KERR_NONE && np <= 0)
        err = KERR_INCONSISTENT_GROUP_PROTOCOL;
    if (err == KERR_NONE &&
        !(g = weir__group_get(b, gid.ptr, (size_t)gid.len, true)))
        err = KERR_UNKNOWN_SERVER_ERROR;
    if (err == KERR_NONE && mid.len > 0 && !(m = member_find(g, mid)))
        err = KERR_UNKNOWN_MEMBER_ID;
    if (err == KERR_NONE && !protocols_supported(g, m, ptype, *r, np))
        err = KERR_INCONSISTENT_GROUP_PROTOCOL;
    if (err != KERR_NONE) {
        join_response(w, v, err, g, NULL, NULL);
        return WEIR_OK;
    }
    if (!m) {
        if (!(m = member_new(b, g, req->client_id))) {
            join_response(w, v, KERR_UNKNOWN_SERVER_ERROR, g, NULL, NULL);
            return WEIR_OK;
        }
        m->session_timeout_ms = session_ms;
        m->last_seen_ms = now;
        if (v >= 4) {
            /* KIP-394: the client rejoins with this id. */
            m->protocol_type = weir_kstr_dup(ptype);
            join_response(w, v, KERR_MEMBER_ID_REQUIRED, g, NULL, m->id);
            return WEIR_OK;
        }
    }
    if (member_set_protocols(m, r, np) != WEIR_OK) {
        member_remove(g, m);
        join_response(w, v, KERR_UNKNOWN_SERVER_ERROR, g, NULL, NULL);
        return WEIR_OK;
    }
    free(m->protocol_type);
    m->protocol_type = weir_kstr_dup(ptype);
    if (!g->protocol_type || !weir_kstr_eq(ptype, g->protocol_type)) {
        free(g->protocol_type);
        g->protocol_type = weir_kstr_dup(ptype);
    }
    m->session_timeout_ms = session_ms;
    m->rebalance_timeout_ms = rebalance_ms;
    m->last_seen_ms = now;
    rebalance_start(b, g, now);
    m->joined = true;
    if (now + (uint64_t)rebalance_ms > g->rebalance_deadline_ms)
        g->rebalance_deadline_ms = now + (uint64_t)rebalance_ms;
    rebalance_try_complete(b, g, false);
    if (g->state == WEIR_GROUP_PREPARING) {
        req->park_member = weir__strdup(m->id);
        req->deadline_ms = g->rebalance_deadline_ms + 50;
        return req->park_member ? WEIR_EAGAIN : WEIR_ENOMEM;
    }
    join_response(w, v, KERR_NONE, g, m, m->id);
    return WEIR_OK;
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
    weir_member *m = member_find(g, member);
    if (!m)
        return KERR_UNKNOWN_MEMBER_ID;
    m->last_seen_ms = weir_clock_mono_ms();
    if (generation != g->generation)
        return KERR_ILLEGAL_GENERATION;
    if (!commit && g->state == WEIR_GROUP_PREPARING)
        return KERR_REBALANCE_IN_PROGRESS;
    return KERR_NONE;
}

int
weir__h_sync_group(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int16_t v = req->version;
    weir_kstr gid = weir_kr_str(r, false, false);
    int32_t generation = weir_kr_i32(r);
    weir_kstr mid = weir_kr_str(r, false, false);
    if (v >= 3)
        (void)weir_kr_str(r, false, true);
    int32_t na = weir_kr_array(r, false, false, 6);
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;
    weir_group *g = weir__group_get(b, gid.ptr, (size_t)gid.len, false);
    int16_t err = req->forced_err;
    weir_member *m = NULL;
    if (err == KERR_NONE && (!g || !(m = member_find(g, mid))))
        err = KERR_UNKNOWN_MEMBER_ID;
    if (err == KERR_NONE && generation != g->generation)
        err = KERR_ILLEGAL_GENERATION;
    if (err == KERR_NONE && g->state == WEIR_GROUP_PREPARING)
        err = KERR_REBALANCE_IN_PROGRESS;
    if (err == KERR_NONE) {
        m->last_seen_ms = weir_clock_mono_ms();
        if (g->state == WEIR_GROUP_AWAITING_SYNC && g->leader &&
            strcmp(g->leader, m->id) == 0) {
            for (int32_t i = 0; i < na; i++) {
                weir_kstr to = weir_kr_str(r, false, false);
                weir_kstr data = weir_kr_bytes(r, false, false);
                weir_member *t = member_find(g, to);
                if (!t || !weir_kr_ok(r))
                    continue;
                free(t->assignment);
                t->assignment = malloc((size_t)data.len + 1);
                if (t->assignment) {
                    memcpy(t->assignment, data.ptr, (size_t)data.len);
                    t->assignment_len = data.len;
                }
            }
            g->state = WEIR_GROUP_STABLE;
            b->changed = true;
        }
        if (g->state == WEIR_GROUP_AWAITING_SYNC) {
            if (!req->retry)
                req->deadline_ms =
                    weir_clock_mono_ms() + (uint64_t)m->session_timeout_ms;
            if (!req->expired)
                return WEIR_EAGAIN;
            err = KERR_REBALANCE_IN_PROGRESS;
        }
    }
    if (v >= 1)
        weir_kw_i32(w, 0);
    weir_kw_i16(w, weir__kerr_count(b, req->api_key, err));
    if (err == KERR_NONE && m->assignment)
        weir_kw_bytes(w, false, m->assignment, m->assignment_len);
    else
        weir_kw_bytes(w, false, "", 0);
    return WEIR_OK;
}

int
weir__h_heartbeat(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    weir_kstr gid = weir_kr_str(r, false, false);
    int32_t generation = weir_kr_i32(r);
    weir_kstr mid = weir_kr_str(r, false, false);
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;
    weir_group *g = weir__group_get(b, gid.ptr, (size_t)gid.len, false);
    int16_t err = req->forced_err;
    if (err == KERR_NONE)
        err = g ? weir__member_check(g, mid, generation, false)
                : KERR_UNKNOWN_MEMBER_ID;
    if (req->version >= 1)
        weir_kw_i32(w, 0);
    weir_kw_i16(w, weir__kerr_count(b, req->api_key, err));
    return WEIR_OK;
}

static int16_t
leave(weir_broker *b, weir_group *g, weir_kstr mid)
{
    weir_member *m = g ? member_find(g, mid) : NULL;
    if (!m)
        return KERR_UNKNOWN_MEMBER_ID;
    weir_log_info("broker", "group %s: member %s left", g->id, m->id);
    member_remove(g, m);
    if (g->state == WEIR_GROUP_PREPARING)
        rebalance_try_complete(b, g, false);
    else
        rebalance_start(b, g, weir_clock_mono_ms());
    return KERR_NONE;
}

int
weir__h_leave_group(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int16_t v = req->version;
    weir_kstr gid = weir_kr_str(r, false, false);
    weir_group *g = weir__group_get(b, gid.ptr, (size_t)gid.len, false);
    int16_t err = req->forced_err;
    if (v >= 1)
        weir_kw_i32(w, 0);
    if (v <= 2) {
        weir_kstr mid = weir_kr_str(r, false, false);
        if (!weir_kr_ok(r))
            return WEIR_EPROTO;
        if (err == KERR_NONE)
            err = leave(b, g, mid);
        weir_kw_i16(w, weir__kerr_count(b, req->api_key, err));
        return WEIR_OK;
    }
    int32_t n = weir_kr_array(r, false, false, 4);
    weir_kw_i16(w, weir__kerr_count(b, req->api_key, err));
    weir_kw_array(w, false, n);
    for (int32_t i = 0; i < n && weir_kr_ok(r); i++) {
        weir_kstr mid = weir_kr_str(r, false, false);
        weir_kstr inst = weir_kr_str(r, false, true);
        int16_t merr = err == KERR_NONE ? leave(b, g, mid) : err;
        weir_kw_strn(w, false, mid.ptr, mid.len);
        weir_kw_strn(w, false, inst.ptr, inst.len);
        weir_kw_i16(w, weir__kerr_count(b, req->api_key, merr));
    }
    return weir_kr_ok(r) ? WEIR_OK : WEIR_EPROTO;
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
                member_remove(g, m);
                lost = true;
                continue;
            }
            i++;
        }
        if (lost && g->state != WEIR_GROUP_PREPARING) {
            g->state = WEIR_GROUP_STABLE;
            rebalance_start(b, g, now);
        }
        rebalance_try_complete(b, g, now >= g->rebalance_deadline_ms);
    }
}
