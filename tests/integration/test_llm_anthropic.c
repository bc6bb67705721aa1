/* prospect-llm-worker with LLM_PROVIDER=anthropic against tests/llm-server/server.mjs (the
 * Anthropic Messages wire format: x-api-key, anthropic-version, system apart from messages,
 * content blocks, input/output tokens, 529 overloaded): the same faults, retries, fallbacks and
 * bounds as the OpenAI provider, on the same machinery. Skipped when node is not installed. */
#include <criterion/criterion.h>

#include "../llm-server/llm_fixture.h"

TestSuite(llm_anthropic, .fini = lf_cleanup, .timeout = 150);

Test(llm_anthropic, faults_retries_and_fallbacks)
{
    lf_provider_faults("anthropic");
}

Test(llm_anthropic, a_wrong_key_falls_back_at_once_and_no_key_is_logged)
{
    lf_provider_wrong_key("anthropic");
}

Test(llm_anthropic, concurrency_is_bounded)
{
    lf_provider_concurrency("anthropic");
}

Test(llm_anthropic, sigterm_gives_back_tasks_in_flight_and_exits_cleanly)
{
    lf_provider_sigterm("anthropic");
}

Test(llm_anthropic, a_cancelled_run_aborts_its_calls_at_once)
{
    lf_provider_cancel("anthropic");
}

Test(llm_anthropic, personalize_false_uses_the_template_without_asking)
{
    lf_provider_personalize_off("anthropic");
}
