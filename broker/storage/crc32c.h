/*
 * CRC-32C (Castagnoli), the checksum of Kafka record batches and of every
 * framed record the broker writes. Table-driven (slicing-by-8) in software;
 * no dependency. Pure function, thread-safe.
 */
#ifndef WEIR_BROKER_STORAGE_CRC32C_H
#define WEIR_BROKER_STORAGE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Extends crc with len bytes at buf. Start with crc = 0; the result of one
 * call is the crc argument of the next (weir_crc32c(weir_crc32c(0, a, n), b,
 * m) == CRC of a||b). "123456789" gives 0xe3069283.
 */
uint32_t weir_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
