/* The graph of a compiled topology (job_graph.h): built once, drawn as
 * Graphviz by job_print.c and as JSON here for the dashboard. */
#include "common/job/job_graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/err.h"
#include "common/job/job.h"
#include "common/json_str.h"

typedef Weir__Topology__Operator op_msg;

const char *
weir_job_op_kind_name(Weir__Topology__OpKind kind)
{
    static const char *names[] = {"source", "filter", "map", "map_values",
        "flat_map_values", "select_key", "repartition", "count", "reduce",
        "aggregate", "sink", "peek", "stream_table_join", "stream_stream_join"};
    if ((unsigned)kind < sizeof(names) / sizeof(names[0]))
        return names[kind];
    return "unknown";
}

const char *
weir_job_topic_role_name(Weir__Topology__TopicRole role)
{
    static const char *names[] = {
        "input", "output", "repartition", "changelog", "dlq"};
    if ((unsigned)role < sizeof(names) / sizeof(names[0]))
        return names[role];
    return "unknown";
}

/* One line of the detail: text with its newlines as spaces. */
static void
detail_line(weir_buf *b, const char *text)
{
    if (b->len > 0)
        (void)weir_buf_append(b, "\n", 1);
    for (const char *p = text; *p; p++)
        (void)weir_buf_append(b, *p == '\n' || *p == '\r' ? " " : p, 1);
}

/* The expression, window and store of an operator, one line each. */
static char *
op_detail(const op_msg *op)
{
    weir_buf b;
    weir_buf_init(&b);
    const Weir__Topology__Expr *e =
        op->predicate != NULL ? op->predicate
                              : (op->key != NULL ? op->key : op->value);
    if (e != NULL && e->text != NULL)
        detail_line(&b, e->text);
    const Weir__Topology__Window *w = op->window;
    if (w != NULL && w->kind != WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_NONE) {
        static const char *kinds[] = {"", "tumbling", "hopping", "session"};
        char line[96];
        snprintf(line, sizeof(line), "%s %llums grace %llums",
            (unsigned)w->kind < 4 ? kinds[w->kind] : "?",
            (unsigned long long)(w->kind ==
                                         WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_SESSION
                                     ? w->gap_ms
                                     : w->size_ms),
            (unsigned long long)w->grace_ms);
        detail_line(&b, line);
    }
    if (op->store != NULL && op->store[0]) {
        detail_line(&b, "store ");
        /* "store NAME" on one line: append the name to the last line */
        for (const char *p = op->store; *p; p++)
            (void)weir_buf_append(&b, *p == '\n' ? " " : p, 1);
    }
    if (b.failed) {
        weir_buf_fini(&b);
        return NULL;
    }
    return b.data ? b.data : strdup("");
}

static bool
edge_add(weir_job_graph *g, size_t *cap, size_t from, size_t to,
    weir_job_edge_type type)
{
    if (weir_array_reserve(&g->edges, cap, g->n_edges + 1, sizeof(*g->edges)) !=
        WEIR_OK)
        return false;
    g->edges[g->n_edges++] = (weir_job_edge){from, to, type};
    return true;
}

/* The changelog topic of store, or NULL. */
static const char *
changelog_of(const Weir__Topology__Topology *topo, const char *store)
{
    for (size_t j = 0; j < topo->n_stores; j++)
        if (strcmp(topo->stores[j]->name, store) == 0)
            return topo->stores[j]->changelog_topic;
    return NULL;
}

/* Edges of operator k of subtopology sub, whose node is n; the first
 * operator node of sub is first, the first topic node is topics. */
static bool
op_edges(const Weir__Topology__Topology *topo,
    const Weir__Topology__Subtopology *sub, size_t k, size_t n, size_t first,
    size_t topics, weir_job_graph *g, size_t *cap)
{
    const op_msg *op = sub->operators[k];
    for (size_t j = 0; j < op->n_inputs; j++)
        if (op->inputs[j] < sub->n_operators &&
            !edge_add(g, cap, first + op->inputs[j], n, WEIR_JOB_EDGE_DATA))
            return false;
    const char *changelog =
        op->store && op->store[0] ? changelog_of(topo, op->store) : NULL;
    for (size_t i = 0; i < topo->n_topics; i++) {
        const char *name = topo->topics[i]->name;
        if (op->topic && op->topic[0] && strcmp(op->topic, name) == 0) {
            bool reads = op->kind == WEIR__TOPOLOGY__OP_KIND__OP_SOURCE;
            if (!edge_add(g, cap, reads ? topics + i : n,
                    reads ? n : topics + i, WEIR_JOB_EDGE_DATA))
                return false;
        }
        if (changelog && strcmp(changelog, name) == 0 &&
            !edge_add(g, cap, n, topics + i, WEIR_JOB_EDGE_CHANGELOG))
            return false;
    }
    return true;
}

int
weir_job_graph_build(const Weir__Topology__Topology *topo, weir_job_graph *g)
{
    memset(g, 0, sizeof(*g));
    size_t n = topo->n_topics;
    for (size_t s = 0; s < topo->n_subtopologies; s++)
        n += topo->subtopologies[s]->n_operators;
    g->nodes = calloc(n ? n : 1, sizeof(*g->nodes));
    if (!g->nodes)
        return WEIR_ENOMEM;
    for (size_t s = 0; s < topo->n_subtopologies; s++) {
        const Weir__Topology__Subtopology *sub = topo->subtopologies[s];
        for (size_t k = 0; k < sub->n_operators; k++) {
            const op_msg *op = sub->operators[k];
            weir_job_node *nd = &g->nodes[g->n_nodes++];
            nd->type = WEIR_JOB_NODE_OPERATOR;
            snprintf(nd->id, sizeof(nd->id), "op_%u_%zu", sub->id, k);
            nd->kind = weir_job_op_kind_name(op->kind);
            nd->name = op->name ? op->name : "";
            nd->subtopology = (int)sub->id;
            if (!(nd->detail = op_detail(op)))
                goto nomem;
        }
    }
    size_t topics = g->n_nodes;
    for (size_t i = 0; i < topo->n_topics; i++) {
        weir_job_node *nd = &g->nodes[g->n_nodes++];
        nd->type = WEIR_JOB_NODE_TOPIC;
        snprintf(nd->id, sizeof(nd->id), "topic_%zu", i);
        nd->kind = weir_job_topic_role_name(topo->topics[i]->role);
        nd->name = topo->topics[i]->name ? topo->topics[i]->name : "";
        nd->subtopology = -1;
        if (!(nd->detail = strdup("")))
            goto nomem;
    }
    size_t cap = 0, first = 0;
    for (size_t s = 0; s < topo->n_subtopologies; s++) {
        const Weir__Topology__Subtopology *sub = topo->subtopologies[s];
        for (size_t k = 0; k < sub->n_operators; k++)
            if (!op_edges(topo, sub, k, first + k, first, topics, g, &cap))
                goto nomem;
        first += sub->n_operators;
    }
    return WEIR_OK;
nomem:
    weir_job_graph_fini(g);
    return WEIR_ENOMEM;
}

void
weir_job_graph_fini(weir_job_graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_nodes; i++)
        free(g->nodes[i].detail);
    free(g->nodes);
    free(g->edges);
    memset(g, 0, sizeof(*g));
}

static void
json_str(weir_buf *out, const char *s)
{
    (void)weir_json_str_append(out, s, strlen(s));
}

int
weir_job_graph_json(const Weir__Topology__Topology *topo,
    const weir_job_graph *g, weir_buf *out)
{
    (void)weir_buf_printf(out, "{\"job\":");
    json_str(out, topo->job ? topo->job : "");
    (void)weir_buf_printf(out, ",\"subtopologies\":[");
    for (size_t s = 0; s < topo->n_subtopologies; s++) {
        const Weir__Topology__Subtopology *sub = topo->subtopologies[s];
        (void)weir_buf_printf(out,
            "%s{\"id\":%u,\"tasks\":%u,"
            "\"input_topics\":[",
            s ? "," : "", sub->id, weir_job_subtopology_tasks(topo, sub->id));
        for (size_t i = 0; i < sub->n_input_topics; i++) {
            (void)weir_buf_printf(out, "%s", i ? "," : "");
            json_str(out, sub->input_topics[i]);
        }
        (void)weir_buf_printf(out, "]}");
    }
    (void)weir_buf_printf(out, "],\"nodes\":[");
    for (size_t i = 0; i < g->n_nodes; i++) {
        const weir_job_node *nd = &g->nodes[i];
        (void)weir_buf_printf(out,
            "%s{\"id\":\"%s\",\"type\":\"%s\",\"kind\":\"%s\",\"name\":",
            i ? "," : "", nd->id,
            nd->type == WEIR_JOB_NODE_TOPIC ? "topic" : "operator", nd->kind);
        json_str(out, nd->name);
        (void)weir_buf_printf(
            out, ",\"subtopology\":%d,\"detail\":[", nd->subtopology);
        const char *p = nd->detail;
        for (bool first = true; *p; first = false) {
            size_t len = strcspn(p, "\n");
            (void)weir_buf_printf(out, "%s", first ? "" : ",");
            (void)weir_json_str_append(out, p, len);
            p += len + (p[len] == '\n');
        }
        (void)weir_buf_printf(out, "]}");
    }
    (void)weir_buf_printf(out, "],\"edges\":[");
    for (size_t i = 0; i < g->n_edges; i++) {
        const weir_job_edge *e = &g->edges[i];
        (void)weir_buf_printf(out,
            "%s{\"from\":\"%s\",\"to\":\"%s\",\"type\":\"%s\"}", i ? "," : "",
            g->nodes[e->from].id, g->nodes[e->to].id,
            e->type == WEIR_JOB_EDGE_CHANGELOG ? "changelog" : "data");
    }
    (void)weir_buf_printf(out, "]}\n");
    return out->failed ? WEIR_ENOMEM : WEIR_OK;
}
