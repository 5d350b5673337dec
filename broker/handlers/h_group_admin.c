/* Handlers: ListGroups and DescribeGroups (group tooling, admin clients). */
#include <string.h>

#include "broker/handlers/handler.h"
#include "broker/state/member.h"
#include "common/err.h"

static const char *
protocol_type(const weir_group *g)
{
    if (g->protocol_type)
        return g->protocol_type;
    return g->n_offsets > 0 ? "consumer" : "";
}

int
weir__h_list_groups(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    if (req->version >= 1)
        weir_kw_i32(w, 0);
    weir_kw_i16(w, req->forced_err);
    int32_t n = req->forced_err ? 0 : (int32_t)b->n_groups;
    weir_kw_array(w, false, n);
    for (int32_t i = 0; i < n; i++) {
        weir_kw_str(w, false, b->groups[i]->id);
        weir_kw_str(w, false, protocol_type(b->groups[i]));
    }
    return WEIR_OK;
}

static void
describe(weir_kw *w, int16_t v, const weir_group *g, weir_kstr id, int16_t err)
{
    weir_kw_i16(w, err);
    weir_kw_strn(w, false, id.ptr, id.len);
    bool stable = g && g->state == WEIR_GROUP_STABLE;
    weir_kw_str(w, false, g ? weir__group_state_name(g->state) : "Dead");
    weir_kw_str(w, false, g ? protocol_type(g) : "");
    weir_kw_str(w, false, stable && g->protocol ? g->protocol : "");
    int32_t n = 0;
    for (size_t i = 0; g && i < g->n_members; i++)
        n += g->members[i]->n_protocols > 0;
    weir_kw_array(w, false, n);
    for (size_t i = 0; g && i < g->n_members; i++) {
        const weir_member *m = g->members[i];
        if (m->n_protocols == 0)
            continue;
        weir_kw_str(w, false, m->id);
        if (v >= 4)
            weir_kw_str(w, false, NULL); /* group_instance_id */
        weir_kw_str(w, false, m->client_id ? m->client_id : "");
        weir_kw_str(w, false, "/127.0.0.1"); /* client_host: not tracked */
        int32_t p = -1;
        for (size_t k = 0; stable && g->protocol && k < m->n_protocols; k++)
            if (strcmp(m->protocol_names[k], g->protocol) == 0)
                p = (int32_t)k;
        if (p >= 0)
            weir_kw_bytes(
                w, false, m->protocol_meta[p], m->protocol_meta_len[p]);
        else
            weir_kw_bytes(w, false, "", 0);
        if (stable && m->assignment)
            weir_kw_bytes(w, false, m->assignment, m->assignment_len);
        else
            weir_kw_bytes(w, false, "", 0);
    }
    if (v >= 3)
        weir_kw_i32(w, INT32_MIN); /* authorized_operations: not asked */
}

int
weir__h_describe_groups(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int16_t v = req->version;
    if (v >= 1)
        weir_kw_i32(w, 0);
    int32_t n = weir_kr_array(r, false, false, 2);
    weir_kw_array(w, false, n);
    for (int32_t i = 0; i < n && weir_kr_ok(r); i++) {
        weir_kstr id = weir_kr_str(r, false, false);
        const weir_group *g =
            id.len >= 0 ? weir__group_get(b, id.ptr, (size_t)id.len, false)
                        : NULL;
        describe(w, v, g, id, req->forced_err);
    }
    return weir_kr_ok(r) ? WEIR_OK : WEIR_EPROTO;
}
