/* prospect-llm-worker with LLM_PROVIDER=openai against tests/llm-server/server.mjs (the OpenAI
 * chat-completions wire format, faults chosen per request): retries by the job engine with
 * Retry-After honoured, fallbacks to the template with their reason, the task's last error,
 * token usage, the concurrency bound, and an API key that never reaches a log. Skipped when
 * node is not installed. */
#include <criterion/criterion.h>

#include "../llm-server/llm_fixture.h"

TestSuite(llm_openai, .fini = lf_cleanup, .timeout = 150);

Test(llm_openai, faults_retries_and_fallbacks)
{
    lf_provider_faults("openai");
}

Test(llm_openai, a_wrong_key_falls_back_at_once_and_no_key_is_logged)
{
    lf_provider_wrong_key("openai");
}

Test(llm_openai, concurrency_is_bounded)
{
    lf_provider_concurrency("openai");
}

Test(llm_openai, sigterm_gives_back_tasks_in_flight_and_exits_cleanly)
{
    lf_provider_sigterm("openai");
}

Test(llm_openai, a_cancelled_run_aborts_its_calls_at_once)
{
    lf_provider_cancel("openai");
}

Test(llm_openai, personalize_false_uses_the_template_without_asking)
{
    lf_provider_personalize_off("openai");
}
