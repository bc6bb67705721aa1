/* The authorization provider of the conformance driver (prospect-mcp-conformance): an
 * mcp_oauth_t configured for one scenario of the official MCP conformance suite from its name
 * (MCP_CONFORMANCE_SCENARIO) and its context (MCP_CONFORMANCE_CONTEXT, a JSON object). */
#ifndef MCP_CONFORMANCE_AUTH_H
#define MCP_CONFORMANCE_AUTH_H
#include <stddef.h>

#include "mcp_oauth.h"
#include "pa_http.h"
#include "pa_loop.h"

/* The client ID metadata document URL the suite's scenarios expect. */
#define MCP_CONFORMANCE_CIMD_URL "https://conformance-test.local/client-metadata.json"

/* 0 with *out the provider (NULL for a scenario that needs no authorization: not auth/...),
 * or -1 with err (a context that is not JSON, a scenario this client cannot do). The caller
 * destroys *out with mcp_oauth_destroy after the client. */
int mcp_conformance_auth(pa_loop_t *loop, pa_http_t *http, const char *scenario,
                         const char *context_json, mcp_oauth_t **out, char *err, size_t errlen);

#endif
