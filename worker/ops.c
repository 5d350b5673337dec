/* Operators: the graph of one subtopology and the stateless operators. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/err.h"
#include "common/log.h"
#include "task_impl.h"

typedef Weir__Topology__Operator op_pb;

static bool
has_expr(const Weir__Topology__Expr *e)
{
    return e && e->text && e->text[0] != '\0';
}

static int
parse(const op_pb *pb, const Weir__Topology__Expr *e, weir_expr **out,
    char *err, size_t errsize)
{
    if (!has_expr(e))
        return WEIR_OK;
    weir_expr_error xe;
    memset(&xe, 0, sizeof(xe));
    int rv = weir_expr_parse_op(pb, e, out, &xe);
    if (rv != WEIR_OK)
        snprintf(err, errsize, "operator %s: expression '%s' column %u: %s",
            pb->name, e->text, xe.column, xe.msg);
    return rv;
}

/* The aggregation reading topic's partials, in any subtopology. */
static const op_pb *
partial_target(const Weir__Topology__Topology *topo, const char *topic)
{
    for (size_t s = 0; s < topo->n_subtopologies; s++) {
        const Weir__Topology__Subtopology *st = topo->subtopologies[s];
        for (size_t k = 0; k < st->n_operators; k++) {
            const op_pb *pb = st->operators[k];
            if (pb->partials && pb->store && pb->store[0] &&
                pb->n_inputs == 1 && pb->inputs[0] < k &&
                strcmp(st->operators[pb->inputs[0]]->topic, topic) == 0)
                return pb;
        }
    }
    return NULL;
}

/* A repartition writing partials gets the aggregation they are for. */
static int
build_partial(weir_task *t, weir_op *op, char *err, size_t errsize)
{
    const op_pb *agg = partial_target(t->topo, op->pb->topic);
    if (!agg) {
        snprintf(err, errsize,
            "operator %s: no aggregation reads the partials of %s",
            op->pb->name, op->pb->topic);
        return WEIR_EINVAL;
    }
    if (!(op->partial = calloc(1, sizeof(*op->partial))))
        return WEIR_ENOMEM;
    op->partial->pb = agg;
    op->partial->store = -1;
    op->stream_time = INT64_MIN;
    int rv = parse(agg, agg->value, &op->partial->value, err, errsize);
    if (rv == WEIR_OK && agg->window)
        rv = parse(agg, agg->window->time, &op->partial->time, err, errsize);
    return rv;
}

int
weir__ops_build(weir_task *t, char *err, size_t errsize)
{
    const Weir__Topology__Subtopology *st = t->st;
    t->n_ops = st->n_operators;
    t->ops = calloc(t->n_ops ? t->n_ops : 1, sizeof(*t->ops));
    if (!t->ops)
        return WEIR_ENOMEM;
    int rv = WEIR_OK;
    for (size_t i = 0; rv == WEIR_OK && i < t->n_ops; i++) {
        weir_op *op = &t->ops[i];
        const op_pb *pb = st->operators[i];
        op->pb = pb;
        op->store = -1;
        op->close_at = INT64_MIN;
        if (pb->kind == WEIR__TOPOLOGY__OP_KIND__OP_AGGREGATE &&
            pb->agg == WEIR__TOPOLOGY__AGG_FUNC__AGG_CUSTOM) {
            snprintf(err, errsize,
                "operator %s: custom aggregates are not supported yet",
                pb->name);
            return WEIR_EUNSUPPORTED;
        }
        if ((rv = parse(pb, pb->predicate, &op->predicate, err, errsize)) ||
            (rv = parse(pb, pb->key, &op->key, err, errsize)) ||
            (rv = parse(pb, pb->value, &op->value, err, errsize)))
            return rv;
        if (pb->window && (rv = parse(pb, pb->window->time, &op->time, err,
                               errsize)) != WEIR_OK)
            return rv;
        if (pb->kind == WEIR__TOPOLOGY__OP_KIND__OP_REPARTITION &&
            pb->partials &&
            (rv = build_partial(t, op, err, errsize)) != WEIR_OK)
            return rv;
        const char *store =
            pb->store && pb->store[0] ? pb->store : pb->table_store;
        if (store && store[0]) {
            for (size_t s = 0; s < t->n_stores; s++)
                if (strcmp(t->stores[s].name, store) == 0)
                    op->store = (int)s;
            if (op->store < 0) {
                snprintf(err, errsize, "operator %s: unknown store %s",
                    pb->name, store);
                return WEIR_EINVAL;
            }
        }
        for (size_t k = 0; k < pb->n_inputs; k++) {
            uint32_t in = pb->inputs[k];
            if (in >= i) {
                snprintf(
                    err, errsize, "operator %s: bad input %u", pb->name, in);
                return WEIR_EINVAL;
            }
            weir_op *up = &t->ops[in];
            if (weir_array_append(
                    &up->children, &up->n_children, &i, sizeof(i)) != WEIR_OK)
                return WEIR_ENOMEM;
        }
    }
    return rv;
}

static void
op_free(weir_op *op)
{
    weir_expr_free(op->predicate);
    weir_expr_free(op->key);
    weir_expr_free(op->value);
    weir_expr_free(op->time);
    free(op->children);
    if (op->pending) {
        weir_overlay_fini(op->pending);
        free(op->pending);
    }
    if (op->partial) {
        op_free(op->partial);
        free(op->partial);
    }
}

void
weir__ops_free(weir_task *t)
{
    for (size_t i = 0; t->ops && i < t->n_ops; i++)
        op_free(&t->ops[i]);
    free(t->ops);
    t->ops = NULL;
}

static bool
header_fn(void *opaque, const char *name, const void **value, size_t *len)
{
    const weir_kafka_msg *m = opaque;
    return m && weir_kafka_msg_header(m, name, value, len);
}

/* Records a per-record error against an operator. */
static int
rec_error(weir_task *t, const weir_op *op, const char *what,
    const weir_expr_error *xe)
{
    t->err_op = op->pb->name;
    snprintf(t->err_msg, sizeof(t->err_msg), "%.80s%s%.160s", what,
        xe ? ": " : "", xe ? xe->msg : "");
    return WEIR_EINVAL;
}

int
weir__ops_eval_join(weir_task *t, const weir_op *op, const weir_expr *e,
    const weir_rec *r, const weir_value *right, weir_value *out)
{
    weir_expr_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.key = &r->key;
    ctx.value = &r->value;
    ctx.right = right;
    ctx.timestamp_ms = r->timestamp_ms;
    ctx.header = header_fn;
    ctx.header_opaque = (void *)t->msg;
    ctx.window_start_ms = r->window_start_ms;
    ctx.window_end_ms = r->window_end_ms;
    ctx.arena = &t->arena;
    weir_expr_error xe;
    memset(&xe, 0, sizeof(xe));
    int rv = weir_expr_eval(e, &ctx, out, &xe);
    if (rv != WEIR_OK)
        return rec_error(t, op, weir_expr_text(e), &xe);
    return WEIR_OK;
}

static int
eval(weir_task *t, const weir_op *op, const weir_expr *e, const weir_rec *r,
    weir_value *out)
{
    return weir__ops_eval_join(t, op, e, r, NULL, out);
}

/* Encodes and produces a record (sink and repartition). */
static int
emit(weir_task *t, const weir_op *op, const weir_rec *r)
{
    const op_pb *pb = op->pb;
    char err[200];
    weir_buf_clear(&t->kbuf);
    weir_buf_clear(&t->vbuf);
    bool knull = weir_value_is_kafka_null(&r->key);
    bool vnull = weir_value_is_kafka_null(&r->value);
    if ((!knull && weir_value_encode(&r->key, pb->key_format, &t->kbuf, err,
                       sizeof(err)) != WEIR_OK) ||
        (!vnull && weir_value_encode(&r->value, pb->value_format, &t->vbuf, err,
                       sizeof(err)) != WEIR_OK)) {
        t->err_op = pb->name;
        snprintf(t->err_msg, sizeof(t->err_msg), "encode for %s: %s", pb->topic,
            err);
        return WEIR_EINVAL;
    }
    int rv = weir__task_produce(t, pb->topic, op->max_bytes, -1,
        knull ? NULL : t->kbuf.data, knull ? 0 : t->kbuf.len,
        vnull ? NULL : t->vbuf.data, vnull ? 0 : t->vbuf.len, r->timestamp_ms,
        NULL, 0);
    if (rv == WEIR_OK)
        t->stats.records_out++; /* sinks and repartition topics alike */
    if (rv == WEIR_EINVAL)
        t->err_op = pb->name; /* too large for its topic */
    return rv;
}

static void
peek(weir_task *t, const weir_op *op, const weir_rec *r)
{
    weir_buf_clear(&t->kbuf);
    weir_buf_clear(&t->vbuf);
    (void)weir_value_to_json(&r->key, &t->kbuf);
    (void)weir_value_to_json(&r->value, &t->vbuf);
    weir_log_info("peek", "op=%s task=%s key=%.*s value=%.*s", op->pb->name,
        t->name, (int)t->kbuf.len, t->kbuf.data ? t->kbuf.data : "",
        (int)t->vbuf.len, t->vbuf.data ? t->vbuf.data : "");
}

static int
run(weir_task *t, size_t i, weir_rec *r)
{
    weir_op *op = &t->ops[i];
    weir_rec out = *r;
    weir_value v;
    int rv;
    switch (op->pb->kind) {
    case WEIR__TOPOLOGY__OP_KIND__OP_SOURCE:
        return weir__ops_forward(t, i, r);
    case WEIR__TOPOLOGY__OP_KIND__OP_FILTER:
        if ((rv = eval(t, op, op->predicate, r, &v)) != WEIR_OK)
            return rv;
        if (v.type != WEIR_TYPE_BOOL)
            return rec_error(t, op, "predicate is not a bool", NULL);
        return v.u.b ? weir__ops_forward(t, i, r) : WEIR_OK;
    case WEIR__TOPOLOGY__OP_KIND__OP_MAP:
        if (op->key && (rv = eval(t, op, op->key, r, &out.key)) != WEIR_OK)
            return rv;
        if (op->value &&
            (rv = eval(t, op, op->value, r, &out.value)) != WEIR_OK)
            return rv;
        return weir__ops_forward(t, i, &out);
    case WEIR__TOPOLOGY__OP_KIND__OP_MAP_VALUES:
        if ((rv = eval(t, op, op->value, r, &out.value)) != WEIR_OK)
            return rv;
        return weir__ops_forward(t, i, &out);
    case WEIR__TOPOLOGY__OP_KIND__OP_SELECT_KEY:
        if ((rv = eval(t, op, op->key, r, &out.key)) != WEIR_OK)
            return rv;
        return weir__ops_forward(t, i, &out);
    case WEIR__TOPOLOGY__OP_KIND__OP_FLAT_MAP_VALUES:
        if ((rv = eval(t, op, op->value, r, &v)) != WEIR_OK)
            return rv;
        if (v.type == WEIR_TYPE_NULL)
            return WEIR_OK;
        if (v.type != WEIR_TYPE_LIST)
            return rec_error(t, op, "flat_map_values needs a list", NULL);
        for (size_t k = 0; k < v.u.list.len; k++) {
            out.value = v.u.list.items[k];
            if ((rv = weir__ops_forward(t, i, &out)) != WEIR_OK)
                return rv;
        }
        return WEIR_OK;
    case WEIR__TOPOLOGY__OP_KIND__OP_PEEK:
        peek(t, op, r);
        return weir__ops_forward(t, i, r);
    case WEIR__TOPOLOGY__OP_KIND__OP_REPARTITION:
        if (op->partial)
            return weir__ops_partial_fold(t, i, r);
        /* fall through */
    case WEIR__TOPOLOGY__OP_KIND__OP_SINK:
        if ((rv = emit(t, op, r)) != WEIR_OK)
            return rv;
        return weir__ops_forward(t, i, r);
    case WEIR__TOPOLOGY__OP_KIND__OP_COUNT:
    case WEIR__TOPOLOGY__OP_KIND__OP_REDUCE:
    case WEIR__TOPOLOGY__OP_KIND__OP_AGGREGATE:
        return weir__ops_aggregate(t, i, r);
    case WEIR__TOPOLOGY__OP_KIND__OP_STREAM_STREAM_JOIN:
        return weir__ops_stream_join(t, i, r);
    case WEIR__TOPOLOGY__OP_KIND__OP_STREAM_TABLE_JOIN: {
        bool found;
        if ((rv = weir__ops_table_get(t, op, &r->key, &v, &found)) != WEIR_OK)
            return rv;
        if (!found && op->pb->join_type != WEIR__TOPOLOGY__JOIN_TYPE__JOIN_LEFT)
            return WEIR_OK; /* inner: no row, no result */
        if ((rv = weir__ops_eval_join(t, op, op->value, r, found ? &v : NULL,
                 &out.value)) != WEIR_OK)
            return rv;
        return weir__ops_forward(t, i, &out);
    }
    default:
        return rec_error(t, op, "unsupported operator", NULL);
    }
}

int
weir__ops_forward(weir_task *t, size_t i, weir_rec *r)
{
    const weir_op *op = &t->ops[i];
    for (size_t k = 0; k < op->n_children; k++) {
        t->forward_from = i;
        int rv = run(t, op->children[k], r);
        if (rv != WEIR_OK)
            return rv;
    }
    return WEIR_OK;
}

static bool
is_record_error(int rv)
{
    return rv == WEIR_EINVAL || rv == WEIR_EPARSE || rv == WEIR_ENOMEM;
}

/* Writes a failed record to the dead-letter topic with why it failed and,
 * for an input record m, where it came from (m NULL: a result). A record
 * too large for the DLQ topic is cut to fit (value first, then key), its
 * original sizes in weir.truncated. */
static int
dead_letter(weir_task *t, const void *key, size_t klen, const void *val,
    size_t vlen, int64_t ts, const weir_kafka_msg *m)
{
    char part[16] = "", off[24] = "", cut[48] = "";
    const char *op = t->err_op ? t->err_op : "";
    if (m) {
        snprintf(part, sizeof(part), "%d", m->partition);
        snprintf(off, sizeof(off), "%lld", (long long)m->offset);
    }
    weir_kafka_header h[] = {
        {"weir.error", t->err_msg, strlen(t->err_msg)},
        {"weir.operator", op, strlen(op)},
        {"weir.task", t->name, strlen(t->name)},
        {"weir.source.topic", m ? m->topic : "", m ? strlen(m->topic) : 0},
        {"weir.source.partition", part, strlen(part)},
        {"weir.source.offset", off, strlen(off)},
        {"weir.truncated", cut, 0},
    };
    size_t nh = m ? 6 : 3;
    if ((int64_t)weir__record_size(klen, vlen, h, nh) > t->dlq_max_bytes) {
        snprintf(cut, sizeof(cut), "key=%zu value=%zu", klen, vlen);
        h[nh] = h[6]; /* weir.truncated follows the headers in use */
        h[nh++].len = strlen(cut);
        size_t over =
            weir__record_size(klen, vlen, h, nh) - (size_t)t->dlq_max_bytes;
        size_t vcut = over < vlen ? over : vlen;
        vlen -= vcut;
        klen -= over - vcut < klen ? over - vcut : klen;
    }
    return weir__task_produce(t, t->topo->dlq_topic, t->dlq_max_bytes, -1, key,
        klen, val, vlen, ts, h, nh);
}

int
weir__ops_result_failed(weir_task *t, const weir_rec *r, int rv)
{
    if (!is_record_error(rv))
        return rv;
    switch (t->topo->on_error) {
    case WEIR__TOPOLOGY__ON_ERROR__ON_ERROR_SKIP:
        t->stats.skipped++;
        return WEIR_OK;
    case WEIR__TOPOLOGY__ON_ERROR__ON_ERROR_FAIL:
        snprintf(t->stats.error, sizeof(t->stats.error),
            "a result failed in %.40s: %.160s", t->err_op ? t->err_op : "?",
            t->err_msg);
        return WEIR_EINVAL;
    default:
        t->stats.dlq++;
        weir_buf_clear(&t->kbuf);
        weir_buf_clear(&t->vbuf);
        if (weir_value_to_json(&r->key, &t->kbuf) != WEIR_OK ||
            weir_value_to_json(&r->value, &t->vbuf) != WEIR_OK)
            return WEIR_ENOMEM;
        return dead_letter(t, t->kbuf.data, t->kbuf.len, t->vbuf.data,
            t->vbuf.len, r->timestamp_ms, NULL);
    }
}

int
weir__ops_emit_result(weir_task *t, size_t i, weir_rec *r)
{
    t->err_op = NULL;
    t->err_msg[0] = '\0';
    int rv = weir__ops_forward(t, i, r);
    return rv == WEIR_OK ? rv : weir__ops_result_failed(t, r, rv);
}

int
weir__ops_process(weir_task *t, const weir_kafka_msg *m)
{
    weir_arena_reset(&t->arena);
    t->msg = m;
    t->err_op = NULL;
    t->err_msg[0] = '\0';
    int rv = WEIR_OK;
    for (size_t i = 0; rv == WEIR_OK && i < t->n_ops; i++) {
        const op_pb *pb = t->ops[i].pb;
        if (pb->kind != WEIR__TOPOLOGY__OP_KIND__OP_SOURCE ||
            strcmp(pb->topic, m->topic) != 0)
            continue;
        if (pb->table) {
            rv = weir__ops_table_update(t, &t->ops[i], m);
            break;
        }
        weir_rec r;
        memset(&r, 0, sizeof(r));
        r.timestamp_ms = m->timestamp_ms;
        char err[200];
        rv = weir_value_decode(pb->key_format, (weir_type)pb->key_type, m->key,
            m->key_len, &t->arena, &r.key, err, sizeof(err));
        if (rv == WEIR_OK)
            rv = weir_value_decode(pb->value_format, (weir_type)pb->value_type,
                m->value, m->value_len, &t->arena, &r.value, err, sizeof(err));
        if (rv != WEIR_OK) {
            t->err_op = pb->name;
            snprintf(t->err_msg, sizeof(t->err_msg), "decode: %s", err);
            rv = WEIR_EINVAL;
            break;
        }
        rv = weir__ops_forward(t, i, &r);
    }
    t->msg = NULL;
    if (!is_record_error(rv))
        return rv;
    switch (t->topo->on_error) {
    case WEIR__TOPOLOGY__ON_ERROR__ON_ERROR_SKIP:
        t->stats.skipped++;
        weir_log_debug("task", "record skipped task=%s offset=%lld err=\"%s\"",
            t->name, (long long)m->offset, t->err_msg);
        return WEIR_OK;
    case WEIR__TOPOLOGY__ON_ERROR__ON_ERROR_FAIL:
        snprintf(t->stats.error, sizeof(t->stats.error),
            "record %.60s/%d@%lld failed in %.40s: %.100s", m->topic,
            m->partition, (long long)m->offset, t->err_op ? t->err_op : "?",
            t->err_msg);
        return WEIR_EINVAL;
    default:
        t->stats.dlq++;
        return dead_letter(
            t, m->key, m->key_len, m->value, m->value_len, m->timestamp_ms, m);
    }
}
