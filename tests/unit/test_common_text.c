/* common/file.c and common/json_str.c: whole-file reads and their refusals;
 * JSON string literals for every byte. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/file.h"
#include "common/json_str.h"

static char dir[] = "/tmp/weir-test-file-XXXXXX";

static void
write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void
test_file_read(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    char path[128], *data;
    size_t len;
    snprintf(path, sizeof(path), "%s/a", dir);
    write_file(path, "ab\0c", 4);
    assert_int_equal(weir_file_read(path, 4, &data, &len), WEIR_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(data, "ab\0c\0", 5);
    free(data);
    assert_int_equal(weir_file_read(path, 3, &data, &len), WEIR_ETOOBIG);
    assert_int_equal(errno, EFBIG);
    assert_null(data);
    assert_int_equal(weir_file_read(dir, 100, &data, &len), WEIR_EINVAL);
    assert_int_equal(errno, EISDIR);
    snprintf(path, sizeof(path), "%s/missing", dir);
    assert_int_equal(weir_file_read(path, 100, &data, &len), WEIR_ENOTFOUND);
    assert_int_equal(errno, ENOENT);
    snprintf(path, sizeof(path), "%s/empty", dir);
    write_file(path, "", 0);
    assert_int_equal(weir_file_read(path, 0, &data, &len), WEIR_OK);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);
    unlink(path);
    snprintf(path, sizeof(path), "%s/a", dir);
    unlink(path);
    rmdir(dir);
}

static char *
json(const char *s, size_t n)
{
    weir_buf b;
    weir_buf_init(&b);
    assert_int_equal(weir_json_str_append(&b, s, n), WEIR_OK);
    return b.data;
}

static void
test_json_str(void **state)
{
    (void)state;
    char *j = json("a\"b\\c\n\t\r\x01", 9);
    assert_string_equal(j, "\"a\\\"b\\\\c\\n\\t\\r\\u0001\"");
    free(j);
    /* Valid UTF-8 stays; a lone continuation byte and NUL are escaped. */
    j = json("\xc3\xa9\x80\0z", 5);
    assert_string_equal(j, "\"\xc3\xa9\\u0080\\u0000z\"");
    free(j);
    j = json("", 0);
    assert_string_equal(j, "\"\"");
    free(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_read),
        cmocka_unit_test(test_json_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
