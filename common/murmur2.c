#include "murmur2.h"

uint32_t
weir_murmur2(const void *key, size_t len)
{
    const uint32_t seed = 0x9747b28c, m = 0x5bd1e995;
    const int r = 24;
    const unsigned char *d = key;
    uint32_t h = seed ^ (uint32_t)len;
    size_t n = len / 4;
    for (size_t i = 0; i < n; i++, d += 4) {
        uint32_t k = (uint32_t)d[0] | (uint32_t)d[1] << 8 |
                     (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    switch (len & 3) {
    case 3:
        h ^= (uint32_t)d[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)d[1] << 8;
        /* fall through */
    case 1:
        h ^= d[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

uint32_t
weir_murmur2_partition(const void *key, size_t len, uint32_t partitions)
{
    return partitions ? (weir_murmur2(key, len) & 0x7fffffff) % partitions : 0;
}
