/* Fixture of the form worker's integration tests (tests/integration/test_form_*.c), on top of
 * tests/form-sites/sites_fixture.h (the fixture websites) and tests/llm-server/llm_fixture.h
 * (processes by PID, logs, job helpers): a real Redis, the gateway, the llm worker with the
 * template provider (the compose stage) and prospect-form-worker, allowed to reach exactly the
 * fixture server's ports on 127.0.0.1. Header-only (static functions). */
#ifndef PA_TESTS_FORM_FIXTURE_H
#define PA_TESTS_FORM_FIXTURE_H

#include "../form-sites/sites_fixture.h"

#define FF_FORM_BIN PA_BIN_DIR "/prospect-form-worker"

/* The test sender of tests/form-sites/sites.json's expectations. */
#define FF_SENDER                                                                                  \
    "{\"name\":\"Ada Lovelace\",\"email\":\"ada@analytical-engines.example\",\"phone\":\"+44 20 "  \
    "7946 0000\",\"company\":\"Analytical Engines Ltd\",\"website\":\"https://"                    \
    "analytical-engines.example\",\"title\":\"Head of Partnerships\"}"
/* with non-ASCII characters every corpus charset holds (Windows-1252 and Shift_JIS both have ° and
 * ×), so that a post's encoding shows */
#define FF_TEMPLATE "Hello {{company|there}}, our engines run at 40°C × 2. May we talk?"

/* prospect-form-worker named name, reaching the fixture server's sites (and no other private
 * address), then env (may be NULL). */
LF_FN lf_proc_t *ff_worker(const char *name, hr_redis_t *rd, const hr_gateway_t *gw,
                           const fs_server_t *fs, const char *const *env)
{
    const char *e[32];
    size_t n = 0;
    e[0] = NULL;
    lf_envset(e, &n, 32, hr_fmt("ALLOWED_PRIVATE_TARGETS=%s", fs_allow_list(fs)));
    lf_envset(e, &n, 32, "FORM_RATE_MS=50");
    lf_envset(e, &n, 32, "FORM_USER_AGENT=ProspectAI/1.0-test (+https://prospect-ai.example/bot)");
    for (size_t i = 0; env && env[i]; i++) lf_envset(e, &n, 32, env[i]);
    return lf_worker(FF_FORM_BIN, name, rd, gw, e);
}

/* A run of targets (a JSON array) through compose and submit, with options (a JSON object's
 * members without braces, may be ""). */
LF_FN const char *ff_run(const hr_gateway_t *gw, const char *targets, const char *options)
{
    return lf_run(gw, hr_fmt("{\"message_template\":\"" FF_TEMPLATE "\",\"sender\":" FF_SENDER
                             ",\"targets\":%s,\"options\":{\"enrich\":false%s%s}}",
                             targets, options && *options ? "," : "", options ? options : ""));
}

/* results.submit of a task (NULL when absent). */
LF_FN json_t *ff_submit(const json_t *task)
{
    return json_object_get(json_object_get(task, "results"), "submit");
}

/* The task state the result's outcome ends in. */
LF_FN const char *ff_state_of(const char *outcome)
{
    if (strcmp(outcome, "submitted") == 0 || strcmp(outcome, "dry_run") == 0) return "succeeded";
    return outcome;
}

#endif
