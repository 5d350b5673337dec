/* Human and Graphviz views of a compiled topology; task naming. */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/job/job.h"
#include "common/job/job_graph.h"
#include "common/value/value.h"

typedef Weir__Topology__Operator op_msg;

static const char *
fmt_name(weir_format fmt)
{
    const char *s = weir_format_name(fmt);
    return s != NULL ? s : "?";
}

static const char *
agg_name(Weir__Topology__AggFunc f)
{
    static const char *names[] = {"sum", "min", "max", "avg", "custom"};
    if ((unsigned)f < sizeof(names) / sizeof(names[0])) {
        return names[f];
    }
    return "?";
}

unsigned
weir_job_topic_partitions(
    const Weir__Topology__Topology *topo, const char *topic)
{
    unsigned inputs = 0;
    bool found = false;
    unsigned parts = 0;
    for (size_t i = 0; i < topo->n_topics; i++) {
        const Weir__Topology__Topic *t = topo->topics[i];
        if (t->role == WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_INPUT &&
            t->partitions > inputs) {
            inputs = t->partitions;
        }
        if (strcmp(t->name, topic) == 0) {
            found = true;
            parts = t->partitions;
        }
    }
    if (!found) {
        return 0;
    }
    return parts != 0 ? parts : inputs;
}

const Weir__Topology__Operator *
weir_job_store_operator(const Weir__Topology__Topology *topo, const char *store,
    const Weir__Topology__Subtopology **sub)
{
    for (size_t s = 0; s < topo->n_subtopologies; s++) {
        const Weir__Topology__Subtopology *st = topo->subtopologies[s];
        for (size_t k = 0; k < st->n_operators; k++) {
            const Weir__Topology__Operator *op = st->operators[k];
            if (strcmp(op->store, store) == 0 ||
                (op->table && strcmp(op->table_store, store) == 0)) {
                *sub = st;
                return op;
            }
        }
    }
    return NULL;
}

unsigned
weir_job_subtopology_tasks(const Weir__Topology__Topology *topo, unsigned sub)
{
    if (sub >= topo->n_subtopologies) {
        return 0;
    }
    const Weir__Topology__Subtopology *s = topo->subtopologies[sub];
    unsigned tasks = 0;
    for (size_t i = 0; i < s->n_input_topics; i++) {
        unsigned p = weir_job_topic_partitions(topo, s->input_topics[i]);
        if (p > tasks) {
            tasks = p;
        }
    }
    return tasks;
}

char *
weir_job_task_name(unsigned sub, unsigned partition, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "%u_%u", sub, partition);
    return buf;
}

char *
weir_job_transactional_id(
    const char *job, unsigned sub, unsigned partition, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "%s-%u_%u", job, sub, partition);
    return buf;
}

static const char *
emit_name(Weir__Topology__Emit e)
{
    return e == WEIR__TOPOLOGY__EMIT__EMIT_FINAL    ? "final"
           : e == WEIR__TOPOLOGY__EMIT__EMIT_LATEST ? "latest"
                                                    : "update";
}

static void
print_op(const op_msg *op, size_t idx, FILE *fp)
{
    fprintf(fp, "    [%zu] %-16s %s", idx, weir_job_op_kind_name(op->kind),
        op->name);
    for (size_t i = 0; i < op->n_inputs; i++) {
        fprintf(fp, "%s%u", i ? ", " : " <- [", op->inputs[i]);
    }
    if (op->n_inputs > 0) {
        fprintf(fp, "]");
    }
    fprintf(fp, "  (line %u)\n", op->line);
    if (op->topic != NULL && op->topic[0] != '\0') {
        fprintf(fp, "        topic %s (key %s, value %s)\n", op->topic,
            fmt_name(op->key_format), fmt_name(op->value_format));
    }
    if (op->predicate != NULL) {
        fprintf(fp, "        where %s\n", op->predicate->text);
    }
    if (op->key != NULL) {
        fprintf(fp, "        key = %s : %s\n", op->key->text,
            weir_type_name((weir_type)op->key->type));
    }
    if (op->value != NULL) {
        fprintf(fp, "        value = %s : %s\n", op->value->text,
            weir_type_name((weir_type)op->value->type));
    }
    if (op->table) {
        fprintf(fp, "        table: the latest value per key, in store %s\n",
            op->table_store);
    }
    static const char *join_types[] = {"inner", "left", "outer"};
    const char *jt = op->join_type <= WEIR__TOPOLOGY__JOIN_TYPE__JOIN_OUTER
                         ? join_types[op->join_type]
                         : "?";
    if (op->kind == WEIR__TOPOLOGY__OP_KIND__OP_STREAM_TABLE_JOIN) {
        fprintf(fp, "        %s join with table %s\n", jt, op->table_store);
    }
    if (op->kind == WEIR__TOPOLOGY__OP_KIND__OP_STREAM_STREAM_JOIN) {
        fprintf(fp,
            "        %s join within %llums grace %llums (both sides wait in "
            "the store)\n",
            jt, (unsigned long long)op->join_window_ms,
            (unsigned long long)op->join_grace_ms);
    }
    if (op->kind == WEIR__TOPOLOGY__OP_KIND__OP_AGGREGATE) {
        fprintf(fp, "        function %s%s%s\n", agg_name(op->agg),
            op->agg_function[0] ? " " : "", op->agg_function);
    }
    if (op->kind == WEIR__TOPOLOGY__OP_KIND__OP_STREAM_STREAM_JOIN) {
        fprintf(fp, "        store %s\n", op->store);
    } else if (op->store != NULL && op->store[0] != '\0') {
        fprintf(fp, "        store %s, emit %s%s\n", op->store,
            emit_name(op->window != NULL ? op->window->emit : op->emit),
            op->partials ? ", merges partial aggregates" : "");
    } else if (op->partials) {
        fprintf(fp, "        carries partial aggregates (pre-aggregation)\n");
    }
    const Weir__Topology__Window *w = op->window;
    if (w != NULL) {
        static const char *kinds[] = {"none", "tumbling", "hopping", "session"};
        fprintf(fp, "        window %s",
            (unsigned)w->kind < 4 ? kinds[w->kind] : "?");
        if (w->kind == WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_SESSION) {
            fprintf(fp, " gap %llums", (unsigned long long)w->gap_ms);
        } else {
            fprintf(fp, " size %llums advance %llums",
                (unsigned long long)w->size_ms,
                (unsigned long long)w->advance_ms);
        }
        fprintf(fp, " grace %llums emit %s time %s\n",
            (unsigned long long)w->grace_ms, emit_name(w->emit),
            w->time != NULL ? w->time->text : "timestamp");
    }
}

void
weir_job_print(const Weir__Topology__Topology *topo, FILE *fp)
{
    fprintf(fp, "job %s\n", topo->job);
    fprintf(fp, "  guarantee %s, commit every %u ms, on_error %s, %u standby\n",
        topo->guarantee == WEIR__TOPOLOGY__GUARANTEE__AT_LEAST_ONCE
            ? "at_least_once"
            : "exactly_once",
        topo->commit_interval_ms,
        topo->on_error == WEIR__TOPOLOGY__ON_ERROR__ON_ERROR_FAIL
            ? "fail"
            : (topo->on_error == WEIR__TOPOLOGY__ON_ERROR__ON_ERROR_SKIP
                      ? "skip"
                      : "dlq"),
        topo->standby_replicas);
    fprintf(fp, "sources\n");
    for (size_t i = 0; i < topo->n_sources; i++) {
        const Weir__Topology__Source *s = topo->sources[i];
        unsigned parts = weir_job_topic_partitions(topo, s->topic);
        fprintf(fp, "  %s: topic %s (key %s, value %s, %u partition%s%s)\n",
            s->name, s->topic, fmt_name(s->key_format),
            fmt_name(s->value_format), parts, parts == 1 ? "" : "s",
            s->table ? ", table" : "");
    }
    for (size_t i = 0; i < topo->n_subtopologies; i++) {
        const Weir__Topology__Subtopology *sub = topo->subtopologies[i];
        unsigned tasks = weir_job_subtopology_tasks(topo, sub->id);
        fprintf(fp, "subtopology %u: %u task%s", sub->id, tasks,
            tasks == 1 ? "" : "s");
        char name[32];
        for (unsigned p = 0; p < tasks; p++) {
            fprintf(fp, "%s%s", p ? ", " : " (",
                weir_job_task_name(sub->id, p, name, sizeof(name)));
        }
        fprintf(fp, "%s\n", tasks ? ")" : "");
        for (size_t k = 0; k < sub->n_input_topics; k++) {
            fprintf(fp, "  reads %s\n", sub->input_topics[k]);
        }
        for (size_t k = 0; k < sub->n_operators; k++) {
            print_op(sub->operators[k], k, fp);
        }
    }
    fprintf(fp, "stores\n");
    for (size_t i = 0; i < topo->n_stores; i++) {
        const Weir__Topology__Store *s = topo->stores[i];
        fprintf(fp, "  %s (subtopology %u%s), changelog %s%s\n", s->name,
            s->subtopology, s->windowed ? ", windowed" : "", s->changelog_topic,
            s->source_table ? " (the table's own topic)" : "");
    }
    fprintf(fp, "topics\n");
    for (size_t i = 0; i < topo->n_topics; i++) {
        const Weir__Topology__Topic *t = topo->topics[i];
        unsigned parts = weir_job_topic_partitions(topo, t->name);
        fprintf(fp, "  %-11s %s (%u partition%s%s)\n",
            weir_job_topic_role_name(t->role), t->name, parts,
            parts == 1 ? "" : "s", t->compacted ? ", compacted" : "");
    }
}

/* Writes s as a dot string body, escaping quotes and backslashes; a
 * newline becomes dot's "\\n" (a line break in a label). */
static void
dot_str(const char *s, FILE *fp)
{
    for (; *s; s++) {
        if (*s == '\n') {
            fputs("\\n", fp);
            continue;
        }
        if (*s == '"' || *s == '\\') {
            fputc('\\', fp);
        }
        fputc(*s, fp);
    }
}

static void
dot_node(const weir_job_node *nd, const char *indent, FILE *fp)
{
    fprintf(fp, "%s%s [%slabel=\"", indent, nd->id,
        nd->type == WEIR_JOB_NODE_TOPIC ? "shape=ellipse, " : "");
    dot_str(nd->name, fp);
    if (nd->detail[0]) {
        fprintf(fp, "\\n");
        dot_str(nd->detail, fp);
    }
    fprintf(fp, "\"];\n");
}

/* Draws the graph of job_graph.h, the one the dashboard draws too. */
void
weir_job_print_dot(const Weir__Topology__Topology *topo, FILE *fp)
{
    weir_job_graph g;
    if (weir_job_graph_build(topo, &g) != WEIR_OK) {
        fprintf(fp, "// out of memory\n");
        return;
    }
    fprintf(fp, "digraph \"");
    dot_str(topo->job, fp);
    fprintf(fp,
        "\" {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n");
    for (size_t i = 0; i < topo->n_subtopologies; i++) {
        int id = (int)topo->subtopologies[i]->id;
        fprintf(fp, "  subgraph cluster_%d {\n    label=\"subtopology %d\";\n",
            id, id);
        for (size_t n = 0; n < g.n_nodes; n++) {
            if (g.nodes[n].subtopology == id) {
                dot_node(&g.nodes[n], "    ", fp);
            }
        }
        /* Flow within the subtopology stays inside its box. */
        for (size_t e = 0; e < g.n_edges; e++) {
            const weir_job_node *a = &g.nodes[g.edges[e].from];
            const weir_job_node *b = &g.nodes[g.edges[e].to];
            if (a->subtopology == id && b->subtopology == id) {
                fprintf(fp, "    %s -> %s;\n", a->id, b->id);
            }
        }
        fprintf(fp, "  }\n");
    }
    /* Topics as ellipses; changelog writes dashed. */
    for (size_t n = 0; n < g.n_nodes; n++) {
        if (g.nodes[n].type == WEIR_JOB_NODE_TOPIC) {
            dot_node(&g.nodes[n], "  ", fp);
        }
    }
    for (size_t e = 0; e < g.n_edges; e++) {
        const weir_job_node *a = &g.nodes[g.edges[e].from];
        const weir_job_node *b = &g.nodes[g.edges[e].to];
        if (a->type == WEIR_JOB_NODE_OPERATOR &&
            b->type == WEIR_JOB_NODE_OPERATOR) {
            continue;
        }
        fprintf(fp, "  %s -> %s%s;\n", a->id, b->id,
            g.edges[e].type == WEIR_JOB_EDGE_CHANGELOG ? " [style=dashed]"
                                                       : "");
    }
    fprintf(fp, "}\n");
    weir_job_graph_fini(&g);
}
