/* Dispatch from API key to handler. */
#include "broker/handlers/handler.h"

weir_handler_fn
weir__handler(int16_t api_key)
{
    switch (api_key) {
    case WEIR_API_PRODUCE:
        return weir__h_produce;
    case WEIR_API_FETCH:
        return weir__h_fetch;
    case WEIR_API_LIST_OFFSETS:
        return weir__h_list_offsets;
    case WEIR_API_METADATA:
        return weir__h_metadata;
    case WEIR_API_OFFSET_COMMIT:
        return weir__h_offset_commit;
    case WEIR_API_OFFSET_FETCH:
        return weir__h_offset_fetch;
    case WEIR_API_FIND_COORDINATOR:
        return weir__h_find_coordinator;
    case WEIR_API_JOIN_GROUP:
        return weir__h_join_group;
    case WEIR_API_HEARTBEAT:
        return weir__h_heartbeat;
    case WEIR_API_LEAVE_GROUP:
        return weir__h_leave_group;
    case WEIR_API_SYNC_GROUP:
        return weir__h_sync_group;
    case WEIR_API_DESCRIBE_GROUPS:
        return weir__h_describe_groups;
    case WEIR_API_LIST_GROUPS:
        return weir__h_list_groups;
    case WEIR_API_API_VERSIONS:
        return weir__h_api_versions;
    case WEIR_API_CREATE_TOPICS:
        return weir__h_create_topics;
    case WEIR_API_DELETE_TOPICS:
        return weir__h_delete_topics;
    case WEIR_API_INIT_PRODUCER_ID:
        return weir__h_init_producer_id;
    case WEIR_API_ADD_PARTITIONS_TO_TXN:
        return weir__h_add_partitions;
    case WEIR_API_ADD_OFFSETS_TO_TXN:
        return weir__h_add_offsets;
    case WEIR_API_END_TXN:
        return weir__h_end_txn;
    case WEIR_API_TXN_OFFSET_COMMIT:
        return weir__h_txn_offset_commit;
    case WEIR_API_DESCRIBE_CONFIGS:
        return weir__h_describe_configs;
    case WEIR_API_WRITE_TXN_MARKERS:
        return weir__h_write_txn_markers;
    case WEIR_API_DESCRIBE_PRODUCERS:
        return weir__h_describe_producers;
    case WEIR_API_DESCRIBE_TRANSACTIONS:
        return weir__h_describe_transactions;
    case WEIR_API_LIST_TRANSACTIONS:
        return weir__h_list_transactions;
    }
    return weir__h_api_versions; /* unreachable: keys come from kschema */
}
