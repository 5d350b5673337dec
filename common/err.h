/* Error codes shared by every weir component. */
#ifndef WEIR_ERR_H
#define WEIR_ERR_H

/* One list, expanded into the enum, the names and the messages. */
#define WEIR_ERR_MAP(X)                                                        \
    X(OK, "success")                                                           \
    X(ENOMEM, "out of memory")                                                 \
    X(EINVAL, "invalid argument")                                              \
    X(EPROTO, "malformed message")                                             \
    X(ETOOBIG, "message too large")                                            \
    X(ETIMEDOUT, "timed out")                                                  \
    X(EIO, "input/output error")                                               \
    X(ECLOSED, "closed")                                                       \
    X(ENOTFOUND, "not found")                                                  \
    X(EEXIST, "already exists")                                                \
    X(EFENCED, "fenced by a newer owner")                                      \
    X(EABORTED, "transaction aborted")                                         \
    X(EUNSUPPORTED, "not supported")                                           \
    X(EAUTH, "not authorized")                                                 \
    X(ESTATE, "invalid state")                                                 \
    X(EKAFKA, "kafka client error")                                            \
    X(ESTORE, "state store error")                                             \
    X(EPARSE, "parse error")                                                   \
    X(EAGAIN, "try again")                                                     \
    X(ESTOPPED, "stopped")                                                     \
    X(ECORRUPT, "data corrupt")                                                \
    X(EFAILED, "failed earlier: refuses further work")

typedef enum weir_err {
#define WEIR__ERR_ENUM(name, msg) WEIR_##name,
    WEIR_ERR_MAP(WEIR__ERR_ENUM)
#undef WEIR__ERR_ENUM
        WEIR__ERR_COUNT
} weir_err;

/* Human-readable message for an error code; never NULL. */
const char *weir_strerror(int err);

/* Symbolic name ("EPROTO"); never NULL. */
const char *weir_err_name(int err);

#endif
