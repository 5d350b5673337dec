/* The worker's ownership rules (ownership.h). */
#include "ownership.h"

uint64_t
weir_ownership_lease(uint64_t sent_ms, uint32_t session_timeout_ms)
{
    return sent_ms + session_timeout_ms;
}

bool
weir_ownership_may_start(uint64_t now_ms, uint64_t lease_until_ms)
{
    return now_ms < lease_until_ms;
}

weir_ownership_action
weir_ownership_on_assignment(weir_task_state st, bool assigned)
{
    if (!assigned)
        return WEIR_OWNERSHIP_RETIRE;
    return st == WEIR_TASK_FENCED ? WEIR_OWNERSHIP_RESTART
                                  : WEIR_OWNERSHIP_KEEP;
}
