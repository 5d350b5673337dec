/* libFuzzer target: the envelope decoder must reject garbage, never crash. */
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weir_wire_msg msg;
    (void)weir_wire_decode(data, size, &msg, NULL, 0);
    weir_wire_msg_fini(&msg);
    return 0;
}
