/*
 * Kafka's murmur2 hash and the partition it gives a key, as the Java
 * client's default partitioner and librdkafka's murmur2 partitioner (which
 * the workers' producers use) compute it.
 */
#ifndef WEIR_MURMUR2_H
#define WEIR_MURMUR2_H

#include <stddef.h>
#include <stdint.h>

uint32_t weir_murmur2(const void *key, size_t len);
/* (murmur2(key) & 0x7fffffff) % partitions; 0 when partitions is 0. */
uint32_t weir_murmur2_partition(
    const void *key, size_t len, uint32_t partitions);

#endif
