/* Consumer-group membership through the real handlers, with parked
 * requests retried the way the I/O loop does: KIP-394 member ids, a
 * rebalance waiting for every member, the leader's assignment handed out
 * by SyncGroup, heartbeats during a rebalance, leaving, session expiry and
 * protocol mismatches; and the group state machine through
 * weir__group_set_state, every pair of states. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/handlers/handler.h"
#include "broker/state/group.h"
#include "broker/state/member.h"
#include "broker/state/persist.h"
#include "common/clock.h"
#include "common/err.h"

static weir_broker *b;
static char dir[64];

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int
setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/weir-group-XXXXXX");
    assert_non_null(mkdtemp(dir));
    b = calloc(1, sizeof(*b));
    b->opts.data_dir = dir;
    b->fsync = WEIR_FSYNC_NEVER;
    b->lock_fd = -1;
    assert_int_equal(weir__state_open(b), WEIR_OK); /* commits journal */
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    weir_broker_close(b);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* A request in flight: its body, and what the loop keeps while parked. */
typedef struct call {
    int16_t api, version;
    weir_kw body;
    char *park_member;
    uint64_t deadline_ms;
    bool parked;
    weir_kw resp;
} call;

static void
run(call *c, bool retry, bool expired)
{
    weir_kreq req = {0};
    req.api_key = c->api;
    req.version = c->version;
    req.client_id = (weir_kstr){"cli", 3};
    req.retry = retry;
    req.expired = expired;
    req.park_member = c->park_member;
    req.deadline_ms = c->deadline_ms;
    weir_kr_init(&req.body, c->body.buf, c->body.len);
    weir_kw_fini(&c->resp);
    weir_kw_init(&c->resp);
    int rv = weir__handler(c->api)(b, &req, &c->resp);
    assert_true(rv == WEIR_OK || rv == WEIR_EAGAIN);
    c->parked = rv == WEIR_EAGAIN;
    c->park_member = req.park_member;
    c->deadline_ms = req.deadline_ms;
}

static void
call_fini(call *c)
{
    weir_kw_fini(&c->body);
    weir_kw_fini(&c->resp);
    free(c->park_member);
    memset(c, 0, sizeof(*c));
}

static void
join_body(call *c, const char *member, const char *protocol)
{
    memset(c, 0, sizeof(*c));
    c->api = WEIR_API_JOIN_GROUP;
    c->version = 5;
    weir_kw_init(&c->body);
    weir_kw *w = &c->body;
    weir_kw_str(w, false, "g");
    weir_kw_i32(w, 10000);
    weir_kw_i32(w, 30000);
    weir_kw_str(w, false, member);
    weir_kw_str(w, false, NULL);
    weir_kw_str(w, false, "consumer");
    weir_kw_array(w, false, 1);
    weir_kw_str(w, false, protocol);
    weir_kw_bytes(w, false, "meta", 4);
}

typedef struct join_ans {
    int16_t err;
    int32_t generation;
    char protocol[32], leader[64], member[64];
    int32_t n_members;
} join_ans;

static void
copy_str(weir_kr *r, char *out, size_t size)
{
    weir_kstr s = weir_kr_str(r, false, true);
    snprintf(
        out, size, "%.*s", s.len > 0 ? (int)s.len : 0, s.len > 0 ? s.ptr : "");
}

static join_ans
join_parse(const call *c)
{
    join_ans a;
    weir_kr r;
    weir_kr_init(&r, c->resp.buf, c->resp.len);
    (void)weir_kr_i32(&r);
    a.err = weir_kr_i16(&r);
    a.generation = weir_kr_i32(&r);
    copy_str(&r, a.protocol, sizeof(a.protocol));
    copy_str(&r, a.leader, sizeof(a.leader));
    copy_str(&r, a.member, sizeof(a.member));
    a.n_members = weir_kr_array(&r, false, false, 1);
    assert_true(weir_kr_ok(&r));
    return a;
}

/* Joins as a new member: MEMBER_ID_REQUIRED, then the real join. */
static void
join_new(call *c, const char *protocol, char *member_out)
{
    join_body(c, "", protocol);
    run(c, false, false);
    join_ans a = join_parse(c);
    assert_int_equal(a.err, KERR_MEMBER_ID_REQUIRED);
    assert_true(a.member[0] != '\0');
    strcpy(member_out, a.member);
    call_fini(c);
    join_body(c, member_out, protocol);
    run(c, false, false);
}

static int16_t
simple(int16_t api, const char *member, int32_t generation,
    const char *assign_to, weir_kw *resp_out)
{
    call c = {0};
    c.api = api;
    c.version = api == WEIR_API_LEAVE_GROUP ? 1 : 3;
    weir_kw_init(&c.body);
    weir_kw_str(&c.body, false, "g");
    if (api != WEIR_API_LEAVE_GROUP)
        weir_kw_i32(&c.body, generation);
    weir_kw_str(&c.body, false, member);
    if (api == WEIR_API_SYNC_GROUP || api == WEIR_API_HEARTBEAT)
        weir_kw_str(&c.body, false, NULL);
    if (api == WEIR_API_SYNC_GROUP) {
        weir_kw_array(&c.body, false, assign_to ? 1 : 0);
        if (assign_to) {
            weir_kw_str(&c.body, false, assign_to);
            weir_kw_bytes(&c.body, false, "A", 1);
        }
    }
    run(&c, false, false);
    int16_t err = -100; /* parked */
    if (!c.parked) {
        weir_kr r;
        weir_kr_init(&r, c.resp.buf, c.resp.len);
        (void)weir_kr_i32(&r);
        err = weir_kr_i16(&r);
    }
    if (resp_out) {
        *resp_out = c.resp;
        weir_kw_init(&c.resp);
    }
    call_fini(&c);
    return err;
}

/* OffsetCommit v2 of offset 5 for t/0; returns the partition's error. */
static int16_t
commit(const char *member, int32_t generation)
{
    call c = {0};
    c.api = WEIR_API_OFFSET_COMMIT;
    c.version = 2;
    weir_kw_init(&c.body);
    weir_kw_str(&c.body, false, "g");
    weir_kw_i32(&c.body, generation);
    weir_kw_str(&c.body, false, member);
    weir_kw_i64(&c.body, -1);
    weir_kw_array(&c.body, false, 1);
    weir_kw_str(&c.body, false, "t");
    weir_kw_array(&c.body, false, 1);
    weir_kw_i32(&c.body, 0);
    weir_kw_i64(&c.body, 5);
    weir_kw_str(&c.body, false, "");
    run(&c, false, false);
    weir_kr r;
    weir_kr_init(&r, c.resp.buf, c.resp.len);
    assert_int_equal(weir_kr_array(&r, false, false, 1), 1);
    (void)weir_kr_str(&r, false, false);
    assert_int_equal(weir_kr_array(&r, false, false, 1), 1);
    (void)weir_kr_i32(&r);
    int16_t err = weir_kr_i16(&r);
    assert_true(weir_kr_ok(&r));
    call_fini(&c);
    return err;
}

static void
test_rebalance(void **state)
{
    (void)state;
    char m1[64], m2[64];
    call j1, j2;
    join_new(&j1, "range", m1);
    /* Alone: the rebalance completes at once, m1 leads generation 1. */
    assert_false(j1.parked);
    join_ans a = join_parse(&j1);
    assert_int_equal(a.err, KERR_NONE);
    assert_int_equal(a.generation, 1);
    assert_string_equal(a.leader, m1);
    assert_string_equal(a.protocol, "range");
    assert_int_equal(a.n_members, 1);
    /* Awaiting the leader's SyncGroup: no commits. */
    assert_int_equal(commit(m1, 1), KERR_REBALANCE_IN_PROGRESS);
    assert_int_equal(simple(WEIR_API_SYNC_GROUP, m1, 1, m1, NULL), KERR_NONE);
    assert_int_equal(simple(WEIR_API_HEARTBEAT, m1, 1, NULL, NULL), KERR_NONE);
    /* Members commit with their generation; outsiders cannot. */
    assert_int_equal(commit(m1, 1), KERR_NONE);
    assert_int_equal(commit(m1, 0), KERR_ILLEGAL_GENERATION);
    assert_int_equal(commit("", -1), KERR_UNKNOWN_MEMBER_ID);
    call_fini(&j1);

    /* A second member: its join parks until m1 rejoins (told by its
     * heartbeat); a member with nothing in common is refused. */
    join_new(&j2, "range", m2);
    assert_true(j2.parked);
    call bad;
    join_body(&bad, "", "roundrobin");
    run(&bad, false, false);
    assert_int_equal(join_parse(&bad).err, KERR_INCONSISTENT_GROUP_PROTOCOL);
    call_fini(&bad);
    assert_int_equal(simple(WEIR_API_HEARTBEAT, m1, 1, NULL, NULL),
        KERR_REBALANCE_IN_PROGRESS);
    join_body(&j1, m1, "range");
    run(&j1, false, false);
    assert_false(j1.parked);
    run(&j2, true, false); /* the loop retries the parked join */
    assert_false(j2.parked);
    a = join_parse(&j1);
    assert_int_equal(a.generation, 2);
    assert_string_equal(a.leader, m1);
    assert_int_equal(a.n_members, 2);
    assert_int_equal(join_parse(&j2).n_members, 0); /* followers: none */
    /* The follower's SyncGroup parks until the leader's arrives. */
    weir_kw resp;
    assert_int_equal(simple(WEIR_API_SYNC_GROUP, m2, 2, NULL, NULL), -100);
    assert_int_equal(simple(WEIR_API_SYNC_GROUP, m1, 2, m2, NULL), KERR_NONE);
    assert_int_equal(
        simple(WEIR_API_SYNC_GROUP, m2, 2, NULL, &resp), KERR_NONE);
    weir_kr r;
    weir_kr_init(&r, resp.buf, resp.len);
    (void)weir_kr_i32(&r);
    (void)weir_kr_i16(&r);
    weir_kstr asg = weir_kr_bytes(&r, false, false);
    assert_int_equal(asg.len, 1);
    assert_int_equal(asg.ptr[0], 'A');
    weir_kw_fini(&resp);
    assert_int_equal(
        simple(WEIR_API_HEARTBEAT, m2, 1, NULL, NULL), KERR_ILLEGAL_GENERATION);
    assert_int_equal(simple(WEIR_API_HEARTBEAT, "nobody", 2, NULL, NULL),
        KERR_UNKNOWN_MEMBER_ID);
    call_fini(&j1);
    call_fini(&j2);

    /* m2 leaves: m1 alone rejoins into generation 3. */
    assert_int_equal(
        simple(WEIR_API_LEAVE_GROUP, m2, 0, NULL, NULL), KERR_NONE);
    assert_int_equal(simple(WEIR_API_HEARTBEAT, m1, 2, NULL, NULL),
        KERR_REBALANCE_IN_PROGRESS);
    join_body(&j1, m1, "range");
    run(&j1, false, false);
    assert_false(j1.parked);
    assert_int_equal(join_parse(&j1).generation, 3);
    call_fini(&j1);
    assert_int_equal(simple(WEIR_API_SYNC_GROUP, m1, 3, m1, NULL), KERR_NONE);

    /* Session expiry: m1 silent past its 10 s session timeout. */
    weir__group_tick(b, weir_clock_mono_ms() + 11000);
    assert_int_equal(
        simple(WEIR_API_HEARTBEAT, m1, 3, NULL, NULL), KERR_UNKNOWN_MEMBER_ID);
}

/* Every transition the state machine allows (group.c's diagram), by hand:
 * from (row) to (column), both in enum order: Empty, PreparingRebalance,
 * CompletingRebalance, Stable. Staying is always allowed. */
#define N_GROUP_STATES (WEIR_GROUP_STABLE + 1)
static const bool group_allowed[N_GROUP_STATES][N_GROUP_STATES] = {
    [WEIR_GROUP_EMPTY] = {true, true, false, false},
    [WEIR_GROUP_PREPARING] = {true, true, true, false},
    [WEIR_GROUP_AWAITING_SYNC] = {true, true, true, true},
    [WEIR_GROUP_STABLE] = {true, true, false, true},
};

static void
test_state_transitions(void **state)
{
    (void)state;
    weir_group g = {.id = "s"};
    for (int from = 0; from < N_GROUP_STATES; from++) {
        for (int to = 0; to < N_GROUP_STATES; to++) {
            g.state = (weir_group_state)from;
            int rv = weir__group_set_state(&g, (weir_group_state)to);
            if (group_allowed[from][to]) {
                assert_int_equal(rv, WEIR_OK);
                assert_int_equal(g.state, to);
            } else {
                /* Refused, and the state is left as it was. */
                assert_int_equal(rv, WEIR_ESTATE);
                assert_int_equal(g.state, from);
            }
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rebalance, setup, teardown),
        cmocka_unit_test(test_state_transitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
