/* Handlers: OffsetCommit and OffsetFetch (committed group offsets). */
#include <stdlib.h>
#include <string.h>

#include "broker/handlers/handler.h"
#include "broker/state/txn.h"
#include "broker/state/member.h"
#include "broker/state/persist.h"
#include "broker/state/mem.h"
#include "common/array.h"
#include "common/err.h"
#include "common/log.h"

int
weir__h_offset_commit(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int16_t v = req->version;
    weir_kstr gid = weir_kr_str(r, false, false);
    int32_t generation = weir_kr_i32(r);
    weir_kstr member = weir_kr_str(r, false, false);
    if (v >= 7)
        (void)weir_kr_str(r, false, true);
    if (v <= 4)
        (void)weir_kr_i64(r); /* retention_time_ms */
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;
    int16_t err = req->forced_err;
    weir_group *g = NULL;
    if (err == KERR_NONE && gid.len <= 0)
        err = KERR_INVALID_GROUP_ID;
    if (err == KERR_NONE &&
        !(g = weir__group_get(b, gid.ptr, (size_t)gid.len, true)))
        err = KERR_UNKNOWN_SERVER_ERROR;
    if (err == KERR_NONE)
        err = weir__member_check(g, member, generation, true);

    weir_offset *done = NULL;
    size_t n_done = 0, cap_done = 0;
    if (v >= 3)
        weir_kw_i32(w, 0);
    int32_t nt = weir_kr_array(r, false, false, 6);
    weir_kw_array(w, false, nt);
    for (int32_t i = 0; i < nt && weir_kr_ok(r); i++) {
        weir_kstr topic = weir_kr_str(r, false, false);
        int32_t np = weir_kr_array(r, false, false, 14);
        weir_kw_strn(w, false, topic.ptr, topic.len);
        weir_kw_array(w, false, np);
        for (int32_t k = 0; k < np && weir_kr_ok(r); k++) {
            int32_t idx = weir_kr_i32(r);
            int64_t offset = weir_kr_i64(r);
            int32_t le = v >= 6 ? weir_kr_i32(r) : -1;
            weir_kstr meta = weir_kr_str(r, false, true);
            int16_t perr = err;
            if (perr == KERR_NONE && weir_kr_ok(r)) {
                char *t = weir_kstr_dup(topic);
                char *m = meta.len >= 0 ? weir_kstr_dup(meta) : NULL;
                if (!t ||
                    weir__group_commit(g, t, idx, offset, le, m) != WEIR_OK ||
                    weir_array_reserve(&done, &cap_done, n_done + 1,
                        sizeof(*done)) != WEIR_OK) {
                    perr = KERR_UNKNOWN_SERVER_ERROR;
                    free(t);
                    free(m);
                } else {
                    done[n_done++] = (weir_offset){NULL, t, idx, offset, le, m};
                }
            }
            weir_kw_i32(w, idx);
            weir_kw_i16(w, weir__kerr_count(b, req->api_key, perr));
        }
    }
    int rv = weir_kr_ok(r) ? WEIR_OK : WEIR_EPROTO;
    if (rv == WEIR_OK && n_done > 0)
        rv = weir__state_offsets(b, g->id, done, n_done);
    for (size_t i = 0; i < n_done; i++) {
        free(done[i].topic);
        free(done[i].metadata);
    }
    free(done);
    return rv;
}

static void
write_offset(weir_broker *b, weir_kw *w, bool flex, int16_t v, weir_kstr gid,
    const weir_group *g, weir_kstr topic, int32_t idx, bool require_stable,
    int16_t err)
{
    const weir_offset *o = NULL;
    if (err == KERR_NONE && require_stable &&
        weir__txn_has_pending(b, gid, topic, idx))
        err = KERR_UNSTABLE_OFFSET_COMMIT;
    if (err == KERR_NONE && g)
        o = weir__group_offset(
            (weir_group *)g, topic.ptr, (size_t)topic.len, idx);
    weir_kw_i32(w, idx);
    weir_kw_i64(w, o ? o->offset : -1);
    if (v >= 5)
        weir_kw_i32(w, o ? o->leader_epoch : -1);
    weir_kw_str(w, flex, o && o->metadata ? o->metadata : "");
    weir_kw_i16(w, err);
    weir_kw_tags(w, flex);
}

int
weir__h_offset_fetch(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int16_t v = req->version;
    bool flex = req->flex;
    weir_kstr gid = weir_kr_str(r, flex, false);
    weir_kr topics = *r;
    int32_t nt = weir_kr_array(r, flex, true, 2);
    for (int32_t i = 0; i < nt; i++) {
        (void)weir_kr_str(r, flex, false);
        int32_t np = weir_kr_array(r, flex, false, 4);
        weir_kr_skip(r, 4 * (size_t)(np > 0 ? np : 0));
        weir_kr_tags(r, flex);
    }
    bool require_stable = v >= 7 ? weir_kr_bool(r) : false;
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;
    int16_t err = req->forced_err;
    weir_group *g = weir__group_get(b, gid.ptr, (size_t)gid.len, false);
    if (v >= 3)
        weir_kw_i32(w, 0);
    if (nt >= 0) {
        nt = weir_kr_array(&topics, flex, true, 2);
        weir_kw_array(w, flex, nt);
        for (int32_t i = 0; i < nt; i++) {
            weir_kstr topic = weir_kr_str(&topics, flex, false);
            int32_t np = weir_kr_array(&topics, flex, false, 4);
            weir_kw_strn(w, flex, topic.ptr, topic.len);
            weir_kw_array(w, flex, np);
            for (int32_t k = 0; k < np; k++)
                write_offset(b, w, flex, v, gid, g, topic, weir_kr_i32(&topics),
                    require_stable, err);
            weir_kr_tags(&topics, flex);
            weir_kw_tags(w, flex);
        }
    } else {
        /* All committed offsets of the group, by topic. */
        size_t n = g ? g->n_offsets : 0;
        int32_t distinct = 0;
        for (size_t i = 0; i < n; i++) {
            bool seen = false;
            for (size_t k = 0; k < i && !seen; k++)
                seen = strcmp(g->offsets[k].topic, g->offsets[i].topic) == 0;
            distinct += !seen;
        }
        weir_kw_array(w, flex, distinct);
        for (size_t i = 0; i < n; i++) {
            bool seen = false;
            for (size_t k = 0; k < i && !seen; k++)
                seen = strcmp(g->offsets[k].topic, g->offsets[i].topic) == 0;
            if (seen)
                continue;
            const char *name = g->offsets[i].topic;
            weir_kstr topic = {name, (int32_t)strlen(name)};
            int32_t np = 0;
            for (size_t k = i; k < n; k++)
                np += strcmp(g->offsets[k].topic, name) == 0;
            weir_kw_str(w, flex, name);
            weir_kw_array(w, flex, np);
            for (size_t k = i; k < n; k++)
                if (strcmp(g->offsets[k].topic, name) == 0)
                    write_offset(b, w, flex, v, gid, g, topic,
                        g->offsets[k].partition, require_stable, err);
            weir_kw_tags(w, flex);
        }
    }
    if (v >= 2)
        weir_kw_i16(w, weir__kerr_count(b, req->api_key, err));
    weir_kw_tags(w, flex);
    return WEIR_OK;
}
