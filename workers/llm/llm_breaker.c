/* The circuit breaker's state machine (llm_breaker.h). */
#include "llm_breaker.h"

void llm_breaker_init(llm_breaker_t *b, long threshold, long cooldown_ms)
{
    *b = (llm_breaker_t){.threshold = threshold > 0 ? threshold : 0,
                         .cooldown_ms = cooldown_ms > 0 ? cooldown_ms : 0};
}

static void open_now(llm_breaker_t *b, uint64_t now)
{
    b->state = LLM_BREAKER_OPEN;
    b->open_until = now + (uint64_t)b->cooldown_ms;
    b->probing = 0;
}

int llm_breaker_tick(llm_breaker_t *b, uint64_t now)
{
    if (b->state != LLM_BREAKER_OPEN || now < b->open_until) return 0;
    b->state = LLM_BREAKER_HALF_OPEN;
    b->probing = 0;
    return 1;
}

int llm_breaker_allows(const llm_breaker_t *b)
{
    return b->state == LLM_BREAKER_CLOSED || (b->state == LLM_BREAKER_HALF_OPEN && !b->probing);
}

int llm_breaker_start(llm_breaker_t *b)
{
    if (b->state != LLM_BREAKER_HALF_OPEN) return 0;
    b->probing = 1;
    return 1;
}

int llm_breaker_record(llm_breaker_t *b, llm_call_outcome_t o, int probe, uint64_t now)
{
    switch (b->state) {
    case LLM_BREAKER_CLOSED:
        if (o == LLM_CALL_OK) {
            b->failures = 0;
        } else if (o == LLM_CALL_FAILED) {
            b->failures++;
            if (b->threshold && b->failures >= b->threshold) {
                open_now(b, now);
                return 1;
            }
        }
        return 0;
    case LLM_BREAKER_HALF_OPEN:
        if (!probe || !b->probing) return 0; /* a call from before the breaker opened */
        b->probing = 0;
        if (o == LLM_CALL_OK) {
            b->state = LLM_BREAKER_CLOSED;
            b->failures = 0;
        } else {
            open_now(b, now);
        }
        return 1;
    case LLM_BREAKER_OPEN:
    default: return 0; /* calls from before it opened do not move it */
    }
}

long llm_breaker_retry_in_ms(const llm_breaker_t *b, uint64_t now)
{
    if (b->state != LLM_BREAKER_OPEN || now >= b->open_until) return 0;
    return (long)(b->open_until - now);
}

const char *llm_breaker_state_name(llm_breaker_state_t s)
{
    switch (s) {
    case LLM_BREAKER_HALF_OPEN: return "half_open";
    case LLM_BREAKER_OPEN: return "open";
    case LLM_BREAKER_CLOSED:
    default: return "closed";
    }
}

void llm_breaker_abandon(llm_breaker_t *b, int probe)
{
    if (probe && b->state == LLM_BREAKER_HALF_OPEN) b->probing = 0;
}
