/* Kafka's murmur2 partitioning (common/murmur2.h) agrees with
 * librdkafka's murmur2 partitioner, which the workers' producers use, on
 * random keys of every length, and with Kafka's known values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "common/murmur2.h"

static void
test_known_values(void **state)
{
    /* From Kafka's UtilsTest (murmur2 of these strings' UTF-8 bytes). */
    assert_int_equal((int32_t)weir_murmur2("21", 2), -973932308);
    assert_int_equal((int32_t)weir_murmur2("foobar", 6), -790332482);
    assert_int_equal(
        (int32_t)weir_murmur2("a-little-bit-long-string", 24), -985981536);
    assert_int_equal(weir_murmur2_partition("x", 1, 0), 0);
    (void)state;
}

static void
test_matches_librdkafka(void **state)
{
    srand(3);
    unsigned char key[64];
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(rand() % 64);
        for (size_t i = 0; i < len; i++)
            key[i] = (unsigned char)rand();
        int32_t parts = 1 + rand() % 100;
        int32_t want =
            rd_kafka_msg_partitioner_murmur2(NULL, key, len, parts, NULL, NULL);
        assert_int_equal(
            weir_murmur2_partition(key, len, (uint32_t)parts), (uint32_t)want);
    }
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_matches_librdkafka),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
