/*
 * The consumer-group handlers: JoinGroup, SyncGroup, Heartbeat and
 * LeaveGroup. They decode the request, apply the membership rules of
 * state/member.c and encode the answer.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/handlers/handler.h"
#include "broker/state/member.h"
#include "broker/state/mem.h"
#include "common/clock.h"
#include "common/err.h"

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
        int32_t p =
            g->protocol ? weir__member_protocol_index(o, g->protocol) : -1;
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
        m = g ? weir__member_find_cstr(g, req->park_member) : NULL;
        if (!m) {
            join_response(
                w, v, KERR_UNKNOWN_MEMBER_ID, g, NULL, req->park_member);
            return WEIR_OK;
        }
        weir__group_rebalance_try_complete(
            b, g, now >= g->rebalance_deadline_ms);
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
    if (err == KERR_NONE && mid.len > 0 && !(m = weir__member_find(g, mid)))
        err = KERR_UNKNOWN_MEMBER_ID;
    if (err == KERR_NONE && !protocols_supported(g, m, ptype, *r, np))
        err = KERR_INCONSISTENT_GROUP_PROTOCOL;
    if (err != KERR_NONE) {
        join_response(w, v, err, g, NULL, NULL);
        return WEIR_OK;
    }
    if (!m) {
        if (!(m = weir__member_new(b, g, req->client_id))) {
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
        weir__member_remove(g, m);
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
    weir__group_rebalance_start(b, g, now);
    m->joined = true;
    if (now + (uint64_t)rebalance_ms > g->rebalance_deadline_ms)
        g->rebalance_deadline_ms = now + (uint64_t)rebalance_ms;
    weir__group_rebalance_try_complete(b, g, false);
    if (g->state == WEIR_GROUP_PREPARING) {
        req->park_member = weir__strdup(m->id);
        req->deadline_ms = g->rebalance_deadline_ms + 50;
        return req->park_member ? WEIR_EAGAIN : WEIR_ENOMEM;
    }
    join_response(w, v, KERR_NONE, g, m, m->id);
    return WEIR_OK;
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
    if (err == KERR_NONE && (!g || !(m = weir__member_find(g, mid))))
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
                weir_member *t = weir__member_find(g, to);
                if (!t || !weir_kr_ok(r))
                    continue;
                free(t->assignment);
                t->assignment = malloc((size_t)data.len + 1);
                if (t->assignment) {
                    memcpy(t->assignment, data.ptr, (size_t)data.len);
                    t->assignment_len = data.len;
                }
            }
            (void)weir__group_set_state(g, WEIR_GROUP_STABLE);
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
            err = weir__member_leave(b, g, mid);
        weir_kw_i16(w, weir__kerr_count(b, req->api_key, err));
        return WEIR_OK;
    }
    int32_t n = weir_kr_array(r, false, false, 4);
    weir_kw_i16(w, weir__kerr_count(b, req->api_key, err));
    weir_kw_array(w, false, n);
    for (int32_t i = 0; i < n && weir_kr_ok(r); i++) {
        weir_kstr mid = weir_kr_str(r, false, false);
        weir_kstr inst = weir_kr_str(r, false, true);
        int16_t merr = err == KERR_NONE ? weir__member_leave(b, g, mid) : err;
        weir_kw_strn(w, false, mid.ptr, mid.len);
        weir_kw_strn(w, false, inst.ptr, inst.len);
        weir_kw_i16(w, weir__kerr_count(b, req->api_key, merr));
    }
    return weir_kr_ok(r) ? WEIR_OK : WEIR_EPROTO;
}