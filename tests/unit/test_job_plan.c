/* common/job/job_plan.c: the topics a job needs and its tasks per
 * subtopology, from the topology and the topics that exist already; and
 * weir_job_copy, which every holder of a topology uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/job/job.h"
#include "common/job/job_plan.h"

#define ROLE(x) WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_##x

/* A hand-built topology: two subtopologies, the first reading two input
 * topics (a join), the second a repartition topic; a changelog, an output
 * and the dead-letter topic (not listed in topics, as an old compiler
 * left it). */
typedef struct fixture {
    Weir__Topology__Topology topo;
    Weir__Topology__Source src[2], *srcs[2];
    Weir__Topology__Topic tp[5], *tps[5];
    Weir__Topology__Subtopology sub[2], *subs[2];
    char *in0[2], *in1[1];
} fixture;

static void
topic_init(Weir__Topology__Topic *tp, const char *name,
    Weir__Topology__TopicRole role, uint32_t partitions)
{
    weir__topology__topic__init(tp);
    tp->name = (char *)name;
    tp->role = role;
    tp->partitions = partitions;
}

static void
fixture_init(fixture *f, uint32_t clicks_want, uint32_t users_want)
{
    memset(f, 0, sizeof(*f));
    weir__topology__topology__init(&f->topo);
    f->topo.job = "j";
    for (int i = 0; i < 2; i++) {
        weir__topology__source__init(&f->src[i]);
        f->srcs[i] = &f->src[i];
    }
    f->src[0].name = "clicks";
    f->src[0].topic = "clicks";
    f->src[1].name = "users";
    f->src[1].topic = "users";
    topic_init(&f->tp[0], "clicks", ROLE(INPUT), clicks_want);
    topic_init(&f->tp[1], "users", ROLE(INPUT), users_want);
    topic_init(&f->tp[2], "j-by-user-repartition", ROLE(REPARTITION), 0);
    topic_init(&f->tp[3], "j-counts-changelog", ROLE(CHANGELOG), 0);
    topic_init(&f->tp[4], "out", ROLE(OUTPUT), 2);
    for (int i = 0; i < 5; i++)
        f->tps[i] = &f->tp[i];
    f->in0[0] = "clicks";
    f->in0[1] = "users";
    f->in1[0] = "j-by-user-repartition";
    for (int i = 0; i < 2; i++) {
        weir__topology__subtopology__init(&f->sub[i]);
        f->sub[i].id = (uint32_t)i;
        f->subs[i] = &f->sub[i];
    }
    f->sub[0].n_input_topics = 2;
    f->sub[0].input_topics = f->in0;
    f->sub[1].n_input_topics = 1;
    f->sub[1].input_topics = f->in1;
    f->topo.n_sources = 2;
    f->topo.sources = f->srcs;
    f->topo.n_topics = 5;
    f->topo.topics = f->tps;
    f->topo.n_subtopologies = 2;
    f->topo.subtopologies = f->subs;
    f->topo.dlq_topic = "j-dlq";
}

static weir_job_plan_topic *
find(const weir_job_plan *plan, const char *name)
{
    weir_job_plan_topic *t = weir_job_plan_find(plan, name);
    assert_non_null(t);
    return t;
}

static void
test_topics_listed_once(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 4, 4);
    weir_job_plan plan;
    assert_int_equal(weir_job_plan_init(&plan, &f.topo), WEIR_OK);
    assert_int_equal(plan.n_topics, 6);
    assert_int_equal(plan.n_sub, 2);
    /* inputs first */
    assert_string_equal(plan.topics[0].name, "clicks");
    assert_string_equal(plan.topics[1].name, "users");
    assert_true(plan.topics[0].input && plan.topics[1].input);
    assert_false(find(&plan, "j-by-user-repartition")->input);
    assert_true(find(&plan, "j-counts-changelog")->compacted);
    assert_false(find(&plan, "out")->compacted);
    assert_int_equal(find(&plan, "out")->want, 2);
    assert_non_null(weir_job_plan_find(&plan, "j-dlq"));
    assert_null(weir_job_plan_find(&plan, "nope"));
    weir_job_plan_fini(&plan);
    weir_job_plan_fini(&plan); /* twice is safe */
    weir_job_plan_fini(NULL);
}

/* Nothing exists: everything is created; inputs with their compiled
 * counts, the rest with the largest of them. */
static void
test_fresh_cluster(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 3, 6);
    weir_job_plan plan;
    assert_int_equal(weir_job_plan_init(&plan, &f.topo), WEIR_OK);
    weir_job_plan_resolve(&plan, &f.topo, 4);
    assert_int_equal(plan.input_partitions, 6);
    for (size_t i = 0; i < plan.n_topics; i++)
        assert_true(plan.topics[i].create);
    assert_int_equal(find(&plan, "clicks")->partitions, 3);
    assert_int_equal(find(&plan, "users")->partitions, 6);
    assert_int_equal(find(&plan, "j-by-user-repartition")->partitions, 6);
    assert_int_equal(find(&plan, "j-counts-changelog")->partitions, 6);
    assert_int_equal(find(&plan, "out")->partitions, 2);
    assert_int_equal(find(&plan, "j-dlq")->partitions, 6);
    /* the max over a subtopology's inputs, not its first */
    assert_int_equal(plan.sub_tasks[0], 6);
    assert_int_equal(plan.sub_tasks[1], 6);
    weir_job_plan_fini(&plan);
}

/* Existing topics keep their counts and are not created; a subtopology's
 * tasks follow the largest of its input topics as they exist. */
static void
test_existing_topics(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 4, 4);
    weir_job_plan plan;
    assert_int_equal(weir_job_plan_init(&plan, &f.topo), WEIR_OK);
    find(&plan, "clicks")->existing = 2;
    find(&plan, "users")->existing = 12;
    find(&plan, "j-by-user-repartition")->existing = 5;
    find(&plan, "out")->existing = 1;
    weir_job_plan_resolve(&plan, &f.topo, 4);
    assert_int_equal(plan.input_partitions, 12);
    assert_false(find(&plan, "clicks")->create);
    assert_int_equal(find(&plan, "clicks")->partitions, 2);
    assert_false(find(&plan, "out")->create);
    assert_int_equal(find(&plan, "out")->partitions, 1);
    assert_true(find(&plan, "j-counts-changelog")->create);
    assert_int_equal(find(&plan, "j-counts-changelog")->partitions, 12);
    assert_int_equal(plan.sub_tasks[0], 12);
    assert_int_equal(plan.sub_tasks[1], 5);

    /* the order of a subtopology's input topics does not matter */
    f.in0[0] = "users";
    f.in0[1] = "clicks";
    weir_job_plan_resolve(&plan, &f.topo, 4);
    assert_int_equal(plan.sub_tasks[0], 12);
    weir_job_plan_fini(&plan);
}

/* A subtopology that reads a table is co-partitioned: a missing
 * repartition topic it reads takes the table's count; inputs whose counts
 * differ are an error naming both. */
static void
test_table_co_partitioned(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 4, 4);
    f.src[1].table = true;
    weir_job_plan plan;
    assert_int_equal(weir_job_plan_init(&plan, &f.topo), WEIR_OK);
    find(&plan, "clicks")->existing = 3;
    find(&plan, "users")->existing = 3;
    weir_job_plan_resolve(&plan, &f.topo, 4);
    assert_string_equal(plan.error, "");
    assert_int_equal(plan.sub_tasks[0], 3);

    find(&plan, "users")->existing = 6;
    weir_job_plan_resolve(&plan, &f.topo, 4);
    assert_string_equal(plan.error,
        "join: topic clicks has 3 partitions and table topic users has 6: a "
        "join needs both sides partitioned alike");
    weir_job_plan_fini(&plan);

    /* the table read behind a repartition topic: it is created to match */
    f.src[1].table = false;
    f.src[0].table = true;
    f.in1[0] = "j-by-user-repartition";
    char *in1[2] = {"j-by-user-repartition", "clicks"};
    f.sub[1].n_input_topics = 2;
    f.sub[1].input_topics = in1;
    f.sub[0].n_input_topics = 1;
    f.in0[0] = "users";
    assert_int_equal(weir_job_plan_init(&plan, &f.topo), WEIR_OK);
    find(&plan, "clicks")->existing = 5;
    find(&plan, "users")->existing = 8;
    weir_job_plan_resolve(&plan, &f.topo, 4);
    assert_string_equal(plan.error, "");
    assert_true(find(&plan, "j-by-user-repartition")->create);
    assert_int_equal(find(&plan, "j-by-user-repartition")->partitions, 5);
    assert_int_equal(plan.sub_tasks[1], 5);
    weir_job_plan_fini(&plan);
}

/* A missing input with no compiled count: the job's input partitions,
 * from the other inputs, else the default, else 1. */
static void
test_defaults(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 0, 0);
    weir_job_plan plan;
    assert_int_equal(weir_job_plan_init(&plan, &f.topo), WEIR_OK);
    weir_job_plan_resolve(&plan, &f.topo, 7);
    assert_int_equal(plan.input_partitions, 7);
    assert_int_equal(find(&plan, "clicks")->partitions, 7);
    assert_int_equal(plan.sub_tasks[0], 7);
    weir_job_plan_resolve(&plan, &f.topo, 0);
    assert_int_equal(plan.input_partitions, 1);
    assert_int_equal(plan.sub_tasks[1], 1);
    find(&plan, "users")->existing = 3;
    weir_job_plan_resolve(&plan, &f.topo, 7);
    assert_int_equal(plan.input_partitions, 3);
    assert_int_equal(find(&plan, "clicks")->partitions, 3);
    assert_int_equal(plan.sub_tasks[0], 3);
    weir_job_plan_fini(&plan);

    /* a subtopology naming no topic of the job: the job's inputs */
    f.in1[0] = "elsewhere";
    assert_int_equal(weir_job_plan_init(&plan, &f.topo), WEIR_OK);
    weir_job_plan_resolve(&plan, &f.topo, 5);
    assert_int_equal(plan.sub_tasks[1], 5);
    weir_job_plan_fini(&plan);
}

/* On a compiled job with nothing in the cluster the plan agrees with the
 * compiler's own view (weir_job_topic_partitions, _subtopology_tasks). */
static void
test_agrees_with_compiler(void **state)
{
    (void)state;
    static const char yaml[] =
        "job: shop\n"
        "sources:\n"
        "  orders: {topic: orders, value: json, partitions: 8}\n"
        "pipeline:\n"
        "  - from: orders\n"
        "  - group_by: \"to_string(value.user)\"\n"
        "  - count: {store: per-user}\n"
        "  - to: {topic: per-user, partitions: 2}\n";
    Weir__Topology__Topology *t = NULL;
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    assert_int_equal(
        weir_job_compile(yaml, strlen(yaml), "p.yaml", &t, &errs), WEIR_OK);
    weir_job_errors_fini(&errs);
    weir_job_plan plan;
    assert_int_equal(weir_job_plan_init(&plan, t), WEIR_OK);
    weir_job_plan_resolve(&plan, t, 1);
    assert_int_equal(plan.n_topics, t->n_topics);
    for (size_t i = 0; i < plan.n_topics; i++)
        assert_int_equal(plan.topics[i].partitions,
            weir_job_topic_partitions(t, plan.topics[i].name));
    for (size_t s = 0; s < t->n_subtopologies; s++)
        assert_int_equal(plan.sub_tasks[s],
            weir_job_subtopology_tasks(t, t->subtopologies[s]->id));
    assert_int_equal(find(&plan, "per-user")->partitions, 2);
    weir_job_plan_fini(&plan);
    weir_job_free(t);
}

/* weir_job_copy: a deep copy that packs to the same bytes. */
static void
test_copy(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 3, 6);
    f.topo.commit_interval_ms = 250;
    Weir__Topology__Topology *c = weir_job_copy(&f.topo);
    assert_non_null(c);
    assert_ptr_not_equal(c->topics, f.topo.topics);
    size_t len = weir__topology__topology__get_packed_size(&f.topo);
    assert_int_equal(weir__topology__topology__get_packed_size(c), len);
    uint8_t *a = malloc(len), *b = malloc(len);
    assert_non_null(a);
    assert_non_null(b);
    weir__topology__topology__pack(&f.topo, a);
    weir__topology__topology__pack(c, b);
    assert_memory_equal(a, b, len);
    assert_string_equal(c->subtopologies[0]->input_topics[1], "users");
    free(a);
    free(b);
    weir_job_free(c);
    weir_job_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topics_listed_once),
        cmocka_unit_test(test_fresh_cluster),
        cmocka_unit_test(test_existing_topics),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_table_co_partitioned),
        cmocka_unit_test(test_agrees_with_compiler),
        cmocka_unit_test(test_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
