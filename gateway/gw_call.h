/* API calls answered on the open request from a one-task job (POST /api/llm/generate, the MCP
 * look-ups under /api/mcp): the job gets the engine's leases, retries and crash safety; the request
 * is suspended (no thread waits) until the job's final event or a deadline. */
#ifndef GW_CALL_H
#define GW_CALL_H
#include "gw_events.h"
#include "gw_http.h"
#include "pa_jobs.h"

typedef struct {
    const char *stage;  /* the CALL stage ("generate", "mcp_call") */
    int max_attempts;   /* of that stage */
    const char *target; /* the task's target ("llm:generate", "mcp:call") */
    const char *ctx;    /* the job's context (JSON text) */
    const char *rate;   /* the rate-limit bucket's name ("gen", "mcp"), per API key */
    long rate_per_min;  /* calls a minute per key; the burst is a tenth of it, plus one */
} gw_call_t;

/* Runs create.lua for the one-task job jid with input (unlisted, kept an hour, the rate limit of
 * r's API key). 0 with out filled (its status says created, limited or full), -1 when Redis
 * failed (logged, naming what). */
int gw_call_create(gw_t *gw, gw_req_t *r, const gw_call_t *c, const char *jid, const char *input,
                   pa_jobs_create_out_t *out);

/* The job's end, or the deadline: answer r (timed_out: the deadline passed first). */
typedef void (*gw_call_done_fn)(gw_t *gw, gw_req_t *r, const char *job, int timed_out);

/* Suspends r until job jid ends or deadline (pa_mono_ms), then calls done from the request's
 * thread. Wakes the dispatcher first. */
void gw_call_await(gw_t *gw, gw_req_t *r, const char *jid, uint64_t deadline, gw_call_done_fn done);

/* For a waiter made elsewhere (a stream): pokes it when the job already ended before the wait
 * began (its final event was missed). */
void gw_call_poke_if_over(gw_t *gw, const char *jid, gw_waiter_t *waiter);

#endif
