/* Unit tests of the topology graph (common/job/job_graph.h): the one graph
 * behind `weirctl topology --dot` and the dashboard's /api/jobs/NAME/graph. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/job/job.h"
#include "common/job/job_graph.h"

static Weir__Topology__Topology *
compile_example(const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/examples/%s", WEIR_SOURCE_DIR, name);
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    Weir__Topology__Topology *t = NULL;
    assert_int_equal(weir_job_compile_file(path, &t, &errs), WEIR_OK);
    weir_job_errors_fini(&errs);
    return t;
}

static const weir_job_node *
node(const weir_job_graph *g, const char *id)
{
    for (size_t i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].id, id) == 0)
            return &g->nodes[i];
    fail_msg("no node %s", id);
    return NULL;
}

static bool
has_edge(const weir_job_graph *g, const char *from, const char *to,
    weir_job_edge_type type)
{
    for (size_t i = 0; i < g->n_edges; i++)
        if (strcmp(g->nodes[g->edges[i].from].id, from) == 0 &&
            strcmp(g->nodes[g->edges[i].to].id, to) == 0 &&
            g->edges[i].type == type)
            return true;
    return false;
}

static size_t
topic_index(const Weir__Topology__Topology *t, const char *name)
{
    for (size_t i = 0; i < t->n_topics; i++)
        if (strcmp(t->topics[i]->name, name) == 0)
            return i;
    fail_msg("no topic %s", name);
    return 0;
}

/* Word count: two subtopologies joined by the repartition topic, a count
 * writing its changelog, a sink. */
static void
test_wordcount_graph(void **state)
{
    (void)state;
    Weir__Topology__Topology *t = compile_example("wordcount.yaml");
    weir_job_graph g;
    assert_int_equal(weir_job_graph_build(t, &g), WEIR_OK);
    size_t ops = 0;
    for (size_t s = 0; s < t->n_subtopologies; s++)
        ops += t->subtopologies[s]->n_operators;
    assert_int_equal(g.n_nodes, ops + t->n_topics);
    /* every operator is a node of its subtopology, named as compiled */
    for (size_t s = 0; s < t->n_subtopologies; s++) {
        const Weir__Topology__Subtopology *sub = t->subtopologies[s];
        for (size_t k = 0; k < sub->n_operators; k++) {
            char id[40];
            snprintf(id, sizeof(id), "op_%u_%zu", sub->id, k);
            const weir_job_node *nd = node(&g, id);
            assert_int_equal(nd->type, WEIR_JOB_NODE_OPERATOR);
            assert_int_equal(nd->subtopology, (int)sub->id);
            assert_string_equal(nd->name, sub->operators[k]->name);
            assert_string_equal(
                nd->kind, weir_job_op_kind_name(sub->operators[k]->kind));
        }
    }
    char in[40], rep[40], out[40], cl[40];
    snprintf(in, sizeof(in), "topic_%zu", topic_index(t, "text-lines"));
    snprintf(rep, sizeof(rep), "topic_%zu",
        topic_index(t, t->subtopologies[1]->input_topics[0]));
    snprintf(out, sizeof(out), "topic_%zu", topic_index(t, "wordcounts"));
    snprintf(cl, sizeof(cl), "topic_%zu",
        topic_index(t, "wordcount-counts-changelog"));
    assert_string_equal(node(&g, in)->kind, "input");
    assert_string_equal(node(&g, rep)->kind, "repartition");
    assert_string_equal(node(&g, cl)->kind, "changelog");
    assert_int_equal(node(&g, out)->subtopology, -1);
    /* the flow: input -> source 0, ops in order, repartition topic between
     * the subtopologies, count -> changelog (dashed), sink -> output */
    assert_true(has_edge(&g, in, "op_0_0", WEIR_JOB_EDGE_DATA));
    assert_true(has_edge(&g, "op_0_0", "op_0_1", WEIR_JOB_EDGE_DATA));
    const Weir__Topology__Subtopology *s0 = t->subtopologies[0];
    char last0[40];
    snprintf(last0, sizeof(last0), "op_0_%zu", s0->n_operators - 1);
    assert_true(has_edge(&g, last0, rep, WEIR_JOB_EDGE_DATA));
    assert_true(has_edge(&g, rep, "op_1_0", WEIR_JOB_EDGE_DATA));
    assert_true(has_edge(&g, "op_1_1", cl, WEIR_JOB_EDGE_CHANGELOG));
    assert_string_equal(node(&g, "op_1_1")->kind, "count");
    assert_non_null(strstr(node(&g, "op_1_1")->detail, "store counts"));
    assert_non_null(strstr(node(&g, "op_0_1")->detail, "split(lower(value)"));

    /* JSON names the same nodes and edges */
    weir_buf b;
    weir_buf_init(&b);
    assert_int_equal(weir_job_graph_json(t, &g, &b), WEIR_OK);
    assert_non_null(strstr(b.data, "\"job\":\"wordcount\""));
    assert_non_null(strstr(b.data, "{\"id\":1,\"tasks\":4,"));
    assert_non_null(strstr(b.data, "\"type\":\"changelog\""));
    assert_non_null(strstr(b.data, "\"detail\":[\"store counts\"]"));
    weir_buf_fini(&b);

    /* and the dot output draws this graph: every edge appears */
    char *dot = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&dot, &len);
    weir_job_print_dot(t, fp);
    fclose(fp);
    for (size_t i = 0; i < g.n_edges; i++) {
        char line[100];
        snprintf(line, sizeof(line), "%s -> %s", g.nodes[g.edges[i].from].id,
            g.nodes[g.edges[i].to].id);
        assert_non_null(strstr(dot, line));
    }
    assert_non_null(strstr(dot, "subgraph cluster_1"));
    assert_non_null(strstr(dot, " [style=dashed];"));
    free(dot);
    weir_job_graph_fini(&g);
    weir_job_graph_fini(&g); /* twice: fini leaves an empty graph */
    weir_job_free(t);
}

/* Every example builds, and every edge joins two nodes. */
static void
test_examples_build(void **state)
{
    (void)state;
    const char *names[] = {"access-per-minute.yaml", "ad-attribution.yaml",
        "enrich-clicks.yaml", "page-latency.yaml", "user-sessions.yaml"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        Weir__Topology__Topology *t = compile_example(names[i]);
        weir_job_graph g;
        assert_int_equal(weir_job_graph_build(t, &g), WEIR_OK);
        assert_true(g.n_edges > 0);
        for (size_t e = 0; e < g.n_edges; e++) {
            assert_true(g.edges[e].from < g.n_nodes);
            assert_true(g.edges[e].to < g.n_nodes);
        }
        weir_job_graph_fini(&g);
        weir_job_free(t);
    }
}

/* An empty topology and out-of-range operator inputs. */
static void
test_odd_topologies(void **state)
{
    (void)state;
    Weir__Topology__Topology topo = WEIR__TOPOLOGY__TOPOLOGY__INIT;
    topo.job = "empty";
    weir_job_graph g;
    assert_int_equal(weir_job_graph_build(&topo, &g), WEIR_OK);
    assert_int_equal(g.n_nodes, 0);
    assert_int_equal(g.n_edges, 0);
    weir_job_graph_fini(&g);

    Weir__Topology__Operator op = WEIR__TOPOLOGY__OPERATOR__INIT;
    uint32_t bad_input = 7;
    op.name = "f\n\"x\"";
    op.kind = WEIR__TOPOLOGY__OP_KIND__OP_FILTER;
    op.inputs = &bad_input;
    op.n_inputs = 1;
    Weir__Topology__Operator *ops[] = {&op};
    Weir__Topology__Subtopology sub = WEIR__TOPOLOGY__SUBTOPOLOGY__INIT;
    sub.operators = ops;
    sub.n_operators = 1;
    Weir__Topology__Subtopology *subs[] = {&sub};
    topo.subtopologies = subs;
    topo.n_subtopologies = 1;
    assert_int_equal(weir_job_graph_build(&topo, &g), WEIR_OK);
    assert_int_equal(g.n_nodes, 1);
    assert_int_equal(g.n_edges, 0);
    weir_buf b;
    weir_buf_init(&b);
    assert_int_equal(weir_job_graph_json(&topo, &g, &b), WEIR_OK);
    assert_non_null(strstr(b.data, "\"name\":\"f\\n\\\"x\\\"\""));
    weir_buf_fini(&b);
    weir_job_graph_fini(&g);
    weir_job_graph_fini(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wordcount_graph),
        cmocka_unit_test(test_examples_build),
        cmocka_unit_test(test_odd_topologies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
