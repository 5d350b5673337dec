/* broker/crc32c.c: known vectors, incremental use, hw == sw. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/storage/crc32c.h"

uint32_t weir__crc32c_sw(uint32_t crc, const void *buf, size_t len);

static void
test_vectors(void **state)
{
    (void)state;
    uint8_t buf[32];
    assert_int_equal(weir_crc32c(0, "123456789", 9), 0xe3069283u);
    assert_int_equal(weir_crc32c(0, "", 0), 0);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(weir_crc32c(0, buf, 32), 0x8a9136aau);
    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(weir_crc32c(0, buf, 32), 0x62a8ab43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(weir_crc32c(0, buf, 32), 0x46dd794eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    assert_int_equal(weir_crc32c(0, buf, 32), 0x113fdb5cu);
    assert_int_equal(weir__crc32c_sw(0, "123456789", 9), 0xe3069283u);
}

static void
test_incremental_and_sw(void **state)
{
    (void)state;
    uint8_t buf[1000];
    srand(42);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)rand();
    for (size_t off = 0; off < 9; off++) {
        for (size_t len = 0; len + off <= sizeof(buf); len += 37) {
            uint32_t whole = weir_crc32c(0, buf + off, len);
            assert_int_equal(whole, weir__crc32c_sw(0, buf + off, len));
            size_t cut = len / 3;
            uint32_t part = weir_crc32c(0, buf + off, cut);
            part = weir_crc32c(part, buf + off + cut, len - cut);
            assert_int_equal(whole, part);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_incremental_and_sw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
