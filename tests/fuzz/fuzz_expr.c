/*
 * libFuzzer target: the expression parser, type checker and evaluator must
 * reject or evaluate any text, never crash, leak or loop. The first byte
 * picks the static types of key (bits 0-2) and value (bits 3-5) and, with
 * bit 6, defines agg and the window; the rest is the expression.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/expr/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
header(void *opaque, const char *name, const void **value, size_t *len)
{
    (void)opaque;
    if (strcmp(name, "h") == 0) {
        *value = "v";
        *len = 1;
        return true;
    }
    return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const weir_type types[] = {WEIR_TYPE_STRING, WEIR_TYPE_JSON,
        WEIR_TYPE_INT, WEIR_TYPE_BYTES, WEIR_TYPE_FLOAT, WEIR_TYPE_TIME,
        WEIR_TYPE_ANY, WEIR_TYPE_LIST};
    if (size < 1) {
        return 0;
    }
    weir_expr_env env;
    memset(&env, 0, sizeof(env));
    env.key.type = types[data[0] & 7];
    env.value.type = types[(data[0] >> 3) & 7];
    env.value.elem = WEIR_TYPE_STRING;
    env.has_agg = (data[0] & 0x40) != 0;
    env.agg = env.value;
    env.windowed = env.has_agg;
    weir_expr *e = NULL;
    weir_expr_error err;
    if (weir_expr_parse((const char *)data + 1, size - 1, &env, &e, &err) !=
        0) {
        return 0;
    }
    /* Evaluate on values of the declared types (and on JSON documents). */
    weir_arena arena;
    weir_arena_init(&arena, 1 << 20);
    weir_value vals[3];
    int nvals = 0;
    const char *doc = "{\"a\":{\"b\":[1,2.5,\"x\",null,true]},\"s\":\"Hi\"}";
    switch (env.value.type) {
    case WEIR_TYPE_STRING:
    case WEIR_TYPE_BYTES:
        vals[nvals++] = weir_value_string("Hello, World 42", 15);
        vals[nvals++] = weir_value_string("", 0);
        break;
    case WEIR_TYPE_INT:
        vals[nvals++] = weir_value_int(INT64_MIN);
        vals[nvals++] = weir_value_int(7);
        break;
    case WEIR_TYPE_FLOAT:
        vals[nvals++] = weir_value_float(-0.5);
        break;
    case WEIR_TYPE_TIME:
        vals[nvals++] = weir_value_time(1641038400000LL);
        break;
    default:
        if (weir_json_parse(doc, strlen(doc), &arena, &vals[nvals], NULL, 0) ==
            0) {
            nvals++;
        }
        vals[nvals++] = weir_value_null();
        break;
    }
    weir_value key = weir_value_string("k", 1);
    for (int i = 0; i < nvals; i++) {
        weir_expr_ctx ctx = {.key = &key,
            .value = &vals[i],
            .agg = &vals[i],
            .timestamp_ms = 1641038400000LL,
            .header = header,
            .window_start_ms = 0,
            .window_end_ms = 60000,
            .arena = &arena};
        weir_value out;
        (void)weir_expr_eval(e, &ctx, &out, &err);
    }
    weir_arena_fini(&arena);
    weir_expr_free(e);
    return 0;
}
