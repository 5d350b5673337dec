/* Kafka error names for log lines. */
#include "broker/protocol/kerr.h"

const char *
weir__kerr_name(int16_t err)
{
    switch (err) {
    case KERR_UNKNOWN_SERVER_ERROR:
        return "UNKNOWN_SERVER_ERROR";
    case KERR_NONE:
        return "NONE";
    case KERR_OFFSET_OUT_OF_RANGE:
        return "OFFSET_OUT_OF_RANGE";
    case KERR_CORRUPT_MESSAGE:
        return "CORRUPT_MESSAGE";
    case KERR_UNKNOWN_TOPIC_OR_PARTITION:
        return "UNKNOWN_TOPIC_OR_PARTITION";
    case KERR_MESSAGE_TOO_LARGE:
        return "MESSAGE_TOO_LARGE";
    case KERR_INVALID_REQUEST:
        return "INVALID_REQUEST";
    case KERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
        return "OUT_OF_ORDER_SEQUENCE_NUMBER";
    case KERR_INVALID_PRODUCER_EPOCH:
        return "INVALID_PRODUCER_EPOCH";
    case KERR_INVALID_TXN_STATE:
        return "INVALID_TXN_STATE";
    case KERR_INVALID_PRODUCER_ID_MAPPING:
        return "INVALID_PRODUCER_ID_MAPPING";
    case KERR_CONCURRENT_TRANSACTIONS:
        return "CONCURRENT_TRANSACTIONS";
    case KERR_KAFKA_STORAGE_ERROR:
        return "KAFKA_STORAGE_ERROR";
    case KERR_UNSTABLE_OFFSET_COMMIT:
        return "UNSTABLE_OFFSET_COMMIT";
    case KERR_PRODUCER_FENCED:
        return "PRODUCER_FENCED";
    case KERR_UNKNOWN_MEMBER_ID:
        return "UNKNOWN_MEMBER_ID";
    case KERR_ILLEGAL_GENERATION:
        return "ILLEGAL_GENERATION";
    case KERR_REBALANCE_IN_PROGRESS:
        return "REBALANCE_IN_PROGRESS";
    }
    return "ERROR";
}
