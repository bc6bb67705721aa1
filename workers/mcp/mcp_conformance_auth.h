/* The conformance driver's authorization hook: an mcp_oauth_t configured for an auth scenario
 * of the official conformance suite from MCP_CONFORMANCE_SCENARIO and MCP_CONFORMANCE_CONTEXT.
 * (OAUTH's; this header is the contract of issue 10.) */
#ifndef MCP_CONFORMANCE_AUTH_H
#define MCP_CONFORMANCE_AUTH_H
#include <stddef.h>

#include "mcp_oauth.h"
#include "pa_http.h"
#include "pa_loop.h"

/* 0 with *out set (NULL for a scenario without authorization), or -1 with err. */
int mcp_conformance_auth(pa_loop_t *loop, pa_http_t *http, const char *scenario,
                         const char *context_json, mcp_oauth_t **out, char *err, size_t errlen);

#endif
