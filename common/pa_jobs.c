/* The job engine's scripts, embedded from common/lua/ at build time. */
#include "pa_jobs.h"

#include <string.h>

#define SCRIPT(name)                                                                               \
    extern const char pa_lua_##name[];                                                             \
    pa_script_t pa_jobs_##name = PA_SCRIPT(pa_lua_##name);

SCRIPT(create)
SCRIPT(dispatch)
SCRIPT(commit)
SCRIPT(maintain)
SCRIPT(worker_lost)
SCRIPT(release)
SCRIPT(renew)
SCRIPT(cancel)
SCRIPT(requeue)
SCRIPT(leased)

const char *const pa_task_states[PA_NSTATES] = {"queued",           "running", "succeeded",
                                                "failed",           "retry_wait",
                                                "captcha_required", "skipped", "uncertain",
                                                "cancelled"};
const char *const pa_stages[PA_NSTAGES] = {"enrich", "compose", "submit"};

const char *pa_stage_service(const char *stage)
{
    static const char *const svc[PA_NSTAGES] = {"mcp", "llm", "form"};
    for (int i = 0; i < PA_NSTAGES; i++)
        if (strcmp(stage, pa_stages[i]) == 0) return svc[i];
    if (strcmp(stage, "generate") == 0) return "llm"; /* POST /api/llm/generate */
    return NULL;
}

int pa_state_index(const char *state)
{
    for (int i = 0; i < PA_NSTATES; i++)
        if (strcmp(state, pa_task_states[i]) == 0) return i;
    return -1;
}
