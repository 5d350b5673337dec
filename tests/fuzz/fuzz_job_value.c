/*
 * libFuzzer target: record decoding (every format and expected type) must
 * reject or decode any bytes, never crash or leak; what decodes must encode
 * to valid JSON whose round trip is stable, and to the other formats.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/value/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const weir_type types[] = {WEIR_TYPE_ANY, WEIR_TYPE_JSON,
        WEIR_TYPE_FLOAT, WEIR_TYPE_LIST, WEIR_TYPE_INT, WEIR_TYPE_TIME,
        WEIR_TYPE_STRING, WEIR_TYPE_BOOL};
    if (size < 1) {
        return 0;
    }
    weir_format fmt = (weir_format)(data[0] & 3);
    weir_type type = types[(data[0] >> 2) & 7];
    weir_arena arena;
    weir_arena_init(&arena, 1 << 20);
    weir_buf buf, text2, again;
    weir_buf_init(&buf);
    weir_buf_init(&text2);
    weir_buf_init(&again);
    weir_value v, back;
    char err[128];
    if (weir_value_decode(
            fmt, type, data + 1, size - 1, &arena, &v, err, sizeof(err)) == 0) {
        /* JSON text of any decoded value parses back, and the text of
         * that is the same again (the first round may normalise: floats
         * JSON cannot hold become null, bytes that are not UTF-8 are read
         * as Latin-1). */
        if (weir_value_to_json(&v, &buf) != 0 ||
            weir_json_parse(
                buf.data, buf.len, &arena, &back, err, sizeof(err)) != 0) {
            abort();
        }
        /* Parsed strings may point into the text: keep each text. */
        weir_value back2;
        if (weir_value_to_json(&back, &text2) != 0 ||
            weir_json_parse(
                text2.data, text2.len, &arena, &back2, err, sizeof(err)) != 0 ||
            weir_value_to_json(&back2, &again) != 0) {
            abort();
        }
        if (again.len != text2.len ||
            memcmp(again.data, text2.data, text2.len) != 0 ||
            !weir_value_equal(&back, &back2)) {
            abort();
        }
        for (int f = 0; f < 4; f++) {
            weir_buf_clear(&again);
            (void)weir_value_encode(
                &v, (weir_format)f, &again, err, sizeof(err));
        }
    }
    weir_buf_fini(&buf);
    weir_buf_fini(&text2);
    weir_buf_fini(&again);
    weir_arena_fini(&arena);
    return 0;
}
