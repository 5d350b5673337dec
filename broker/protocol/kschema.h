/*
 * Request schemas: every request body the broker accepts, described once as
 * a table of fields with the versions they exist in. weir_kschema_check()
 * walks a request against its schema before any handler sees it, so a
 * malformed request is rejected whole and touches no data; handlers then
 * read the same bytes with the weir_kr primitives (which check bounds too).
 * Pure functions; thread-safe.
 */
#ifndef WEIR_BROKER_KSCHEMA_H
#define WEIR_BROKER_KSCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum weir_ktype {
    WEIR_KT_END, /* end of the schema or of an array's element struct */
    WEIR_KT_I8,
    WEIR_KT_I16,
    WEIR_KT_I32,
    WEIR_KT_I64,
    WEIR_KT_BOOL,
    WEIR_KT_STR,     /* string */
    WEIR_KT_NSTR,    /* nullable string */
    WEIR_KT_BYTES,   /* bytes */
    WEIR_KT_NBYTES,  /* nullable bytes (records) */
    WEIR_KT_I32_ARR, /* array of int32 */
    WEIR_KT_STR_ARR, /* array of strings */
    WEIR_KT_I64_ARR, /* array of int64 */
    WEIR_KT_ARR,     /* array of structs: fields follow up to WEIR_KT_END */
    WEIR_KT_NARR,    /* nullable array of structs */
} weir_ktype;

typedef struct weir_kfield {
    uint8_t type;
    uint8_t min_version, max_version; /* present in [min, max] */
} weir_kfield;

/* Kafka API keys the broker knows. */
enum {
    WEIR_API_PRODUCE = 0,
    WEIR_API_FETCH = 1,
    WEIR_API_LIST_OFFSETS = 2,
    WEIR_API_METADATA = 3,
    WEIR_API_OFFSET_COMMIT = 8,
    WEIR_API_OFFSET_FETCH = 9,
    WEIR_API_FIND_COORDINATOR = 10,
    WEIR_API_JOIN_GROUP = 11,
    WEIR_API_HEARTBEAT = 12,
    WEIR_API_LEAVE_GROUP = 13,
    WEIR_API_SYNC_GROUP = 14,
    WEIR_API_DESCRIBE_GROUPS = 15,
    WEIR_API_LIST_GROUPS = 16,
    WEIR_API_API_VERSIONS = 18,
    WEIR_API_CREATE_TOPICS = 19,
    WEIR_API_DELETE_TOPICS = 20,
    WEIR_API_INIT_PRODUCER_ID = 22,
    WEIR_API_ADD_PARTITIONS_TO_TXN = 24,
    WEIR_API_ADD_OFFSETS_TO_TXN = 25,
    WEIR_API_END_TXN = 26,
    WEIR_API_TXN_OFFSET_COMMIT = 28,
    WEIR_API_WRITE_TXN_MARKERS = 27,
    WEIR_API_DESCRIBE_CONFIGS = 32,
    WEIR_API_DESCRIBE_PRODUCERS = 61,
    WEIR_API_DESCRIBE_TRANSACTIONS = 65,
    WEIR_API_LIST_TRANSACTIONS = 66,
    WEIR_API_KEY_MAX = 67,
};

/* What the broker implements for one API (advertised in ApiVersions). */
typedef struct weir_kapi {
    int16_t key;
    const char *name;
    int16_t min_version, max_version;
    int16_t flex_version; /* first flexible version; INT16_MAX = none */
    const weir_kfield *schema;
} weir_kapi;

/* The implemented APIs, in key order; *n set to their count. */
const weir_kapi *weir_kapi_list(size_t *n);
/* The API for key, or NULL when the broker does not implement it. */
const weir_kapi *weir_kapi_find(int16_t key);
/* Name for metrics and logs ("Produce"); "Unknown" for others. */
const char *weir_kapi_name(int16_t key);

/*
 * Checks that body (len bytes, after the request header) is a well-formed
 * request of api at version. Returns true when valid. Trailing bytes are
 * allowed (as Kafka does).
 */
bool weir_kschema_check(
    const weir_kapi *api, int16_t version, const void *body, size_t len);

#endif
