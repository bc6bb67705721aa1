/* The answer of a POST /api/llm/generate call once its one-task job ended (or timed out), shared by
 * the plain answer (gw_llm_api.c) and the streamed one's final event (gw_llm_stream.c). */
#ifndef GW_LLM_OUTCOME_H
#define GW_LLM_OUTCOME_H
#include "gw.h"

/* The status (200, 502, 503, 504; at 504 the job is cancelled) and its body (caller frees): the
 * task's result for 200, else a problem document for instance and request_id. For 503 (Redis
 * away, or the worker's circuit breaker open), *retry_after_s says when to try again. */
char *gw_generate_outcome(gw_t *gw, const char *job, int timed_out, const char *instance,
                          const char *request_id, int *status, long *retry_after_s);

#endif
