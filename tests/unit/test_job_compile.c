/* common/job/job_*.c: the examples compile to the expected topology; bad
 * job files report every error with its line and column. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/expr/expr.h"
#include "common/job/job.h"

#define OPK(x) WEIR__TOPOLOGY__OP_KIND__OP_##x

static Weir__Topology__Topology *
compile_ok(const char *yaml)
{
    Weir__Topology__Topology *t = NULL;
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    int rv = weir_job_compile(yaml, strlen(yaml), "test.yaml", &t, &errs);
    if (rv != WEIR_OK) {
        weir_job_errors_print(&errs, stderr);
        weir_job_errors_fini(&errs);
        fail_msg("compile failed");
    }
    assert_int_equal(errs.count, 0);
    weir_job_errors_fini(&errs);
    return t;
}

/* Compiles and returns the errors printed, one per line. */
static char *
compile_errors(const char *yaml)
{
    Weir__Topology__Topology *t = NULL;
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    int rv = weir_job_compile(yaml, strlen(yaml), "bad.yaml", &t, &errs);
    assert_int_equal(rv, WEIR_EPARSE);
    assert_null(t);
    assert_true(errs.count > 0);
    char *out = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&out, &len);
    weir_job_errors_print(&errs, fp);
    fclose(fp);
    weir_job_errors_fini(&errs);
    return out;
}

static void
expect_errors(const char *yaml, const char *expected)
{
    char *got = compile_errors(yaml);
    if (strcmp(got, expected) != 0) {
        fprintf(stderr, "--- expected\n%s--- got\n%s", expected, got);
        free(got);
        fail_msg("errors differ");
    }
    free(got);
}

static const Weir__Topology__Topic *
topic(const Weir__Topology__Topology *t, const char *name)
{
    for (size_t i = 0; i < t->n_topics; i++) {
        if (strcmp(t->topics[i]->name, name) == 0) {
            return t->topics[i];
        }
    }
    fail_msg("no topic %s", name);
    return NULL;
}

/* Every expression of the topology parses again in its operator's env. */
static void
reparse_all(const Weir__Topology__Topology *t)
{
    for (size_t s = 0; s < t->n_subtopologies; s++) {
        const Weir__Topology__Subtopology *sub = t->subtopologies[s];
        for (size_t k = 0; k < sub->n_operators; k++) {
            const Weir__Topology__Operator *op = sub->operators[k];
            const Weir__Topology__Expr *es[] = {op->predicate, op->key,
                op->value, op->window ? op->window->time : NULL};
            for (size_t i = 0; i < 4; i++) {
                if (es[i] == NULL) {
                    continue;
                }
                weir_expr *e = NULL;
                weir_expr_error err;
                if (weir_expr_parse_op(op, es[i], &e, &err) != WEIR_OK) {
                    fail_msg("%s: %s: %s", op->name, es[i]->text, err.msg);
                }
                assert_int_equal(weir_expr_type(e).type, es[i]->type);
                weir_expr_free(e);
            }
        }
    }
}

static char *
read_example(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/examples/%s", WEIR_SOURCE_DIR, name);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *data = malloc(1 << 16);
    *len = fread(data, 1, (1 << 16) - 1, fp);
    data[*len] = '\0';
    fclose(fp);
    return data;
}

static void
test_wordcount(void **state)
{
    Weir__Topology__Topology *t = NULL;
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    char path[512];
    snprintf(path, sizeof(path), "%s/examples/wordcount.yaml", WEIR_SOURCE_DIR);
    assert_int_equal(weir_job_compile_file(path, &t, &errs), WEIR_OK);
    weir_job_errors_fini(&errs);
    assert_string_equal(t->job, "wordcount");
    assert_int_equal(t->version, 1);
    assert_int_equal(t->guarantee, WEIR__TOPOLOGY__GUARANTEE__EXACTLY_ONCE);
    assert_int_equal(t->commit_interval_ms, 100);
    assert_int_equal(t->standby_replicas, 1);
    assert_int_equal(t->on_error, WEIR__TOPOLOGY__ON_ERROR__ON_ERROR_DLQ);
    assert_string_equal(t->dlq_topic, "wordcount-dlq");
    assert_string_equal(t->spec_path, path);
    assert_non_null(strstr(t->spec_yaml, "flat_map_values"));
    assert_int_equal(t->n_sources, 1);
    assert_string_equal(t->sources[0]->topic, "text-lines");
    assert_int_equal(t->n_subtopologies, 2);

    const Weir__Topology__Subtopology *s0 = t->subtopologies[0];
    assert_int_equal(s0->n_input_topics, 1);
    assert_string_equal(s0->input_topics[0], "text-lines");
    static const int kinds0[] = {OPK(SOURCE), OPK(FLAT_MAP_VALUES), OPK(FILTER),
        OPK(SELECT_KEY), OPK(REPARTITION)};
    assert_int_equal(s0->n_operators, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(s0->operators[i]->kind, kinds0[i]);
        if (i > 0) {
            assert_int_equal(s0->operators[i]->n_inputs, 1);
            assert_int_equal(s0->operators[i]->inputs[0], i - 1);
        }
    }
    assert_string_equal(s0->operators[1]->name, "flat_map_values-2");
    assert_string_equal(
        s0->operators[1]->value->text, "split(lower(value), '[^a-z0-9]+')");
    assert_int_equal(
        s0->operators[1]->value->type, WEIR__TOPOLOGY__VALUE_TYPE__TYPE_LIST);
    assert_int_equal(s0->operators[1]->value->line, 8);
    assert_int_equal(s0->operators[1]->value->column, 22);
    assert_int_equal(
        s0->operators[2]->value_type, WEIR__TOPOLOGY__VALUE_TYPE__TYPE_STRING);
    assert_string_equal(s0->operators[2]->predicate->text, "value != ''");
    assert_string_equal(s0->operators[3]->key->text, "value");
    assert_string_equal(
        s0->operators[4]->topic, "wordcount-counts-repartition");

    const Weir__Topology__Subtopology *s1 = t->subtopologies[1];
    assert_string_equal(s1->input_topics[0], "wordcount-counts-repartition");
    assert_int_equal(s1->n_operators, 3);
    assert_int_equal(s1->operators[0]->kind, OPK(SOURCE));
    assert_int_equal(s1->operators[1]->kind, OPK(COUNT));
    assert_string_equal(s1->operators[1]->store, "counts");
    assert_int_equal(s1->operators[2]->kind, OPK(SINK));
    assert_string_equal(s1->operators[2]->topic, "wordcounts");
    assert_int_equal(
        s1->operators[2]->value_format, WEIR__TOPOLOGY__FORMAT__FORMAT_STRING);
    assert_int_equal(
        s1->operators[2]->value_type, WEIR__TOPOLOGY__VALUE_TYPE__TYPE_INT);
    assert_int_equal(s1->n_stores, 1);

    assert_int_equal(t->n_stores, 1);
    assert_string_equal(
        t->stores[0]->changelog_topic, "wordcount-counts-changelog");
    assert_int_equal(t->stores[0]->subtopology, 1);
    assert_int_equal(t->n_topics, 5);
    assert_int_equal(
        topic(t, "text-lines")->role, WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_INPUT);
    assert_int_equal(topic(t, "text-lines")->partitions, 4);
    assert_true(topic(t, "wordcount-counts-changelog")->compacted);
    assert_int_equal(
        topic(t, "wordcount-dlq")->role, WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_DLQ);
    assert_int_equal(
        topic(t, "wordcounts")->role, WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_OUTPUT);
    assert_int_equal(weir_job_topic_partitions(t, "wordcount-dlq"), 4);
    assert_int_equal(weir_job_topic_partitions(t, "nope"), 0);
    assert_int_equal(weir_job_subtopology_tasks(t, 1), 4);
    char buf[64];
    assert_string_equal(weir_job_task_name(1, 3, buf, sizeof(buf)), "1_3");
    assert_string_equal(
        weir_job_transactional_id("wordcount", 0, 2, buf, sizeof(buf)),
        "wordcount-0_2");
    reparse_all(t);

    /* The printed summary and dot graph name the parts. */
    char *out = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&out, &len);
    weir_job_print(t, fp);
    weir_job_print_dot(t, fp);
    fclose(fp);
    assert_non_null(strstr(out, "subtopology 1: 4 tasks (1_0, 1_1, 1_2, 1_3)"));
    assert_non_null(strstr(out, "counts (subtopology 1), changelog "
                                "wordcount-counts-changelog"));
    assert_non_null(strstr(out, "digraph \"wordcount\""));
    assert_non_null(strstr(out, "op_0_3 -> op_0_4;"));
    free(out);

    /* The compiled form survives a pack/unpack round trip. */
    size_t n = weir__topology__topology__get_packed_size(t);
    uint8_t *packed = malloc(n);
    weir__topology__topology__pack(t, packed);
    Weir__Topology__Topology *u =
        weir__topology__topology__unpack(NULL, n, packed);
    assert_non_null(u);
    assert_string_equal(u->subtopologies[0]->operators[1]->value->text,
        s0->operators[1]->value->text);
    reparse_all(u);
    weir_job_free(u);
    free(packed);
    weir_job_free(t);
}

static void
test_access_per_minute(void **state)
{
    size_t len;
    char *yaml = read_example("access-per-minute.yaml", &len);
    Weir__Topology__Topology *t = compile_ok(yaml);
    free(yaml);
    assert_int_equal(t->n_subtopologies, 2);
    const Weir__Topology__Subtopology *s1 = t->subtopologies[1];
    const Weir__Topology__Operator *count = s1->operators[1];
    assert_int_equal(count->kind, OPK(COUNT));
    assert_non_null(count->window);
    assert_int_equal(
        count->window->kind, WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_TUMBLING);
    assert_int_equal(count->window->size_ms, 60000);
    assert_int_equal(count->window->advance_ms, 60000);
    assert_int_equal(count->window->grace_ms, 30000);
    assert_int_equal(count->window->emit, WEIR__TOPOLOGY__EMIT__EMIT_UPDATE);
    assert_string_equal(count->window->time->text, "value");
    assert_int_equal(
        count->window->time->type, WEIR__TOPOLOGY__VALUE_TYPE__TYPE_TIME);
    assert_true(t->stores[0]->windowed);
    assert_true(s1->operators[2]->windowed);
    assert_int_equal(
        s1->operators[0]->value_format, WEIR__TOPOLOGY__FORMAT__FORMAT_INT64);
    assert_int_equal(weir_job_topic_partitions(t, "access_summary"), 1);
    reparse_all(t);

    /* The event-time expression reads every sample line but the two
     * malformed ones. */
    const Weir__Topology__Operator *mv = t->subtopologies[0]->operators[1];
    weir_expr *e = NULL;
    weir_expr_error err;
    assert_int_equal(weir_expr_parse_op(mv, mv->value, &e, &err), WEIR_OK);
    char *log = read_example("data/access.log", &len);
    weir_arena arena;
    weir_arena_init(&arena, 0);
    int good = 0, bad = 0;
    int64_t first = INT64_MAX, last = 0;
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
        weir_value v = weir_value_string(line, strlen(line)), out;
        weir_expr_ctx ctx = {.value = &v, .arena = &arena};
        if (weir_expr_eval(e, &ctx, &out, &err) == WEIR_OK) {
            assert_int_equal(out.type, WEIR_TYPE_TIME);
            first = out.u.i < first ? out.u.i : first;
            last = out.u.i > last ? out.u.i : last;
            good++;
        } else {
            bad++;
        }
        weir_arena_reset(&arena);
    }
    assert_int_equal(bad, 2);
    assert_int_equal(good, 197);
    assert_int_equal(first, 1641038400000LL); /* 2022-01-01 12:00:00 */
    assert_true(last < 1641038400000LL + 4 * 60000);
    weir_arena_fini(&arena);
    weir_expr_free(e);
    free(log);
    weir_job_free(t);
}

static void
test_every_operator(void **state)
{
    Weir__Topology__Topology *t = compile_ok(
        "job: shop\n"
        "guarantee: at_least_once\n"
        "commit_interval_ms: 250\n"
        "on_error: skip\n"
        "standby_replicas: 0\n"
        "sources:\n"
        "  orders: {topic: orders, key: string, value: json, partitions: 8}\n"
        "pipeline:\n"
        "  - from: orders\n"
        "  - filter: \"value.amount > 0\"\n"
        "  - peek:\n"
        "  - map: {key: \"to_string(value.user.id)\", value: \"value\"}\n"
        "  - map_values: \"to_float(to_string(value.amount))\"\n"
        "  - group_by: key\n"
        "  - window: {type: hopping, size: 10m, advance: 1m, grace: 1s, emit: "
        "final}\n"
        "  - aggregate: {function: sum, store: spend}\n"
        "  - to: {topic: spend-by-user, value: json, partitions: 2}\n"
        "  - group_by: {key: \"'total'\", name: totals}\n"
        "  - reduce: \"agg + value\"\n"
        "  - select_key: \"concat(key, '!')\"\n"
        "  - to: totals\n");
    assert_int_equal(t->guarantee, WEIR__TOPOLOGY__GUARANTEE__AT_LEAST_ONCE);
    assert_int_equal(t->commit_interval_ms, 250);
    assert_int_equal(t->on_error, WEIR__TOPOLOGY__ON_ERROR__ON_ERROR_SKIP);
    assert_int_equal(t->standby_replicas, 0);
    assert_int_equal(t->n_subtopologies, 3);
    /* group_by: key after map repartitions without a select_key. */
    const Weir__Topology__Subtopology *s0 = t->subtopologies[0];
    assert_int_equal(s0->n_operators, 6);
    assert_int_equal(s0->operators[2]->kind, OPK(PEEK));
    assert_null(s0->operators[2]->value);
    assert_int_equal(s0->operators[5]->kind, OPK(REPARTITION));
    assert_string_equal(s0->operators[5]->topic, "shop-spend-repartition");
    /* A windowed sum emitting final is pre-aggregated: the repartition
     * carries partials (bytes) that the aggregation merges. */
    assert_true(s0->operators[5]->partials);
    assert_int_equal(
        s0->operators[5]->value_format, WEIR__TOPOLOGY__FORMAT__FORMAT_BYTES);
    const Weir__Topology__Subtopology *s1 = t->subtopologies[1];
    assert_true(s1->operators[0]->partials);
    assert_int_equal(
        s1->operators[0]->value_type, WEIR__TOPOLOGY__VALUE_TYPE__TYPE_BYTES);
    assert_true(s1->operators[1]->partials);
    const Weir__Topology__Operator *agg = s1->operators[1];
    assert_int_equal(agg->kind, OPK(AGGREGATE));
    assert_int_equal(agg->agg, WEIR__TOPOLOGY__AGG_FUNC__AGG_SUM);
    assert_int_equal(
        agg->window->kind, WEIR__TOPOLOGY__WINDOW_KIND__WINDOW_HOPPING);
    assert_int_equal(agg->window->advance_ms, 60000);
    assert_int_equal(agg->window->emit, WEIR__TOPOLOGY__EMIT__EMIT_FINAL);
    /* The sink reads the aggregation; the next group_by does too. */
    assert_int_equal(s1->operators[2]->kind, OPK(SINK));
    assert_int_equal(s1->operators[2]->inputs[0], 1);
    assert_int_equal(s1->operators[3]->kind, OPK(SELECT_KEY));
    assert_int_equal(s1->operators[3]->inputs[0], 1);
    assert_string_equal(s1->operators[4]->topic, "shop-totals-repartition");
    const Weir__Topology__Subtopology *s2 = t->subtopologies[2];
    assert_int_equal(s2->operators[1]->kind, OPK(REDUCE));
    assert_string_equal(s2->operators[1]->store, "reduce-11");
    assert_int_equal(
        s2->operators[1]->value->type, WEIR__TOPOLOGY__VALUE_TYPE__TYPE_FLOAT);
    assert_int_equal(t->n_stores, 2);
    assert_int_equal(weir_job_topic_partitions(t, "spend-by-user"), 2);
    assert_int_equal(weir_job_topic_partitions(t, "totals"), 8);
    assert_int_equal(weir_job_subtopology_tasks(t, 2), 8);
    reparse_all(t);
    weir_job_free(t);

    /* group_by on the unchanged key needs no repartition. */
    t = compile_ok("job: j\n"
                   "sources: {s: {topic: in, value: int64}}\n"
                   "pipeline:\n"
                   "  - from: s\n"
                   "  - group_by: key\n"
                   "  - window: {type: tumbling, size: 5m}\n"
                   "  - aggregate: {function: max, value: \"value * 2\"}\n"
                   "  - to: {topic: out, value: int64}\n");
    assert_int_equal(t->n_subtopologies, 1);
    assert_int_equal(t->subtopologies[0]->n_operators, 3);
    assert_string_equal(t->stores[0]->name, "aggregate-4");
    assert_int_equal(
        t->subtopologies[0]->operators[1]->window->size_ms, 300000);
    weir_job_free(t);
}

/* emit: on aggregations and windows, and where pre-aggregation applies. */
static void
test_emit_modes(void **state)
{
    (void)state;
    static const struct {
        const char *steps;
        Weir__Topology__Emit emit;
        bool partials;
    } cases[] = {
        {"  - count: {store: c}\n", WEIR__TOPOLOGY__EMIT__EMIT_UPDATE, false},
        {"  - count: {store: c, emit: update}\n",
            WEIR__TOPOLOGY__EMIT__EMIT_UPDATE, false},
        {"  - count: {store: c, emit: latest}\n",
            WEIR__TOPOLOGY__EMIT__EMIT_LATEST, true},
        {"  - aggregate: {function: avg, value: to_int(value), emit: latest}\n",
            WEIR__TOPOLOGY__EMIT__EMIT_LATEST, true},
        {"  - reduce: {value: \"concat(agg, value)\", emit: latest}\n",
            WEIR__TOPOLOGY__EMIT__EMIT_LATEST, false},
        {"  - reduce: {value: \"concat(agg, value)\", emit: latest, "
         "associative: true}\n",
            WEIR__TOPOLOGY__EMIT__EMIT_LATEST, true},
        {"  - window: {type: tumbling, size: 1m, emit: latest}\n"
         "  - count:\n",
            WEIR__TOPOLOGY__EMIT__EMIT_LATEST, true},
        {"  - window: {type: tumbling, size: 1m}\n"
         "  - count: {emit: final}\n",
            WEIR__TOPOLOGY__EMIT__EMIT_FINAL, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[1024];
        snprintf(yaml, sizeof(yaml),
            "job: j\n"
            "sources: {s: {topic: in}}\n"
            "pipeline:\n"
            "  - from: s\n"
            "  - group_by: value\n"
            "%s"
            "  - to: out\n",
            cases[i].steps);
        Weir__Topology__Topology *t = compile_ok(yaml);
        const Weir__Topology__Subtopology *s0 = t->subtopologies[0];
        const Weir__Topology__Operator *rep =
            s0->operators[s0->n_operators - 1];
        const Weir__Topology__Operator *agg = t->subtopologies[1]->operators[1];
        assert_int_equal(agg->emit, cases[i].emit);
        if (agg->window != NULL) {
            assert_int_equal(agg->window->emit, cases[i].emit);
        }
        assert_int_equal(rep->partials, cases[i].partials);
        assert_int_equal(agg->partials, cases[i].partials);
        weir_job_free(t);
    }
    /* The same key needs no repartition: nothing to pre-aggregate. */
    Weir__Topology__Topology *t = compile_ok("job: j\n"
                                             "sources: {s: {topic: in}}\n"
                                             "pipeline:\n"
                                             "  - from: s\n"
                                             "  - group_by: key\n"
                                             "  - count: {emit: latest}\n"
                                             "  - to: out\n");
    assert_int_equal(t->n_subtopologies, 1);
    assert_false(t->subtopologies[0]->operators[1]->partials);
    weir_job_free(t);
    expect_errors("job: j\n"
                  "sources: {s: {topic: in}}\n"
                  "pipeline:\n"
                  "  - from: s\n"
                  "  - group_by: value\n"
                  "  - count: {emit: final}\n"
                  "  - group_by: value\n"
                  "  - window: {type: tumbling, size: 1m, emit: final}\n"
                  "  - count: {emit: latest, store: c2}\n"
                  "  - group_by: value\n"
                  "  - reduce: {value: agg, associative: maybe, store: c3}\n"
                  "  - group_by: value\n"
                  "  - window: {type: tumbling, size: 1m, emit: soon}\n"
                  "  - count: {store: c4}\n"
                  "  - to: out\n",
        "bad.yaml:6:19: error: count emit: expected update or latest, found "
        "'final' (final needs a window: before it)\n"
        "bad.yaml:9:19: error: count emit: the window says emit final (say it "
        "in one place)\n"
        "bad.yaml:11:39: error: reduce associative: expected true or false, "
        "found 'maybe'\n"
        "bad.yaml:13:46: error: window emit: expected update, final or latest, "
        "found 'soon'\n");
}

/* join: a stream with a table source: the table's topic is a second input
 * of the stream's subtopology, read into a store whose changelog is the
 * topic itself; a changed key is repartitioned first. */
static void
test_stream_table_join(void **state)
{
    (void)state;
    Weir__Topology__Topology *t = compile_ok(
        "job: j\n"
        "sources:\n"
        "  clicks: {topic: clicks, value: json}\n"
        "  users: {topic: users, value: json, table: true}\n"
        "pipeline:\n"
        "  - from: clicks\n"
        "  - join: {with: users, type: left, value: \"{p: value.page, c: "
        "right.country}\"}\n"
        "  - to: out\n");
    assert_int_equal(t->n_subtopologies, 1);
    const Weir__Topology__Subtopology *s0 = t->subtopologies[0];
    assert_int_equal(s0->n_input_topics, 2);
    assert_string_equal(s0->input_topics[1], "users");
    const Weir__Topology__Operator *tab = s0->operators[1];
    assert_int_equal(tab->kind, WEIR__TOPOLOGY__OP_KIND__OP_SOURCE);
    assert_true(tab->table);
    assert_int_equal(tab->n_inputs, 0);
    assert_string_equal(tab->table_store, "users");
    const Weir__Topology__Operator *join = s0->operators[2];
    assert_int_equal(join->kind, WEIR__TOPOLOGY__OP_KIND__OP_STREAM_TABLE_JOIN);
    assert_int_equal(join->join_type, WEIR__TOPOLOGY__JOIN_TYPE__JOIN_LEFT);
    assert_int_equal(join->inputs[0], 0);
    assert_int_equal(join->right_type, WEIR__TOPOLOGY__VALUE_TYPE__TYPE_JSON);
    assert_int_equal(join->value->type, WEIR__TOPOLOGY__VALUE_TYPE__TYPE_JSON);
    assert_int_equal(t->n_stores, 1);
    assert_true(t->stores[0]->source_table);
    assert_string_equal(t->stores[0]->changelog_topic, "users");
    assert_true(t->sources[1]->table);
    weir_job_free(t);

    /* A new key is repartitioned before the join. */
    t = compile_ok(
        "job: j\n"
        "sources:\n"
        "  clicks: {topic: clicks, value: json}\n"
        "  users: {topic: users, table: true}\n"
        "pipeline:\n"
        "  - from: clicks\n"
        "  - select_key: value.user\n"
        "  - join: {with: users, value: \"concat(value.page, right)\"}\n"
        "  - to: out\n");
    assert_int_equal(t->n_subtopologies, 2);
    assert_non_null(topic(t, "j-join-users-repartition"));
    assert_int_equal(t->subtopologies[1]->n_input_topics, 2);
    weir_job_free(t);

    t = compile_ok("job: j\n"
                   "sources:\n"
                   "  imp: {topic: impressions, value: json}\n"
                   "  clk: {topic: clicks, value: json}\n"
                   "pipeline:\n"
                   "  - from: imp\n"
                   "  - join: {with: clk, within: 10m, grace: 1m, type: outer,"
                   " value: \"{a: value.x, b: right.y}\"}\n"
                   "  - to: out\n");
    assert_int_equal(t->n_subtopologies, 1);
    const Weir__Topology__Subtopology *sub = t->subtopologies[0];
    assert_int_equal(sub->n_input_topics, 2);
    assert_int_equal(sub->n_operators, 4);
    const Weir__Topology__Operator *j = sub->operators[2];
    assert_int_equal(j->kind, WEIR__TOPOLOGY__OP_KIND__OP_STREAM_STREAM_JOIN);
    assert_int_equal(j->n_inputs, 2);
    assert_int_equal(j->inputs[0], 0);
    assert_int_equal(j->inputs[1], 1);
    assert_int_equal(j->join_window_ms, 600000);
    assert_int_equal(j->join_grace_ms, 60000);
    assert_int_equal(j->join_type, WEIR__TOPOLOGY__JOIN_TYPE__JOIN_OUTER);
    assert_string_equal(j->store, "join-2");
    assert_non_null(topic(t, "j-join-2-changelog"));
    weir_job_free(t);
    expect_errors("job: j\n"
                  "sources:\n"
                  "  s: {topic: in}\n"
                  "  c: {topic: clicks}\n"
                  "  u: {topic: users, table: true}\n"
                  "pipeline:\n"
                  "  - from: s\n"
                  "  - join: {with: s, within: 1m, value: right}\n"
                  "  - join: {with: c, within: soon, value: right}\n"
                  "  - join: {with: u, grace: 1m, value: right}\n"
                  "  - join: {with: c, within: 1m, type: cross, value: right}\n"
                  "  - to: out\n",
        "bad.yaml:8:18: error: join: topic in is read here already (a stream "
        "cannot be joined with itself)\n"
        "bad.yaml:9:29: error: join within: expected a duration such as "
        "500ms, 10s, 1m, 1h (or ms), found 'soon'\n"
        "bad.yaml:10:28: error: join: grace: is for stream-stream joins "
        "(within:)\n"
        "bad.yaml:11:39: error: join type: expected inner, left or outer, "
        "found 'cross'\n");

    /* A joined source without a topic (found by job.fuzz_job). */
    expect_errors("job: j\n"
                  "sources:\n"
                  "  s: {topic: in}\n"
                  "  u: {value: json, table: true}\n"
                  "pipeline:\n"
                  "  - from: s\n"
                  "  - join: {with: u, value: right}\n"
                  "  - to: out\n",
        "bad.yaml:4:6: error: source 'u': missing key 'topic'\n");
    expect_errors("job: j\n"
                  "sources:\n"
                  "  s: {topic: in, partitions: 8}\n"
                  "  u: {topic: users, table: true}\n"
                  "  v: {topic: other}\n"
                  "pipeline:\n"
                  "  - from: s\n"
                  "  - join: {with: u, value: right}\n"
                  "  - join: {with: v, value: right}\n"
                  "  - join: {with: w, type: outer, value: right}\n"
                  "  - join: {with: u, within: 10m, value: right}\n"
                  "  - join: {with: u}\n"
                  "  - map_values: right\n"
                  "  - to: out\n",
        "bad.yaml:8:5: error: join: 's' (topic in) has 8 partitions and 'u' "
        "(topic users) has 4: a join needs both sides partitioned alike\n"
        "bad.yaml:9:18: error: join: 'v' is a stream: join it within: a time "
        "(or declare it a table with table: true)\n"
        "bad.yaml:10:18: error: join: unknown source 'w'\n"
        "bad.yaml:10:27: error: join type: expected inner or left for a "
        "table, found 'outer'\n"
        "bad.yaml:11:29: error: join: within: is for joining a stream; 'u' is "
        "a table\n"
        "bad.yaml:12:11: error: join: missing key 'value'\n"
        "bad.yaml:13:17: error: map_values: 'right' is only defined in a "
        "join\n");
    expect_errors("job: j\n"
                  "sources:\n"
                  "  u: {topic: users, table: true}\n"
                  "pipeline:\n"
                  "  - from: u\n"
                  "  - to: out\n",
        "bad.yaml:5:11: error: from: 'u' is a table (join it to a stream: "
        "join: { with: u })\n");
}

static void
test_yaml_errors(void **state)
{
    expect_errors("job: [\n", "bad.yaml:2:1: error: YAML: did not find "
                              "expected node content while parsing a flow "
                              "node\n");
    expect_errors("", "bad.yaml: error: empty job file\n");
    /* Deep flow nesting is refused before libyaml (quadratic on it) runs;
     * brackets in quotes and comments do not count. */
    char deep[200000];
    memset(deep, '[', sizeof(deep) - 1);
    deep[sizeof(deep) - 1] = '\0';
    expect_errors(deep,
        "bad.yaml:1:65: error: YAML: collections nested more than 64 "
        "deep\n");
    char quoted[400];
    snprintf(quoted, sizeof(quoted), "job: '%0100d' # [[[[[[[[\n", 0);
    memset(quoted + 6, '[', 100);
    expect_errors(quoted,
        "bad.yaml:1:1: error: missing key 'sources' (the input topics)\n"
        "bad.yaml:1:1: error: missing key 'pipeline' (the operators)\n"
        "bad.yaml:1:6: error: job: '"
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[' is not a valid "
        "name (expected letters, digits, '.', '_' or '-', at most 200)\n");
    expect_errors("job: a\n---\njob: b\n",
        "bad.yaml:1:1: error: missing key 'sources' (the input topics)\n"
        "bad.yaml:1:1: error: missing key 'pipeline' (the operators)\n"
        "bad.yaml:3:1: error: a job file holds one YAML document\n");
    expect_errors("- a\n", "bad.yaml:1:1: error: job file: expected a "
                           "mapping, found a list\n");
    expect_errors("job: x\n\tsources: {}\n",
        "bad.yaml:2:1: error: YAML: found a tab character that violates "
        "indentation while scanning a plain scalar\n");
}

static void
test_structure_errors(void **state)
{
    expect_errors("jobb: x\n"
                  "guarantee: maybe\n"
                  "commit_interval_ms: 0\n"
                  "standby_replicas: -1\n"
                  "on_error: retry\n",
        "bad.yaml:1:1: error: job file: unknown key 'jobb' (expected one of: "
        "job, guarantee, commit_interval_ms, on_error, standby_replicas, "
        "max_task_idle_ms, "
        "sources, pipeline)\n"
        "bad.yaml:1:1: error: missing key 'job' (the job's name)\n"
        "bad.yaml:1:1: error: missing key 'sources' (the input topics)\n"
        "bad.yaml:1:1: error: missing key 'pipeline' (the operators)\n"
        "bad.yaml:2:12: error: guarantee: expected exactly_once or "
        "at_least_once, found 'maybe'\n"
        "bad.yaml:3:21: error: commit_interval_ms: expected an integer from 1 "
        "to 600000, found '0'\n"
        "bad.yaml:4:19: error: standby_replicas: expected an integer from 0 "
        "to 16, found '-1'\n"
        "bad.yaml:5:11: error: on_error: expected dlq, fail or skip, found "
        "'retry'\n");
    expect_errors("job: a b\n"
                  "job: c\n"
                  "sources:\n"
                  "  s: {topic: t, key: avro, colour: red, partitions: 0}\n"
                  "  u: {key: string}\n"
                  "  w: [1]\n"
                  "pipeline:\n"
                  "  - from: s\n"
                  "  - to: out\n",
        "bad.yaml:1:6: error: job: 'a b' is not a valid name (expected "
        "letters, digits, '.', '_' or '-', at most 200)\n"
        "bad.yaml:2:1: error: job file: key 'job' given more than once\n"
        "bad.yaml:4:22: error: source 's': unknown format 'avro' (expected "
        "string, bytes, int64 or json)\n"
        "bad.yaml:4:28: error: source 's': unknown key 'colour' (expected one "
        "of: topic, key, value, partitions, table)\n"
        "bad.yaml:4:53: error: source 's': expected an integer from 1 to "
        "10000, found '0'\n"
        "bad.yaml:5:6: error: source 'u': missing key 'topic'\n"
        "bad.yaml:6:6: error: source 'w': expected a mapping, found a list\n");
}

static void
test_pipeline_errors(void **state)
{
    expect_errors("job: j\n"
                  "sources: {lines: {topic: in}, other: {topic: in2}}\n"
                  "pipeline:\n"
                  "  - filter: \"value != ''\"\n"
                  "  - from: lines\n"
                  "  - frobnicate: 1\n"
                  "  - filter: \"value +\"\n"
                  "  - map_values: 'upper(value, 1)'\n"
                  "  - filter: \"len(value)\"\n"
                  "  - flat_map_values: \"lower(value)\"\n"
                  "  - count: {}\n"
                  "  - {to: x, filter: y}\n"
                  "  - just a string\n"
                  "  - to: {topic: in}\n",
        "bad.yaml:2:31: error: source 'other' is not used by the pipeline\n"
        "bad.yaml:4:5: error: pipeline: expected the first step to be 'from: "
        "<source>'\n"
        "bad.yaml:5:5: error: from: only the first step reads a source\n"
        "bad.yaml:6:5: error: pipeline: unknown operator 'frobnicate' "
        "(expected one of: from, filter, map, map_values, flat_map_values, "
        "select_key, group_by, window, count, reduce, aggregate, peek, join, "
        "to)\n"
        "bad.yaml:7:21: error: filter: expected a value (literal, name or "
        "'('), found the end\n"
        "bad.yaml:8:18: error: map_values: upper takes 1 argument, not 2\n"
        "bad.yaml:9:13: error: filter: expected a bool expression, found int\n"
        "bad.yaml:10:22: error: flat_map_values: expected a list expression, "
        "found string\n"
        "bad.yaml:11:5: error: count: expected a group_by before it "
        "(group_by: key keeps the key)\n"
        "bad.yaml:12:5: error: pipeline: a step names exactly one operator, "
        "found 2 keys\n"
        "bad.yaml:13:5: error: pipeline: expected a step such as '- filter: "
        "\"...\"', found a scalar\n"
        "bad.yaml:14:17: error: to: 'in' is an input topic of the job\n");
    expect_errors("job: j\n"
                  "sources: {s: {topic: in, value: json}}\n"
                  "pipeline:\n"
                  "  - from: s\n"
                  "  - group_by: value.user\n"
                  "  - to: out\n"
                  "  - window: {type: tumbling, size: 1 minute, gap: 1s}\n"
                  "  - count:\n"
                  "  - window: {type: weekly}\n"
                  "  - group_by: key\n"
                  "  - window: {type: hopping, size: 1m, advance: 2m}\n"
                  "  - reduce: {value: \"agg + 1\", store: \"bad name\"}\n"
                  "  - group_by: key\n"
                  "  - window: {size: 1m, time: \"value\"}\n"
                  "  - aggregate: {function: median}\n"
                  "  - group_by: key\n"
                  "  - aggregate: {function: sum, store: count-8}\n"
                  "  - to: {topic: out, value: avro, key: int64}\n",
        "bad.yaml:5:5: error: group_by: expected count, reduce or aggregate "
        "after it (optionally after a window)\n"
        "bad.yaml:7:36: error: window size: expected a duration such as "
        "500ms, 10s, 1m, 1h (or ms), found '1 minute'\n"
        "bad.yaml:7:51: error: window: only session windows have a gap\n"
        "bad.yaml:8:5: error: count: expected a group_by before it "
        "(group_by: key keeps the key)\n"
        "bad.yaml:9:5: error: window: expected count, reduce or aggregate "
        "after it\n"
        "bad.yaml:9:20: error: window type: expected tumbling, hopping or "
        "session, found 'weekly'\n"
        "bad.yaml:11:48: error: window advance: expected more than 0 and at "
        "most the size\n"
        "bad.yaml:12:39: error: store: 'bad name' is not a valid name "
        "(expected letters, digits, '.', '_' or '-')\n"
        "bad.yaml:14:13: error: window: missing key 'type' (tumbling, "
        "hopping or session)\n"
        "bad.yaml:15:27: error: aggregate function: expected sum, min, max "
        "or avg, found 'median' (plugin functions are not supported yet)\n"
        "bad.yaml:18:29: error: to value: unknown format 'avro' (expected "
        "string, bytes, int64 or json)\n");
    expect_errors("job: j\n"
                  "sources: {s: {topic: in}}\n"
                  "pipeline:\n"
                  "  - from: s\n"
                  "  - group_by: key\n"
                  "  - window: {type: session, gap: 0s}\n"
                  "  - count:\n"
                  "  - to: out\n",
        "bad.yaml:6:34: error: window gap: must be positive\n");
    expect_errors("job: j\n"
                  "sources: {s: {topic: in}}\n"
                  "pipeline:\n"
                  "  - from: s\n"
                  "  - group_by: {key: value, name: g}\n"
                  "  - count:\n"
                  "  - group_by: {key: \"to_string(value)\", name: g}\n"
                  "  - count:\n"
                  "  - to: out\n",
        "bad.yaml:7:5: error: group_by: topic 'j-g-repartition' is already "
        "used (expected a distinct name:)\n");
    expect_errors("job: j\n"
                  "sources: {s: {topic: in}}\n"
                  "pipeline:\n"
                  "  - from: s\n"
                  "  - group_by: key\n"
                  "  - count: {store: c}\n"
                  "  - group_by: key\n"
                  "  - reduce: {value: \"agg > 1\", store: c}\n"
                  "  - map_values: \"value + 'x'\"\n"
                  "  - to: {topic: out, value: int64}\n"
                  "  - to: j-dlq\n"
                  "  - to: j-counts-changelog\n"
                  "  - aggregate: {function: sum}\n",
        "bad.yaml:8:5: error: reduce: store 'c' is already used\n"
        "bad.yaml:8:21: error: reduce: the result is bool, the value is int\n"
        "bad.yaml:9:24: error: map_values: cannot compute int + string\n"
        "bad.yaml:11:9: error: to: 'j-dlq' is named like an internal topic "
        "of the job (j-*-repartition, j-*-changelog, j-dlq)\n"
        "bad.yaml:12:9: error: to: 'j-counts-changelog' is named like an "
        "internal topic of the job (j-*-repartition, j-*-changelog, j-dlq)\n"
        "bad.yaml:13:5: error: aggregate: expected a group_by before it "
        "(group_by: key keeps the key)\n");
}

/* Every example job compiles; a missing file is an I/O error. */
static void
test_all_examples(void **state)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/examples", WEIR_SOURCE_DIR);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int count = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".yaml") != 0) {
            continue;
        }
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        Weir__Topology__Topology *t = NULL;
        weir_job_errors errs;
        weir_job_errors_init(&errs);
        if (weir_job_compile_file(path, &t, &errs) != WEIR_OK) {
            weir_job_errors_print(&errs, stderr);
            fail_msg("%s does not compile", path);
        }
        reparse_all(t);
        weir_job_free(t);
        weir_job_errors_fini(&errs);
        count++;
    }
    closedir(d);
    assert_true(count >= 2);

    Weir__Topology__Topology *t = NULL;
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    assert_int_equal(
        weir_job_compile_file("/nonexistent/job.yaml", &t, &errs), WEIR_EIO);
    assert_null(t);
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.path, "/nonexistent/job.yaml");
    assert_non_null(strstr(errs.items[0].msg, "cannot read"));
    weir_job_errors_fini(&errs);
    weir_job_errors_fini(NULL);
    weir_job_free(NULL);
}

/* Expression errors point at the character in the file, through quotes,
 * escapes and multi-byte characters. */
static void
test_expression_columns(void **state)
{
    expect_errors("job: j\n"
                  "sources: {s: {topic: in}}\n"
                  "pipeline:\n"
                  "  - from: s\n"
                  "  - filter: value == 'x' +\n"
                  "  - filter: 'value == ''it''''s'' +'\n"
                  "  - filter: \"value == \\\"\\u00e9\\\" +\"\n"
                  "  - filter: \"value == '\xc3\xa9\xc3\xa9' +\"\n"
                  "  - filter: \"value == '\\t' +\"\n"
                  "  - filter: >-\n"
                  "      value +\n"
                  "  - to: out\n",
        "bad.yaml:5:27: error: filter: expected a value (literal, name or "
        "'('), found the end\n"
        "bad.yaml:6:29: error: filter: expected an operator or the end, "
        "found ''s''\n"
        "bad.yaml:7:35: error: filter: expected a value (literal, name or "
        "'('), found the end\n"
        "bad.yaml:8:29: error: filter: expected a value (literal, name or "
        "'('), found the end\n"
        "bad.yaml:9:29: error: filter: expected a value (literal, name or "
        "'('), found the end\n"
        "bad.yaml:10:13: error: filter: expected a value (literal, name or "
        "'('), found the end\n");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wordcount),
        cmocka_unit_test(test_access_per_minute),
        cmocka_unit_test(test_every_operator),
        cmocka_unit_test(test_all_examples),
        cmocka_unit_test(test_expression_columns),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_pipeline_errors),
        cmocka_unit_test(test_emit_modes),
        cmocka_unit_test(test_stream_table_join),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
