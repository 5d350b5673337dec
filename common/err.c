#include "err.h"

static const char *const names[] = {
#define X(name, msg) #name,
    WEIR_ERR_MAP(X)
#undef X
};

static const char *const messages[] = {
#define X(name, msg) msg,
    WEIR_ERR_MAP(X)
#undef X
};

const char *
weir_strerror(int err)
{
    if (err < 0 || err >= WEIR__ERR_COUNT)
        return "unknown error";
    return messages[err];
}

const char *
weir_err_name(int err)
{
    if (err < 0 || err >= WEIR__ERR_COUNT)
        return "EUNKNOWN";
    return names[err];
}
