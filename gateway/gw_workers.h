/* The workers: who is alive (pa:workers, written by the dispatchers) and what each says about
 * itself in its status record (<prefix>worker:<id>:status, written by the worker runtime at every
 * heartbeat: service, version, capacity, held, started_ms, updated_ms, and the daemon's own
 * fields, e.g. the llm worker's breaker_state, breaker_provider, breaker_model, breaker_failures,
 * breaker_open_until_ms). The gateway reads only these, never a worker's private keys.
 * GET /api/workers; health, metrics and generate ask here. */
#ifndef GW_WORKERS_H
#define GW_WORKERS_H
#include <jansson.h>
#include <stddef.h>

#include "gw_http.h"

/* The workers some gateway heard from within 3 heartbeats, as a JSON array of their pa:workers
 * entries with "id" added and, when with_status, "status" for those of service (NULL: all; several:
 * "llm,mcp"): the record's fields as strings, absent when the worker has none. NULL when Redis did
 * not answer. Caller decrefs. */
json_t *gw_workers_live(gw_t *gw, pa_redis_t *rd, int with_status, const char *service);
/* The circuit breakers the live llm workers publish in their status records: a JSON array of
 * {worker, provider, model, state, failures, retry_in_ms}, and in *open how many are not closed.
 * Caller decrefs. */
json_t *gw_workers_breakers(const json_t *live, size_t *open);
/* What the llm service can do now: -1 Redis away, 0 no live llm worker, 1 some worker can call
 * its provider, 2 every live llm worker's breaker is open (then *retry_after_s says when the
 * first one may try again). */
int gw_workers_llm_ready(gw_t *gw, long *retry_after_s);

/* GET /api/workers */
void gw_h_workers(gw_t *gw, gw_req_t *r);

#endif
