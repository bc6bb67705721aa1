/* The llm worker's circuit breaker around its provider (pure: no I/O, time passed in).
 *
 *   closed     calls go out; each transient failure counts, a success resets the count; after
 *              `threshold` consecutive failures the breaker opens
 *   open       no call goes out until `cooldown_ms` has passed; then it is half-open
 *   half_open  exactly one call (the probe) goes out; its success closes the breaker, anything
 *              else opens it again for another cool-down
 *
 * What counts (llm_breaker_outcome in llm_worker.c decides): a transient failure (5xx, 529,
 * 408, 409, 425, a timeout, a transport error, a malformed answer) is a failure; 429 is neutral
 * (the provider is up and asks us to slow down: the shared rate limit and Retry-After deal with
 * it), which in half-open still re-opens, as the probe did not show a working provider; any other
 * answer (a message, a permanent 4xx, a refusal) is a success. Results of calls that started
 * before the breaker opened are ignored while it is open or half-open. A threshold of 0 disables
 * the breaker (it never opens). */
#ifndef LLM_BREAKER_H
#define LLM_BREAKER_H

#include <stdint.h>

typedef enum {
    LLM_BREAKER_CLOSED = 0,
    LLM_BREAKER_HALF_OPEN,
    LLM_BREAKER_OPEN
} llm_breaker_state_t;

typedef enum { LLM_CALL_OK = 0, LLM_CALL_FAILED, LLM_CALL_NEUTRAL } llm_call_outcome_t;

typedef struct {
    long threshold;   /* consecutive failures that open it; 0: never opens */
    long cooldown_ms; /* how long it stays open */
    llm_breaker_state_t state;
    long failures;       /* consecutive failures counted while closed */
    uint64_t open_until; /* open: when the cool-down ends (the caller's clock, ms) */
    int probing;         /* half-open: the probe call is out */
} llm_breaker_t;

void llm_breaker_init(llm_breaker_t *b, long threshold, long cooldown_ms);

/* An open breaker whose cool-down has ended becomes half-open. 1 when the state changed. */
int llm_breaker_tick(llm_breaker_t *b, uint64_t now);

/* 1 when a call may start now (closed, or half-open without a probe out), else 0. Does not
 * change anything: call llm_breaker_start when the call really starts. */
int llm_breaker_allows(const llm_breaker_t *b);

/* A call starts (llm_breaker_allows said yes). Returns 1 when it is the half-open probe. */
int llm_breaker_start(llm_breaker_t *b);

/* The outcome of a call that started; probe as llm_breaker_start returned. 1 when the state
 * changed (the caller logs it and publishes the new state). */
int llm_breaker_record(llm_breaker_t *b, llm_call_outcome_t o, int probe, uint64_t now);

/* A call that started was abandoned (its task was cancelled) without an outcome: a probe's
 * place goes to the next call. */
void llm_breaker_abandon(llm_breaker_t *b, int probe);

/* ms until an open breaker lets a probe out (0 when not open). */
long llm_breaker_retry_in_ms(const llm_breaker_t *b, uint64_t now);

/* "closed", "half_open", "open". */
const char *llm_breaker_state_name(llm_breaker_state_t s);

#endif
