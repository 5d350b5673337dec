/* Sparse offset/time index of a segment, in memory and in <base>.index. */
#include "broker/storage/index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/storage/crc32c.h"
#include "broker/storage/store_be.h"
#include "broker/storage/store_io.h"
#include "common/array.h"
#include "common/err.h"

#define FILE_MAGIC "WEIRIDX1"
#define FILE_HDR 40
#define ENTRY_SIZE 16

void
weir_index_init(weir_index *idx)
{
    memset(idx, 0, sizeof(*idx));
    idx->max_ts = -1;
}

void
weir_index_fini(weir_index *idx)
{
    free(idx->entries);
    weir_index_init(idx);
}

void
weir_index_reset(weir_index *idx)
{
    idx->len = 0;
    idx->last_position = 0;
    idx->max_ts = -1;
}

int
weir_index_add(weir_index *idx, uint32_t interval, uint32_t rel_offset,
    uint64_t position, int64_t max_timestamp)
{
    if (idx->len == 0 || position - idx->last_position >= interval) {
        if (weir_array_reserve(&idx->entries, &idx->cap, idx->len + 1,
                sizeof(*idx->entries)) != WEIR_OK)
            return WEIR_ENOMEM;
        idx->entries[idx->len].rel_offset = rel_offset;
        idx->entries[idx->len].position = (uint32_t)position;
        idx->entries[idx->len].max_ts_before = idx->max_ts;
        idx->len++;
        idx->last_position = position;
    }
    if (max_timestamp > idx->max_ts)
        idx->max_ts = max_timestamp;
    return WEIR_OK;
}

uint64_t
weir_index_lookup(const weir_index *idx, uint32_t rel_offset)
{
    size_t lo = 0, hi = idx->len; /* first entry with rel > target */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx->entries[mid].rel_offset <= rel_offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : idx->entries[lo - 1].position;
}

uint64_t
weir_index_lookup_time(const weir_index *idx, int64_t ts)
{
    size_t lo = 0, hi = idx->len; /* first entry with max_before >= ts */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx->entries[mid].max_ts_before < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : idx->entries[lo - 1].position;
}

int
weir_index_save(const weir_index *idx, const char *path, uint64_t log_size,
    int64_t next_offset)
{
    size_t n = FILE_HDR + idx->len * ENTRY_SIZE, plen = strlen(path);
    uint8_t *buf = malloc(n);
    char *tmp = malloc(plen + 5);
    int fd = -1, rv = WEIR_EIO;

    if (buf == NULL || tmp == NULL) {
        rv = WEIR_ENOMEM;
        goto out;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    memcpy(buf, FILE_MAGIC, 8);
    weir__put64(buf + 8, log_size);
    weir__put64(buf + 16, (uint64_t)next_offset);
    weir__put64(buf + 24, (uint64_t)idx->max_ts);
    weir__put32(buf + 32, (uint32_t)idx->len);
    for (size_t i = 0; i < idx->len; i++) {
        uint8_t *e = buf + FILE_HDR + i * ENTRY_SIZE;
        weir__put32(e, idx->entries[i].rel_offset);
        weir__put32(e + 4, idx->entries[i].position);
        weir__put64(e + 8, (uint64_t)idx->entries[i].max_ts_before);
    }
    weir__put32(buf + 36,
        weir_crc32c(weir_crc32c(0, buf, 36), buf + FILE_HDR, n - FILE_HDR));
    if (weir__io_open(tmp, O_WRONLY | O_CREAT | O_TRUNC, &fd) != 0 ||
        weir__io_pwrite_all(fd, buf, n, 0) != 0 ||
        weir__io_rename(tmp, path) != 0) {
        if (fd >= 0)
            unlink(tmp);
        goto out;
    }
    rv = WEIR_OK;
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    free(tmp);
    return rv;
}

int
weir_index_load(
    weir_index *idx, const char *path, uint64_t log_size, int64_t *next_offset)
{
    uint8_t hdr[FILE_HDR], *ents = NULL;
    size_t got, n;
    uint32_t count;
    int fd, rv = WEIR_ECORRUPT;

    if (weir__io_open(path, O_RDONLY, &fd) != 0)
        return errno == ENOENT ? WEIR_ENOTFOUND : WEIR_EIO;
    if (weir__io_pread_all(fd, hdr, FILE_HDR, 0, &got) != 0) {
        rv = WEIR_EIO;
        goto out;
    }
    if (got != FILE_HDR || memcmp(hdr, FILE_MAGIC, 8) != 0 ||
        weir__be64(hdr + 8) != log_size)
        goto out;
    count = weir__be32(hdr + 32);
    if ((uint64_t)count * ENTRY_SIZE > log_size + ENTRY_SIZE)
        goto out; /* more entries than the log could need: garbage */
    n = (size_t)count * ENTRY_SIZE;
    if ((ents = malloc(n ? n : 1)) == NULL) {
        rv = WEIR_ENOMEM;
        goto out;
    }
    if (weir__io_pread_all(fd, ents, n, FILE_HDR, &got) != 0) {
        rv = WEIR_EIO;
        goto out;
    }
    if (got != n ||
        weir_crc32c(weir_crc32c(0, hdr, 36), ents, n) != weir__be32(hdr + 36))
        goto out;
    weir_index_reset(idx);
    if (count > idx->cap) {
        weir_index_entry *e = realloc(idx->entries, count * sizeof(*e));
        if (e == NULL) {
            rv = WEIR_ENOMEM;
            goto out;
        }
        idx->entries = e;
        idx->cap = count;
    }
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = ents + (size_t)i * ENTRY_SIZE;
        idx->entries[i].rel_offset = weir__be32(e);
        idx->entries[i].position = weir__be32(e + 4);
        idx->entries[i].max_ts_before = (int64_t)weir__be64(e + 8);
        if (idx->entries[i].position >= log_size ||
            (i > 0 &&
                (idx->entries[i].position <= idx->entries[i - 1].position ||
                    idx->entries[i].rel_offset <
                        idx->entries[i - 1].rel_offset)))
            goto out;
    }
    idx->len = count;
    idx->last_position = count ? idx->entries[count - 1].position : 0;
    idx->max_ts = (int64_t)weir__be64(hdr + 24);
    *next_offset = (int64_t)weir__be64(hdr + 16);
    rv = WEIR_OK;
out:
    close(fd);
    free(ents);
    return rv;
}
