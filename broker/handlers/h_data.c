/* Handlers: Produce, Fetch (long-poll, read_committed), ListOffsets. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "broker/storage/store_io.h"
#include "broker/handlers/handler.h"
#include "broker/state/part.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

int
weir__h_produce(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int16_t v = req->version;
    (void)weir_kr_str(r, false, true); /* transactional_id */
    int16_t acks = weir_kr_i16(r);
    (void)weir_kr_i32(r);
    int32_t nt = weir_kr_array(r, false, false, 6);
    weir_kw_array(w, false, nt);
    for (int32_t i = 0; i < nt && weir_kr_ok(r); i++) {
        weir_kstr topic = weir_kr_str(r, false, false);
        int32_t np = weir_kr_array(r, false, false, 8);
        weir_kw_strn(w, false, topic.ptr, topic.len);
        weir_kw_array(w, false, np);
        for (int32_t k = 0; k < np && weir_kr_ok(r); k++) {
            int32_t idx = weir_kr_i32(r);
            weir_kstr recs = weir_kr_bytes(r, false, true);
            if (!weir_kr_ok(r))
                break;
            weir_part *part = weir__part_find(b, topic, idx);
            int16_t err = req->forced_err;
            int64_t base = -1;
            if (err == KERR_NONE && !part)
                err = KERR_UNKNOWN_TOPIC_OR_PARTITION;
            else if (err == KERR_NONE && recs.len <= 0)
                err = KERR_CORRUPT_MESSAGE;
            else if (err == KERR_NONE) {
                err = weir__part_produce(
                    b, part, (uint8_t *)recs.ptr, (size_t)recs.len, &base);
            }
            if (err != KERR_NONE) {
                b->metrics.errors[WEIR_API_PRODUCE]++;
                weir_log_debug("broker", "produce %.*s-%d: error %d %s",
                    (int)topic.len, topic.ptr, (int)idx, (int)err,
                    weir__kerr_name(err));
            }
            weir_kw_i32(w, idx);
            weir_kw_i16(w, err);
            weir_kw_i64(w, err == KERR_NONE ? base : -1);
            weir_kw_i64(w, -1); /* log_append_time_ms */
            if (v >= 5)
                weir_kw_i64(w, part ? weir_plog_start_offset(part->log) : -1);
        }
    }
    weir_kw_i32(w, 0); /* throttle_time_ms */
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;
    return acks == 0 ? WEIR_ESTOPPED : WEIR_OK;
}

/* Writes the aborted transactions overlapping [from, to) of part. */
static void
write_aborted(weir_kw *w, const weir_part *part, int64_t from, int64_t to)
{
    /* The index is ordered by last_offset: skip the ones ending before. */
    size_t lo = 0, hi = part->n_aborted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (part->aborted[mid].last_offset < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    int32_t n = 0;
    for (size_t i = lo; i < part->n_aborted; i++) {
        const weir_aborted *a = &part->aborted[i];
        if (a->last_offset >= from && a->first_offset < to)
            n++;
    }
    weir_kw_array(w, false, n);
    for (size_t i = lo; i < part->n_aborted; i++) {
        const weir_aborted *a = &part->aborted[i];
        if (a->last_offset >= from && a->first_offset < to) {
            weir_kw_i64(w, a->pid);
            weir_kw_i64(w, a->first_offset);
        }
    }
}

/* Fetched records: a descriptor of their own, sent later by sendfile, or
 * (when no descriptor is left) a copy. */
typedef struct weir_recs {
    int fd;
    uint64_t pos;
    uint8_t *copy;
} weir_recs;

/* fd is the log's: it may be closed by a roll or retention before the
 * response is sent, so the response keeps a duplicate. */
static int
recs_take(weir_recs *r, int fd, uint64_t pos, size_t len)
{
    size_t got;
    r->pos = pos;
    if ((r->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) >= 0)
        return WEIR_OK;
    weir_log_warn("broker",
        "fetch: cannot duplicate a segment descriptor "
        "(%s): copying the records",
        strerror(errno));
    if ((r->copy = malloc(len)) == NULL)
        return WEIR_ENOMEM;
    if (weir__io_pread_all(fd, r->copy, len, pos, &got) != 0 || got != len) {
        free(r->copy);
        r->copy = NULL;
        return WEIR_EIO;
    }
    return WEIR_OK;
}

int
weir__h_fetch(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int16_t v = req->version;
    (void)weir_kr_i32(r); /* replica_id */
    int32_t max_wait = weir_kr_i32(r);
    int32_t min_bytes = weir_kr_i32(r);
    int32_t max_bytes = weir_kr_i32(r);
    int8_t isolation = weir_kr_i8(r);
    if (v >= 7) {
        (void)weir_kr_i32(r); /* session_id */
        (void)weir_kr_i32(r); /* session_epoch */
    }
    if (max_bytes <= 0)
        max_bytes = 1;
    size_t budget = (size_t)max_bytes, total = 0;
    bool any_err = false; /* errors are answered at once, as Kafka does */
    weir_kw_i32(w, 0);    /* throttle_time_ms */
    if (v >= 7) {
        weir_kw_i16(w, KERR_NONE);
        weir_kw_i32(w, 0); /* session_id: sessions not supported */
    }
    int32_t nt = weir_kr_array(r, false, false, 6);
    weir_kw_array(w, false, nt);
    for (int32_t i = 0; i < nt && weir_kr_ok(r); i++) {
        weir_kstr topic = weir_kr_str(r, false, false);
        int32_t np = weir_kr_array(r, false, false, 16);
        weir_kw_strn(w, false, topic.ptr, topic.len);
        weir_kw_array(w, false, np);
        for (int32_t k = 0; k < np && weir_kr_ok(r); k++) {
            int32_t idx = weir_kr_i32(r);
            if (v >= 9)
                (void)weir_kr_i32(r); /* current_leader_epoch */
            int64_t offset = weir_kr_i64(r);
            if (v >= 5)
                (void)weir_kr_i64(r); /* log_start_offset */
            int32_t part_max = weir_kr_i32(r);
            if (!weir_kr_ok(r))
                break;
            weir_part *part = weir__part_find(b, topic, idx);
            int16_t err = req->forced_err;
            int64_t hw = -1, lso = -1, start = -1;
            int fd = -1;
            uint64_t fpos = 0;
            size_t len = 0;
            weir_recs recs = {-1, 0, NULL};
            if (err == KERR_NONE && !part)
                err = KERR_UNKNOWN_TOPIC_OR_PARTITION;
            if (part) {
                hw = weir__part_hw(part);
                lso = weir__part_lso(part);
                start = weir_plog_start_offset(part->log);
            }
            int64_t limit = isolation == 1 ? lso : hw;
            if (err == KERR_NONE && (offset < start || offset > hw))
                err = KERR_OFFSET_OUT_OF_RANGE;
            if (err == KERR_NONE && offset < limit && budget > 0) {
                size_t cap = part_max > 0 ? (size_t)part_max : 1;
                if (cap > budget)
                    cap = budget;
                int rv = weir_plog_read_ref(part->log, offset, limit, cap, &fd,
                    &fpos, &len, &recs.copy);
                if (rv == WEIR_OK && len > 0 && recs.copy == NULL)
                    rv = recs_take(&recs, fd, fpos, len);
                if (rv != WEIR_OK)
                    len = 0;
                if (rv == WEIR_ENOTFOUND)
                    err = KERR_OFFSET_OUT_OF_RANGE;
                else if (rv != WEIR_OK)
                    err = KERR_KAFKA_STORAGE_ERROR;
                budget = len >= budget ? 0 : budget - len;
                total += len;
            }
            any_err = any_err || err != KERR_NONE;
            weir_kw_i32(w, idx);
            weir_kw_i16(w, weir__kerr_count(b, req->api_key, err));
            weir_kw_i64(w, hw);
            weir_kw_i64(w, lso);
            if (v >= 5)
                weir_kw_i64(w, start);
            if (isolation == 1 && err == KERR_NONE && len > 0)
                write_aborted(w, part, offset, limit);
            else
                weir_kw_array(w, false, -1);
            if (v >= 11)
                weir_kw_i32(w, -1); /* preferred_read_replica */
            weir_kw_i32(w, (int32_t)len);
            if (recs.copy != NULL)
                weir_kw_attach(w, recs.copy, len);
            else if (recs.fd >= 0)
                weir_kw_attach_file(w, recs.fd, recs.pos, len);
        }
    }
    if (v >= 7) {
        int32_t nf = weir_kr_array(r, false, false, 6);
        for (int32_t i = 0; i < nf; i++) {
            (void)weir_kr_str(r, false, false);
            int32_t n = weir_kr_array(r, false, false, 4);
            weir_kr_skip(r, 4 * (size_t)(n > 0 ? n : 0));
        }
    }
    if (!weir_kr_ok(r))
        return WEIR_EPROTO;
    if (total < (size_t)(min_bytes > 0 ? min_bytes : 1) && max_wait > 0 &&
        !req->expired && !any_err) {
        if (!req->retry)
            req->deadline_ms = weir_clock_mono_ms() + (uint64_t)max_wait;
        return WEIR_EAGAIN;
    }
    return WEIR_OK;
}

int
weir__h_list_offsets(weir_broker *b, weir_kreq *req, weir_kw *w)
{
    weir_kr *r = &req->body;
    int16_t v = req->version;
    (void)weir_kr_i32(r);
    int8_t isolation = v >= 2 ? weir_kr_i8(r) : 0;
    if (v >= 2)
        weir_kw_i32(w, 0);
    int32_t nt = weir_kr_array(r, false, false, 6);
    weir_kw_array(w, false, nt);
    for (int32_t i = 0; i < nt && weir_kr_ok(r); i++) {
        weir_kstr topic = weir_kr_str(r, false, false);
        int32_t np = weir_kr_array(r, false, false, 12);
        weir_kw_strn(w, false, topic.ptr, topic.len);
        weir_kw_array(w, false, np);
        for (int32_t k = 0; k < np && weir_kr_ok(r); k++) {
            int32_t idx = weir_kr_i32(r);
            int64_t ts = weir_kr_i64(r);
            weir_part *part = weir__part_find(b, topic, idx);
            int16_t err = req->forced_err;
            int64_t off = -1, rts = -1;
            if (err == KERR_NONE && !part)
                err = KERR_UNKNOWN_TOPIC_OR_PARTITION;
            if (err == KERR_NONE) {
                if (ts == -1)
                    off = isolation == 1 ? weir__part_lso(part)
                                         : weir__part_hw(part);
                else if (ts == -2)
                    off = weir_plog_start_offset(part->log);
                else {
                    int rv = weir__part_offset_for_time(part, ts, &off, &rts);
                    if (rv == WEIR_ENOTFOUND)
                        off = rts = -1; /* no record that late */
                    else if (rv != WEIR_OK)
                        err = KERR_KAFKA_STORAGE_ERROR;
                }
            }
            weir_kw_i32(w, idx);
            weir_kw_i16(w, weir__kerr_count(b, req->api_key, err));
            weir_kw_i64(w, rts);
            weir_kw_i64(w, off);
        }
    }
    return weir_kr_ok(r) ? WEIR_OK : WEIR_EPROTO;
}
