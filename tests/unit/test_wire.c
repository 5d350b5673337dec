/* common/wire.c: round trips of every message type; garbage is rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/wire.h"

static void
round_trip(const ProtobufCMessage *body, weir_msg_type type)
{
    uint8_t *buf;
    size_t len;
    assert_int_equal(
        weir_wire_encode(type, 42, "secret", body, &buf, &len), WEIR_OK);
    weir_wire_msg msg;
    char err[128];
    assert_int_equal(
        weir_wire_decode(buf, len, &msg, err, sizeof(err)), WEIR_OK);
    assert_int_equal(msg.type, type);
    assert_int_equal(msg.request_id, 42);
    assert_string_equal(msg.token, "secret");
    assert_non_null(msg.body);
    assert_ptr_equal(msg.body->descriptor, body->descriptor);
    /* Re-packing the decoded body gives the same bytes. */
    size_t a = protobuf_c_message_get_packed_size(body);
    size_t b = protobuf_c_message_get_packed_size(msg.body);
    assert_int_equal(a, b);
    uint8_t *pa = malloc(a + 1), *pb = malloc(b + 1);
    protobuf_c_message_pack(body, pa);
    protobuf_c_message_pack(msg.body, pb);
    assert_memory_equal(pa, pb, a);
    free(pa);
    free(pb);
    weir_wire_msg_fini(&msg);
    free(buf);
}

static void
test_round_trip_every_type(void **state)
{
    (void)state;
    /* Every type with a descriptor, with an empty body... */
    for (int t = 0; t < 64; t++) {
        const ProtobufCMessageDescriptor *d = weir_wire_descriptor(t);
        if (!d)
            continue;
        ProtobufCMessage *m = calloc(1, d->sizeof_message);
        d->message_init(m);
        round_trip(m, t);
        free(m);
    }
    /* ...and the rich ones filled in. */
    Weir__Cluster__TaskId id = WEIR__CLUSTER__TASK_ID__INIT;
    id.job = "wordcount";
    id.subtopology = 1;
    id.partition = 3;
    Weir__Cluster__TaskId *ids[] = {&id, &id};
    Weir__Cluster__Assignment as = WEIR__CLUSTER__ASSIGNMENT__INIT;
    as.generation = 7;
    as.n_active = 2;
    as.active = ids;
    Weir__Cluster__HeartbeatReply hr = WEIR__CLUSTER__HEARTBEAT_REPLY__INIT;
    hr.generation = 7;
    hr.assignment_changed = 1;
    hr.assignment = &as;
    round_trip(&hr.base, WEIR__CLUSTER__MSG_TYPE__MSG_HEARTBEAT_REPLY);

    Weir__Cluster__Hello hello = WEIR__CLUSTER__HELLO__INIT;
    hello.worker_id = "w1";
    hello.address = "10.0.0.1";
    hello.capacity = 4;
    round_trip(&hello.base, WEIR__CLUSTER__MSG_TYPE__MSG_HELLO);
}

static void
test_type_mismatch_rejected(void **state)
{
    (void)state;
    Weir__Cluster__Hello hello = WEIR__CLUSTER__HELLO__INIT;
    uint8_t *buf;
    size_t len;
    assert_int_equal(weir_wire_encode(WEIR__CLUSTER__MSG_TYPE__MSG_WELCOME, 1,
                         NULL, &hello.base, &buf, &len),
        WEIR_EINVAL);
}

static void
test_truncated_rejected(void **state)
{
    (void)state;
    Weir__Cluster__Hello hello = WEIR__CLUSTER__HELLO__INIT;
    hello.worker_id = "worker-with-a-long-name";
    hello.address = "127.0.0.1:1234";
    uint8_t *buf;
    size_t len;
    assert_int_equal(weir_wire_encode(WEIR__CLUSTER__MSG_TYPE__MSG_HELLO, 9,
                         NULL, &hello.base, &buf, &len),
        WEIR_OK);
    for (size_t cut = 1; cut < len; cut++) {
        weir_wire_msg msg;
        int rv = weir_wire_decode(buf, cut, &msg, NULL, 0);
        /* A prefix may happen to parse as a valid shorter message only if
         * it ends on a field boundary; then its body must still be sane. */
        if (rv == WEIR_OK)
            assert_non_null(msg.body);
        else
            assert_true(rv == WEIR_EPROTO || rv == WEIR_EUNSUPPORTED);
        weir_wire_msg_fini(&msg);
    }
    free(buf);
}

static void
test_oversized_rejected(void **state)
{
    (void)state;
    size_t len = WEIR_WIRE_MAX_BYTES + 1;
    uint8_t *buf = calloc(1, len);
    weir_wire_msg msg;
    char err[128];
    assert_int_equal(
        weir_wire_decode(buf, len, &msg, err, sizeof(err)), WEIR_ETOOBIG);
    assert_string_equal(err, "message exceeds the size limit");
    free(buf);
}

static void
test_unknown_type_and_version(void **state)
{
    (void)state;
    Weir__Cluster__Envelope env = WEIR__CLUSTER__ENVELOPE__INIT;
    env.version = 1;
    env.type = 999;
    env.request_id = 5;
    uint8_t buf[64];
    size_t len = weir__cluster__envelope__pack(&env, buf);
    weir_wire_msg msg;
    assert_int_equal(
        weir_wire_decode(buf, len, &msg, NULL, 0), WEIR_EUNSUPPORTED);
    assert_int_equal(msg.request_id, 5);
    weir_wire_msg_fini(&msg);

    env.type = WEIR__CLUSTER__MSG_TYPE__MSG_STATUS;
    env.version = 2;
    len = weir__cluster__envelope__pack(&env, buf);
    assert_int_equal(
        weir_wire_decode(buf, len, &msg, NULL, 0), WEIR_EUNSUPPORTED);
    weir_wire_msg_fini(&msg);

    weir_wire_stats st;
    weir_wire_stats_get(&st);
    assert_true(st.rejected_type >= 1);
    assert_true(st.rejected_version >= 1);
}

static void
test_random_bytes_never_crash(void **state)
{
    (void)state;
    srand(12345);
    uint8_t buf[512];
    for (int i = 0; i < 20000; i++) {
        size_t len = (size_t)(rand() % (int)sizeof(buf));
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)rand();
        weir_wire_msg msg;
        (void)weir_wire_decode(buf, len, &msg, NULL, 0);
        weir_wire_msg_fini(&msg);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_type),
        cmocka_unit_test(test_type_mismatch_rejected),
        cmocka_unit_test(test_truncated_rejected),
        cmocka_unit_test(test_oversized_rejected),
        cmocka_unit_test(test_unknown_type_and_version),
        cmocka_unit_test(test_random_bytes_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
