/* Build-time generator: writes the Lua side of pa_stages.h (the tables every job-engine script
 * starts with, before common/lua/prelude.lua). Usage: pa_gen_stages OUT.lua */
#include <stdio.h>

#include "pa_keys.h"
#include "pa_stages.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT.lua\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fputs("-- Generated from common/pa_stages.h by common/gen_stages.c; do not edit.\n"
          "-- SVC: the service that runs each stage (its queue is P..'ready:'..service).\n"
          "local SVC = {",
          f);
    for (int i = 0; i < PA_NSTAGES_ALL; i++)
        fprintf(f, "%s%s = '%s'", i ? ", " : "", pa_stage_info[i].name,
                pa_services[pa_stage_info[i].service]);
    fputs("}\n-- A stage's tries when the job's max_attempts does not name it.\n"
          "local MAX_ATTEMPTS_DEFAULT = {",
          f);
    for (int i = 0; i < PA_NSTAGES_ALL; i++)
        fprintf(f, "%s%s = %d", i ? ", " : "", pa_stage_info[i].name,
                pa_stage_info[i].max_attempts);
    fputs("}\n-- The stages whose success is a message sent (the campaign's sent count).\n"
          "local SENDS = {",
          f);
    for (int i = 0, k = 0; i < PA_NSTAGES_ALL; i++)
        if (pa_stage_info[i].sends)
            fprintf(f, "%s%s = true", k++ ? ", " : "", pa_stage_info[i].name);
    fputs("}\n-- The stages of a campaign run, in order.\n"
          "local RUN_STAGES = {",
          f);
    for (int i = 0; i < PA_NSTAGES; i++) fprintf(f, "%s'%s'", i ? ", " : "", pa_stages[i]);
    fputs("}\n-- The results a leased task carries: every run stage's but the last.\n"
          "local RESULT_FIELDS = {",
          f);
    for (int i = 0; i < PA_NRESULTS; i++) fprintf(f, "%s'result_%s'", i ? ", " : "", pa_stages[i]);
    fprintf(f, "}\n-- A task's number in its key (\"000042\").\nlocal TASK_ID_FMT = '%%0%dd'\n",
            PA_TASK_DIGITS);
    return fclose(f) == 0 ? 0 : 1;
}
