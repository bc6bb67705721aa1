/* The llm worker's circuit breaker as a state machine (workers/llm/llm_breaker.h): opening after
 * consecutive failures, 429 neutral, the cool-down, one probe in half-open, results of calls
 * from before it opened ignored, and the disabled breaker. */
#include <criterion/criterion.h>

#include "llm_breaker.h"

static void fail_n(llm_breaker_t *b, int n, uint64_t now)
{
    for (int i = 0; i < n; i++) llm_breaker_record(b, LLM_CALL_FAILED, llm_breaker_start(b), now);
}

Test(llm_breaker, opens_after_threshold_consecutive_failures)
{
    llm_breaker_t b;
    llm_breaker_init(&b, 3, 1000);
    cr_assert(llm_breaker_allows(&b));
    fail_n(&b, 2, 0);
    cr_assert_eq(b.state, LLM_BREAKER_CLOSED);
    cr_assert_eq(b.failures, 2);
    cr_assert_eq(llm_breaker_record(&b, LLM_CALL_FAILED, 0, 100), 1, "the third opens it");
    cr_assert_eq(b.state, LLM_BREAKER_OPEN);
    cr_assert_not(llm_breaker_allows(&b));
    cr_assert_eq(llm_breaker_retry_in_ms(&b, 100), 1000);
    cr_assert_eq(llm_breaker_retry_in_ms(&b, 600), 500);
    cr_assert_str_eq(llm_breaker_state_name(b.state), "open");
}

Test(llm_breaker, a_success_resets_the_count_and_429_is_neutral)
{
    llm_breaker_t b;
    llm_breaker_init(&b, 3, 1000);
    fail_n(&b, 2, 0);
    llm_breaker_record(&b, LLM_CALL_OK, 0, 0);
    cr_assert_eq(b.failures, 0);
    fail_n(&b, 2, 0);
    for (int i = 0; i < 10; i++) cr_assert_eq(llm_breaker_record(&b, LLM_CALL_NEUTRAL, 0, 0), 0);
    cr_assert_eq(b.failures, 2, "429 neither counts nor resets");
    cr_assert_eq(b.state, LLM_BREAKER_CLOSED);
}

Test(llm_breaker, half_open_after_the_cooldown_lets_one_probe_out)
{
    llm_breaker_t b;
    llm_breaker_init(&b, 1, 1000);
    fail_n(&b, 1, 5000);
    cr_assert_eq(llm_breaker_tick(&b, 5999), 0);
    cr_assert_eq(b.state, LLM_BREAKER_OPEN);
    cr_assert_eq(llm_breaker_tick(&b, 6000), 1);
    cr_assert_eq(b.state, LLM_BREAKER_HALF_OPEN);
    cr_assert_str_eq(llm_breaker_state_name(b.state), "half_open");
    cr_assert(llm_breaker_allows(&b));
    cr_assert_eq(llm_breaker_start(&b), 1, "the first call is the probe");
    cr_assert_not(llm_breaker_allows(&b), "one probe at a time");
    /* a call from before the breaker opened does not decide */
    cr_assert_eq(llm_breaker_record(&b, LLM_CALL_OK, 0, 6001), 0);
    cr_assert_eq(b.state, LLM_BREAKER_HALF_OPEN);
    cr_assert_eq(llm_breaker_record(&b, LLM_CALL_OK, 1, 6002), 1);
    cr_assert_eq(b.state, LLM_BREAKER_CLOSED);
    cr_assert_eq(b.failures, 0);
    cr_assert_eq(llm_breaker_start(&b), 0, "closed: no probe");
}

Test(llm_breaker, a_failed_or_neutral_probe_reopens_it)
{
    for (int o = LLM_CALL_FAILED; o <= LLM_CALL_NEUTRAL; o++) {
        llm_breaker_t b;
        llm_breaker_init(&b, 2, 1000);
        fail_n(&b, 2, 0);
        llm_breaker_tick(&b, 1000);
        int probe = llm_breaker_start(&b);
        cr_assert_eq(llm_breaker_record(&b, (llm_call_outcome_t)o, probe, 1500), 1);
        cr_assert_eq(b.state, LLM_BREAKER_OPEN, "outcome %d", o);
        cr_assert_eq(llm_breaker_retry_in_ms(&b, 1500), 1000, "a whole new cool-down");
        cr_assert_not(llm_breaker_allows(&b));
    }
}

Test(llm_breaker, results_while_open_are_ignored)
{
    llm_breaker_t b;
    llm_breaker_init(&b, 1, 1000);
    fail_n(&b, 1, 0);
    cr_assert_eq(llm_breaker_record(&b, LLM_CALL_OK, 0, 10), 0);
    cr_assert_eq(llm_breaker_record(&b, LLM_CALL_FAILED, 0, 10), 0);
    cr_assert_eq(b.state, LLM_BREAKER_OPEN);
    cr_assert_eq(llm_breaker_retry_in_ms(&b, 10), 990, "the cool-down is not extended");
}

Test(llm_breaker, threshold_zero_never_opens)
{
    llm_breaker_t b;
    llm_breaker_init(&b, 0, 1000);
    fail_n(&b, 1000, 0);
    cr_assert_eq(b.state, LLM_BREAKER_CLOSED);
    cr_assert(llm_breaker_allows(&b));
}
