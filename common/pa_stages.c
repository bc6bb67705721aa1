/* The tables of pa_stages.h, made from its X-macros. */
#include "pa_stages.h"

#include <stdio.h>
#include <string.h>

const pa_stage_info_t pa_stage_info[PA_NSTAGES_ALL] = {
#define INFO(name, svc, max, kind)                                                                 \
    {#name, PA_SVC_##svc, max, PA_STAGE_IF_RUN_(kind, 1) + 0, PA_STAGE_IF_SEND_(kind, 1) + 0},
    PA_STAGE_TABLE(INFO)
#undef INFO
};

const char *const pa_services[PA_NSERVICES] = {
#define NAME(s) #s,
    PA_SERVICE_TABLE(NAME)
#undef NAME
};

const char *const pa_stages[PA_NSTAGES] = {
#define RUN_NAME(name, svc, max, kind) PA_STAGE_IF_RUN_(kind, #name, )
    PA_STAGE_TABLE(RUN_NAME)
#undef RUN_NAME
};

int pa_stage_find(const char *name)
{
    for (int i = 0; name && i < PA_NSTAGES_ALL; i++)
        if (strcmp(name, pa_stage_info[i].name) == 0) return i;
    return -1;
}

int pa_stage_run_index(const char *name)
{
    for (int i = 0; name && i < PA_NSTAGES; i++)
        if (strcmp(name, pa_stages[i]) == 0) return i;
    return -1;
}

const char *pa_stage_service(const char *stage)
{
    int i = pa_stage_find(stage);
    return i < 0 ? NULL : pa_services[pa_stage_info[i].service];
}

int pa_service_find(const char *name)
{
    for (int i = 0; name && i < PA_NSERVICES; i++)
        if (strcmp(name, pa_services[i]) == 0) return i;
    return -1;
}

char *pa_stages_list(char *out, size_t len)
{
    size_t at = 0;
    if (len) out[0] = '\0';
    for (int i = 0; i < PA_NSTAGES && at < len; i++) {
        int n = snprintf(out + at, len - at, "%s%s", i ? ", " : "", pa_stages[i]);
        if (n < 0) break;
        at += (size_t)n;
    }
    return out;
}
