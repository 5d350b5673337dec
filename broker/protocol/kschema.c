#include "broker/protocol/kschema.h"

#include "broker/protocol/kcodec.h"

#define F(t, lo, hi)                                                           \
    {                                                                          \
        WEIR_KT_##t, lo, hi                                                    \
    }
#define A(t) F(t, 0, 255)
#define END A(END)

/* Field layouts from apache/kafka message JSON files. */
static const weir_kfield s_produce[] = {F(NSTR, 3, 255), A(I16), A(I32), A(ARR),
    A(STR), A(ARR), A(I32), A(NBYTES), END, END, END};
static const weir_kfield s_fetch[] = {A(I32), A(I32), A(I32), F(I32, 3, 255),
    F(I8, 4, 255), F(I32, 7, 255), F(I32, 7, 255), A(ARR), A(STR), A(ARR),
    A(I32), F(I32, 9, 255), A(I64), F(I64, 5, 255), A(I32), END, END,
    F(ARR, 7, 255), A(STR), A(I32_ARR), END, F(STR, 11, 255), END};
static const weir_kfield s_list_offsets[] = {A(I32), F(I8, 2, 255), A(ARR),
    A(STR), A(ARR), A(I32), F(I32, 4, 255), A(I64), F(I32, 0, 0), END, END,
    END};
static const weir_kfield s_metadata[] = {
    A(NARR), A(STR), END, F(BOOL, 4, 255), END};
static const weir_kfield s_offset_commit[] = {A(STR), F(I32, 1, 255),
    F(STR, 1, 255), F(NSTR, 7, 255), F(I64, 2, 4), A(ARR), A(STR), A(ARR),
    A(I32), A(I64), F(I32, 6, 255), F(I64, 1, 1), A(NSTR), END, END, END};
static const weir_kfield s_offset_fetch[] = {
    A(STR), A(NARR), A(STR), A(I32_ARR), END, F(BOOL, 7, 255), END};
static const weir_kfield s_find_coordinator[] = {A(STR), F(I8, 1, 255), END};
static const weir_kfield s_join_group[] = {A(STR), A(I32), F(I32, 1, 255),
    A(STR), F(NSTR, 5, 255), A(STR), A(ARR), A(STR), A(BYTES), END, END};
static const weir_kfield s_heartbeat[] = {
    A(STR), A(I32), A(STR), F(NSTR, 3, 255), END};
static const weir_kfield s_leave_group[] = {
    A(STR), F(STR, 0, 2), F(ARR, 3, 255), A(STR), A(NSTR), END, END};
static const weir_kfield s_sync_group[] = {A(STR), A(I32), A(STR),
    F(NSTR, 3, 255), A(ARR), A(STR), A(BYTES), END, END};
static const weir_kfield s_describe_groups[] = {
    A(STR_ARR), F(BOOL, 3, 255), END};
static const weir_kfield s_list_groups[] = {END};
static const weir_kfield s_api_versions[] = {
    F(STR, 3, 255), F(STR, 3, 255), END};
static const weir_kfield s_create_topics[] = {A(ARR), A(STR), A(I32), A(I16),
    A(ARR), A(I32), A(I32_ARR), END, A(ARR), A(STR), A(NSTR), END, END, A(I32),
    F(BOOL, 1, 255), END};
static const weir_kfield s_delete_topics[] = {A(STR_ARR), A(I32), END};
static const weir_kfield s_init_producer_id[] = {
    A(NSTR), A(I32), F(I64, 3, 255), F(I16, 3, 255), END};
static const weir_kfield s_add_partitions[] = {
    A(STR), A(I64), A(I16), A(ARR), A(STR), A(I32_ARR), END, END};
static const weir_kfield s_add_offsets[] = {
    A(STR), A(I64), A(I16), A(STR), END};
static const weir_kfield s_end_txn[] = {A(STR), A(I64), A(I16), A(BOOL), END};
static const weir_kfield s_txn_offset_commit[] = {A(STR), A(STR), A(I64),
    A(I16), F(I32, 3, 255), F(STR, 3, 255), F(NSTR, 3, 255), A(ARR), A(STR),
    A(ARR), A(I32), A(I64), F(I32, 2, 255), A(NSTR), END, END, END};
static const weir_kfield s_describe_configs[] = {A(ARR), A(I8), A(STR),
    A(STR_ARR), END, F(BOOL, 1, 255), F(BOOL, 3, 255), END};
static const weir_kfield s_write_txn_markers[] = {A(ARR), A(I64), A(I16),
    A(BOOL), A(ARR), A(STR), A(I32_ARR), END, A(I32), F(I8, 2, 255), END, END};
static const weir_kfield s_describe_producers[] = {
    A(ARR), A(STR), A(I32_ARR), END, END};
static const weir_kfield s_describe_transactions[] = {A(STR_ARR), END};
static const weir_kfield s_list_transactions[] = {
    A(STR_ARR), A(I64_ARR), F(I64, 1, 255), END};

#define NOFLEX INT16_MAX
static const weir_kapi apis[] = {
    {WEIR_API_PRODUCE, "Produce", 3, 7, NOFLEX, s_produce},
    {WEIR_API_FETCH, "Fetch", 4, 11, NOFLEX, s_fetch},
    {WEIR_API_LIST_OFFSETS, "ListOffsets", 1, 2, NOFLEX, s_list_offsets},
    {WEIR_API_METADATA, "Metadata", 0, 4, NOFLEX, s_metadata},
    {WEIR_API_OFFSET_COMMIT, "OffsetCommit", 2, 7, NOFLEX, s_offset_commit},
    {WEIR_API_OFFSET_FETCH, "OffsetFetch", 0, 7, 6, s_offset_fetch},
    {WEIR_API_FIND_COORDINATOR, "FindCoordinator", 0, 2, NOFLEX,
        s_find_coordinator},
    {WEIR_API_JOIN_GROUP, "JoinGroup", 0, 5, NOFLEX, s_join_group},
    {WEIR_API_HEARTBEAT, "Heartbeat", 0, 3, NOFLEX, s_heartbeat},
    {WEIR_API_LEAVE_GROUP, "LeaveGroup", 0, 3, NOFLEX, s_leave_group},
    {WEIR_API_SYNC_GROUP, "SyncGroup", 0, 3, NOFLEX, s_sync_group},
    {WEIR_API_DESCRIBE_GROUPS, "DescribeGroups", 0, 4, NOFLEX,
        s_describe_groups},
    {WEIR_API_LIST_GROUPS, "ListGroups", 0, 2, NOFLEX, s_list_groups},
    {WEIR_API_API_VERSIONS, "ApiVersions", 0, 3, 3, s_api_versions},
    {WEIR_API_CREATE_TOPICS, "CreateTopics", 0, 4, NOFLEX, s_create_topics},
    {WEIR_API_DELETE_TOPICS, "DeleteTopics", 0, 1, NOFLEX, s_delete_topics},
    {WEIR_API_INIT_PRODUCER_ID, "InitProducerId", 0, 4, 2, s_init_producer_id},
    {WEIR_API_ADD_PARTITIONS_TO_TXN, "AddPartitionsToTxn", 0, 0, NOFLEX,
        s_add_partitions},
    {WEIR_API_ADD_OFFSETS_TO_TXN, "AddOffsetsToTxn", 0, 0, NOFLEX,
        s_add_offsets},
    {WEIR_API_END_TXN, "EndTxn", 0, 1, NOFLEX, s_end_txn},
    {WEIR_API_WRITE_TXN_MARKERS, "WriteTxnMarkers", 1, 1, 1,
        s_write_txn_markers},
    {WEIR_API_TXN_OFFSET_COMMIT, "TxnOffsetCommit", 0, 3, 3,
        s_txn_offset_commit},
    {WEIR_API_DESCRIBE_CONFIGS, "DescribeConfigs", 1, 3, NOFLEX,
        s_describe_configs},
    {WEIR_API_DESCRIBE_PRODUCERS, "DescribeProducers", 0, 0, 0,
        s_describe_producers},
    {WEIR_API_DESCRIBE_TRANSACTIONS, "DescribeTransactions", 0, 0, 0,
        s_describe_transactions},
    {WEIR_API_LIST_TRANSACTIONS, "ListTransactions", 0, 1, 0,
        s_list_transactions},
};
#define N_APIS (sizeof(apis) / sizeof(apis[0]))

const weir_kapi *
weir_kapi_list(size_t *n)
{
    *n = N_APIS;
    return apis;
}

const weir_kapi *
weir_kapi_find(int16_t key)
{
    for (size_t i = 0; i < N_APIS; i++)
        if (apis[i].key == key)
            return &apis[i];
    return NULL;
}

const char *
weir_kapi_name(int16_t key)
{
    const weir_kapi *api = weir_kapi_find(key);
    return api ? api->name : "Unknown";
}

/* Index just past the WEIR_KT_END closing the struct starting at i. */
static size_t
skip_struct(const weir_kfield *f, size_t i)
{
    int depth = 0;
    for (;; i++) {
        if (f[i].type == WEIR_KT_ARR || f[i].type == WEIR_KT_NARR)
            depth++;
        else if (f[i].type == WEIR_KT_END && depth-- == 0)
            return i + 1;
    }
}

/* Checks one struct (fields from i to its END); returns the index after. */
static size_t
check_struct(const weir_kfield *f, size_t i, int16_t v, bool flex, weir_kr *r)
{
    for (; f[i].type != WEIR_KT_END; i++) {
        const weir_kfield *fd = &f[i];
        bool present = v >= fd->min_version && v <= fd->max_version;
        bool is_arr = fd->type == WEIR_KT_ARR || fd->type == WEIR_KT_NARR;
        if (!present) {
            if (is_arr)
                i = skip_struct(f, i + 1) - 1;
            continue;
        }
        switch ((weir_ktype)fd->type) {
        case WEIR_KT_I8:
        case WEIR_KT_BOOL:
            weir_kr_skip(r, 1);
            break;
        case WEIR_KT_I16:
            weir_kr_skip(r, 2);
            break;
        case WEIR_KT_I32:
            weir_kr_skip(r, 4);
            break;
        case WEIR_KT_I64:
            weir_kr_skip(r, 8);
            break;
        case WEIR_KT_STR:
        case WEIR_KT_NSTR:
            (void)weir_kr_str(r, flex, fd->type == WEIR_KT_NSTR);
            break;
        case WEIR_KT_BYTES:
        case WEIR_KT_NBYTES:
            (void)weir_kr_bytes(r, flex, fd->type == WEIR_KT_NBYTES);
            break;
        case WEIR_KT_I32_ARR: {
            int32_t n = weir_kr_array(r, flex, true, 4);
            for (int32_t k = 0; k < n; k++)
                weir_kr_skip(r, 4);
            break;
        }
        case WEIR_KT_I64_ARR: {
            int32_t n = weir_kr_array(r, flex, true, 8);
            for (int32_t k = 0; k < n; k++)
                weir_kr_skip(r, 8);
            break;
        }
        case WEIR_KT_STR_ARR: {
            int32_t n = weir_kr_array(r, flex, true, flex ? 1 : 2);
            for (int32_t k = 0; k < n; k++)
                (void)weir_kr_str(r, flex, true);
            break;
        }
        case WEIR_KT_ARR:
        case WEIR_KT_NARR: {
            int32_t n = weir_kr_array(r, flex, fd->type == WEIR_KT_NARR, 1);
            size_t next = skip_struct(f, i + 1);
            for (int32_t k = 0; k < n && weir_kr_ok(r); k++)
                (void)check_struct(f, i + 1, v, flex, r);
            i = next - 1;
            break;
        }
        case WEIR_KT_END:
            break;
        }
        if (!weir_kr_ok(r))
            return i;
    }
    weir_kr_tags(r, flex);
    return i + 1;
}

bool
weir_kschema_check(
    const weir_kapi *api, int16_t version, const void *body, size_t len)
{
    if (version < api->min_version || version > api->max_version)
        return false;
    weir_kr r;
    weir_kr_init(&r, body, len);
    (void)check_struct(
        api->schema, 0, version, version >= api->flex_version, &r);
    return weir_kr_ok(&r);
}
