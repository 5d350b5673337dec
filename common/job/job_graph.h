/*
 * The graph of a compiled topology: operators (grouped by subtopology) and
 * the job's topics as nodes, data flow and changelog writes as edges.
 *
 * One builder for every picture of a job: `weirctl topology --dot`
 * (weir_job_print_dot renders this graph as Graphviz) and the
 * coordinator's dashboard (/api/jobs/NAME/graph, weir_job_graph_json), so
 * the two cannot drift apart.
 *
 * Node ids are stable for a topology: "op_S_K" is operator K of
 * subtopology S, "topic_I" is topic I of Topology.topics. Edges:
 *   topic -> source operator        (the source reads the topic)
 *   operator -> operator            (Operator.inputs, within a subtopology)
 *   sink/repartition -> topic       (the operator writes the topic)
 *   stateful operator -> changelog  (WEIR_JOB_EDGE_CHANGELOG)
 * A repartition topic therefore links two subtopologies.
 *
 * Pure functions: no I/O, no global state, callable from any thread.
 */
#ifndef WEIR_COMMON_JOB_GRAPH_H
#define WEIR_COMMON_JOB_GRAPH_H

#include <stddef.h>

#include "common/buf.h"
#include "proto/topology.pb-c.h"

typedef enum weir_job_node_type {
    WEIR_JOB_NODE_OPERATOR,
    WEIR_JOB_NODE_TOPIC,
} weir_job_node_type;

typedef enum weir_job_edge_type {
    WEIR_JOB_EDGE_DATA,
    WEIR_JOB_EDGE_CHANGELOG, /* a store's writes to its changelog topic */
} weir_job_edge_type;

typedef struct weir_job_node {
    weir_job_node_type type;
    char id[40];      /* "op_S_K" or "topic_I" */
    const char *kind; /* operator kind ("source", "count", ...) or topic
                         role ("input", "repartition", ...); static */
    const char *name; /* operator or topic name, borrowed from the topology */
    int subtopology;  /* an operator's subtopology id; -1 for a topic */
    char *detail;     /* malloc'd: lines under the name, '\n' between them
                         (expression, window, store); "" when none */
} weir_job_node;

typedef struct weir_job_edge {
    size_t from, to; /* indices into nodes */
    weir_job_edge_type type;
} weir_job_edge;

typedef struct weir_job_graph {
    weir_job_node *nodes; /* operators of each subtopology in order, then
                             topics in Topology.topics order */
    size_t n_nodes;
    weir_job_edge *edges;
    size_t n_edges;
} weir_job_graph;

/*
 * Builds the graph of topo into *g (which the caller owns; free with
 * weir_job_graph_fini). Strings in nodes other than detail are borrowed
 * from topo, which must outlive g. WEIR_ENOMEM: out of memory, *g empty.
 */
int weir_job_graph_build(
    const Weir__Topology__Topology *topo, weir_job_graph *g);

/* Frees what weir_job_graph_build allocated; accepts NULL and an empty
 * (zeroed) graph. */
void weir_job_graph_fini(weir_job_graph *g);

/*
 * Appends the graph as one JSON object to out:
 *   {"job":NAME,"subtopologies":[{"id":S,"tasks":N,"input_topics":[..]}],
 *    "nodes":[{"id","type":"operator"|"topic","kind","name",
 *              "subtopology","detail":[lines]}],
 *    "edges":[{"from":ID,"to":ID,"type":"data"|"changelog"}]}
 * Returns the buffer's sticky error (WEIR_ENOMEM) or WEIR_OK.
 */
int weir_job_graph_json(const Weir__Topology__Topology *topo,
    const weir_job_graph *g, weir_buf *out);

/* "source", "filter", ... for an operator kind; "unknown" otherwise. */
const char *weir_job_op_kind_name(Weir__Topology__OpKind kind);
/* "input", "output", "repartition", "changelog", "dlq"; "unknown". */
const char *weir_job_topic_role_name(Weir__Topology__TopicRole role);

#endif
